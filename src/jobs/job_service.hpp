// JobService: the life of a job, from a validated submission to a recorded end.
//
//   Submit -> JobCatalog::Resolve (400/404 before anything exists)
//          -> row QUEUED in the JobStore + meta JSON + empty log
//          -> started as soon as the executor has a free slot (QUEUED -> RUNNING, persisted
//             with executor_ref so a restarted server can re-attach)
//          -> on exit (executor callback, handled on one of the service's completion threads):
//             artifacts parsed from the log, artifacts_parse_error when a promised one is
//             missing, error_message from the last meaningful log lines or the spawn error,
//             state persisted, finished listeners called, next queued job started.
//   dry_run: validated, log shows the command, ends SUCCESS without running anything.
//   Recover (startup): RUNNING rows are re-attached through the executor (which also reads
//   the exit record a process left while no server watched); gone -> FAILED "server
//   restarted and the process was gone"; QUEUED rows are queued again.
//
// Every state change goes through Transition() (job_state_machine.hpp) and is persisted
// with a compare-and-set on the previous state. The meta file
// reports/jobs/runtime/<job_id>.json mirrors the row (atomic rename): the terminal version is
// written synchronously before the terminal state becomes visible through Get(); the QUEUED
// version synchronously at submit when the job has to wait for a slot; the RUNNING version
// through a writer thread that keeps only the latest version per job and writes it once it is
// kMetaDelay old (a job that ends sooner gets a single meta write, its terminal one; a longer
// one has its RUNNING meta within ~kMetaDelay of its start).
//
// Read cache: every record this service writes (submit and each transition, after the store
// write succeeded) is kept in memory, newest kCacheCapacity jobs, with the detail JSON
// pre-serialized when it does not depend on the current time (any state but RUNNING). Get()
// and DetailBody() serve from it and fall back to the store. An entry never moves backwards
// (QUEUED < RUNNING < terminal), so a terminal state once served is never replaced by an older
// one; a failed store write drops the entry so the store answers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/workspace.hpp"
#include "exec/executor.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/metrics.hpp"
#include "store/job_store.hpp"

namespace alphalab {

struct SubmitOptions {
  std::optional<std::string> parent_id;
  std::optional<std::string> source_job_id;
  std::optional<std::string> owner_id;
};

class JobService {
 public:
  using FinishedListener = std::function<void(const JobRecord&)>;

  // Collaborators are borrowed and must outlive the service. `capacity` 0 = executor's.
  JobService(JobStore& store, Executor& executor, const JobCatalog& catalog,
             const Workspace& workspace, const Clock& clock, Metrics* metrics = nullptr,
             int capacity = 0);
  ~JobService();
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  // Startup recovery (see above). Call once before serving.
  Status Recover();

  Result<JobRecord> Submit(std::string_view job_type, const Json& params,
                           const SubmitOptions& options = {});
  Result<JobRecord> Get(const JobId& id);
  // The detail JSON (JobDetailJson, compact) of a job as a string, from the cache when it can.
  Result<std::string> DetailBody(const JobId& id, TimePoint now);
  Result<std::vector<JobRecord>> List(const JobQuery& query);
  Result<int64_t> Count(const JobQuery& query);
  // QUEUED -> CANCELED at once; RUNNING: SIGTERM/SIGKILL to the group, then CANCELED (waits
  // up to ~1 s for that and returns the latest record). Finished job -> FailedPrecondition.
  Result<JobRecord> Cancel(const JobId& id);

  // Called (from a completion thread, outside the service's locks, one job at a time) after a job's terminal state is
  // persisted: SUCCESS, FAILED or CANCELED, dry runs included.
  void AddFinishedListener(FinishedListener listener);

  // Absolute paths of a job's files.
  std::filesystem::path LogPath(const JobRecord& job) const;
  std::filesystem::path MetaPath(const JobRecord& job) const;

  // Stops starting jobs, the completion threads and the meta writer (after writing what is pending). Running processes are left alone (the
  // next server re-attaches them). Idempotent.
  void Shutdown();

  // Tests/benchmarks: blocks until no job is queued or running (or the timeout passes).
  bool WaitIdle(std::chrono::milliseconds timeout);
  int capacity() const { return capacity_; }

  static constexpr size_t kCacheCapacity = 20000;
  static constexpr int kCompletionThreads = 2;
  static constexpr std::chrono::milliseconds kMetaDelay{20};

 private:
  struct Active {
    std::mutex mu;
    std::condition_variable cv;
    JobRecord record;
    bool reattached = false;  // watched again after a server restart
  };
  struct Completion {
    std::shared_ptr<Active> active;
    ProcessExit exit;
  };

  void Pump();
  void Start(const std::shared_ptr<Active>& a);
  void OnExit(const std::shared_ptr<Active>& a, const ProcessExit& exit);
  void CompletionLoop();
  void Finish(const std::shared_ptr<Active>& a, const ProcessExit& exit);
  Status Persist(JobRecord& job, JobState expected);
  void WriteMeta(const JobRecord& job);       // synchronous (terminal states)
  void WriteMetaLater(const JobRecord& job);  // through the writer thread (coalesced)
  void MetaLoop();
  struct CachedJob {
    JobRecord record;
    std::string body;  // pre-serialized detail JSON; empty for RUNNING (duration uses `now`)
  };
  void CachePut(const JobRecord& job);
  void CacheDrop(const JobId& id);
  std::shared_ptr<const CachedJob> CacheGet(const JobId& id) const;
  void NotifyFinished(const JobRecord& job);
  ExitCallback MakeExitCallback(const std::shared_ptr<Active>& a);
  Result<JobRecord> RunDry(JobRecord record);

  JobStore& store_;
  Executor& executor_;
  const JobCatalog& catalog_;
  const Workspace& workspace_;
  const Clock& clock_;
  Metrics* metrics_;
  const int capacity_;

  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::deque<JobId> queue_;
  std::unordered_map<JobId, JobRecord> pending_;                  // queued, not yet started
  std::unordered_map<JobId, std::shared_ptr<Active>> active_;     // started, not yet ended
  int running_ = 0;
  bool shutting_down_ = false;

  std::mutex completions_mu_;
  std::condition_variable completions_cv_;
  std::deque<Completion> completions_;
  bool completions_stop_ = false;
  std::vector<std::thread> completion_threads_;  // kCompletionThreads, each finishes one job at a time

  std::mutex listeners_mu_;
  std::mutex notify_mu_;  // listeners never run concurrently
  std::vector<FinishedListener> listeners_;

  // Meta writer. meta_io_mu_ is held while a meta file is written (by the writer thread or a
  // synchronous terminal write), so an older version can never be renamed over a newer one.
  struct PendingMeta {
    JobRecord record;
    std::chrono::steady_clock::time_point due;
  };
  std::mutex meta_io_mu_;
  std::mutex meta_mu_;
  std::condition_variable meta_cv_;
  std::unordered_map<JobId, PendingMeta> meta_pending_;
  std::deque<JobId> meta_order_;  // ids in enqueue order (stale ids are skipped)
  bool meta_stop_ = false;
  std::thread meta_thread_;

  mutable std::mutex cache_mu_;
  std::unordered_map<JobId, std::shared_ptr<const CachedJob>> cache_;
  std::deque<JobId> cache_order_;  // insertion order, for eviction
};

// Artifacts from log text: for each rule, the last line matching it (first capture group).
Json ParseArtifacts(const JobTypeSpec& spec, std::string_view log_text);
// The last meaningful lines of a log: blank lines skipped; from the last "Traceback" (or the
// last line mentioning Error/Exception/FATAL/panic) to the end when there is one, else the
// last 5 lines; at most 20 lines / 2000 bytes.
std::string SummarizeError(std::string_view log_text);
// Writes via a temp file + rename (readers never see half a file). No fsync: the database is
// the durable record, the meta file its mirror.
Status WriteFileReplace(const std::filesystem::path& path, std::string_view content);

}  // namespace alphalab

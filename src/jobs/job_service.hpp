// JobService: the life of a job, from a validated submission to a recorded end.
//
//   Submit -> JobCatalog::Resolve (400/404 before anything exists)
//          -> flow control (below), then row QUEUED in the JobStore, cached, queued; Submit
//             returns here (QUEUED, or the newer state when a starter already moved the job
//             on). It never spawns: the caller (an HTTP I/O thread) pays for validation and
//             one insert.
//          -> starter threads (JobServiceTuning::starter_threads, default 2) take queued jobs
//             in FIFO order while fewer than `capacity` run: executor Submit (spawn), then
//             QUEUED -> RUNNING persisted with executor_ref so a restarted server can
//             re-attach. The starters spawn concurrently (a spawn is mostly waiting for the
//             executor), so jobs taken at about the same time may start in either order; with
//             one starter they start strictly in submission order.
//          -> on exit (executor callback, handled on one of the service's completion threads):
//             artifacts parsed from the log, artifacts_parse_error when a promised one is
//             missing, error_message from the last meaningful log lines or the spawn error,
//             state persisted, finished listeners called, the freed slot handed to a starter.
//   Flow control: while admit_backlog jobs are queued and the queue is moving (a starter took
//   a job, or a job entered an empty queue, within kAdmitStall), Submit waits before its job
//   exists (at most kAdmitMaxWait), so a burst of submits cannot pile jobs up in the server
//   faster than they can be started; the client's request takes longer instead (as when the
//   spawn was done on its thread). A queue that waits for slots held by running jobs does not
//   move, and Submit does not wait for it.
//   dry_run: synchronous in Submit (no flow control): log shows the command, ends SUCCESS
//   without running anything, and Submit returns the SUCCESS record.
//   Cancel: a queued job ends CANCELED at once (it never runs). A starter locks the job it
//   takes before it leaves the queue and keeps it locked until the spawn is recorded, so a
//   Cancel racing the start either finds it queued or waits for RUNNING and then stops it
//   through the executor (ends CANCELED, nothing left running).
//   Recover (startup): RUNNING rows are re-attached through the executor (which also reads
//   the exit record a process left while no server watched); gone -> FAILED "server
//   restarted and the process was gone"; QUEUED rows are queued again. Shutdown stops the
//   starters (a spawn in progress completes and is recorded); jobs still queued stay QUEUED
//   in the store for the next server's Recover.
//
// Every state change goes through Transition() (job_state_machine.hpp) and is persisted
// with a compare-and-set on the previous state. The meta file
// reports/jobs/runtime/<job_id>.json mirrors the row and is always replaced whole (readers
// never see a partial file; written through files_, a FileReplacer, so a rewrite keeps the old
// inode as a spare instead of freeing it). The terminal version is written synchronously before the
// terminal state becomes visible through Get() or the store. The QUEUED and RUNNING versions
// (relaxed rule: not synchronously at submit) go through a writer thread that keeps only the
// newest unwritten version per job and writes it once that state is meta_delay (kMetaDelay)
// old: QUEUED meta_delay after submit, RUNNING meta_delay after start, unless a newer
// version replaced it first. So a job that starts within kMetaDelay of its submit and ends
// within kMetaDelay of its start gets exactly one meta file write, its terminal one; a job
// that waits in the queue has its QUEUED meta ~kMetaDelay after submit (until then its meta
// file may not exist; the store row always does); a longer-running one its RUNNING meta
// ~kMetaDelay after its start. A version is never replaced by an older one (pending
// versions never move backwards, and a synchronous write waits for the writer's in-flight
// write of the same job). Shutdown writes what is pending.
//
// Read cache: every record this service writes (submit and each transition, after the store
// write succeeded) is kept in memory, newest kCacheCapacity jobs; the detail JSON of a state
// that does not depend on the current time (any state but RUNNING) is serialized once, on
// the first DetailBody() that needs it. Get() and DetailBody() serve from it and fall back to
// the store. An entry never moves backwards (QUEUED < RUNNING < terminal), so a terminal
// state once served is never replaced by an older one; a failed store write drops the entry
// so the store answers.
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
#include <unordered_set>
#include <vector>

#include "core/clock.hpp"
#include "core/file_replacer.hpp"
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

// How the service spreads its work over threads; the defaults are what the server uses.
struct JobServiceTuning {
  // Threads that take queued jobs and spawn them, concurrently (>= 1). Jobs are taken in
  // FIFO order; only with 1 are they also spawned strictly in that order.
  int starter_threads = 2;
  std::chrono::milliseconds meta_delay{20};  // age at which a QUEUED/RUNNING meta is written
  // Flow control: a Submit waits (before its job exists) while this many jobs are queued and
  // the queue is moving (a job started within kAdmitStall). 0 = never wait.
  int admit_backlog = 1;
};

class JobService {
 public:
  using FinishedListener = std::function<void(const JobRecord&)>;

  // Collaborators are borrowed and must outlive the service. `capacity` 0 = executor's.
  JobService(JobStore& store, Executor& executor, const JobCatalog& catalog,
             const Workspace& workspace, const Clock& clock, Metrics* metrics = nullptr,
             int capacity = 0, JobServiceTuning tuning = {});
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
  // QUEUED -> CANCELED at once; being spawned: waits until RUNNING is recorded, then as
  // RUNNING; RUNNING: SIGTERM/SIGKILL to the group, then CANCELED (waits up to ~1.5 s for that
  // and returns the latest record). Finished job -> FailedPrecondition.
  Result<JobRecord> Cancel(const JobId& id);

  // Called (from a service thread - completion or starter - or from Submit/Cancel for dry runs
  // and queued cancels; outside the service's locks, one job at a time) after a job's terminal
  // state is persisted: SUCCESS, FAILED or CANCELED, dry runs included.
  void AddFinishedListener(FinishedListener listener);

  // Absolute paths of a job's files.
  std::filesystem::path LogPath(const JobRecord& job) const;
  std::filesystem::path MetaPath(const JobRecord& job) const;

  // Stops the starters (queued jobs stay QUEUED in the store), the completion threads and the
  // meta writer (after writing what is pending). Running processes are left alone (the next
  // server re-attaches them). Idempotent.
  void Shutdown();

  // Tests/benchmarks: blocks until no job is queued or running (or the timeout passes).
  bool WaitIdle(std::chrono::milliseconds timeout);
  int capacity() const { return capacity_; }
  int starter_threads() const { return starter_count_; }

  static constexpr size_t kCacheCapacity = 20000;
  static constexpr int kCompletionThreads = 2;
  static constexpr std::chrono::milliseconds kMetaDelay{20};  // JobServiceTuning default
  // Flow control: no start for this long means the queue waits for slots held by running
  // jobs (Submit then does not wait); no Submit waits longer than kAdmitMaxWait in total.
  static constexpr std::chrono::milliseconds kAdmitStall{50};
  static constexpr std::chrono::milliseconds kAdmitMaxWait{1000};

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

  void AwaitAdmission();
  void StarterLoop();
  // After the spawn attempt (under a->mu, held by `alock` since the job was taken): records
  // RUNNING or the spawn failure; releases `alock`.
  void Started(const std::shared_ptr<Active>& a, std::unique_lock<std::mutex>& alock,
               const Result<std::string>& ref);
  void ReleaseSlot(const JobId& id);  // active_ -> gone, a starter may fill the slot
  void OnExit(const std::shared_ptr<Active>& a, const ProcessExit& exit);
  void CompletionLoop();
  void Finish(const std::shared_ptr<Active>& a, const ProcessExit& exit);
  Status Persist(JobRecord& job, JobState expected);
  void WriteMetaFile(const JobRecord& job);  // the file write itself
  void LogEvent(const JobRecord& job) const;  // structured log line for a recorded state
  void WriteMeta(const JobRecord& job);       // synchronous (terminal states)
  void WriteMetaLater(const JobRecord& job);  // through the writer thread (coalesced)
  void MetaLoop();
  struct CachedJob {
    JobRecord record;
    // Detail JSON, serialized on first use; never for RUNNING (its duration uses `now`).
    mutable std::once_flag body_once;
    mutable std::string body;
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
  const int starter_count_;
  const std::chrono::milliseconds meta_delay_;
  const int admit_backlog_;
  // Meta files and dry-run logs: atomic writes; a rewritten meta file (queued or long-running
  // jobs) keeps its old inode as a spare instead of freeing it (core/file_replacer.hpp).
  FileReplacer files_;

  // Lock order: mu_ -> Active::mu -> meta_mu_ (a starter takes a job's Active::mu under mu_,
  // before the job is visible in active_); cache_mu_, completions_mu_ and
  // listeners_mu_ are innermost (nothing else is taken while they are held).
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::condition_variable start_cv_;  // a job was queued or a slot freed (or shutdown)
  std::deque<JobId> queue_;
  std::unordered_map<JobId, JobRecord> pending_;                  // queued, not yet started
  std::unordered_map<JobId, std::shared_ptr<Active>> active_;     // started, not yet ended
  int running_ = 0;
  bool shutting_down_ = false;
  std::vector<std::thread> starter_threads_;
  std::condition_variable admit_cv_;  // a starter took a job (flow control)
  int admit_waiters_ = 0;
  // When the queue last moved: a starter took a job, or a job entered an empty queue.
  std::chrono::steady_clock::time_point last_progress_;

  std::mutex completions_mu_;
  std::condition_variable completions_cv_;
  std::deque<Completion> completions_;
  bool completions_stop_ = false;
  std::vector<std::thread> completion_threads_;  // kCompletionThreads, each finishes one job at a time

  std::mutex listeners_mu_;
  std::mutex notify_mu_;  // listeners never run concurrently
  std::vector<FinishedListener> listeners_;

  // Meta writer. meta_pending_ holds the newest unwritten QUEUED/RUNNING version per job and
  // when it is due; meta_order_ the (id, due) positions in due order (a position whose due no
  // longer matches its entry is stale and skipped). The writer thread takes one due entry at a
  // time and marks the job in flight while writing; a synchronous (terminal) write erases the
  // job's pending entry and waits for an in-flight write of the same job, so an older version
  // can never replace a newer one.
  struct PendingMeta {
    JobRecord record;
    std::chrono::steady_clock::time_point due;
  };
  std::mutex meta_mu_;
  std::condition_variable meta_cv_;
  std::condition_variable meta_done_cv_;
  std::unordered_map<JobId, PendingMeta> meta_pending_;
  std::deque<std::pair<JobId, std::chrono::steady_clock::time_point>> meta_order_;
  std::unordered_set<JobId> meta_in_flight_;
  bool meta_stop_ = false;
  std::thread meta_thread_;

  mutable std::mutex cache_mu_;
  std::unordered_map<JobId, std::shared_ptr<const CachedJob>> cache_;
  std::deque<JobId> cache_order_;  // insertion order, for eviction
};

static_assert(JobServiceTuning{}.meta_delay == JobService::kMetaDelay);

// Artifacts from log text: for each rule, the last line matching it (first capture group).
Json ParseArtifacts(const JobTypeSpec& spec, std::string_view log_text);
// The last meaningful lines of a log: blank lines skipped; from the last "Traceback" (or the
// last line mentioning Error/Exception/FATAL/panic) to the end when there is one, else the
// last 5 lines; at most 20 lines / 2000 bytes.
std::string SummarizeError(std::string_view log_text);

}  // namespace alphalab

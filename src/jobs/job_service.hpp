// JobService: the life of a job, from a validated submission to a recorded end. It composes
// parts that each do one thing:
//   - JobQueue (jobs/job_queue.hpp): admission/flow control, slots, per-group in-flight
//     bounds, FIFO starter threads;
//   - claiming in the store: a submitted job is inserted claimed by this server; a QUEUED
//     row queued again by Recover is claimed with JobStore::ClaimQueued (compare-and-set)
//     before it is spawned, so servers sharing one database never start a job twice;
//   - the outcome step (jobs/job_outcome.hpp): how a job ended -> event, end_reason, exit
//     code, artifacts, error summary; pure;
//   - JobMetaMirror (jobs/job_meta_mirror.hpp): the meta file reports/jobs/runtime/<id>.json;
//   - JobReadCache (jobs/job_read_cache.hpp): recent records for Get()/DetailBody();
//   - EndJob (private): the one path every end takes (process exit, timeout, cancel of a
//     queued job, spawn failure, dry run, lost process found at recovery): outcome step,
//     transition, terminal meta file, store write (compare-and-set), cache, slot, metrics,
//     finished listeners.
//
//   Submit -> JobCatalog::Resolve (400/404 before anything exists)
//          -> flow control, then row QUEUED in the JobStore, cached, queued; Submit returns
//             here (QUEUED, or the newer state when a starter already moved the job on). It
//             never spawns: the caller (an HTTP I/O thread) pays for validation and one insert.
//          -> a starter takes the job (FIFO, within the slots and its group's bound), claims
//             it in the store unless it is already this server's, spawns it through the
//             executor, and records QUEUED -> RUNNING with executor_ref so a restarted server
//             can re-attach (single-server stores: the row is deferred to the meta writer or
//             to the job's end, whichever comes first; see MarkStarted). Starters spawn
//             concurrently (a spawn is mostly waiting for the executor), so jobs taken at about
//             the same time may start in either order; with one starter they start strictly in
//             submission order.
//          -> on exit (executor callback, handled on one of the service's completion threads):
//             EndJob.
//   dry_run: synchronous in Submit (no flow control, never queued, never spawned): the log
//   shows the command and the job ends SUCCESS (end_reason exit_code, exit 0); when the log
//   cannot be written it ends FAILED (spawn_failed) with the cause. Submit returns the
//   terminal record. A dry run left QUEUED by a crash is completed as a dry run by Recover.
//   Cancel: a queued job ends CANCELED at once (it never runs). A starter locks the job it
//   takes before it leaves the queue and keeps it locked until the spawn is recorded, so a
//   Cancel racing the start either finds it queued or waits for RUNNING and then stops it
//   through the executor (ends CANCELED, nothing left running).
//   Recover (startup): RUNNING rows are re-attached through the executor (which also reads
//   the exit record a process left while no server watched); gone -> FAILED, end_reason lost;
//   QUEUED rows are queued again (dry runs completed as dry runs).
//   Several servers on one database (JobStore::SupportsLeases): Recover takes only this
//   server's rows (claimed_by = its claimer) plus those of dead servers; a lease thread renews
//   this server's lease, adopts the jobs of servers whose lease expired (recovered as above)
//   and carries out cancels other servers recorded for its jobs. Cancel of a job another
//   server runs records the request (JobStore::RequestCancel) and waits briefly for its end. Shutdown stops the
//   starters (a spawn in progress completes and is recorded); jobs still queued stay QUEUED
//   in the store for the next server's Recover.
//
// Every state change goes through Transition() (job_state_machine.hpp) and is persisted
// with a compare-and-set on the previous state. The terminal meta file is written before the
// terminal state becomes visible through Get() or the store; QUEUED/RUNNING meta versions
// are coalesced (JobMetaMirror).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.hpp"
#include "core/file_replacer.hpp"
#include "core/job_result.hpp"
#include "core/workspace.hpp"
#include "exec/executor.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_meta_mirror.hpp"
#include "jobs/job_outcome.hpp"
#include "jobs/job_preparer.hpp"
#include "jobs/job_submit_check.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/job_read_cache.hpp"
#include "jobs/metrics.hpp"
#include "store/job_store.hpp"

namespace alphalab {

struct SubmitOptions {
  std::optional<std::string> parent_id;
  std::optional<std::string> source_job_id;
  std::optional<std::string> owner_id;
  // The job's project; when unset, the config file's `project:` (a `project=...` override
  // wins over the file), else "".
  std::optional<std::string> project;
  // At most this many jobs of the group (same parent_id) run at once; needs parent_id, >= 1.
  // Stored with the job, so a restarted server keeps the bound (JobQueue).
  std::optional<int> max_inflight;
  // Validate, log what would run and end SUCCESS without spawning anything (Job.dry_run).
  bool dry_run = false;
  // The submitter judged these params itself (an optimization's tasks: their keys when it was
  // created, a refused value fails that task alone): the JobSubmitCheck is skipped. Never set
  // from a request body.
  bool checked_by_submitter = false;
};

// Removes `dry_run` from a submit body or params object and returns it: true/false or the
// strings "true"/"false"; anything else is a 400 naming the field. The HTTP layer reads it
// from the top level of a submit body (and, for older clients, from `params`).
Result<std::optional<bool>> TakeDryRun(Json& object, std::string_view field = "dry_run");

// How the service spreads its work over threads; the defaults are what the server uses.
struct JobServiceTuning {
  // Threads that take queued jobs and spawn them, concurrently (>= 1; never more than the
  // slots). Jobs are taken in FIFO order; only with 1 are they also spawned strictly in that
  // order. A start is mostly a wait (the supervisor clones the job, which records itself and
  // executes the program; the RUNNING row follows), so the starts in flight bound the start rate: with
  // 32 slots, 8 starters started trivial jobs 1.2x as fast as 2 (docs/benchmarks.md, session 14).
  int starter_threads = 8;
  std::chrono::milliseconds meta_delay{20};  // age at which a QUEUED/RUNNING meta is written
  // Flow control: a Submit waits (before its job exists) while this many jobs are queued and
  // the queue is moving (a job started within kAdmitStall). 0 = never wait.
  int admit_backlog = 1;
  // Name under which this server claims queued jobs in the store (JobStore::ClaimQueued).
  // Stable across restarts, so a restarted server takes its own claimed jobs back.
  std::string claimer = "local";
  // Several servers on one database (stores with JobStore::SupportsLeases, i.e. PostgreSQL):
  // every lease_interval this server renews its lease (valid lease_ttl), carries out the
  // cancels other servers recorded for its jobs and adopts the jobs of servers whose lease
  // expired. Unused with a single-server store (SQLite).
  std::chrono::milliseconds lease_interval{1000};
  std::chrono::milliseconds lease_ttl{10000};
};

class JobService {
 public:
  using FinishedListener = std::function<void(const JobRecord&)>;
  using FinishedBatchListener = std::function<void(std::span<const JobRecord>)>;
  // A batch listener that also takes what the jobs' runner knows of their results: `known`
  // is empty, or has one entry per job (RecordFinished's `known`).
  using FinishedResultsListener = std::function<void(std::span<const JobRecord>, std::span<const KnownResult>)>;

  // Collaborators are borrowed and must outlive the service. `capacity` 0 = executor's.
  JobService(JobStore& store, Executor& executor, const JobCatalog& catalog,
             const Workspace& workspace, const Clock& clock, Metrics* metrics = nullptr,
             int capacity = 0, JobServiceTuning tuning = {});
  ~JobService();
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  // The preparer of job types with `tool:` (jobs/job_preparer.hpp; the composition root passes
  // the config center's). Set before serving; null = none: such a job then runs in its work
  // folder without extra environment. For a type with `tool:`:
  //   Submit (dry runs too): JobPreparer::Check after the catalog; an error is returned as is
  //     (400/404 naming the param), nothing is queued or written;
  //   start: reports/jobs/runtime/<job_id>/work/ is created, Prepare fills it and returns the
  //     env and the config hashes; the process starts with cwd = that folder and env = the
  //     prepared env overlaid by the type's own `env:` (never stored: it may hold secrets);
  //     the job's artifacts get "work_dir" and one "config_sha256:<managed path>" per hash.
  //     A Prepare failure (or a work folder that cannot be made) writes the reason to the
  //     job's log and ends it FAILED (spawn_failed) before any process runs.
  void SetPreparer(JobPreparer* preparer) { preparer_ = preparer; }
  // Judges a submitted job's own input before it is queued (jobs/job_submit_check.hpp). Set
  // before serving; skipped for submits with SubmitOptions::checked_by_submitter.
  void SetSubmitCheck(const JobSubmitCheck* check) { submit_check_ = check; }

  // Startup recovery (see above). Call once before serving.
  Status Recover();

  Result<JobRecord> Submit(std::string_view job_type, const Json& params,
                           const SubmitOptions& options = {});
  // A group's jobs at once (an optimization's tasks). When the executor keeps a batch's bound
  // itself (Executor::KeepsBatchBound: Slurm job arrays with %max_inflight), every job is
  // created, claimed and handed to Executor::SubmitBatch together (options.max_inflight,
  // group = options.parent_id), outside the queue: each holds a slot until it ends, and a
  // job the executor refuses ends FAILED (spawn_failed). Otherwise, and for dry runs and
  // types with `tool:`, it is Submit for each. One result per params, in order (Submit's
  // errors, e.g. a 400 on a param, for the jobs that were not created).
  std::vector<Result<JobRecord>> SubmitBatch(std::string_view job_type, const std::vector<Json>& params,
                                             const SubmitOptions& options);
  // Whether SubmitBatch hands a group over at once (see above).
  bool BatchesKeepTheirBound() const { return executor_.KeepsBatchBound(); }
  Result<JobRecord> Get(const JobId& id);
  // The detail JSON (JobDetailJson, compact) of a job as a string, from the cache when it can.
  Result<std::string> DetailBody(const JobId& id, TimePoint now);
  Result<std::vector<JobRecord>> List(const JobQuery& query);
  Result<int64_t> Count(const JobQuery& query);
  // Jobs per non-empty project (GET /api/projects).
  // Jobs per project; only `owner_id`'s when set.
  Result<std::map<std::string, int64_t>> CountByProject(const std::optional<std::string>& owner_id) {
    return store_.CountJobsByProject(owner_id);
  }
  // The query's jobs in each state, its statuses ignored (JobStore::CountJobsPerState).
  Result<std::map<JobState, int64_t>> CountPerState(const JobQuery& query) { return store_.CountJobsPerState(query); }
  // QUEUED -> CANCELED at once; being spawned: waits until RUNNING is recorded, then as
  // RUNNING; RUNNING: SIGTERM/SIGKILL to the group, then CANCELED (waits up to ~1.5 s for that
  // and returns the latest record). Finished job -> FailedPrecondition.
  Result<JobRecord> Cancel(const JobId& id);
  // Cancel of several jobs (an optimization's outstanding tasks), one result per id as
  // Cancel's: queued jobs, other servers' and ended ones as Cancel; this server's running ones
  // with one Executor::CancelMany (Slurm: one scancel naming whole arrays or index ranges) and
  // one shared wait of up to ~1.5 s for their ends.
  std::vector<Result<JobRecord>> CancelMany(const std::vector<JobId>& ids);

  // Called (from a service thread - completion or starter - or from Submit/Cancel for dry runs
  // and queued cancels; outside the service's locks, one job at a time) after a job's terminal
  // state is persisted: SUCCESS, FAILED or CANCELED, dry runs included.
  void AddFinishedListener(FinishedListener listener);
  // The same moments, for listeners that can take many jobs at once: a job that ends alone
  // comes as a span of one, processes whose ends a completion thread recorded together
  // (EndJobs) come together; RecordFinished hands over its jobs together (after every
  // per-job listener has seen them), so a listener can batch its own work (the registry
  // indexes a chunk of fast-path backtests in one transaction).
  void AddFinishedBatchListener(FinishedBatchListener listener);
  void AddFinishedBatchListener(FinishedResultsListener listener);

  // The QUEUED record Submit makes for a resolved job: a new id, `{job_id}` filled in argv
  // and env, log/meta paths, claimed by this server. Nothing is written.
  JobRecord NewRecord(ResolvedJob resolved, const SubmitOptions& options, TimePoint now) const;
  // Jobs that ran inside the server (the optimization fast path, jobs/inprocess_jobs.hpp):
  // terminal records made by NewRecord and ended by FinishInProcess, their logs written. Each
  // gets what a process job gets at its end: its terminal meta file, its row (inserted
  // terminal), the cache, the structured log events of its states, the metrics of a
  // submitted, started and ended job, and the finished listeners. Meta files and rows are
  // written by kRecordWriters threads at once (the store's group commit shares transactions
  // between them); the rest follows in order. On a store error the jobs before the failed one
  // are recorded and announced and the error is returned (later jobs of `jobs` may be stored
  // but are not announced). `known` (empty, or one entry per job): what the caller holds of
  // the jobs' result files, handed to the batch listeners (KnownResult).
  Status RecordFinished(const std::vector<JobRecord>& jobs, std::span<const KnownResult> known = {});
  static constexpr size_t kRecordWriters = 8;

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
  int starter_threads() const { return queue_.starter_threads(); }
  // Tests: jobs of a group (parent_id) in flight now.
  int InFlight(const std::string& group) const { return queue_.in_flight(group); }

  static constexpr size_t kCacheCapacity = 20000;
  static constexpr int kCompletionThreads = 2;
  static constexpr size_t kMaxEndBatch = 64;  // completions a completion thread ends together
  static constexpr std::chrono::milliseconds kMetaDelay{20};  // JobServiceTuning default

 private:
  struct Active {
    std::mutex mu;
    std::condition_variable cv;  // the record became terminal
    JobRecord record;
    bool reattached = false;  // watched again after a server restart
    bool holds_slot = false;  // in flight in queue_: EndJob releases it
    // Held by the starter from the moment the job leaves the queue until its spawn is recorded.
    std::unique_lock<std::mutex> start_lock;
  };
  struct Completion {
    std::shared_ptr<Active> active;
    ProcessExit exit;
  };

  // Under queue_'s lock: the job left the queue; returns its start (run on the starter).
  std::function<void()> Take(JobRecord job);
  // On a starter thread, a->start_lock held: claim, spawn, record RUNNING (or end it).
  void Start(const std::shared_ptr<Active>& a);
  // Dry run of a job whose lock `alock` is held: writes its log and ends it (EndJob).
  JobRecord RunDry(const std::shared_ptr<Active>& a, std::unique_lock<std::mutex>& alock);
  // The one end path (see above). `alock` holds a->mu and is released here. Returns the
  // record as it ended (unchanged when the job had ended already).
  JobRecord EndJob(const std::shared_ptr<Active>& a, std::unique_lock<std::mutex>& alock,
                   const JobEnd& end);
  // EndJob of several jobs at once (the completion threads end what has queued up together):
  // each job's outcome as EndJob's, the terminal meta files, then their rows in one store
  // write (JobStore::UpdateJobs), then for each the cache, the slot, the metrics; the finished
  // listeners get them together. Every `lock` holds its job's mutex and is released here.
  struct Ending {
    std::shared_ptr<Active> active;
    std::unique_lock<std::mutex>* lock = nullptr;
    JobEnd end;
  };
  std::vector<JobRecord> EndJobs(std::span<Ending> endings);
  void OnExit(const std::shared_ptr<Active>& a, const ProcessExit& exit);
  // A cluster executor's news about a running job (Slurm: PENDING + reason, RUNNING): kept in
  // its artifacts (executor_state, executor_reason) and persisted.
  void OnExecutorStatus(const ExecutorStatus& status);
  void CompletionLoop();
  Status Persist(JobRecord& job, JobState expected);
  // Persist of several records (one store write, JobStore::UpdateJobs); one result each.
  std::vector<Status> PersistMany(std::span<JobRecord* const> jobs, std::span<const JobState> expected);
  void LogEvent(const JobRecord& job) const;  // structured log line for a recorded state
  void NotifyFinished(std::span<const JobRecord> jobs, std::span<const KnownResult> known = {});
  ExitCallback MakeExitCallback(const std::shared_ptr<Active>& a);
  void AddActive(const std::shared_ptr<Active>& a);
  void RemoveActive(const JobId& id);
  std::shared_ptr<Active> FindActive(const JobId& id);

  // Submit's checks of the options (project, max_inflight).
  static Status CheckSubmitOptions(const SubmitOptions& options);
  // What the executor runs for a job (no tool preparation).
  ProcessSpec SpecOf(const JobRecord& rec) const;
  // The executor took the job (`ref`): QUEUED -> RUNNING recorded. With `defer_row` (a start
  // by a starter, single-server stores) the row is left to the meta writer: stored with the
  // RUNNING meta file once that is due, or with the job's next write (its end) when that
  // comes first; the cache and the log have RUNNING at once (docs/job_states.md).
  void MarkStarted(JobRecord& rec, const std::string& ref, bool defer_row = false);
  // What follows a recorded state: meta file (later, `row_from` as JobMetaMirror::WriteLater;
  // terminal ones are written before the row), cache, log line.
  void Recorded(const JobRecord& job, std::optional<JobState> row_from = std::nullopt);
  // The meta writer's deferred rows (JobMetaMirror::RowWriter): one store write.
  void WriteDeferredRows(std::span<JobRecord* const> jobs, std::span<const JobState> from);

  // Start() of a job whose type has a work folder (`tool:` or "{work_dir}"): the folder (created,
  // confined) and, with `tool:`, Prepare; fills `spec`'s env (and cwd with cwd_work_dir), the
  // record's cwd and artifacts. An error ends the job (the caller does).
  Status PrepareWorkDir(const JobTypeSpec& type, JobRecord& rec, ProcessSpec& spec);

  // Recovery of one stored RUNNING job (re-attach, else end it lost); true when re-attached.
  bool RecoverRunning(const JobRecord& rec);
  // Several servers: the lease thread (see the top of the file) and one round of it.
  void LeaseLoop();
  void LeaseRound();

  JobStore& store_;
  Executor& executor_;
  JobPreparer* preparer_ = nullptr;
  const JobSubmitCheck* submit_check_ = nullptr;
  const JobCatalog& catalog_;
  const Workspace& workspace_;
  const Clock& clock_;
  Metrics* metrics_;
  const int capacity_;
  const std::string claimer_;
  const std::chrono::milliseconds lease_interval_;
  const std::chrono::milliseconds lease_ttl_;
  std::atomic<bool> shutting_down_{false};
  std::mutex lease_mu_;
  std::condition_variable lease_cv_;
  bool lease_stop_ = false;  // (lease_mu_)
  std::thread lease_thread_;
  // Meta files: atomic writes; a rewritten meta file (queued or long-running jobs) keeps its
  // old inode as a spare instead of freeing it (core/file_replacer.hpp).
  FileReplacer files_;
  JobMetaMirror meta_;
  // RUNNING rows written later (MarkStarted): only where one server owns the database; with
  // leases (several servers) a QUEUED row of a dead server is adopted and started again, so
  // its start is stored at once; and only where the executor leaves a start record beside the
  // logs (Executor::RecordsStartsIn), which a restart reads instead of the row.
  const bool defer_running_rows_;
  JobReadCache cache_{kCacheCapacity};

  // Jobs taken from the queue (or re-attached) and not yet ended. Lock order: queue_'s lock
  // -> active_mu_ -> Active::mu (Take runs under queue_'s lock); nothing calls into queue_
  // while holding active_mu_ or an Active::mu.
  std::mutex active_mu_;
  std::unordered_map<JobId, std::shared_ptr<Active>> active_;

  std::mutex completions_mu_;
  std::condition_variable completions_cv_;
  std::deque<Completion> completions_;
  bool completions_stop_ = false;
  std::vector<std::thread> completion_threads_;  // kCompletionThreads, each ends a batch at a time

  std::mutex listeners_mu_;
  std::mutex notify_mu_;  // listeners never run concurrently
  std::vector<FinishedListener> listeners_;
  std::vector<FinishedResultsListener> batch_listeners_;

  JobQueue queue_;  // last: its starters call Take/Start, which use everything above
};

static_assert(JobServiceTuning{}.meta_delay == JobService::kMetaDelay);

}  // namespace alphalab

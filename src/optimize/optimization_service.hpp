// OptimizationService: optimizations (parameter sweeps) as durable parent jobs. It owns the life
// of an optimization from a validated request to a terminal state (docs/optimizations.md,
// "Service"):
//
//   Create   request -> ParseOptimizationRequest (re-run: MergeRerunRequest onto the source's
//            stored document) -> the sampler enumerates every task -> the first task's job
//            parameters are checked with the job catalog -> OptimizationStore::Create (the
//            optimization and all its tasks in one transaction; nothing is created on a 400)
//            -> the estimate (history, or the first task as calibration).
//   driver   one service thread. It submits pending tasks as jobs (JobService::Submit with
//            parent_id = the optimization and its max_inflight bound), at most max_inflight
//            outstanding per optimization, in index order; or, when a TaskBatchRunner accepts
//            the job type and base parameters, runs pending tasks through it in chunks (index
//            order; early stop and cancel act between chunks).
//   ends     a JobService finished listener queues every ended job; the driver maps it to its
//            task (OptimizationStore::TaskByJobId), reads the result with the job type's parser
//            (built-in backtest: alphalab_summary of backtests/<bt_run_id>/summary.json),
//            feeds OptimizationProgress and persists the task and the summary incrementally.
//            Jobs of unknown tasks and repeated ends are absorbed.
//   stop     early stop or cancel: pending tasks are canceled, outstanding jobs are canceled
//            (queued) or stopped (running); the summary keeps its final values.
//   resume   Start() (after JobService::Recover) rebuilds each non-terminal optimization from
//            its stored tasks, links jobs that were submitted but not yet recorded on their
//            task (a crash between Submit and MarkTaskQueued), and goes on without duplicates.
//
// Every method is safe to call from many threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_service.hpp"
#include "jobs/metrics.hpp"
#include "optimize/progress.hpp"
#include "optimize/request.hpp"
#include "optimize/task_batch_runner.hpp"
#include "store/optimization_store.hpp"

namespace alphalab::optimize {

struct OptimizationServiceOptions {
  // Request limits. known_job_types and known_metrics are filled in by the service when unset:
  // job types whose results it can read ("backtest") and the alphalab_summary metric names.
  RequestLimits limits;
  // max_inflight when the request gives none (0: the job service's capacity).
  int64_t default_max_inflight = 0;
  // Tasks per TaskBatchRunner::Run call (early stop and cancel act between calls, and between
  // the runner's own batches: the built-in runner asks should_stop every 256 tasks). Each call
  // ends with serial work (the chunk's task writes flushed, the next tasks read): fewer, larger
  // calls keep the cores busier (at most 1,000: OptimizationStore::TasksToRun; 3 x 256).
  int runner_chunk = 768;
  // A runner's first call of an optimization gives the estimate's calibration once this many
  // of its tasks (or all, when fewer) are reported: a Create waiting for it is answered then,
  // not after the whole call.
  int runner_calibration_tasks = 256;
  // Create waits at most this long for the calibration task when there is no history.
  std::chrono::milliseconds calibration_timeout{10000};
  // Ended jobs of the same type the history estimate takes its median over.
  int history_samples = 20;
  // Artifacts added to an export: files of a Top-N task's output folder up to this size each,
  // and at most this much in total.
  uint64_t export_artifact_max_bytes = 1u << 20;
  uint64_t export_artifacts_total_bytes = 16u << 20;
};

struct ExportArchive {
  std::string filename;  // "<optimization id>.zip"
  std::string bytes;
};

class OptimizationService {
 public:
  // Collaborators are borrowed and must outlive the service; `runner` and `metrics` may be null.
  OptimizationService(OptimizationStore& store, JobService& jobs, const JobCatalog& catalog, const Workspace& ws,
                      const Clock& clock, Metrics* metrics, TaskBatchRunner* runner,
                      OptimizationServiceOptions options = {});
  ~OptimizationService();
  OptimizationService(const OptimizationService&) = delete;
  OptimizationService& operator=(const OptimizationService&) = delete;

  // Registers the job-finished listener, resumes every queued/running optimization from the
  // store and starts the driver thread. Call once, after JobService::Recover.
  Status Start();
  // Stops the driver (a runner chunk in progress completes); jobs keep running and the next
  // server resumes. Idempotent.
  void Shutdown();

  // POST /api/v1/optimizations: the created optimization (OptimizationJson) with "estimate".
  Result<Json> Create(const Json& request, const std::optional<std::string>& owner_id);
  // POST /api/v1/optimizations/estimate: the same request validated exactly as Create (the
  // same 400s), nothing stored, submitted or run. {tasks, slots, median_task_seconds, seconds,
  // basis, samples} from history only: basis "history" (on the fast path the runner's last
  // chunk, on the process path the last ended jobs of the type) or "none" (no history: median
  // and seconds null; Create then calibrates with the first task).
  Result<Json> EstimateBeforeCreate(const Json& request);
  // GET /api/v1/optimizations: {items, total, limit, offset}, newest first.
  Result<Json> List(const OptimizationQuery& query);
  Result<Json> Get(const std::string& id);
  // {status, summary}: one row read.
  Result<Json> StatusOf(const std::string& id);
  // {items, total, limit, offset}.
  Result<Json> Tasks(const std::string& id, const OptimizationTaskQuery& query);
  // Cancels a queued/running optimization and waits (bounded) until its tasks have ended.
  // An ended optimization is a 409.
  Result<Json> Cancel(const std::string& id);
  // Failed tasks back to pending (attempt + 1) and the optimization reopened:
  // {optimization, requeued}. 409 when no task failed.
  Result<Json> RetryFailed(const std::string& id);
  // body {param_space?, sampler?}: only combinations not yet enumerated are added, the
  // optimization reopened when it had ended: {optimization, added}.
  Result<Json> Extend(const std::string& id, const Json& body);
  // The export zip, from stored results only. Failures are logged and counted.
  Result<ExportArchive> Export(const std::string& id);
  // GET /api/v1/optimizations/{id}/report: counts, Top 3, deflated Sharpe and the paths of
  // reports/optimizations/<id>/{manifest.jsonl, report.md, report.json} (OptimizationReport).
  Result<Json> Report(const std::string& id);

  // Tests: blocks until no optimization has work left (or the timeout passes).
  bool WaitIdle(std::chrono::milliseconds timeout);

  static constexpr int kPage = kMaxOptimizationPageLimit;

 private:
  struct Live;

  std::shared_ptr<Live> FindLive(const std::string& id);
  // The live state of an optimization, built from the store when it is not live.
  Result<std::shared_ptr<Live>> LoadLive(const std::string& id);
  Result<std::shared_ptr<Live>> BuildLive(const OptimizationRecord& rec);
  Status Reconcile(Live& live);  // resume: ended jobs of tasks in flight, orphan jobs
  void Retire(const std::string& id);

  void DriverLoop();
  void Wake(const std::string& opt_id);
  // After a failed read of `opt_id`'s pending tasks: wakes it again after 50 ms, doubling up to
  // 2 s while the reads keep failing (one optimization's retries never delay another's).
  void RetryLater(const std::string& opt_id);
  void ClearRetry(const std::string& opt_id);  // a read succeeded
  void OnJobFinished(const JobRecord& job);  // the JobService listener: queues the job
  void HandleJobEnd(const JobRecord& job);
  // Under the live lock: a task's job ended. `given`: the runner's parsed result (else read here).
  void EndTask(Live& live, int64_t index, const JobRecord& job, const Result<ParsedResult>* given,
               const std::string& given_rsid);
  void Pump(const std::shared_ptr<Live>& live);       // process path: submit pending tasks
  void RunChunk(const std::shared_ptr<Live>& live);   // runner path: one chunk
  void StopTasks(const std::shared_ptr<Live>& live);  // after early stop / cancel
  void CancelPendingLocked(Live& live);
  void ApplyUpdate(Live& live, const Result<ProgressUpdate>& update, const char* context);
  // After extend / retry-failed added or requeued tasks (live.mu held).
  void ReopenLocked(Live& live, const char* context);
  void PersistLocked(Live& live, bool force);
  // Task rows: written now, or (runner path, live.defer_task_writes) kept in live.task_writes
  // and written in one transaction by FlushTaskWritesLocked (before the summary is persisted
  // and before anything reads or moves tasks in the store).
  Status LinkTaskLocked(Live& live, int64_t index, const std::string& job_id);
  Status WriteTaskStatusLocked(Live& live, int64_t index, const std::string& expected, const std::string& next,
                               const OptimizationTaskUpdate& update);
  void FlushTaskWritesLocked(Live& live);
  Status PersistState(Live& live, const std::string& next);
  Json SummaryJsonLocked(const Live& live) const;
  // The job parameters of a task of `live` (the models dimension's value is the job's
  // model_path; a holdout search task ends the day before holdout_start, a validation re-run
  // starts on it).
  Json JobParamsOf(const Live& live, const Json& task_params, bool validation) const;
  // manifest.jsonl: one line per task start and end (a line already written is not written
  // again). `flush` false (runner path): kept in the stream's buffer until FlushManifestLocked,
  // which runs after the chunk's task rows are written.
  void AppendManifestLocked(Live& live, const Json& line, bool flush = true);
  void FlushManifestLocked(Live& live);
  // The start or end line of the holdout re-run at `pos` of live.validation_runs.
  Json ValidationManifestLine(const Live& live, size_t pos, const char* event) const;
  // Holdout validation: after the search ends, its Top-N re-run on the holdout period.
  void StartValidationLocked(Live& live);
  void PumpValidationLocked(Live& live);
  void EndValidationTaskLocked(Live& live, int64_t val_index, const JobRecord& job);
  bool ValidationActiveLocked(const Live& live) const;
  // The end of an optimization (and of its holdout re-runs): deflated Sharpe, report files.
  void FinishLocked(Live& live);
  // What the report and the deflated Sharpe need of the search tasks: counts by status, the
  // ranked ones, the models, and the ranked tasks' sharpe (finite numbers, in index order).
  struct TaskTally {
    int64_t total = 0, succeeded = 0, failed = 0, canceled = 0, passing = 0;
    std::set<std::string> models;
    std::vector<double> ranked_sharpes;
  };
  static TaskTally TallyOf(const std::vector<OptimizationTaskRecord>& tasks, const std::string& models_key);
  // The same from the live state (no read of the tasks): the summary's counts and the ranked
  // tasks' sharpes kept as they ended. Not for a models sweep (its models are not kept).
  static TaskTally TallyOfLocked(const Live& live);
  // `tally`: the optimization's search tasks when already counted (else read here).
  Result<Json> BuildReport(const OptimizationRecord& rec, const Json& summary, const TaskTally* tally);
  std::optional<Json> DeflatedSharpeOf(const TaskTally& tally, const OptimizationRequest& req, const Json& summary);

  // A request validated and expanded, nothing stored yet (Create and EstimateBeforeCreate).
  struct Prepared {
    OptimizationRequest req;
    std::optional<std::string> source_id;
    std::vector<TaskParams> expanded;
    std::string models_key;
  };
  Result<Prepared> Prepare(const Json& request) const;
  // Run times of the last ended successful jobs of `job_type` (those of `exclude_parent` left out).
  std::vector<double> HistoryDurations(const std::string& job_type, const std::string& exclude_parent, int64_t slots);

  Json OptimizationJson(const OptimizationRecord& rec, bool with_reruns);
  // `runner`: the optimization's tasks go through the batch runner (estimated from its
  // throughput); otherwise from task durations over the slots.
  Result<Json> BuildEstimate(const OptimizationRequest& req, const std::string& opt_id, int64_t slots, bool runner);
  Result<std::vector<OptimizationTaskRecord>> AllTasks(const std::string& id);
  int64_t MaxInflightOf(const OptimizationRequest& req) const;
  Result<OptimizationRequest> ParseStored(const OptimizationRecord& rec) const;

  OptimizationStore& store_;
  JobService& jobs_;
  const JobCatalog& catalog_;
  const Workspace& ws_;
  const Clock& clock_;
  Metrics* metrics_;
  TaskBatchRunner* runner_;
  OptimizationServiceOptions options_;

  std::mutex live_mu_;
  std::unordered_map<std::string, std::shared_ptr<Live>> live_;

  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<JobRecord> events_;
  std::set<std::string> wake_;
  // Optimizations whose pending tasks could not be read (a store error): woken again at
  // these times, with a growing delay (RetryLater), so that a transient error never leaves
  // one queued for good.
  std::map<std::string, std::chrono::steady_clock::time_point> retry_due_;
  std::map<std::string, int> retry_failures_;  // failed reads in a row, for the delay
  std::atomic<bool> has_failures_{false};      // retry_failures_ not empty (ClearRetry's fast path)
  bool busy_ = false;
  bool stop_ = false;
  bool started_ = false;
  std::atomic<bool> shutting_down_{false};
  std::atomic<double> runner_seconds_per_task_{0};  // wall seconds per task of the last runner chunk
  std::thread driver_;
};

// The job parameters of one task: base_params with the task's values appended to
// `overrides` as "key=value" (numbers as their JSON text, strings raw, other values as JSON).
Json TaskJobParams(const Json& base_params, const Json& task_params);
// The same with a models dimension: the value of `models_key` becomes the job's `model_path`
// (so the backtest takes the model's dataset, tickers and test period) instead of an override.
Json TaskJobParams(const Json& base_params, const Json& task_params, const std::string& models_key);
// "key=value" of one param_space value.
std::string OverrideText(const std::string& key, const Json& value);

}  // namespace alphalab::optimize

#include "optimize/optimization_service.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unordered_set>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/ids.hpp"
#include "core/job_result.hpp"
#include "jobs/job_results.hpp"
#include "optimize/backtest_task_check.hpp"
#include "optimize/estimate.hpp"
#include "optimize/export_zip.hpp"
#include "optimize/progress.hpp"
#include "optimize/sampler.hpp"

namespace alphalab::optimize {

namespace fs = std::filesystem;

namespace {

std::string Key(int64_t index) { return std::to_string(index); }

bool IsTaskEnded(TaskState s) {
  return s == TaskState::kSucceeded || s == TaskState::kFailed || s == TaskState::kCanceled;
}

Json TimeJson(const std::optional<TimePoint>& t) { return t ? Json(FormatIso8601(*t)) : Json(nullptr); }

// The numeric entries of a stored metrics object (the parser's numbers; its strings are kept
// beside them in the store).
MetricMap NumericMetrics(const Json& metrics) {
  MetricMap out;
  if (!metrics.is_object()) return out;
  for (const auto& [k, v] : metrics.items()) {
    if (v.is_number()) out[k] = v.get<double>();
  }
  return out;
}

std::optional<std::string> ResultSummaryId(const Json& metrics) {
  if (metrics.is_object()) {
    auto it = metrics.find("bt_run_id");
    if (it != metrics.end() && it->is_string()) return it->get<std::string>();
  }
  return std::nullopt;
}

// The files a task's metrics were read from: the "result_file" EndTask stores beside them;
// rows stored before it (built-in backtests only) name their bt_run_id.
std::vector<std::string> ResultPaths(const Json& metrics) {
  if (metrics.is_object()) {
    auto it = metrics.find("result_file");
    if (it != metrics.end() && it->is_string()) return {it->get<std::string>()};
  }
  const auto rsid = ResultSummaryId(metrics);
  if (!rsid) return {};
  return {JobResult::Backtest("", *rsid).SummaryPath()};
}

TaskState StoredToTaskState(const std::string& s) {
  if (s == "running" || s == "queued") return TaskState::kRunning;
  if (s == "succeeded") return TaskState::kSucceeded;
  if (s == "failed") return TaskState::kFailed;
  if (s == "canceled") return TaskState::kCanceled;
  return TaskState::kQueued;
}

Summary SummaryFromJson(const Json& j) {
  Summary s;
  if (!j.is_object()) return s;
  auto num = [&](const char* k) -> int64_t { return j.contains(k) && j[k].is_number() ? j[k].get<int64_t>() : 0; };
  s.total = num("total");
  s.finished = num("finished");
  s.failed = num("failed");
  s.canceled = num("canceled");
  s.running = num("running");
  s.queued = num("queued");
  if (j.contains("best_score") && j["best_score"].is_number()) s.best_score = j["best_score"].get<double>();
  if (j.contains("top_n") && j["top_n"].is_array()) {
    for (const Json& e : j["top_n"]) {
      TopEntry t;
      t.task_id = e.value("task_id", "");
      t.index = e.value("index", int64_t{0});
      t.score = e.contains("score") && e["score"].is_number() ? e["score"].get<double>() : 0.0;
      t.params = e.value("params", Json::object());
      t.result_summary_id = e.value("result_summary_id", "");
      s.top_n.push_back(std::move(t));
    }
  }
  return s;
}

Json TaskJson(const OptimizationTaskRecord& t) {
  Json metrics = Json::object();
  for (const auto& [k, v] : NumericMetrics(t.metrics)) metrics[k] = v;
  const auto rsid = ResultSummaryId(t.metrics);
  Json paths = Json::array();
  for (auto& p : ResultPaths(t.metrics)) paths.push_back(p);
  return Json{{"optimization_id", t.optimization_id},
              {"index", t.index},
              {"params", t.params},
              {"status", t.status},
              {"job_id", t.job_id ? Json(*t.job_id) : Json(nullptr)},
              {"score", t.score ? Json(*t.score) : Json(nullptr)},
              {"ranked", t.ranked},
              {"reason", t.reason.empty() ? Json(nullptr) : Json(t.reason)},
              {"metrics", std::move(metrics)},
              {"result_summary_id", rsid ? Json(*rsid) : Json(nullptr)},
              {"result_paths", std::move(paths)},
              {"attempt", t.attempt},
              {"started_at", TimeJson(t.started_at)},
              {"ended_at", TimeJson(t.ended_at)}};
}

void LogEvent(const char* msg, const Json& fields) {
  Json j = fields;
  j["msg"] = msg;
  spdlog::info("{}", DumpJson(j));
}

}  // namespace

std::string OverrideText(const std::string& key, const Json& value) {
  if (value.is_string()) return key + "=" + value.get<std::string>();
  return key + "=" + DumpJson(value);
}

Json TaskJobParams(const Json& base_params, const Json& task_params) {
  Json params = base_params.is_object() ? base_params : Json::object();
  Json overrides = Json::array();
  if (params.contains("overrides")) {
    const Json& given = params["overrides"];
    if (given.is_array()) {
      overrides = given;
    } else if (given.is_string()) {
      overrides.push_back(given);
    }
  }
  for (const auto& [k, v] : task_params.items()) overrides.push_back(OverrideText(k, v));
  params["overrides"] = std::move(overrides);
  return params;
}

namespace {

// Every task value must make an override item the jobs API accepts (a 400 on its axis).
Status CheckTaskOverrides(const std::vector<TaskParams>& tasks) {
  for (const auto& t : tasks) {
    for (const auto& [k, v] : t.params.items()) {
      Status st = ValidateOverride(OverrideText(k, v));
      if (!st.ok()) return FieldError("param_space." + k, st.message());
    }
  }
  return Status::Ok();
}

std::vector<OptimizationTaskRecord> TaskRecords(std::vector<TaskParams>&& tasks) {
  std::vector<OptimizationTaskRecord> records;
  records.reserve(tasks.size());
  for (auto& t : tasks) {
    OptimizationTaskRecord r;
    r.index = t.index;
    r.params_key = CanonicalParamsKey(t.params);
    r.params = std::move(t.params);
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace

// The in-memory state of a queued or running optimization (and of an ended one while it is
// extended or retried). Everything below is guarded by `mu`.
struct OptimizationService::Live {
  std::mutex mu;
  std::condition_variable cv;  // a task ended / the optimization settled
  OptimizationRecord rec;      // status and times as stored
  OptimizationRequest req;
  std::unique_ptr<OptimizationProgress> progress;
  int64_t max_inflight = 1;
  bool use_runner = false;
  std::unordered_map<int64_t, std::string> job_of;     // index -> job id (every task that got one)
  std::unordered_map<std::string, int64_t> index_of;   // job id -> index, tasks in flight
  std::unordered_map<int64_t, std::string> stored;     // index -> stored status, tasks in flight
  bool pending_exhausted = false;  // TasksToRun returned nothing since the last add/requeue
  bool stop_requested = false;     // early stop / cancel: pending tasks still to cancel
  std::atomic<bool> stop_flag{false};  // the runner's should_stop
  bool dirty = false;
  bool retired = false;
  TimePoint last_persist{};
  std::optional<double> first_task_seconds;  // the calibration (process path)
  // Runner path: wall seconds per task of the first chunk (the calibration).
  std::optional<double> runner_seconds_per_task;
  int64_t max_index = -1;
  // Runner path: task writes of the chunk being reported, flushed in one transaction.
  bool defer_task_writes = false;
  std::vector<OptimizationTaskWrite> task_writes;
};

OptimizationService::OptimizationService(OptimizationStore& store, JobService& jobs, const JobCatalog& catalog,
                                         const Workspace& ws, const Clock& clock, Metrics* metrics,
                                         TaskBatchRunner* runner, OptimizationServiceOptions options)
    : store_(store),
      jobs_(jobs),
      catalog_(catalog),
      ws_(ws),
      clock_(clock),
      metrics_(metrics),
      runner_(runner),
      options_(std::move(options)) {
  // Job types whose results can be read (jobs/job_results.hpp), and their metric names.
  if (!options_.limits.known_job_types) {
    options_.limits.known_job_types.emplace();
    for (const JobTypeSpec* t : catalog_.List()) {
      if (HasReadableResults(*t)) options_.limits.known_job_types->insert(t->name);
    }
  }
  if (!options_.limits.known_metrics && !options_.limits.is_known_metric) {
    options_.limits.is_known_metric = [&catalog = catalog_](const std::string& job_type, const std::string& metric) {
      const JobTypeSpec* spec = catalog.Find(job_type);
      return spec && IsKnownMetricOf(*spec, metric);
    };
  }
  if (options_.runner_chunk < 1) options_.runner_chunk = 1;
  if (metrics_) {
    metrics_->DeclareCounter("alphalab_optimizations_created_total", "Optimizations created");
    metrics_->DeclareCounter("alphalab_optimization_tasks_total",
                             "Optimization tasks: submitted (by path) and ended (by status)");
    metrics_->DeclareCounter("alphalab_optimizations_stopped_total", "Optimizations early-stopped or canceled");
    metrics_->DeclareHistogram("alphalab_optimization_export_seconds", "Time to build an optimization export",
                               {0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30});
    metrics_->DeclareCounter("alphalab_optimization_export_failures_total", "Optimization exports that failed");
  }
}

OptimizationService::~OptimizationService() { Shutdown(); }

Status OptimizationService::Start() {
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    if (started_) return Status::FailedPrecondition("the optimization service is already started");
    started_ = true;
  }
  jobs_.AddFinishedListener([this](const JobRecord& job) { OnJobFinished(job); });
  // Resume every queued or running optimization (listed first: resuming may end some).
  std::vector<OptimizationRecord> unfinished;
  for (const char* status : {"queued", "running"}) {
    OptimizationQuery q;
    q.status = status;
    q.limit = kPage;
    for (int64_t offset = 0;; offset += kPage) {
      q.offset = offset;
      ASSIGN_OR_RETURN(std::vector<OptimizationRecord> rows, store_.List(q));
      const size_t n = rows.size();
      for (auto& r : rows) unfinished.push_back(std::move(r));
      if (static_cast<int>(n) < kPage) break;
    }
  }
  for (const OptimizationRecord& rec : unfinished) {
    auto live = BuildLive(rec);
    if (!live.ok()) {
      spdlog::error("{}", DumpJson(Json{{"msg", "optimization resume failed"},
                                        {"optimization_id", rec.id},
                                        {"error", live.status().ToString()}}));
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(live_mu_);
      live_[rec.id] = *live;
    }
    {
      std::lock_guard<std::mutex> lock((*live)->mu);
      Status st = Reconcile(**live);
      if (!st.ok()) {
        spdlog::error("{}", DumpJson(Json{{"msg", "optimization reconcile failed"},
                                          {"optimization_id", rec.id},
                                          {"error", st.ToString()}}));
      }
      PersistLocked(**live, true);
      LogEvent("optimization resumed", {{"optimization_id", rec.id}, {"status", (*live)->rec.status}});
    }
    Wake(rec.id);
  }
  driver_ = std::thread([this] { DriverLoop(); });
  return Status::Ok();
}

void OptimizationService::Shutdown() {
  shutting_down_ = true;
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (driver_.joinable()) driver_.join();
}

// ----------------------------------------------------------------------------------------
// Building the in-memory state

Result<OptimizationRequest> OptimizationService::ParseStored(const OptimizationRecord& rec) const {
  RequestLimits limits = options_.limits;
  limits.known_metrics.reset();
  limits.known_job_types.reset();
  limits.is_known_metric = nullptr;
  limits.max_tasks = UINT64_MAX;
  auto req = ParseOptimizationRequest(rec.request, limits);
  if (!req.ok()) return Status::Internal("the stored request of " + rec.id + " does not parse: " + req.status().message());
  return req;
}

int64_t OptimizationService::MaxInflightOf(const OptimizationRequest& req) const {
  if (req.max_inflight) return std::max<int64_t>(1, *req.max_inflight);
  if (options_.default_max_inflight > 0) return options_.default_max_inflight;
  return std::max(1, jobs_.capacity());
}

Result<std::vector<OptimizationTaskRecord>> OptimizationService::AllTasks(const std::string& id) {
  std::vector<OptimizationTaskRecord> all;
  OptimizationTaskQuery q;
  q.validation = false;
  q.limit = kPage;
  for (int64_t offset = 0;; offset += kPage) {
    q.offset = offset;
    ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> rows, store_.ListTasks(id, q));
    const size_t n = rows.size();
    for (auto& r : rows) all.push_back(std::move(r));
    if (static_cast<int>(n) < kPage) break;
  }
  return all;
}

Result<std::shared_ptr<OptimizationService::Live>> OptimizationService::BuildLive(const OptimizationRecord& rec) {
  auto live = std::make_shared<Live>();
  live->rec = rec;
  ASSIGN_OR_RETURN(live->req, ParseStored(rec));
  const auto state = ParseOptimizationState(rec.status);
  if (!state) return Status::Internal("optimization " + rec.id + " has an unknown status '" + rec.status + "'");
  live->progress = std::make_unique<OptimizationProgress>(live->req.objective, live->req.constraints,
                                                          live->req.early_stop, static_cast<size_t>(live->req.top_n),
                                                          *state);
  live->max_inflight = MaxInflightOf(live->req);
  live->use_runner = runner_ && runner_->Accepts(live->req.job_type, live->req.base_params);
  live->last_persist = clock_.Now();
  ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> tasks, AllTasks(rec.id));
  std::vector<const OptimizationTaskRecord*> ended;
  for (const auto& t : tasks) {
    RETURN_IF_ERROR(live->progress->AddTask(Key(t.index), t.index, t.params));
    live->max_index = std::max(live->max_index, t.index);
    if (t.job_id) live->job_of[t.index] = *t.job_id;
    if (t.status == "queued" || t.status == "running") {
      RETURN_IF_ERROR(live->progress->TaskStarted(Key(t.index)).status());
      if (t.job_id) {
        live->index_of[*t.job_id] = t.index;
        live->stored[t.index] = t.status;
      }
    } else if (t.status != "pending") {
      ended.push_back(&t);
    }
  }
  // Ended tasks replayed in the order they ended (the early-stop policy counts completion order).
  std::stable_sort(ended.begin(), ended.end(), [](const auto* a, const auto* b) {
    const TimePoint ta = a->ended_at.value_or(TimePoint{});
    const TimePoint tb = b->ended_at.value_or(TimePoint{});
    if (ta != tb) return ta < tb;
    return a->index < b->index;
  });
  for (const auto* t : ended) {
    const std::string key = Key(t->index);
    if (t->status == "succeeded") {
      RETURN_IF_ERROR(live->progress->TaskStarted(key).status());
      RETURN_IF_ERROR(live->progress->TaskSucceeded(key, NumericMetrics(t->metrics),
                                                    ResultSummaryId(t->metrics).value_or(""))
                          .status());
    } else if (t->status == "failed") {
      RETURN_IF_ERROR(live->progress->TaskFailed(key).status());
    } else {
      if (t->job_id) RETURN_IF_ERROR(live->progress->TaskStarted(key).status());
      RETURN_IF_ERROR(live->progress->TaskCanceled(key).status());
    }
  }
  return live;
}

// Resume: tasks recorded as in flight whose job ended while no server watched, and jobs that
// were submitted but not recorded on their task (a crash between Submit and MarkTaskQueued).
Status OptimizationService::Reconcile(Live& live) {
  const std::string& id = live.rec.id;
  // 1. Orphan jobs: match them to pending tasks by their overrides.
  std::unordered_set<std::string> known;
  for (const auto& [idx, job] : live.job_of) known.insert(job);
  std::vector<JobRecord> orphans;
  JobQuery q;
  q.parent_id = id;
  q.limit = kPage;
  for (int offset = 0;; offset += kPage) {
    q.offset = offset;
    ASSIGN_OR_RETURN(std::vector<JobRecord> rows, jobs_.List(q));
    for (auto& j : rows) {
      if (!known.count(j.job_id.str())) orphans.push_back(std::move(j));
    }
    if (static_cast<int>(rows.size()) < kPage) break;
  }
  if (!orphans.empty()) {
    std::unordered_map<std::string, int64_t> pending_by_overrides;
    ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> tasks, AllTasks(id));
    for (const auto& t : tasks) {
      if (t.status != "pending") continue;
      pending_by_overrides[DumpJson(TaskJobParams(live.req.base_params, t.params)["overrides"])] = t.index;
    }
    for (const JobRecord& j : orphans) {
      const Json overrides = j.params.contains("overrides") ? j.params["overrides"] : Json::array();
      auto it = pending_by_overrides.find(DumpJson(overrides));
      if (it == pending_by_overrides.end()) continue;
      const int64_t idx = it->second;
      pending_by_overrides.erase(it);
      Status st = store_.MarkTaskQueued(id, idx, j.job_id.str());
      if (!st.ok()) {
        spdlog::warn("{}", DumpJson(Json{{"msg", "optimization resume: job not linked"},
                                         {"optimization_id", id}, {"job_id", j.job_id.str()},
                                         {"error", st.ToString()}}));
        continue;
      }
      live.job_of[idx] = j.job_id.str();
      live.index_of[j.job_id.str()] = idx;
      live.stored[idx] = "queued";
      ApplyUpdate(live, live.progress->TaskStarted(Key(idx)), "resume");
      LogEvent("optimization resume: linked job", {{"optimization_id", id}, {"index", idx}, {"job_id", j.job_id.str()}});
    }
  }
  // 2. Tasks in flight whose job has ended (or is gone).
  std::vector<std::pair<std::string, int64_t>> inflight(live.index_of.begin(), live.index_of.end());
  std::sort(inflight.begin(), inflight.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  for (const auto& [job_id, idx] : inflight) {
    auto job = jobs_.Get(JobId(job_id));
    if (job.ok() && IsTerminal(job->status)) {
      EndTask(live, idx, *job, nullptr, "");
    } else if (!job.ok() && job.status().IsNotFound()) {
      JobRecord lost;
      lost.job_id = JobId(job_id);
      lost.status = JobState::kFailed;
      lost.error_message = "the task's job " + job_id + " no longer exists";
      EndTask(live, idx, lost, nullptr, "");
    }
  }
  // Replay may have changed the state (every task had ended, or the policy fired).
  const std::string now_state(OptimizationStateName(live.progress->state()));
  if (now_state != live.rec.status) RETURN_IF_ERROR(PersistState(live, now_state));
  if (IsTerminal(live.progress->state())) live.stop_requested = true;
  live.dirty = true;
  return Status::Ok();
}

std::shared_ptr<OptimizationService::Live> OptimizationService::FindLive(const std::string& id) {
  std::lock_guard<std::mutex> lock(live_mu_);
  auto it = live_.find(id);
  return it == live_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<OptimizationService::Live>> OptimizationService::LoadLive(const std::string& id) {
  if (auto live = FindLive(id)) return live;
  ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
  ASSIGN_OR_RETURN(std::shared_ptr<Live> built, BuildLive(rec));
  std::lock_guard<std::mutex> lock(live_mu_);
  auto [it, inserted] = live_.emplace(id, built);
  return it->second;
}

void OptimizationService::Retire(const std::string& id) {
  std::lock_guard<std::mutex> lock(live_mu_);
  live_.erase(id);
}

// ----------------------------------------------------------------------------------------
// Persistence

Json OptimizationService::SummaryJsonLocked(const Live& live) const {
  Json j = live.progress->summary().Snapshot().ToJson();
  for (Json& e : j["top_n"]) {
    auto it = live.job_of.find(e["index"].get<int64_t>());
    e["task_id"] = it == live.job_of.end() ? std::string() : it->second;
  }
  const StopReason reason = live.progress->stop_reason();
  j["stop_reason"] = reason == StopReason::kNone ? Json(nullptr) : Json(std::string(StopReasonName(reason)));
  return j;
}

Status OptimizationService::LinkTaskLocked(Live& live, int64_t index, const std::string& job_id) {
  if (!live.defer_task_writes) return store_.MarkTaskQueued(live.rec.id, index, job_id);
  OptimizationTaskWrite w;
  w.kind = OptimizationTaskWrite::Kind::kQueued;
  w.index = index;
  w.job_id = job_id;
  live.task_writes.push_back(std::move(w));
  return Status::Ok();
}

Status OptimizationService::WriteTaskStatusLocked(Live& live, int64_t index, const std::string& expected,
                                                  const std::string& next, const OptimizationTaskUpdate& update) {
  if (!live.defer_task_writes) return store_.MarkTaskStatus(live.rec.id, index, expected, next, update);
  OptimizationTaskWrite w;
  w.kind = OptimizationTaskWrite::Kind::kStatus;
  w.index = index;
  w.expected = expected;
  w.next = next;
  w.update = update;
  live.task_writes.push_back(std::move(w));
  return Status::Ok();
}

void OptimizationService::FlushTaskWritesLocked(Live& live) {
  if (live.task_writes.empty()) return;
  std::vector<OptimizationTaskWrite> writes;
  writes.swap(live.task_writes);
  auto done = store_.ApplyTaskWrites(live.rec.id, writes);
  for (size_t i = 0; i < writes.size(); ++i) {
    const Status st = done.ok() ? (*done)[i] : done.status();
    if (st.ok()) continue;
    const bool link = writes[i].kind == OptimizationTaskWrite::Kind::kQueued;
    Json e{{"msg", link ? "optimization task not linked to its job" : "optimization task not persisted"},
           {"optimization_id", live.rec.id},
           {"index", writes[i].index},
           {"error", st.ToString()}};
    if (link) e["job_id"] = writes[i].job_id;
    spdlog::error("{}", DumpJson(e));
  }
}

void OptimizationService::PersistLocked(Live& live, bool force) {
  if (!live.dirty && live.task_writes.empty()) return;
  const TimePoint now = clock_.Now();
  if (!force && now - live.last_persist < std::chrono::milliseconds(100)) return;
  // The tasks first: a reader that sees the summary's counts finds the task rows behind them.
  FlushTaskWritesLocked(live);
  if (!live.dirty) return;
  live.rec.summary = SummaryJsonLocked(live);
  Status st = store_.UpdateSummary(live.rec.id, live.rec.summary, now);
  if (!st.ok()) {
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization summary not persisted"},
                                      {"optimization_id", live.rec.id}, {"error", st.ToString()}}));
    return;
  }
  live.dirty = false;
  live.last_persist = now;
}

Status OptimizationService::PersistState(Live& live, const std::string& next) {
  if (next == live.rec.status) return Status::Ok();
  const TimePoint now = clock_.Now();
  OptimizationStatusTimes times;
  times.updated_at = now;
  const auto state = ParseOptimizationState(next);
  if (next == "running" && !live.rec.started_at) times.started_at = now;
  if (state && IsTerminal(*state)) times.ended_at = now;
  if (next == "queued") times.clear_ended_at = true;
  // The summary first: a reader that sees the new state also sees the counts that led to it.
  live.dirty = true;
  PersistLocked(live, true);
  Status st = store_.UpdateStatus(live.rec.id, live.rec.status, next, times);
  if (!st.ok()) {
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization state not persisted"},
                                      {"optimization_id", live.rec.id},
                                      {"from", live.rec.status}, {"to", next}, {"error", st.ToString()}}));
    return st;
  }
  live.rec.status = next;
  live.rec.updated_at = now;
  if (times.started_at) live.rec.started_at = times.started_at;
  if (times.ended_at) live.rec.ended_at = times.ended_at;
  if (times.clear_ended_at) live.rec.ended_at.reset();
  return Status::Ok();
}

void OptimizationService::ReopenLocked(Live& live, const char* context) {
  // Tasks were added or requeued: an ended optimization goes back to queued and the driver
  // takes its pending tasks again.
  if (IsTerminal(live.progress->state())) ApplyUpdate(live, live.progress->Reopen(), context);
  live.pending_exhausted = false;
  live.stop_requested = false;
  live.stop_flag = false;
  live.dirty = true;
  PersistLocked(live, true);
}

void OptimizationService::ApplyUpdate(Live& live, const Result<ProgressUpdate>& update, const char* context) {
  live.dirty = true;
  if (!update.ok()) {
    spdlog::warn("{}", DumpJson(Json{{"msg", "optimization task event refused"}, {"optimization_id", live.rec.id},
                                     {"context", context}, {"error", update.status().ToString()}}));
    return;
  }
  if (!update->new_state) return;
  const OptimizationState next = *update->new_state;
  (void)PersistState(live, std::string(OptimizationStateName(next)));
  if (next == OptimizationState::kEarlyStopped) {
    live.stop_requested = true;
    live.stop_flag = true;
    const Summary s = live.progress->summary().Snapshot();
    LogEvent("optimization early stop",
             {{"optimization_id", live.rec.id},
              {"reason", std::string(StopReasonName(update->stop))},
              {"finished", s.finished},
              {"best_score", s.best_score ? Json(*s.best_score) : Json(nullptr)}});
    if (metrics_) metrics_->Increment("alphalab_optimizations_stopped_total", {{"status", "early-stopped"}});
  } else if (IsTerminal(next)) {
    const Summary s = live.progress->summary().Snapshot();
    LogEvent("optimization ended", {{"optimization_id", live.rec.id},
                                    {"status", std::string(OptimizationStateName(next))},
                                    {"finished", s.finished},
                                    {"failed", s.failed},
                                    {"canceled", s.canceled}});
  }
}

// ----------------------------------------------------------------------------------------
// Task ends

void OptimizationService::OnJobFinished(const JobRecord& job) {
  // Called on a job-service thread: only queue it (the driver does the work).
  if (!job.parent_id || job.parent_id->rfind("opt_", 0) != 0) return;
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    if (stop_) return;
    events_.push_back(job);
  }
  work_cv_.notify_one();
}

void OptimizationService::HandleJobEnd(const JobRecord& job) {
  auto live = FindLive(*job.parent_id);
  if (!live) return;  // an ended optimization: nothing in flight, absorbed
  std::lock_guard<std::mutex> lock(live->mu);
  // Jobs in flight are known by id (submitted here, or linked at resume). Anything else is
  // absorbed: a runner's job (ended in on_done), a repeated end, a job not of a task.
  auto it = live->index_of.find(job.job_id.str());
  if (it == live->index_of.end()) return;
  const int64_t index = it->second;
  // The store's job -> task mapping must agree.
  auto ref = store_.TaskByJobId(job.job_id.str());
  if (!ref.ok() || ref->optimization_id != live->rec.id || ref->index != index) {
    spdlog::warn("{}", DumpJson(Json{{"msg", "optimization job not recorded on its task"},
                                     {"optimization_id", live->rec.id}, {"index", index},
                                     {"job_id", job.job_id.str()},
                                     {"error", ref.ok() ? std::string("another task") : ref.status().ToString()}}));
  }
  const auto state = live->progress->summary().StateOf(Key(index));
  if (!state || IsTaskEnded(*state)) return;
  EndTask(*live, index, job, nullptr, "");
}

void OptimizationService::EndTask(Live& live, int64_t index, const JobRecord& job, const Result<ParsedResult>* given,
                                  const std::string& given_rsid) {
  const std::string key = Key(index);
  const std::string job_id = job.job_id.str();
  auto stored_it = live.stored.find(index);
  const std::string expected = stored_it == live.stored.end() ? "running" : stored_it->second;
  OptimizationTaskUpdate upd;
  upd.started_at = job.started_at;
  upd.ended_at = job.ended_at ? job.ended_at : std::optional<TimePoint>(clock_.Now());
  std::string next;
  Result<ProgressUpdate> progress = ProgressUpdate{};
  JobState status = job.status;
  std::string fail_reason = job.error_message.value_or("");
  if (status == JobState::kSuccess) {
    Result<ParsedResult> parsed = Status::Internal("unset");
    std::string rsid = given_rsid;
    std::vector<std::string> result_paths;
    if (given) {
      parsed = *given;
      if (!rsid.empty()) result_paths = {JobResult::Backtest("", rsid).SummaryPath()};
    } else if (const JobTypeSpec* spec = catalog_.Find(job.job_type); !spec) {
      parsed = Status::NotFound("job type '" + job.job_type + "' is no longer in the catalog");
    } else {
      // The job type's declaration says how (jobs/job_results.hpp): a built-in backtest's
      // result file and summary.json, or a user type's named parser over its `results.path`.
      auto read = ReadJobMetrics(ws_, *spec, job);
      if (read.ok()) {
        parsed = std::move(read->parsed);
        rsid = std::move(read->result_summary_id);
        result_paths = std::move(read->result_paths);
      } else {
        parsed = read.status();
      }
    }
    if (parsed.ok()) {
      Json metrics = Json::object();
      for (const auto& [k, v] : parsed->metrics) metrics[k] = v;
      for (const auto& [k, v] : parsed->strings) {
        if (!metrics.contains(k)) metrics[k] = v;
      }
      if (!rsid.empty()) metrics["bt_run_id"] = rsid;
      if (!result_paths.empty()) metrics["result_file"] = result_paths.front();
      progress = live.progress->TaskSucceeded(key, parsed->metrics, rsid);
      next = "succeeded";
      upd.metrics = std::move(metrics);
      if (progress.ok() && progress->evaluation) {
        upd.score = progress->evaluation->score;
        upd.ranked = progress->evaluation->ranked();
        upd.reason = progress->evaluation->reason;
      }
    } else {
      status = JobState::kFailed;
      fail_reason = "the result could not be read: " + parsed.status().message();
    }
  }
  if (status == JobState::kFailed) {
    progress = live.progress->TaskFailed(key);
    next = "failed";
    if (fail_reason.empty() && job.end_reason) fail_reason = std::string(EndReasonName(*job.end_reason));
    upd.reason = fail_reason;
  } else if (status == JobState::kCanceled) {
    progress = live.progress->TaskCanceled(key);
    next = "canceled";
    upd.reason = "canceled";
  } else if (status != JobState::kSuccess) {
    return;  // not terminal: nothing to do
  }
  Status st = WriteTaskStatusLocked(live, index, expected, next, upd);
  if (!st.ok()) {
    spdlog::warn("{}", DumpJson(Json{{"msg", "optimization task not persisted"}, {"optimization_id", live.rec.id},
                                     {"index", index}, {"job_id", job_id}, {"error", st.ToString()}}));
  }
  live.index_of.erase(job_id);
  live.stored.erase(index);
  live.job_of[index] = job_id;
  if (metrics_) metrics_->Increment("alphalab_optimization_tasks_total", {{"event", "ended"}, {"status", next}});
  if (!live.first_task_seconds && job.started_at && job.ended_at) {
    live.first_task_seconds = SecondsBetween(*job.started_at, *job.ended_at);
  }
  ApplyUpdate(live, progress, "task ended");
  live.cv.notify_all();
}

// ----------------------------------------------------------------------------------------
// The driver

void OptimizationService::Wake(const std::string& opt_id) {
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    wake_.insert(opt_id);
  }
  work_cv_.notify_one();
}

void OptimizationService::DriverLoop() {
  std::unique_lock<std::mutex> wl(work_mu_);
  for (;;) {
    work_cv_.wait(wl, [&] { return stop_ || !events_.empty() || !wake_.empty(); });
    if (stop_) break;
    busy_ = true;
    std::deque<JobRecord> events;
    events.swap(events_);
    std::set<std::string> touched;
    touched.swap(wake_);
    wl.unlock();
    for (const JobRecord& job : events) {
      HandleJobEnd(job);
      touched.insert(*job.parent_id);
    }
    for (const std::string& id : touched) {
      auto live = FindLive(id);
      if (!live) continue;
      StopTasks(live);
      if (live->use_runner) {
        RunChunk(live);
      } else {
        Pump(live);
      }
      std::lock_guard<std::mutex> lock(live->mu);
      PersistLocked(*live, true);
      if (IsTerminal(live->progress->state()) && live->index_of.empty() && !live->stop_requested) {
        live->retired = true;
        Retire(id);
      }
      live->cv.notify_all();
    }
    wl.lock();
    busy_ = false;
    idle_cv_.notify_all();
  }
}

void OptimizationService::StopTasks(const std::shared_ptr<Live>& live) {
  std::vector<std::string> outstanding;
  {
    std::lock_guard<std::mutex> lock(live->mu);
    if (!live->stop_requested) return;
    CancelPendingLocked(*live);
    live->stop_requested = false;
    for (const auto& [job, idx] : live->index_of) outstanding.push_back(job);
  }
  for (const std::string& job : outstanding) {
    auto r = jobs_.Cancel(JobId(job));  // queued: ends at once; running: stopped, then CANCELED
    if (!r.ok() && r.status().code() != StatusCode::kFailedPrecondition) {
      spdlog::warn("{}", DumpJson(Json{{"msg", "optimization task not stopped"}, {"optimization_id", live->rec.id},
                                       {"job_id", job}, {"error", r.status().ToString()}}));
    }
  }
}

void OptimizationService::CancelPendingLocked(Live& live) {
  FlushTaskWritesLocked(live);  // a task the runner reported is no longer pending
  auto moved = store_.CancelPending(live.rec.id, "canceled", clock_.Now());
  if (!moved.ok()) {
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization pending tasks not canceled"},
                                      {"optimization_id", live.rec.id}, {"error", moved.status().ToString()}}));
    return;
  }
  for (int64_t index : *moved) ApplyUpdate(live, live.progress->TaskCanceled(Key(index)), "cancel pending");
  if (metrics_ && !moved->empty()) {
    metrics_->Increment("alphalab_optimization_tasks_total", {{"event", "ended"}, {"status", "canceled"}},
                        static_cast<double>(moved->size()));
  }
  live.pending_exhausted = true;
  live.dirty = true;
}

void OptimizationService::Pump(const std::shared_ptr<Live>& live_ptr) {
  Live& live = *live_ptr;
  std::lock_guard<std::mutex> lock(live.mu);
  if (IsTerminal(live.progress->state()) || live.stop_requested || live.pending_exhausted) return;
  const int64_t room = live.max_inflight - static_cast<int64_t>(live.index_of.size());
  if (room <= 0) return;
  auto rows = store_.TasksToRun(live.rec.id, static_cast<int>(std::min<int64_t>(room, kPage)));
  if (!rows.ok()) {
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization tasks not read"}, {"optimization_id", live.rec.id},
                                      {"error", rows.status().ToString()}}));
    return;
  }
  if (rows->empty()) {
    live.pending_exhausted = true;
    return;
  }
  SubmitOptions opts;
  opts.parent_id = live.rec.id;
  if (!live.rec.owner_id.empty()) opts.owner_id = live.rec.owner_id;
  opts.max_inflight = static_cast<int>(std::min<int64_t>(live.max_inflight, INT32_MAX));
  for (const auto& t : *rows) {
    if (t.validation) continue;
    const std::string key = Key(t.index);
    auto job = jobs_.Submit(live.req.job_type, TaskJobParams(live.req.base_params, t.params), opts);
    if (!job.ok()) {
      if (shutting_down_ || job.status().code() == StatusCode::kUnavailable) return;  // stays pending
      OptimizationTaskUpdate upd;
      upd.ended_at = clock_.Now();
      upd.reason = "the job was refused: " + job.status().message();
      (void)store_.MarkTaskStatus(live.rec.id, t.index, "pending", "failed", upd);
      if (metrics_) metrics_->Increment("alphalab_optimization_tasks_total", {{"event", "ended"}, {"status", "failed"}});
      ApplyUpdate(live, live.progress->TaskFailed(key), "submit refused");
      if (IsTerminal(live.progress->state())) return;
      continue;
    }
    const std::string job_id = job->job_id.str();
    Status st = store_.MarkTaskQueued(live.rec.id, t.index, job_id);
    if (!st.ok()) {
      spdlog::error("{}", DumpJson(Json{{"msg", "optimization task not linked to its job"},
                                        {"optimization_id", live.rec.id}, {"index", t.index},
                                        {"job_id", job_id}, {"error", st.ToString()}}));
      (void)jobs_.Cancel(job->job_id);
      continue;
    }
    OptimizationTaskUpdate running;
    running.started_at = clock_.Now();
    const bool marked = store_.MarkTaskStatus(live.rec.id, t.index, "queued", "running", running).ok();
    live.stored[t.index] = marked ? "running" : "queued";
    live.index_of[job_id] = t.index;
    live.job_of[t.index] = job_id;
    if (metrics_) metrics_->Increment("alphalab_optimization_tasks_total", {{"event", "submitted"}, {"path", "process"}});
    ApplyUpdate(live, live.progress->TaskStarted(key), "submit");
  }
}

void OptimizationService::RunChunk(const std::shared_ptr<Live>& live_ptr) {
  Live& live = *live_ptr;
  std::vector<BatchTask> batch;
  std::optional<std::string> owner;
  {
    std::lock_guard<std::mutex> lock(live.mu);
    if (IsTerminal(live.progress->state()) || live.stop_requested || live.pending_exhausted) return;
    auto rows = store_.TasksToRun(live.rec.id, options_.runner_chunk);
    if (!rows.ok()) {
      spdlog::error("{}", DumpJson(Json{{"msg", "optimization tasks not read"}, {"optimization_id", live.rec.id},
                                        {"error", rows.status().ToString()}}));
      return;
    }
    if (rows->empty()) {
      live.pending_exhausted = true;
      return;
    }
    for (const auto& t : *rows) {
      if (!t.validation) batch.push_back(BatchTask{t.index, TaskJobParams(live.req.base_params, t.params)});
    }
    if (!live.rec.owner_id.empty()) owner = live.rec.owner_id;
    live.stop_flag = false;
    live.defer_task_writes = true;
  }
  auto on_done = [this, &live](BatchTaskResult&& r) {
    std::lock_guard<std::mutex> lock(live.mu);
    const std::string key = Key(r.index);
    const auto state = live.progress->summary().StateOf(key);
    if (!state || IsTaskEnded(*state)) return;
    const std::string job_id = r.job.job_id.str();
    Status st = LinkTaskLocked(live, r.index, job_id);
    if (!st.ok()) {
      spdlog::error("{}", DumpJson(Json{{"msg", "optimization task not linked to its job"},
                                        {"optimization_id", live.rec.id}, {"index", r.index},
                                        {"job_id", job_id}, {"error", st.ToString()}}));
      return;
    }
    live.stored[r.index] = "queued";
    live.index_of[job_id] = r.index;
    live.job_of[r.index] = job_id;
    if (metrics_) metrics_->Increment("alphalab_optimization_tasks_total", {{"event", "submitted"}, {"path", "runner"}});
    ApplyUpdate(live, live.progress->TaskStarted(key), "runner start");
    EndTask(live, r.index, r.job, &r.result, r.result_summary_id);
    PersistLocked(live, false);
  };
  auto should_stop = [this, &live] { return shutting_down_.load() || live.stop_flag.load(); };
  const auto t0 = std::chrono::steady_clock::now();
  Status st = runner_->Run(live.rec.id, owner, batch, on_done, should_stop);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (st.ok() && !batch.empty()) {
    // The runner keeps every core busy: its throughput, not a task's own duration, is what an
    // estimate needs (a chunk's tasks overlap).
    const double per_task = wall / static_cast<double>(batch.size());
    runner_seconds_per_task_.store(per_task);
    std::lock_guard<std::mutex> lock(live.mu);
    if (!live.runner_seconds_per_task) {
      live.runner_seconds_per_task = per_task;
      live.cv.notify_all();
    }
  }
  {
    // on_done persists at most every 100 ms; the chunk's last tasks (those that ended after an
    // early stop or a cancel included) are written now, so the stored summary is never stale.
    std::lock_guard<std::mutex> lock(live.mu);
    live.dirty = true;
    PersistLocked(live, true);  // flushes the deferred task writes
    live.defer_task_writes = false;
  }
  if (!st.ok()) {
    std::lock_guard<std::mutex> lock(live.mu);
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization runner failed; tasks go on as processes"},
                                      {"optimization_id", live.rec.id}, {"error", st.ToString()}}));
    live.use_runner = false;
    live.cv.notify_all();  // an estimate waiting for the runner's calibration stops waiting
  }
  Wake(live.rec.id);
}

bool OptimizationService::WaitIdle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    bool empty;
    {
      std::lock_guard<std::mutex> lock(live_mu_);
      empty = live_.empty();
    }
    {
      std::lock_guard<std::mutex> lock(work_mu_);
      if (empty && !busy_ && events_.empty() && wake_.empty()) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// ----------------------------------------------------------------------------------------
// API operations

Json OptimizationService::OptimizationJson(const OptimizationRecord& rec, bool with_reruns) {
  Json summary = rec.summary.is_object() ? rec.summary : Json::object();
  Json stop_reason = summary.contains("stop_reason") ? summary["stop_reason"] : Json(nullptr);
  summary.erase("stop_reason");
  const Summary s = SummaryFromJson(summary);
  const int64_t ended = s.finished + s.failed + s.canceled;
  Json reruns = Json::array();
  if (with_reruns) {
    OptimizationQuery q;
    q.source_id = rec.id;
    q.limit = 100;
    auto rows = store_.List(q);
    if (rows.ok()) {
      for (const auto& r : *rows) reruns.push_back(r.id);
    }
  }
  return Json{{"id", rec.id},
              {"name", rec.name},
              {"project", rec.project},
              {"owner_id", rec.owner_id.empty() ? Json(nullptr) : Json(rec.owner_id)},
              {"job_type", rec.job_type},
              {"status", rec.status},
              {"stop_reason", stop_reason},
              {"request", rec.request},
              {"summary", summary},
              {"progress", s.total > 0 ? static_cast<double>(ended) / static_cast<double>(s.total) : 0.0},
              {"best_score", s.best_score ? Json(*s.best_score) : Json(nullptr)},
              {"source_id", rec.source_id ? Json(*rec.source_id) : Json(nullptr)},
              {"reruns", std::move(reruns)},
              {"total_tasks", rec.total_tasks},
              {"created_at", FormatIso8601(rec.created_at)},
              {"started_at", TimeJson(rec.started_at)},
              {"ended_at", TimeJson(rec.ended_at)},
              {"updated_at", FormatIso8601(rec.updated_at)}};
}

Result<Json> OptimizationService::BuildEstimate(const OptimizationRequest& req, const std::string& opt_id,
                                                int64_t slots, bool runner) {
  if (runner) {
    // Tasks run in batches on every core: tasks x the runner's seconds per task (the last
    // chunk any optimization ran, else this optimization's first chunk as the calibration).
    if (const double known = runner_seconds_per_task_.load(); known > 0) {
      if (auto e = EstimateDuration(req.task_count, {known}, 1, "history")) return e->ToJson();
    }
    auto live = FindLive(opt_id);
    std::optional<double> per_task;
    if (live) {
      std::unique_lock<std::mutex> lock(live->mu);
      live->cv.wait_for(lock, options_.calibration_timeout,
                        [&] { return live->runner_seconds_per_task.has_value() || !live->use_runner || live->retired; });
      per_task = live->runner_seconds_per_task;
    }
    // Already ended and retired (a small sweep): its chunk set the service's figure.
    if (!per_task && runner_seconds_per_task_.load() > 0) per_task = runner_seconds_per_task_.load();
    if (per_task) {
      auto e = EstimateDuration(req.task_count, {*per_task}, 1, "calibration");
      Json j = e ? e->ToJson() : Json(nullptr);
      if (j.is_object()) j["lower_bound"] = false;
      return j;
    }
    // No chunk ended in time: fall through to the per-task figures below.
  }
  std::vector<double> durations;
  JobQuery q;
  q.status = JobState::kSuccess;
  q.job_type = req.job_type;
  q.limit = options_.history_samples + static_cast<int>(slots) + 1;
  auto rows = jobs_.List(q);
  if (rows.ok()) {
    for (const JobRecord& j : *rows) {
      if (j.parent_id == opt_id || !j.started_at || !j.ended_at || j.dry_run) continue;
      if (static_cast<int>(durations.size()) >= options_.history_samples) break;
      durations.push_back(SecondsBetween(*j.started_at, *j.ended_at));
    }
  }
  if (auto e = EstimateDuration(req.task_count, durations, slots, "history")) return e->ToJson();
  // No history: the optimization's first task is the calibration. Wait for it (bounded).
  auto live = FindLive(opt_id);
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<double> seconds;
  bool partial = false;
  if (live) {
    std::unique_lock<std::mutex> lock(live->mu);
    live->cv.wait_for(lock, options_.calibration_timeout, [&] { return live->first_task_seconds.has_value(); });
    seconds = live->first_task_seconds;
  }
  if (!seconds) {
    // Still running after the timeout: its elapsed time is a lower bound of a task's time.
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    partial = true;
  }
  auto e = EstimateDuration(req.task_count, {*seconds}, slots, "calibration");
  Json j = e ? e->ToJson() : Json(nullptr);
  if (j.is_object()) j["lower_bound"] = partial;
  return j;
}

Result<Json> OptimizationService::Create(const Json& request, const std::optional<std::string>& owner_id) {
  if (!request.is_object()) return FieldError("request", "must be a JSON object");
  Json doc = request;
  std::optional<std::string> source_id;
  if (IsRerunRequest(doc)) {
    if (!doc["source_job_id"].is_string() || !IsSafeIdentifier(doc["source_job_id"].get<std::string>())) {
      return FieldError("source_job_id", "must be an optimization id (opt_...)");
    }
    source_id = doc["source_job_id"].get<std::string>();
    auto src = store_.Get(*source_id);
    if (!src.ok()) {
      if (src.status().IsNotFound()) {
        return Status::NotFound("source_job_id: optimization " + *source_id + " does not exist",
                                Json{{"field", "source_job_id"}});
      }
      return src.status();
    }
    ASSIGN_OR_RETURN(doc, MergeRerunRequest(src->request, doc));
  }
  ASSIGN_OR_RETURN(OptimizationRequest req, ParseOptimizationRequest(doc, options_.limits));
  if (req.base_params.contains("dry_run")) {
    return FieldError("base_params.dry_run", "is not allowed: every task must run");
  }
  if (req.holdout_start) return FieldError("validation", "holdout validation is not supported yet");
  ExpandOptions expand;
  expand.max_tasks = options_.limits.max_tasks;
  ASSIGN_OR_RETURN(std::vector<TaskParams> expanded, Expand(req.param_space, req.sampler, expand));
  if (expanded.empty()) return FieldError("param_space", "gives no task");
  // The job parameters: every task's overrides follow the override grammar, and the first
  // task's parameters resolve in the job catalog (config file, tickers, ...).
  RETURN_IF_ERROR(CheckTaskOverrides(expanded));
  {
    auto resolved = catalog_.Resolve(req.job_type, TaskJobParams(req.base_params, expanded.front().params));
    if (!resolved.ok()) {
      Json details = resolved.status().details().is_object() ? resolved.status().details() : Json::object();
      details["field"] = "base_params";
      return Status::InvalidArgument("base_params: " + resolved.status().message(), details);
    }
    // A backtest's param_space keys must be config keys it knows (values are judged per task).
    if (req.job_type == "backtest") {
      std::vector<std::string> keys;
      for (const auto& axis : req.param_space.axes) keys.push_back(axis.key);
      RETURN_IF_ERROR(CheckBacktestTaskKeys(ws_, resolved->params, keys));
    }
  }
  const TimePoint now = clock_.Now();
  OptimizationRecord rec;
  rec.id = NewOptimizationId(now);
  rec.name = req.name;
  rec.project = req.project;
  rec.owner_id = owner_id.value_or("");
  rec.job_type = req.job_type;
  rec.status = "queued";
  rec.request = req.ToJson();
  rec.source_id = source_id;
  rec.created_at = now;
  rec.updated_at = now;
  std::vector<OptimizationTaskRecord> tasks = TaskRecords(std::move(expanded));
  auto live = std::make_shared<Live>();
  live->req = req;
  live->progress = std::make_unique<OptimizationProgress>(req.objective, req.constraints, req.early_stop,
                                                          static_cast<size_t>(req.top_n));
  for (const auto& t : tasks) {
    RETURN_IF_ERROR(live->progress->AddTask(Key(t.index), t.index, t.params));
    live->max_index = std::max(live->max_index, t.index);
  }
  live->max_inflight = MaxInflightOf(req);
  live->use_runner = runner_ && runner_->Accepts(req.job_type, req.base_params);
  live->last_persist = now;
  rec.summary = SummaryJsonLocked(*live);
  live->rec = rec;
  RETURN_IF_ERROR(store_.Create(rec, tasks));
  {
    std::lock_guard<std::mutex> lock(live_mu_);
    live_[rec.id] = live;
  }
  if (metrics_) metrics_->Increment("alphalab_optimizations_created_total", {{"job_type", req.job_type}});
  LogEvent("optimization submitted", {{"optimization_id", rec.id},
                                      {"job_type", req.job_type},
                                      {"tasks", static_cast<int64_t>(tasks.size())},
                                      {"max_inflight", live->max_inflight},
                                      {"path", live->use_runner ? "runner" : "process"},
                                      {"source_id", source_id ? Json(*source_id) : Json(nullptr)},
                                      {"owner_id", owner_id ? Json(*owner_id) : Json(nullptr)}});
  Wake(rec.id);
  const int64_t slots = live->use_runner ? std::max(1, jobs_.capacity())
                                         : std::min<int64_t>(live->max_inflight, std::max(1, jobs_.capacity()));
  ASSIGN_OR_RETURN(Json estimate, BuildEstimate(req, rec.id, slots, live->use_runner));
  {
    std::lock_guard<std::mutex> lock(live->mu);
    PersistLocked(*live, true);  // the answer shows what the calibration task did
  }
  ASSIGN_OR_RETURN(OptimizationRecord stored, store_.Get(rec.id));
  Json out = OptimizationJson(stored, true);
  out["estimate"] = std::move(estimate);
  return out;
}

Result<Json> OptimizationService::List(const OptimizationQuery& query) {
  RETURN_IF_ERROR(CheckOptimizationQuery(query));
  ASSIGN_OR_RETURN(std::vector<OptimizationRecord> rows, store_.List(query));
  ASSIGN_OR_RETURN(int64_t total, store_.Count(query));
  Json items = Json::array();
  for (const auto& r : rows) items.push_back(OptimizationJson(r, true));
  return Json{{"items", std::move(items)}, {"total", total}, {"limit", query.limit}, {"offset", query.offset}};
}

Result<Json> OptimizationService::Get(const std::string& id) {
  ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
  return OptimizationJson(rec, true);
}

Result<Json> OptimizationService::StatusOf(const std::string& id) {
  ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
  Json summary = rec.summary.is_object() ? std::move(rec.summary) : Json::object();
  Json stop_reason = summary.contains("stop_reason") ? summary["stop_reason"] : Json(nullptr);
  summary.erase("stop_reason");
  return Json{{"status", rec.status}, {"stop_reason", stop_reason}, {"summary", std::move(summary)}};
}

Result<Json> OptimizationService::Tasks(const std::string& id, const OptimizationTaskQuery& query) {
  RETURN_IF_ERROR(CheckOptimizationTaskQuery(query));
  ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> rows, store_.ListTasks(id, query));
  ASSIGN_OR_RETURN(int64_t total, store_.CountTasks(id, query));
  Json items = Json::array();
  for (const auto& t : rows) items.push_back(TaskJson(t));
  return Json{{"items", std::move(items)}, {"total", total}, {"limit", query.limit}, {"offset", query.offset}};
}

Result<Json> OptimizationService::Cancel(const std::string& id) {
  ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
  std::shared_ptr<Live> live = FindLive(id);
  if (!live) {
    return Status::FailedPrecondition("optimization " + id + " has already ended (" + rec.status + ")",
                                      Json{{"status", rec.status}});
  }
  {
    std::lock_guard<std::mutex> lock(live->mu);
    if (live->retired || IsTerminal(live->progress->state())) {
      return Status::FailedPrecondition("optimization " + id + " has already ended (" + live->rec.status + ")",
                                        Json{{"status", live->rec.status}});
    }
    ApplyUpdate(*live, live->progress->Cancel(), "cancel");
    live->stop_requested = true;
    live->stop_flag = true;
    const Summary s = live->progress->summary().Snapshot();
    LogEvent("optimization canceled", {{"optimization_id", id},
                                       {"finished", s.finished},
                                       {"running", s.running},
                                       {"queued", s.queued},
                                       {"best_score", s.best_score ? Json(*s.best_score) : Json(nullptr)}});
    if (metrics_) metrics_->Increment("alphalab_optimizations_stopped_total", {{"status", "canceled"}});
  }
  Wake(id);
  {
    // Wait (bounded) until the pending tasks are canceled and the running ones stopped.
    std::unique_lock<std::mutex> lock(live->mu);
    live->cv.wait_for(lock, std::chrono::seconds(15),
                      [&] { return !live->stop_requested && live->index_of.empty() && !live->dirty; });
  }
  return Get(id);
}

Result<Json> OptimizationService::RetryFailed(const std::string& id) {
  ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
  (void)rec;
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<Live> live, LoadLive(id));
    std::unique_lock<std::mutex> lock(live->mu);
    if (live->retired) continue;
    FlushTaskWritesLocked(*live);  // failed tasks the runner reported are in the store
    OptimizationTaskQuery q;
    q.status = "failed";
    q.validation = false;
    q.limit = kPage;
    std::vector<int64_t> failed;
    for (int64_t offset = 0;; offset += kPage) {
      q.offset = offset;
      ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> rows, store_.ListTasks(id, q));
      for (const auto& t : rows) failed.push_back(t.index);
      if (static_cast<int>(rows.size()) < kPage) break;
    }
    if (failed.empty()) {
      return Status::FailedPrecondition("optimization " + id + " has no failed task", Json{{"status", live->rec.status}});
    }
    ASSIGN_OR_RETURN(int64_t requeued, store_.RequeueFailed(id));
    for (int64_t idx : failed) {
      Status st = live->progress->TaskRequeued(Key(idx));
      if (!st.ok()) spdlog::warn("{}", DumpJson(Json{{"msg", "requeue"}, {"error", st.ToString()}}));
      live->job_of.erase(idx);
    }
    ReopenLocked(*live, "retry-failed");
    LogEvent("optimization retry-failed", {{"optimization_id", id}, {"requeued", requeued}});
    lock.unlock();
    Wake(id);
    ASSIGN_OR_RETURN(Json opt, Get(id));
    return Json{{"optimization", std::move(opt)}, {"requeued", requeued}};
  }
  return Status::Unavailable("optimization " + id + " is busy; try again");
}

Result<Json> OptimizationService::Extend(const std::string& id, const Json& body) {
  if (!body.is_object()) return FieldError("request", "must be a JSON object");
  RETURN_IF_ERROR(CheckKnownKeys(body, {"param_space", "sampler"}));
  const bool has_space = body.contains("param_space") && !body["param_space"].is_null();
  const bool has_sampler = body.contains("sampler") && !body["sampler"].is_null();
  if (!has_space && !has_sampler) return FieldError("param_space", "give a param_space and/or a sampler to extend with");
  ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
  Json doc = rec.request;
  if (has_space) doc["param_space"] = body["param_space"];
  if (has_sampler) doc["sampler"] = body["sampler"];
  ASSIGN_OR_RETURN(OptimizationRequest req, ParseOptimizationRequest(doc, options_.limits));
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<Live> live, LoadLive(id));
    std::unique_lock<std::mutex> lock(live->mu);
    if (live->retired) continue;
    FlushTaskWritesLocked(*live);
    ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> stored, AllTasks(id));
    ExpandOptions expand;
    expand.max_tasks = options_.limits.max_tasks;
    for (const auto& t : stored) expand.existing.push_back(t.params);
    expand.first_index = live->max_index + 1;
    ASSIGN_OR_RETURN(std::vector<TaskParams> expanded, Expand(req.param_space, req.sampler, expand));
    if (expanded.empty()) {
      return FieldError(has_space ? "param_space" : "sampler", "adds no combination the optimization does not have");
    }
    RETURN_IF_ERROR(CheckTaskOverrides(expanded));
    std::vector<OptimizationTaskRecord> tasks = TaskRecords(std::move(expanded));
    ASSIGN_OR_RETURN(int64_t added, store_.AddTasks(id, tasks));
    if (added != static_cast<int64_t>(tasks.size())) {
      spdlog::warn("{}", DumpJson(Json{{"msg", "optimization extend: the store skipped tasks"},
                                       {"optimization_id", id}, {"given", tasks.size()}, {"added", added}}));
    }
    // The store numbers added tasks after the highest stored index, in input order.
    ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> after, AllTasks(id));
    for (const auto& t : after) {
      if (t.index <= live->max_index) continue;
      Status st = live->progress->AddTask(Key(t.index), t.index, t.params);
      if (!st.ok()) return st;
    }
    for (const auto& t : after) live->max_index = std::max(live->max_index, t.index);
    ReopenLocked(*live, "extend");
    LogEvent("optimization extended", {{"optimization_id", id}, {"added", added}});
    lock.unlock();
    Wake(id);
    ASSIGN_OR_RETURN(Json opt, Get(id));
    return Json{{"optimization", std::move(opt)}, {"added", added}};
  }
  return Status::Unavailable("optimization " + id + " is busy; try again");
}

Result<ExportArchive> OptimizationService::Export(const std::string& id) {
  const auto t0 = std::chrono::steady_clock::now();
  size_t task_count = 0;
  size_t artifact_count = 0;
  auto build = [&]() -> Result<ExportArchive> {
    ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
    ASSIGN_OR_RETURN(OptimizationRequest req, ParseStored(rec));
    ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> stored, AllTasks(id));
    ExportInput input;
    input.optimization_id = rec.id;
    input.name = rec.name;
    input.status = rec.status;
    if (rec.summary.contains("stop_reason") && rec.summary["stop_reason"].is_string()) {
      input.stop_reason = rec.summary["stop_reason"].get<std::string>();
    }
    input.objective = req.objective;
    for (const auto& c : req.constraints) input.constraints.push_back(c.text);
    input.summary = SummaryFromJson(rec.summary);
    for (const auto& t : stored) {
      TaskRecord r;
      r.task_id = t.job_id.value_or("");
      r.index = t.index;
      r.params = t.params;
      r.status = t.status == "pending" ? TaskState::kQueued : StoredToTaskState(t.status);
      if (t.ranked) r.score = t.score;
      r.reason = t.reason;
      r.metrics = NumericMetrics(t.metrics);
      const auto rsid = ResultSummaryId(t.metrics);
      r.result_summary_id = rsid.value_or("");
      r.result_paths = ResultPaths(t.metrics);
      input.tasks.push_back(std::move(r));
    }
    task_count = input.tasks.size();
    std::vector<ZipEntry> entries = ExportEntries(input);
    // The Top-N tasks' output files when small (references are in manifest.jsonl and top_n.json).
    uint64_t total_bytes = 0;
    for (const TopEntry& top : input.summary.top_n) {
      if (top.result_summary_id.empty() || !IsSafeIdentifier(top.result_summary_id)) continue;
      const fs::path dir = ws_.root() / "backtests" / top.result_summary_id;
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) continue;
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.is_regular_file(ec) && !e.is_symlink(ec)) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        const uint64_t size = fs::file_size(f, ec);
        if (ec || size > options_.export_artifact_max_bytes ||
            total_bytes + size > options_.export_artifacts_total_bytes) {
          continue;
        }
        auto text = ReadFile(f);
        if (!text.ok()) continue;
        total_bytes += size;
        ++artifact_count;
        entries.push_back(ZipEntry{"artifacts/" + top.result_summary_id + "/" + f.filename().string(), std::move(*text)});
      }
    }
    ASSIGN_OR_RETURN(std::string bytes, BuildZip(entries));
    return ExportArchive{rec.id + ".zip", std::move(bytes)};
  };
  Result<ExportArchive> out = build();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (metrics_) metrics_->Observe("alphalab_optimization_export_seconds", seconds);
  if (!out.ok()) {
    if (metrics_) {
      metrics_->Increment("alphalab_optimization_export_failures_total",
                          {{"code", std::string(StatusCodeName(out.status().code()))}});
    }
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization export failed"}, {"optimization_id", id},
                                      {"seconds", seconds}, {"error", out.status().ToString()}}));
    return out;
  }
  LogEvent("optimization export", {{"optimization_id", id},
                                   {"tasks", task_count},
                                   {"artifacts", artifact_count},
                                   {"bytes", out->bytes.size()},
                                   {"seconds", seconds}});
  return out;
}

}  // namespace alphalab::optimize

#include "optimize/optimization_service.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unordered_set>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/ids.hpp"
#include "core/job_result.hpp"
#include "jobs/job_results.hpp"
#include "optimize/backtest_task_check.hpp"
#include "optimize/deflated_sharpe.hpp"
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

// A task's sharpe as the report reads it from the stored row: a finite number, else none (a
// NaN or infinite value is stored as null).
std::optional<double> FiniteSharpe(const Json& metrics) {
  if (!metrics.is_object()) return std::nullopt;
  auto it = metrics.find("sharpe");
  if (it == metrics.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
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

// The train run of a model path "runs/<run_id>/..." (the registry's rule: a run folder is
// named by its run id).
std::optional<std::string> ModelRunIdFromPath(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  const std::string& p = value.get_ref<const std::string&>();
  if (p.rfind("runs/", 0) != 0) return std::nullopt;
  const size_t slash = p.find('/', 5);
  if (slash == std::string::npos || slash == 5) return std::nullopt;
  return p.substr(5, slash - 5);
}

// The key of a request document's models dimension ("" when none).
std::string ModelsKeyOf(const Json& request) {
  if (!request.is_object() || !request.contains("param_space") || !request["param_space"].is_object()) return "";
  for (const auto& [k, v] : request["param_space"].items()) {
    if (v.is_object() && v.contains("models")) return k;
  }
  return "";
}

Json ModelRunIdJson(const Json& params, const std::string& models_key) {
  if (models_key.empty() || !params.is_object() || !params.contains(models_key)) return nullptr;
  const auto id = ModelRunIdFromPath(params[models_key]);
  return id ? Json(*id) : Json(nullptr);
}

Json TaskJson(const OptimizationTaskRecord& t, const std::string& models_key = "") {
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
              {"ended_at", TimeJson(t.ended_at)},
              {"model_run_id", ModelRunIdJson(t.params, models_key)}};
}

// Every Top-N row carries oos_score, oos_result_summary_id, model_run_id and metrics (a summary
// stored before they existed gets null / {}).
void NormalizeTopEntries(Json& summary, const std::string& models_key) {
  if (!summary.contains("top_n") || !summary["top_n"].is_array()) return;
  for (Json& e : summary["top_n"]) {
    if (!e.is_object()) continue;
    if (!e.contains("oos_score")) e["oos_score"] = nullptr;
    if (!e.contains("oos_result_summary_id")) e["oos_result_summary_id"] = nullptr;
    if (!e.contains("model_run_id")) e["model_run_id"] = ModelRunIdJson(e.value("params", Json::object()), models_key);
    if (!e.contains("metrics")) e["metrics"] = Json::object();
  }
}

std::string Num(const Json& v, int precision = 4) {
  if (!v.is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v.get<double>());
  return buf;
}

// report.md of an OptimizationReport.
std::string ReportMarkdown(const Json& r, const std::string& id) {
  std::string md = "# Optimization report: " + r.value("name", std::string()) + "\n\n";
  md += "- id: `" + id + "`\n- project: " + (r.value("project", std::string()).empty() ? std::string("-") : r["project"].get<std::string>()) + "\n";
  md += "- status: " + r.value("status", std::string()) + "\n";
  md += "- objective: " + r["objective"].value("direction", std::string()) + " " + r["objective"].value("metric", std::string()) + "\n";
  std::string cs;
  for (const auto& c : r["constraints"]) cs += (cs.empty() ? "" : ", ") + std::string("`") + c.get<std::string>() + "`";
  md += "- constraints: " + (cs.empty() ? std::string("none") : cs) + "\n\n";
  const Json& c = r["counts"];
  md += "## Counts\n\n| tasks | models | succeeded | failed | canceled | passing the constraints |\n|---|---|---|---|---|---|\n";
  md += "| " + std::to_string(c.value("total", 0)) + " | " + std::to_string(c.value("models", 0)) + " | " +
        std::to_string(c.value("succeeded", 0)) + " | " + std::to_string(c.value("failed", 0)) + " | " +
        std::to_string(c.value("canceled", 0)) + " | " + std::to_string(c.value("passing", 0)) + " |\n\n";
  md += "## Top 3\n\n";
  if (r["top"].empty()) {
    md += "No task passed the constraints.\n\n";
  } else {
    md += "| rank | train run | params | score | cagr | max_drawdown | sharpe | oos score | backtest |\n"
          "|---|---|---|---|---|---|---|---|---|\n";
    int rank = 0;
    for (const Json& e : r["top"]) {
      const Json& m = e.contains("metrics") ? e["metrics"] : Json::object();
      const std::string bt = e.value("result_summary_id", std::string());
      const Json run = e.value("model_run_id", Json());
      md += "| " + std::to_string(++rank) + " | " +
            (run.is_string() ? "[" + run.get<std::string>() + "](/runs/" + run.get<std::string>() + ")" : std::string("-")) +
            " | `" + DumpJson(e.value("params", Json::object())) + "` | " + Num(e.value("score", Json())) + " | " +
            Num(m.value("cagr", Json())) + " | " + Num(m.value("max_drawdown", Json())) + " | " +
            Num(m.value("sharpe", Json())) + " | " + Num(e.value("oos_score", Json())) + " | " +
            (bt.empty() ? std::string("-") : "[" + bt + "](/backtests/" + bt + ") (`backtests/" + bt + "/summary.json`)") +
            " |\n";
    }
    md += "\n";
  }
  md += "## Deflated Sharpe\n\n";
  const Json& d = r["deflated_sharpe"];
  if (d.is_object()) {
    md += "DSR " + Num(d["value"]) + " (" + d.value("reading", std::string()) + "): best per-period Sharpe " +
          Num(d["best_sharpe"], 5) + " against " + Num(d["expected_max_sharpe"], 5) + " expected from the best of " +
          std::to_string(d.value("trials", 0)) + " unskilled trials (variance of their Sharpe ratios " +
          Num(d["sharpe_variance"], 8) + "), " + std::to_string(d.value("observations", 0)) +
          " daily returns, skewness " + Num(d["skewness"]) + ", kurtosis " + Num(d["kurtosis"]) + ".\n\n";
  } else {
    md += "Not available (it needs two ranked tasks with a Sharpe ratio and the best one's equity.csv).\n\n";
  }
  md += "Files: `" + r["files"].value("manifest", std::string()) + "` (one line per task start and end), `" +
        r["files"].value("report_json", std::string()) + "`.\n";
  return md;
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
  return TaskJobParams(base_params, task_params, "");
}

Json TaskJobParams(const Json& base_params, const Json& task_params, const std::string& models_key) {
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
  for (const auto& [k, v] : task_params.items()) {
    // The models dimension's value is the job's model_path, as "backtest this model" passes it:
    // the backtest then takes the model's dataset, tickers and test period (docs/engine.md).
    if (!models_key.empty() && k == models_key) {
      params["model_path"] = v;
      continue;
    }
    overrides.push_back(OverrideText(k, v));
  }
  params["overrides"] = std::move(overrides);
  return params;
}

static Json TaskJobParamsFor(const OptimizationRequest& req, const std::string& models_key, const Json& task_params,
                      bool validation) {
  Json base = req.base_params.is_object() ? req.base_params : Json::object();
  if (req.holdout_start) {
    if (validation) {
      // The holdout re-run trades from the date; the bars before it are the engine's warm-up.
      base["start"] = *req.holdout_start;
      base.erase("end");
    } else {
      // The search sees data before the date only.
      const auto day = ParseDate(*req.holdout_start);
      const std::string before = day.ok() ? FormatDate(*day - 1) : *req.holdout_start;
      const bool earlier = base.contains("end") && base["end"].is_string() && base["end"].get<std::string>() < before;
      if (!earlier) base["end"] = before;
    }
  }
  return TaskJobParams(base, task_params, models_key);
}

namespace {

// Every task value must make an override item the jobs API accepts (a 400 on its axis).
Status CheckTaskOverrides(const std::vector<TaskParams>& tasks, const std::string& models_key) {
  for (const auto& t : tasks) {
    for (const auto& [k, v] : t.params.items()) {
      if (k == models_key) continue;  // the job's model_path, not an override
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
  std::string models_key;                          // the models dimension's key ("" when none)
  std::unordered_map<int64_t, Json> top_metrics;   // numeric metrics of ranked tasks (pruned to the Top-N)
  // Every ranked search task's sharpe (nullopt: none, or not a finite number), by index: the
  // report and the deflated Sharpe at the end without reading every task back (TallyOfLocked).
  std::map<int64_t, std::optional<double>> ranked_sharpes;
  std::unique_ptr<std::ofstream> manifest;         // reports/optimizations/<id>/manifest.jsonl
  bool manifest_failed = false;
  // Lines already in manifest.jsonl (ManifestKey), read when this process first opens it: a
  // resumed optimization never writes a task's start or end line twice.
  std::unordered_set<std::string> manifest_seen;
  bool manifest_buffered = false;  // lines written but not yet flushed (runner path)
  // Holdout validation (request.validation): the Top-N re-run from holdout_start.
  struct ValidationRun {
    int64_t index = 0;         // the search task's index
    int64_t task_index = -1;   // the validation task's own index
    Json params;
    std::string status = "pending";
    std::optional<std::string> job_id;
    std::optional<double> oos_score;
    Json metrics = Json::object();
    std::optional<std::string> result_summary_id;
    std::string reason;
    std::string stored = "running";  // the stored status while in flight (queued or running)
    std::optional<TimePoint> started_at;
    std::optional<TimePoint> ended_at;
  };
  std::string validation_status = "pending";
  std::vector<ValidationRun> validation_runs;
  std::unordered_map<std::string, size_t> validation_of;  // job id -> position, re-runs in flight
  // The re-runs have all ended but the report is not written yet: the stored summary keeps
  // validation.status "running" until it is, so a restart in between writes it.
  bool validation_report_pending = false;
  Json deflated_sharpe;                                   // null until the optimization ended
  bool finished = false;                                  // FinishLocked ran
  // What GET .../status answers while the optimization is live: the status and summary as last
  // stored (set only after the store took them), under their own mutex so that a poll never
  // waits for live.mu (held while a chunk's task rows are written or the report is built).
  // Lock order: mu, then status_mu.
  std::mutex status_mu;
  std::string published_status;
  Json published_summary;
  bool published = false;
  void Publish() {
    std::lock_guard<std::mutex> lock(status_mu);
    published_status = rec.status;
    published_summary = rec.summary;
    published = true;
  }
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
    q.statuses = {status};
    q.limit = kPage;
    for (int64_t offset = 0;; offset += kPage) {
      q.offset = offset;
      ASSIGN_OR_RETURN(std::vector<OptimizationRecord> rows, store_.List(q));
      const size_t n = rows.size();
      for (auto& r : rows) unfinished.push_back(std::move(r));
      if (static_cast<int>(n) < kPage) break;
    }
  }
  // Searches that ended but whose holdout re-runs (or report) did not: resumed the same way.
  if (auto open = store_.ListOpenValidations(); open.ok()) {
    for (const std::string& id : *open) {
      auto rec = store_.Get(id);
      if (rec.ok()) unfinished.push_back(std::move(*rec));
    }
  } else {
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization holdout resume: not listed"},
                                      {"error", open.status().ToString()}}));
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
  limits.resolve_models = nullptr;  // the tasks exist: the registry is not asked again
  limits.allow_unresolved_models = true;
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
  live->Publish();  // as stored
  ASSIGN_OR_RETURN(live->req, ParseStored(rec));
  const auto state = ParseOptimizationState(rec.status);
  if (!state) return Status::Internal("optimization " + rec.id + " has an unknown status '" + rec.status + "'");
  live->progress = std::make_unique<OptimizationProgress>(live->req.objective, live->req.constraints,
                                                          live->req.early_stop, static_cast<size_t>(live->req.top_n),
                                                          *state);
  live->max_inflight = MaxInflightOf(live->req);
  live->models_key = live->req.param_space.ModelsKey();
  live->use_runner = runner_ && live->models_key.empty() && runner_->Accepts(live->req.job_type, live->req.base_params);
  live->last_persist = clock_.Now();
  ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> tasks, AllTasks(rec.id));
  for (const auto& t : tasks) {
    if (t.ranked) {
      live->top_metrics[t.index] = Json(NumericMetrics(t.metrics));
      live->ranked_sharpes[t.index] = FiniteSharpe(t.metrics);
    }
  }
  // Holdout re-runs: the stored validation tasks are the truth (enumerated and stored when the
  // search ended, in Top-N order); the summary's validation block gives the phase's status.
  if (rec.summary.is_object() && rec.summary.contains("validation") && rec.summary["validation"].is_object()) {
    const Json& v = rec.summary["validation"];
    live->validation_status = v.value("status", std::string("pending"));
    if (v.contains("runs") && v["runs"].is_array()) {
      for (const Json& r : v["runs"]) {
        Live::ValidationRun run;
        run.index = r.value("index", int64_t{0});
        run.status = r.value("status", std::string("failed"));
        if (r.contains("job_id") && r["job_id"].is_string()) run.job_id = r["job_id"].get<std::string>();
        if (r.contains("oos_score") && r["oos_score"].is_number()) run.oos_score = r["oos_score"].get<double>();
        if (r.contains("metrics") && r["metrics"].is_object()) run.metrics = r["metrics"];
        if (r.contains("result_summary_id") && r["result_summary_id"].is_string()) {
          run.result_summary_id = r["result_summary_id"].get<std::string>();
        }
        if (r.contains("reason") && r["reason"].is_string()) run.reason = r["reason"].get<std::string>();
        live->validation_runs.push_back(std::move(run));
      }
    }
  }
  if (live->req.holdout_start) {
    OptimizationTaskQuery vq;
    vq.validation = true;
    vq.limit = kPage;  // top_n <= 1000
    ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> vtasks, store_.ListTasks(rec.id, vq));
    if (!vtasks.empty()) {
      std::unordered_map<std::string, int64_t> search_index;
      for (const auto& t : tasks) search_index[t.params_key] = t.index;
      live->validation_runs.clear();
      for (const auto& vt : vtasks) {
        Live::ValidationRun run;
        auto si = search_index.find(vt.params_key);
        run.index = si == search_index.end() ? -1 : si->second;
        run.task_index = vt.index;
        run.params = vt.params;
        run.job_id = vt.job_id;
        run.started_at = vt.started_at;
        run.ended_at = vt.ended_at;
        if (vt.status == "pending") {
          run.status = "pending";
        } else if (vt.status == "queued" || vt.status == "running") {
          run.status = "running";
          run.stored = vt.status;
        } else {
          run.status = vt.status;
          run.reason = vt.reason;
          run.metrics = Json(NumericMetrics(vt.metrics));
          run.oos_score = vt.score;
          run.result_summary_id = ResultSummaryId(vt.metrics);
        }
        live->validation_runs.push_back(std::move(run));
      }
      if (live->validation_status == "pending") live->validation_status = "running";
    } else if (live->validation_status == "running" && live->validation_runs.empty()) {
      live->validation_status = "pending";  // ended before any re-run was stored: decided again
    }
    for (auto& run : live->validation_runs) {
      if (run.task_index < 0 && run.status != "succeeded" && run.status != "failed" && run.status != "canceled") {
        run.status = "failed";
        run.reason = "the re-run's task was not stored";
      }
    }
  }
  live->deflated_sharpe = rec.summary.is_object() && rec.summary.contains("deflated_sharpe")
                              ? rec.summary["deflated_sharpe"] : Json(nullptr);
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
  for (const auto& run : live.validation_runs) {
    if (run.job_id) known.insert(*run.job_id);
  }
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
      const Json p = JobParamsOf(live, t.params, false);
      pending_by_overrides[DumpJson(Json::array({p["overrides"], p.value("model_path", Json())}))] = t.index;
    }
    // Pending holdout re-runs (a crash between their Submit and MarkTaskQueued): their job
    // starts on holdout_start, which no search task's job does.
    std::unordered_map<std::string, size_t> pending_reruns;
    for (size_t pos = 0; pos < live.validation_runs.size(); ++pos) {
      const auto& run = live.validation_runs[pos];
      if (run.status != "pending" || run.task_index < 0) continue;
      const Json p = JobParamsOf(live, run.params, true);
      pending_reruns[DumpJson(Json::array({p["overrides"], p.value("model_path", Json())}))] = pos;
    }
    for (const JobRecord& j : orphans) {
      const Json overrides = j.params.contains("overrides") ? j.params["overrides"] : Json::array();
      if (live.req.holdout_start && j.params.is_object() && j.params.value("start", Json()) == Json(*live.req.holdout_start)) {
        auto r = pending_reruns.find(DumpJson(Json::array({overrides, j.params.value("model_path", Json())})));
        if (r == pending_reruns.end()) continue;
        auto& run = live.validation_runs[r->second];
        pending_reruns.erase(r);
        Status st = store_.MarkTaskQueued(id, run.task_index, j.job_id.str());
        if (!st.ok()) {
          spdlog::warn("{}", DumpJson(Json{{"msg", "optimization resume: holdout re-run job not linked"},
                                           {"optimization_id", id}, {"job_id", j.job_id.str()},
                                           {"error", st.ToString()}}));
          continue;
        }
        run.status = "running";
        run.stored = "queued";
        run.job_id = j.job_id.str();
        run.started_at = j.started_at;
        live.dirty = true;
        LogEvent("optimization resume: linked holdout re-run", {{"optimization_id", id}, {"index", run.index},
                                                                {"job_id", j.job_id.str()}});
        continue;
      }
      auto it = pending_by_overrides.find(DumpJson(Json::array({overrides, j.params.value("model_path", Json())})));
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
  // 2. manifest.jsonl: every task that got a job has its start line and, once ended, its end
  // line (a crash may have lost lines written after their rows; a linked job never had one).
  // Lines already there are not written again.
  if (auto all = AllTasks(id); all.ok()) {
    for (const auto& t : *all) {
      if (!t.job_id || t.status == "pending") continue;
      Json line{{"event", "start"},
                {"time", FormatIso8601(t.started_at.value_or(clock_.Now()))},
                {"index", t.index},
                {"task_id", *t.job_id},
                {"validation", false},
                {"train_run_id", ModelRunIdJson(t.params, live.models_key)},
                {"backtest_id", nullptr},
                {"params", t.params},
                {"status", "running"},
                {"score", nullptr},
                {"reason", nullptr},
                {"metrics", Json::object()}};
      AppendManifestLocked(live, line, /*flush=*/false);
      if (t.status != "succeeded" && t.status != "failed" && t.status != "canceled") continue;
      line["event"] = "end";
      line["time"] = FormatIso8601(t.ended_at.value_or(clock_.Now()));
      const auto rsid = ResultSummaryId(t.metrics);
      line["backtest_id"] = rsid ? Json(*rsid) : Json(nullptr);
      line["status"] = t.status;
      line["score"] = t.ranked && t.score ? Json(*t.score) : Json(nullptr);
      line["reason"] = t.reason.empty() ? Json(nullptr) : Json(t.reason);
      line["metrics"] = Json(NumericMetrics(t.metrics));
      AppendManifestLocked(live, line, /*flush=*/false);
    }
    FlushManifestLocked(live);
  }
  // 3. Tasks in flight whose job has ended (or is gone).
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
  // 4. Holdout re-runs in flight: ended while no server watched (ended now), gone (failed), or
  // still queued/running (their end comes through the listener). Each has its manifest lines.
  for (size_t pos = 0; pos < live.validation_runs.size(); ++pos) {
    auto& run = live.validation_runs[pos];
    if (!run.job_id || run.task_index < 0) continue;
    AppendManifestLocked(live, ValidationManifestLine(live, pos, "start"));
    if (run.status != "running") {
      if (run.status == "succeeded" || run.status == "failed" || run.status == "canceled") {
        AppendManifestLocked(live, ValidationManifestLine(live, pos, "end"));
      }
      continue;
    }
    auto job = jobs_.Get(JobId(*run.job_id));
    if (job.ok() && IsTerminal(job->status)) {
      EndValidationTaskLocked(live, static_cast<int64_t>(pos), *job);
    } else if (!job.ok() && job.status().IsNotFound()) {
      JobRecord lost;
      lost.job_id = JobId(*run.job_id);
      lost.job_type = live.req.job_type;
      lost.status = JobState::kFailed;
      lost.error_message = "the re-run's job " + *run.job_id + " no longer exists";
      EndValidationTaskLocked(live, static_cast<int64_t>(pos), lost);
    } else {
      live.validation_of[*run.job_id] = pos;
    }
  }
  // Replay may have changed the state (every task had ended, or the policy fired).
  const std::string now_state(OptimizationStateName(live.progress->state()));
  if (now_state != live.rec.status) RETURN_IF_ERROR(PersistState(live, now_state));
  // A terminal search still stops what is left of it; once its holdout re-runs are stored
  // (validation running) nothing of the search is left, and the re-runs must not be canceled.
  if (IsTerminal(live.progress->state()) && live.validation_status != "running") live.stop_requested = true;
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
    const int64_t index = e["index"].get<int64_t>();
    auto it = live.job_of.find(index);
    e["task_id"] = it == live.job_of.end() ? std::string() : it->second;
    auto m = live.top_metrics.find(index);
    e["metrics"] = m == live.top_metrics.end() ? Json::object() : m->second;
    e["model_run_id"] = ModelRunIdJson(e["params"], live.models_key);
    e["oos_score"] = nullptr;
    e["oos_result_summary_id"] = nullptr;
    for (const auto& run : live.validation_runs) {
      if (run.index != index) continue;
      if (run.oos_score) e["oos_score"] = *run.oos_score;
      if (run.result_summary_id) e["oos_result_summary_id"] = *run.result_summary_id;
    }
  }
  if (live.req.holdout_start) {
    Json runs = Json::array();
    for (const auto& run : live.validation_runs) {
      auto task = live.job_of.find(run.index);
      runs.push_back(Json{{"index", run.index},
                          {"task_id", task == live.job_of.end() ? std::string() : task->second},
                          {"job_id", run.job_id ? Json(*run.job_id) : Json(nullptr)},
                          {"status", run.status},
                          {"oos_score", run.oos_score ? Json(*run.oos_score) : Json(nullptr)},
                          {"metrics", run.metrics},
                          {"result_summary_id", run.result_summary_id ? Json(*run.result_summary_id) : Json(nullptr)},
                          {"reason", run.reason.empty() ? Json(nullptr) : Json(run.reason)}});
    }
    // Until the report is written the phase is "running" in the store: a restart then
    // resumes it and writes the report (ListOpenValidations).
    j["validation"] = Json{{"holdout_start", *live.req.holdout_start},
                           {"status", live.validation_report_pending ? std::string("running") : live.validation_status},
                           {"runs", std::move(runs)}};
  } else {
    j["validation"] = nullptr;
  }
  j["deflated_sharpe"] = live.deflated_sharpe;
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
  // The manifest's lines of the runner path follow the rows they describe.
  if (live.task_writes.empty()) {
    FlushManifestLocked(live);
    return;
  }
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
  FlushManifestLocked(live);
}

void OptimizationService::PersistLocked(Live& live, bool force) {
  if (!live.dirty && live.task_writes.empty()) return;
  const TimePoint now = clock_.Now();
  if (!force && now - live.last_persist < std::chrono::milliseconds(100)) return;
  // The tasks first: a reader that sees the summary's counts finds the task rows behind them.
  FlushTaskWritesLocked(live);
  if (!live.dirty) return;
  if (live.top_metrics.size() > 4 * static_cast<size_t>(live.req.top_n) + 16) {
    std::unordered_map<int64_t, Json> keep;
    for (const auto& e : live.progress->summary().Snapshot().top_n) {
      auto it = live.top_metrics.find(e.index);
      if (it != live.top_metrics.end()) keep.emplace(e.index, std::move(it->second));
    }
    live.top_metrics.swap(keep);
  }
  live.rec.summary = SummaryJsonLocked(live);
  Status st = store_.UpdateSummary(live.rec.id, live.rec.summary, now);
  if (!st.ok()) {
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization summary not persisted"},
                                      {"optimization_id", live.rec.id}, {"error", st.ToString()}}));
    return;
  }
  live.dirty = false;
  live.last_persist = now;
  live.Publish();
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
  live.Publish();
  return Status::Ok();
}

void OptimizationService::ReopenLocked(Live& live, const char* context) {
  // Tasks were added or requeued: an ended optimization goes back to queued and the driver
  // takes its pending tasks again.
  if (IsTerminal(live.progress->state())) ApplyUpdate(live, live.progress->Reopen(), context);
  live.finished = false;  // the report is written again when it ends
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
  if (next == OptimizationState::kEarlyStopped && !live.use_runner) {
    // Process tasks still pending in the store end canceled before the terminal state is
    // stored (PersistState writes the summary first): a reader that sees `early-stopped` sees
    // their counts too, never the state with the pending tasks not yet canceled. (StopTasks
    // then stops the running ones; its own CancelPendingLocked finds nothing left.) The fast
    // path's pending rows may be tasks of the chunk still running: they are canceled after
    // the chunk, as before.
    CancelPendingLocked(live);
  }
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
  // Notified under the lock: Shutdown() takes it to set stop_, so the destructor cannot destroy
  // work_cv_ while a job-service thread is still inside notify_one (a TSan data race,
  // OptimizationServiceTest.* under `make test-tsan`).
  std::lock_guard<std::mutex> lock(work_mu_);
  if (stop_) return;
  events_.push_back(job);
  work_cv_.notify_one();
}

void OptimizationService::HandleJobEnd(const JobRecord& job) {
  auto live = FindLive(*job.parent_id);
  if (!live) return;  // an ended optimization: nothing in flight, absorbed
  std::lock_guard<std::mutex> lock(live->mu);
  if (auto v = live->validation_of.find(job.job_id.str()); v != live->validation_of.end()) {
    EndValidationTaskLocked(*live, static_cast<int64_t>(v->second), job);
    return;
  }
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
  if (upd.ranked.value_or(false) && upd.metrics) {
    live.top_metrics[index] = Json(NumericMetrics(*upd.metrics));
    live.ranked_sharpes[index] = FiniteSharpe(*upd.metrics);
  }
  {
    // Both paths: the runner path's lines are buffered with its deferred task writes.
    Json params = Json::object();
    if (auto t = live.progress->summary().ParamsOf(key)) params = *t;
    const Json metrics = upd.metrics ? Json(NumericMetrics(*upd.metrics)) : Json::object();
    AppendManifestLocked(live, Json{{"event", "end"},
                                    {"time", FormatIso8601(upd.ended_at.value_or(clock_.Now()))},
                                    {"index", index},
                                    {"task_id", job_id},
                                    {"validation", false},
                                    {"train_run_id", ModelRunIdJson(params, live.models_key)},
                                    {"backtest_id", upd.metrics && ResultSummaryId(*upd.metrics) ? Json(*ResultSummaryId(*upd.metrics)) : Json(nullptr)},
                                    {"params", params},
                                    {"status", next},
                                    {"score", upd.score && upd.ranked.value_or(false) ? Json(*upd.score) : Json(nullptr)},
                                    {"reason", upd.reason && !upd.reason->empty() ? Json(*upd.reason) : Json(nullptr)},
                                    {"metrics", metrics}},
                        !live.defer_task_writes);
  }
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

void OptimizationService::ClearRetry(const std::string& opt_id) {
  if (!has_failures_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(work_mu_);
  retry_failures_.erase(opt_id);
  has_failures_.store(!retry_failures_.empty(), std::memory_order_release);
}

void OptimizationService::RetryLater(const std::string& opt_id) {
  std::lock_guard<std::mutex> lock(work_mu_);
  if (stop_) return;
  int& failures = retry_failures_[opt_id];
  has_failures_.store(true, std::memory_order_release);
  failures = std::min(failures + 1, 6);  // 50 ms .. 1.6 s, then 2 s
  const auto delay = std::min(std::chrono::milliseconds(50 << (failures - 1)), std::chrono::milliseconds(2000));
  retry_due_[opt_id] = std::chrono::steady_clock::now() + delay;
  work_cv_.notify_one();  // the driver recomputes when it next has to wake
}

void OptimizationService::DriverLoop() {
  std::unique_lock<std::mutex> wl(work_mu_);
  for (;;) {
    const auto ready = [&] { return stop_ || !events_.empty() || !wake_.empty(); };
    if (retry_due_.empty()) {
      work_cv_.wait(wl, ready);
    } else {
      auto first = retry_due_.begin()->second;
      for (const auto& [id, due] : retry_due_) first = std::min(first, due);
      work_cv_.wait_until(wl, first, ready);
    }
    if (stop_) break;
    // Due retries (after a failed read of pending tasks) are wakes now.
    const auto now = std::chrono::steady_clock::now();
    for (auto it = retry_due_.begin(); it != retry_due_.end();) {
      if (it->second <= now) {
        wake_.insert(it->first);
        it = retry_due_.erase(it);
      } else {
        ++it;
      }
    }
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
      if (IsTerminal(live->progress->state()) && live->index_of.empty() && !live->stop_requested) {
        // The search has ended: the holdout re-runs (if any), then the report.
        if (live->req.holdout_start && live->validation_status == "pending") StartValidationLocked(*live);
        PumpValidationLocked(*live);
        if (!ValidationActiveLocked(*live) && !live->finished) FinishLocked(*live);
      }
      PersistLocked(*live, true);
      if (IsTerminal(live->progress->state()) && live->index_of.empty() && !live->stop_requested &&
          !ValidationActiveLocked(*live)) {
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
  // Queued: ends at once; running: stopped (Slurm: one scancel for the arrays), then CANCELED.
  std::vector<JobId> ids(outstanding.begin(), outstanding.end());
  const auto results = jobs_.CancelMany(ids);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (!r.ok() && r.status().code() != StatusCode::kFailedPrecondition) {
      spdlog::warn("{}", DumpJson(Json{{"msg", "optimization task not stopped"}, {"optimization_id", live->rec.id},
                                       {"job_id", outstanding[i]}, {"error", r.status().ToString()}}));
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
  // An executor that keeps a batch's bound itself (Slurm: one job array, %max_inflight) gets
  // every pending task at once, a page at a time; otherwise max_inflight tasks are in flight.
  const bool arrays = jobs_.BatchesKeepTheirBound();
  const int64_t room = (arrays ? kPage : live.max_inflight) - static_cast<int64_t>(live.index_of.size());
  if (room <= 0) return;
  auto rows = store_.TasksToRun(live.rec.id, static_cast<int>(std::min<int64_t>(room, kPage)));
  if (!rows.ok()) {
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization tasks not read; trying again"},
                                      {"optimization_id", live.rec.id}, {"error", rows.status().ToString()}}));
    RetryLater(live.rec.id);
    return;
  }
  ClearRetry(live.rec.id);
  if (rows->empty()) {
    live.pending_exhausted = true;
    return;
  }
  SubmitOptions opts;
  opts.parent_id = live.rec.id;
  opts.checked_by_submitter = true;  // keys checked at creation; a refused value fails its task alone
  if (!live.rec.owner_id.empty()) opts.owner_id = live.rec.owner_id;
  if (!live.rec.project.empty()) opts.project = live.rec.project;
  opts.max_inflight = static_cast<int>(std::min<int64_t>(live.max_inflight, INT32_MAX));
  std::vector<Result<JobRecord>> batched;  // arrays: the page's jobs, submitted together
  if (arrays) {
    std::vector<Json> params;
    for (const auto& t : *rows) {
      if (!t.validation) params.push_back(JobParamsOf(live, t.params, false));
    }
    batched = jobs_.SubmitBatch(live.req.job_type, params, opts);
  }
  size_t next_batched = 0;
  for (const auto& t : *rows) {
    if (t.validation) continue;
    const std::string key = Key(t.index);
    auto job = arrays ? std::move(batched[next_batched++])
                      : jobs_.Submit(live.req.job_type, JobParamsOf(live, t.params, false), opts);
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
    AppendManifestLocked(live, Json{{"event", "start"},
                                    {"time", FormatIso8601(running.started_at.value_or(clock_.Now()))},
                                    {"index", t.index},
                                    {"task_id", job_id},
                                    {"validation", false},
                                    {"train_run_id", ModelRunIdJson(t.params, live.models_key)},
                                    {"backtest_id", nullptr},
                                    {"params", t.params},
                                    {"status", "running"},
                                    {"score", nullptr},
                                    {"reason", nullptr},
                                    {"metrics", Json::object()}});
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
      spdlog::error("{}", DumpJson(Json{{"msg", "optimization tasks not read; trying again"},
                                        {"optimization_id", live.rec.id}, {"error", rows.status().ToString()}}));
      RetryLater(live.rec.id);
      return;
    }
    ClearRetry(live.rec.id);
    if (rows->empty()) {
      live.pending_exhausted = true;
      return;
    }
    for (const auto& t : *rows) {
      if (!t.validation) batch.push_back(BatchTask{t.index, JobParamsOf(live, t.params, false)});
    }
    if (!live.rec.owner_id.empty()) owner = live.rec.owner_id;
    live.stop_flag = false;
    live.defer_task_writes = true;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const size_t calibrate_at =
      std::min(batch.size(), static_cast<size_t>(std::max(1, options_.runner_calibration_tasks)));
  size_t reported = 0;
  auto on_done = [this, &live, &reported, calibrate_at, t0](BatchTaskResult&& r) {
    std::lock_guard<std::mutex> lock(live.mu);
    if (++reported == calibrate_at && !live.runner_seconds_per_task) {
      // The runner keeps every core busy: its throughput, not a task's own duration, is what an
      // estimate needs (the tasks overlap).
      live.runner_seconds_per_task =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(reported);
      live.cv.notify_all();
    }
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
    // manifest.jsonl as on the process path: the task's start line, then (EndTask) its end line.
    {
      Json params = Json::object();
      if (auto p = live.progress->summary().ParamsOf(key)) params = *p;
      AppendManifestLocked(live, Json{{"event", "start"},
                                      {"time", FormatIso8601(r.job.started_at.value_or(clock_.Now()))},
                                      {"index", r.index},
                                      {"task_id", job_id},
                                      {"validation", false},
                                      {"train_run_id", ModelRunIdJson(params, live.models_key)},
                                      {"backtest_id", nullptr},
                                      {"params", params},
                                      {"status", "running"},
                                      {"score", nullptr},
                                      {"reason", nullptr},
                                      {"metrics", Json::object()}},
                           /*flush=*/false);
    }
    if (metrics_) metrics_->Increment("alphalab_optimization_tasks_total", {{"event", "submitted"}, {"path", "runner"}});
    ApplyUpdate(live, live.progress->TaskStarted(key), "runner start");
    EndTask(live, r.index, r.job, &r.result, r.result_summary_id);
    if (IsTerminal(live.progress->state()) && live.runner_seconds_per_task && runner_seconds_per_task_.load() <= 0) {
      // Ended before its call returns (which sets the figure): the next Create finds history.
      runner_seconds_per_task_.store(*live.runner_seconds_per_task);
    }
    PersistLocked(live, false);
  };
  auto should_stop = [this, &live] { return shutting_down_.load() || live.stop_flag.load(); };
  Status st = runner_->Run(live.rec.id, owner, live.rec.project, batch, on_done, should_stop);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (st.ok() && !batch.empty()) {
    // The history figure for the next optimizations: this whole call's throughput.
    const double per_task = wall / static_cast<double>(batch.size());
    runner_seconds_per_task_.store(per_task);
    std::lock_guard<std::mutex> lock(live.mu);
    if (!live.runner_seconds_per_task) {  // fewer tasks reported than calibrate_at (a stop)
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
  Json validation = summary.contains("validation") ? summary["validation"] : Json(nullptr);
  Json deflated = summary.contains("deflated_sharpe") ? summary["deflated_sharpe"] : Json(nullptr);
  summary.erase("validation");
  summary.erase("deflated_sharpe");
  if (validation.is_null() && rec.request.is_object() && rec.request.contains("validation") &&
      rec.request["validation"].is_object() && rec.request["validation"].contains("holdout_start")) {
    validation = Json{{"holdout_start", rec.request["validation"]["holdout_start"]}, {"status", "pending"},
                      {"runs", Json::array()}};
  }
  NormalizeTopEntries(summary, ModelsKeyOf(rec.request));
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
              {"updated_at", FormatIso8601(rec.updated_at)},
              {"validation", std::move(validation)},
              {"deflated_sharpe", std::move(deflated)}};
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
  const std::vector<double> durations = HistoryDurations(req.job_type, opt_id, slots);
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

Result<OptimizationService::Prepared> OptimizationService::Prepare(const Json& request) const {
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
  if (req.holdout_start && req.job_type != "backtest") {
    return FieldError("validation", "a holdout re-runs backtests: job_type must be 'backtest'");
  }
  const std::string models_key = req.param_space.ModelsKey();
  ExpandOptions expand;
  expand.max_tasks = options_.limits.max_tasks;
  ASSIGN_OR_RETURN(std::vector<TaskParams> expanded, Expand(req.param_space, req.sampler, expand));
  if (expanded.empty()) return FieldError("param_space", "gives no task");
  // The job parameters: every task's overrides follow the override grammar, and the first
  // task's parameters resolve in the job catalog (config file, tickers, ...).
  RETURN_IF_ERROR(CheckTaskOverrides(expanded, req.param_space.ModelsKey()));
  {
    auto resolved = catalog_.Resolve(req.job_type, TaskJobParamsFor(req, models_key, expanded.front().params, false));
    if (!resolved.ok()) {
      Json details = resolved.status().details().is_object() ? resolved.status().details() : Json::object();
      details["field"] = "base_params";
      return Status::InvalidArgument("base_params: " + resolved.status().message(), details);
    }
    // A backtest's param_space keys must be config keys it knows (values are judged per task).
    if (req.job_type == "backtest") {
      std::vector<std::string> keys;
      for (const auto& axis : req.param_space.axes) {
        if (axis.key != models_key) keys.push_back(axis.key);  // the model is the job's model_path
      }
      RETURN_IF_ERROR(CheckBacktestTaskKeys(ws_, resolved->params, keys));
    }
  }
  Prepared out;
  out.req = std::move(req);
  out.source_id = std::move(source_id);
  out.expanded = std::move(expanded);
  out.models_key = models_key;
  return out;
}

std::vector<double> OptimizationService::HistoryDurations(const std::string& job_type, const std::string& exclude_parent,
                                                          int64_t slots) {
  std::vector<double> durations;
  JobQuery q;
  q.statuses = {JobState::kSuccess};
  q.job_types = {job_type};
  q.limit = options_.history_samples + static_cast<int>(slots) + 1;
  auto rows = jobs_.List(q);
  if (rows.ok()) {
    for (const JobRecord& j : *rows) {
      if ((!exclude_parent.empty() && j.parent_id == exclude_parent) || !j.started_at || !j.ended_at || j.dry_run) {
        continue;
      }
      if (static_cast<int>(durations.size()) >= options_.history_samples) break;
      durations.push_back(SecondsBetween(*j.started_at, *j.ended_at));
    }
  }
  return durations;
}

Result<Json> OptimizationService::EstimateBeforeCreate(const Json& request) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(request));
  const uint64_t tasks = p.expanded.size();
  const bool use_runner = runner_ && p.models_key.empty() && runner_->Accepts(p.req.job_type, p.req.base_params);
  // History only (nothing runs). Fast path: the runner's last chunk (seconds per task over all
  // cores, slots 1) — a process task's own duration says little there. Process path: the last
  // ended jobs of the type over min(max_inflight, slots). With no history, basis "none".
  std::optional<Estimate> e;
  int64_t slots = 1;
  if (use_runner) {
    if (const double known = runner_seconds_per_task_.load(); known > 0) e = EstimateDuration(tasks, {known}, 1, "history");
  } else {
    slots = std::min<int64_t>(MaxInflightOf(p.req), std::max(1, jobs_.capacity()));
    e = EstimateDuration(tasks, HistoryDurations(p.req.job_type, "", slots), slots, "history");
  }
  if (e) return e->ToJson();
  return Json{{"tasks", tasks}, {"slots", slots},   {"median_task_seconds", nullptr},
              {"seconds", nullptr}, {"basis", "none"}, {"samples", 0}};
}

Result<Json> OptimizationService::Create(const Json& request, const std::optional<std::string>& owner_id) {
  ASSIGN_OR_RETURN(Prepared prepared, Prepare(request));
  OptimizationRequest req = std::move(prepared.req);
  std::optional<std::string> source_id = std::move(prepared.source_id);
  std::vector<TaskParams> expanded = std::move(prepared.expanded);
  const std::string models_key = prepared.models_key;
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
  live->models_key = models_key;
  // A models dimension runs one process per model (max_inflight bounds them exactly).
  live->use_runner = runner_ && models_key.empty() && runner_->Accepts(req.job_type, req.base_params);
  live->last_persist = now;
  rec.summary = SummaryJsonLocked(*live);
  live->rec = rec;
  RETURN_IF_ERROR(store_.Create(rec, tasks));
  live->Publish();  // as stored
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

namespace {

// GET .../status from a stored (or published, the same) status and summary.
Json StatusJson(const std::string& status, Json summary, const std::string& models_key) {
  if (!summary.is_object()) summary = Json::object();
  Json stop_reason = summary.contains("stop_reason") ? summary["stop_reason"] : Json(nullptr);
  summary.erase("stop_reason");
  summary.erase("validation");
  summary.erase("deflated_sharpe");
  NormalizeTopEntries(summary, models_key);
  return Json{{"status", status}, {"stop_reason", std::move(stop_reason)}, {"summary", std::move(summary)}};
}

}  // namespace

Result<Json> OptimizationService::StatusOf(const std::string& id) {
  // While queued or running, a live optimization answers from what it last stored, without a
  // read and parse of its row (the request and summary documents) per poll. A terminal status
  // is read from the store as before: what follows it (pending tasks canceled after an early
  // stop, the report) is written after the status itself.
  if (std::shared_ptr<Live> live = FindLive(id)) {
    std::string status;
    Json summary;
    {
      std::lock_guard<std::mutex> lock(live->status_mu);
      if (live->published && (live->published_status == "queued" || live->published_status == "running")) {
        status = live->published_status;
        summary = live->published_summary;
      }
    }
    if (!status.empty()) return StatusJson(status, std::move(summary), live->models_key);
  }
  ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
  return StatusJson(rec.status, std::move(rec.summary), ModelsKeyOf(rec.request));
}

Result<Json> OptimizationService::Tasks(const std::string& id, const OptimizationTaskQuery& query_in) {
  OptimizationTaskQuery query = query_in;
  if (!query.validation) query.validation = false;  // holdout re-runs are in Optimization.validation
  RETURN_IF_ERROR(CheckOptimizationTaskQuery(query));
  ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
  const std::string models_key = ModelsKeyOf(rec.request);
  ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> rows, store_.ListTasks(id, query));
  ASSIGN_OR_RETURN(int64_t total, store_.CountTasks(id, query));
  Json items = Json::array();
  for (const auto& t : rows) items.push_back(TaskJson(t, models_key));
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
    RETURN_IF_ERROR(CheckTaskOverrides(expanded, req.param_space.ModelsKey()));
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

// ----------------------------------------------------------------------------------------
// Models dimension, manifest, holdout validation, report

Json OptimizationService::JobParamsOf(const Live& live, const Json& task_params, bool validation) const {
  return TaskJobParamsFor(live.req, live.models_key, task_params, validation);
}

namespace {
// A manifest line's identity: the same task (or re-run) start or end is written once.
std::string ManifestKey(const Json& line) {
  return line.value("event", std::string()) + "|" + (line.value("validation", false) ? "v" : "s") + "|" +
         DumpJson(line.value("index", Json())) + "|" + DumpJson(line.value("task_id", Json()));
}
}  // namespace

void OptimizationService::AppendManifestLocked(Live& live, const Json& line, bool flush) {
  if (live.manifest_failed) return;
  if (!live.manifest) {
    const fs::path dir = ws_.root() / "reports" / "optimizations" / live.rec.id;
    std::error_code ec;
    fs::create_directories(dir, ec);
    // Lines a previous server wrote (a resumed optimization): not written again.
    live.manifest_seen.clear();
    if (std::ifstream in(dir / "manifest.jsonl", std::ios::binary); in) {
      for (std::string text; std::getline(in, text);) {
        auto parsed = ParseJson(text);
        if (parsed.ok() && parsed->is_object()) live.manifest_seen.insert(ManifestKey(*parsed));
      }
    }
    auto out = std::make_unique<std::ofstream>(dir / "manifest.jsonl", std::ios::app | std::ios::binary);
    if (ec || !*out) {
      live.manifest_failed = true;
      spdlog::error("{}", DumpJson(Json{{"msg", "optimization manifest not writable"},
                                        {"optimization_id", live.rec.id}, {"path", (dir / "manifest.jsonl").string()}}));
      return;
    }
    live.manifest = std::move(out);
  }
  if (!live.manifest_seen.insert(ManifestKey(line)).second) return;
  *live.manifest << DumpJson(line) << '\n';
  if (flush) {
    live.manifest->flush();
    live.manifest_buffered = false;
  } else {
    live.manifest_buffered = true;
  }
}

void OptimizationService::FlushManifestLocked(Live& live) {
  if (live.manifest && live.manifest_buffered) live.manifest->flush();
  live.manifest_buffered = false;
}

bool OptimizationService::ValidationActiveLocked(const Live& live) const {
  return live.req.holdout_start && (live.validation_status == "running" ||
                                    (live.validation_status == "pending" && !live.finished));
}

Json OptimizationService::ValidationManifestLine(const Live& live, size_t pos, const char* event) const {
  const auto& run = live.validation_runs[pos];
  const bool end = std::string_view(event) == "end";
  const std::optional<TimePoint> time = end ? run.ended_at : run.started_at;
  return Json{{"event", event},
              {"time", FormatIso8601(time.value_or(clock_.Now()))},
              {"index", run.index},
              {"task_id", run.job_id ? Json(*run.job_id) : Json(nullptr)},
              {"validation", true},
              {"train_run_id", ModelRunIdJson(run.params, live.models_key)},
              {"backtest_id", end && run.result_summary_id ? Json(*run.result_summary_id) : Json(nullptr)},
              {"params", run.params},
              {"status", end ? run.status : std::string("running")},
              {"score", end && run.oos_score ? Json(*run.oos_score) : Json(nullptr)},
              {"reason", end && !run.reason.empty() ? Json(run.reason) : Json(nullptr)},
              {"metrics", end ? run.metrics : Json::object()}};
}

void OptimizationService::StartValidationLocked(Live& live) {
  FlushTaskWritesLocked(live);
  live.dirty = true;
  const OptimizationState state = live.progress->state();
  if (state != OptimizationState::kSucceeded && state != OptimizationState::kEarlyStopped) {
    live.validation_status = state == OptimizationState::kCanceled ? "canceled" : "failed";
    live.validation_report_pending = true;
    return;
  }
  const Summary summary = live.progress->summary().Snapshot();
  if (summary.top_n.empty()) {
    live.validation_status = "failed";  // nothing ranked: nothing to re-run
    live.validation_report_pending = true;
    return;
  }
  std::vector<OptimizationTaskRecord> records;
  for (const TopEntry& e : summary.top_n) {
    OptimizationTaskRecord r;
    r.params = e.params;
    r.params_key = CanonicalParamsKey(e.params);
    r.validation = true;
    records.push_back(std::move(r));
    Live::ValidationRun run;
    run.index = e.index;
    run.params = e.params;
    live.validation_runs.push_back(std::move(run));
  }
  auto added = store_.AddTasks(live.rec.id, records);
  OptimizationTaskQuery q;
  q.validation = true;
  q.limit = kPage;
  auto stored = added.ok() ? store_.ListTasks(live.rec.id, q) : Result<std::vector<OptimizationTaskRecord>>(added.status());
  if (!stored.ok()) {
    // Not stored: the phase stays pending (the stored summary says so), and the next driver
    // round or the next server start enumerates the re-runs again.
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization holdout re-runs not stored"},
                                      {"optimization_id", live.rec.id}, {"error", stored.status().ToString()}}));
    live.validation_runs.clear();
    return;
  }
  for (auto& run : live.validation_runs) {
    const std::string key = CanonicalParamsKey(run.params);
    for (const auto& t : *stored) {
      if (t.params_key == key) run.task_index = t.index;
    }
  }
  live.validation_status = "running";
  LogEvent("optimization holdout re-runs", {{"optimization_id", live.rec.id},
                                            {"holdout_start", *live.req.holdout_start},
                                            {"runs", live.validation_runs.size()}});
}

void OptimizationService::PumpValidationLocked(Live& live) {
  if (live.validation_status != "running") return;
  SubmitOptions opts;
  opts.parent_id = live.rec.id;
  opts.checked_by_submitter = true;  // keys checked at creation; a refused value fails its task alone
  if (!live.rec.owner_id.empty()) opts.owner_id = live.rec.owner_id;
  if (!live.rec.project.empty()) opts.project = live.rec.project;
  opts.max_inflight = static_cast<int>(std::min<int64_t>(live.max_inflight, INT32_MAX));
  for (size_t pos = 0; pos < live.validation_runs.size(); ++pos) {
    if (static_cast<int64_t>(live.validation_of.size()) >= live.max_inflight) break;
    auto& run = live.validation_runs[pos];
    if (run.status != "pending") continue;
    if (run.task_index < 0) {
      run.status = "failed";
      run.reason = "the re-run's task was not stored";
      continue;
    }
    auto job = jobs_.Submit(live.req.job_type, JobParamsOf(live, run.params, true), opts);
    if (!job.ok()) {
      if (shutting_down_ || job.status().code() == StatusCode::kUnavailable) return;
      run.status = "failed";
      run.reason = "the job was refused: " + job.status().message();
      OptimizationTaskUpdate upd;
      upd.ended_at = clock_.Now();
      upd.reason = run.reason;
      (void)store_.MarkTaskStatus(live.rec.id, run.task_index, "pending", "failed", upd);
      continue;
    }
    const std::string job_id = job->job_id.str();
    Status linked = store_.MarkTaskQueued(live.rec.id, run.task_index, job_id);
    if (!linked.ok()) {
      spdlog::error("{}", DumpJson(Json{{"msg", "optimization holdout re-run not linked to its job"},
                                        {"optimization_id", live.rec.id}, {"index", run.task_index},
                                        {"job_id", job_id}, {"error", linked.ToString()}}));
      (void)jobs_.Cancel(job->job_id);
      run.status = "failed";
      run.reason = "the re-run's job could not be recorded: " + linked.message();
      continue;
    }
    OptimizationTaskUpdate running;
    running.started_at = clock_.Now();
    const bool marked = store_.MarkTaskStatus(live.rec.id, run.task_index, "queued", "running", running).ok();
    run.status = "running";
    run.stored = marked ? "running" : "queued";
    run.job_id = job_id;
    run.started_at = running.started_at;
    live.validation_of[job_id] = pos;
    live.dirty = true;
    AppendManifestLocked(live, ValidationManifestLine(live, pos, "start"));
  }
  bool all_ended = true;
  bool any_succeeded = false;
  for (const auto& run : live.validation_runs) {
    all_ended = all_ended && (run.status == "succeeded" || run.status == "failed" || run.status == "canceled");
    any_succeeded = any_succeeded || run.status == "succeeded";
  }
  if (all_ended) {
    live.validation_status = any_succeeded ? "succeeded" : "failed";
    live.validation_report_pending = true;
    live.dirty = true;
  }
}

void OptimizationService::EndValidationTaskLocked(Live& live, int64_t pos, const JobRecord& job) {
  live.validation_of.erase(job.job_id.str());
  auto& run = live.validation_runs[static_cast<size_t>(pos)];
  OptimizationTaskUpdate upd;
  upd.started_at = job.started_at;
  upd.ended_at = job.ended_at ? job.ended_at : std::optional<TimePoint>(clock_.Now());
  std::string next = "failed";
  if (job.status == JobState::kSuccess) {
    const JobTypeSpec* spec = catalog_.Find(job.job_type);
    auto read = spec ? ReadJobMetrics(ws_, *spec, job)
                     : Result<JobMetrics>(Status::NotFound("job type '" + job.job_type + "' is not in the catalog"));
    if (read.ok()) {
      Json metrics = Json::object();
      for (const auto& [k, v] : read->parsed.metrics) metrics[k] = v;
      run.metrics = metrics;
      if (!read->result_summary_id.empty()) {
        run.result_summary_id = read->result_summary_id;
        metrics["bt_run_id"] = read->result_summary_id;
      }
      if (!read->result_paths.empty()) metrics["result_file"] = read->result_paths.front();
      auto it = read->parsed.metrics.find(live.req.objective.metric);
      if (it != read->parsed.metrics.end()) {
        run.oos_score = it->second;
        upd.score = it->second;
      } else {
        run.reason = "objective metric '" + live.req.objective.metric + "' is not in the re-run's results";
      }
      upd.metrics = std::move(metrics);
      next = "succeeded";
    } else {
      run.reason = "the result could not be read: " + read.status().message();
    }
  } else if (job.status == JobState::kCanceled) {
    next = "canceled";
    run.reason = "canceled";
  } else {
    run.reason = job.error_message.value_or(job.end_reason ? std::string(EndReasonName(*job.end_reason)) : "failed");
  }
  run.status = next;
  run.ended_at = upd.ended_at;
  if (!run.reason.empty()) upd.reason = run.reason;
  Status st = store_.MarkTaskStatus(live.rec.id, run.task_index, run.stored, next, upd);
  if (!st.ok()) {
    spdlog::warn("{}", DumpJson(Json{{"msg", "optimization holdout re-run not persisted"},
                                     {"optimization_id", live.rec.id}, {"index", run.task_index},
                                     {"error", st.ToString()}}));
  }
  AppendManifestLocked(live, ValidationManifestLine(live, static_cast<size_t>(pos), "end"));
  live.dirty = true;
  Wake(live.rec.id);
}

std::optional<Json> OptimizationService::DeflatedSharpeOf(const TaskTally& tally, const OptimizationRequest& req,
                                                          const Json& summary) {
  if (req.job_type != "backtest") return std::nullopt;
  const Summary s = SummaryFromJson(summary);
  if (s.top_n.empty() || s.top_n.front().result_summary_id.empty() ||
      !IsSafeIdentifier(s.top_n.front().result_summary_id)) {
    return std::nullopt;
  }
  // Per-period Sharpe ratios of the ranked trials: summary.json's sharpe is annualised with
  // sqrt(252) (docs/engine.md), so per period it is sharpe / sqrt(252).
  std::vector<double> sharpes;
  sharpes.reserve(tally.ranked_sharpes.size());
  for (double v : tally.ranked_sharpes) sharpes.push_back(v / std::sqrt(252.0));
  auto text = ReadFile(ws_.root() / "backtests" / s.top_n.front().result_summary_id / "equity.csv");
  if (!text.ok()) return std::nullopt;
  auto returns = ReturnsFromEquityCsv(*text);
  if (!returns.ok()) return std::nullopt;
  auto dsr = ComputeDeflatedSharpe(*returns, sharpes);
  if (!dsr.ok()) return std::nullopt;
  return dsr->ToJson();
}

void OptimizationService::FinishLocked(Live& live) {
  FlushTaskWritesLocked(live);
  FlushManifestLocked(live);
  // The counts, the ranked sharpes and the models serve the deflated Sharpe and the report:
  // from the live state (the tasks are not read back: 0.25 M instructions a task, one thread,
  // while the optimization still shows running), or one read of the tasks for a models sweep.
  Result<TaskTally> tally = TallyOfLocked(live);
  if (!live.models_key.empty()) {
    auto tasks = AllTasks(live.rec.id);
    tally = tasks.ok() ? Result<TaskTally>(TallyOf(*tasks, live.models_key)) : Result<TaskTally>(tasks.status());
  }
  if (tally.ok()) {
    if (auto dsr = DeflatedSharpeOf(*tally, live.req, SummaryJsonLocked(live))) live.deflated_sharpe = *dsr;
  }
  live.rec.summary = SummaryJsonLocked(live);
  // The report files first, then the summary that says the phase has ended (a crash in between
  // leaves validation.status "running" stored, and the next start writes the report again).
  auto report = tally.ok() ? BuildReport(live.rec, live.rec.summary, &*tally) : Result<Json>(tally.status());
  Status st = report.status();
  if (report.ok()) {
    const fs::path dir = ws_.root() / "reports" / "optimizations" / live.rec.id;
    std::error_code ec;
    fs::create_directories(dir, ec);
    st = WriteFileAtomic(dir / "report.json", DumpJson(*report, 2) + "\n");
    if (st.ok()) st = WriteFileAtomic(dir / "report.md", ReportMarkdown(*report, live.rec.id));
  }
  if (!st.ok()) {
    spdlog::error("{}", DumpJson(Json{{"msg", "optimization report not written"},
                                      {"optimization_id", live.rec.id}, {"error", st.ToString()}}));
  }
  live.finished = true;
  live.validation_report_pending = false;
  live.dirty = true;
  PersistLocked(live, true);
  live.manifest.reset();
  live.manifest_seen.clear();
}

OptimizationService::TaskTally OptimizationService::TallyOf(const std::vector<OptimizationTaskRecord>& tasks,
                                                            const std::string& models_key) {
  TaskTally t;
  t.total = static_cast<int64_t>(tasks.size());
  for (const auto& task : tasks) {
    if (task.status == "succeeded") ++t.succeeded;
    if (task.status == "failed") ++t.failed;
    if (task.status == "canceled") ++t.canceled;
    if (task.ranked) {
      ++t.passing;
      if (auto v = FiniteSharpe(task.metrics)) t.ranked_sharpes.push_back(*v);
    }
    if (!models_key.empty() && task.params.contains(models_key)) t.models.insert(DumpJson(task.params[models_key]));
  }
  return t;
}

OptimizationService::TaskTally OptimizationService::TallyOfLocked(const Live& live) {
  const SummaryTracker& s = live.progress->summary();
  TaskTally t;
  t.total = s.total();
  t.succeeded = s.count(TaskState::kSucceeded);
  t.failed = s.count(TaskState::kFailed);
  t.canceled = s.count(TaskState::kCanceled);
  t.passing = static_cast<int64_t>(live.ranked_sharpes.size());
  for (const auto& [index, v] : live.ranked_sharpes) {
    if (v) t.ranked_sharpes.push_back(*v);
  }
  return t;
}

Result<Json> OptimizationService::BuildReport(const OptimizationRecord& rec, const Json& summary_in,
                                             const TaskTally* given) {
  ASSIGN_OR_RETURN(OptimizationRequest req, ParseStored(rec));
  Json summary = summary_in.is_object() ? summary_in : Json::object();
  const std::string models_key = ModelsKeyOf(rec.request);
  NormalizeTopEntries(summary, models_key);
  TaskTally read;
  if (!given) {
    ASSIGN_OR_RETURN(std::vector<OptimizationTaskRecord> tasks, AllTasks(rec.id));
    read = TallyOf(tasks, models_key);
    given = &read;
  }
  const TaskTally& tally = *given;
  Json top = Json::array();
  if (summary.contains("top_n") && summary["top_n"].is_array()) {
    for (const Json& e : summary["top_n"]) {
      if (top.size() >= 3) break;
      top.push_back(e);
    }
  }
  Json constraints = Json::array();
  for (const auto& c : req.constraints) constraints.push_back(c.text);
  const std::string dir = "reports/optimizations/" + rec.id + "/";
  Json deflated = summary.contains("deflated_sharpe") ? summary["deflated_sharpe"] : Json(nullptr);
  return Json{{"optimization_id", rec.id},
              {"name", rec.name},
              {"project", rec.project},
              {"status", rec.status},
              {"objective", Json{{"metric", req.objective.metric},
                                 {"direction", std::string(DirectionName(req.objective.direction))}}},
              {"constraints", std::move(constraints)},
              {"counts", Json{{"total", tally.total},
                              {"models", static_cast<int64_t>(tally.models.size())},
                              {"succeeded", tally.succeeded},
                              {"failed", tally.failed},
                              {"canceled", tally.canceled},
                              {"passing", tally.passing}}},
              {"top", std::move(top)},
              {"deflated_sharpe", std::move(deflated)},
              {"files", Json{{"manifest", dir + "manifest.jsonl"},
                             {"report_md", dir + "report.md"},
                             {"report_json", dir + "report.json"}}}};
}

Result<Json> OptimizationService::Report(const std::string& id) {
  ASSIGN_OR_RETURN(OptimizationRecord rec, store_.Get(id));
  Json summary = rec.summary;
  if (auto live = FindLive(id)) {
    std::unique_lock<std::mutex> lock(live->mu);
    // Just ended: the driver computes the deflated Sharpe and writes the files in the same
    // round; wait (bounded) for that rather than answer without them. Holdout re-runs that are
    // still running are not waited for.
    live->cv.wait_for(lock, std::chrono::seconds(10), [&] {
      return !IsTerminal(live->progress->state()) || live->finished || live->retired ||
             live->validation_status == "running";
    });
    summary = SummaryJsonLocked(*live);
    rec.status = live->rec.status;
  }
  return BuildReport(rec, summary, nullptr);
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

#include "registry/registry_service.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "core/job_result.hpp"
#include "core/list_query.hpp"
#include "core/text.hpp"
#include "jobs/inprocess_journal.hpp"
#include "jobs/job_dto.hpp"
#include "registry/registry_json.hpp"
#include "registry/results_reader.hpp"

namespace alphalab::registry {

namespace {

std::optional<std::string> Get(const Params& p, const std::string& name) {
  auto it = p.find(name);
  if (it == p.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::string Shown(const std::string& v) { return v.substr(0, 64); }

Result<std::optional<double>> GetDouble(const Params& p, const std::string& name) {
  return ParseFiniteNumber(name, Get(p, name));
}

Result<std::optional<int64_t>> GetInt(const Params& p, const std::string& name, int64_t min, int64_t max) {
  auto v = Get(p, name);
  if (!v) return std::optional<int64_t>();
  int64_t i = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), i);
  if (ec != std::errc() || ptr != v->data() + v->size()) {
    return Status::InvalidArgument(name + " must be an integer, got '" + Shown(*v) + "'", {{"parameter", name}});
  }
  if (i < min || i > max) {
    return Status::InvalidArgument(name + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                                       ", got " + std::to_string(i),
                                   {{"parameter", name}});
  }
  return std::optional<int64_t>(i);
}

std::vector<std::string> SplitList(const std::string& s) { return SplitUniqueList(s); }

// An equality filter: one value or a comma list (= IN), duplicates removed; at most 1000.
Result<std::vector<std::string>> GetList(const Params& p, const std::string& name) {
  return ParseInList(name, Get(p, name));
}

Status CheckIds(const std::vector<std::string>& ids, const char* param) {
  for (const auto& id : ids) {
    if (!IsSafeIdentifier(id)) {
      return Status::InvalidArgument(std::string(param) + " value '" + Shown(id) +
                                         "' is not a valid identifier ([A-Za-z0-9_.-], at most 128 characters)",
                                     {{"parameter", param}});
    }
  }
  return Status::Ok();
}

struct Paging {
  int limit;
  int64_t offset;
};

Result<Paging> ParsePaging(const Params& p, int default_limit) {
  // Negative or over-limit values are refused here with the parameter named (not clamped).
  ASSIGN_OR_RETURN(auto limit, GetInt(p, "limit", 0, kMaxRegistryLimit));
  ASSIGN_OR_RETURN(auto offset, GetInt(p, "offset", 0, INT64_MAX / 2));
  return Paging{static_cast<int>(limit.value_or(default_limit)), offset.value_or(0)};
}

}  // namespace

Result<RegistryQuery> ParseModelsParams(const Params& p) {
  RegistryQuery q;
  // Every parameter is validated strictly; names the OpenAPI document does not declare for the
  // endpoint never get here (the router answers them with 400).
  if (auto t = Get(p, "ticker")) {
    q.tickers = SplitList(*t);
    if (q.tickers.empty()) return Status::InvalidArgument("ticker must name at least one ticker", {{"parameter", "ticker"}});
    if (q.tickers.size() > 1000) return Status::InvalidArgument("ticker lists at most 1000 values", {{"parameter", "ticker"}});
  }
  auto run_ids = Get(p, "run_id");
  if (!run_ids) run_ids = Get(p, "run_ids");
  if (run_ids) {
    q.run_ids = SplitList(*run_ids);
    RETURN_IF_ERROR(CheckIds(q.run_ids, "run_id"));
  }
  ASSIGN_OR_RETURN(q.modes, GetList(p, "mode"));
  ASSIGN_OR_RETURN(q.projects, GetList(p, "project"));
  ASSIGN_OR_RETURN(q.statuses, GetList(p, "status"));
  ASSIGN_OR_RETURN(q.min_lift, GetDouble(p, "min_lift"));
  ASSIGN_OR_RETURN(q.min_precision, GetDouble(p, "min_precision"));
  ASSIGN_OR_RETURN(q.max_buy_rate, GetDouble(p, "max_buy_rate"));
  ASSIGN_OR_RETURN(q.min_support, GetInt(p, "min_support", INT64_MIN, INT64_MAX));
  if (auto sort = Get(p, "sort")) {
    ASSIGN_OR_RETURN(q.sort, ParseRegistrySort(*sort));
  }
  ASSIGN_OR_RETURN(Paging paging, ParsePaging(p, 50));
  q.limit = paging.limit;
  q.offset = paging.offset;
  RETURN_IF_ERROR(ValidateRegistryQuery(q));
  return q;
}

Json JobBriefJson(const JobRecord& job, TimePoint now) { return JobDetailJson(job, now); }

}  // namespace alphalab::registry

namespace alphalab {

using registry::Get;
using registry::GetDouble;
using registry::GetInt;
using registry::SplitList;
using registry::GetList;
using registry::CheckIds;
using registry::Paging;
using registry::ParsePaging;
using registry::ParseModelsParams;
using registry::RegistryRowToJson;
using registry::RunSummaryToJson;
using registry::BacktestSummaryToJson;
using registry::JobBriefJson;
using registry::IndexReport;
using registry::ReadRunFiles;
using registry::ReadBacktestFiles;
using registry::BacktestDetailOptions;
using registry::FileContent;
using registry::ReadBacktestFile;
using registry::ReadRunFile;

RegistryService::RegistryService(const Workspace& ws, RegistryStore& store, JobStore* jobs, const Clock& clock)
    : ws_(ws), store_(store), jobs_(jobs), clock_(clock), indexer_(ws, store, clock) {}

RegistryService::~RegistryService() {
  {
    std::lock_guard lock(export_mu_);
    stopping_ = true;
  }
  export_cv_.notify_all();
  if (export_thread_.joinable()) export_thread_.join();
}

void RegistryService::ScheduleExport() {
  std::lock_guard lock(export_mu_);
  export_pending_ = true;
  if (!export_thread_.joinable()) export_thread_ = std::thread([this] { ExportLoop(); });
  export_cv_.notify_all();
}

void RegistryService::ExportLoop() {
  std::unique_lock lock(export_mu_);
  while (true) {
    export_cv_.wait(lock, [&] { return export_pending_ || stopping_; });
    if (!export_pending_) return;  // stopping with nothing left to write
    export_pending_ = false;
    export_running_ = true;
    lock.unlock();
    Status s = indexer_.Export();
    lock.lock();
    export_running_ = false;
    last_export_ = s;
    export_cv_.notify_all();
  }
}

Status RegistryService::WaitForExports() {
  std::unique_lock lock(export_mu_);
  export_cv_.wait(lock, [&] { return (!export_pending_ && !export_running_) || !export_thread_.joinable(); });
  return last_export_;
}

namespace {
// The run a job refers to: artifacts.run_id, else params.run_id, else the last segment of
// artifacts.run_dir / params.run_dir.
std::optional<std::string> RunIdOfJob(const JobRecord& job) {
  for (const Json* src : {&job.artifacts, &job.params}) {
    if (!src->is_object()) continue;
    auto it = src->find("run_id");
    if (it != src->end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  }
  for (const Json* src : {&job.artifacts, &job.params}) {
    if (!src->is_object()) continue;
    auto it = src->find("run_dir");
    if (it != src->end() && it->is_string()) {
      std::string dir = it->get<std::string>();
      while (!dir.empty() && dir.back() == '/') dir.pop_back();
      const auto slash = dir.rfind('/');
      std::string id = slash == std::string::npos ? dir : dir.substr(slash + 1);
      if (!id.empty()) return id;
    }
  }
  return std::nullopt;
}
}  // namespace

Result<IndexReport> RegistryService::IndexAll() {
  if (!jobs_) return indexer_.IndexAll();
  return indexer_.IndexAll(UncommittedBacktests(ws_, *jobs_));
}

Result<IndexReport> RegistryService::OnJobFinished(const JobRecord& job) {
  return OnJobsFinished(std::span<const JobRecord>(&job, 1));
}

Result<IndexReport> RegistryService::OnJobsFinished(std::span<const JobRecord> jobs,
                                                    std::span<const KnownResult> known) {
  IndexReport all;
  std::vector<std::string> backtests;
  std::vector<registry::WrittenBacktest> written;  // backtests whose summary.json text the runner holds
  bool runs_changed = false;
  if (known.size() != jobs.size()) known = {};
  auto known_of = [&](size_t i) -> const KnownResult* {
    return known.empty() || known[i].result.id.empty() ? nullptr : &known[i];
  };
  // What to index is the kind of the job's result file (core/job_result.hpp), whatever its
  // type is called; a job that wrote none (a user type) indexes nothing. A batch (the fast
  // path's chunk) reads its result files on two threads.
  std::vector<std::optional<Result<JobResult>>> results(jobs.size());
  const size_t readers = jobs.size() >= 16 ? 2 : 1;
  auto read = [&](size_t first) {
    for (size_t i = first; i < jobs.size(); i += readers) {
      if (jobs[i].status == JobState::kSuccess && !jobs[i].dry_run) {
        if (const KnownResult* k = known_of(i)) {
          results[i].emplace(k->result);
        } else {
          results[i].emplace(ReadJobResult(ws_.root(), jobs[i].job_id.str()));
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < readers; ++t) pool.emplace_back(read, t);
  read(0);
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < jobs.size(); ++i) {
    const JobRecord& job = jobs[i];
    if (!results[i]) continue;
    Result<JobResult>& result = *results[i];
    if (!result.ok()) {
      if (!result.status().IsNotFound()) {
        all.problems.push_back({"job", job.job_id.str(), JobResultPath(job.job_id.str()), result.status().message()});
      }
      continue;
    }
    if (result->kind == ResultKind::kBacktest) {
      // indexed together below (Indexer::IndexWrittenBacktests, Indexer::IndexBacktests)
      const KnownResult* k = known_of(i);
      if (k && !k->summary_text.empty()) {
        written.push_back({result->id, k->summary_text});
      } else {
        backtests.push_back(result->id);
      }
      continue;
    }
    ASSIGN_OR_RETURN(IndexReport one, indexer_.IndexRun(result->id, /*export_after=*/false));
    runs_changed = true;
    all.runs_indexed += one.runs_indexed;
    all.rows_indexed += one.rows_indexed;
    for (auto& p : one.problems) all.problems.push_back(std::move(p));
  }
  if (runs_changed) ScheduleExport();
  auto add = [&all](IndexReport& bt) {
    all.backtests_indexed += bt.backtests_indexed;
    all.read_seconds += bt.read_seconds;
    all.store_seconds += bt.store_seconds;
    for (auto& p : bt.problems) all.problems.push_back(std::move(p));
  };
  if (!written.empty()) {
    ASSIGN_OR_RETURN(IndexReport bt, indexer_.IndexWrittenBacktests(written));
    add(bt);
  }
  if (!backtests.empty()) {
    ASSIGN_OR_RETURN(IndexReport bt, indexer_.IndexBacktests(backtests));
    add(bt);
  }
  return all;
}

Result<Json> RegistryService::Models(const Params& params) {
  ASSIGN_OR_RETURN(RegistryQuery q, ParseModelsParams(params));
  if (!q.min_support) q.min_support = registry::kDefaultMinSupport;
  ASSIGN_OR_RETURN(RegistryPage page, store_.QueryModels(q));
  Json items = Json::array();
  for (const auto& r : page.items) items.push_back(RegistryRowToJson(r));
  return Json{{"items", std::move(items)},
              {"total", page.total},
              {"limit", page.limit},
              {"offset", page.offset},
              {"sort", FormatRegistrySort(EffectiveRegistrySort(q.sort))},
              {"min_support", *q.min_support}};
}

Result<Json> RegistryService::Compare(const Params& params) {
  auto ids_text = Get(params, "run_ids");
  if (!ids_text) ids_text = Get(params, "run_id");
  if (!ids_text) return Status::InvalidArgument("run_ids is required (a comma list of run ids)", {{"parameter", "run_ids"}});
  std::vector<std::string> ids = SplitList(*ids_text);
  if (ids.empty()) return Status::InvalidArgument("run_ids is required (a comma list of run ids)", {{"parameter", "run_ids"}});
  if (ids.size() > 50) return Status::InvalidArgument("compare at most 50 runs at once", {{"parameter", "run_ids"}});
  RETURN_IF_ERROR(CheckIds(ids, "run_ids"));
  auto ticker = Get(params, "ticker");
  auto mode = Get(params, "mode");

  RegistryQuery q;
  q.run_ids = ids;
  if (mode) q.modes = {*mode};
  q.limit = kMaxRegistryLimit;
  ASSIGN_OR_RETURN(RegistryPage all, store_.QueryModels(q));
  std::map<std::string, std::set<std::string>> tickers_of;  // run -> tickers
  for (const auto& r : all.items) tickers_of[r.run_id].insert(r.ticker);
  std::vector<std::string> unknown;
  for (const auto& id : ids) {
    if (!tickers_of.count(id)) unknown.push_back(id);
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
    return Status::NotFound("no registry rows for run(s) " + list + " (not indexed, or not a finished training run)",
                            {{"run_ids", unknown}});
  }
  auto describe = [&]() {
    std::string s;
    Json details = Json::object();
    for (const auto& id : ids) {
      std::string t;
      for (const auto& x : tickers_of[id]) t += (t.empty() ? "" : "+") + x;
      s += (s.empty() ? "" : "; ") + id + " -> " + t;
      details[id] = std::vector<std::string>(tickers_of[id].begin(), tickers_of[id].end());
    }
    return std::make_pair(s, details);
  };
  std::string chosen;
  if (ticker) {
    std::vector<std::string> missing;
    for (const auto& id : ids) {
      if (!tickers_of[id].count(*ticker)) missing.push_back(id);
    }
    if (!missing.empty()) {
      auto [s, details] = describe();
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      return Status::InvalidArgument("compare needs runs of the same ticker: " + list + " has no rows for ticker " +
                                         *ticker + " (" + s + ")",
                                     {{"ticker", *ticker}, {"runs_without_ticker", missing}, {"tickers_by_run", details}});
    }
    chosen = *ticker;
  } else {
    std::set<std::string> all_tickers;
    for (const auto& [id, ts] : tickers_of) all_tickers.insert(ts.begin(), ts.end());
    if (all_tickers.size() != 1) {
      auto [s, details] = describe();
      return Status::InvalidArgument(
          "compare needs runs of the same ticker, these runs cover different tickers (" + s +
              "); pass ticker=<T> to compare one ticker they all have",
          {{"tickers_by_run", details}});
    }
    chosen = *all_tickers.begin();
  }
  Json items = Json::array();
  for (const auto& id : ids) {  // in the order the user asked
    for (const auto& r : all.items) {
      if (r.run_id == id && r.ticker == chosen) items.push_back(RegistryRowToJson(r));
    }
  }
  return Json{{"ticker", chosen}, {"run_ids", ids}, {"items", std::move(items)}};
}

namespace {

// The "models" block of a GET /api/runs item, from the run's registry rows of its own mode
// (all rows when none has it): how many models, the label when every row agrees on it, and
// headline metrics: mean precision and lift over the models with a predicted positive
// (tp + fp > 0; null when none has one), summed support.
Json RunModelsJson(const RunSummary& run, const std::vector<const RegistryRow*>& all_rows) {
  std::vector<const RegistryRow*> rows;
  for (const RegistryRow* r : all_rows) {
    if (r->mode == run.mode) rows.push_back(r);
  }
  if (rows.empty()) rows = all_rows;
  std::set<std::string> tickers;
  std::optional<int64_t> horizon;
  std::optional<double> threshold;
  bool same_label = !rows.empty();
  double precision_sum = 0, lift_sum = 0;
  int precision_n = 0, lift_n = 0;
  std::optional<int64_t> support;
  for (size_t i = 0; i < rows.size(); ++i) {
    const RegistryRow& r = *rows[i];
    tickers.insert(r.ticker);
    if (i == 0) {
      horizon = r.label_horizon_days;
      threshold = r.label_threshold;
    } else if (r.label_horizon_days != horizon || r.label_threshold != threshold) {
      same_label = false;
    }
    const bool has_positive = r.tp && r.fp && *r.tp + *r.fp > 0;
    if (has_positive && r.precision) { precision_sum += *r.precision; ++precision_n; }
    if (has_positive && r.lift) { lift_sum += *r.lift; ++lift_n; }
    if (r.support) support = support.value_or(0) + *r.support;
  }
  auto opt = [](const auto& v) { return v ? Json(*v) : Json(nullptr); };
  return Json{{"count", static_cast<int64_t>(tickers.size())},
              {"label_horizon_days", same_label ? opt(horizon) : Json(nullptr)},
              {"label_threshold", same_label ? opt(threshold) : Json(nullptr)},
              {"label_mixed", !rows.empty() && !same_label},
              {"precision", precision_n ? Json(precision_sum / precision_n) : Json(nullptr)},
              {"lift", lift_n ? Json(lift_sum / lift_n) : Json(nullptr)},
              {"support", opt(support)}};
}

}  // namespace

Result<Json> RegistryService::Runs(const Params& params) {
  RunQuery q;
  ASSIGN_OR_RETURN(Paging paging, ParsePaging(params, 50));
  q.limit = paging.limit;
  q.offset = paging.offset;
  ASSIGN_OR_RETURN(q.projects, GetList(params, "project"));
  ASSIGN_OR_RETURN(q.statuses, GetList(params, "status"));
  ASSIGN_OR_RETURN(q.tickers, GetList(params, "ticker"));
  if (auto text = Get(params, "q")) {
    if (text->size() > 200) return Status::InvalidArgument("q must be at most 200 characters", {{"parameter", "q"}});
    q.text = *text;
  }
  if (auto sort = Get(params, "sort")) {
    auto key = ParseRunSort(*sort);
    if (!key) {
      return Status::InvalidArgument("sort must be <field>_asc or <field>_desc with field one of start_time, run_id, "
                                     "project, dataset, status, mode or param.<model param name>; got '" +
                                         sort->substr(0, 64) + "'",
                                     {{"parameter", "sort"}});
    }
    q.sort = *key;
  }
  ASSIGN_OR_RETURN(RunPage page, store_.ListRuns(q));
  // The models of the page's runs in one query (at most limit <= 1000 run ids).
  std::map<std::string, std::vector<RegistryRow>> rows_by_run;
  if (!page.items.empty()) {
    RegistryQuery mq;
    for (const auto& r : page.items) mq.run_ids.push_back(r.run_id);
    mq.limit = 1000;
    for (int64_t offset = 0;; offset += mq.limit) {
      mq.offset = offset;
      ASSIGN_OR_RETURN(RegistryPage models, store_.QueryModels(mq));
      for (auto& row : models.items) rows_by_run[row.run_id].push_back(std::move(row));
      if (offset + mq.limit >= models.total) break;
    }
  }
  Json items = Json::array();
  for (const auto& r : page.items) {
    Json j = RunSummaryToJson(r);
    std::vector<const RegistryRow*> rows;
    for (const RegistryRow& row : rows_by_run[r.run_id]) rows.push_back(&row);
    j["models"] = RunModelsJson(r, rows);
    j["model_params"] = r.model_params;
    items.push_back(std::move(j));
  }
  return Json{{"items", std::move(items)}, {"total", page.total}, {"limit", page.limit}, {"offset", page.offset}};
}

Result<std::vector<JobRecord>> RegistryService::JobsForRun(const std::string& run_id) {
  std::vector<JobRecord> out;
  if (!jobs_) return out;
  // JobStore has no query by artifact/param; scan the most recent jobs of the two job types
  // that produce or re-evaluate runs (newest first, bounded).
  for (const char* type : {"train", "eval-metrics"}) {
    JobQuery q;
    q.job_types = {type};
    q.limit = 1000;
    ASSIGN_OR_RETURN(auto jobs, jobs_->ListJobs(q));
    for (auto& j : jobs) {
      if (RunIdOfJob(j) == run_id) out.push_back(std::move(j));
    }
  }
  std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) { return a.created_at > b.created_at; });
  return out;
}

Result<Json> RegistryService::RunDetail(const std::string& run_id) {
  ASSIGN_OR_RETURN(Json detail, ReadRunFiles(ws_, run_id));
  auto summary = store_.GetRun(run_id);
  if (summary.ok()) {
    detail["summary"] = RunSummaryToJson(*summary);
  } else if (summary.status().IsNotFound()) {
    detail["summary"] = nullptr;  // on disk but not (yet) indexed
  } else {
    return summary.status();
  }
  RegistryQuery q;
  q.run_ids = {run_id};
  q.limit = kMaxRegistryLimit;
  ASSIGN_OR_RETURN(RegistryPage rows, store_.QueryModels(q));
  Json registry_rows = Json::array();
  for (const auto& r : rows.items) registry_rows.push_back(RegistryRowToJson(r));
  detail["registry_rows"] = std::move(registry_rows);
  ASSIGN_OR_RETURN(auto jobs, JobsForRun(run_id));
  Json job_list = Json::array();
  for (const auto& j : jobs) {
    Json b = JobBriefJson(j, clock_.Now());
    b["relation"] = j.job_type == "train" ? "produced" : "re-evaluated";
    job_list.push_back(std::move(b));
  }
  detail["jobs"] = std::move(job_list);
  return detail;
}

Result<Json> RegistryService::Backtests(const Params& params) {
  BacktestQuery q;
  ASSIGN_OR_RETURN(Paging paging, ParsePaging(params, 50));
  q.limit = paging.limit;
  q.offset = paging.offset;
  ASSIGN_OR_RETURN(q.tickers, GetList(params, "ticker"));
  ASSIGN_OR_RETURN(q.strategies, GetList(params, "strategy"));
  ASSIGN_OR_RETURN(q.model_run_ids, GetList(params, "model_run_id"));
  RETURN_IF_ERROR(CheckIds(q.model_run_ids, "model_run_id"));
  for (const BacktestFieldInfo& info : kBacktestNumericFields) {
    BacktestBound bound{info.field, std::nullopt, std::nullopt};
    ASSIGN_OR_RETURN(bound.min, GetDouble(params, "min_" + std::string(info.name)));
    ASSIGN_OR_RETURN(bound.max, GetDouble(params, "max_" + std::string(info.name)));
    if (bound.min || bound.max) q.bounds.push_back(bound);
  }
  if (auto sort = Get(params, "sort")) {
    ASSIGN_OR_RETURN(q.sort, ParseBacktestSort(*sort));
  }
  ASSIGN_OR_RETURN(BacktestPage page, store_.ListBacktests(q));
  Json items = Json::array();
  for (const auto& b : page.items) items.push_back(BacktestSummaryToJson(b));
  return Json{{"items", std::move(items)}, {"total", page.total}, {"limit", page.limit}, {"offset", page.offset}};
}

Result<Json> RegistryService::BacktestDetail(const std::string& bt_run_id, const Params& params) {
  BacktestDetailOptions opt;
  ASSIGN_OR_RETURN(auto points, GetInt(params, "points", 4, 1000000));
  if (points) opt.points = static_cast<size_t>(*points);
  return ReadBacktestFiles(ws_, bt_run_id, opt);
}

Result<FileContent> RegistryService::BacktestFile(const std::string& bt_run_id, const std::string& name) {
  return ReadBacktestFile(ws_, bt_run_id, name);
}

Result<FileContent> RegistryService::RunFile(const std::string& run_id, const std::string& name) {
  return ReadRunFile(ws_, run_id, name);
}

Result<Json> RegistryService::Dashboard(const Params& params, const std::optional<std::string>& owner) {
  ASSIGN_OR_RETURN(auto jobs_limit, GetInt(params, "jobs_limit", 0, 100));
  ASSIGN_OR_RETURN(auto models_limit, GetInt(params, "models_limit", 0, kMaxRegistryLimit));
  ASSIGN_OR_RETURN(auto bt_limit, GetInt(params, "backtests_limit", 0, 100));
  Json recent_jobs = Json::array();
  if (jobs_) {
    JobQuery q;
    q.limit = static_cast<int>(jobs_limit.value_or(10));
    if (owner) q.owner_ids = {*owner};
    ASSIGN_OR_RETURN(auto jobs, jobs_->ListJobs(q));
    for (const auto& j : jobs) recent_jobs.push_back(JobBriefJson(j, clock_.Now()));
  }
  // The first row per ticker under the default sort among the rows with at least
  // kDefaultMinSupport test rows (tickers ascending; a ticker without such a row is left out).
  const int64_t best_limit = models_limit.value_or(20);
  Json best_models = Json::array();
  if (best_limit > 0) {
    ASSIGN_OR_RETURN(const auto tickers, store_.ListTickers());
    for (const auto& t : tickers) {
      if (static_cast<int64_t>(best_models.size()) >= best_limit) break;
      RegistryQuery q;
      q.tickers = {t};
      q.min_support = registry::kDefaultMinSupport;
      q.limit = 1;
      ASSIGN_OR_RETURN(RegistryPage page, store_.QueryModels(q));
      for (const auto& r : page.items) best_models.push_back(RegistryRowToJson(r));
    }
  }
  BacktestQuery bq;
  bq.limit = static_cast<int>(bt_limit.value_or(10));
  ASSIGN_OR_RETURN(BacktestPage bts, store_.ListBacktests(bq));
  Json recent_backtests = Json::array();
  for (const auto& b : bts.items) recent_backtests.push_back(BacktestSummaryToJson(b));
  return Json{{"recent_jobs", std::move(recent_jobs)},
              {"best_models", std::move(best_models)},
              {"best_models_sort", std::string(kDefaultRegistrySort)},
              {"best_models_min_support", registry::kDefaultMinSupport},
              {"recent_backtests", std::move(recent_backtests)}};
}

}  // namespace alphalab

#include "registry/indexer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/confined_open.hpp"
#include "core/ids.hpp"
#include "core/workspace.hpp"
#include "registry/registry_json.hpp"
#include "registry/results_reader.hpp"

namespace alphalab::registry {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxMetricsFileBytes = 64u << 20;  // a metrics file bigger than this is not ours
constexpr size_t kBatchSize = 500;                  // runs per store transaction

// Reads typed fields of one JSON file and remembers the first problem (with the JSON path).
class FieldReader {
 public:
  explicit FieldReader(std::string file) : file_(std::move(file)) {}

  std::string String(const Json& obj, const std::string& key, const std::string& where = "") {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return "";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number()) return it->dump();
    Fail(where + key, std::string("must be a string, got ") + it->type_name());
    return "";
  }
  std::optional<double> Double(const Json& obj, const std::string& key, const std::string& where = "") {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (it->is_number()) {
      const double v = it->get<double>();
      if (std::isfinite(v)) return v;
      return std::nullopt;
    }
    Fail(where + key, std::string("must be a number or null, got ") + it->type_name());
    return std::nullopt;
  }
  std::optional<int64_t> Int(const Json& obj, const std::string& key, const std::string& where = "") {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (it->is_number_integer()) return it->get<int64_t>();
    if (it->is_number_float()) {
      const double v = it->get<double>();
      if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) return static_cast<int64_t>(v);
    }
    Fail(where + key, std::string("must be an integer or null, got ") + it->dump().substr(0, 40));
    return std::nullopt;
  }
  void Fail(const std::string& field, const std::string& message) {
    if (ok()) problem_ = "field '" + field + "' " + message;
  }
  bool ok() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::string problem_;
};

// Reads and parses a JSON object file; on failure returns nullopt and a reason.
// Files are read through the one confined open rooted at the workspace: a symlink leading
// outside (or a run/backtest folder that is one) is a problem, never indexed.
// A JSON object from a file's text; nullopt with `why` when it is not one.
std::optional<Json> ParseJsonObject(std::string_view text, std::string& why) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) {
    why = text.empty() ? "file is empty" : "invalid JSON (or nested too deeply)";
    return std::nullopt;
  }
  Json j = std::move(parsed).value();
  if (!j.is_object()) {
    why = std::string("expected a JSON object, got ") + j.type_name();
    return std::nullopt;
  }
  return j;
}

std::optional<Json> ReadJsonObject(const fs::path& root, const fs::path& path, std::string& why) {
  auto text = ReadFileConfined(root, path, kMaxMetricsFileBytes);
  if (!text.ok()) {
    const Status& st = text.status();
    if (st.IsNotFound()) why = "file is missing";
    else if (st.code() == StatusCode::kResourceExhausted) why = "file is larger than 64 MiB";
    else if (st.code() == StatusCode::kPermissionDenied) why = "file leads outside the workspace (symlink); not indexed";
    else why = "cannot read: " + st.message();
    return std::nullopt;
  }
  return ParseJsonObject(*text, why);
}

std::string Rel(const std::string& run_dir_rel, const std::string& name) { return run_dir_rel + "/" + name; }

// Rows of one metrics file (metrics.json or metrics_eval_<mode>.json).
bool RowsFromMetrics(const Json& m, FieldReader& rd, const std::string& run_id, const std::string& mode,
                     const std::string& metrics_rel, const RunSummary& run, const Json* manifest,
                     const std::string& run_dir_rel, const fs::path& dir, std::vector<RegistryRow>& out) {
  const auto top_horizon = rd.Int(m, "label_horizon_days");
  const auto top_threshold = rd.Double(m, "label_threshold");
  auto per = m.find("per_ticker");
  if (per == m.end() || per->is_null()) {
    rd.Fail("per_ticker", "is missing");
    return false;
  }
  if (!per->is_object()) {
    rd.Fail("per_ticker", std::string("must be an object of ticker -> metrics, got ") + per->type_name());
    return false;
  }
  for (const auto& [ticker, t] : per->items()) {
    const std::string where = "per_ticker." + ticker + ".";
    if (ticker.empty() || ticker.size() > 64) {
      rd.Fail("per_ticker", "has an empty or over-long ticker name");
      return false;
    }
    if (!t.is_object()) {
      rd.Fail("per_ticker." + ticker, std::string("must be an object, got ") + t.type_name());
      return false;
    }
    RegistryRow r;
    r.ticker = ticker;
    r.run_id = run_id;
    r.mode = mode;
    r.project = run.project;
    // Every numeric field is read under its own name; the two label fields fall back to the
    // file's top-level values.
    for (const auto& info : kRegistryNumericFields) {
      const std::string name(info.name);
      if (info.is_integer) {
        r.*info.integer_member = rd.Int(t, name, where);
      } else {
        r.*info.real_member = rd.Double(t, name, where);
      }
    }
    if (!r.label_horizon_days) r.label_horizon_days = top_horizon;
    if (!r.label_threshold) r.label_threshold = top_threshold;
    r.model_final_path = rd.String(t, "model_path", where);
    if (r.model_final_path.empty() && manifest) {
      auto models = manifest->find("models");
      if (models != manifest->end() && models->is_object()) {
        auto mp = models->find(ticker);
        if (mp != models->end() && mp->is_string()) r.model_final_path = mp->get<std::string>();
      }
    }
    if (r.model_final_path.empty()) {
      std::error_code ec;
      if (fs::exists(dir / ("model_" + ticker + ".json"), ec)) {
        r.model_final_path = Rel(run_dir_rel, "model_" + ticker + ".json");
      } else if (fs::exists(dir / "model.json", ec)) {
        r.model_final_path = Rel(run_dir_rel, "model.json");
      }
    }
    r.config_path = run.config_path;
    r.metrics_path = metrics_rel;
    r.manifest_path = manifest ? Rel(run_dir_rel, "manifest.json") : "";
    r.start_time = run.start_time;
    r.end_time = run.end_time;
    r.status = run.status;
    if (!rd.ok()) return false;
    out.push_back(std::move(r));
  }
  return true;
}

std::vector<std::string> ListDirNames(const fs::path& root, std::vector<IndexProblem>& problems, const char* kind,
                                      const std::string& root_rel) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::exists(root, ec)) return names;
  fs::directory_iterator it(root, ec), end;
  if (ec) {
    problems.push_back({"workspace", "", root_rel, "cannot list: " + ec.message()});
    return names;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      problems.push_back({"workspace", "", root_rel, "listing stopped: " + ec.message()});
      break;
    }
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // hidden / temporary folders
    if (!IsSafeIdentifier(name)) {
      problems.push_back({kind, name.substr(0, 128), root_rel + "/" + name.substr(0, 128),
                          "directory name is not a safe identifier ([A-Za-z0-9_.-], at most 128 characters)"});
      continue;
    }
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Json IndexReport::ToJson() const {
  Json list = Json::array();
  for (const auto& p : problems) {
    list.push_back({{"kind", p.kind}, {"id", p.id}, {"file", p.file}, {"message", p.message}});
  }
  return Json{{"runs_indexed", runs_indexed},         {"rows_indexed", rows_indexed},
              {"runs_removed", runs_removed},         {"backtests_indexed", backtests_indexed},
              {"backtests_removed", backtests_removed}, {"problems", list},
              {"seconds", seconds}, {"read_seconds", read_seconds}, {"store_seconds", store_seconds},
              {"export_seconds", export_seconds}};
}

namespace {

// What is wrong with which file of a run.
struct RunFileProblem {
  std::string file;
  std::string message;
};

// The run's summary fields from metrics.json (read through `rd`), then manifest.json for those
// metrics.json leaves empty, then the defaults.
// model.params of a run's resolved config, scalars only (the runs list's parameter columns and
// sort keys); {} when the file or the key is absent or unreadable (not a problem of the run).
Json ModelParams(const fs::path& config) {
  Json out = Json::object();
  auto text = ReadFile(config);
  if (!text.ok()) return out;
  auto parsed = YamlToJson(*text);
  if (!parsed.ok() || !parsed->is_object()) return out;
  const auto model = parsed->find("model");
  if (model == parsed->end() || !model->is_object()) return out;
  const auto params = model->find("params");
  if (params == model->end() || !params->is_object()) return out;
  for (const auto& [key, value] : params->items()) {
    if (value.is_number() || value.is_string() || value.is_boolean()) out[key] = value;
  }
  return out;
}

std::optional<RunFileProblem> ReadRunSummary(const Json& metrics, const Json* manifest, FieldReader& rd,
                                             const fs::path& dir, const std::string& run_dir_rel, RunSummary& run) {
  const std::string declared_id = rd.String(metrics, "run_id");
  if (rd.ok() && !declared_id.empty() && declared_id != run.run_id) {
    rd.Fail("run_id", "is '" + declared_id.substr(0, 128) + "' but the directory is '" + run.run_id + "'");
  }
  run.project = rd.String(metrics, "project");
  run.mode = rd.String(metrics, "mode");
  run.status = rd.String(metrics, "status");
  run.start_time = rd.String(metrics, "start_time");
  run.end_time = rd.String(metrics, "end_time");
  run.dataset = rd.String(metrics, "dataset");
  if (!rd.ok()) return RunFileProblem{rd.file(), rd.problem()};
  if (manifest) {
    FieldReader mr(Rel(run_dir_rel, "manifest.json"));
    if (run.project.empty()) run.project = mr.String(*manifest, "project");
    if (run.mode.empty()) run.mode = mr.String(*manifest, "mode");
    if (run.status.empty()) run.status = mr.String(*manifest, "status");
    if (run.start_time.empty()) run.start_time = mr.String(*manifest, "start_time");
    if (run.end_time.empty()) run.end_time = mr.String(*manifest, "end_time");
    if (run.dataset.empty()) run.dataset = mr.String(*manifest, "dataset");
  }
  if (run.mode.empty()) run.mode = "base";
  if (run.status.empty()) run.status = "success";
  // The resolved config inside the run reproduces it; fall back to the config it was started with.
  std::error_code ec;
  if (fs::exists(dir / "config.yaml", ec)) {
    run.config_path = Rel(run_dir_rel, "config.yaml");
    run.model_params = ModelParams(dir / "config.yaml");
  } else {
    run.config_path = rd.String(metrics, "config_path");
  }
  return std::nullopt;
}

// eval-metrics re-evaluations in a run directory: (mode, path of metrics_eval_<mode>.json), sorted.
std::vector<std::pair<std::string, fs::path>> ListEvalFiles(const fs::path& dir) {
  std::vector<std::pair<std::string, fs::path>> evals;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    constexpr std::string_view kPrefix = "metrics_eval_";
    constexpr std::string_view kSuffix = ".json";
    if (name.size() <= kPrefix.size() + kSuffix.size() || name.compare(0, kPrefix.size(), kPrefix) != 0 ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
      continue;
    }
    evals.emplace_back(name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size()), it->path());
  }
  std::sort(evals.begin(), evals.end());
  return evals;
}

// Each metrics_eval_<mode>.json replaces the rows of its mode (it is newer than metrics.json).
std::optional<RunFileProblem> ApplyEvalFiles(const fs::path& root, const fs::path& dir, const std::string& run_dir_rel,
                                             const Json* manifest,
                                             RunSummary& run, std::vector<RegistryRow>& rows) {
  for (const auto& [mode, path] : ListEvalFiles(dir)) {
    const std::string eval_rel = Rel(run_dir_rel, path.filename().string());
    if (!IsSafeIdentifier(mode)) return RunFileProblem{eval_rel, "mode in the file name is not a safe identifier"};
    std::string why;
    auto eval = ReadJsonObject(root, path, why);
    if (!eval) return RunFileProblem{eval_rel, why};
    FieldReader er(eval_rel);
    const std::string declared_mode = er.String(*eval, "mode");
    if (er.ok() && !declared_mode.empty() && declared_mode != mode) {
      er.Fail("mode", "is '" + declared_mode.substr(0, 64) + "' but the file name says '" + mode + "'");
    }
    std::vector<RegistryRow> eval_rows;
    if (!er.ok() || !RowsFromMetrics(*eval, er, run.run_id, mode, eval_rel, run, manifest, run_dir_rel, dir, eval_rows)) {
      return RunFileProblem{eval_rel, er.problem()};
    }
    std::erase_if(rows, [&](const RegistryRow& r) { return r.mode == mode; });
    rows.insert(rows.end(), eval_rows.begin(), eval_rows.end());
    run.eval_modes.push_back(mode);
  }
  return std::nullopt;
}

}  // namespace

std::optional<IndexedRun> ReadRunDir(const Workspace& ws, const fs::path& dir, const std::string& now,
                                     std::vector<IndexProblem>& problems) {
  const std::string run_id = dir.filename().string();
  const std::string run_dir_rel = "runs/" + run_id;
  auto problem = [&](const std::string& file, const std::string& message) {
    problems.push_back({"run", run_id, file, message});
    return std::nullopt;
  };
  if (!IsSafeIdentifier(run_id)) return problem(run_dir_rel, "run directory name is not a safe identifier");
  if (!IsDirectoryConfined(ws.root(), dir)) {
    return problem(run_dir_rel, "run directory leads outside the workspace (symlink); not indexed");
  }

  const std::string metrics_rel = Rel(run_dir_rel, "metrics.json");
  std::string why;
  auto metrics = ReadJsonObject(ws.root(), dir / "metrics.json", why);
  if (!metrics) {
    if (why == "file is missing") why += " (the run is unfinished, or failed before writing its metrics)";
    return problem(metrics_rel, why);
  }
  std::optional<Json> manifest;
  std::error_code ec;
  if (fs::exists(dir / "manifest.json", ec)) {
    manifest = ReadJsonObject(ws.root(), dir / "manifest.json", why);
    if (!manifest) return problem(Rel(run_dir_rel, "manifest.json"), why);
  }
  const Json* manifest_ptr = manifest ? &*manifest : nullptr;

  FieldReader rd(metrics_rel);
  IndexedRun out;
  RunSummary& run = out.run;
  run.run_id = run_id;
  if (auto p = ReadRunSummary(*metrics, manifest_ptr, rd, dir, run_dir_rel, run)) return problem(p->file, p->message);
  run.indexed_at = now;

  std::vector<RegistryRow> rows;
  if (!RowsFromMetrics(*metrics, rd, run_id, run.mode, metrics_rel, run, manifest_ptr, run_dir_rel, dir, rows)) {
    return problem(metrics_rel, rd.problem());
  }
  if (auto p = ApplyEvalFiles(ws.root(), dir, run_dir_rel, manifest_ptr, run, rows)) return problem(p->file, p->message);

  std::set<std::string> tickers;
  for (const auto& r : rows) tickers.insert(r.ticker);
  run.tickers.assign(tickers.begin(), tickers.end());
  out.rows = std::move(rows);
  (void)ws;
  return out;
}

namespace {

// A backtest folder as its problems name it: its id, the folder and its summary.json
// (workspace-relative); Problem records one and returns nullopt.
struct BacktestPlace {
  std::string id;
  std::string dir_rel;
  std::string summary_rel;
  std::vector<IndexProblem>& problems;

  BacktestPlace(const std::string& bt_run_id, std::vector<IndexProblem>& out)
      : id(bt_run_id), dir_rel("backtests/" + bt_run_id), summary_rel(Rel(dir_rel, "summary.json")), problems(out) {}
  std::nullopt_t Problem(const std::string& file, const std::string& message) const {
    problems.push_back({"backtest", id, file, message});
    return std::nullopt;
  }
};

std::optional<BacktestSummaryRow> BacktestRowFromSummary(const fs::path& dir, const Json& summary, bool has_config,
                                                         const std::string& now, std::vector<IndexProblem>& problems);

}  // namespace

std::optional<BacktestSummaryRow> ReadBacktestDir(const Workspace& ws, const fs::path& dir, const std::string& now,
                                                  std::vector<IndexProblem>& problems) {
  const BacktestPlace at(dir.filename().string(), problems);
  if (!IsSafeIdentifier(at.id)) return at.Problem(at.dir_rel, "backtest directory name is not a safe identifier");
  if (!IsDirectoryConfined(ws.root(), dir)) {
    return at.Problem(at.dir_rel, "backtest directory leads outside the workspace (symlink); not indexed");
  }
  std::string why;
  auto s = ReadJsonObject(ws.root(), dir / "summary.json", why);
  if (!s) {
    if (why == "file is missing") why += " (the backtest is unfinished or failed)";
    return at.Problem(at.summary_rel, why);
  }
  std::error_code ec;
  const bool has_config = fs::exists(dir / "config.yaml", ec);
  return BacktestRowFromSummary(dir, *s, has_config, now, problems);
}

std::optional<BacktestSummaryRow> ReadWrittenBacktest(const Workspace& ws, const std::string& bt_run_id,
                                                      std::string_view summary_json, const std::string& now,
                                                      std::vector<IndexProblem>& problems) {
  const BacktestPlace at(bt_run_id, problems);
  if (!IsSafeIdentifier(bt_run_id)) return at.Problem(at.dir_rel, "backtest directory name is not a safe identifier");
  std::string why;
  auto s = ParseJsonObject(summary_json, why);
  if (!s) return at.Problem(at.summary_rel, why);
  return BacktestRowFromSummary(ws.BacktestsDir() / bt_run_id, *s, /*has_config=*/true, now, problems);
}

namespace {

// The row of backtests/<id>/ (`dir`) from its parsed summary.json; `has_config`: the folder
// holds its config.yaml.
std::optional<BacktestSummaryRow> BacktestRowFromSummary(const fs::path& dir, const Json& summary, bool has_config,
                                                         const std::string& now, std::vector<IndexProblem>& problems) {
  const BacktestPlace at(dir.filename().string(), problems);
  const std::string& id = at.id;
  const std::string& dir_rel = at.dir_rel;
  const std::string& summary_rel = at.summary_rel;
  auto problem = [&](const std::string& file, const std::string& message) { return at.Problem(file, message); };
  const Json* s = &summary;
  FieldReader rd(summary_rel);
  BacktestSummaryRow b;
  b.bt_run_id = id;
  const std::string declared = rd.String(*s, "bt_run_id");
  if (rd.ok() && !declared.empty() && declared != id) {
    rd.Fail("bt_run_id", "is '" + declared.substr(0, 128) + "' but the directory is '" + id + "'");
  }
  b.created_at = rd.String(*s, "created_at");
  auto strategy = s->find("strategy");
  if (strategy != s->end() && strategy->is_object()) {
    b.strategy_type = rd.String(*strategy, "type", "strategy.");
  } else if (strategy != s->end() && strategy->is_string()) {
    b.strategy_type = strategy->get<std::string>();
  } else if (strategy != s->end() && !strategy->is_null()) {
    rd.Fail("strategy", std::string("must be an object {type, params}, got ") + strategy->type_name());
  }
  b.dataset = rd.String(*s, "dataset");
  auto tickers = s->find("tickers");
  if (tickers != s->end() && tickers->is_array()) {
    for (const auto& t : *tickers) {
      if (!t.is_string()) {
        rd.Fail("tickers", "must be a list of strings");
        break;
      }
      b.tickers.push_back(t.get<std::string>());
    }
  } else if (tickers != s->end() && tickers->is_string()) {
    b.tickers.push_back(tickers->get<std::string>());
  } else if (tickers != s->end() && !tickers->is_null()) {
    rd.Fail("tickers", std::string("must be a list of strings, got ") + tickers->type_name());
  }
  std::sort(b.tickers.begin(), b.tickers.end());
  b.tickers.erase(std::unique(b.tickers.begin(), b.tickers.end()), b.tickers.end());
  b.start = rd.String(*s, "start");
  b.end = rd.String(*s, "end");
  b.model_path = rd.String(*s, "model_path");
  b.model_run_id = rd.String(*s, "model_run_id");
  if (b.model_path.empty() && strategy != s->end() && strategy->is_object()) {
    auto params = strategy->find("params");
    if (params != strategy->end() && params->is_object()) b.model_path = rd.String(*params, "model_path", "strategy.params.");
  }
  if (b.model_run_id.empty() && b.model_path.rfind("runs/", 0) == 0) {
    const auto slash = b.model_path.find('/', 5);
    if (slash != std::string::npos) b.model_run_id = b.model_path.substr(5, slash - 5);
  }
  b.config_path = rd.String(*s, "config_path");
  if (has_config) b.config_path = Rel(dir_rel, "config.yaml");
  b.cagr = rd.Double(*s, "cagr");
  b.max_drawdown = rd.Double(*s, "max_drawdown");
  b.sharpe = rd.Double(*s, "sharpe");
  b.sortino = rd.Double(*s, "sortino");
  b.volatility = rd.Double(*s, "volatility");
  b.total_return = rd.Double(*s, "total_return");
  b.trades = rd.Int(*s, "trades");
  b.win_rate = rd.Double(*s, "win_rate");
  b.exposure = rd.Double(*s, "exposure");
  b.final_equity = rd.Double(*s, "final_equity");
  b.initial_cash = rd.Double(*s, "initial_cash");
  if (!rd.ok()) return problem(summary_rel, rd.problem());
  if (b.created_at.empty()) {
    // Older summaries without created_at: use the file time so "newest first" still works.
    std::error_code ec;
    auto mtime = fs::last_write_time(dir / "summary.json", ec);
    if (!ec) {
      b.created_at = FormatIso8601(std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::file_clock::to_sys(mtime)));
    }
  }
  b.summary_json = DumpJson(*s);
  b.indexed_at = now;
  return b;
}

// How one kind of folder (runs/, backtests/) is read and stored.
template <typename Row>
struct FolderKind {
  // nullopt: broken (reported in `problems`). With `parallel_read` it is called from two
  // threads at once and must touch nothing but its arguments.
  std::function<std::optional<Row>(const std::string& id, std::vector<IndexProblem>& problems)> read;
  std::function<Status(const std::vector<Row>&)> upsert;
  std::function<Status(const std::string& id)> remove;
  std::function<Result<std::vector<std::string>>()> list_ids;
  int64_t* indexed;  // IndexReport counters
  int64_t* removed;
  bool parallel_read = false;
};

// Reads each folder (a broken one drops the rows indexed from it before), stores them in
// batches, and with `prune` deletes the rows whose folder is gone.
template <typename Row>
Status IndexFolders(const std::vector<std::string>& ids, bool prune, const FolderKind<Row>& kind,
                    IndexReport& report) {
  using SteadyClock = std::chrono::steady_clock;
  auto since = [](SteadyClock::time_point t) { return std::chrono::duration<double>(SteadyClock::now() - t).count(); };
  std::vector<Row> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    const auto t = SteadyClock::now();
    RETURN_IF_ERROR(kind.upsert(batch));
    report.store_seconds += since(t);
    batch.clear();
    return Status::Ok();
  };
  // Folders are read a window at a time (on two threads when the kind allows it: the reads,
  // file opens and JSON parsing, are most of the work), then stored in id order.
  const size_t readers = kind.parallel_read && ids.size() >= 16 ? 2 : 1;
  std::vector<std::optional<Row>> rows;
  std::vector<std::vector<IndexProblem>> problems;
  for (size_t from = 0; from < ids.size(); from += kBatchSize) {
    const size_t n = std::min(kBatchSize, ids.size() - from);
    rows.assign(n, std::nullopt);
    problems.assign(n, {});
    const auto t_read = SteadyClock::now();
    auto read = [&](size_t first) {
      for (size_t i = first; i < n; i += readers) rows[i] = kind.read(ids[from + i], problems[i]);
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < readers; ++t) pool.emplace_back(read, t);
    read(0);
    for (auto& t : pool) t.join();
    report.read_seconds += since(t_read);
    for (size_t i = 0; i < n; ++i) {
      for (auto& p : problems[i]) report.problems.push_back(std::move(p));
      if (!rows[i]) {
        RETURN_IF_ERROR(kind.remove(ids[from + i]));
        continue;
      }
      ++*kind.indexed;
      batch.push_back(std::move(*rows[i]));
      if (batch.size() >= kBatchSize) RETURN_IF_ERROR(flush());
    }
  }
  RETURN_IF_ERROR(flush());
  if (!prune) return Status::Ok();
  const std::set<std::string> on_disk(ids.begin(), ids.end());
  ASSIGN_OR_RETURN(auto indexed, kind.list_ids());
  for (const auto& id : indexed) {
    if (!on_disk.count(id)) {
      RETURN_IF_ERROR(kind.remove(id));
      ++*kind.removed;
    }
  }
  return Status::Ok();
}

}  // namespace

Status Indexer::IndexRunsLocked(const std::vector<std::string>& run_ids, bool prune, IndexReport& report) {
  const std::string now = FormatIso8601(clock_.Now());
  FolderKind<IndexedRun> kind{
      [&](const std::string& id, std::vector<IndexProblem>& problems) {
        auto run = ReadRunDir(ws_, ws_.RunsDir() / id, now, problems);
        if (run) report.rows_indexed += static_cast<int64_t>(run->rows.size());
        return run;
      },
      [&](const std::vector<IndexedRun>& batch) { return store_.ReplaceRuns(batch); },
      [&](const std::string& id) { return store_.DeleteRun(id); },
      [&] { return store_.ListRunIds(); },
      &report.runs_indexed, &report.runs_removed};
  return IndexFolders(run_ids, prune, kind, report);
}

Status Indexer::IndexBacktestsLocked(const std::vector<std::string>& ids, bool prune, IndexReport& report,
                                     const std::vector<std::string_view>* texts) {
  const std::string now = FormatIso8601(clock_.Now());
  std::unordered_map<std::string_view, std::string_view> text_of;
  if (texts) {
    for (size_t i = 0; i < ids.size(); ++i) text_of.emplace(ids[i], (*texts)[i]);
  }
  FolderKind<BacktestSummaryRow> kind{
      [&](const std::string& id, std::vector<IndexProblem>& problems) {
        if (texts) return ReadWrittenBacktest(ws_, id, text_of.at(id), now, problems);
        return ReadBacktestDir(ws_, ws_.BacktestsDir() / id, now, problems);
      },
      [&](const std::vector<BacktestSummaryRow>& batch) { return store_.UpsertBacktests(batch); },
      [&](const std::string& id) { return store_.DeleteBacktest(id); },
      [&] { return store_.ListBacktestIds(); },
      &report.backtests_indexed, &report.backtests_removed, /*parallel_read=*/true};
  return IndexFolders(ids, prune, kind, report);
}

Result<IndexReport> Indexer::IndexAll(const std::set<std::string>& skip_backtests) {
  std::lock_guard lock(mu_);
  const auto t0 = std::chrono::steady_clock::now();
  IndexReport report;
  const auto runs = ListDirNames(ws_.RunsDir(), report.problems, "run", "runs");
  RETURN_IF_ERROR(IndexRunsLocked(runs, /*prune=*/true, report));
  auto bts = ListDirNames(ws_.BacktestsDir(), report.problems, "backtest", "backtests");
  if (!skip_backtests.empty()) {
    std::erase_if(bts, [&](const std::string& id) { return skip_backtests.count(id) > 0; });
  }
  RETURN_IF_ERROR(IndexBacktestsLocked(bts, /*prune=*/true, report));
  const auto t_export = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(Export());
  report.export_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_export).count();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

Result<IndexReport> Indexer::IndexRun(const std::string& run_id, bool export_after) {
  if (!IsSafeIdentifier(run_id)) return Status::InvalidArgument("run_id '" + run_id.substr(0, 128) + "' is not a safe identifier");
  std::lock_guard lock(mu_);
  const auto t0 = std::chrono::steady_clock::now();
  IndexReport report;
  std::error_code ec;
  if (!fs::is_directory(ws_.RunsDir() / run_id, ec)) {
    RETURN_IF_ERROR(store_.DeleteRun(run_id));
    report.problems.push_back({"run", run_id, "runs/" + run_id, "run directory does not exist"});
  } else {
    RETURN_IF_ERROR(IndexRunsLocked({run_id}, /*prune=*/false, report));
  }
  if (export_after) RETURN_IF_ERROR(Export());
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

Result<IndexReport> Indexer::IndexBacktest(const std::string& bt_run_id) {
  if (!IsSafeIdentifier(bt_run_id)) {
    return Status::InvalidArgument("bt_run_id '" + bt_run_id.substr(0, 128) + "' is not a safe identifier");
  }
  std::lock_guard lock(mu_);
  IndexReport report;
  std::error_code ec;
  if (!fs::is_directory(ws_.BacktestsDir() / bt_run_id, ec)) {
    RETURN_IF_ERROR(store_.DeleteBacktest(bt_run_id));
    report.problems.push_back({"backtest", bt_run_id, "backtests/" + bt_run_id, "backtest directory does not exist"});
    return report;
  }
  RETURN_IF_ERROR(IndexBacktestsLocked({bt_run_id}, /*prune=*/false, report));
  return report;
}

Result<IndexReport> Indexer::IndexBacktests(const std::vector<std::string>& bt_run_ids) {
  std::lock_guard lock(mu_);
  IndexReport report;
  std::vector<std::string> present;
  present.reserve(bt_run_ids.size());
  for (const std::string& id : bt_run_ids) {
    if (!IsSafeIdentifier(id)) {
      report.problems.push_back({"backtest", id.substr(0, 128), "", "bt_run_id is not a safe identifier"});
      continue;
    }
    std::error_code ec;
    if (!fs::is_directory(ws_.BacktestsDir() / id, ec)) {
      RETURN_IF_ERROR(store_.DeleteBacktest(id));
      report.problems.push_back({"backtest", id, "backtests/" + id, "backtest directory does not exist"});
      continue;
    }
    present.push_back(id);
  }
  RETURN_IF_ERROR(IndexBacktestsLocked(present, /*prune=*/false, report));
  return report;
}

Result<IndexReport> Indexer::IndexWrittenBacktests(std::span<const WrittenBacktest> written) {
  std::lock_guard lock(mu_);
  IndexReport report;
  std::vector<std::string> ids;
  std::vector<std::string_view> texts;
  ids.reserve(written.size());
  texts.reserve(written.size());
  for (const WrittenBacktest& w : written) {
    ids.push_back(w.bt_run_id);
    texts.push_back(w.summary_json);
  }
  RETURN_IF_ERROR(IndexBacktestsLocked(ids, /*prune=*/false, report, &texts));
  return report;
}

Status Indexer::Export() {
  std::vector<RegistryRow> rows;
  RETURN_IF_ERROR(store_.ScanModels([&](const RegistryRow& r) {
    rows.push_back(r);
    return Status::Ok();
  }));
  // models.json is written row by row (one small object at a time) instead of one big DOM.
  std::string json = "{\n  \"columns\": " + Json(RegistryColumns()).dump() + ",\n  \"sort\": \"" +
                     std::string(kDefaultRegistrySort) + "\",\n  \"total\": " + std::to_string(rows.size()) +
                     ",\n  \"items\": [";
  for (size_t i = 0; i < rows.size(); ++i) {
    json += i ? ",\n    " : "\n    ";
    json += DumpJson(RegistryRowToJson(rows[i]));
  }
  json += rows.empty() ? "]\n}\n" : "\n  ]\n}\n";
  const fs::path dir = ws_.RegistryReportsDir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir.string() + ": " + ec.message());
  RETURN_IF_ERROR(WriteFileAtomic(dir / "models.csv", RegistryRowsToCsv(rows)));
  return WriteFileAtomic(dir / "models.json", json);
}

}  // namespace alphalab::registry

#include "registry/results_reader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <system_error>

#include "core/clock.hpp"
#include "core/confined_open.hpp"
#include "core/csv.hpp"
#include "core/ids.hpp"

namespace alphalab::registry {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxDetailFileBytes = 256u << 20;

std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  const char* begin = s.data();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Json ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted: always a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  int64_t i = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && ptr == s.data() + s.size()) return i;
  if (s.find_first_of(".eE") != std::string::npos) {
    if (auto d = ParseNumber(s)) return *d;
  }
  return s;
}

// A mapping key as text; a collection used as a key (legal YAML) is dumped, never converted
// (yaml-cpp throws on a non-scalar key).
std::string KeyText(const YAML::Node& key) {
  if (key.IsScalar()) return key.Scalar();
  if (!key.IsDefined() || key.IsNull()) return "";
  return YAML::Dump(key);
}

Json NodeToJson(const YAML::Node& node, int depth) {
  if (depth > 64) return nullptr;
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& item : node) arr.push_back(NodeToJson(item, depth + 1));
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : node) obj[KeyText(kv.first)] = NodeToJson(kv.second, depth + 1);
      return obj;
    }
  }
  return nullptr;
}

Json FileList(const fs::path& dir) {
  Json files = Json::array();
  std::vector<fs::directory_entry> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(*it);
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  for (const auto& e : entries) {
    std::error_code st;
    const bool is_file = e.is_regular_file(st);
    Json f{{"name", e.path().filename().string()}, {"type", is_file ? "file" : "dir"}};
    if (is_file) {
      f["size"] = static_cast<int64_t>(e.file_size(st));
      auto mtime = e.last_write_time(st);
      if (!st) f["mtime"] = FormatIso8601(std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::file_clock::to_sys(mtime)));
    }
    files.push_back(std::move(f));
  }
  return files;
}

// Every read goes through the one confined open rooted at the workspace: a planted symlink
// (runs/x/config.yaml -> /etc/passwd) is refused, one that stays inside the workspace works.
Result<std::string> ReadSmallFile(const fs::path& root, const fs::path& path) {
  auto text = ReadFileConfined(root, path, kMaxDetailFileBytes);
  if (text.ok()) return text;
  const std::string name = path.filename().string();
  if (text.status().IsNotFound()) return Status::NotFound(name + " is missing");
  if (text.status().code() == StatusCode::kResourceExhausted) {
    return Status::ResourceExhausted(name + " is too large to show");
  }
  return text.status();
}

// Reads and parses a JSON file if present: value, null when absent, {"error": ...} when broken.
Json OptionalJsonFile(const fs::path& root, const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return nullptr;
  auto text = ReadSmallFile(root, path);
  if (!text.ok()) return Json{{"error", text.status().message()}};
  auto j = ParseJson(*text);
  if (!j.ok()) return Json{{"error", path.filename().string() + " is not valid JSON (or nested too deeply)"}};
  return std::move(j).value();
}

Json ConfigBlock(const fs::path& root, const fs::path& dir, const std::string& dir_rel) {
  const fs::path path = dir / "config.yaml";
  std::error_code ec;
  if (!fs::exists(path, ec)) return nullptr;
  Json block{{"path", dir_rel + "/config.yaml"}};
  auto text = ReadSmallFile(root, path);
  if (!text.ok()) {
    block["error"] = text.status().message();
    return block;
  }
  block["raw"] = *text;
  auto parsed = YamlToJson(*text);
  if (parsed.ok()) {
    block["parsed"] = *parsed;
  } else {
    block["parsed"] = nullptr;
    block["error"] = parsed.status().message();
  }
  return block;
}

Result<fs::path> SafeChild(const fs::path& root, const std::string& id, const char* what) {
  if (!IsSafeIdentifier(id)) {
    return Status::InvalidArgument(std::string(what) + " '" + id.substr(0, 128) +
                                       "' is not a valid identifier ([A-Za-z0-9_.-], at most 128 characters)",
                                   {{"id", id.substr(0, 128)}});
  }
  fs::path dir = root / id;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(std::string(what) + " '" + id + "' does not exist");
  // A symlinked folder must still resolve inside its parent folder.
  fs::path canon = fs::weakly_canonical(dir, ec);
  fs::path root_canon = fs::weakly_canonical(root, ec);
  if (ec || !IsWithin(root_canon, canon)) {
    return Status::InvalidArgument(std::string(what) + " '" + id + "' resolves outside the workspace");
  }
  return dir;
}

}  // namespace

Result<Json> YamlToJson(const std::string& text) {
  try {
    YAML::Node node = YAML::Load(text);
    return NodeToJson(node, 0);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("invalid YAML: ") + e.what());
  }
}

Result<Json> ParseCsv(const std::string& text) {
  ASSIGN_OR_RETURN(std::vector<CsvRecord> parsed, ParseCsvRecords(text));
  std::vector<std::vector<std::string>> records;
  records.reserve(parsed.size());
  for (CsvRecord& r : parsed) records.push_back(std::move(r.fields));
  if (records.empty()) return Status::InvalidArgument("CSV has no header line");
  Json out{{"columns", records[0]}, {"rows", Json::array()}};
  for (size_t r = 1; r < records.size(); ++r) {
    Json row = Json::array();
    for (const auto& c : records[r]) {
      if (c.empty()) {
        row.push_back(nullptr);
      } else if (auto d = ParseNumber(c)) {
        const double v = *d;
        if (v == std::floor(v) && std::fabs(v) < 9e15 && c.find_first_of(".eE") == std::string::npos) {
          row.push_back(static_cast<int64_t>(v));
        } else {
          row.push_back(v);
        }
      } else {
        row.push_back(c);
      }
    }
    out["rows"].push_back(std::move(row));
  }
  return out;
}

std::vector<size_t> DownsampleIndices(const std::vector<double>& values, const std::vector<double>* secondary,
                                      size_t points) {
  const size_t n = values.size();
  std::vector<size_t> keep;
  if (n <= points) {
    for (size_t i = 0; i < n; ++i) keep.push_back(i);
    return keep;
  }
  if (points < 4) return n == 0 ? keep : std::vector<size_t>{0, n - 1};
  keep.push_back(0);
  keep.push_back(n - 1);
  keep.push_back(static_cast<size_t>(std::max_element(values.begin(), values.end()) - values.begin()));
  if (secondary && secondary->size() == n) {
    // Deepest drawdown: the value furthest from zero (engines write drawdown as <= 0 or >= 0).
    size_t deepest = 0;
    for (size_t i = 1; i < n; ++i) {
      if (std::fabs((*secondary)[i]) > std::fabs((*secondary)[deepest])) deepest = i;
    }
    keep.push_back(deepest);
  }
  // Four slots are reserved for first, last, max and deepest drawdown (whether or not they
  // coincide), the rest is two points (min and max) per bucket over the interior, so the
  // result never exceeds `points`.
  const size_t buckets = (points - 4) / 2;
  const size_t interior = n - 2;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t lo = 1 + b * interior / buckets;
    const size_t hi = 1 + (b + 1) * interior / buckets;
    if (lo >= hi) continue;
    size_t mn = lo, mx = lo;
    for (size_t i = lo; i < hi; ++i) {
      if (values[i] < values[mn]) mn = i;
      if (values[i] > values[mx]) mx = i;
    }
    keep.push_back(mn);
    keep.push_back(mx);
  }
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  return keep;
}

Result<fs::path> RunDir(const Workspace& ws, const std::string& run_id) { return SafeChild(ws.RunsDir(), run_id, "run"); }

Result<fs::path> BacktestDir(const Workspace& ws, const std::string& bt_run_id) {
  return SafeChild(ws.BacktestsDir(), bt_run_id, "backtest");
}

Result<Json> ReadRunFiles(const Workspace& ws, const std::string& run_id) {
  ASSIGN_OR_RETURN(fs::path dir, RunDir(ws, run_id));
  const std::string rel = "runs/" + run_id;
  Json out{{"run_id", run_id}, {"run_dir", rel}};
  out["config"] = ConfigBlock(ws.root(), dir, rel);
  out["manifest"] = OptionalJsonFile(ws.root(), dir / "manifest.json");
  Json metrics = Json::object();
  Json base = OptionalJsonFile(ws.root(), dir / "metrics.json");
  if (!base.is_null()) {
    std::string mode = base.is_object() && base.contains("mode") && base["mode"].is_string()
                           ? base["mode"].get<std::string>()
                           : "base";
    metrics[mode] = {{"source", rel + "/metrics.json"}, {"data", base}};
  }
  std::error_code ec;
  std::vector<std::string> eval_files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("metrics_eval_", 0) == 0 && name.size() > 18 && name.substr(name.size() - 5) == ".json") {
      eval_files.push_back(name);
    }
  }
  std::sort(eval_files.begin(), eval_files.end());
  for (const auto& name : eval_files) {
    const std::string mode = name.substr(13, name.size() - 18);
    Json data = OptionalJsonFile(ws.root(), dir / name);
    Json entry{{"source", rel + "/" + name}, {"data", data}};
    if (data.is_object() && data.contains("evaluated_at")) entry["evaluated_at"] = data["evaluated_at"];
    metrics[mode] = std::move(entry);  // the re-evaluation wins over metrics.json for its mode
  }
  out["metrics"] = std::move(metrics);
  out["files"] = FileList(dir);
  return out;
}

Result<Json> ReadBacktestFiles(const Workspace& ws, const std::string& bt_run_id, const BacktestDetailOptions& opt) {
  ASSIGN_OR_RETURN(fs::path dir, BacktestDir(ws, bt_run_id));
  const std::string rel = "backtests/" + bt_run_id;
  Json out{{"bt_run_id", bt_run_id}, {"bt_dir", rel}};
  Json summary = OptionalJsonFile(ws.root(), dir / "summary.json");
  if (summary.is_null()) return Status::NotFound("backtest '" + bt_run_id + "' has no summary.json (unfinished or failed)");
  out["summary"] = summary;
  out["statistics"] = summary.is_object() && summary.contains("statistics") ? summary["statistics"] : Json(nullptr);
  out["config"] = ConfigBlock(ws.root(), dir, rel);

  // Equity curve + drawdown series.
  Json curve = Json::array();
  Json drawdown = Json::array();
  size_t total_points = 0;
  bool downsampled = false;
  std::error_code ec;
  if (fs::exists(dir / "equity.csv", ec)) {
    ASSIGN_OR_RETURN(std::string text, ReadSmallFile(ws.root(), dir / "equity.csv"));
    auto csv = ParseCsv(text);
    if (!csv.ok()) return csv.status().WithContext(rel + "/equity.csv");
    const auto& columns = (*csv)["columns"];
    auto col = [&](const char* name) -> int {
      for (size_t i = 0; i < columns.size(); ++i) {
        if (columns[i] == name) return static_cast<int>(i);
      }
      return -1;
    };
    const int c_date = col("date"), c_eq = col("equity"), c_dd = col("drawdown");
    if (c_date < 0 || c_eq < 0) {
      return Status::Internal(rel + "/equity.csv has no date/equity columns",
                              {{"columns", columns}});
    }
    const auto& rows = (*csv)["rows"];
    std::vector<double> equity, dd;
    equity.reserve(rows.size());
    double peak = 0;
    for (const auto& r : rows) {
      const double e = c_eq < static_cast<int>(r.size()) && r[c_eq].is_number() ? r[c_eq].get<double>() : NAN;
      equity.push_back(e);
      if (c_dd >= 0 && c_dd < static_cast<int>(r.size()) && r[c_dd].is_number()) {
        dd.push_back(r[c_dd].get<double>());
      } else {
        peak = std::max(peak, std::isfinite(e) ? e : peak);
        dd.push_back(peak > 0 && std::isfinite(e) ? e / peak - 1.0 : 0.0);  // <= 0, as a fraction
      }
    }
    total_points = rows.size();
    std::vector<size_t> keep;
    if (opt.points && *opt.points < total_points) {
      keep = DownsampleIndices(equity, &dd, *opt.points);
      downsampled = true;
    } else {
      keep.resize(total_points);
      for (size_t i = 0; i < total_points; ++i) keep[i] = i;
    }
    for (size_t i : keep) {
      const auto& r = rows[i];
      Json point = Json::object();
      for (size_t c = 0; c < columns.size() && c < r.size(); ++c) point[columns[c].get<std::string>()] = r[c];
      point["drawdown"] = dd[i];
      drawdown.push_back({{"date", r[c_date]}, {"drawdown", dd[i]}});
      curve.push_back(std::move(point));
    }
  }
  out["equity_curve"] = std::move(curve);
  out["drawdown"] = std::move(drawdown);
  out["equity_points_total"] = total_points;
  out["downsampled"] = downsampled;

  Json trades = Json::array();
  size_t trades_total = 0;
  if (fs::exists(dir / "trades.csv", ec)) {
    ASSIGN_OR_RETURN(std::string text, ReadSmallFile(ws.root(), dir / "trades.csv"));
    auto csv = ParseCsv(text);
    if (!csv.ok()) return csv.status().WithContext(rel + "/trades.csv");
    const auto& columns = (*csv)["columns"];
    const auto& rows = (*csv)["rows"];
    trades_total = rows.size();
    for (size_t i = 0; i < rows.size() && i < opt.max_trades; ++i) {
      Json t = Json::object();
      for (size_t c = 0; c < columns.size() && c < rows[i].size(); ++c) t[columns[c].get<std::string>()] = rows[i][c];
      trades.push_back(std::move(t));
    }
  }
  out["trades"] = std::move(trades);
  out["trades_total"] = trades_total;
  out["files"] = FileList(dir);
  return out;
}

namespace {

// A regular file directly inside `dir` (the folder of `what` `id`): a plain file name (no
// separators, no "..": IsSafeIdentifier), no symlink leaving the folder, at most the small-file
// cap (ReadSmallFile); the content type from the extension.
Result<FileContent> ReadFolderFile(const Workspace& ws, const fs::path& dir, const std::string& what,
                                   const std::string& id, const std::string& name) {
  if (!IsSafeIdentifier(name)) {
    return Status::InvalidArgument("file name '" + name.substr(0, 128) + "' is not allowed (a plain file name inside the " +
                                   what + " folder)");
  }
  const fs::path path = dir / name;
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(path, ec))) {
    fs::path target = fs::weakly_canonical(path, ec);
    if (ec || !IsWithin(fs::weakly_canonical(dir, ec), target)) {
      return Status::InvalidArgument("file '" + name + "' points outside the " + what + " folder");
    }
  }
  if (!fs::is_regular_file(path, ec)) {
    return Status::NotFound(what + " '" + id + "' has no file '" + name + "'");
  }
  ASSIGN_OR_RETURN(std::string body, ReadSmallFile(ws.root(), path));
  FileContent f;
  f.name = name;
  f.body = std::move(body);
  const std::string ext = path.extension().string();
  if (ext == ".csv") f.content_type = "text/csv; charset=utf-8";
  else if (ext == ".json") f.content_type = "application/json";
  else if (ext == ".yaml" || ext == ".yml") f.content_type = "application/yaml";
  else if (ext == ".txt" || ext == ".log" || ext == ".md") f.content_type = "text/plain; charset=utf-8";
  else f.content_type = "application/octet-stream";
  return f;
}

}  // namespace

Result<FileContent> ReadBacktestFile(const Workspace& ws, const std::string& bt_run_id, const std::string& name) {
  ASSIGN_OR_RETURN(fs::path dir, BacktestDir(ws, bt_run_id));
  return ReadFolderFile(ws, dir, "backtest", bt_run_id, name);
}

Result<FileContent> ReadRunFile(const Workspace& ws, const std::string& run_id, const std::string& name) {
  ASSIGN_OR_RETURN(fs::path dir, RunDir(ws, run_id));
  return ReadFolderFile(ws, dir, "run", run_id, name);
}

}  // namespace alphalab::registry

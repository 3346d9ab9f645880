#include "cli/sweep_client.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace alphalab::cli {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxSweepFileBytes = size_t{1} << 20;
constexpr int kMaxDepth = 32;

std::string At(const std::string& file, const YAML::Mark& m) {
  if (m.is_null()) return file;
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

bool IsYamlNull(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// A plain integer: optional sign, decimal digits only, in int64 range.
std::optional<int64_t> PlainInt(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size()) return std::nullopt;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE || end != s.c_str() + s.size()) return std::nullopt;
  return static_cast<int64_t>(v);
}

// A plain decimal number (1.5, -0.25, 1e-3, .5); no hex, no inf/nan words.
std::optional<double> PlainDouble(const std::string& s) {
  if (s.empty()) return std::nullopt;
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') {
      return std::nullopt;
    }
  }
  if (!digit) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool IsNonFiniteWord(const std::string& s) {
  static const std::set<std::string> kWords = {".inf", "+.inf", "-.inf", ".Inf", "+.Inf", "-.Inf", ".INF",
                                               "+.INF", "-.INF", ".nan", ".NaN", ".NAN"};
  return kWords.count(s) > 0;
}

class Converter {
 public:
  Converter(const std::string& file, std::map<std::string, int>& lines) : file_(file), lines_(lines) {}

  Result<Json> Convert(const YAML::Node& node, const std::string& path, int depth) {
    if (depth > kMaxDepth) return Error(node, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (!node.Mark().is_null() && !path.empty()) lines_.emplace(path, node.Mark().line + 1);
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return Json(nullptr);
      case YAML::NodeType::Sequence: {
        Json out = Json::array();
        size_t i = 0;
        for (const YAML::Node& item : node) {
          ASSIGN_OR_RETURN(Json v, Convert(item, path + "[" + std::to_string(i) + "]", depth + 1));
          out.push_back(std::move(v));
          ++i;
        }
        return out;
      }
      case YAML::NodeType::Map: {
        Json out = Json::object();
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) return Error(kv.first, "a mapping key must be a plain value");
          const std::string key = kv.first.Scalar();
          const std::string child = path.empty() ? key : path + "." + key;
          if (out.contains(key)) return Error(kv.first, "duplicate key '" + child + "'");
          // The key's line: a null value (`key:`) has no mark of its own.
          if (!kv.first.Mark().is_null()) lines_[child] = kv.first.Mark().line + 1;
          ASSIGN_OR_RETURN(Json v, Convert(kv.second, child, depth + 1));
          if (!kv.first.Mark().is_null()) lines_[child] = kv.first.Mark().line + 1;
          out[key] = std::move(v);
        }
        return out;
      }
      case YAML::NodeType::Scalar:
        return Scalar(node, path);
    }
    return Json(nullptr);
  }

 private:
  Result<Json> Scalar(const YAML::Node& node, const std::string& path) {
    const std::string& s = node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return Json(s);  // quoted or !!str
    if (tag != "?" && !tag.empty()) {
      return Error(node, "unsupported tag '" + tag + "'" + (path.empty() ? "" : " at '" + path + "'"));
    }
    if (IsYamlNull(s)) return Json(nullptr);
    if (s == "true" || s == "True" || s == "TRUE") return Json(true);
    if (s == "false" || s == "False" || s == "FALSE") return Json(false);
    if (auto i = PlainInt(s)) return Json(*i);
    if (auto d = PlainDouble(s)) return Json(*d);
    if (IsNonFiniteWord(s)) return Error(node, "'" + s + "' is not a finite number (at '" + path + "')");
    return Json(s);
  }

  Status Error(const YAML::Node& at, const std::string& message) const {
    return Status::InvalidArgument(At(file_, at.Mark()) + ": " + message);
  }

  const std::string& file_;
  std::map<std::string, int>& lines_;
};

// The enclosing field of a path: "a.b[2]" -> "a.b", "a.b" -> "a", "a" -> "".
std::string Parent(std::string_view path) {
  const size_t cut = path.find_last_of(".[");
  return cut == std::string_view::npos ? std::string() : std::string(path.substr(0, cut));
}

}  // namespace

Json SelectModelsRequest(const SelectModelsOptions& o) {
  Json constraints = Json::array();
  if (o.max_drawdown) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", *o.max_drawdown);
    // the shortest text that reads back to the same double
    for (int p = 1; p <= 17; ++p) {
      char b[64];
      std::snprintf(b, sizeof b, "%.*g", p, *o.max_drawdown);
      if (std::strtod(b, nullptr) == *o.max_drawdown) {
        std::snprintf(buf, sizeof buf, "%s", b);
        break;
      }
    }
    constraints.push_back(std::string("max_drawdown <= ") + buf);
  }
  Json req{{"name", "select models " + o.project},
           {"project", o.project},
           {"job_type", "backtest"},
           {"base_params", Json{{"config_path", o.config}}},
           {"param_space", Json{{"strategy.params.model_path",
                                 Json{{"models", Json{{"project", o.project}, {"status", o.status}}}}}}},
           {"objective", Json{{"metric", o.objective}, {"direction", o.direction}}},
           {"constraints", std::move(constraints)},
           {"max_inflight", o.max_inflight},
           {"top_n", o.top_n}};
  if (o.holdout_start) req["validation"] = Json{{"holdout_start", *o.holdout_start}};
  return req;
}

std::string FormatReport(const Json& r) {
  auto num = [](const Json& v) {
    if (!v.is_number()) return std::string("-");
    char b[64];
    std::snprintf(b, sizeof b, "%.4f", v.get<double>());
    return std::string(b);
  };
  std::string out;
  const Json c = r.value("counts", Json::object());
  out += "counts: models " + c.value("models", Json(0)).dump() + ", tasks " + c.value("total", Json(0)).dump() +
         ", succeeded " + c.value("succeeded", Json(0)).dump() + ", failed " + c.value("failed", Json(0)).dump() +
         ", passing " + c.value("passing", Json(0)).dump() + "\n";
  const std::string metric = r.value("objective", Json::object()).value("metric", std::string("score"));
  int rank = 0;
  for (const Json& e : r.value("top", Json::array())) {
    const Json m = e.value("metrics", Json::object());
    out += "top " + std::to_string(++rank) + ":";
    if (e.contains("model_run_id") && e["model_run_id"].is_string()) out += " run " + e["model_run_id"].get<std::string>();
    out += " " + metric + " " + num(e.value("score", Json()));
    for (const char* k : {"cagr", "max_drawdown", "sharpe"}) {
      if (k != metric) out += std::string(" ") + k + " " + num(m.value(k, Json()));
    }
    if (e.contains("oos_score") && e["oos_score"].is_number()) out += " oos " + num(e["oos_score"]);
    if (e.contains("result_summary_id") && e["result_summary_id"].is_string()) {
      out += " backtest " + e["result_summary_id"].get<std::string>();
    }
    out += "\n";
  }
  const Json d = r.value("deflated_sharpe", Json());
  if (d.is_object()) {
    out += "deflated sharpe: " + num(d.value("value", Json())) + " (" + d.value("reading", std::string()) + "; " +
           d.value("trials", Json(0)).dump() + " trials)\n";
  }
  const Json f = r.value("files", Json::object());
  if (f.contains("report_md")) out += "report: " + f["report_md"].get<std::string>() + "\n";
  if (f.contains("manifest")) out += "manifest: " + f["manifest"].get<std::string>() + "\n";
  return out;
}

std::string SweepDocument::Locate(std::string_view field) const {
  std::string path(field);
  while (!path.empty()) {
    auto it = lines.find(path);
    if (it != lines.end()) return file + ":" + std::to_string(it->second);
    path = Parent(path);
  }
  return file;
}

Result<SweepDocument> ParseSweepYaml(std::string_view text, std::string file) {
  SweepDocument doc;
  doc.file = std::move(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(At(doc.file, e.mark) + ": invalid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) return Status::InvalidArgument(doc.file + ": the sweep file is empty");
  if (!root.IsMap()) {
    return Status::InvalidArgument(At(doc.file, root.Mark()) +
                                   ": the sweep file must be a mapping (name, job_type, param_space, ...)");
  }
  try {
    Converter conv(doc.file, doc.lines);
    ASSIGN_OR_RETURN(doc.request, conv.Convert(root, "", 0));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(At(doc.file, e.mark) + ": invalid YAML: " + e.msg);
  }
  return doc;
}

Result<SweepDocument> LoadSweepFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound(path.string() + ": no such file");
  if (!fs::is_regular_file(path, ec)) return Status::InvalidArgument(path.string() + ": not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec) return Status::InvalidArgument(path.string() + ": " + ec.message());
  if (size > kMaxSweepFileBytes) {
    return Status::InvalidArgument(path.string() + ": larger than " + std::to_string(kMaxSweepFileBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(path.string() + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseSweepYaml(ss.str(), path.string());
}

namespace {
int64_t IntOr0(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<int64_t>() : 0;
}
}  // namespace

SweepCounts CountsOf(const Json& summary) {
  SweepCounts c;
  c.total = IntOr0(summary, "total");
  c.finished = IntOr0(summary, "finished");
  c.failed = IntOr0(summary, "failed");
  c.canceled = IntOr0(summary, "canceled");
  c.running = IntOr0(summary, "running");
  c.queued = IntOr0(summary, "queued");
  if (summary.is_object() && summary.contains("best_score") && summary["best_score"].is_number()) {
    c.best_score = summary["best_score"].get<double>();
  }
  return c;
}

std::string FormatNumber(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string FormatProgressLine(std::string_view status, const SweepCounts& c) {
  std::string s = std::to_string(c.finished) + "/" + std::to_string(c.total) + " finished, " +
                  std::to_string(c.failed) + " failed, " + std::to_string(c.canceled) + " canceled, " +
                  std::to_string(c.running) + " running, best " +
                  (c.best_score ? FormatNumber(*c.best_score) : std::string("-")) + " [" + std::string(status) + "]";
  return s;
}

std::string FormatProgressBar(std::string_view status, const SweepCounts& c, int width) {
  width = std::max(width, 1);
  int filled = 0;
  if (c.total > 0) {
    filled = static_cast<int>(std::min<int64_t>(width, c.ended() * width / c.total));
  }
  std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') +
                    std::string(static_cast<size_t>(width - filled), '-') + "]";
  char counts[160];
  std::snprintf(counts, sizeof counts, " %lld/%lld  finished %lld  failed %lld  best %s  %.*s",
                static_cast<long long>(c.ended()), static_cast<long long>(c.total),
                static_cast<long long>(c.finished), static_cast<long long>(c.failed),
                c.best_score ? FormatNumber(*c.best_score).c_str() : "-", static_cast<int>(status.size()),
                status.data());
  return bar + counts;
}

namespace {
std::string ParamsText(const Json& params) {
  if (!params.is_object()) return params.dump();
  std::string out;
  for (const auto& [k, v] : params.items()) {
    if (!out.empty()) out += ' ';
    out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}
std::string Text(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "-";
  if (j[key].is_string()) return j[key].get<std::string>();
  if (j[key].is_number_float()) return FormatNumber(j[key].get<double>());
  return j[key].dump();
}
}  // namespace

std::string FormatTopN(const Json& summary, std::string_view objective_metric) {
  const Json top = summary.is_object() && summary.contains("top_n") ? summary["top_n"] : Json::array();
  if (!top.is_array() || top.empty()) return "(no ranked task)\n";
  const std::string score_head = objective_metric.empty() ? "SCORE" : std::string(objective_metric);
  size_t score_w = std::max<size_t>(score_head.size(), 5), params_w = 6;
  std::vector<std::array<std::string, 5>> rows;
  int rank = 0;
  for (const Json& e : top) {
    std::array<std::string, 5> r{std::to_string(++rank), Text(e, "index"), Text(e, "score"),
                                 ParamsText(e.value("params", Json::object())), Text(e, "task_id")};
    score_w = std::max(score_w, r[2].size());
    params_w = std::max(params_w, r[3].size());
    rows.push_back(std::move(r));
  }
  std::string out;
  char line[1024];
  std::snprintf(line, sizeof line, "%-4s %6s  %*s  %-*s  %s\n", "RANK", "INDEX", static_cast<int>(score_w),
                score_head.c_str(), static_cast<int>(params_w), "PARAMS", "TASK");
  out += line;
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%-4s %6s  %*s  %-*s  %s\n", r[0].c_str(), r[1].c_str(),
                  static_cast<int>(score_w), r[2].c_str(), static_cast<int>(params_w), r[3].c_str(), r[4].c_str());
    out += line;
  }
  return out;
}

int ExitCodeForStatus(std::string_view status) {
  if (status == "succeeded" || status == "early-stopped") return 0;
  if (status == "failed") return 2;
  if (status == "canceled") return 3;
  return 1;
}

bool IsTerminalSweepStatus(std::string_view status) {
  return status == "succeeded" || status == "failed" || status == "early-stopped" || status == "canceled";
}

bool IsOptimizationId(std::string_view id) {
  // opt_YYYYMMDD_HHMMSS__hash8
  constexpr std::string_view kShape = "opt_00000000_000000__xxxxxxxx";
  if (id.size() != kShape.size()) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char want = kShape[i];
    const char c = id[i];
    if (want == '0') {
      if (c < '0' || c > '9') return false;
    } else if (want == 'x') {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    } else if (c != want) {
      return false;
    }
  }
  return true;
}

Result<fs::path> ExportPath(const Workspace& ws, const std::optional<std::string>& out,
                            std::string_view optimization_id) {
  if (out) {
    if (out->empty()) return Status::InvalidArgument("--out: empty path");
    std::error_code ec;
    const fs::path p = fs::absolute(*out, ec);
    if (ec) return Status::InvalidArgument("--out: " + ec.message());
    if (fs::is_directory(p, ec)) return Status::InvalidArgument("--out: '" + *out + "' is a directory");
    return p;
  }
  if (!IsOptimizationId(optimization_id)) {
    return Status::InvalidArgument("the server returned an optimization id of an unexpected shape: '" +
                                   std::string(optimization_id.substr(0, 80)) + "'");
  }
  return ws.Resolve("reports/optimizations/" + std::string(optimization_id) + ".zip");
}

}  // namespace alphalab::cli

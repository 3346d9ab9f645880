#include "core/job_result.hpp"

#include <cmath>
#include <cstdlib>

#include "core/confined_open.hpp"
#include "core/file_replacer.hpp"
#include "core/ids.hpp"
#include "core/workspace.hpp"

namespace alphalab {

namespace {

constexpr size_t kMaxResultBytes = size_t{1} << 20;

Status Bad(std::string message) {
  return Status::InvalidArgument("result file: " + message, Json{{"file", "result"}});
}

const char* IdKey(ResultKind kind) { return kind == ResultKind::kBacktest ? "bt_run_id" : "run_id"; }
const char* DirKey(ResultKind kind) { return kind == ResultKind::kBacktest ? "bt_dir" : "run_dir"; }

Result<std::string> StringField(const Json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return Bad("'" + where + key + "' must be a string");
  return it->get<std::string>();
}

Status OnlyKeys(const Json& obj, std::initializer_list<std::string_view> keys, const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    bool known = false;
    for (auto key : keys) known = known || key == k;
    if (!known) return Bad("unknown field '" + where + k + "'");
  }
  return Status::Ok();
}

}  // namespace

std::string_view ResultKindName(ResultKind kind) {
  switch (kind) {
    case ResultKind::kRun: return "run";
    case ResultKind::kBacktest: return "backtest";
    case ResultKind::kEvaluation: return "evaluation";
  }
  return "run";
}

std::optional<ResultKind> ParseResultKind(std::string_view name) {
  for (auto kind : {ResultKind::kRun, ResultKind::kBacktest, ResultKind::kEvaluation}) {
    if (ResultKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

JobResult JobResult::Run(std::string job_id, std::string run_id, std::map<std::string, double> metrics) {
  JobResult r;
  r.kind = ResultKind::kRun;
  r.job_id = std::move(job_id);
  r.id = std::move(run_id);
  r.metrics = std::move(metrics);
  return r;
}

JobResult JobResult::Backtest(std::string job_id, std::string bt_run_id, std::map<std::string, double> metrics) {
  JobResult r;
  r.kind = ResultKind::kBacktest;
  r.job_id = std::move(job_id);
  r.id = std::move(bt_run_id);
  r.metrics = std::move(metrics);
  return r;
}

JobResult JobResult::Evaluation(std::string job_id, std::string run_id, std::string output_path,
                                std::map<std::string, double> metrics) {
  JobResult r;
  r.kind = ResultKind::kEvaluation;
  r.job_id = std::move(job_id);
  r.id = std::move(run_id);
  r.output_path = std::move(output_path);
  r.metrics = std::move(metrics);
  return r;
}

std::string JobResult::Dir() const { return (kind == ResultKind::kBacktest ? "backtests/" : "runs/") + id; }

std::string JobResult::SummaryPath() const { return kind == ResultKind::kBacktest ? Dir() + "/summary.json" : ""; }

Json JobResult::Artifacts() const {
  if (kind == ResultKind::kEvaluation) return Json{{"run_id", id}};
  return Json{{IdKey(kind), id}, {DirKey(kind), Dir()}};
}

Json JobResult::ToJson() const {
  Json paths{{DirKey(kind), Dir()}};
  if (kind == ResultKind::kBacktest) paths["summary"] = SummaryPath();
  if (kind == ResultKind::kEvaluation && !output_path.empty()) paths["metrics"] = output_path;
  Json m = Json::object();
  for (const auto& [k, v] : metrics) {
    if (std::isfinite(v)) m[k] = v;
  }
  return Json{{"schema", kJobResultSchema}, {"kind", std::string(ResultKindName(kind))},
              {"job_id", job_id},           {"ids", Json{{IdKey(kind), id}}},
              {"paths", std::move(paths)},  {"metrics", std::move(m)}};
}

std::string JobResultPath(std::string_view job_id) {
  return "reports/jobs/runtime/" + std::string(job_id) + ".result.json";
}

Result<JobResult> ParseJobResult(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("not a JSON object");
  RETURN_IF_ERROR(OnlyKeys(j, {"schema", "kind", "job_id", "ids", "paths", "metrics"}, ""));
  if (!j.contains("schema") || !j["schema"].is_number_integer() || j["schema"].get<int>() != kJobResultSchema) {
    return Bad("'schema' must be " + std::to_string(kJobResultSchema));
  }
  ASSIGN_OR_RETURN(std::string kind_name, StringField(j, "kind", ""));
  auto kind = ParseResultKind(kind_name);
  if (!kind) return Bad("unknown kind '" + kind_name.substr(0, 64) + "' (run, backtest, evaluation)");
  JobResult r;
  r.kind = *kind;
  ASSIGN_OR_RETURN(r.job_id, StringField(j, "job_id", ""));
  if (!IsSafeIdentifier(r.job_id)) return Bad("'job_id' is not an id");
  const Json& ids = j.contains("ids") ? j["ids"] : Json();
  if (!ids.is_object()) return Bad("'ids' must be an object");
  RETURN_IF_ERROR(OnlyKeys(ids, {IdKey(r.kind)}, "ids."));
  ASSIGN_OR_RETURN(r.id, StringField(ids, IdKey(r.kind), "ids."));
  if (!IsSafeIdentifier(r.id)) return Bad(std::string("'ids.") + IdKey(r.kind) + "' is not an id");
  const Json& paths = j.contains("paths") ? j["paths"] : Json();
  if (!paths.is_object()) return Bad("'paths' must be an object");
  RETURN_IF_ERROR(OnlyKeys(paths, {DirKey(r.kind), "summary", "metrics"}, "paths."));
  ASSIGN_OR_RETURN(std::string dir, StringField(paths, DirKey(r.kind), "paths."));
  if (dir != r.Dir()) return Bad(std::string("'paths.") + DirKey(r.kind) + "' must be " + r.Dir());
  if (paths.contains("summary")) {
    ASSIGN_OR_RETURN(std::string summary, StringField(paths, "summary", "paths."));
    if (summary != r.SummaryPath()) return Bad("'paths.summary' must be " + r.SummaryPath());
  }
  if (paths.contains("metrics")) {
    if (r.kind != ResultKind::kEvaluation) return Bad("'paths.metrics' belongs to an evaluation");
    ASSIGN_OR_RETURN(r.output_path, StringField(paths, "metrics", "paths."));
    const std::filesystem::path p(r.output_path);
    if (r.output_path.empty() || p.is_absolute() || p.lexically_normal().string().rfind("..", 0) == 0) {
      return Bad("'paths.metrics' must be a workspace-relative path");
    }
  }
  const Json& metrics = j.contains("metrics") ? j["metrics"] : Json::object();
  if (!metrics.is_object()) return Bad("'metrics' must be an object");
  for (const auto& [k, v] : metrics.items()) {
    if (!v.is_number() || !std::isfinite(v.get<double>())) return Bad("'metrics." + k + "' must be a number");
    r.metrics[k] = v.get<double>();
  }
  return r;
}

Status WriteJobResult(const std::filesystem::path& root, const JobResult& result, FileReplacer* replacer) {
  if (!IsSafeIdentifier(result.job_id)) return Status::InvalidArgument("result file: the job id is not an id");
  const std::filesystem::path path = root / JobResultPath(result.job_id);
  const std::string text = result.ToJson().dump(2) + "\n";
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);  // the job service made it; a hand run may not
  if (replacer) return replacer->Write(path, text);
  return WriteFileAtomic(path, text, FileSync::kNoSync);
}

Result<JobResult> ReadJobResult(const std::filesystem::path& root, std::string_view job_id) {
  if (!IsSafeIdentifier(job_id)) return Status::InvalidArgument("result file: the job id is not an id");
  const std::string rel = JobResultPath(job_id);
  auto text = ReadFileConfined(root, rel, kMaxResultBytes);
  if (!text.ok()) {
    if (text.status().IsNotFound()) return Status::NotFound("the job wrote no result file " + rel);
    return text.status().WithContext(rel);
  }
  auto r = ParseJobResult(*text);
  if (!r.ok()) return r.status().WithContext(rel);
  if (r->job_id != job_id) return Status::InvalidArgument(rel + ": its job_id is '" + r->job_id + "'");
  return r;
}

std::string JobIdFromEnvironment() {
  const char* v = std::getenv(kJobIdEnv);
  if (!v || !IsSafeIdentifier(v)) return "";
  return v;
}

}  // namespace alphalab

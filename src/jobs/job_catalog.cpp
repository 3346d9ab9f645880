#include "jobs/job_catalog.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/override_key.hpp"
#include "core/text.hpp"

namespace alphalab {

namespace fs = std::filesystem;

namespace {

bool IsKeyStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsKeyChar(char c) { return IsKeyStart(c) || (c >= '0' && c <= '9'); }

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\n\r\0", 3)) != std::string_view::npos;
}

Status ParamError(std::string_view name, std::string message) {
  return Status::InvalidArgument("parameter '" + std::string(name) + "' " + message,
                                 Json{{"parameter", std::string(name)}});
}

ParamSpec MakeParam(std::string name, ParamType type, bool required, std::string description,
                    Json default_value = nullptr) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = type;
  p.required = required;
  p.description = std::move(description);
  p.default_value = std::move(default_value);
  return p;
}

ArtifactRule MakeRule(std::string name, std::string pattern) {
  ArtifactRule r;
  r.name = std::move(name);
  r.pattern = pattern;
  r.regex = std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
  return r;
}

std::optional<ParamType> ParseParamType(std::string_view s) {
  if (s == "string" || s == "str") return ParamType::kString;
  if (s == "int" || s == "integer") return ParamType::kInt;
  if (s == "float" || s == "number") return ParamType::kFloat;
  if (s == "bool" || s == "boolean") return ParamType::kBool;
  if (s == "date") return ParamType::kDate;
  if (s == "enum") return ParamType::kEnum;
  if (s == "list") return ParamType::kList;
  if (s == "path") return ParamType::kPath;
  return std::nullopt;
}

// Placeholder names used in a template string ("--x={a}" -> {"a"}).
std::vector<std::string> Placeholders(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = s.find('{', i)) != std::string_view::npos) {
    size_t j = i + 1;
    while (j < s.size() && IsKeyChar(s[j])) ++j;
    if (j < s.size() && s[j] == '}' && j > i + 1) {
      out.emplace_back(s.substr(i + 1, j - i - 1));
      i = j + 1;
    } else {
      i = i + 1;
    }
  }
  return out;
}

std::string ValueToArg(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_array()) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ",";
      out += ValueToArg(v[i]);
    }
    return out;
  }
  return v.dump();
}

Result<double> ToNumber(const Json& v, std::string_view name) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(d)) return d;
  }
  return ParamError(name, "must be a number");
}

}  // namespace

std::string_view ParamTypeName(ParamType t) {
  switch (t) {
    case ParamType::kString: return "string";
    case ParamType::kInt: return "int";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "bool";
    case ParamType::kDate: return "date";
    case ParamType::kEnum: return "enum";
    case ParamType::kList: return "list";
    case ParamType::kPath: return "path";
  }
  return "string";
}

Status ValidateOverride(std::string_view kv) {
  auto bad = [&](std::string why) {
    std::string shown(kv.substr(0, 200));
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return Status::InvalidArgument("override '" + shown + "' is malformed: " + why +
                                       " (expected key=value, key like a.b_c.d)",
                                   Json{{"override", shown}});
  };
  if (HasLineBreakOrNul(kv)) return bad("contains a line break or NUL");
  const size_t eq = kv.find('=');
  if (eq == std::string_view::npos) return bad("no '='");
  if (std::string problem = OverrideKeyProblem(kv.substr(0, eq)); !problem.empty()) return bad("key " + problem);
  return Status::Ok();
}

bool IsValidTicker(std::string_view t) {
  if (t.empty() || t.size() > 32) return false;
  for (char c : t) {
    if (!(IsKeyChar(c) || c == '.' || c == '^' || c == '=' || c == '-')) return false;
  }
  return true;
}

std::string ArgsPreview(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string a = argv[i];
    if (i == 0) a = fs::path(a).filename().string();
    if (a.empty() || a.find_first_of(" \t\"'") != std::string::npos) a = "'" + a + "'";
    if (i) out += " ";
    out += a;
  }
  if (out.size() > 300) out = out.substr(0, 297) + "...";
  return out;
}

const ParamSpec* JobTypeSpec::FindParam(std::string_view n) const {
  for (const ParamSpec& p : params) {
    if (p.name == n) return &p;
  }
  return nullptr;
}

namespace {

ArgvItem Plain(std::string part) { return ArgvItem{{std::move(part)}, false}; }
ArgvItem Group(std::vector<std::string> parts) { return ArgvItem{std::move(parts), true}; }

// Checks of the built-ins that an argv template does not express: a path param names a file.
Status NeedFile(const Workspace& ws, const Json& p, const std::string& key) {
  if (!p.contains(key)) return Status::Ok();
  const fs::path abs = ws.root() / p[key].get<std::string>();
  std::error_code ec;
  if (!fs::is_regular_file(abs, ec)) {
    return ParamError(key, "must name a file, '" + p[key].get<std::string>() + "' is not one");
  }
  return Status::Ok();
}

Status CheckTickers(const Json& p) {
  if (!p.contains("tickers")) return Status::Ok();
  for (const Json& t : p["tickers"]) {
    if (!IsValidTicker(t.get<std::string>())) {
      return ParamError("tickers", "has an invalid ticker '" + t.get<std::string>() + "'");
    }
  }
  return Status::Ok();
}

Status CheckDateRange(const Json& p) {
  if (p.contains("start") && p.contains("end") && p["start"].get<std::string>() > p["end"].get<std::string>()) {
    return ParamError("start", "must not be after end");
  }
  return Status::Ok();
}

// eval-metrics: `run_id` names an existing directory runs/<run_id> (404 when it does not).
Status CheckRunExists(const Workspace& ws, const Json& p) {
  const std::string run_id = p["run_id"].get<std::string>();
  if (!IsSafeIdentifier(run_id)) {
    return ParamError("run_id", "must be a run id ([A-Za-z0-9_.-], no path separators)");
  }
  const std::string run_dir = "runs/" + run_id;
  auto resolved = ws.Resolve(run_dir, PathMust::kExist);
  if (!resolved.ok()) {
    if (resolved.status().IsNotFound()) {
      return Status::NotFound("run '" + run_id + "' not found (" + run_dir + " does not exist)",
                              Json{{"parameter", "run_id"}, {"run_id", run_id}});
    }
    return resolved.status();
  }
  return Status::Ok();
}

}  // namespace

// The built-ins run this binary's engine subcommands. Their argv is a template in the language
// of user types (alphalab.yaml `job_types:`); the engine learns its job id from the environment
// to write its result file.
JobCatalog::JobCatalog(const Workspace& workspace, fs::path self_exe)
    : workspace_(workspace), self_exe_(std::move(self_exe)) {
  const ParamSpec overrides = MakeParam("overrides", ParamType::kList, false,
                                        "config overrides key=value, passed as --set key=value");
  const std::map<std::string, std::string> job_id_env{{std::string(kJobIdEnv), "{job_id}"}};
  const Workspace& ws = workspace_;
  {
    JobTypeSpec t;
    t.name = "train";
    t.description = "Train a model: alphalab train --config <config_path> [--set k=v]...";
    t.builtin = true;
    t.accepts_overrides = true;
    t.params = {MakeParam("config_path", ParamType::kPath, true, "training config YAML"), overrides};
    t.argv = {Plain("{alphalab}"), Plain("train"), Plain("--config"), Plain("{config_path}"), Plain("{overrides}")};
    t.env = job_id_env;
    t.check = [&ws](const Json& p) { return NeedFile(ws, p, "config_path"); };
    t.result_kind = ResultKind::kRun;
    types_.push_back(std::move(t));
  }
  {
    JobTypeSpec t;
    t.name = "backtest";
    t.description = "Backtest: alphalab backtest --config <config_path> [--tickers A,B] [--start D] "
                    "[--end D] [--model P] [--set k=v]...";
    t.builtin = true;
    t.accepts_overrides = true;
    t.params = {MakeParam("config_path", ParamType::kPath, true, "backtest config YAML"),
                MakeParam("tickers", ParamType::kList, false, "tickers (list or comma-separated)"),
                MakeParam("start", ParamType::kDate, false, "first date YYYY-MM-DD"),
                MakeParam("end", ParamType::kDate, false, "last date YYYY-MM-DD"),
                MakeParam("model_path", ParamType::kPath, false, "trained model file"),
                overrides};
    t.argv = {Plain("{alphalab}"), Plain("backtest"), Plain("--config"), Plain("{config_path}"),
              Group({"--tickers", "{tickers}"}), Group({"--start", "{start}"}), Group({"--end", "{end}"}),
              Group({"--model", "{model_path}"}), Plain("{overrides}")};
    t.env = job_id_env;
    t.check = [&ws](const Json& p) -> Status {
      RETURN_IF_ERROR(NeedFile(ws, p, "config_path"));
      RETURN_IF_ERROR(CheckTickers(p));
      RETURN_IF_ERROR(CheckDateRange(p));
      return NeedFile(ws, p, "model_path");
    };
    t.result_kind = ResultKind::kBacktest;
    types_.push_back(std::move(t));
  }
  {
    JobTypeSpec t;
    t.name = "eval-metrics";
    t.description = "Recompute metrics: alphalab eval-metrics --run-dir runs/<run_id> [--mode <mode>]";
    t.builtin = true;
    // No default: without `mode` the engine evaluates the run in its own mode, so a base run is
    // never filed as "finetune" (a fixed finetune default would only fit finetune runs).
    ParamSpec mode = MakeParam("mode", ParamType::kEnum, false, "base or finetune (default: the run's own mode)");
    mode.choices = {"base", "finetune"};
    t.params = {MakeParam("run_id", ParamType::kString, true, "a run under runs/"), mode,
                MakeParam("model_path", ParamType::kPath, false, "model file to evaluate")};
    t.argv = {Plain("{alphalab}"), Plain("eval-metrics"), Plain("--run-dir"), Plain("runs/{run_id}"),
              Group({"--mode", "{mode}"}), Group({"--model", "{model_path}"})};
    t.env = job_id_env;
    t.check = [&ws](const Json& p) -> Status {
      RETURN_IF_ERROR(CheckRunExists(ws, p));
      return NeedFile(ws, p, "model_path");
    };
    t.result_kind = ResultKind::kEvaluation;
    types_.push_back(std::move(t));
  }
}

namespace {

// Errors about one declaration name the file, the line and the key (see config/workspace_config.hpp).
struct DeclErrors {
  const WorkspaceConfig& config;
  Status operator()(int line, const std::string& key, const std::string& message) const {
    return ConfigError(config.file, line, key, message);
  }
};

Result<ParamSpec> BuildParam(const DeclErrors& err, const JobTypeDecl& decl, const JobParamDecl& pd) {
  const std::string key = decl.key + ".params." + pd.name;
  if (pd.name.empty() || !IsKeyStart(pd.name[0]) || !std::all_of(pd.name.begin(), pd.name.end(), IsKeyChar)) {
    return err(pd.line, key, "param name must be an identifier");
  }
  if (pd.name == "overrides" || pd.name == "dry_run") {  // dry_run is a submit option (TakeDryRun)
    return err(pd.line, key, "param name is reserved");
  }
  ParamSpec p;
  p.name = pd.name;
  auto type = ParseParamType(pd.type);
  if (!type) return err(pd.line, key + ".type", "unknown type '" + pd.type + "'");
  p.type = *type;
  p.required = pd.required;
  p.description = pd.description;
  p.min = pd.min;
  p.max = pd.max;
  p.must_exist = pd.must_exist;
  p.allow_leading_dash = pd.allow_leading_dash;
  if (p.allow_leading_dash && p.type != ParamType::kString && p.type != ParamType::kList) {
    return err(pd.line, key + ".allow_leading_dash", "applies to string and list params only");
  }
  p.choices = pd.choices;
  p.default_value = pd.default_value;
  if (p.type == ParamType::kEnum && p.choices.empty()) return err(pd.line, key + ".choices", "an enum param needs choices");
  return p;
}

// Checks the placeholders of the argv template against the declared params; sets
// accepts_overrides when "{overrides}" is used.
Status BuildArgv(const DeclErrors& err, const JobTypeDecl& decl, JobTypeSpec& t) {
  for (size_t i = 0; i < decl.argv.size(); ++i) {
    const JobArgvDecl& item = decl.argv[i];
    const std::string key = decl.key + ".argv[" + std::to_string(i) + "]";
    for (const std::string& part : item.parts) {
      for (const std::string& ph : Placeholders(part)) {
        if (ph == "workspace" || ph == "alphalab" || ph == "job_id") continue;
        if (ph == "work_dir") {
          t.uses_work_dir = true;
          continue;
        }
        if (ph == "overrides") {
          if (part != "{overrides}") return err(item.line, key, "{overrides} must be a whole argv item");
          t.accepts_overrides = true;
          continue;
        }
        if (!t.FindParam(ph)) return err(item.line, key, "uses {" + ph + "} but no such param is declared");
      }
    }
    t.argv.push_back(ArgvItem{item.parts, item.group});
  }
  if (t.argv.front().group) return err(decl.argv.front().line, decl.key + ".argv[0]", "must be a plain program name");
  return Status::Ok();
}

// env values are templates like argv items ({overrides} excepted); `cwd:` is "{workspace}" or
// "{work_dir}".
Status BuildEnvAndCwd(const DeclErrors& err, const JobTypeDecl& decl, JobTypeSpec& t) {
  for (const auto& [name, value] : decl.env) {
    const auto line = decl.env_lines.find(name);
    const int at = line == decl.env_lines.end() ? 0 : line->second;
    for (const std::string& ph : Placeholders(value)) {
      if (ph == "workspace" || ph == "alphalab" || ph == "job_id") continue;
      if (ph == "work_dir") {
        t.uses_work_dir = true;
        continue;
      }
      if (ph == "overrides") return err(at, decl.key + ".env." + name, "{overrides} is for argv only");
      if (!t.FindParam(ph)) return err(at, decl.key + ".env." + name, "uses {" + ph + "} but no such param is declared");
    }
  }
  t.env = decl.env;
  if (decl.cwd == "{work_dir}") {
    t.uses_work_dir = t.cwd_work_dir = true;
  } else if (!decl.cwd.empty() && decl.cwd != "{workspace}") {
    return err(decl.cwd_line, decl.key + ".cwd", "must be \"{workspace}\" (the default) or \"{work_dir}\" (the job's own work folder)");
  }
  if (!decl.tool.empty()) t.uses_work_dir = t.cwd_work_dir = true;  // a tool's files are copied there
  return Status::Ok();
}

Status BuildArtifacts(const DeclErrors& err, const JobTypeDecl& decl, JobTypeSpec& t) {
  for (const JobArtifactDecl& a : decl.artifacts) {
    const std::string key = decl.key + ".artifacts." + a.name;
    try {
      ArtifactRule r = MakeRule(a.name, a.pattern);
      if (r.regex.mark_count() < 1) return err(a.line, key, "the regex needs a capture group");
      t.artifacts.push_back(std::move(r));
    } catch (const std::regex_error& e) {
      return err(a.line, key, std::string("invalid regex: ") + e.what());
    }
  }
  for (const std::string& name : decl.required_artifacts) {
    const bool known = std::any_of(t.artifacts.begin(), t.artifacts.end(),
                                   [&](const ArtifactRule& a) { return a.name == name; });
    if (!known) {
      return err(decl.required_artifacts_line, decl.key + ".required_artifacts",
                 "'" + name + "' has no regex under artifacts");
    }
    t.required_artifacts.push_back(name);
  }
  return Status::Ok();
}

// `results:`: a known parser; a relative path template whose placeholders are {job_id} or
// declared params, with no '..' component and at most one '*', in its file name.
Status BuildResults(const DeclErrors& err, const JobTypeDecl& decl, JobTypeSpec& t) {
  if (!decl.results) return Status::Ok();
  const JobResultsDecl& d = *decl.results;
  const std::string key = decl.key + ".results";
  auto parser = ParseResultParserName(d.parser);
  if (!parser) {
    std::string known;
    for (auto k : kAllResultParsers) known += (known.empty() ? "" : ", ") + std::string(ResultParserName(k));
    return err(d.parser_line, key + ".parser", "unknown parser '" + d.parser + "' (known: " + known + ")");
  }
  const std::string& path = d.path;
  if (path.front() == '/' || path.front() == '-' || HasLineBreakOrNul(path)) {
    return err(d.path_line, key + ".path", "must be a path relative to the workspace");
  }
  for (const std::string& ph : Placeholders(path)) {
    if (ph != "job_id" && ph != "work_dir" && !t.FindParam(ph)) {
      return err(d.path_line, key + ".path", "uses {" + ph + "} but no such param is declared");
    }
  }
  for (const auto& part : fs::path(path)) {
    if (part.string() == "..") return err(d.path_line, key + ".path", "must not contain '..'");
  }
  const size_t star = path.find('*');
  if (star != std::string::npos) {
    if (path.find('*', star + 1) != std::string::npos) return err(d.path_line, key + ".path", "may hold one '*' only");
    if (path.find('/', star) != std::string::npos) {
      return err(d.path_line, key + ".path", "'*' may only stand in the file name");
    }
  }
  t.results = ResultsRule{*parser, path};
  return Status::Ok();
}

}  // namespace

Status JobCatalog::AddUserType(const WorkspaceConfig& config, const JobTypeDecl& decl) {
  const DeclErrors err{config};
  if (!IsSafeIdentifier(decl.name)) return err(decl.line, decl.key, "name must be [A-Za-z0-9_.-]");
  if (Find(decl.name)) return err(decl.line, decl.key, "already defined (built-in types cannot be redefined)");
  JobTypeSpec t;
  t.name = decl.name;
  t.description = decl.description;
  for (const JobParamDecl& pd : decl.params) {  // params first: argv placeholders are checked against them
    ASSIGN_OR_RETURN(ParamSpec p, BuildParam(err, decl, pd));
    t.params.push_back(std::move(p));
  }
  RETURN_IF_ERROR(BuildArgv(err, decl, t));
  RETURN_IF_ERROR(BuildArtifacts(err, decl, t));
  RETURN_IF_ERROR(BuildResults(err, decl, t));
  RETURN_IF_ERROR(BuildEnvAndCwd(err, decl, t));
  t.timeout_sec = decl.timeout_sec;
  if (!decl.tool.empty()) {
    t.tool = decl.tool;
    t.decl = std::make_shared<const JobTypeDecl>(decl);
  }
  if (t.accepts_overrides) {
    t.params.push_back(MakeParam("overrides", ParamType::kList, false, "key=value overrides, passed as --set key=value"));
  }
  types_.push_back(std::move(t));
  return Status::Ok();
}

Status JobCatalog::AddUserTypes(const WorkspaceConfig& config) {
  const size_t before = types_.size();
  for (const JobTypeDecl& decl : config.job_types) {
    Status s = AddUserType(config, decl);
    if (!s.ok()) {
      types_.erase(types_.begin() + static_cast<std::ptrdiff_t>(before), types_.end());  // all or nothing
      return s;
    }
  }
  return Status::Ok();
}

const JobTypeSpec* JobCatalog::Find(std::string_view name) const {
  for (const JobTypeSpec& t : types_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<const JobTypeSpec*> JobCatalog::List() const {
  std::vector<const JobTypeSpec*> out;
  for (const JobTypeSpec& t : types_) out.push_back(&t);
  return out;
}

namespace {

// GET /api/job-types `results`: built-ins -> {kind, parser (a backtest's summary.json), path
// of the result file}; user types -> {kind: null, parser, path template}; else null.
Json ResultsJson(const JobTypeSpec& t) {
  if (t.result_kind) {
    const bool backtest = *t.result_kind == ResultKind::kBacktest;
    return Json{{"kind", std::string(ResultKindName(*t.result_kind))},
                {"parser", backtest ? Json(std::string(ResultParserName(ResultParserKind::kAlphalabSummary))) : Json()},
                {"path", JobResultPath("{job_id}")}};
  }
  if (t.results) {
    return Json{{"kind", nullptr}, {"parser", std::string(ResultParserName(t.results->parser))}, {"path", t.results->path}};
  }
  return nullptr;
}

}  // namespace

Json JobCatalog::ToJson() const {
  Json types = Json::array();
  for (const JobTypeSpec& t : types_) {
    Json params = Json::array();
    for (const ParamSpec& p : t.params) {
      Json pj{{"name", p.name},
              {"type", std::string(ParamTypeName(p.type))},
              {"required", p.required},
              {"default", p.default_value},
              {"description", p.description}};
      if (!p.choices.empty()) pj["choices"] = p.choices;
      if (p.min) pj["min"] = *p.min;
      if (p.max) pj["max"] = *p.max;
      if (p.type == ParamType::kPath) pj["must_exist"] = p.must_exist;
      if (p.allow_leading_dash) pj["allow_leading_dash"] = true;
      params.push_back(std::move(pj));
    }
    Json artifacts = Json::array();
    for (const ArtifactRule& a : t.artifacts) artifacts.push_back({{"name", a.name}, {"regex", a.pattern}});
    Json argv = Json::array();
    for (const ArgvItem& a : t.argv) {
      if (a.group) {
        argv.push_back(a.parts);
      } else {
        argv.push_back(a.parts.front());
      }
    }
    types.push_back({{"name", t.name},
                     {"description", t.description},
                     {"builtin", t.builtin},
                     {"params", std::move(params)},
                     {"accepts_overrides", t.accepts_overrides},
                     {"artifacts", std::move(artifacts)},
                     {"required_artifacts", t.required_artifacts},
                     {"timeout_sec", t.timeout_sec},
                     {"argv_template", std::move(argv)},
                     {"results", ResultsJson(t)}});
  }
  return Json{{"job_types", std::move(types)}};
}

namespace {

Status CheckUnknownParams(const JobTypeSpec& spec, const Json& params) {
  for (const auto& [key, value] : params.items()) {
    if (spec.FindParam(key)) continue;
    std::string known;
    for (const ParamSpec& p : spec.params) known += (known.empty() ? "" : ", ") + p.name;
    return Status::InvalidArgument(
        "unknown parameter '" + key + "' for job type '" + spec.name + "' (known: " + known + ")",
        Json{{"parameter", key}, {"job_type", spec.name}});
  }
  return Status::Ok();
}

Result<Json> NormalizeString(const ParamSpec& p, const Json& v) {
  if (!v.is_string()) return ParamError(p.name, "must be a string");
  const std::string s = v.get<std::string>();
  if (HasLineBreakOrNul(s)) return ParamError(p.name, "must not contain line breaks or NUL");
  if (s.size() > 4096) return ParamError(p.name, "is longer than 4096 bytes");
  if (!s.empty() && s.front() == '-' && !p.allow_leading_dash) {
    return ParamError(p.name, "must not start with '-' (it would be read as an option; the job type "
                              "can declare allow_leading_dash: true)");
  }
  return Json(s);
}

Result<double> NormalizeNumber(const ParamSpec& p, const Json& v) {
  ASSIGN_OR_RETURN(double d, ToNumber(v, p.name));
  if (p.type == ParamType::kInt && (d != std::floor(d) || std::fabs(d) > 9.0e15)) {
    return ParamError(p.name, "must be an integer");
  }
  if (p.min && d < *p.min) return ParamError(p.name, "must be >= " + Json(*p.min).dump());
  if (p.max && d > *p.max) return ParamError(p.name, "must be <= " + Json(*p.max).dump());
  return d;
}

Result<Json> NormalizeBool(const ParamSpec& p, const Json& v) {
  if (v.is_boolean()) return Json(v.get<bool>());
  if (v.is_string() && (v == "true" || v == "false")) return Json(v == "true");
  return ParamError(p.name, "must be true or false");
}

Result<Json> NormalizeDate(const ParamSpec& p, const Json& v) {
  if (!v.is_string()) return ParamError(p.name, "must be a date YYYY-MM-DD");
  auto days = ParseDate(v.get<std::string>());
  if (!days.ok()) return ParamError(p.name, "must be a valid date YYYY-MM-DD");
  return Json(FormatDate(*days));
}

Result<Json> NormalizeEnum(const ParamSpec& p, const Json& v) {
  if (!v.is_string() || std::find(p.choices.begin(), p.choices.end(), v.get<std::string>()) == p.choices.end()) {
    std::string choices;
    for (const auto& c : p.choices) choices += (choices.empty() ? "" : ", ") + c;
    return ParamError(p.name, "must be one of: " + choices);
  }
  return v;
}

// A list: a JSON array of strings, or one string "A,B" (overrides are never split: a value
// may contain commas). Overrides must follow the key=value grammar.
Result<Json> NormalizeList(const ParamSpec& p, const Json& v) {
  Json arr = Json::array();
  if (v.is_string()) {
    if (p.name == "overrides") {
      arr.push_back(v.get<std::string>());
    } else {
      for (std::string& item : SplitCommaList(v.get<std::string>())) arr.push_back(std::move(item));
    }
  } else if (v.is_array()) {
    for (const Json& item : v) {
      if (!item.is_string()) return ParamError(p.name, "must be a list of strings");
      arr.push_back(item);
    }
  } else {
    return ParamError(p.name, "must be a list of strings");
  }
  for (const Json& item : arr) {
    const std::string s = item.get<std::string>();
    if (p.name == "overrides") {
      RETURN_IF_ERROR(ValidateOverride(s));
    } else if (HasLineBreakOrNul(s)) {
      return ParamError(p.name, "items must not contain line breaks or NUL");
    } else if (!s.empty() && s.front() == '-' && !p.allow_leading_dash) {
      return ParamError(p.name, "items must not start with '-' (they would be read as options; the job "
                                "type can declare allow_leading_dash: true)");
    }
  }
  return arr;
}

}  // namespace

Result<Json> JobCatalog::NormalizeValue(const ParamSpec& p, const Json& v, ResolvedPaths* paths) const {
  switch (p.type) {
    case ParamType::kString: return NormalizeString(p, v);
    case ParamType::kInt: {
      ASSIGN_OR_RETURN(double d, NormalizeNumber(p, v));
      return Json(static_cast<int64_t>(d));
    }
    case ParamType::kFloat: {
      ASSIGN_OR_RETURN(double d, NormalizeNumber(p, v));
      return Json(d);
    }
    case ParamType::kBool: return NormalizeBool(p, v);
    case ParamType::kDate: return NormalizeDate(p, v);
    case ParamType::kEnum: return NormalizeEnum(p, v);
    case ParamType::kList: return NormalizeList(p, v);
    case ParamType::kPath: {
      if (!v.is_string()) return ParamError(p.name, "must be a path string");
      if (const std::string raw = v.get<std::string>(); !raw.empty() && raw.front() == '-') {
        return ParamError(p.name, "must not start with '-' (it would be read as an option)");
      }
      const PathMust must = p.must_exist ? PathMust::kExist : PathMust::kAny;
      auto resolved = paths ? paths->Resolve(workspace_, v.get<std::string>(), must)
                            : workspace_.Resolve(v.get<std::string>(), must);
      if (!resolved.ok()) {
        const Status& s = resolved.status();
        return Status(s.code(), "parameter '" + p.name + "': " + s.message(), s.details());
      }
      std::string rel = workspace_.Relative(*resolved);
      if (!rel.empty() && rel.front() == '-') {
        return ParamError(p.name, "must not start with '-' (it would be read as an option)");
      }
      return Json(rel.empty() ? "." : rel);
    }
  }
  return ParamError(p.name, "has an unknown type");
}

Result<Json> JobCatalog::NormalizeParams(const JobTypeSpec& spec, const Json& params, ResolvedPaths* paths) const {
  if (!params.is_object()) return Status::InvalidArgument("params must be a JSON object");
  RETURN_IF_ERROR(CheckUnknownParams(spec, params));
  Json out = Json::object();
  for (const ParamSpec& p : spec.params) {
    Json v = params.contains(p.name) ? params.at(p.name) : Json(nullptr);
    if (v.is_null()) v = p.default_value;
    if (v.is_null()) {
      if (p.required) {
        return Status::InvalidArgument("missing required parameter '" + p.name + "'", Json{{"parameter", p.name}});
      }
      continue;
    }
    ASSIGN_OR_RETURN(out[p.name], NormalizeValue(p, v, paths));
  }
  return out;
}

namespace {

// The param whose value (as an argument) is the longest one found in `text`: the one to name
// when `text` is too long. Empty when no param value is in it.
std::string ParamBehind(const Json& params, std::string_view text) {
  std::string best;
  size_t best_size = 0;
  for (const auto& [name, value] : params.items()) {
    std::vector<std::string> pieces{ValueToArg(value)};
    if (value.is_array()) {
      for (const Json& item : value) pieces.push_back(ValueToArg(item));
    }
    for (const std::string& piece : pieces) {
      if (piece.size() > best_size && text.find(piece) != std::string_view::npos) {
        best = name;
        best_size = piece.size();
      }
    }
  }
  return best;
}

Status TooLong(const Json& params, std::string_view text, const std::string& what) {
  const std::string param = ParamBehind(params, text);
  if (param.empty()) return Status::InvalidArgument(what, Json{{"limit_bytes", kMaxArgBytes}});
  return Status::InvalidArgument("parameter '" + param + "' is too long: " + what,
                                 Json{{"parameter", param}, {"limit_bytes", kMaxArgBytes}});
}

// A job id is at most 64 bytes ({job_id} placeholders are filled after this check).
constexpr size_t kJobIdAllowance = 64;

Status CheckArgvSize(const ResolvedJob& job) {
  size_t total = 0;
  for (const std::string& a : job.argv) {
    if (a.size() + kJobIdAllowance > kMaxArgBytes) {
      return TooLong(job.params, a, "an argument would be " + std::to_string(a.size()) + " bytes, over the " +
                                        std::to_string(kMaxArgBytes) + "-byte limit of one argument");
    }
    total += a.size() + 1 + sizeof(char*) + kJobIdAllowance;
  }
  for (const auto& [k, v] : job.env) {
    if (k.size() + v.size() + 1 + kJobIdAllowance > kMaxArgBytes) {
      return TooLong(job.params, v, "environment variable " + k + " would be over the " +
                                        std::to_string(kMaxArgBytes) + "-byte limit");
    }
    total += k.size() + v.size() + 2 + sizeof(char*) + kJobIdAllowance;
  }
  if (total > kMaxArgvEnvBytes) {
    std::string longest;
    for (const std::string& a : job.argv) {
      if (a.size() > longest.size()) longest = a;
    }
    const std::string param = ParamBehind(job.params, longest);
    const std::string what = "the command line and environment would be " + std::to_string(total) +
                             " bytes, over the limit of " + std::to_string(kMaxArgvEnvBytes);
    if (param.empty()) return Status::InvalidArgument(what, Json{{"limit_bytes", kMaxArgvEnvBytes}});
    return Status::InvalidArgument("parameter '" + param + "' is too long: " + what,
                                   Json{{"parameter", param}, {"limit_bytes", kMaxArgvEnvBytes}});
  }
  return Status::Ok();
}

}  // namespace

Result<ResolvedJob> JobCatalog::Resolve(std::string_view job_type, const Json& params, ResolvedPaths* paths) const {
  const JobTypeSpec* spec = Find(job_type);
  if (!spec) {
    std::string known;
    for (const JobTypeSpec& t : types_) known += (known.empty() ? "" : ", ") + t.name;
    return Status::InvalidArgument(
        "unknown job type '" + std::string(job_type.substr(0, 100)) + "' (known: " + known + ")",
        Json{{"job_type", std::string(job_type.substr(0, 100))}});
  }
  ASSIGN_OR_RETURN(ResolvedJob job, Substitute(*spec, params, paths));
  job.job_type = spec->name;
  job.cwd = workspace_.root();
  job.timeout_sec = spec->timeout_sec;
  RETURN_IF_ERROR(CheckArgvSize(job));
  job.args_preview = ArgsPreview(job.argv);
  return job;
}

void ResolvedJob::BindJobId(const std::string& job_id) {
  constexpr size_t kPlaceholder = 8;  // "{job_id}"
  const bool in_argv = !job_id_in_argv.empty();
  // Back to front within each string, so earlier offsets stay valid.
  for (auto it = job_id_in_argv.rbegin(); it != job_id_in_argv.rend(); ++it) {
    argv[it->first].replace(it->second, kPlaceholder, job_id);
  }
  for (auto it = job_id_in_env.rbegin(); it != job_id_in_env.rend(); ++it) {
    env[it->first].replace(it->second, kPlaceholder, job_id);
  }
  job_id_in_argv.clear();
  job_id_in_env.clear();
  if (in_argv) args_preview = ArgsPreview(argv);
}

Result<ResolvedJob> JobCatalog::Substitute(const JobTypeSpec& spec, const Json& params, ResolvedPaths* paths) const {
  ASSIGN_OR_RETURN(Json p, NormalizeParams(spec, params, paths));
  if (spec.check) RETURN_IF_ERROR(spec.check(p));
  ResolvedJob job;
  job.params = p;
  // Values are substituted into argv items; a value never becomes more than one item
  // (except {overrides}), so nothing a user sends can add flags of its own.
  std::vector<size_t> job_id_at;  // where "{job_id}" landed in the last substitute() result
  auto substitute = [&](const std::string& part, bool in_group, bool* missing) -> std::string {
    std::string out;
    job_id_at.clear();
    size_t i = 0;
    while (i < part.size()) {
      if (part[i] == '{') {
        size_t j = i + 1;
        while (j < part.size() && IsKeyChar(part[j])) ++j;
        if (j < part.size() && part[j] == '}' && j > i + 1) {
          const std::string name = part.substr(i + 1, j - i - 1);
          if (name == "workspace") {
            out += workspace_.root().string();
          } else if (name == "alphalab") {
            out += self_exe_.string();
          } else if (name == "job_id") {
            job_id_at.push_back(out.size());  // filled by the job service once the id exists
            out += "{job_id}";
          } else if (name == "work_dir") {  // JobWorkDir (jobs/job_artifacts.hpp)
            out += workspace_.JobsRuntimeDir().string() + "/";
            job_id_at.push_back(out.size());
            out += "{job_id}/work";
          } else if (p.contains(name) && !(in_group && p[name].is_array() && p[name].empty())) {
            out += ValueToArg(p[name]);
          } else {  // absent (in a group: or an empty list)
            *missing = true;
          }
          i = j + 1;
          continue;
        }
      }
      out.push_back(part[i++]);
    }
    return out;
  };
  for (const ArgvItem& item : spec.argv) {
    if (!item.group && item.parts.front() == "{overrides}") {
      if (p.contains("overrides")) {
        for (const Json& kv : p["overrides"]) {
          job.argv.push_back("--set");
          job.argv.push_back(kv.get<std::string>());
        }
      }
      continue;
    }
    std::vector<std::string> parts;
    std::vector<std::vector<size_t>> parts_job_id_at;
    bool missing = false;
    for (const std::string& part : item.parts) {
      parts.push_back(substitute(part, item.group, &missing));
      parts_job_id_at.push_back(job_id_at);
    }
    if (missing) continue;  // an optional param is absent: drop the item / group
    for (size_t i = 0; i < parts.size(); ++i) {
      for (size_t at : parts_job_id_at[i]) job.job_id_in_argv.emplace_back(job.argv.size(), at);
      job.argv.push_back(std::move(parts[i]));
    }
  }
  if (job.argv.empty()) return Status::InvalidArgument("job type '" + spec.name + "' resolved to an empty argv");
  std::string& prog = job.argv.front();
  if (prog.find('/') != std::string::npos && fs::path(prog).is_relative()) {
    prog = (workspace_.root() / prog).lexically_normal().string();
  }
  for (const auto& [k, v] : spec.env) {
    bool missing = false;
    job.env[k] = substitute(v, /*in_group=*/false, &missing);
    for (size_t at : job_id_at) job.job_id_in_env.emplace_back(k, at);
  }
  return job;
}

}  // namespace alphalab

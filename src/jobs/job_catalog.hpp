// The job-type catalog: the whitelist of what may run. Built-in types (train, backtest,
// eval-metrics run this binary's engine subcommands) plus types declared under `job_types:`
// in alphalab.yaml. The API never accepts a command: a type name and parameters are
// validated here and turned into an argv; no shell is involved.
//
// alphalab.yaml:
//   job_types:
//     my-experiment:
//       description: Run my experiment script
//       argv: [python3, -m, scripts.run_experiment, --config, "{config}",
//              [--seed, "{seed}"],           # a nested list is dropped when a param it names is
//                                                 #   absent or an empty list
//              "{overrides}"]                # expands to --set k=v pairs (enables `overrides`)
//       params:
//         config: {type: path, required: true}          # resolved inside the workspace
//         label:  {type: string, allow_leading_dash: true}  # else a value starting '-' is refused
//         seed:   {type: int, min: 0}
//         mode:   {type: enum, choices: [base, finetune], default: base}
//         tickers: {type: list}                          # "{tickers}" -> "A,B"
//         start:  {type: date}
//       artifacts: {run_id: '^run_id:\s*(\S+)'}           # regex, first group is the value
//       required_artifacts: [run_id]                      # missing -> artifacts_parse_error
//       results:                                          # how its numeric results are read
//         parser: lean_summary                            # alphalab_summary | lean_summary | qlib_res
//         path: "results/{job_id}/*-summary.json"         # workspace-relative; {job_id}, {param};
//                                                         # one '*' in the file name (one match)
//       timeout_sec: 3600
//       env: {PYTHONUNBUFFERED: "1"}
//       cwd: "{work_dir}"                                  # where it starts (default: the workspace)
// Placeholders: "{param}" (whole item or inside a string), "{workspace}" (root),
// "{alphalab}" (this binary), "{job_id}", "{work_dir}" (the job's own work folder,
// <workspace>/reports/jobs/runtime/<job_id>/work: created, confined to the workspace, before the
// process starts; its files are the job's artifacts), "{overrides}" (argv only). They may be used
// in argv, env values and results.path ({work_dir} there is workspace-relative); `cwd:` is
// "{workspace}" or "{work_dir}". An unknown placeholder is a config error naming file:line.
// argv[0] containing '/' is resolved against the workspace when relative. The built-in types are templates in this language too
// (GET /api/job-types shows them); `dry_run` is not a param but a submit option.
// Argument injection: placeholders are substituted once, in the template only (a value that
// contains "{job_id}" stays literal); string and list values starting with '-' are refused
// unless the param declares allow_leading_dash; path values never start with '-'; one argv
// item or env value may hold at most kMaxArgBytes and argv + env together kMaxArgvEnvBytes
// (400 naming the param behind the oversized item).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <cstddef>
#include <utility>
#include <string>
#include <vector>

#include "core/job_result.hpp"
#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"
#include "config/workspace_config.hpp"
#include "jobs/result_parsers.hpp"

namespace alphalab {

enum class ParamType { kString, kInt, kFloat, kBool, kDate, kEnum, kList, kPath };
std::string_view ParamTypeName(ParamType t);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  bool required = false;
  Json default_value;                 // null = none
  std::vector<std::string> choices;   // enum
  std::optional<double> min, max;     // int/float
  bool must_exist = true;             // path: must exist in the workspace
  bool allow_leading_dash = false;    // string/list: a value may start with '-'
  std::string description;
};

struct ArtifactRule {
  std::string name;     // run_id, run_dir, bt_run_id, bt_dir, ...
  std::string pattern;  // as declared
  std::regex regex;     // first capture group is the value
};

// How a user type's numeric results are read: `parser` over the file `path` names (a template,
// see JobResultsDecl; substituted and confined to the workspace by jobs/job_results.hpp).
struct ResultsRule {
  ResultParserKind parser = ResultParserKind::kAlphalabSummary;
  std::string path;
};

// One argv template item: a plain string, or a group dropped when any param it names is absent.
struct ArgvItem {
  std::vector<std::string> parts;  // one part for a plain item
  bool group = false;
};

struct JobTypeSpec {
  std::string name;
  std::string description;
  bool builtin = false;
  std::vector<ArgvItem> argv;  // the template, built-ins included
  std::vector<ParamSpec> params;
  bool accepts_overrides = false;
  std::vector<ArtifactRule> artifacts;
  std::vector<std::string> required_artifacts;
  int64_t timeout_sec = 0;
  std::map<std::string, std::string> env;  // values are templates too ("{job_id}", "{param}")
  // Built-ins: what the template cannot say (a path names a file, start <= end, valid tickers,
  // the run exists), on the normalized params. User types: none.
  std::function<Status(const Json& params)> check;
  // Built-ins: the kind of result file they write (core/job_result.hpp); their artifacts come
  // from it, not from the log. User types: none (they may set ALPHALAB_JOB_ID themselves).
  std::optional<ResultKind> result_kind;
  std::optional<ResultsRule> results;  // user types: the declared `results:`
  // User types with `tool:` (config/workspace_config.hpp): the tool's name and the declaration
  // the job's JobPreparer (jobs/job_preparer.hpp) is given. "" / null = no tool.
  std::string tool;
  std::shared_ptr<const JobTypeDecl> decl;
  // The job gets its own work folder (reports/jobs/runtime/<job_id>/work, created and checked to
  // lie in the workspace before the process starts): a type with `tool:`, or one that uses
  // "{work_dir}". cwd_work_dir: the process starts there (`cwd: "{work_dir}"`, and every tool type).
  bool uses_work_dir = false;
  bool cwd_work_dir = false;

  const ParamSpec* FindParam(std::string_view name) const;
};

// A validated submission: what will run and the normalized parameters.
struct ResolvedJob {
  std::string job_type;
  std::vector<std::string> argv;
  std::filesystem::path cwd;
  std::map<std::string, std::string> env;
  int64_t timeout_sec = 0;
  Json params = Json::object();  // normalized (paths workspace-relative, dates canonical)
  bool dry_run = false;           // a submit option (SubmitOptions::dry_run), not a param
  std::string args_preview;
  // Where the template's "{job_id}" placeholders landed: (argv index, byte offset) and
  // (env name, byte offset). Only these are filled by BindJobId, never text from a value.
  std::vector<std::pair<size_t, size_t>> job_id_in_argv;
  std::vector<std::pair<std::string, size_t>> job_id_in_env;

  // Writes `job_id` at the recorded placeholder positions (once; the job service calls it
  // when the id exists). args_preview, computed by Resolve, is redone only when the argv
  // held the placeholder.
  void BindJobId(const std::string& job_id);
};

// Size limits checked at submit (a job that would fail with E2BIG is refused with a 400).
inline constexpr size_t kMaxArgBytes = 128 * 1024 - 1;  // one argv item or env value (Linux MAX_ARG_STRLEN)
inline constexpr size_t kMaxArgvEnvBytes = 1024 * 1024;  // argv + job env, well under ARG_MAX (2 MiB)

// `key=value` with key ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$, no newline/NUL anywhere.
Status ValidateOverride(std::string_view kv);
// Ticker symbols: [A-Za-z0-9._^=-]{1,32}.
bool IsValidTicker(std::string_view t);
// "alphalab train --config configs/base.yaml" (argv[0] shortened to its basename, <= 300 chars).
std::string ArgsPreview(const std::vector<std::string>& argv);

class JobCatalog {
 public:
  // Built-ins only; `self_exe` is the alphalab binary the built-ins run.
  JobCatalog(const Workspace& workspace, std::filesystem::path self_exe);

  // Adds the user types declared under `job_types:` of the workspace config. A declaration
  // the catalog cannot use (unknown param type, argv placeholder without a param, bad regex,
  // a built-in's name) is an InvalidArgument naming the file, line and key.
  Status AddUserTypes(const WorkspaceConfig& config);

  const JobTypeSpec* Find(std::string_view name) const;
  std::vector<const JobTypeSpec*> List() const;
  // GET /api/job-types: [{name, description, builtin, params[...], artifacts, ...}].
  Json ToJson() const;

  // Validates `params` for `job_type` (unknown type 400, unknown/missing/mistyped params
  // 400, paths through Workspace::Resolve, overrides grammar) and builds the argv. `paths`,
  // when given, remembers the path parameters' resolutions for a batch of jobs resolved
  // together (the optimization fast path's chunk).
  Result<ResolvedJob> Resolve(std::string_view job_type, const Json& params, ResolvedPaths* paths = nullptr) const;

  const std::filesystem::path& self_exe() const { return self_exe_; }
  const Workspace& workspace() const { return workspace_; }

 private:
  // Normalizes the params, runs the type's check and fills its argv and env templates.
  Result<ResolvedJob> Substitute(const JobTypeSpec& spec, const Json& params, ResolvedPaths* paths = nullptr) const;
  Status AddUserType(const WorkspaceConfig& config, const JobTypeDecl& decl);
  Result<Json> NormalizeParams(const JobTypeSpec& spec, const Json& params, ResolvedPaths* paths = nullptr) const;
  Result<Json> NormalizeValue(const ParamSpec& p, const Json& v, ResolvedPaths* paths = nullptr) const;

  const Workspace& workspace_;
  std::filesystem::path self_exe_;
  std::vector<JobTypeSpec> types_;
};

}  // namespace alphalab

// WorkspaceConfig: the workspace's alphalab.yaml, parsed once into typed, validated values.
// Every reader (the server's composition root, the job catalog, the registry, the engine's
// dataset resolver, `alphalab index`, `alphalab config check`) gets its settings from here;
// nothing else parses alphalab.yaml.
//
// Sections (every key optional; an absent file means all defaults):
//   server:    {host: 127.0.0.1, port: 8000, hosts: [NAME...], origins: [URL...]}
//   auth:      {mode: none|token, session_hours: 12}
//   storage:   {db: "sqlite:alphalab.db"}                 # sqlite:PATH, relative = in the workspace
//              {db: "postgresql://...", lease_ttl_seconds: 10, lease_renew_seconds: 1}
//   executor:  {type: local, slots: 0}                    # 0 = one slot per core
//              {type: slurm, partition, account, time_limit, sbatch_args: [...], slots}
//   datasets:  {NAME: {format: csv|qlib, path: DIR}}      # (provider_uri: is accepted for path)
//   job_types: {NAME: {description, argv, params, artifacts, required_artifacts, timeout_sec, env, results,
//                      tool, cwd}}
//   registry:  {index_on_start: true}
//   roots:     {NAME: DIR}                                # extra roots outside the workspace
//   configs:   {TOOL: {root: NAME, description, files: [{path, kind: env|yaml|text, readonly}]}}
// An unknown key, a value of the wrong type or a bad value is one InvalidArgument
// "<file>:<line>: <key.path>: <what is wrong>" with details {file, line, key}.
//
// Adding a section (auth, extra path roots, managed files, optimize, ...): a struct below, a
// member of WorkspaceConfig, and one entry in the section table of workspace_config.cpp.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"

namespace alphalab {

// The one place a database URL is parsed. This build knows `sqlite:PATH` (also
// `sqlite:///abs/path`; a relative PATH is inside the workspace) and PostgreSQL
// `postgresql://[user[:password]@]host[:port]/dbname[?param=value&...]` (also `postgres://`;
// libpq's URI form, the text is handed to libpq as written).
struct DbUrl {
  enum class Scheme { kSqlite, kPostgres };
  Scheme scheme = Scheme::kSqlite;
  std::string path;  // sqlite: as written after the scheme ("alphalab.db", "/abs/x.db"); postgres: ""
  std::string text;  // the URL as written

  // InvalidArgument for an empty path, a PostgreSQL URL without a host or database name or
  // with a bad port, or anything that is not a URL this build knows.
  static Result<DbUrl> Parse(std::string_view text);
  // The database file: `path` made absolute against the workspace root.
  std::filesystem::path SqliteFile(const Workspace& ws) const;
};

enum class ExecutorType { kLocal, kSlurm };

struct ServerSection {
  std::optional<std::string> host;  // default 127.0.0.1
  std::optional<int> port;          // 0..65535; default 8000
  // Extra names the Host header may carry (besides the loopback names and the bound address),
  // e.g. "lab.example.org" or "lab.example.org:8443". Lowercase.
  std::vector<std::string> hosts;
  // Extra origins a state-changing request's Origin header may carry (besides the server's own),
  // e.g. "https://lab.example.org". Lowercase, no trailing slash.
  std::vector<std::string> origins;
};

enum class AuthMode { kNone, kToken };

struct AuthSection {
  AuthMode mode = AuthMode::kNone;
  int session_hours = 12;  // browser session lifetime, 1..720
};

struct StorageSection {
  DbUrl db = DbUrl{DbUrl::Scheme::kSqlite, "alphalab.db", "sqlite:alphalab.db"};
  // Several servers on one PostgreSQL database (docs/deploy.md): each renews its lease every
  // lease_renew_seconds; a server whose lease is lease_ttl_seconds old is taken for dead and
  // its jobs are adopted. 1..3600, renew < ttl. Unused with SQLite.
  int lease_ttl_seconds = 10;
  int lease_renew_seconds = 1;
};

struct ExecutorSection {
  ExecutorType type = ExecutorType::kLocal;
  // >= 0. local: processes at once (0 = one per core); slurm: jobs handed to Slurm at once
  // (0 = 1000; Slurm queues them).
  std::optional<int> slots;
  // slurm only (an error with type local): sbatch's --partition, --account, --time (Slurm's
  // formats: MIN, MIN:SEC, H:M:S, D-H, D-H:M, D-H:M:S, UNLIMITED) for jobs without their own
  // timeout, and extra sbatch options (each starts with '-'; not those the executor sets).
  std::string partition;
  std::string account;
  std::string time_limit;
  std::vector<std::string> sbatch_args;
  // local only: `supervisor_priority: realtime` (default) or `normal`. realtime: the process
  // supervisor asks for SCHED_FIFO where permitted (its jobs never run under it).
  bool realtime_supervisor = true;
};

struct DatasetDecl {
  std::string name;
  std::string format;  // "csv" | "qlib" | "" (guessed from the directory)
  std::string path;    // as written (workspace-relative or absolute; checked when resolved)
  int line = 0;
  // A file of symbols (one per line; Qlib's "SYMBOL<TAB>start<TAB>end" lines too) the dataset is
  // restricted to, workspace-relative; "" = every instrument of `path`.
  std::string instruments_file;
  std::string description;
  bool is_default = false;  // `default: true`
  // Where it is declared: "alphalab.yaml" (read-only through the API) or the workspace-relative
  // file of a dataset created through the API ("datasets/<name>.yaml", docs/datasets.md).
  std::string source = "alphalab.yaml";
};

// Datasets created through the API live in <workspace>/datasets/<name>.yaml, one file each,
// with the keys of an alphalab.yaml `datasets:` entry (format, path | provider_uri,
// instruments_file, description, default). LoadWorkspaceConfig adds them after the file's own
// (a name alphalab.yaml declares wins), so the engine's `dataset:` resolver and the server read
// one definition through one parser.
inline constexpr std::string_view kApiDatasetsDir = "datasets";
// Parses one such file (`name` is its stem); errors are "<file>:<line>: <key>: <problem>".
Result<DatasetDecl> ParseDatasetFile(std::string_view yaml_text, std::string_view name, std::string_view file);

// `roots:` extra folders alphalab may read and write besides the workspace (an RD-Agent checkout,
// a shared data folder). A path is absolute or relative to the workspace; every access through a
// root is confined to it exactly as workspace paths are to the workspace (symlinks resolved).
struct RootDecl {
  std::string name;  // [A-Za-z0-9_-]+, not "workspace"
  std::string path;  // as written
  int line = 0;
};

// `configs:` the config center's managed files, grouped by tool (docs/configs.md). A file's
// path is relative to the tool's root (a name from `roots:`; absent = the workspace) and must
// stay inside it.
struct ManagedFileDecl {
  std::string path;             // relative to the tool's root, '/'-separated, no '..'
  std::string kind = "yaml";    // "env" (KEY=VALUE lines, dotenv grammar) | "yaml" | "text"
  bool readonly = false;        // shown and backed up, never written (e.g. prompt YAMLs)
  int line = 0;
};

struct ToolConfigDecl {
  std::string name;         // the tool ("rdagent")
  std::string root;         // a name from `roots:`, "" = the workspace
  int root_line = 0;
  std::string description;
  std::vector<ManagedFileDecl> files;  // in file order
  int line = 0;
};

struct RegistrySection {
  bool index_on_start = true;  // index runs/ and backtests/ when the server starts
};

// A user job type as declared. The job catalog checks what needs the catalog (type names of
// params, placeholders in argv, regexes, clashes with built-ins) and names `key` and the lines.
struct JobParamDecl {
  std::string name;
  std::string type = "string";
  bool required = false;
  std::string description;
  std::optional<double> min, max;
  bool must_exist = true;
  bool allow_leading_dash = false;  // a string value may start with '-' (refused otherwise)
  std::vector<std::string> choices;
  Json default_value;  // null = none; a string, or an array of strings for a list
  int line = 0;
};

struct JobArgvDecl {
  std::vector<std::string> parts;  // one part for a plain item
  bool group = false;              // a nested list: dropped when a param it names is absent
  int line = 0;
};

struct JobArtifactDecl {
  std::string name;
  std::string pattern;
  int line = 0;
};

// `results:` of a job type: a named parser (jobs/result_parsers.hpp) and the workspace-relative
// path template of the file it reads ("{job_id}", "{param}", one '*' in the file name).
struct JobResultsDecl {
  std::string parser;
  int parser_line = 0;
  std::string path;
  int path_line = 0;
  int line = 0;
};

struct JobTypeDecl {
  std::string name;
  std::string key;  // "job_types.<name>"
  int line = 0;
  std::string description;
  std::vector<JobArgvDecl> argv;
  int argv_line = 0;
  std::vector<JobParamDecl> params;
  std::vector<JobArtifactDecl> artifacts;
  std::vector<std::string> required_artifacts;
  int required_artifacts_line = 0;
  int64_t timeout_sec = 0;
  std::map<std::string, std::string> env;
  std::map<std::string, int> env_lines;  // the line of each env key
  std::optional<JobResultsDecl> results;
  // `cwd:` where the process starts: "" or "{workspace}" = the workspace root, "{work_dir}" = the
  // job's own work folder (reports/jobs/runtime/<job_id>/work, created before the process starts).
  std::string cwd;
  int cwd_line = 0;
  // `tool:` a name from `configs:` whose managed files a job of this type uses: its `env`
  // files are loaded into the job's environment, its writable `yaml` files are copied into the
  // job's own work folder (docs/rdagent.md). "" = none.
  std::string tool;
  int tool_line = 0;
};

struct WorkspaceConfig {
  std::string file = "alphalab.yaml";  // how errors name the file
  ServerSection server;
  AuthSection auth;
  StorageSection storage;
  ExecutorSection executor;
  std::vector<DatasetDecl> datasets;   // in file order
  std::vector<JobTypeDecl> job_types;  // in file order
  RegistrySection registry;
  std::vector<RootDecl> roots;         // in file order
  std::vector<ToolConfigDecl> configs; // in file order

  const DatasetDecl* FindDataset(std::string_view name) const;
  const RootDecl* FindRoot(std::string_view name) const;
  const ToolConfigDecl* FindTool(std::string_view name) const;
};

// The error every config problem becomes: "<file>:<line>: <key>: <message>", details
// {file, line, key}. line 0 = no line known (the message then has no line).
Status ConfigError(std::string_view file, int line, std::string_view key, std::string_view message);

// Parses alphalab.yaml text; `file` names it in errors.
Result<WorkspaceConfig> ParseWorkspaceConfig(std::string_view yaml_text, std::string_view file = "alphalab.yaml");
// Reads <workspace>/alphalab.yaml; no file = the defaults.
Result<WorkspaceConfig> LoadWorkspaceConfig(const Workspace& ws);

}  // namespace alphalab

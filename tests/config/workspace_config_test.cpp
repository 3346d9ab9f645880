#include "config/workspace_config.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

namespace alphalab {
namespace {

namespace fs = std::filesystem;

// The error of parsing `yaml`; fails the test when it parses.
Status ErrorOf(const std::string& yaml) {
  auto r = ParseWorkspaceConfig(yaml);
  EXPECT_FALSE(r.ok()) << "parsed:\n" << yaml;
  return r.ok() ? Status::Ok() : r.status();
}

void ExpectError(const std::string& yaml, const std::string& key, int line, const std::string& message_part) {
  const Status s = ErrorOf(yaml);
  SCOPED_TRACE(yaml);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  ASSERT_TRUE(s.details().is_object()) << s.ToString();
  EXPECT_EQ(s.details().value("key", ""), key) << s.ToString();
  EXPECT_EQ(s.details().value("line", -1), line) << s.ToString();
  EXPECT_EQ(s.message().rfind("alphalab.yaml:" + std::to_string(line) + ": " + key + ": ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find(message_part), std::string::npos) << s.message();
}

TEST(WorkspaceConfigTest, TheExampleWorkspaceLoads) {
  const fs::path example = fs::path(ALPHALAB_SOURCE_DIR) / "examples" / "workspace";
  auto ws = Workspace::Open(example);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto cfg = LoadWorkspaceConfig(*ws);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server.host, "127.0.0.1");
  EXPECT_EQ(cfg->server.port, 8000);
  EXPECT_EQ(cfg->storage.db.scheme, DbUrl::Scheme::kSqlite);
  EXPECT_EQ(cfg->storage.db.path, "alphalab.db");
  EXPECT_EQ(cfg->storage.db.SqliteFile(*ws), ws->root() / "alphalab.db");
  EXPECT_EQ(cfg->executor.type, ExecutorType::kLocal);
  EXPECT_EQ(cfg->executor.slots, 0);
  ASSERT_NE(cfg->FindDataset("demo"), nullptr);
  EXPECT_EQ(cfg->FindDataset("demo")->format, "csv");
  EXPECT_EQ(cfg->FindDataset("demo")->path, "data/demo");
  ASSERT_NE(cfg->FindDataset("synthetic"), nullptr);
  ASSERT_EQ(cfg->job_types.size(), 2u);
  const JobTypeDecl& t = cfg->job_types[0];
  EXPECT_EQ(t.name, "rdagent-fin-quant");
  EXPECT_EQ(t.timeout_sec, 86400);
  ASSERT_EQ(t.argv.size(), 4u);
  EXPECT_TRUE(t.argv[2].group);
  EXPECT_EQ(t.argv[2].parts, (std::vector<std::string>{"--loop-n", "{loop_n}"}));
  // seed 003's task params (docs/rdagent.md): dataset_ids, loop_n, all_duration, evolving_mode,
  // source_history_id, n_epochs, batch_size, n_jobs, knowledge_base.
  ASSERT_EQ(t.params.size(), 9u);
  EXPECT_EQ(t.params[0].name, "dataset_ids");
  EXPECT_EQ(t.params[1].name, "loop_n");
  EXPECT_EQ(t.params[1].type, "int");
  EXPECT_EQ(t.params[1].min, 1.0);
  EXPECT_EQ(t.params[1].default_value, Json("1"));
  EXPECT_EQ(t.params[3].name, "evolving_mode");
  EXPECT_EQ(t.params[3].choices, (std::vector<std::string>{"bandit", "llm", "random"}));
  EXPECT_EQ(t.params[8].name, "knowledge_base");
  EXPECT_EQ(t.tool, "rdagent");
  ASSERT_TRUE(t.results.has_value());
  EXPECT_EQ(t.results->parser, "qlib_res");
  EXPECT_EQ(t.env.at("PYTHONUNBUFFERED"), "1");
  EXPECT_EQ(t.env.at("QLIB_QUANT_ACTION_SELECTION"), "{evolving_mode}");
  // A user's own script in its work folder (docs/rdagent.md, "A user's own script").
  const JobTypeDecl& script = cfg->job_types[1];
  EXPECT_EQ(script.name, "my-experiment");
  EXPECT_EQ(script.tool, "experiment");
  EXPECT_EQ(script.cwd, "{work_dir}");
  EXPECT_GT(script.cwd_line, 0);
  EXPECT_GT(script.env_lines.at("PYTHONPATH"), 0);
  ASSERT_NE(cfg->FindTool("experiment"), nullptr);
  EXPECT_TRUE(cfg->registry.index_on_start);
}

TEST(WorkspaceConfigTest, AbsentOrEmptyFileMeansDefaults) {
  const fs::path dir = fs::temp_directory_path() / ("wscfg_" + std::to_string(::getpid()) + "_" +
                                                    std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  auto ws = Workspace::Open(dir);
  ASSERT_TRUE(ws.ok());
  auto cfg = LoadWorkspaceConfig(*ws);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_FALSE(cfg->server.port.has_value());
  EXPECT_EQ(cfg->storage.db.text, "sqlite:alphalab.db");
  EXPECT_TRUE(cfg->job_types.empty());
  // A file with every section empty (all entries commented out) is the defaults too.
  std::ofstream(dir / "alphalab.yaml") << "# nothing\nserver:\ndatasets:\njob_types:\nregistry:\n";
  cfg = LoadWorkspaceConfig(*ws);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE(cfg->datasets.empty());
  // Errors from a file name its path.
  std::ofstream(dir / "alphalab.yaml") << "server:\n  port: high\n";
  cfg = LoadWorkspaceConfig(*ws);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message(), (dir / "alphalab.yaml").string() + ":2: server.port: must be an integer, got 'high'");
  fs::remove_all(dir);
}

TEST(WorkspaceConfigTest, UnknownKeysNameTheKeyAndLine) {
  ExpectError("server:\n  host: a\nstorage:\n  db: sqlite:x.db\nexecuter:\n  slots: 2\n", "executer", 5, "unknown key");
  ExpectError("server:\n  hots: a\n", "server.hots", 2, "known: host, port");
  ExpectError("registry:\n  index_on_start: true\n  reindex: false\n", "registry.reindex", 3, "unknown key");
  ExpectError("datasets:\n  demo:\n    format: csv\n    pth: data/demo\n", "datasets.demo.pth", 4, "unknown key");
  ExpectError("job_types:\n  t:\n    argv: [x]\n    timeout: 5\n", "job_types.t.timeout", 4, "unknown key");
  ExpectError("job_types:\n  t:\n    argv: [x, '{a}']\n    params:\n      a: {type: int, minimum: 1}\n",
              "job_types.t.params.a.minimum", 5, "unknown key");
}

TEST(WorkspaceConfigTest, WrongTypesNameTheKeyAndLine) {
  ExpectError("server:\n  port: eighty\n", "server.port", 2, "must be an integer, got 'eighty'");
  ExpectError("server:\n  port: [1]\n", "server.port", 2, "must be an integer, got a list");
  ExpectError("server: 8000\n", "server", 1, "must be a mapping");
  ExpectError("executor:\n  slots: 1.5\n", "executor.slots", 2, "must be an integer");
  ExpectError("registry:\n  index_on_start: maybe\n", "registry.index_on_start", 2, "must be true or false");
  ExpectError("storage:\n  db: {path: x}\n", "storage.db", 2, "must be a string");
  ExpectError("job_types:\n  t:\n    argv: x\n", "job_types.t.argv", 3, "non-empty list");
  ExpectError("job_types:\n  t:\n    argv: [x]\n    env: {A: [1]}\n", "job_types.t.env.A", 4, "must be a string");
  ExpectError("job_types:\n  t: [x]\n", "job_types.t", 2, "must be a mapping");
  ExpectError("- a\n- b\n", "(top level)", 1, "must be a mapping");
}

TEST(WorkspaceConfigTest, LeaseTimingsDefaultTo10And1AndCanBeSet) {
  auto cfg = ParseWorkspaceConfig("storage:\n  db: sqlite:x.db\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->storage.lease_ttl_seconds, 10);
  EXPECT_EQ(cfg->storage.lease_renew_seconds, 1);
  cfg = ParseWorkspaceConfig("storage:\n  db: postgresql://u@h/db\n  lease_ttl_seconds: 30\n  lease_renew_seconds: 5\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->storage.lease_ttl_seconds, 30);
  EXPECT_EQ(cfg->storage.lease_renew_seconds, 5);
}

TEST(WorkspaceConfigTest, BadExecutorAndStorageValuesNameTheKeyAndLine) {
  ExpectError("executor:\n  type: kubernetes\n", "executor.type", 2, "unknown executor 'kubernetes'");
  ExpectError("executor:\n  slots: -1\n", "executor.slots", 2, "must be between 0 and 4096, got -1");
  ExpectError("storage:\n  db: postgresql://u:pw@h:99999/db\n", "storage.db", 2, "port must be a number");
  ExpectError("storage:\n  db: postgresql://h\n", "storage.db", 2, "needs a database name");
  ExpectError("storage:\n  db: mysql://x\n", "storage.db", 2, "not a URL this build knows");
  ExpectError("storage:\n  db: 'sqlite:'\n", "storage.db", 2, "needs a path");
  ExpectError("storage:\n  lease_ttl_seconds: 0\n", "storage.lease_ttl_seconds", 2, "between 1 and 3600, got 0");
  ExpectError("storage:\n  lease_renew_seconds: soon\n", "storage.lease_renew_seconds", 2, "must be an integer");
  ExpectError("storage:\n  lease_ttl_seconds: 5\n  lease_renew_seconds: 5\n", "storage.lease_renew_seconds", 3,
              "must be less than lease_ttl_seconds (5)");
  ExpectError("storage:\n  lease_renew_seconds: 20\n", "storage.lease_renew_seconds", 2,
              "must be less than lease_ttl_seconds (10)");
  ExpectError("server:\n  port: 70000\n", "server.port", 2, "between 0 and 65535");
  ExpectError("datasets:\n  d:\n    format: parquet\n    path: data/d\n", "datasets.d.format", 3, "csv or qlib");
  ExpectError("datasets:\n  d:\n    format: csv\n", "datasets.d", 2, "needs 'path'");
}

TEST(WorkspaceConfigTest, TheSlurmExecutorIsParsed) {
  auto c = ParseWorkspaceConfig(
      "executor:\n  type: slurm\n  partition: gpu\n  account: lab\n  time_limit: 1-02:00:00\n"
      "  sbatch_args: [--mem=4G, '--qos=low']\n  slots: 50\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->executor.type, ExecutorType::kSlurm);
  EXPECT_EQ(c->executor.partition, "gpu");
  EXPECT_EQ(c->executor.account, "lab");
  EXPECT_EQ(c->executor.time_limit, "1-02:00:00");
  EXPECT_EQ(c->executor.sbatch_args, (std::vector<std::string>{"--mem=4G", "--qos=low"}));
  EXPECT_EQ(c->executor.slots, 50);
  for (const char* t : {"30", "30:00", "2:00:00", "1-0", "1-2:30", "UNLIMITED"}) {
    EXPECT_TRUE(ParseWorkspaceConfig(std::string("executor: {type: slurm, time_limit: '") + t + "'}\n").ok()) << t;
  }
}

TEST(WorkspaceConfigTest, BadSlurmExecutorValuesNameTheKeyAndLine) {
  ExpectError("executor:\n  type: slurm\n  time_limit: 2h\n", "executor.time_limit", 3, "not a Slurm time");
  ExpectError("executor:\n  type: slurm\n  partition: ''\n", "executor.partition", 3, "must not be empty");
  ExpectError("executor:\n  type: slurm\n  account: 'a b'\n", "executor.account", 3, "spaces or quotes");
  ExpectError("executor:\n  type: slurm\n  sbatch_args: [mem=4G]\n", "executor.sbatch_args", 3,
              "is not an sbatch option");
  ExpectError("executor:\n  type: slurm\n  sbatch_args: ['--output=/tmp/x']\n", "executor.sbatch_args", 3,
              "'--output' is set by the Slurm executor");
  ExpectError("executor:\n  type: slurm\n  sbatch_args: --mem=1G\n", "executor.sbatch_args", 3,
              "must be a list of strings");
  ExpectError("executor:\n  partition: gpu\n", "executor.partition", 2, "only for executor type slurm");
  ExpectError("executor:\n  type: local\n  sbatch_args: [--mem=1G]\n", "executor.sbatch_args", 3,
              "only for executor type slurm");
  ExpectError("executor:\n  type: slurm\n  nodes: 2\n", "executor.nodes", 3, "unknown key");
}

TEST(WorkspaceConfigTest, TheLocalSupervisorPriorityIsRealtimeUnlessSetToNormal) {
  auto c = ParseWorkspaceConfig("executor:\n  type: local\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->executor.realtime_supervisor);
  c = ParseWorkspaceConfig("executor:\n  supervisor_priority: normal\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->executor.realtime_supervisor);
  c = ParseWorkspaceConfig("executor:\n  supervisor_priority: realtime\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->executor.realtime_supervisor);
  ExpectError("executor:\n  supervisor_priority: high\n", "executor.supervisor_priority", 2, "realtime or normal");
  ExpectError("executor:\n  type: slurm\n  supervisor_priority: normal\n", "executor.supervisor_priority", 3,
              "only for executor type local");
}

TEST(WorkspaceConfigTest, InvalidYamlNamesTheLine) {
  const Status s = ErrorOf("server:\n  host: [a\n  port: 1\n");
  EXPECT_EQ(s.message().rfind("alphalab.yaml:", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("invalid YAML"), std::string::npos) << s.message();
  EXPECT_GT(s.details().value("line", 0), 1);
}

TEST(WorkspaceConfigTest, DbUrlIsParsedOnce) {
  auto rel = DbUrl::Parse("sqlite:data/x.db");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->path, "data/x.db");
  auto abs = DbUrl::Parse("sqlite:///tmp/x.db");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->path, "/tmp/x.db");
  auto mem = DbUrl::Parse("sqlite::memory:");
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ(mem->path, ":memory:");
  EXPECT_FALSE(DbUrl::Parse("").ok());
  EXPECT_FALSE(DbUrl::Parse("alphalab.db").ok());
  EXPECT_FALSE(DbUrl::Parse("postgres://x").ok());  // no database name
  auto pg = DbUrl::Parse("postgresql://alice:s3cret@db.example.org:5433/alphalab?sslmode=require");
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_EQ(pg->scheme, DbUrl::Scheme::kPostgres);
  EXPECT_EQ(pg->text, "postgresql://alice:s3cret@db.example.org:5433/alphalab?sslmode=require");
  EXPECT_TRUE(DbUrl::Parse("postgres://h/db").ok());
  EXPECT_TRUE(DbUrl::Parse("postgresql://[::1]:5432/db").ok());
  const Status bad = DbUrl::Parse("postgresql://alice:s3cret@:5432/db").status();
  EXPECT_NE(bad.message().find("needs a host"), std::string::npos) << bad.message();
  EXPECT_EQ(bad.message().find("s3cret"), std::string::npos) << "password shown: " << bad.message();
  EXPECT_FALSE(DbUrl::Parse("postgresql://h:x/db").ok());
  EXPECT_FALSE(DbUrl::Parse("postgresql://h/d b").ok());
}

TEST(WorkspaceConfigTest, DatasetsKeepFileOrderAndProviderUriIsAPath) {
  auto cfg = ParseWorkspaceConfig(
      "datasets:\n  b: {format: qlib, provider_uri: data/q}\n  a: {path: data/a}\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->datasets.size(), 2u);
  EXPECT_EQ(cfg->datasets[0].name, "b");
  EXPECT_EQ(cfg->datasets[0].path, "data/q");
  EXPECT_EQ(cfg->datasets[0].line, 2);
  EXPECT_EQ(cfg->datasets[1].format, "");
  EXPECT_EQ(cfg->FindDataset("zzz"), nullptr);
}

}  // namespace
}  // namespace alphalab

namespace alphalab {
namespace {

TEST(WorkspaceConfigTest, AuthAndServerNamesAreParsed) {
  auto defaults = ParseWorkspaceConfig("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->auth.mode, AuthMode::kNone);
  EXPECT_TRUE(defaults->server.hosts.empty());
  auto cfg = ParseWorkspaceConfig(
      "server:\n  hosts: [Lab.Example.org, 'lab.example.org:8443']\n  origins: ['https://Lab.example.org']\n"
      "auth:\n  mode: token\n  session_hours: 2\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->auth.mode, AuthMode::kToken);
  EXPECT_EQ(cfg->auth.session_hours, 2);
  EXPECT_EQ(cfg->server.hosts, (std::vector<std::string>{"lab.example.org", "lab.example.org:8443"}));
  EXPECT_EQ(cfg->server.origins, (std::vector<std::string>{"https://lab.example.org"}));
  ExpectError("auth:\n  mode: password\n", "auth.mode", 2, "none or token");
  ExpectError("auth:\n  session_hours: 0\n", "auth.session_hours", 2, "between 1 and 720");
  ExpectError("server:\n  origins: [evil.example]\n", "server.origins", 2, "not an origin");
  ExpectError("server:\n  origins: ['https://a.example/path']\n", "server.origins", 2, "not an origin");
  ExpectError("server:\n  hosts: ['a.example/x']\n", "server.hosts", 2, "not a host name");
  ExpectError("job_types:\n  t:\n    argv: [x]\n    params:\n      p: {type: string, allow_leading_dash: maybe}\n",
              "job_types.t.params.p.allow_leading_dash", 5, "true or false");
}

TEST(WorkspaceConfigTest, RootsConfigsAndAJobTypesToolParse) {
  auto cfg = ParseWorkspaceConfig(
      "roots:\n"
      "  rdagent: /opt/RD-Agent\n"
      "configs:\n"
      "  rdagent:\n"
      "    root: rdagent\n"
      "    description: RD-Agent settings\n"
      "    files:\n"
      "      - {path: .env, kind: env}\n"
      "      - rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml\n"
      "      - {path: rdagent/scenarios/qlib/prompts.yaml, readonly: true}\n"
      "job_types:\n"
      "  agent:\n"
      "    argv: [rdagent, fin_quant]\n"
      "    tool: rdagent\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->roots.size(), 1u);
  EXPECT_EQ(cfg->roots[0].name, "rdagent");
  EXPECT_EQ(cfg->roots[0].path, "/opt/RD-Agent");
  EXPECT_EQ(cfg->roots[0].line, 2);
  const ToolConfigDecl* tool = cfg->FindTool("rdagent");
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->root, "rdagent");
  EXPECT_EQ(tool->description, "RD-Agent settings");
  ASSERT_EQ(tool->files.size(), 3u);
  EXPECT_EQ(tool->files[0].path, ".env");
  EXPECT_EQ(tool->files[0].kind, "env");
  EXPECT_FALSE(tool->files[0].readonly);
  EXPECT_EQ(tool->files[1].kind, "yaml");
  EXPECT_EQ(tool->files[1].line, 9);
  EXPECT_TRUE(tool->files[2].readonly);
  ASSERT_EQ(cfg->job_types.size(), 1u);
  EXPECT_EQ(cfg->job_types[0].tool, "rdagent");
  EXPECT_EQ(cfg->FindRoot("nope"), nullptr);
}

TEST(WorkspaceConfigTest, BadRootsAndConfigsNameTheKeyAndLine) {
  ExpectError("roots:\n  workspace: /tmp\n", "roots.workspace", 2, "not 'workspace'");
  ExpectError("roots:\n  a/b: /tmp\n", "roots.a/b", 2, "letters, digits");
  ExpectError("roots:\n  x: [1]\n", "roots.x", 2, "must be a string");
  ExpectError("configs:\n  t:\n    files:\n      - ../etc/passwd\n", "configs.t.files[0].path", 4, "no '..'");
  ExpectError("configs:\n  t:\n    files:\n      - /etc/passwd\n", "configs.t.files[0].path", 4, "leading '/'");
  ExpectError("configs:\n  t:\n    files:\n      - a//b\n", "configs.t.files[0].path", 4, "relative path");
  ExpectError("configs:\n  t:\n    files:\n      - {path: a, kind: ini}\n", "configs.t.files[0].kind", 4, "unknown kind");
  ExpectError("configs:\n  t:\n    files:\n      - a\n      - a\n", "configs.t.files[1].path", 5, "listed twice");
  ExpectError("configs:\n  t:\n    files: a\n", "configs.t.files", 3, "must be a list");
  ExpectError("configs:\n  t:\n    other: 1\n", "configs.t.other", 3, "unknown key");
  ExpectError("configs:\n  t:\n    root: missing\n", "configs.t.root", 3, "not declared under roots");
  ExpectError("job_types:\n  j:\n    argv: [x]\n    tool: missing\n", "job_types.j.tool", 4, "not declared under configs");
}

TEST(WorkspaceConfigTest, ApiDatasetFilesAreReadAfterAlphalabYamlWhichWinsByName) {
  const fs::path dir = fs::temp_directory_path() / ("alphalab_cfg_ds_" + std::to_string(::getpid()));
  fs::create_directories(dir / "datasets");
  std::ofstream(dir / "alphalab.yaml") << "datasets:\n  demo: {format: csv, path: data/demo, default: true}\n";
  std::ofstream(dir / "datasets" / "picks.yaml")
      << "format: csv\npath: data/demo\ninstruments_file: datasets/picks.instruments.txt\ndescription: two\n";
  std::ofstream(dir / "datasets" / "demo.yaml") << "format: qlib\npath: elsewhere\n";  // shadowed
  std::ofstream(dir / "datasets" / "default.txt") << "picks\n";                       // not a .yaml
  auto ws = Workspace::Open(dir);
  ASSERT_TRUE(ws.ok());
  auto cfg = LoadWorkspaceConfig(*ws);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->datasets.size(), 2u);
  EXPECT_EQ(cfg->datasets[0].source, "alphalab.yaml");
  EXPECT_TRUE(cfg->datasets[0].is_default);
  EXPECT_EQ(cfg->datasets[0].path, "data/demo");
  const DatasetDecl* picks = cfg->FindDataset("picks");
  ASSERT_NE(picks, nullptr);
  EXPECT_EQ(picks->source, "datasets/picks.yaml");
  EXPECT_EQ(picks->instruments_file, "datasets/picks.instruments.txt");
  EXPECT_EQ(picks->description, "two");
  std::ofstream(dir / "datasets" / "bad.yaml") << "format: csv\npth: x\n";
  cfg = LoadWorkspaceConfig(*ws);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("datasets/bad.yaml:2: bad.pth"), std::string::npos) << cfg.status().message();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace alphalab

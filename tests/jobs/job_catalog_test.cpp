#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "config/workspace_config.hpp"
#include "jobs/job_artifacts.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_results.hpp"
#include "jobs/job_service.hpp"

namespace alphalab {
namespace {

namespace fs = std::filesystem;

// alphalab.yaml text -> the catalog's user types, through the one config parser.
Status LoadUserTypes(JobCatalog& catalog, std::string_view yaml) {
  ASSIGN_OR_RETURN(WorkspaceConfig config, ParseWorkspaceConfig(yaml));
  return catalog.AddUserTypes(config);
}

class JobCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("catalog_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "configs" / "backtest");
    fs::create_directories(root_ / "runs" / "run_1");
    std::ofstream(root_ / "configs" / "base.yaml") << "dataset: demo\n";
    std::ofstream(root_ / "configs" / "backtest" / "base.yaml") << "dataset: demo\n";
    std::ofstream(root_ / "runs" / "run_1" / "model.json") << "{}";
    fs::create_directories(root_.parent_path() / (root_.filename().string() + "_outside"));
    std::ofstream(root_.parent_path() / (root_.filename().string() + "_outside") / "x.yaml") << "a: 1\n";
    fs::create_symlink(root_.parent_path() / (root_.filename().string() + "_outside") / "x.yaml",
                       root_ / "configs" / "escape.yaml");
    ws_ = std::make_unique<Workspace>(*Workspace::Open(root_));
    catalog_ = std::make_unique<JobCatalog>(*ws_, "/opt/alphalab/bin/alphalab");
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove_all(root_.parent_path() / (root_.filename().string() + "_outside"));
  }
  fs::path root_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<JobCatalog> catalog_;
};

TEST_F(JobCatalogTest, TrainArgv) {
  auto r = catalog_->Resolve("train", Json{{"config_path", "configs/base.yaml"},
                                           {"overrides", {"model.params.eta=0.05", "tickers=[SPX, TSM]"}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->argv, (std::vector<std::string>{"/opt/alphalab/bin/alphalab", "train", "--config",
                                               "configs/base.yaml", "--set", "model.params.eta=0.05",
                                               "--set", "tickers=[SPX, TSM]"}));
  EXPECT_EQ(r->cwd, root_);
  EXPECT_FALSE(r->dry_run);
  EXPECT_EQ(r->args_preview.rfind("alphalab train --config configs/base.yaml", 0), 0u);
}

TEST_F(JobCatalogTest, BacktestArgvWithOptionalFlags) {
  auto r = catalog_->Resolve("backtest", Json{{"config_path", "./configs/backtest/../backtest/base.yaml"},
                                              {"tickers", {"TSM"}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->argv, (std::vector<std::string>{"/opt/alphalab/bin/alphalab", "backtest", "--config",
                                               "configs/backtest/base.yaml", "--tickers", "TSM"}));
  EXPECT_EQ(r->env.at("ALPHALAB_JOB_ID"), "{job_id}");  // filled by BindJobId
  auto full = catalog_->Resolve("backtest", Json{{"config_path", "configs/backtest/base.yaml"},
                                                 {"tickers", "TSM, SPX"},
                                                 {"start", "2010-01-04"},
                                                 {"end", "2012-12-31"},
                                                 {"model_path", "runs/run_1/model.json"},
                                                 {"overrides", {"fee_bps=5"}}});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->argv, (std::vector<std::string>{
                            "/opt/alphalab/bin/alphalab", "backtest", "--config", "configs/backtest/base.yaml",
                            "--tickers", "TSM,SPX", "--start", "2010-01-04", "--end", "2012-12-31",
                            "--model", "runs/run_1/model.json", "--set", "fee_bps=5"}));
}

TEST_F(JobCatalogTest, EvalMetricsArgvAndRunChecks) {
  auto r = catalog_->Resolve("eval-metrics", Json{{"run_id", "run_1"}, {"mode", "base"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->argv, (std::vector<std::string>{"/opt/alphalab/bin/alphalab", "eval-metrics", "--run-dir",
                                               "runs/run_1", "--mode", "base"}));
  auto def = catalog_->Resolve("eval-metrics", Json{{"run_id", "run_1"}});
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->argv.back(), "runs/run_1");  // no --mode: the engine uses the run's own mode
  EXPECT_EQ(catalog_->Resolve("eval-metrics", Json{{"run_id", "nope"}}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->Resolve("eval-metrics", Json{{"run_id", "../etc"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->Resolve("eval-metrics", Json{{"run_id", "run_1"}, {"mode", "turbo"}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(JobCatalogTest, OverrideGrammar) {
  for (const char* good : {"a=1", "_x=", "a.b.c=hello world", "model.params.eta=0.1", "a1.2b=x=y", "k=[1, 2]"}) {
    EXPECT_TRUE(ValidateOverride(good).ok()) << good;
  }
  for (const std::string& bad : std::vector<std::string>{"", "=1", "novalue", "1a=2", "a..b=1", "a.=1", ".a=1", "a-b=1", "a b=1",
                          "a=1\nb=2", "a=\r", std::string("a=x\0y", 5), "--set=1", "a/b=1"}) {
    EXPECT_FALSE(ValidateOverride(bad).ok()) << bad;
  }
  auto r = catalog_->Resolve("train", Json{{"config_path", "configs/base.yaml"}, {"overrides", {"ok=1", "bad key=1"}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("bad key=1"), std::string::npos);
  EXPECT_FALSE(catalog_->Resolve("train", Json{{"config_path", "configs/base.yaml"}, {"overrides", {1}}}).ok());
}

TEST_F(JobCatalogTest, PathsAreConfined) {
  for (const char* bad : {"../outside.yaml", "/etc/passwd", "configs/escape.yaml", "configs/%2e%2e/x",
                          "configs/../../x.yaml", "~/x.yaml"}) {
    auto r = catalog_->Resolve("train", Json{{"config_path", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find("config_path"), std::string::npos);
  }
  EXPECT_EQ(catalog_->Resolve("train", Json{{"config_path", "configs/missing.yaml"}}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(catalog_->Resolve("train", Json{{"config_path", "configs"}}).status().code(),
            StatusCode::kInvalidArgument);  // a directory, not a file
}

TEST_F(JobCatalogTest, UnknownTypeFieldAndBadValues) {
  EXPECT_EQ(catalog_->Resolve("rm -rf", Json::object()).status().code(), StatusCode::kInvalidArgument);
  auto unknown = catalog_->Resolve("train", Json{{"config_path", "configs/base.yaml"}, {"command", "ls"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown parameter 'command'"), std::string::npos);
  EXPECT_FALSE(catalog_->Resolve("train", Json::object()).ok());  // missing config_path
  EXPECT_FALSE(catalog_->Resolve("backtest", Json{{"config_path", "configs/backtest/base.yaml"},
                                                  {"start", "2021-02-30"}}).ok());
  EXPECT_FALSE(catalog_->Resolve("backtest", Json{{"config_path", "configs/backtest/base.yaml"},
                                                  {"tickers", {"TSM;rm"}}}).ok());
  EXPECT_FALSE(catalog_->Resolve("backtest", Json{{"config_path", "configs/backtest/base.yaml"},
                                                  {"start", "2012-01-01"}, {"end", "2011-01-01"}}).ok());
  // dry_run is a submit option (TakeDryRun), not a param of any type.
  auto dry = catalog_->Resolve("train", Json{{"config_path", "configs/base.yaml"}, {"dry_run", true}});
  ASSERT_FALSE(dry.ok());
  EXPECT_NE(dry.status().message().find("unknown parameter 'dry_run'"), std::string::npos);
  EXPECT_FALSE(catalog_->Resolve("train", Json::array()).ok());
}

TEST_F(JobCatalogTest, UserTypeTemplate) {
  ASSERT_TRUE(LoadUserTypes(*catalog_, R"(
job_types:
  experiment:
    description: my script
    argv: [bin/run, --config, "{config}", [--seed, "{seed}"], "--tag={tag}", "{overrides}", --ws, "{workspace}"]
    params:
      config: {type: path, required: true}
      seed: {type: int, min: 0, max: 100}
      tag: {type: string, default: dev}
      ratio: float
      flag: bool
      day: date
      mode: {type: enum, choices: [a, b]}
      names: list
      out: {type: path, must_exist: false}
    artifacts: {run_id: '^run_id:\s*(\S+)'}
    required_artifacts: [run_id]
    timeout_sec: 30
    env: {JOB: "{job_id}", MODE: fixed}
)").ok());
  const JobTypeSpec* t = catalog_->Find("experiment");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->accepts_overrides);
  EXPECT_EQ(t->timeout_sec, 30);
  auto r = catalog_->Resolve("experiment", Json{{"config", "configs/base.yaml"}, {"overrides", {"a=1"}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->argv, (std::vector<std::string>{(root_ / "bin/run").string(), "--config", "configs/base.yaml",
                                               "--tag=dev", "--set", "a=1", "--ws", root_.string()}));
  EXPECT_EQ(r->env.at("MODE"), "fixed");
  EXPECT_EQ(r->env.at("JOB"), "{job_id}");
  EXPECT_EQ(r->timeout_sec, 30);
  auto seeded = catalog_->Resolve("experiment", Json{{"config", "configs/base.yaml"}, {"seed", "7"},
                                                     {"ratio", 0.5}, {"flag", "true"}, {"day", "2020-01-02"},
                                                     {"mode", "b"}, {"names", "x, y"}, {"out", "new/dir"}});
  ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
  EXPECT_EQ(seeded->argv[3], "--seed");
  EXPECT_EQ(seeded->argv[4], "7");
  EXPECT_EQ(seeded->params["names"], Json({"x", "y"}));
  EXPECT_EQ(seeded->params["out"], "new/dir");
  EXPECT_FALSE(catalog_->Resolve("experiment", Json{{"config", "configs/base.yaml"}, {"seed", 101}}).ok());
  EXPECT_FALSE(catalog_->Resolve("experiment", Json{{"config", "configs/base.yaml"}, {"seed", "1.5"}}).ok());
  EXPECT_FALSE(catalog_->Resolve("experiment", Json{{"config", "configs/base.yaml"}, {"mode", "c"}}).ok());
  EXPECT_FALSE(catalog_->Resolve("experiment", Json{{"config", "configs/base.yaml"}, {"tag", "a\nb"}}).ok());
  EXPECT_FALSE(catalog_->Resolve("experiment", Json{{"config", "configs/base.yaml"}, {"out", "../x"}}).ok());
  // A value is one argv item: it cannot smuggle flags.
  auto sneaky = catalog_->Resolve("experiment", Json{{"config", "configs/base.yaml"}, {"tag", "x --evil"}});
  ASSERT_TRUE(sneaky.ok());
  EXPECT_EQ(sneaky->argv[3], "--tag=x --evil");
  auto json = catalog_->ToJson();
  ASSERT_EQ(json["job_types"].size(), 4u);
  EXPECT_EQ(json["job_types"][3]["name"], "experiment");
}

// Argument injection (docs/security.md): values starting with '-' are options, not values.
TEST_F(JobCatalogTest, LeadingDashValuesAreRefusedUnlessTheParamAllowsThem) {
  ASSERT_TRUE(LoadUserTypes(*catalog_, R"(
job_types:
  inject:
    argv: [bin/run, "{name}", [--out, "{out}"], [--names, "{names}"], [--label, "{label}"]]
    params:
      name: {type: string, required: true}
      out: {type: path, must_exist: false}
      names: list
      label: {type: string, allow_leading_dash: true}
)").ok());
  for (const char* bad : {"--config=/etc/passwd", "-h", "--"}) {
    auto r = catalog_->Resolve("inject", Json{{"name", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().details().value("parameter", ""), "name") << bad;
  }
  auto path = catalog_->Resolve("inject", Json{{"name", "ok"}, {"out", "--config=/etc/passwd"}});
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().details().value("parameter", ""), "out");
  EXPECT_FALSE(catalog_->Resolve("inject", Json{{"name", "ok"}, {"out", "-x"}}).ok());
  auto list = catalog_->Resolve("inject", Json{{"name", "ok"}, {"names", {"a", "-h"}}});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().details().value("parameter", ""), "names");
  // The built-in backtest's tickers are a list too: "-h" would reach the engine as a flag.
  EXPECT_FALSE(catalog_->Resolve("backtest", Json{{"config_path", "configs/base.yaml"}, {"tickers", "-h"}}).ok());
  auto allowed = catalog_->Resolve("inject", Json{{"name", "a-b"}, {"label", "-5dB"}, {"out", "new/-x"}});
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->argv, (std::vector<std::string>{(root_ / "bin/run").string(), "a-b", "--out", "new/-x",
                                                     "--label", "-5dB"}));
  EXPECT_EQ(catalog_->ToJson()["job_types"][3]["params"][3]["allow_leading_dash"], true);
  // Only string and list params take the flag.
  EXPECT_FALSE(LoadUserTypes(*catalog_, R"(
job_types:
  wrong:
    argv: [bin/run, "{n}"]
    params:
      n: {type: int, allow_leading_dash: true}
)").ok());
}

TEST_F(JobCatalogTest, JobIdPlaceholderIsFilledInTheTemplateOnly) {
  ASSERT_TRUE(LoadUserTypes(*catalog_, R"(
job_types:
  ids:
    argv: [bin/run, "--id={job_id}", "{tag}", "{job_id}/{tag}"]
    params:
      tag: {type: string, required: true}
    env: {JOB: "{job_id}-{tag}"}
)").ok());
  auto r = catalog_->Resolve("ids", Json{{"tag", "x{job_id}y"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->args_preview, "run --id={job_id} x{job_id}y {job_id}/x{job_id}y");
  r->BindJobId("job_42");
  EXPECT_EQ(r->args_preview, "run --id=job_42 x{job_id}y job_42/x{job_id}y");
  EXPECT_EQ(r->argv, (std::vector<std::string>{(root_ / "bin/run").string(), "--id=job_42", "x{job_id}y",
                                               "job_42/x{job_id}y"}));
  EXPECT_EQ(r->env.at("JOB"), "job_42-x{job_id}y");
}

// {work_dir}: the job's own folder under the workspace, in argv, env, cwd and results.path; the
// job id is filled in like {job_id} (the template's only), the folder itself is made at start.
TEST_F(JobCatalogTest, WorkDirPlaceholderNamesTheJobsOwnFolder) {
  ASSERT_TRUE(LoadUserTypes(*catalog_, R"(
job_types:
  script:
    argv: [python3, -m, scripts.run, --out, "{work_dir}", "--config={work_dir}/c.yaml", "{tag}"]
    params:
      tag: {type: string, required: true}
    env: {OUT: "{work_dir}", ROOT: "{workspace}"}
    cwd: "{work_dir}"
    results: {parser: alphalab_summary, path: "{work_dir}/summary.json"}
  plain:
    argv: [x, "{job_id}"]
  env_only:
    argv: [x]
    env: {OUT: "{work_dir}"}
)").ok());
  const JobTypeSpec* t = catalog_->Find("script");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->uses_work_dir);
  EXPECT_TRUE(t->cwd_work_dir);
  EXPECT_FALSE(catalog_->Find("plain")->uses_work_dir);
  EXPECT_TRUE(catalog_->Find("env_only")->uses_work_dir);
  EXPECT_FALSE(catalog_->Find("env_only")->cwd_work_dir);
  auto r = catalog_->Resolve("script", Json{{"tag", "{work_dir}"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  r->BindJobId("job_7");
  const std::string work = (root_ / "reports/jobs/runtime/job_7/work").string();
  EXPECT_EQ(r->argv, (std::vector<std::string>{"python3", "-m", "scripts.run", "--out", work,
                                               "--config=" + work + "/c.yaml", "{work_dir}"}));  // a value stays literal
  EXPECT_EQ(r->env.at("OUT"), work);
  EXPECT_EQ(r->env.at("ROOT"), root_.string());
  JobRecord rec;
  rec.job_id = JobId("job_7");
  auto path = SubstituteResultsPath(t->results->path, rec);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, "reports/jobs/runtime/job_7/work/summary.json");
  EXPECT_EQ(fs::path(work), JobWorkDir(*ws_, rec.job_id));
}

TEST_F(JobCatalogTest, WorkDirAndEnvPlaceholderErrorsNameFileLineAndKey) {
  auto message = [&](const std::string& yaml) { return LoadUserTypes(*catalog_, yaml).message(); };
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x, '{work_dir}']\n    env:\n      A: '1'\n      B: '{workdir}'\n"),
            "alphalab.yaml:6: job_types.t.env.B: uses {workdir} but no such param is declared");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    env: {A: '{overrides}'}\n"),
            "alphalab.yaml:4: job_types.t.env.A: {overrides} is for argv only");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    cwd: scripts\n"),
            "alphalab.yaml:4: job_types.t.cwd: must be \"{workspace}\" (the default) or \"{work_dir}\" (the job's own "
            "work folder)");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x, '{work_dir}/{job}']\n"),
            "alphalab.yaml:3: job_types.t.argv[1]: uses {job} but no such param is declared");
  EXPECT_TRUE(LoadUserTypes(*catalog_, "job_types:\n  t:\n    argv: [x]\n    cwd: '{workspace}'\n").ok());
  EXPECT_FALSE(catalog_->Find("t")->uses_work_dir);
}

TEST_F(JobCatalogTest, OversizedArgumentsAreRefusedAtSubmitNamingTheParam) {
  ASSERT_TRUE(LoadUserTypes(*catalog_, R"(
job_types:
  big:
    argv: [bin/run, "{overrides}", [--names, "{names}"]]
    params:
      names: list
)").ok());
  // One 200 KB override: over the per-argument limit (the kernel would answer E2BIG).
  auto one = catalog_->Resolve("big", Json{{"overrides", {"k=" + std::string(200 * 1024, 'v')}}});
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(one.status().details().value("parameter", ""), "overrides");
  // Many items each under the per-argument limit, together over the total.
  Json names = Json::array();
  for (int i = 0; i < 40; ++i) names.push_back(std::string(4000, 'n'));  // 4 KB each, joined = 160 KB
  auto joined = catalog_->Resolve("big", Json{{"names", names}});
  ASSERT_FALSE(joined.ok());
  EXPECT_EQ(joined.status().details().value("parameter", ""), "names");
  Json overrides = Json::array();
  for (int i = 0; i < 12; ++i) overrides.push_back("k" + std::to_string(i) + "=" + std::string(100 * 1024, 'v'));
  auto total = catalog_->Resolve("big", Json{{"overrides", overrides}});
  ASSERT_FALSE(total.ok());
  EXPECT_NE(total.status().message().find("over the limit"), std::string::npos) << total.status().ToString();
  EXPECT_EQ(total.status().details().value("parameter", ""), "overrides");
  EXPECT_TRUE(catalog_->Resolve("big", Json{{"overrides", {"k=" + std::string(1000, 'v')}}}).ok());
}

TEST_F(JobCatalogTest, BadUserTypesAreRefused) {
  EXPECT_FALSE(LoadUserTypes(*catalog_, "job_types:\n  train:\n    argv: [x]\n").ok());
  EXPECT_FALSE(LoadUserTypes(*catalog_, "job_types:\n  t1:\n    argv: []\n").ok());
  EXPECT_FALSE(LoadUserTypes(*catalog_, "job_types:\n  t2:\n    argv: [x, '{nope}']\n").ok());
  EXPECT_FALSE(LoadUserTypes(*catalog_, "job_types:\n  t3:\n    argv: [x]\n    params: {p: {type: color}}\n").ok());
  EXPECT_FALSE(LoadUserTypes(*catalog_, "job_types:\n  t4:\n    argv: [x]\n    artifacts: {a: '('}\n").ok());
  EXPECT_FALSE(LoadUserTypes(*catalog_, "job_types:\n  t5:\n    argv: [x]\n    required_artifacts: [a]\n").ok());
  EXPECT_TRUE(LoadUserTypes(*catalog_, "job_types: {}\n").ok());
  EXPECT_TRUE(LoadUserTypes(*catalog_, "server: {port: 1}\n").ok());
}

}  // namespace
TEST_F(JobCatalogTest, UserTypeErrorsNameFileLineAndKey) {
  auto message = [&](const std::string& yaml) { return LoadUserTypes(*catalog_, yaml).message(); };
  EXPECT_EQ(message("job_types:\n  train:\n    argv: [x]\n"),
            "alphalab.yaml:2: job_types.train: already defined (built-in types cannot be redefined)");
  EXPECT_EQ(message("job_types:\n  t2:\n    description: d\n    argv: [x, '{nope}']\n"),
            "alphalab.yaml:4: job_types.t2.argv[1]: uses {nope} but no such param is declared");
  EXPECT_EQ(message("job_types:\n  t3:\n    argv: [x]\n    params:\n      p: {type: color}\n"),
            "alphalab.yaml:5: job_types.t3.params.p.type: unknown type 'color'");
  EXPECT_EQ(message("job_types:\n  t4:\n    argv: [x]\n    artifacts: {a: 'no group'}\n"),
            "alphalab.yaml:4: job_types.t4.artifacts.a: the regex needs a capture group");
  EXPECT_EQ(message("job_types:\n  t5:\n    argv: [x]\n    required_artifacts: [a]\n"),
            "alphalab.yaml:4: job_types.t5.required_artifacts: 'a' has no regex under artifacts");
  EXPECT_EQ(message("job_types:\n  t6:\n    argv: [[-x, '{p}']]\n    params: {p: int}\n"),
            "alphalab.yaml:3: job_types.t6.argv[0]: must be a plain program name");
  EXPECT_EQ(message("job_types:\n  t7:\n    argv: [x]\n    params: {e: {type: enum}}\n"),
            "alphalab.yaml:4: job_types.t7.params.e.choices: an enum param needs choices");
  // All or nothing: a good type before a bad one is not kept.
  EXPECT_FALSE(LoadUserTypes(*catalog_, "job_types:\n  good:\n    argv: [x]\n  bad:\n    argv: [x, '{q}']\n").ok());
  EXPECT_EQ(catalog_->List().size(), 3u);
  EXPECT_EQ(catalog_->Find("good"), nullptr);
}

TEST_F(JobCatalogTest, BuiltinsWriteAResultFileNamedByTheirJobId) {
  for (const char* type : {"train", "backtest", "eval-metrics"}) {
    const Json params = std::string(type) == "eval-metrics" ? Json{{"run_id", "run_1"}}
                        : std::string(type) == "train"      ? Json{{"config_path", "configs/base.yaml"}}
                                                            : Json{{"config_path", "configs/backtest/base.yaml"}};
    auto r = catalog_->Resolve(type, params);
    ASSERT_TRUE(r.ok()) << type << ": " << r.status().ToString();
    EXPECT_EQ(r->env.at(kJobIdEnv), "{job_id}") << type;
    r->BindJobId("job_20260101_000000__0123abcd");
    EXPECT_EQ(r->env.at(kJobIdEnv), "job_20260101_000000__0123abcd") << type;
    const JobTypeSpec* spec = catalog_->Find(type);
    ASSERT_TRUE(spec && spec->result_kind) << type;
    EXPECT_TRUE(spec->artifacts.empty()) << "a built-in's artifacts come from its result file, not the log";
  }
  EXPECT_EQ(catalog_->Find("train")->result_kind, ResultKind::kRun);
  EXPECT_EQ(catalog_->Find("backtest")->result_kind, ResultKind::kBacktest);
  EXPECT_EQ(catalog_->Find("eval-metrics")->result_kind, ResultKind::kEvaluation);
  const Json types = catalog_->ToJson()["job_types"];
  EXPECT_EQ(types[1]["name"], "backtest");
  EXPECT_EQ(types[1]["results"],
            (Json{{"kind", "backtest"}, {"parser", "alphalab_summary"}, {"path", "reports/jobs/runtime/{job_id}.result.json"}}));
  EXPECT_EQ(types[0]["results"]["parser"], nullptr);
}

// The built-ins are argv templates in the user types' language: GET /api/job-types shows them,
// and a user type declared with the same template resolves to the same argv.
TEST_F(JobCatalogTest, BuiltinsAreArgvTemplatesAUserTypeCanRepeat) {
  const Json types = catalog_->ToJson()["job_types"];
  EXPECT_EQ(types[0]["argv_template"],
            (Json{"{alphalab}", "train", "--config", "{config_path}", "{overrides}"}));
  EXPECT_EQ(types[1]["argv_template"],
            (Json{"{alphalab}", "backtest", "--config", "{config_path}", Json{"--tickers", "{tickers}"},
                  Json{"--start", "{start}"}, Json{"--end", "{end}"}, Json{"--model", "{model_path}"}, "{overrides}"}));
  EXPECT_EQ(types[2]["argv_template"], (Json{"{alphalab}", "eval-metrics", "--run-dir", "runs/{run_id}",
                                             Json{"--mode", "{mode}"}, Json{"--model", "{model_path}"}}));
  for (const Json& t : types) {
    for (const Json& p : t["params"]) EXPECT_NE(p["name"], "dry_run") << t["name"];  // a submit option
  }
  ASSERT_TRUE(LoadUserTypes(*catalog_, R"(
job_types:
  my-backtest:
    argv: ["{alphalab}", backtest, --config, "{config_path}", [--tickers, "{tickers}"], [--start, "{start}"],
           [--end, "{end}"], [--model, "{model_path}"], "{overrides}"]
    params:
      config_path: {type: path, required: true}
      tickers: list
      start: date
      end: date
      model_path: path
)").ok());
  for (const Json& params : {Json{{"config_path", "configs/backtest/base.yaml"}},
                             Json{{"config_path", "configs/backtest/base.yaml"}, {"tickers", Json::array()}},
                             Json{{"config_path", "configs/backtest/base.yaml"}, {"tickers", "TSM,SPX"},
                                  {"end", "2012-12-31"}, {"model_path", "runs/run_1/model.json"},
                                  {"overrides", {"fee_bps=5"}}}}) {
    auto builtin = catalog_->Resolve("backtest", params);
    auto user = catalog_->Resolve("my-backtest", params);
    ASSERT_TRUE(builtin.ok() && user.ok()) << params.dump();
    EXPECT_EQ(builtin->argv, user->argv) << params.dump();
  }
  // An empty list drops its group (no "--tickers ''").
  auto empty = catalog_->Resolve("backtest", Json{{"config_path", "configs/backtest/base.yaml"}, {"tickers", Json::array()}});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->argv.size(), 4u);
  // What a template does not say stays a check of the built-in: a path that is a directory.
  auto dir = catalog_->Resolve("backtest", Json{{"config_path", "configs/backtest"}});
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("must name a file"), std::string::npos);
}

TEST(TakeDryRunTest, RemovesTheOptionAndRefusesNonBooleans) {
  Json body{{"config_path", "c.yaml"}, {"dry_run", true}};
  auto dry = TakeDryRun(body);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(*dry, std::optional<bool>(true));
  EXPECT_EQ(body, (Json{{"config_path", "c.yaml"}}));
  Json text{{"dry_run", "false"}};
  EXPECT_EQ(*TakeDryRun(text), std::optional<bool>(false));
  Json none{{"a", 1}};
  EXPECT_EQ(*TakeDryRun(none), std::nullopt);
  Json bad{{"dry_run", "yes"}};
  auto refused = TakeDryRun(bad, "params.dry_run");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("'params.dry_run'"), std::string::npos);
}

TEST_F(JobCatalogTest, UserTypeResultsDeclaration) {
  ASSERT_TRUE(LoadUserTypes(*catalog_, R"(job_types:
  lean:
    argv: [lean, backtest, '{project}', --output, 'results/{job_id}']
    params: {project: {type: string, required: true}}
    results: {parser: lean_summary, path: 'results/{job_id}/*-summary.json'}
  qlib:
    argv: [qrun, x]
    results:
      parser: qlib_res
      path: mlruns/qlib_res.csv
)").ok());
  const JobTypeSpec* lean = catalog_->Find("lean");
  ASSERT_TRUE(lean && lean->results);
  EXPECT_EQ(lean->results->parser, ResultParserKind::kLeanSummary);
  EXPECT_EQ(lean->results->path, "results/{job_id}/*-summary.json");
  EXPECT_FALSE(lean->result_kind);
  EXPECT_EQ(catalog_->Find("qlib")->results->parser, ResultParserKind::kQlibRes);
  EXPECT_FALSE(catalog_->Find("qlib")->env.count(kJobIdEnv));
  const Json types = catalog_->ToJson()["job_types"];
  EXPECT_EQ(types[3]["results"],
            (Json{{"kind", nullptr}, {"parser", "lean_summary"}, {"path", "results/{job_id}/*-summary.json"}}));
  EXPECT_EQ(types[4]["results"]["parser"], "qlib_res");
}

TEST_F(JobCatalogTest, BadResultsDeclarationsNameFileLineAndKey) {
  auto message = [&](const std::string& yaml) { return LoadUserTypes(*catalog_, yaml).message(); };
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    results: {parser: csv, path: a.csv}\n"),
            "alphalab.yaml:4: job_types.t.results.parser: unknown parser 'csv' (known: alphalab_summary, "
            "lean_summary, qlib_res)");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    results:\n      parser: qlib_res\n      path: /tmp/x.csv\n"),
            "alphalab.yaml:6: job_types.t.results.path: must be a path relative to the workspace");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    results: {parser: qlib_res, path: 'a/../../x.csv'}\n"),
            "alphalab.yaml:4: job_types.t.results.path: must not contain '..'");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    results: {parser: qlib_res, path: 'r/{run}/x.csv'}\n"),
            "alphalab.yaml:4: job_types.t.results.path: uses {run} but no such param is declared");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    results: {parser: lean_summary, path: 'r/*/x.json'}\n"),
            "alphalab.yaml:4: job_types.t.results.path: '*' may only stand in the file name");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    results: {parser: lean_summary, path: 'r/*-*.json'}\n"),
            "alphalab.yaml:4: job_types.t.results.path: may hold one '*' only");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    results: {parser: lean_summary}\n"),
            "alphalab.yaml:4: job_types.t.results.path: is required (the result file, relative to the workspace)");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    results: {parser: lean_summary, path: a, kind: b}\n"),
            "alphalab.yaml:4: job_types.t.results.kind: unknown key (known: parser, path)");
  EXPECT_EQ(message("job_types:\n  t:\n    argv: [x]\n    results: lean_summary\n"),
            "alphalab.yaml:4: job_types.t.results: must be a mapping {parser, path}, got 'lean_summary'");
}

}  // namespace alphalab

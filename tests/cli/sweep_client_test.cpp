// The server-independent parts of `alphalab optimize` (cli/sweep_client.*): the sweep YAML ->
// request document with file:line errors, locating fields, progress and Top-N text, exit codes
// and the confined export path.
#include "cli/sweep_client.hpp"

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "optimize/request.hpp"

namespace alphalab::cli {
namespace {

namespace fs = std::filesystem;

const char* kSweep = R"(# a sweep
name: sma sweep
project: demo
job_type: backtest
base_params:
  config_path: configs/backtest/base.yaml
  tickers: [SPX]
param_space:
  strategy.params.fast: {min: 5, max: 50, step: 5}
  strategy.params.slow: [20, 40, 60, 80, 100, 120, 140, 160, 180, 200]
sampler: {type: grid}
objective: {metric: final_equity, direction: max}
constraints:
  - max_drawdown <= 0.35
early_stop_policy: {mode: max, patience: 20, min_tasks: 10, target: null}
max_inflight: 8
top_n: 10
source_job_id:
)";

TEST(SweepYaml, TheExampleRequestBecomesTheJsonDocument) {
  auto doc = ParseSweepYaml(kSweep, "sweep.yaml");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const Json want = Json::parse(R"({"name": "sma sweep", "project": "demo", "job_type": "backtest",
   "base_params": {"config_path": "configs/backtest/base.yaml", "tickers": ["SPX"]},
   "param_space": {"strategy.params.fast": {"min": 5, "max": 50, "step": 5},
                   "strategy.params.slow": [20, 40, 60, 80, 100, 120, 140, 160, 180, 200]},
   "sampler": {"type": "grid"},
   "objective": {"metric": "final_equity", "direction": "max"},
   "constraints": ["max_drawdown <= 0.35"],
   "early_stop_policy": {"mode": "max", "patience": 20, "min_tasks": 10, "target": null},
   "max_inflight": 8, "top_n": 10, "source_job_id": null})");
  EXPECT_EQ(doc->request, want) << doc->request.dump(2);
  EXPECT_TRUE(doc->request["max_inflight"].is_number_integer());
  // And the optimize core accepts it: 10 x 10 grid.
  auto parsed = optimize::ParseOptimizationRequest(doc->request);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->task_count, 100u);
}

TEST(SweepYaml, ScalarsFollowTheCoreSchema) {
  auto doc = ParseSweepYaml(
      "a: '5'\nb: \"true\"\nc: 5\nd: -2.5\ne: 1e-3\nf: true\ng: False\nh: ~\ni:\nj: yes\nk: 2016-01-01\n"
      "l: !!str 7\nm: 0x1F\nn: .5\no: 007\n",
      "x.yaml");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const Json& r = doc->request;
  EXPECT_EQ(r["a"], "5");
  EXPECT_EQ(r["b"], "true");
  EXPECT_EQ(r["c"], 5);
  EXPECT_TRUE(r["c"].is_number_integer());
  EXPECT_DOUBLE_EQ(r["d"].get<double>(), -2.5);
  EXPECT_DOUBLE_EQ(r["e"].get<double>(), 0.001);
  EXPECT_EQ(r["f"], true);
  EXPECT_EQ(r["g"], false);
  EXPECT_TRUE(r["h"].is_null());
  EXPECT_TRUE(r["i"].is_null());
  EXPECT_EQ(r["j"], "yes") << "YAML 1.1 booleans stay strings";
  EXPECT_EQ(r["k"], "2016-01-01");
  EXPECT_EQ(r["l"], "7");
  EXPECT_EQ(r["m"], "0x1F");
  EXPECT_DOUBLE_EQ(r["n"].get<double>(), 0.5);
  EXPECT_EQ(r["o"], 7);
}

TEST(SweepYaml, ErrorsNameTheFileAndLine) {
  auto broken = ParseSweepYaml("name: x\nparam_space: {fast: [1, 2\nobjective: y\n", "s.yaml");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(broken.status().message().rfind("s.yaml:", 0), 0u) << broken.status().message();
  EXPECT_NE(broken.status().message().find("invalid YAML"), std::string::npos);

  auto dup = ParseSweepYaml("name: x\nparam_space:\n  fast: [1]\n  fast: [2]\n", "s.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message().rfind("s.yaml:4:", 0), 0u) << dup.status().message();
  EXPECT_NE(dup.status().message().find("duplicate key 'param_space.fast'"), std::string::npos);

  auto inf = ParseSweepYaml("objective:\n  target: .inf\n", "s.yaml");
  ASSERT_FALSE(inf.ok());
  EXPECT_EQ(inf.status().message().rfind("s.yaml:2:", 0), 0u) << inf.status().message();

  auto list = ParseSweepYaml("- a\n- b\n", "s.yaml");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find("must be a mapping"), std::string::npos);

  auto empty = ParseSweepYaml("# nothing\n", "s.yaml");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);

  auto complex_key = ParseSweepYaml("? [a, b]\n: 1\n", "s.yaml");
  ASSERT_FALSE(complex_key.ok());
  EXPECT_NE(complex_key.status().message().find("key"), std::string::npos);
}

TEST(SweepYaml, LocateMapsRequestFieldsToLines) {
  auto doc = ParseSweepYaml(kSweep, "sweep.yaml");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->Locate("param_space.strategy.params.fast.step"), "sweep.yaml:9");
  EXPECT_EQ(doc->Locate("param_space.strategy.params.slow"), "sweep.yaml:10");
  EXPECT_EQ(doc->Locate("constraints[0]"), "sweep.yaml:14");
  EXPECT_EQ(doc->Locate("early_stop_policy.mode"), "sweep.yaml:15");
  EXPECT_EQ(doc->Locate("top_n"), "sweep.yaml:17");
  EXPECT_EQ(doc->Locate("source_job_id"), "sweep.yaml:18");
  // A field the file does not have falls back to its enclosing one, then to the file.
  EXPECT_EQ(doc->Locate("sampler.n"), "sweep.yaml:11");
  EXPECT_EQ(doc->Locate("validation.holdout_start"), "sweep.yaml");
  EXPECT_EQ(doc->Locate(""), "sweep.yaml");

  // A request the core refuses names a field that Locate turns into the YAML line.
  auto bad = ParseSweepYaml("job_type: backtest\nparam_space:\n  fast: {min: 5, max: 50, step: 0}\n"
                            "objective: {metric: final_equity, direction: max}\n",
                            "bad.yaml");
  ASSERT_TRUE(bad.ok());
  auto refused = optimize::ParseOptimizationRequest(bad->request);
  ASSERT_FALSE(refused.ok());
  const Json& details = refused.status().details();
  ASSERT_TRUE(details.is_object() && details.contains("field")) << details.dump();
  EXPECT_EQ(bad->Locate(details["field"].get<std::string>()), "bad.yaml:3");
}

TEST(SweepYaml, LoadSweepFileReadsAFileAndRefusesMissingOnes) {
  const fs::path dir = fs::temp_directory_path() / ("sweep_yaml_" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  std::ofstream(dir / "s.yaml") << kSweep;
  auto doc = LoadSweepFile(dir / "s.yaml");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->request["name"], "sma sweep");
  auto missing = LoadSweepFile(dir / "nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.yaml"), std::string::npos);
  auto directory = LoadSweepFile(dir);
  EXPECT_FALSE(directory.ok());
  fs::remove_all(dir);
}

TEST(SweepText, ProgressLineAndBar) {
  const Json summary = Json::parse(R"({"total": 100, "finished": 57, "failed": 2, "canceled": 1,
    "running": 8, "queued": 32, "best_score": 151234.5, "top_n": []})");
  const SweepCounts c = CountsOf(summary);
  EXPECT_EQ(c.ended(), 60);
  EXPECT_EQ(FormatProgressLine("running", c),
            "57/100 finished, 2 failed, 1 canceled, 8 running, best 151234.5 [running]");
  EXPECT_EQ(FormatProgressBar("running", c, 10),
            "[######----] 60/100  finished 57  failed 2  best 151234.5  running");
  SweepCounts none = CountsOf(Json::parse(R"({"total": 0, "best_score": null})"));
  EXPECT_EQ(FormatProgressBar("queued", none, 4), "[----] 0/0  finished 0  failed 0  best -  queued");
  EXPECT_EQ(FormatProgressLine("queued", none), "0/0 finished, 0 failed, 0 canceled, 0 running, best - [queued]");
  SweepCounts all = c;
  all.finished = 100;
  all.failed = all.canceled = 0;
  EXPECT_EQ(FormatProgressBar("succeeded", all, 10).substr(0, 12), "[##########]");
}

TEST(SweepText, TopNTable) {
  const Json summary = Json::parse(R"({"top_n": [
    {"task_id": "job_20261202_080000__aaaaaaaa", "index": 42, "score": 1512340.25,
     "params": {"strategy.params.fast": 15, "strategy.params.slow": 120}, "result_summary_id": "bt_1"},
    {"task_id": "job_20261202_080000__bbbbbbbb", "index": 7, "score": 99.5,
     "params": {"strategy.params.fast": 5, "strategy.params.slow": 160}, "result_summary_id": "bt_2"}]})");
  const std::string table = FormatTopN(summary, "final_equity");
  const std::string want =
      "RANK  INDEX  final_equity  PARAMS                                            TASK\n"
      "1        42    1512340.25  strategy.params.fast=15 strategy.params.slow=120  job_20261202_080000__aaaaaaaa\n"
      "2         7          99.5  strategy.params.fast=5 strategy.params.slow=160   job_20261202_080000__bbbbbbbb\n";
  EXPECT_EQ(table, want) << table;
  EXPECT_EQ(FormatTopN(Json::parse(R"({"top_n": []})"), "x"), "(no ranked task)\n");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.3");
  EXPECT_EQ(FormatNumber(1e12), "1e+12");
}

TEST(SweepText, ExitCodesAndStatuses) {
  EXPECT_EQ(ExitCodeForStatus("succeeded"), 0);
  EXPECT_EQ(ExitCodeForStatus("early-stopped"), 0);
  EXPECT_EQ(ExitCodeForStatus("failed"), 2);
  EXPECT_EQ(ExitCodeForStatus("canceled"), 3);
  EXPECT_EQ(ExitCodeForStatus("running"), 1);
  EXPECT_TRUE(IsTerminalSweepStatus("early-stopped"));
  EXPECT_FALSE(IsTerminalSweepStatus("running"));
  EXPECT_FALSE(IsTerminalSweepStatus("queued"));
}

TEST(SweepExport, DefaultPathIsConfinedAndIdsAreChecked) {
  EXPECT_TRUE(IsOptimizationId("opt_20261202_080102__0a1b2c3d"));
  EXPECT_FALSE(IsOptimizationId("opt_20261202_080102__0A1B2C3D"));
  EXPECT_FALSE(IsOptimizationId("opt_20261202_080102__0a1b2c3"));
  EXPECT_FALSE(IsOptimizationId("../../etc/passwd"));
  EXPECT_FALSE(IsOptimizationId("opt_2026120a_080102__0a1b2c3d"));

  const fs::path dir = fs::temp_directory_path() / ("sweep_ws_" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  auto ws = Workspace::Open(dir);
  ASSERT_TRUE(ws.ok());
  auto p = ExportPath(*ws, std::nullopt, "opt_20261202_080102__0a1b2c3d");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, ws->root() / "reports" / "optimizations" / "opt_20261202_080102__0a1b2c3d.zip");
  EXPECT_FALSE(ExportPath(*ws, std::nullopt, "../opt").ok());

  // reports/ a symlink leading out of the workspace: refused.
  const fs::path outside = fs::temp_directory_path() / ("sweep_out_" + std::to_string(std::random_device{}()));
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, dir / "reports");
  EXPECT_FALSE(ExportPath(*ws, std::nullopt, "opt_20261202_080102__0a1b2c3d").ok());

  // --out is the user's path; a directory is refused.
  auto given = ExportPath(*ws, std::string("x.zip"), "ignored");
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(*given, fs::absolute("x.zip"));
  EXPECT_FALSE(ExportPath(*ws, outside.string(), "").ok());
  EXPECT_FALSE(ExportPath(*ws, std::string(""), "").ok());
  fs::remove_all(dir);
  fs::remove_all(outside);
}

TEST(SelectModels, TheSeedCommandLineSendsTheDocumentedRequest) {
  SelectModelsOptions o;
  o.project = "p18";
  o.config = "configs/backtest/topn.yaml";
  o.max_drawdown = 0.15;
  o.max_inflight = 8;
  // docs/optimizations.md, "Model selection" (and the UI's request)
  EXPECT_EQ(SelectModelsRequest(o), Json::parse(R"({"name": "select models p18", "project": "p18",
    "job_type": "backtest", "base_params": {"config_path": "configs/backtest/topn.yaml"},
    "param_space": {"strategy.params.model_path": {"models": {"project": "p18", "status": "success"}}},
    "objective": {"metric": "cagr", "direction": "max"}, "constraints": ["max_drawdown <= 0.15"],
    "max_inflight": 8, "top_n": 3})"));
  o.max_drawdown.reset();
  o.holdout_start = "2016-01-01";
  o.objective = "sharpe";
  const Json j = SelectModelsRequest(o);
  EXPECT_EQ(j["constraints"], Json::array());
  EXPECT_EQ(j["validation"], Json({{"holdout_start", "2016-01-01"}}));
  EXPECT_EQ(j["objective"]["metric"], "sharpe");
  o.max_drawdown = 0.1 + 0.2;  // the shortest text that reads back the same double
  EXPECT_EQ(SelectModelsRequest(o)["constraints"][0], "max_drawdown <= 0.30000000000000004");
}

TEST(SelectModels, FormatReportPrintsCountsTopAndFiles) {
  const Json report = Json::parse(R"({"objective": {"metric": "cagr", "direction": "max"},
    "counts": {"total": 4, "models": 4, "succeeded": 4, "failed": 0, "canceled": 0, "passing": 3},
    "top": [{"score": 0.07, "model_run_id": "run_a", "result_summary_id": "bt_a",
             "metrics": {"cagr": 0.07, "max_drawdown": 0.12, "sharpe": 0.8}, "oos_score": null}],
    "deflated_sharpe": {"value": 0.41, "reading": "likely luck", "trials": 3},
    "files": {"manifest": "reports/optimizations/x/manifest.jsonl", "report_md": "reports/optimizations/x/report.md",
              "report_json": "reports/optimizations/x/report.json"}})");
  EXPECT_EQ(FormatReport(report),
            "counts: models 4, tasks 4, succeeded 4, failed 0, passing 3\n"
            "top 1: run run_a cagr 0.0700 max_drawdown 0.1200 sharpe 0.8000 backtest bt_a\n"
            "deflated sharpe: 0.4100 (likely luck; 3 trials)\n"
            "report: reports/optimizations/x/report.md\n"
            "manifest: reports/optimizations/x/manifest.jsonl\n");
}

}  // namespace
}  // namespace alphalab::cli

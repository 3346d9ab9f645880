// What a finished job produced, read by its type's declaration (jobs/job_results.hpp): a
// built-in backtest through its result file and summary.json, user types through the named
// parser and path template of their `results:` (real-format fixtures of tests/fixtures/results).
#include "jobs/job_results.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "config/workspace_config.hpp"

namespace alphalab {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(ALPHALAB_SOURCE_DIR) / "tests/fixtures/results";

class JobResultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "alphalab_jobresults_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    root_ = base_ / "ws";
    fs::create_directories(root_ / "reports/jobs/runtime");
    ws_ = std::make_unique<Workspace>(*Workspace::Open(root_));
    catalog_ = std::make_unique<JobCatalog>(*ws_, "/opt/alphalab/bin/alphalab");
    auto config = ParseWorkspaceConfig(R"(job_types:
  lean:
    argv: [lean, backtest]
    results: {parser: lean_summary, path: 'results/{job_id}/*-summary.json'}
  qlib:
    argv: [qrun, '{experiment}']
    params: {experiment: {type: string, required: true}}
    results: {parser: qlib_res, path: 'mlruns/{experiment}/qlib_res.csv'}
  plain:
    argv: [x]
)");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    ASSERT_TRUE(catalog_->AddUserTypes(*config).ok());
  }
  void TearDown() override { fs::remove_all(base_); }
  void Copy(const std::string& fixture, const std::string& rel) {
    fs::create_directories((root_ / rel).parent_path());
    fs::copy_file(kFixtures / fixture, root_ / rel, fs::copy_options::overwrite_existing);
  }
  static JobRecord Job(const std::string& id, const std::string& type, Json params = Json::object()) {
    JobRecord j;
    j.job_id = JobId(id);
    j.job_type = type;
    j.params = std::move(params);
    return j;
  }
  fs::path base_, root_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<JobCatalog> catalog_;
};

TEST_F(JobResultsTest, WhichTypesHaveResultsAndWhichMetricNamesTheyKnow) {
  EXPECT_TRUE(HasReadableResults(*catalog_->Find("backtest")));
  EXPECT_FALSE(HasReadableResults(*catalog_->Find("train")));
  EXPECT_FALSE(HasReadableResults(*catalog_->Find("eval-metrics")));
  EXPECT_TRUE(HasReadableResults(*catalog_->Find("lean")));
  EXPECT_TRUE(HasReadableResults(*catalog_->Find("qlib")));
  EXPECT_FALSE(HasReadableResults(*catalog_->Find("plain")));
  EXPECT_TRUE(IsKnownMetricOf(*catalog_->Find("backtest"), "final_equity"));
  EXPECT_TRUE(IsKnownMetricOf(*catalog_->Find("backtest"), "Sharpe Ratio"));
  EXPECT_FALSE(IsKnownMetricOf(*catalog_->Find("backtest"), "IC"));
  EXPECT_TRUE(IsKnownMetricOf(*catalog_->Find("lean"), "Drawdown"));
  EXPECT_TRUE(IsKnownMetricOf(*catalog_->Find("lean"), "runtimeStatistics.Equity"));
  EXPECT_FALSE(IsKnownMetricOf(*catalog_->Find("lean"), "final_equity"));
  EXPECT_TRUE(IsKnownMetricOf(*catalog_->Find("qlib"), "1day.excess_return_with_cost.annualized_return"));
  EXPECT_FALSE(IsKnownMetricOf(*catalog_->Find("plain"), "anything"));
}

TEST_F(JobResultsTest, ABuiltinBacktestIsReadThroughItsResultFile) {
  Copy("alphalab-summary.json", "backtests/bt_1/summary.json");
  const JobRecord job = Job("job_b", "backtest");
  // Without its result file the job names no summary, whatever lies in backtests/.
  EXPECT_TRUE(ReadJobMetrics(*ws_, *catalog_->Find("backtest"), job).status().IsNotFound());
  ASSERT_TRUE(WriteJobResult(root_, JobResult::Backtest("job_b", "bt_1")).ok());
  auto m = ReadJobMetrics(*ws_, *catalog_->Find("backtest"), job);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->result_summary_id, "bt_1");
  EXPECT_EQ(m->result_paths, std::vector<std::string>{"backtests/bt_1/summary.json"});
  auto direct = ParseResultFile(ResultParserKind::kAlphalabSummary, kFixtures / "alphalab-summary.json");
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(m->parsed.metrics, direct->metrics);
  // Its artifacts come from the same file.
  auto file = ReadResultFileOf(*ws_, catalog_->Find("backtest"), job);
  ASSERT_TRUE(file && file->ok());
  EXPECT_EQ((*file)->Artifacts(), (Json{{"bt_run_id", "bt_1"}, {"bt_dir", "backtests/bt_1"}}));
  EXPECT_FALSE(ReadResultFileOf(*ws_, catalog_->Find("lean"), job).has_value());
}

TEST_F(JobResultsTest, UserTypesAreReadByTheirDeclaredParserAndPath) {
  Copy("lean-sma-summary.json", "results/job_l/SmaCrossAlgorithm-summary.json");
  std::ofstream(root_ / "results/job_l/SmaCrossAlgorithm-order-events.json") << "[]";
  auto lean = ReadJobMetrics(*ws_, *catalog_->Find("lean"), Job("job_l", "lean"));
  ASSERT_TRUE(lean.ok()) << lean.status().ToString();
  EXPECT_DOUBLE_EQ(lean->parsed.metrics.at("Drawdown"), 0.03);
  EXPECT_DOUBLE_EQ(lean->parsed.metrics.at("Sharpe Ratio"), 2.657);
  EXPECT_EQ(lean->result_paths, std::vector<std::string>{"results/job_l/SmaCrossAlgorithm-summary.json"});
  EXPECT_EQ(lean->result_summary_id, "");

  Copy("qlib_res.csv", "mlruns/exp1/qlib_res.csv");
  auto qlib = ReadJobMetrics(*ws_, *catalog_->Find("qlib"), Job("job_q", "qlib", {{"experiment", "exp1"}}));
  ASSERT_TRUE(qlib.ok()) << qlib.status().ToString();
  EXPECT_DOUBLE_EQ(qlib->parsed.metrics.at("1day.excess_return_with_cost.annualized_return"), 0.126230);
  EXPECT_DOUBLE_EQ(qlib->parsed.metrics.at("IC"), 0.0287431);
  EXPECT_EQ(qlib->result_paths, std::vector<std::string>{"mlruns/exp1/qlib_res.csv"});

  EXPECT_EQ(ReadJobMetrics(*ws_, *catalog_->Find("plain"), Job("job_p", "plain")).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(JobResultsTest, MissingAmbiguousAndEscapingResultFilesAreStatuses) {
  // No directory, no match, two matches.
  auto none = ReadJobMetrics(*ws_, *catalog_->Find("lean"), Job("job_n", "lean"));
  EXPECT_TRUE(none.status().IsNotFound());
  EXPECT_EQ(none.status().message(), "lean_summary: no result file: results/job_n does not exist");
  fs::create_directories(root_ / "results/job_n");
  EXPECT_EQ(ReadJobMetrics(*ws_, *catalog_->Find("lean"), Job("job_n", "lean")).status().message(),
            "lean_summary: no result file matches results/job_n/*-summary.json");
  Copy("lean-sma-summary.json", "results/job_n/A-summary.json");
  Copy("lean-loss-summary.json", "results/job_n/B-summary.json");
  auto two = ReadJobMetrics(*ws_, *catalog_->Find("lean"), Job("job_n", "lean"));
  EXPECT_TRUE(two.status().IsInvalidArgument());
  EXPECT_EQ(two.status().message(), "lean_summary: 2 files match results/job_n/*-summary.json (A-summary.json, "
                                    "B-summary.json); the path must name one");
  // A file in the wrong format names the parser and the file.
  Copy("qlib_res.csv", "results/job_w/X-summary.json");
  auto wrong = ReadJobMetrics(*ws_, *catalog_->Find("lean"), Job("job_w", "lean"));
  EXPECT_TRUE(wrong.status().IsInvalidArgument());
  EXPECT_NE(wrong.status().message().find("results/job_w/X-summary.json"), std::string::npos) << wrong.status().message();
  // A param value cannot lead the path out of the workspace, by '..' or by a symlink.
  fs::create_directories(base_ / "outside");
  fs::copy_file(kFixtures / "qlib_res.csv", base_ / "outside" / "qlib_res.csv");
  fs::create_directories(root_ / "mlruns");
  auto up = ReadJobMetrics(*ws_, *catalog_->Find("qlib"), Job("job_u", "qlib", {{"experiment", "../../outside"}}));
  EXPECT_EQ(up.status().code(), StatusCode::kPermissionDenied) << up.status().ToString();
  fs::create_symlink(base_ / "outside", root_ / "mlruns" / "linked");
  auto linked = ReadJobMetrics(*ws_, *catalog_->Find("qlib"), Job("job_s", "qlib", {{"experiment", "linked"}}));
  EXPECT_EQ(linked.status().code(), StatusCode::kPermissionDenied) << linked.status().ToString();
  // A value that would be a glob is refused; a missing value is named.
  EXPECT_TRUE(ReadJobMetrics(*ws_, *catalog_->Find("qlib"), Job("job_g", "qlib", {{"experiment", "*"}}))
                  .status()
                  .IsInvalidArgument());
  auto missing = SubstituteResultsPath("mlruns/{experiment}/qlib_res.csv", Job("job_m", "qlib"));
  EXPECT_TRUE(missing.status().IsInvalidArgument());
  EXPECT_EQ(missing.status().details()["parameter"], "experiment");
  EXPECT_EQ(SubstituteResultsPath("r/{job_id}/{experiment}.csv", Job("job_m", "qlib", {{"experiment", "e1"}})).value(),
            "r/job_m/e1.csv");
}

}  // namespace
}  // namespace alphalab

// The result file of a built-in job (core/job_result.hpp): schema round trip, the artifacts
// each kind yields, validation of hostile or wrong documents, confined reading.
#include "core/job_result.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/file_replacer.hpp"

namespace alphalab {
namespace {

namespace fs = std::filesystem;

class JobResultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "alphalab_result_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    root_ = base_ / "ws";
    fs::create_directories(root_ / "reports/jobs/runtime");
  }
  void TearDown() override { fs::remove_all(base_); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(root_ / rel) << text; }
  fs::path base_, root_;
};

TEST_F(JobResultTest, EachKindRoundTripsAndYieldsItsArtifacts) {
  const JobResult bt = JobResult::Backtest("job_1", "bt_20260101_000000__00aa11bb", {{"cagr", 0.125}, {"trades", 7}});
  ASSERT_TRUE(WriteJobResult(root_, bt).ok());
  EXPECT_TRUE(fs::exists(root_ / "reports/jobs/runtime/job_1.result.json"));
  auto back = ReadJobResult(root_, "job_1");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, ResultKind::kBacktest);
  EXPECT_EQ(back->id, "bt_20260101_000000__00aa11bb");
  EXPECT_EQ(back->metrics, (std::map<std::string, double>{{"cagr", 0.125}, {"trades", 7}}));
  EXPECT_EQ(back->Artifacts(), (Json{{"bt_run_id", "bt_20260101_000000__00aa11bb"},
                                     {"bt_dir", "backtests/bt_20260101_000000__00aa11bb"}}));
  EXPECT_EQ(back->SummaryPath(), "backtests/bt_20260101_000000__00aa11bb/summary.json");
  const Json doc = Json::parse(std::ifstream(root_ / "reports/jobs/runtime/job_1.result.json"));
  EXPECT_EQ(doc, (Json{{"schema", 1},
                       {"kind", "backtest"},
                       {"job_id", "job_1"},
                       {"ids", {{"bt_run_id", "bt_20260101_000000__00aa11bb"}}},
                       {"paths",
                        {{"bt_dir", "backtests/bt_20260101_000000__00aa11bb"},
                         {"summary", "backtests/bt_20260101_000000__00aa11bb/summary.json"}}},
                       {"metrics", {{"cagr", 0.125}, {"trades", 7}}}}));

  FileReplacer replacer(root_ / "reports/jobs/runtime/.scratch");
  ASSERT_TRUE(WriteJobResult(root_, JobResult::Run("job_2", "run_1", {{"rmse", 0.5}}), &replacer).ok());
  auto run = ReadJobResult(root_, "job_2");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->kind, ResultKind::kRun);
  EXPECT_EQ(run->Artifacts(), (Json{{"run_id", "run_1"}, {"run_dir", "runs/run_1"}}));
  EXPECT_EQ(run->SummaryPath(), "");

  ASSERT_TRUE(WriteJobResult(root_, JobResult::Evaluation("job_3", "run_1", "runs/run_1/metrics_eval_base.json")).ok());
  auto ev = ReadJobResult(root_, "job_3");
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->kind, ResultKind::kEvaluation);
  EXPECT_EQ(ev->output_path, "runs/run_1/metrics_eval_base.json");
  EXPECT_EQ(ev->Artifacts(), (Json{{"run_id", "run_1"}}));
}

TEST_F(JobResultTest, MissingWrongAndHostileFilesAreStatuses) {
  auto missing = ReadJobResult(root_, "job_9");
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_EQ(missing.status().message(), "the job wrote no result file reports/jobs/runtime/job_9.result.json");
  EXPECT_TRUE(ReadJobResult(root_, "../x").status().IsInvalidArgument());
  EXPECT_TRUE(WriteJobResult(root_, JobResult::Run("../../x", "run_1")).IsInvalidArgument());

  auto message = [&](const std::string& text) {
    Write("reports/jobs/runtime/job_b.result.json", text);
    return ReadJobResult(root_, "job_b").status().message();
  };
  const std::string ok = R"({"schema":1,"kind":"run","job_id":"job_b","ids":{"run_id":"r"},"paths":{"run_dir":"runs/r"},"metrics":{}})";
  Write("reports/jobs/runtime/job_b.result.json", ok);
  EXPECT_TRUE(ReadJobResult(root_, "job_b").ok());
  EXPECT_NE(message("not json").find("not a JSON object"), std::string::npos);
  EXPECT_NE(message(R"({"schema":2,"kind":"run"})").find("'schema' must be 1"), std::string::npos);
  EXPECT_NE(message(R"({"schema":1,"kind":"model","job_id":"job_b"})").find("unknown kind 'model'"), std::string::npos);
  EXPECT_NE(message(R"({"schema":1,"kind":"run","job_id":"job_b","ids":{"run_id":"../etc"},"paths":{"run_dir":"runs/../etc"}})")
                .find("'ids.run_id' is not an id"),
            std::string::npos);
  EXPECT_NE(message(R"({"schema":1,"kind":"run","job_id":"job_b","ids":{"run_id":"r"},"paths":{"run_dir":"/etc"}})")
                .find("'paths.run_dir' must be runs/r"),
            std::string::npos);
  EXPECT_NE(message(R"({"schema":1,"kind":"run","job_id":"job_b","ids":{"run_id":"r"},"paths":{"run_dir":"runs/r"},"extra":1})")
                .find("unknown field 'extra'"),
            std::string::npos);
  EXPECT_NE(message(R"({"schema":1,"kind":"run","job_id":"job_b","ids":{"run_id":"r"},"paths":{"run_dir":"runs/r"},"metrics":{"a":"x"}})")
                .find("'metrics.a' must be a number"),
            std::string::npos);
  EXPECT_NE(message(R"({"schema":1,"kind":"run","job_id":"job_other","ids":{"run_id":"r"},"paths":{"run_dir":"runs/r"}})")
                .find("its job_id is 'job_other'"),
            std::string::npos);

  // A symlink out of the workspace is not followed.
  std::ofstream(base_ / "outside.json") << ok;
  fs::create_symlink(base_ / "outside.json", root_ / "reports/jobs/runtime/job_l.result.json");
  EXPECT_EQ(ReadJobResult(root_, "job_l").status().code(), StatusCode::kPermissionDenied)
      << ReadJobResult(root_, "job_l").status().ToString();
}

TEST_F(JobResultTest, TheJobIdComesFromTheEnvironmentWhenItIsAnId) {
  ::unsetenv(kJobIdEnv);
  EXPECT_EQ(JobIdFromEnvironment(), "");
  ::setenv(kJobIdEnv, "job_20260101_000000__0123abcd", 1);
  EXPECT_EQ(JobIdFromEnvironment(), "job_20260101_000000__0123abcd");
  ::setenv(kJobIdEnv, "../x", 1);
  EXPECT_EQ(JobIdFromEnvironment(), "");
  ::unsetenv(kJobIdEnv);
}

}  // namespace
}  // namespace alphalab

// Job artifacts (jobs/job_artifacts.hpp) and agent progress (jobs/agent_progress.hpp) on real
// files: listing, paging, confinement, binaries; RD-Agent's loop lines and per-loop results.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "core/ids.hpp"
#include "jobs/agent_progress.hpp"
#include "jobs/job_artifacts.hpp"

namespace alphalab {
namespace {

namespace fs = std::filesystem;

class JobArtifactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("artifacts_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "reports" / "jobs" / "runtime");
    ws_ = std::make_unique<Workspace>(*Workspace::Open(root_));
    job_.job_id = JobId("job_20260101_000000__abcdef12");
    job_.log_path = "reports/jobs/runtime/" + job_.job_id.str() + ".log";
    dir_ = JobDir(*ws_, job_.job_id);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  fs::path root_;
  std::unique_ptr<Workspace> ws_;
  JobRecord job_;
  fs::path dir_;
};

TEST_F(JobArtifactsTest, ListsTheLogAndTheJobFolderSortedAndPagedWithoutSymlinksOrEnvFiles) {
  Write(root_ / job_.log_path, "hello\n");
  Write(dir_ / "work" / "qlib_res.csv", ",0\nIC,0.1\n");
  Write(dir_ / "work" / "RD-Agent_workspace" / "loop_0" / "ret.pkl", std::string("\x80\x04\0\xff", 4));
  Write(dir_ / "work" / ".env", "OPENAI_API_KEY=sk-secret\n");
  Write(root_ / "outside.txt", "secret");
  fs::create_symlink(root_ / "outside.txt", dir_ / "work" / "link.txt");
  fs::create_directory_symlink(root_, dir_ / "work" / "ws_link");
  auto page = ListJobArtifacts(*ws_, job_, 0, 100);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->total, 3);
  EXPECT_EQ(page->items[0].path, "job.log");
  EXPECT_EQ(page->items[0].size, 6);
  EXPECT_EQ(page->items[1].path, "work/RD-Agent_workspace/loop_0/ret.pkl");
  EXPECT_EQ(page->items[1].size, 4);
  EXPECT_EQ(page->items[2].path, "work/qlib_res.csv");
  EXPECT_GT(page->items[2].mtime_ms, 1600000000000);
  auto second = ListJobArtifacts(*ws_, job_, 1, 1);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->total, 3);
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].path, "work/RD-Agent_workspace/loop_0/ret.pkl");
  auto past = ListJobArtifacts(*ws_, job_, 10, 5);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->items.empty());
}

TEST_F(JobArtifactsTest, AJobWithoutFilesListsNothing) {
  auto page = ListJobArtifacts(*ws_, job_, 0, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 0);
}

TEST_F(JobArtifactsTest, DownloadsBinariesByteForByteAndRefusesTraversalSymlinksAndSecrets) {
  const std::string pkl("\x80\x04\x95\0\0\xff\xfe.", 8);
  Write(dir_ / "work" / "ret.pkl", pkl);
  Write(root_ / job_.log_path, "log line\n");
  Write(dir_ / "work" / ".env", "OPENAI_API_KEY=sk-secret\n");
  Write(root_ / "outside.txt", "secret");
  fs::create_symlink(root_ / "outside.txt", dir_ / "work" / "link.txt");
  fs::create_symlink("../../" + job_.job_id.str() + ".log", dir_ / "work" / "log_link");
  auto body = ReadJobArtifact(*ws_, job_, "work/ret.pkl");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, pkl);
  EXPECT_EQ(ArtifactContentType("work/ret.pkl"), "application/octet-stream");
  EXPECT_EQ(ArtifactContentType("work/qlib_res.csv"), "text/csv; charset=utf-8");
  auto log = ReadJobArtifact(*ws_, job_, "job.log");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(*log, "log line\n");
  for (const char* bad : {"../x", "work/../../outside.txt", "/etc/passwd", "", "work//ret.pkl", "./work/ret.pkl",
                          "work\\ret.pkl"}) {
    auto r = ReadJobArtifact(*ws_, job_, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().details()["field"], "path");
  }
  // A symlink out of the job's folder (even to another workspace file) is not followed: 404.
  for (const char* hidden : {"work/link.txt", "work/log_link", "work/.env", "work/nope.csv", "work"}) {
    auto r = ReadJobArtifact(*ws_, job_, hidden);
    ASSERT_FALSE(r.ok()) << hidden;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << hidden;
  }
}

// RD-Agent's loop lines (loguru's default format, rdagent/utils/workflow/loop.py).
TEST(AgentProgressTest, ReadsTheLatestLoopAndStepFromRdAgentLogLines) {
  const std::string log =
      "2026-01-05 10:00:00.001 | INFO     | rdagent.app.qlib_rd_loop.quant:main - starting\n"
      "2026-01-05 10:00:00.101 | INFO     | rdagent.utils.workflow.loop:_run_step:215 - Start Loop 0, Step 0: "
      "direct_exp_gen\n"
      "2026-01-05 10:00:00.201 | INFO     | rdagent.utils.workflow.loop:_run_step:215 - Start Loop 0, Step 4: record\n"
      "2026-01-05 10:00:00.301 | INFO     | rdagent.utils.workflow.loop:_run_step:215 - Start Loop 1, Step 2: running\r\n"
      "noise: Start Loop x, Step 1: bad\n";
  const LoopProgress p = ParseLoopProgress(log);
  EXPECT_EQ(p.loops_started, 2);
  EXPECT_EQ(p.loop, 1);
  EXPECT_EQ(p.step, 2);
  EXPECT_EQ(p.step_name, "running");
  EXPECT_EQ(p.step_lines, 3);
  const LoopProgress none = ParseLoopProgress("no loops yet\n");
  EXPECT_EQ(none.loops_started, 0);
  EXPECT_FALSE(none.loop.has_value());
  EXPECT_TRUE(LoopProgressJson(none)["step_name"].is_null());
}

TEST_F(JobArtifactsTest, PerLoopResultsAreTheQlibResFilesBelowTheWorkFolderOldestFirst) {
  const fs::path work = JobWorkDir(*ws_, job_.job_id);
  Write(work / "ws" / "b" / "qlib_res.csv", ",0\nIC,0.02\n1day.excess_return_with_cost.annualized_return,0.05\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Write(work / "ws" / "a" / "qlib_res.csv", ",0\nIC,0.03\n");
  Write(work / "ws" / "c" / "qlib_res.csv", "not,a\nqlib,file,at all\n");
  Write(work / "qlib_res.csv", ",0\nIC,0.03\n");  // the final one: not a loop result
  auto loops = ReadLoopResults(work);
  ASSERT_EQ(loops.size(), 2u);
  EXPECT_EQ(loops[0].path, "ws/b/qlib_res.csv");
  EXPECT_DOUBLE_EQ(loops[0].parsed.metrics.at("IC"), 0.02);
  EXPECT_EQ(loops[1].path, "ws/a/qlib_res.csv");
}

}  // namespace
}  // namespace alphalab

// Job artifacts (jobs/job_artifacts.hpp) and agent progress (jobs/agent_progress.hpp) on real
// files: listing, paging, confinement, binaries; RD-Agent's loop lines and per-loop results.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
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

// Every folder below the job's one (and itself) dated 10 s back, so the cache trusts them.
void Backdate(const fs::path& dir) {
  const struct timespec past[2] = {{::time(nullptr) - 10, 0}, {::time(nullptr) - 10, 0}};
  ::utimensat(AT_FDCWD, dir.c_str(), past, AT_SYMLINK_NOFOLLOW);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_directory()) ::utimensat(AT_FDCWD, e.path().c_str(), past, AT_SYMLINK_NOFOLLOW);
  }
}

std::vector<std::string> Paths(const ArtifactPage& page) {
  std::vector<std::string> out;
  for (const ArtifactEntry& e : page.items) out.push_back(e.path);
  return out;
}

// A tool's template copies and other settings files in the work folder hold the live secrets
// (the preparer copies them unmasked for the process); downloads mask them as the config center
// does, leaving every other byte and every other file type as it is.
TEST_F(JobArtifactsTest, SettingsFilesAreServedWithTheirSecretsMasked) {
  const std::string yaml =
      "experiment:\n  seed: 7\ndata_vendor:\n  api_token: tok-123   # vendor\n  password: \"p@ss\"\n"
      "  url: https://example.com/v1\n";
  Write(dir_ / "work" / "configs" / "exp.yaml", yaml);
  Write(dir_ / "work" / "copy.yml", "token: abc\nname: x\n");
  Write(dir_ / "work" / "prod.env", "export OPENAI_API_KEY='sk-live'\nOPENAI_API_BASE=http://127.0.0.1:9/v1\n");
  Write(dir_ / "work" / "notes.txt", "api_token: stays\n");
  auto get = [&](const std::string& path) {
    auto body = ReadJobArtifact(*ws_, job_, path);
    EXPECT_TRUE(body.ok()) << path << ": " << body.status().ToString();
    return body.ok() ? *body : std::string();
  };
  EXPECT_EQ(get("work/configs/exp.yaml"),
            "experiment:\n  seed: 7\ndata_vendor:\n  api_token: \"********\"   # vendor\n  password: \"********\"\n"
            "  url: https://example.com/v1\n");
  EXPECT_EQ(get("work/copy.yml"), "token: \"********\"\nname: x\n");
  EXPECT_EQ(get("work/prod.env"), "export OPENAI_API_KEY='********'\nOPENAI_API_BASE=http://127.0.0.1:9/v1\n");
  EXPECT_EQ(get("work/notes.txt"), "api_token: stays\n");
  // The file on disk is untouched (the job's process reads the real values).
  std::ifstream in(dir_ / "work" / "configs" / "exp.yaml", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), yaml);
}

TEST_F(JobArtifactsTest, TheListingCacheIsReusedUntilAFolderChangesAndANewFileAppears) {
  Write(root_ / job_.log_path, "log\n");
  for (int i = 0; i < 30; ++i) Write(dir_ / "work" / ("loop_" + std::to_string(i % 3)) / ("f" + std::to_string(i) + ".csv"), "x");
  Backdate(dir_);
  ArtifactListCache cache;
  auto first = cache.List(*ws_, job_, 0, 5);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->total, 31);
  EXPECT_EQ(Paths(*first)[0], "job.log");
  EXPECT_EQ(cache.walks(), 1);
  // The same listing again, any page: no walk; the same order as the uncached listing.
  for (int64_t offset : {0, 5, 29}) {
    auto cached = cache.List(*ws_, job_, offset, 5);
    auto fresh = ListJobArtifacts(*ws_, job_, offset, 5);
    ASSERT_TRUE(cached.ok() && fresh.ok());
    EXPECT_EQ(Paths(*cached), Paths(*fresh)) << offset;
    EXPECT_EQ(cached->total, fresh->total);
  }
  EXPECT_EQ(cache.walks(), 1);

  // A new file deep in the tree: its folder's mtime changes, it appears on the next call.
  Write(dir_ / "work" / "loop_1" / "qlib_res.csv", ",0\nIC,0.1\n");
  auto after_add = cache.List(*ws_, job_, 0, 100);
  ASSERT_TRUE(after_add.ok());
  EXPECT_EQ(after_add->total, 32);
  const auto added = Paths(*after_add);
  EXPECT_NE(std::find(added.begin(), added.end(), "work/loop_1/qlib_res.csv"), added.end());
  EXPECT_EQ(cache.walks(), 2);
  // That folder was just modified (racy): walked again until it is older than the margin.
  ASSERT_TRUE(cache.List(*ws_, job_, 0, 1).ok());
  EXPECT_EQ(cache.walks(), 3);
  Backdate(dir_);
  ASSERT_TRUE(cache.List(*ws_, job_, 0, 1).ok());
  ASSERT_TRUE(cache.List(*ws_, job_, 0, 1).ok());
  EXPECT_EQ(cache.walks(), 4);

  // A file rewritten in place (no folder change): its new size shows without a walk.
  std::ofstream(dir_ / "work" / "loop_1" / "qlib_res.csv", std::ios::binary | std::ios::app) << "ICIR,0.5\n";
  auto grown = cache.List(*ws_, job_, 0, 100);
  ASSERT_TRUE(grown.ok());
  for (const ArtifactEntry& e : grown->items) {
    if (e.path == "work/loop_1/qlib_res.csv") {
      EXPECT_EQ(e.size, 19);
    }
  }
  EXPECT_EQ(cache.walks(), 4);
  // A removed file and a new folder: gone and walked.
  fs::remove(dir_ / "work" / "loop_0" / "f0.csv");
  Write(dir_ / "work" / "new" / "ret.pkl", "bin");
  auto changed = cache.List(*ws_, job_, 0, 100);
  ASSERT_TRUE(changed.ok());
  const auto now = Paths(*changed);
  EXPECT_EQ(std::find(now.begin(), now.end(), "work/loop_0/f0.csv"), now.end());
  EXPECT_NE(std::find(now.begin(), now.end(), "work/new/ret.pkl"), now.end());
  EXPECT_EQ(cache.walks(), 5);
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

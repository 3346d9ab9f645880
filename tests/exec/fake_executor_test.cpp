// The fake must behave like an Executor so the jobs service's tests mean something.
#include "exec/fake_executor.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <sstream>

#include "store/temp_dir.hpp"

namespace alphalab {
namespace {

using namespace std::chrono_literals;

ProcessSpec Spec(const std::string& id, const std::filesystem::path& log = {}) {
  ProcessSpec spec;
  spec.job_id = JobId(id);
  spec.argv = {"alphalab", "train"};
  spec.cwd = "/ws";
  spec.log_path = log;
  return spec;
}

TEST(FakeExecutorTest, SubmitBatchDefaultsToOneSubmitPerItemWithItsOwnCallbackAndResult) {
  FakeExecutor exec(3);
  std::vector<JobId> ended;
  std::vector<BatchItem> items;
  for (const char* id : {"job_a", "job_b", "job_a", "job_c"}) {
    items.push_back({Spec(id), [&ended, id](const ProcessExit& e) {
                       EXPECT_EQ(e.job_id, JobId(id));
                       ended.push_back(e.job_id);
                     }});
  }
  auto refs = exec.SubmitBatch(std::move(items), 2, "opt_1");
  ASSERT_EQ(refs.size(), 4u);
  EXPECT_TRUE(refs[0].ok() && refs[1].ok() && refs[3].ok());
  EXPECT_EQ(refs[2].status().code(), StatusCode::kAlreadyExists);  // one refusal; the rest go on
  ASSERT_EQ(exec.batches().size(), 1u);
  EXPECT_EQ(exec.batches()[0], (std::pair<size_t, int>{4, 2}));
  EXPECT_EQ(exec.submits().size(), 3u);
  ASSERT_TRUE(exec.FinishWithExitCode(JobId("job_b"), 0).ok());
  EXPECT_EQ(ended, (std::vector<JobId>{JobId("job_b")}));
  // CancelMany: every job is asked; the first error comes back.
  const Status st = exec.CancelMany({JobId("job_a"), JobId("job_gone"), JobId("job_c")});
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(exec.cancels(), (std::vector<JobId>{JobId("job_a"), JobId("job_c")}));
}

TEST(FakeExecutorTest, RecordsSubmitsAndReportsTheChosenExit) {
  FakeExecutor exec(3);
  EXPECT_EQ(exec.Capacity(), 3);
  std::vector<ProcessExit> exits;
  Result<std::string> ref = exec.Submit(Spec("job_1"), [&](const ProcessExit& e) { exits.push_back(e); });
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(exec.RefOf(JobId("job_1")), *ref);
  ASSERT_EQ(exec.submits().size(), 1u);
  EXPECT_EQ(exec.submits()[0].argv, (std::vector<std::string>{"alphalab", "train"}));
  EXPECT_TRUE(exec.IsRunning(JobId("job_1")));
  EXPECT_EQ(exec.Submit(Spec("job_1"), nullptr).status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(exec.FinishWithExitCode(JobId("job_1"), 3).ok());
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].job_id, JobId("job_1"));
  EXPECT_EQ(exits[0].exit_code, 3);
  EXPECT_FALSE(exec.IsRunning(JobId("job_1")));
  EXPECT_EQ(exec.FinishWithExitCode(JobId("job_1"), 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(exits.size(), 1u);
}

TEST(FakeExecutorTest, SimulatesSpawnFailureOnce) {
  FakeExecutor exec;
  exec.FailNextSubmit(Status::FailedPrecondition("cannot execute 'x'"));
  Result<std::string> failed = exec.Submit(Spec("job_f"), nullptr);
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(exec.failed_submits().size(), 1u);
  EXPECT_FALSE(exec.IsRunning(JobId("job_f")));
  EXPECT_TRUE(exec.Submit(Spec("job_f"), nullptr).ok());
}

TEST(FakeExecutorTest, CancelRecordsAndCanFinishFromAnotherThread) {
  FakeExecutor exec;
  EXPECT_EQ(exec.Cancel(JobId("job_none")).code(), StatusCode::kNotFound);
  std::promise<ProcessExit> done;
  ASSERT_TRUE(exec.Submit(Spec("job_c"), [&](const ProcessExit& e) { done.set_value(e); }).ok());
  exec.set_finish_on_cancel(true);
  const auto caller = std::this_thread::get_id();
  ASSERT_TRUE(exec.Cancel(JobId("job_c")).ok());
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(2s), std::future_status::ready);
  ProcessExit exit = future.get();
  EXPECT_TRUE(exit.canceled);
  EXPECT_EQ(exec.cancels().size(), 1u);
  EXPECT_NE(caller, std::thread::id());
}

TEST(FakeExecutorTest, ReattachFollowsAliveAndRecordedRefs) {
  FakeExecutor exec;
  exec.SetAlive("fake:alive");
  ProcessExit recorded;
  recorded.exit_code = 4;
  exec.MarkExitRecorded("fake:ended", recorded);
  EXPECT_FALSE(exec.Reattach(JobId("job_dead"), "fake:dead", "", nullptr).value_or(true));
  ASSERT_TRUE(exec.Reattach(JobId("job_alive"), "fake:alive", "", nullptr).value_or(false));
  EXPECT_TRUE(exec.IsRunning(JobId("job_alive")));
  std::promise<ProcessExit> done;
  ASSERT_TRUE(exec.Reattach(JobId("job_ended"), "fake:ended", "",
                            [&](const ProcessExit& e) { done.set_value(e); }).value_or(false));
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(2s), std::future_status::ready);
  ProcessExit exit = future.get();
  EXPECT_EQ(exit.job_id, JobId("job_ended"));
  EXPECT_EQ(exit.exit_code, 4);
  EXPECT_EQ(exec.reattaches().size(), 3u);
}

TEST(FakeExecutorTest, AppendLogWritesTheSpecsLogAndWaitersWake) {
  testing::TempDir dir;
  FakeExecutor exec;
  std::thread submitter([&] {
    std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(exec.Submit(Spec("job_l", dir.path() / "job_l.log"), nullptr).ok());
  });
  ASSERT_TRUE(exec.WaitForSubmits(1, 2s));
  submitter.join();
  ASSERT_TRUE(exec.AppendLog(JobId("job_l"), "run_id: r1\n").ok());
  ASSERT_TRUE(exec.AppendLog(JobId("job_l"), "run_dir: runs/r1\n").ok());
  std::ifstream in(dir.path() / "job_l.log");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "run_id: r1\nrun_dir: runs/r1\n");
  EXPECT_TRUE(exec.WaitForRunning(1, 100ms));
  exec.Shutdown();
  EXPECT_EQ(exec.Submit(Spec("job_after"), nullptr).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace alphalab

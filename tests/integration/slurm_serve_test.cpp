// `bin/alphalab serve` with `executor: {type: slurm}` against the single-node cluster of
// scripts/services/slurm.sh: jobs are sbatch jobs; the log viewer, artifacts, cancel, failure
// codes and restart recovery (kill -9 while a job runs on Slurm) work as with local processes.
#include <gtest/gtest.h>

#include "exec/slurm_test_cluster.hpp"
#include "integration/server_harness.hpp"

namespace alphalab::testing {
namespace {

std::string Submit(ServerProcess& server, const Json& params) {
  auto r = server.Post("/api/jobs", {{"job_type", "fixture"}, {"params", params}});
  EXPECT_EQ(r.status, 200) << r.body;
  return Json::parse(r.body).value("job_id", "");
}

std::string LogOf(ServerProcess& server, const std::string& id) {
  return server.GetJson("/api/jobs/" + id + "/log").value("content", "");
}

std::string ExecutorState(ServerProcess& server, const std::string& id) {
  return server.GetJson("/api/jobs/" + id)["artifacts"].value("executor_state", "");
}

bool WaitUntil(const std::function<bool()>& ok, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (ok()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return ok();
}

TEST(SlurmServeTest, JobsRunOnSlurmWithLogsArtifactsFailuresAndCancel) {
  ALPHALAB_REQUIRE_SLURM();
  TempWorkspace ws("executor:\n  type: slurm\n");
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  const std::string ok = Submit(server, {{"print", "hello from slurm"}, {"run_id", "r_slurm"}});
  const std::string bad = Submit(server, {{"stderr", "boom error"}, {"run_id", "r_bad"}, {"exit_code", 3}});
  const std::string longer = Submit(server, {{"print", "started"}, {"sleep", 120}, {"run_id", "r_cancel"}});

  Json j = server.WaitTerminal(ok, 60s);
  EXPECT_EQ(j["status"], "SUCCESS") << j.dump();
  EXPECT_EQ(j["end_reason"], "exit_code");
  EXPECT_EQ(j["artifacts"]["run_id"], "r_slurm");
  EXPECT_EQ(j["artifacts"]["executor_state"], "COMPLETED");
  EXPECT_NE(LogOf(server, ok).find("hello from slurm"), std::string::npos);

  j = server.WaitTerminal(bad, 60s);
  EXPECT_EQ(j["status"], "FAILED") << j.dump();
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_EQ(j["end_reason"], "exit_code");
  EXPECT_EQ(j["artifacts"]["executor_state"], "FAILED");
  EXPECT_NE(j["error_message"].get<std::string>().find("boom error"), std::string::npos) << j.dump();

  ASSERT_TRUE(WaitUntil([&] { return LogOf(server, longer).find("started") != std::string::npos; }, 60s));
  // The job's Slurm state follows the poll (once a second): RUNNING by now or soon.
  EXPECT_TRUE(WaitUntil([&] { return ExecutorState(server, longer) == "RUNNING"; }, 10s));
  j = server.GetJson("/api/jobs/" + longer);
  EXPECT_EQ(j["status"], "RUNNING") << j.dump();
  EXPECT_EQ(j["artifacts"]["executor_reason"], "None") << j.dump();
  EXPECT_EQ(server.Post("/api/jobs/" + longer + "/cancel", Json::object()).status, 200);
  j = server.WaitTerminal(longer, 30s);
  EXPECT_EQ(j["status"], "CANCELED") << j.dump();
  EXPECT_EQ(j["end_reason"], "canceled");
  EXPECT_EQ(j["artifacts"]["executor_state"].get<std::string>().substr(0, 9), "CANCELLED");
}

TEST(SlurmServeTest, AJobRunningOnSlurmSurvivesAServerKilledWithSigkill) {
  ALPHALAB_REQUIRE_SLURM();
  TempWorkspace ws("executor:\n  type: slurm\n");
  std::string id;
  {
    ServerProcess server(ws.root());
    ASSERT_TRUE(server.Start());
    id = Submit(server, {{"print", "before"}, {"sleep", 6}, {"run_id", "r_after_restart"}});
    ASSERT_TRUE(WaitUntil([&] { return LogOf(server, id).find("before") != std::string::npos; }, 60s));
    EXPECT_TRUE(WaitUntil([&] { return ExecutorState(server, id) == "RUNNING"; }, 10s));
    ASSERT_EQ(server.GetJson("/api/jobs/" + id)["status"], "RUNNING");
    server.Kill9();
  }
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  Json j = server.GetJson("/api/jobs/" + id);
  EXPECT_EQ(j["status"], "RUNNING") << "re-attached: " << j.dump();
  j = server.WaitTerminal(id, 60s);
  EXPECT_EQ(j["status"], "SUCCESS") << j.dump();
  EXPECT_EQ(j["end_reason"], "exit_code");
  EXPECT_EQ(j["artifacts"]["run_id"], "r_after_restart");
  EXPECT_NE(LogOf(server, id).find("before"), std::string::npos);
}

}  // namespace
}  // namespace alphalab::testing

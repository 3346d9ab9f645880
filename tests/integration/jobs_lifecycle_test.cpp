// Restart safety: kill -9 of the server while jobs run and wait; a new server recovers every
// job (still-running ones are re-attached and their exit code recorded, ones that ended while
// no server watched get their true end from the exit record, queued ones run). Also spawn
// failures and the CLI client against a live server.
#include <sys/wait.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <sstream>
#include <tuple>

#include <gtest/gtest.h>

#include "integration/server_harness.hpp"

namespace alphalab::testing {
namespace {

std::string RunCommand(const std::string& cmd, int* exit_code) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int st = ::pclose(p);
  *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// OpenMP reads its wait policy when its runtime loads, which happens with XGBoost on the first
// training (engine/model/xgb.cpp binds it at run time): an idle server maps neither, and the
// jobs it starts get OMP_WAIT_POLICY=passive (never spinning on shared cores) unless the
// server's environment sets another policy.
TEST(JobsLifecycleTest, ServeLoadsNoOpenMpAndItsJobsRunPassiveUnlessAPolicyIsSet) {
  TempWorkspace ws("  ompenv:\n    argv: [/bin/sh, -c, \"echo policy=[$OMP_WAIT_POLICY]\"]\n");
  auto policy_of_a_job = [&](ServerProcess& server) {
    auto r = server.Post("/api/jobs", {{"job_type", "ompenv"}, {"params", Json::object()}});
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string id = Json::parse(r.body)["job_id"].get<std::string>();
    EXPECT_EQ(server.WaitTerminal(id)["status"], "SUCCESS");
    const std::string log = server.GetJson("/api/jobs/" + id + "/log")["content"].get<std::string>();
    const size_t at = log.find("policy=[");
    return at == std::string::npos ? log : log.substr(at + 8, log.find(']', at) - at - 8);
  };
  unsetenv("OMP_WAIT_POLICY");
  {
    ServerProcess server(ws.root());
    ASSERT_TRUE(server.Start());
    auto maps = ReadFile(fs::path("/proc") / std::to_string(server.pid()) / "maps");
    ASSERT_TRUE(maps.ok());
    EXPECT_EQ(maps->find("libxgboost"), std::string::npos) << "an idle server must not load XGBoost";
    EXPECT_EQ(maps->find("libgomp"), std::string::npos) << "an idle server must not load OpenMP";
    EXPECT_EQ(policy_of_a_job(server), "passive");
  }
  ASSERT_EQ(setenv("OMP_WAIT_POLICY", "active", 1), 0);
  {
    ServerProcess server(ws.root());
    ASSERT_TRUE(server.Start());
    EXPECT_EQ(policy_of_a_job(server), "active");
  }
  unsetenv("OMP_WAIT_POLICY");
}

TEST(JobsLifecycleTest, KillNineMidRunThenRestartRecoversEveryJob) {
  TempWorkspace ws;
  std::string long_id, short_id, queued_id;
  {
    ServerProcess server(ws.root(), {"--slots", "2"});
    ASSERT_TRUE(server.Start());
    auto submit = [&](const Json& params) {
      auto r = server.Post("/api/jobs", {{"job_type", "fixture"}, {"params", params}});
      EXPECT_EQ(r.status, 200) << r.body;
      return Json::parse(r.body)["job_id"].get<std::string>();
    };
    // Outlives the server; its end (exit 5) must be recorded by the next server.
    long_id = submit({{"print", "long"}, {"sleep", 6.0}, {"exit_code", 5}, {"pid_file", "pids/long.txt"}});
    // Ends while no server is running; the exit record tells the truth (exit 7).
    short_id = submit({{"print", "short"}, {"sleep", 0.5}, {"exit_code", 7}, {"pid_file", "pids/short.txt"}});
    // Waits in the queue (2 slots busy) and must run after the restart.
    queued_id = submit({{"run_id", "run_after_restart"}});
    EXPECT_EQ(server.GetJson("/api/jobs/" + queued_id)["status"], "QUEUED");
    for (int i = 0; i < 500 && !(fs::exists(ws.root() / "pids/long.txt") && fs::exists(ws.root() / "pids/short.txt")); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(server.GetJson("/api/jobs/" + long_id)["status"], "RUNNING");
    server.Kill9();
  }
  std::this_thread::sleep_for(1200ms);  // the short job ends while no server watches
  ServerProcess server(ws.root(), {"--slots", "2"});
  ASSERT_TRUE(server.Start());
  Json s = server.WaitTerminal(short_id);
  EXPECT_EQ(s["status"], "FAILED");
  EXPECT_EQ(s["exit_code"], 7) << s.dump();
  EXPECT_EQ(s["end_reason"], "exit_code") << "the exit record tells the truth: not lost";
  Json q = server.WaitTerminal(queued_id);
  EXPECT_EQ(q["status"], "SUCCESS");
  EXPECT_EQ(q["artifacts"]["run_id"], "run_after_restart");
  Json l = server.GetJson("/api/jobs/" + long_id);
  EXPECT_EQ(l["status"], "RUNNING");  // re-attached, still going
  l = server.WaitTerminal(long_id);
  EXPECT_EQ(l["status"], "FAILED");
  EXPECT_EQ(l["exit_code"], 5) << l.dump();
  EXPECT_EQ(l["end_reason"], "exit_code");
  EXPECT_EQ(q["end_reason"], "exit_code");
  EXPECT_NE(server.GetJson("/api/jobs/" + long_id + "/log")["content"].get<std::string>().find("long"), std::string::npos);
}

TEST(JobsLifecycleTest, RunningJobWhoseProcessVanishedIsFailedWithAReason) {
  TempWorkspace ws;
  std::string id;
  {
    ServerProcess server(ws.root(), {"--slots", "1"});
    ASSERT_TRUE(server.Start());
    auto r = server.Post("/api/jobs", {{"job_type", "fixture"}, {"params", {{"sleep", 30}, {"pid_file", "pids/v.txt"}}}});
    ASSERT_EQ(r.status, 200);
    id = Json::parse(r.body)["job_id"];
    for (int i = 0; i < 500 && !fs::exists(ws.root() / "pids/v.txt"); ++i) std::this_thread::sleep_for(10ms);
    server.Kill9();
  }
  // The job, the process supervisor and its warden, which would record its end, die too (as
  // after a reboot): no exit record is left.
  int pid = 0, gc = 0;
  std::ifstream(ws.root() / "pids/v.txt") >> pid >> gc;
  ASSERT_GT(pid, 0);
  const int pgid = ::getpgid(pid);
  ASSERT_GT(pgid, 1);
  auto parent_of = [](int p) {  // field 4 of /proc/<p>/stat
    std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string state;
    int ppid = 0;
    fields >> state >> ppid;  // fields 3 and 4: state, ppid
    return ppid;
  };
  const int supervisor = parent_of(pgid);
  ASSERT_GT(supervisor, 1);
  const int warden = parent_of(supervisor);  // records the ends of a killed supervisor's jobs
  ASSERT_GT(warden, 1);
  ::kill(warden, SIGKILL);
  ::kill(supervisor, SIGKILL);
  ::kill(-pgid, SIGKILL);
  // Gone for good: not even a zombie (orphans are collected by pid 1, here within a second or so).
  for (int i = 0; i < 1000 && fs::exists("/proc/" + std::to_string(pgid)); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(fs::exists("/proc/" + std::to_string(pgid)));
  const fs::path log = ws.root() / ("reports/jobs/runtime/" + id + ".log");
  ASSERT_LT(::getxattr(log.c_str(), "user.alphalab.exit", nullptr, 0), 0) << "nobody recorded the end";
  ASSERT_FALSE(fs::exists(log.string() + ".exit"));
  ServerProcess server(ws.root(), {"--slots", "1"});
  ASSERT_TRUE(server.Start());
  Json j = server.GetJson("/api/jobs/" + id);
  EXPECT_EQ(j["status"], "FAILED");
  EXPECT_NE(j["error_message"].get<std::string>().find("server restarted and the process was gone"), std::string::npos)
      << j.dump();
  EXPECT_EQ(j["end_reason"], "lost") << j.dump();
  EXPECT_TRUE(j["exit_code"].is_null());
}

TEST(JobsLifecycleTest, SpawnFailureAndTheCliClient) {
  TempWorkspace ws("  broken:\n    argv: [bin/does-not-exist]\n");
  ServerProcess server(ws.root(), {"--slots", "2"});
  ASSERT_TRUE(server.Start());
  auto r = server.Post("/api/jobs", {{"job_type", "broken"}, {"params", Json::object()}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = server.WaitTerminal(Json::parse(r.body)["job_id"]);
  EXPECT_EQ(j["status"], "FAILED");
  EXPECT_NE(j["error_message"].get<std::string>().find("could not start"), std::string::npos) << j.dump();
  EXPECT_EQ(j["end_reason"], "spawn_failed") << j.dump();

  const std::string cli = (BinDir() / "alphalab").string() + " ";
  const std::string srv = " --server " + server.url();
  int rc = 0;
  std::string out = RunCommand(cli + "submit fixture lines=2 run_id=cli_run" + srv, &rc);
  EXPECT_EQ(rc, 0) << out;
  const std::string id = out.substr(0, out.find(' '));
  ASSERT_EQ(id.rfind("job_", 0), 0u) << out;
  server.WaitTerminal(id);
  out = RunCommand(cli + "logs " + id + srv, &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "line 0\nline 1\nrun_id: cli_run\nrun_dir: runs/cli_run\n");
  out = RunCommand(cli + "logs -f " + id + srv, &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("run_dir: runs/cli_run"), std::string::npos);
  out = RunCommand(cli + "jobs --status SUCCESS --type fixture" + srv, &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find(id), std::string::npos) << out;
  out = RunCommand(cli + "submit train config_path=configs/base.yaml --set model.params.eta=0.1 --dry-run" + srv, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("SUCCESS"), std::string::npos);
  // A key the training config does not have: the server's 400, a non-zero exit.
  out = RunCommand(cli + "submit train config_path=configs/base.yaml --set model.eta=0.1 --dry-run" + srv, &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("unknown config key 'model.eta'"), std::string::npos) << out;
  out = RunCommand(cli + "submit train config_path=../x.yaml" + srv, &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("400"), std::string::npos) << out;
  out = RunCommand(cli + "cancel " + id + srv, &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("409"), std::string::npos) << out;
  out = RunCommand(cli + "jobs --server http://127.0.0.1:1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
  // Graceful stop on SIGTERM.
  server.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(server.exit_status()) && WEXITSTATUS(server.exit_status()) == 0);
}

// Every end reason a local job can have, through the real executor and the HTTP API (lost and
// the exit record after a restart are in the tests above).
TEST(JobsLifecycleTest, EndReasonsThroughTheLocalExecutor) {
  const std::string fixture = (BinDir() / "alphalab-fixture-job").string();
  TempWorkspace ws("  slow:\n    argv: [\"" + fixture + "\", --sleep, \"30\"]\n    timeout_sec: 1\n"
                   "  selfkill:\n    argv: [/bin/sh, -c, \"kill -9 $$\"]\n"
                   "  broken:\n    argv: [bin/does-not-exist]\n");
  ServerProcess server(ws.root(), {"--slots", "4"});
  ASSERT_TRUE(server.Start());
  auto submit = [&](const std::string& type, const Json& params) {
    auto r = server.Post("/api/jobs", {{"job_type", type}, {"params", params}});
    EXPECT_EQ(r.status, 200) << r.body;
    Json j = Json::parse(r.body);
    return j["job_id"].get<std::string>();
  };
  const std::string ok = submit("fixture", {{"run_id", "r_ok"}});
  const std::string code = submit("fixture", {{"run_id", "r_code"}, {"exit_code", 3}});
  const std::string sig = submit("selfkill", Json::object());
  const std::string slow = submit("slow", Json::object());
  const std::string cancel = submit("fixture", {{"sleep", 30.0}, {"pid_file", "pids/c.txt"}});
  const std::string broken = submit("broken", Json::object());
  for (int i = 0; i < 500 && !fs::exists(ws.root() / "pids/c.txt"); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(server.GetJson("/api/jobs/" + cancel)["end_reason"].is_null()) << "RUNNING: no end reason";
  ASSERT_EQ(server.Post("/api/jobs/" + cancel + "/cancel", Json::object()).status, 200);
  const std::vector<std::tuple<std::string, std::string, std::string>> want = {
      {ok, "SUCCESS", "exit_code"}, {code, "FAILED", "exit_code"},   {sig, "FAILED", "signal"},
      {slow, "FAILED", "timeout"},  {cancel, "CANCELED", "canceled"}, {broken, "FAILED", "spawn_failed"}};
  for (const auto& [id, status, reason] : want) {
    Json j = server.WaitTerminal(id);
    EXPECT_EQ(j["status"], status) << j.dump();
    EXPECT_EQ(j["end_reason"], reason) << j.dump();
    auto meta = ReadFile(ws.root() / "reports/jobs/runtime" / (id + ".json"));
    ASSERT_TRUE(meta.ok());
    EXPECT_EQ(Json::parse(*meta)["end_reason"], reason) << id;
  }
  EXPECT_EQ(server.GetJson("/api/jobs/" + ok)["exit_code"], 0);
  EXPECT_EQ(server.GetJson("/api/jobs/" + code)["exit_code"], 3);
  EXPECT_EQ(server.GetJson("/api/jobs/" + sig)["exit_code"], -9);
  // The list carries it too.
  Json list = server.GetJson("/api/jobs/recent?limit=20");
  int with_reason = 0;
  for (const Json& item : list["items"]) with_reason += item["end_reason"].is_string() ? 1 : 0;
  EXPECT_EQ(with_reason, 6) << list.dump();
}

}  // namespace
}  // namespace alphalab::testing

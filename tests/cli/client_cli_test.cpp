// The client commands (`alphalab submit | jobs | logs | cancel`) as child processes against a
// real `alphalab serve` on 127.0.0.1, and their errors when the server is down or refuses.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include <gtest/gtest.h>

#include "flows/flow_support.hpp"

namespace alphalab::flows {
namespace {

// A port nothing listens on: bind port 0, read it, close.
int UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

class ClientCli : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  CmdResult Client(std::vector<std::string> args) {
    args.push_back("--server");
    args.push_back(server_.url());
    return RunAlphalab(args, ws_.root(), 60s);
  }
  FlowWorkspace ws_;
  ServerProcess server_{ws_.root()};
};

TEST_F(ClientCli, SubmitJobsLogsRoundTrip) {
  // Dry run through `submit`: one line "job_id STATUS args_preview".
  CmdResult dry = Client({"submit", "train", "config_path=configs/base.yaml", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << Describe(dry);
  const std::string dry_id = dry.out.substr(0, dry.out.find(' '));
  ASSERT_EQ(dry_id.rfind("job_", 0), 0u) << dry.out;
  Json detail = server_.WaitTerminal(dry_id, 20s);
  EXPECT_EQ(detail.value("status", ""), "SUCCESS");
  EXPECT_TRUE(ws_.Runs().empty()) << "a dry run must not train";

  // A real job with overrides through --set.
  CmdResult real = Client({"submit", "train", "config_path=configs/base.yaml", "--set", "model.params.num_round=5",
                           "--set", "model.params.nthread=1", "--json"});
  ASSERT_EQ(real.exit_code, 0) << Describe(real);
  auto submitted = ParseJson(real.out);
  ASSERT_TRUE(submitted.ok()) << real.out;
  const std::string job_id = Q(*submitted, "job_id");
  ASSERT_FALSE(job_id.empty());
  EXPECT_EQ((*submitted)["params"]["overrides"],
            Json::array({"model.params.num_round=5", "model.params.nthread=1"}));

  // `logs -f` follows until the job ends and prints the whole log including the artifacts.
  CmdResult follow = Client({"logs", job_id, "-f"});
  ASSERT_EQ(follow.exit_code, 0) << Describe(follow);
  Json done = server_.GetJson("/api/jobs/" + job_id);
  ASSERT_EQ(done.value("status", ""), "SUCCESS") << done.dump();
  const std::string run_id = done["artifacts"].value("run_id", "");
  EXPECT_EQ(OutputValue(follow.out, "run_id"), run_id);
  EXPECT_NE(follow.err.find("SUCCESS"), std::string::npos) << follow.err;
  const std::string log_file = Slurp(ws_.root() / done["runtime"]["log_path"].get<std::string>());
  EXPECT_EQ(follow.out, log_file) << "logs -f must print the log exactly once, in order";

  // `logs` without -f prints the same bytes; --tail limits the first read.
  CmdResult once = Client({"logs", job_id});
  ASSERT_EQ(once.exit_code, 0) << Describe(once);
  EXPECT_EQ(once.out, log_file);
  CmdResult tail = Client({"logs", job_id, "--tail", "20"});
  ASSERT_EQ(tail.exit_code, 0) << Describe(tail);
  EXPECT_EQ(tail.out, log_file.substr(log_file.size() - 20));

  // `jobs` lists both, newest first; --status and --type filter; --json is the API response.
  CmdResult jobs = Client({"jobs"});
  ASSERT_EQ(jobs.exit_code, 0) << Describe(jobs);
  EXPECT_NE(jobs.out.find(dry_id), std::string::npos);
  EXPECT_NE(jobs.out.find(job_id), std::string::npos);
  EXPECT_LT(jobs.out.find(job_id), jobs.out.find(dry_id)) << "newest first:\n" << jobs.out;
  CmdResult json = Client({"jobs", "--json", "--status", "SUCCESS", "--type", "train", "--limit", "1"});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  auto listed = ParseJson(json.out);
  ASSERT_TRUE(listed.ok()) << json.out;
  ASSERT_EQ((*listed)["items"].size(), 1u);
  EXPECT_EQ((*listed)["items"][0]["job_id"], job_id);
  CmdResult none = Client({"jobs", "--json", "--status", "FAILED"});
  ASSERT_EQ(none.exit_code, 0) << Describe(none);
  EXPECT_TRUE((*ParseJson(none.out))["items"].empty());
}

TEST_F(ClientCli, CancelEndsARunningJob) {
  // Long enough to be running when the cancel arrives (would take minutes).
  CmdResult sub = Client({"submit", "train", "config_path=configs/base.yaml", "--set",
                          "model.params.num_round=100000", "--set", "model.params.eta=0.001", "--set",
                          "model.params.nthread=1"});
  ASSERT_EQ(sub.exit_code, 0) << Describe(sub);
  const std::string job_id = sub.out.substr(0, sub.out.find(' '));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline &&
         server_.GetJson("/api/jobs/" + job_id).value("status", "") != "RUNNING") {
    std::this_thread::sleep_for(20ms);
  }
  CmdResult cancel = Client({"cancel", job_id});
  ASSERT_EQ(cancel.exit_code, 0) << Describe(cancel);
  EXPECT_NE(cancel.out.find(job_id), std::string::npos);
  Json end = server_.WaitTerminal(job_id, 20s);
  EXPECT_EQ(end.value("status", ""), "CANCELED") << end.dump();
  EXPECT_TRUE(ws_.Runs().empty()) << "a canceled training run leaves no finished run folder";
  // Cancelling an unknown job is an error.
  CmdResult unknown = Client({"cancel", "job_20990101_000000__deadbeef"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_EQ(NonEmptyLines(unknown.err), 1u) << unknown.err;
  EXPECT_NE(unknown.err.find("404"), std::string::npos) << unknown.err;
}

TEST_F(ClientCli, ServerRefusalsAreOneLineErrors) {
  const auto logs_before = ws_.JobLogs();
  CmdResult bad_override = Client({"submit", "train", "config_path=configs/base.yaml", "--set", "novalue"});
  EXPECT_NE(bad_override.exit_code, 0);
  EXPECT_EQ(NonEmptyLines(bad_override.err), 1u) << bad_override.err;
  EXPECT_NE(bad_override.err.find("400"), std::string::npos) << bad_override.err;
  EXPECT_NE(bad_override.err.find("novalue"), std::string::npos) << bad_override.err;

  CmdResult outside = Client({"submit", "train", "config_path=../../etc/passwd"});
  EXPECT_NE(outside.exit_code, 0);
  EXPECT_NE(outside.err.find("400"), std::string::npos) << outside.err;

  CmdResult bad_type = Client({"submit", "no-such-type"});
  EXPECT_NE(bad_type.exit_code, 0);
  EXPECT_EQ(NonEmptyLines(bad_type.err), 1u) << bad_type.err;
  EXPECT_NE(bad_type.err.find("no-such-type"), std::string::npos) << bad_type.err;

  CmdResult bad_param = Client({"submit", "train", "noequals"});
  EXPECT_NE(bad_param.exit_code, 0);
  EXPECT_NE(bad_param.err.find("key=value"), std::string::npos) << bad_param.err;

  CmdResult missing_log = Client({"logs", "job_20990101_000000__deadbeef"});
  EXPECT_NE(missing_log.exit_code, 0);
  EXPECT_NE(missing_log.err.find("404"), std::string::npos) << missing_log.err;

  EXPECT_EQ(ws_.JobLogs(), logs_before) << "a refused submit must not start anything";
  Json recent = server_.GetJson("/api/jobs/recent?limit=100");
  EXPECT_TRUE(recent["items"].empty()) << recent.dump();
}

TEST(ClientCliNoServer, EveryClientCommandFailsClearlyWhenTheServerIsDown) {
  const std::string url = "http://127.0.0.1:" + std::to_string(UnusedPort());
  const fs::path cwd = fs::temp_directory_path();
  const std::vector<std::vector<std::string>> commands = {
      {"submit", "train", "config_path=configs/base.yaml"},
      {"jobs"},
      {"logs", "job_20990101_000000__deadbeef"},
      {"cancel", "job_20990101_000000__deadbeef"}};
  for (auto args : commands) {
    args.push_back("--server");
    args.push_back(url);
    CmdResult r = RunAlphalab(args, cwd, 30s);
    EXPECT_NE(r.exit_code, 0) << args[0] << ": " << Describe(r);
    EXPECT_FALSE(r.timed_out) << args[0];
    EXPECT_EQ(NonEmptyLines(r.err), 1u) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("alphalab " + args[0]), std::string::npos) << r.err;
  }
  // The server can also come from $ALPHALAB_SERVER.
  CmdResult env = RunAlphalab({"jobs"}, cwd, 30s, {"ALPHALAB_SERVER=" + url});
  EXPECT_NE(env.exit_code, 0) << Describe(env);
  EXPECT_NE(env.err.find(url.substr(7)), std::string::npos) << "should name the server it tried: " << env.err;
}

}  // namespace
}  // namespace alphalab::flows

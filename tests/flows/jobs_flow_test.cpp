// Issue 2 "Done when" over real HTTP against `bin/alphalab serve` on a temporary copy of
// examples/workspace: the backend curls of docs/api.md (dry-run train, dry-run
// backtest for TSM, log by offset then next_offset, recent with limit), and "bad input never
// starts anything": every 400 leaves no job row, no log file, no run or backtest folder.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "flows/flow_support.hpp"

namespace alphalab::flows {
namespace {

class JobsFlow : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  FlowWorkspace ws_;
  ServerProcess server_{ws_.root()};
};

void ExpectJobDetailShape(const Json& j) {
  for (const char* key : {"job_id", "job_type", "status", "created_at", "cwd", "command", "args_preview",
                          "artifacts", "runtime", "params"}) {
    EXPECT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
  }
  EXPECT_TRUE(j["command"].is_array());
  EXPECT_TRUE(j["runtime"].contains("meta_path") && j["runtime"].contains("log_path")) << j.dump();
}

TEST_F(JobsFlow, SeedCurlsDryRunTrainAndBacktestLogAndRecent) {
  // docs/api.md: curl /api/jobs/recent (no parameters) on a fresh workspace.
  Json empty = server_.GetJson("/api/jobs/recent");
  EXPECT_TRUE(empty["items"].is_array() && empty["items"].empty()) << empty.dump();
  // docs/api.md: curl -X POST /api/jobs/train -d '{"config_path":"configs/base.yaml","overrides":[],"dry_run":true}'
  auto train = server_.Post("/api/jobs/train",
                            Json{{"config_path", "configs/base.yaml"}, {"overrides", Json::array()}, {"dry_run", true}});
  ASSERT_EQ(train.status, 200) << train.body;
  Json t = *train.JsonBody();
  const std::string train_id = Q(t, "job_id");
  ASSERT_EQ(train_id.rfind("job_", 0), 0u) << train_id;
  Json td = WaitJob(server_, train_id);
  ExpectJobDetailShape(td);
  EXPECT_EQ(td["status"], "SUCCESS");
  EXPECT_EQ(td["job_type"], "train");
  const Json& cmd = td["command"];
  ASSERT_GE(cmd.size(), 4u);
  EXPECT_EQ(fs::path(cmd[0].get<std::string>()).filename(), "alphalab");
  EXPECT_EQ(cmd[1], "train");
  EXPECT_EQ(cmd[2], "--config");
  EXPECT_EQ(cmd[3], "configs/base.yaml");
  EXPECT_EQ(td["cwd"], ".");  // workspace-relative: the API shows no server path
  EXPECT_TRUE(fs::is_regular_file(ws_.root() / td["runtime"]["meta_path"].get<std::string>()));
  const fs::path train_log = ws_.root() / td["runtime"]["log_path"].get<std::string>();
  ASSERT_TRUE(fs::is_regular_file(train_log));
  EXPECT_NE(Slurp(train_log).find("configs/base.yaml"), std::string::npos) << "the log shows what would run";
  EXPECT_TRUE(ws_.Runs().empty()) << "a dry run does not train";

  // curl -X POST /api/jobs/backtest -d '{"config_path":"configs/backtest/base.yaml","tickers":["TSM"],"dry_run":true}'
  // (the docs/api.md body exactly: no overrides field)
  auto bt = server_.PostRaw("/api/jobs/backtest",
                            R"({"config_path":"configs/backtest/base.yaml","tickers":["TSM"],"dry_run":true})");
  ASSERT_EQ(bt.status, 200) << bt.body;
  const std::string bt_id = Q(*bt.JsonBody(), "job_id");
  Json bd = WaitJob(server_, bt_id);
  ExpectJobDetailShape(bd);
  EXPECT_EQ(bd["status"], "SUCCESS");
  const std::string preview = bd.value("args_preview", "");
  EXPECT_NE(preview.find("--tickers TSM"), std::string::npos) << preview;
  EXPECT_TRUE(ws_.Backtests().empty()) << "a dry run does not backtest";

  // curl '/api/jobs/{id}/log?offset=0&tail=20000' then '?offset=<next_offset>'
  const std::string log_text = Slurp(ws_.root() / bd["runtime"]["log_path"].get<std::string>());
  ASSERT_FALSE(log_text.empty());
  Json first = server_.GetJson("/api/jobs/" + bt_id + "/log?offset=0&tail=20000");
  EXPECT_EQ(first["job_id"], bt_id);
  EXPECT_EQ(first["content"], log_text);
  EXPECT_EQ(first["next_offset"], log_text.size());
  EXPECT_EQ(first["is_truncated"], false);
  EXPECT_EQ(first["log_path"], bd["runtime"]["log_path"]);
  Json next = server_.GetJson("/api/jobs/" + bt_id + "/log?offset=" + std::to_string(first["next_offset"].get<int64_t>()));
  EXPECT_EQ(next["content"], "");
  EXPECT_EQ(next["next_offset"], first["next_offset"]);
  EXPECT_EQ(next["is_truncated"], false);
  // tail smaller than the file: the last bytes, truncated, next_offset = EOF.
  Json tail = server_.GetJson("/api/jobs/" + bt_id + "/log?offset=0&tail=10");
  EXPECT_EQ(tail["content"], log_text.substr(log_text.size() - 10));
  EXPECT_EQ(tail["is_truncated"], true);
  EXPECT_EQ(tail["next_offset"], log_text.size());
  // offset in the middle: the rest; past EOF: nothing, next_offset = EOF.
  Json mid = server_.GetJson("/api/jobs/" + bt_id + "/log?offset=5");
  EXPECT_EQ(mid["content"], log_text.substr(5));
  Json past = server_.GetJson("/api/jobs/" + bt_id + "/log?offset=" + std::to_string(log_text.size() + 100));
  EXPECT_EQ(past["content"], "");
  EXPECT_EQ(past["next_offset"], log_text.size());
  EXPECT_EQ(server_.Get("/api/jobs/" + bt_id + "/log?offset=-1").status, 400);
  EXPECT_EQ(server_.Get("/api/jobs/" + bt_id + "/log?offset=0&tail=-5").status, 400);
  EXPECT_EQ(server_.Get("/api/jobs/job_20990101_000000__deadbeef/log?offset=0").status, 404);
  EXPECT_EQ(server_.Get("/api/jobs/job_20990101_000000__deadbeef").status, 404);

  // Four more dry runs, then curl '/api/jobs/recent?limit=5': the 5 newest, newest first.
  std::vector<std::string> ids = {train_id, bt_id};
  for (int i = 0; i < 4; ++i) {
    auto r = server_.Post("/api/jobs/train", Json{{"config_path", "configs/base.yaml"},
                                                   {"overrides", Json::array({"model.params.num_round=" + std::to_string(i + 1)})},
                                                   {"dry_run", true}});
    ASSERT_EQ(r.status, 200) << r.body;
    ids.push_back(Q(*r.JsonBody(), "job_id"));
    WaitJob(server_, ids.back());
  }
  Json recent = server_.GetJson("/api/jobs/recent?limit=5");
  ASSERT_EQ(recent["items"].size(), 5u) << recent.dump();
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(recent["items"][i]["job_id"], ids[ids.size() - 1 - i]) << "newest first, position " << i;
  }
  Json backtests = server_.GetJson("/api/jobs/recent?limit=100&job_type=backtest");
  ASSERT_EQ(backtests["items"].size(), 1u);
  EXPECT_EQ(backtests["items"][0]["job_id"], bt_id);
  Json ok = server_.GetJson("/api/jobs/recent?limit=100&status=SUCCESS");
  EXPECT_EQ(ok["items"].size(), ids.size());
  Json failed = server_.GetJson("/api/jobs/recent?limit=100&status=FAILED");
  EXPECT_TRUE(failed["items"].empty());
  // The dry runs' overrides reach the command as --set.
  Json last = server_.GetJson("/api/jobs/" + ids.back());
  EXPECT_NE(last.value("args_preview", "").find("--set model.params.num_round=4"), std::string::npos) << last.dump();
}

std::string SubmitId(ServerProcess& server, const std::string& path, const Json& body) {
  auto r = server.Post(path, body);
  EXPECT_EQ(r.status, 200) << r.body;
  auto j = r.JsonBody();
  return j.ok() ? Q(*j, "job_id") : "";
}

TEST_F(JobsFlow, SseStreamFollowsARealTrainJob) {
  const std::string id = SubmitId(server_, "/api/jobs/train",
                                  Json{{"config_path", "configs/base.yaml"},
                                       {"overrides", Json::array({"model.params.num_round=30", "model.params.nthread=1"})}});
  ASSERT_FALSE(id.empty());
  std::string raw;
  auto status = server_.client().Stream("/api/jobs/" + id + "/log/stream", [&](std::string_view data) {
    raw.append(data);
    return raw.find("event: end") == std::string::npos || raw.find("\n\n", raw.find("event: end")) == std::string::npos;
  });
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, 200);
  // Reassemble the log from the `event: log` data lines.
  std::string content;
  Json end;
  std::istringstream in(raw);
  std::string line, event;
  while (std::getline(in, line)) {
    if (line.rfind("event: ", 0) == 0) event = line.substr(7);
    if (line.rfind("data: ", 0) != 0) continue;
    auto j = ParseJson(line.substr(6));
    ASSERT_TRUE(j.ok()) << line;
    if (event == "log") content += j->value("content", "");
    if (event == "end") end = *j;
  }
  Json job = WaitJob(server_, id);
  ASSERT_EQ(job.value("status", ""), "SUCCESS") << job.dump();
  EXPECT_EQ(end.value("status", ""), "SUCCESS") << raw.substr(0, 2000);
  const std::string file = Slurp(ws_.root() / job["runtime"]["log_path"].get<std::string>());
  EXPECT_EQ(content, file) << "the stream carries every log byte once, in order";
  EXPECT_EQ(OutputValue(content, "run_id"), job["artifacts"].value("run_id", "?"));
}

TEST_F(JobsFlow, FailedEngineJobsExplainThemselvesAndWriteNothing) {
  // A config the engine refuses before reading data is a 400 at submit (nothing stored).
  auto refused = server_.Post("/api/jobs/train",
                              Json{{"config_path", "configs/base.yaml"}, {"overrides", Json::array({"bogus_key=1"})}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("unknown config key 'bogus_key'"), std::string::npos) << refused.body;
  // Well-formed requests the engine refuses once it reads the data: FAILED with the
  // engine's one-line error.
  const std::string bt = SubmitId(server_, "/api/jobs/backtest",
                                  Json{{"config_path", "configs/backtest/base.yaml"}, {"tickers", Json::array({"TSM"})}});
  for (const auto& [id, mention] : std::vector<std::pair<std::string, std::string>>{{bt, "TSM"}}) {
    Json j = WaitJob(server_, id);
    EXPECT_EQ(j.value("status", ""), "FAILED") << j.dump();
    EXPECT_EQ(j.value("exit_code", -1), 2) << j.dump();
    EXPECT_NE(j.value("error_message", "").find(mention), std::string::npos) << j.dump();
    EXPECT_TRUE(j.contains("artifacts_parse_error") && j["artifacts_parse_error"].is_string()) << j.dump();
  }
  EXPECT_TRUE(ws_.Runs().empty());
  EXPECT_TRUE(ws_.Backtests().empty());
  Json failed = server_.GetJson("/api/jobs/recent?status=FAILED&limit=10");
  EXPECT_EQ(failed["items"].size(), 1u);
  Json all = server_.GetJson("/api/jobs/recent?limit=10");
  EXPECT_EQ(all["items"].size(), 1u) << "the refused train was stored: " << all.dump();
}

// A tiny tmpfs mounted over `dir` and filled to the last byte (a real full disk: writes there
// fail with ENOSPC); unmounted when it goes. Mounting needs root (CAP_SYS_ADMIN).
class FullDisk {
 public:
  explicit FullDisk(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k,nr_inodes=256") != 0) {
      error_ = std::strerror(errno);
      return;
    }
    mounted_ = true;
    const int fd = ::open((dir / ".fill").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    const std::string block(4096, 'x');
    while (fd >= 0 && ::write(fd, block.data(), block.size()) > 0) {
    }
    if (fd >= 0) ::close(fd);
  }
  ~FullDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};

// Issue 12 item 10: a train that cannot write its run (runs/ on a full disk) is FAILED with
// "no space left on device" in its error message, no absolute path, no run id, no run.
TEST_F(JobsFlow, ATrainThatCannotWriteItsRunFailsWithNoSpaceLeftOnDevice) {
  FullDisk full(ws_.root() / "runs");
  if (!full.mounted()) GTEST_SKIP() << "cannot mount a tmpfs to fill (needs root / CAP_SYS_ADMIN): " << full.error();
  const std::string id = SubmitId(server_, "/api/jobs/train",
                                  Json{{"config_path", "configs/base.yaml"},
                                       {"overrides", Json::array({"model.params.num_round=5", "model.params.nthread=1"})}});
  const Json j = WaitJob(server_, id);
  EXPECT_EQ(j.value("status", ""), "FAILED") << j.dump();
  EXPECT_EQ(j.value("exit_code", -1), 1) << j.dump();
  EXPECT_EQ(j.value("end_reason", ""), "exit_code") << j.dump();
  std::string message = j.value("error_message", "");
  EXPECT_EQ(message.rfind("no space left on device", 0), 0u) << message;
  std::transform(message.begin(), message.end(), message.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_NE(message.find(" runs/.run_"), std::string::npos) << "the engine's own line, relative: " << message;
  EXPECT_EQ(message.find(ws_.root().string()), std::string::npos) << "no absolute paths: " << message;
  EXPECT_EQ(message.find("/tmp"), std::string::npos) << message;
  EXPECT_FALSE(j["artifacts"].contains("run_id")) << j.dump();
  for (const auto& entry : fs::directory_iterator(ws_.root() / "runs")) {
    EXPECT_EQ(entry.path().filename(), ".fill") << "nothing half-written is left: " << entry.path();
  }
}

// Issue 12 item 4: a job whose own log cannot be written (the file system of
// reports/jobs/runtime is full) is never started, dry run or not: it ends FAILED
// (spawn_failed) with "no space left on device" and no absolute path, runs nothing, and a
// restarted server does not start it either.
TEST_F(JobsFlow, AJobWhoseLogCannotBeWrittenIsNeverStartedDryRunOrNot) {
  FullDisk full(ws_.root() / "reports" / "jobs" / "runtime");
  if (!full.mounted()) GTEST_SKIP() << "cannot mount a tmpfs to fill (needs root / CAP_SYS_ADMIN): " << full.error();
  const Json train{{"config_path", "configs/base.yaml"},
                   {"overrides", Json::array({"model.params.num_round=5", "model.params.nthread=1"})}};
  Json dry_train = train;
  dry_train["dry_run"] = true;
  const std::vector<std::string> ids = {SubmitId(server_, "/api/jobs/train", train),
                                        SubmitId(server_, "/api/jobs/train", dry_train)};
  std::map<std::string, Json> ended;
  for (const std::string& id : ids) {
    ASSERT_FALSE(id.empty());
    const Json j = WaitJob(server_, id);
    EXPECT_EQ(j.value("status", ""), "FAILED") << j.dump();
    EXPECT_EQ(j.value("end_reason", ""), "spawn_failed") << j.dump();
    EXPECT_TRUE(j["started_at"].is_null()) << "never started: " << j.dump();
    EXPECT_TRUE(j["exit_code"].is_null()) << j.dump();
    const std::string message = j.value("error_message", "");
    EXPECT_NE(message.find("no space left on device"), std::string::npos) << message;
    EXPECT_EQ(message.find(ws_.root().string()), std::string::npos) << "no absolute paths: " << message;
    EXPECT_EQ(message.find("/tmp"), std::string::npos) << message;
    ended[id] = j;
  }
  EXPECT_TRUE(ws_.Runs().empty()) << "nothing was trained";

  // A restarted server (the disk still full, then freed) never starts them.
  server_.Stop();
  ASSERT_TRUE(server_.Start());
  std::this_thread::sleep_for(1s);
  for (const std::string& id : ids) {
    const Json j = server_.GetJson("/api/jobs/" + id);
    EXPECT_EQ(j.value("status", ""), "FAILED") << j.dump();
    EXPECT_EQ(j["ended_at"], ended[id]["ended_at"]) << j.dump();
    EXPECT_TRUE(j["started_at"].is_null()) << j.dump();
  }
  EXPECT_TRUE(ws_.Runs().empty());
}

TEST_F(JobsFlow, ConcurrentBacktestsAllSucceedWithDistinctResults) {
  std::vector<std::string> ids;
  for (int fast = 5; fast <= 30; fast += 5) {
    ids.push_back(SubmitId(server_, "/api/jobs/backtest",
                           Json{{"config_path", "configs/backtest/base.yaml"},
                                {"overrides", Json::array({"strategy.params.fast=" + std::to_string(fast)})}}));
  }
  std::set<std::string> bt_ids;
  for (size_t i = 0; i < ids.size(); ++i) {
    Json j = WaitJob(server_, ids[i]);
    ASSERT_EQ(j.value("status", ""), "SUCCESS") << j.dump();
    const std::string bt = j["artifacts"].value("bt_run_id", "");
    bt_ids.insert(bt);
    Json s = ReadJsonFile(ws_.root() / "backtests" / bt / "summary.json");
    EXPECT_EQ(s["strategy"]["params"]["fast"], 5 + 5 * static_cast<int>(i)) << "job " << ids[i] << " -> " << bt;
  }
  EXPECT_EQ(bt_ids.size(), ids.size());
  EXPECT_EQ(ws_.Backtests().size() >= ids.size(), true);
  Json list = server_.GetJson("/api/backtests?limit=100");
  EXPECT_EQ(list.value("total", -1), static_cast<int>(ids.size())) << list.dump().substr(0, 1000);
}

struct BadRequest {
  std::string name;
  std::string path;
  std::string body;      // raw JSON (or not JSON)
  int status = 400;
  std::string mention;   // error.message must contain this
};

TEST_F(JobsFlow, BadInputNeverStartsAnything) {
  // A config outside the workspace (a sibling temp file) and a symlink inside pointing out.
  const fs::path outside = ws_.root().parent_path() / (ws_.root().filename().string() + "_out.yaml");
  fs::copy_file(ws_.root() / "configs" / "base.yaml", outside, fs::copy_options::overwrite_existing);
  fs::create_symlink(outside, ws_.root() / "configs" / "link.yaml");
  const std::string out_rel = "../" + outside.filename().string();
  const std::vector<BadRequest> cases = {
      {"override_no_equals", "/api/jobs/train", R"({"config_path":"configs/base.yaml","overrides":["novalue"]})", 400, "novalue"},
      {"override_empty_key", "/api/jobs/train", R"({"config_path":"configs/base.yaml","overrides":["=1"]})", 400, "=1"},
      {"override_bad_key", "/api/jobs/train", R"({"config_path":"configs/base.yaml","overrides":["a b=1"]})", 400, "a b=1"},
      {"override_flag_injection", "/api/jobs/train", R"({"config_path":"configs/base.yaml","overrides":["--workspace=/"]})", 400, "--workspace"},
      {"overrides_not_strings", "/api/jobs/train", R"({"config_path":"configs/base.yaml","overrides":[{"a":1}]})", 400, "overrides"},
      {"config_outside_rel", "/api/jobs/train", R"({"config_path":")" + out_rel + R"("})", 400, "outside"},
      {"config_outside_abs", "/api/jobs/train", R"({"config_path":")" + outside.string() + R"("})", 400, "outside"},
      {"config_symlink_out", "/api/jobs/train", R"({"config_path":"configs/link.yaml"})", 400, "outside"},
      {"config_dotdot", "/api/jobs/backtest", R"({"config_path":"configs/../../../etc/passwd"})", 400, "outside"},
      {"config_missing", "/api/jobs/train", R"({"config_path":"configs/nope.yaml"})", 404, "nope.yaml"},
      {"config_absent", "/api/jobs/train", R"({"overrides":[]})", 400, "config_path"},
      {"unknown_param", "/api/jobs/train", R"({"config_path":"configs/base.yaml","command":"rm -rf /"})", 400, "command"},
      {"dry_run_type", "/api/jobs/train", R"({"config_path":"configs/base.yaml","dry_run":"yes"})", 400, "dry_run"},
      {"not_json", "/api/jobs/train", "not json", 400, "JSON"},
      {"bt_start_after_end", "/api/jobs/backtest", R"({"config_path":"configs/backtest/base.yaml","start":"2010-01-01","end":"2005-01-01"})", 400, "start"},
      {"bt_bad_date", "/api/jobs/backtest", R"({"config_path":"configs/backtest/base.yaml","start":"2010-13-01"})", 400, "start"},
      {"bt_bad_ticker", "/api/jobs/backtest", R"({"config_path":"configs/backtest/base.yaml","tickers":["T SM;rm"]})", 400, "ticker"},
      {"bt_model_outside", "/api/jobs/backtest", R"({"config_path":"configs/backtest/base.yaml","model_path":"/etc/hostname"})", 400, "outside"},
      {"eval_run_traversal", "/api/jobs/eval-metrics", R"({"run_id":"../configs","mode":"base"})", 400, "run_id"},
      {"eval_bad_mode", "/api/jobs/eval-metrics", R"({"run_id":"run_x","mode":"weird"})", 400, "mode"},
      {"eval_missing_run", "/api/jobs/eval-metrics", R"({"run_id":"run_nope","mode":"base"})", 404, "run_nope"},
      {"generic_unknown_type", "/api/jobs", R"({"job_type":"no-such-type","params":{}})", 400, "no-such-type"},
      {"generic_command", "/api/jobs", R"({"job_type":"train","params":{"config_path":"configs/base.yaml"},"command":["/bin/sh"]})", 400, "command"},
  };
  const auto logs_before = ws_.JobLogs();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = server_.PostRaw(c.path, c.body);
    EXPECT_EQ(r.status, c.status) << r.body;
    auto j = r.JsonBody();
    ASSERT_TRUE(j.ok()) << r.body;
    ASSERT_TRUE(j->contains("error")) << r.body;
    for (const char* key : {"code", "message", "details"}) EXPECT_TRUE((*j)["error"].contains(key)) << key << ": " << r.body;
    EXPECT_NE((*j)["error"].value("message", "").find(c.mention), std::string::npos)
        << "message should mention '" << c.mention << "': " << r.body;
    // The same request as a dry run is refused the same way (validation is not skipped).
    auto body = ParseJson(c.body);
    if (body.ok() && body->is_object() && c.path != "/api/jobs" && !body->contains("dry_run")) {
      (*body)["dry_run"] = true;
      EXPECT_EQ(server_.Post(c.path, *body).status, c.status) << "dry run of " << c.name;
    }
  }
  Json recent = server_.GetJson("/api/jobs/recent?limit=1000");
  EXPECT_TRUE(recent["items"].empty()) << "no job row may be created: " << recent.dump().substr(0, 2000);
  EXPECT_EQ(recent.value("total", -1), 0);
  EXPECT_EQ(ws_.JobLogs(), logs_before) << "no log or meta file may be written";
  EXPECT_TRUE(ws_.Runs().empty());
  EXPECT_TRUE(ws_.Backtests().empty());
  std::error_code ec;
  fs::remove(outside, ec);
}

}  // namespace
}  // namespace alphalab::flows

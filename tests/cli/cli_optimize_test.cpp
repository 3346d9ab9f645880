// `alphalab optimize` as a child process over a temporary copy of the example workspace with
// the demo data: against a real `alphalab serve` on 127.0.0.1 and with --local (the server in
// the CLI's own process). A small sma_cross sweep end to end (exit 0, Top-N, export with its
// manifest), the example sweep configs/sweeps/sma_grid.yaml, refused input with nothing
// created, and Ctrl-C canceling the optimization on the server.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "flows/flow_support.hpp"
#include "optimize/export_zip.hpp"
#include "sanitizers/slowdown.hpp"

namespace alphalab::flows {
namespace {

const char* kSmallSweep = R"(name: small sweep
project: demo
job_type: backtest
base_params:
  config_path: configs/backtest/base.yaml
  tickers: [SPX]
param_space:
  strategy.params.fast: [5, 10]
  strategy.params.slow: {min: 50, max: 150, step: 50}
objective: {metric: final_equity, direction: max}
top_n: 3
)";

// A child process whose output goes to files that can be read while it runs.
class Child {
 public:
  Child(std::vector<std::string> args, const fs::path& cwd) {
    static int counter = 0;
    const std::string tag = std::to_string(::getpid()) + "_" + std::to_string(++counter);
    out_ = fs::temp_directory_path() / ("alphalab_opt_out_" + tag);
    err_ = fs::temp_directory_path() / ("alphalab_opt_err_" + tag);
    args.insert(args.begin(), AlphalabBin().string());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove(out_, ec);
    fs::remove(err_, ec);
  }
  pid_t pid() const { return pid_; }
  std::string Out() const { return Slurp(out_); }
  std::string Err() const { return Slurp(err_); }
  // Waits for the exit; -1 on timeout (then killed) or a signal.
  int Wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = 0;
  fs::path out_, err_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The entries of an export zip by name.
std::map<std::string, std::string> ZipEntries(const fs::path& zip) {
  std::map<std::string, std::string> out;
  auto entries = optimize::ReadZip(Slurp(zip));
  EXPECT_TRUE(entries.ok()) << zip << ": " << entries.status().ToString();
  if (!entries.ok()) return out;
  for (auto& e : *entries) out[e.name] = e.data;
  return out;
}

class OptimizeCli : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  CmdResult Optimize(std::vector<std::string> args, std::chrono::milliseconds timeout = 120s) {
    args.insert(args.begin(), "optimize");
    args.push_back("--server");
    args.push_back(server_.url());
    return RunAlphalab(args, ws_.root(), timeout);
  }
  // Every optimization the server has.
  Json Optimizations() { return server_.GetJson("/api/v1/optimizations?limit=100")["items"]; }

  FlowWorkspace ws_;
  ServerProcess server_{ws_.root()};
};

TEST_F(OptimizeCli, SmallSweepEndToEnd) {
  ws_.Write("configs/sweeps/small.yaml", kSmallSweep);
  CmdResult r = Optimize({"--config", "configs/sweeps/small.yaml", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string id = OutputValue(r.out, "optimization");
  ASSERT_EQ(id.rfind("opt_", 0), 0u) << r.out;
  EXPECT_EQ(OutputValue(r.out, "status"), "succeeded") << r.out;
  // Progress: plain lines (stderr is not a terminal), the last one with every task finished.
  EXPECT_NE(r.err.find("progress: 6/6 finished, 0 failed"), std::string::npos) << r.err;

  // The Top-N table: header + 3 rows, best first, in the server's order.
  Json status = server_.GetJson("/api/v1/optimizations/" + id + "/status");
  EXPECT_EQ(status.value("status", ""), "succeeded") << status.dump();
  const Json& top = status["summary"]["top_n"];
  ASSERT_EQ(top.size(), 3u) << status.dump();
  const size_t head = r.out.find("RANK");
  ASSERT_NE(head, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("final_equity", head), std::string::npos);
  size_t at = head;
  for (const Json& row : top) {
    const size_t found = r.out.find(row["task_id"].get<std::string>(), at);
    ASSERT_NE(found, std::string::npos) << "Top-N row " << row.dump() << " missing or out of order:\n" << r.out;
    at = found;
  }

  // The export: reports/optimizations/<id>.zip in the workspace, with one manifest line per task.
  const std::string export_path = OutputValue(r.out, "export");
  EXPECT_EQ(fs::path(export_path), ws_.root() / "reports" / "optimizations" / (id + ".zip")) << r.out;
  auto entries = ZipEntries(export_path);
  ASSERT_TRUE(entries.count("manifest.jsonl")) << "entries: " << entries.size();
  const auto manifest = Lines(entries["manifest.jsonl"]);
  ASSERT_EQ(manifest.size(), 6u) << entries["manifest.jsonl"];
  std::set<std::string> combos;
  for (const std::string& line : manifest) {
    auto j = ParseJson(line);
    ASSERT_TRUE(j.ok()) << line;
    EXPECT_EQ((*j).value("status", ""), "succeeded") << line;
    combos.insert((*j)["params"].dump());
  }
  EXPECT_EQ(combos.size(), 6u) << "every combination once";
  EXPECT_TRUE(entries.count("report.md"));
  // The best task's score is the final equity of its own backtest result.
  EXPECT_EQ(status["summary"]["best_score"], top[0]["score"]);
}

TEST_F(OptimizeCli, TheExampleSweepRunsAndJsonOutputIsTheFinalStatus) {
  // configs/sweeps/sma_grid.yaml as shipped (100 tasks, constraint, early stop), --json, --out.
  CmdResult r = Optimize({"--config", "configs/sweeps/sma_grid.yaml", "--json", "--out", "grid.zip"}, 300s);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  const std::string status = (*j).value("status", "");
  EXPECT_TRUE(status == "succeeded" || status == "early-stopped") << status;
  const Json& summary = (*j)["summary"];
  EXPECT_EQ(summary.value("total", 0), 100);
  EXPECT_EQ(summary.value("finished", 0) + summary.value("failed", 0) + summary.value("canceled", 0) +
                summary.value("running", 0) + summary.value("queued", 0),
            100);
  EXPECT_GT(summary["top_n"].size(), 0u);
  EXPECT_EQ(fs::path((*j).value("export_path", "")), ws_.root() / "grid.zip");
  auto entries = ZipEntries(ws_.root() / "grid.zip");
  EXPECT_EQ(Lines(entries["manifest.jsonl"]).size(), 100u);
}

TEST_F(OptimizeCli, RefusedInputIsAClearErrorWithNothingCreated) {
  const auto logs_before = ws_.JobLogs();
  ws_.Write("configs/sweeps/broken.yaml", "name: x\nparam_space: {fast: [1, 2\n");
  ws_.Write("configs/sweeps/empty_range.yaml",
            "job_type: backtest\nbase_params: {config_path: configs/backtest/base.yaml}\nparam_space:\n"
            "  strategy.params.fast: {min: 10, max: 5, step: 1}\nobjective: {metric: final_equity, direction: max}\n");
  ws_.Write("configs/sweeps/unknown_metric.yaml",
            "job_type: backtest\nbase_params: {config_path: configs/backtest/base.yaml}\nparam_space:\n"
            "  strategy.params.fast: [5, 10]\nobjective: {metric: no_such_metric, direction: max}\n");
  ws_.Write("configs/sweeps/unknown_source.yaml", "source_job_id: opt_20990101_000000__deadbeef\n");
  struct Case {
    std::string file, want;
  };
  const std::vector<Case> cases = {
      {"configs/sweeps/broken.yaml", "configs/sweeps/broken.yaml:3:"},                     // YAML error, line
      {"configs/sweeps/empty_range.yaml", "configs/sweeps/empty_range.yaml:4: param_space"},  // refused here
      {"configs/sweeps/unknown_metric.yaml", "configs/sweeps/unknown_metric.yaml:5: server said 400"},
      {"configs/sweeps/unknown_source.yaml", "server said 404"},
      {"configs/sweeps/missing.yaml", "no such file"}};
  for (const Case& c : cases) {
    CmdResult r = Optimize({"--config", c.file});
    EXPECT_NE(r.exit_code, 0) << c.file << ": " << Describe(r);
    EXPECT_EQ(NonEmptyLines(r.err), 1u) << c.file << ": " << r.err;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << c.file << ": want '" << c.want << "' in: " << r.err;
    EXPECT_EQ(r.out, "") << c.file;
  }
  CmdResult both = RunAlphalab({"optimize", "--config", "configs/sweeps/sma_grid.yaml", "--local", "--server",
                                server_.url()},
                               ws_.root(), 30s);
  EXPECT_NE(both.exit_code, 0) << Describe(both);
  EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;

  EXPECT_TRUE(Optimizations().empty()) << Optimizations().dump();
  EXPECT_TRUE(server_.GetJson("/api/jobs/recent?limit=10")["items"].empty());
  EXPECT_EQ(ws_.JobLogs(), logs_before) << "a refused sweep must not start anything";
  EXPECT_FALSE(fs::exists(ws_.root() / "reports" / "optimizations"));
}

TEST_F(OptimizeCli, CtrlCCancelsTheOptimizationOnTheServer) {
  // 90,000 tasks: long enough to be running when the interrupt arrives.
  ws_.Write("configs/sweeps/long.yaml",
            "name: long\njob_type: backtest\nbase_params: {config_path: configs/backtest/base.yaml}\n"
            "param_space:\n  strategy.params.fast: {min: 1, max: 300, step: 1}\n"
            "  strategy.params.slow: {min: 301, max: 600, step: 1}\n"
            "objective: {metric: final_equity, direction: max}\nmax_inflight: 2\n");
  Child cli({"optimize", "--config", "configs/sweeps/long.yaml", "--server", server_.url(), "--no-progress"},
            ws_.root());
  ASSERT_GT(cli.pid(), 0);
  // Wait until the optimization has finished a task or two.
  std::string id;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (id.empty()) id = OutputValue(cli.Out(), "optimization");
    if (!id.empty()) {
      Json s = server_.GetJson("/api/v1/optimizations/" + id + "/status");
      if (s.value("status", "") == "running" && s["summary"].value("finished", 0) > 0) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(id.empty()) << cli.Out() << cli.Err();
  ASSERT_EQ(::kill(cli.pid(), SIGINT), 0);
  // After the cancel the CLI fetches the export of all 90,000 tasks: over 60 s under ASan.
  const int code = cli.Wait(60s * ::alphalab::testing::kSanitizerSlowdown);
  EXPECT_EQ(code, 130) << "stdout:\n" << cli.Out() << "\nstderr:\n" << cli.Err();
  EXPECT_NE(cli.Err().find("interrupted, canceling " + id), std::string::npos) << cli.Err();
  EXPECT_EQ(OutputValue(cli.Out(), "status"), "canceled") << cli.Out();
  // The server agrees, and nothing is left running or queued.
  Json s = server_.GetJson("/api/v1/optimizations/" + id + "/status");
  EXPECT_EQ(s.value("status", ""), "canceled") << s.dump();
  EXPECT_EQ(s["summary"].value("running", -1), 0) << s.dump();
  EXPECT_EQ(s["summary"].value("queued", -1), 0) << s.dump();
  EXPECT_LT(s["summary"].value("finished", 0), 90000);
  // The export of a canceled optimization is still written.
  EXPECT_TRUE(fs::exists(ws_.root() / "reports" / "optimizations" / (id + ".zip")));
}

TEST(OptimizeCliLocal, LocalRunsTheServerInProcess) {
  FlowWorkspace ws;
  ws.Write("configs/sweeps/small.yaml", kSmallSweep);
  CmdResult r = RunAlphalab({"optimize", "--config", "configs/sweeps/small.yaml", "--local", "--workspace",
                             ws.root().string(), "--no-progress"},
                            ws.root(), 120s);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string id = OutputValue(r.out, "optimization");
  EXPECT_EQ(OutputValue(r.out, "status"), "succeeded") << r.out;
  EXPECT_NE(r.out.find("RANK"), std::string::npos) << r.out;
  auto entries = ZipEntries(ws.root() / "reports" / "optimizations" / (id + ".zip"));
  EXPECT_EQ(Lines(entries["manifest.jsonl"]).size(), 6u);
  // The optimization is stored in the workspace database: a server started afterwards lists it.
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  Json s = server.GetJson("/api/v1/optimizations/" + id + "/status");
  EXPECT_EQ(s.value("status", ""), "succeeded") << s.dump();
  EXPECT_EQ(s["summary"].value("finished", 0), 6);

  // Bad input with --local: refused before the in-process server starts (no database made).
  FlowWorkspace fresh;
  fresh.Write("configs/sweeps/bad.yaml", "job_type: backtest\nparam_space: {}\nobjective: {metric: x, direction: up}\n");
  const auto before = Tree(fresh.root());
  CmdResult bad = RunAlphalab({"optimize", "--config", "configs/sweeps/bad.yaml", "--local", "--workspace",
                               fresh.root().string()},
                              fresh.root(), 60s);
  EXPECT_NE(bad.exit_code, 0) << Describe(bad);
  EXPECT_NE(bad.err.find("configs/sweeps/bad.yaml:"), std::string::npos) << bad.err;
  EXPECT_EQ(Tree(fresh.root()), before) << "nothing created (no database, no reports)";
}

// A one-shot HTTP endpoint: accepts one connection, keeps the request it read, answers
// `response`, closes.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 1);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[65536];
      for (;;) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        request_.append(buf, static_cast<size_t>(n));
        const size_t end = request_.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        const size_t cl = request_.find("Content-Length: ");
        const size_t body = cl == std::string::npos ? 0 : std::stoul(request_.substr(cl + 16));
        if (request_.size() >= end + 4 + body) break;
      }
      (void)!::write(c, response_.data(), response_.size());
      ::close(c);
    });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The request as received (after the client is done).
  const std::string& request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

TEST(OptimizeCliToken, SendsAlphalabTokenAndMapsTheRefusedFieldToItsLine) {
  FlowWorkspace ws;
  ws.Write("configs/sweeps/small.yaml", kSmallSweep);
  const std::string body =
      R"({"error":{"code":"INVALID_ARGUMENT","message":"objective.metric: unknown metric","details":{"field":"objective.metric"}}})";
  OneShotServer server("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  // No token file: XDG_CONFIG_HOME is an empty folder.
  const std::string no_config = "XDG_CONFIG_HOME=" + (ws.root() / "no-config").string();
  CmdResult r = RunAlphalab({"optimize", "--config", "configs/sweeps/small.yaml", "--server", server.url()}, ws.root(),
                            30s, {"ALPHALAB_TOKEN=tok-123", no_config});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err, "alphalab optimize: configs/sweeps/small.yaml:10: server said 400: objective.metric: unknown metric\n");
  const std::string& req = server.request();
  EXPECT_EQ(req.rfind("POST /api/v1/optimizations HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nAuthorization: Bearer tok-123\r\n"), std::string::npos) << req;
  // The body is the sweep file as the JSON request document.
  auto sent = ParseJson(req.substr(req.find("\r\n\r\n") + 4));
  ASSERT_TRUE(sent.ok()) << req;
  EXPECT_EQ((*sent)["param_space"]["strategy.params.slow"], Json::parse(R"({"min": 50, "max": 150, "step": 50})"));
  EXPECT_EQ((*sent)["top_n"], 3);

  // Without a token: no Authorization header.
  OneShotServer plain("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  CmdResult r2 = RunAlphalab({"optimize", "--config", "configs/sweeps/small.yaml", "--server", plain.url()}, ws.root(),
                             30s, {"ALPHALAB_TOKEN=", no_config});
  EXPECT_EQ(r2.exit_code, 1) << Describe(r2);
  EXPECT_EQ(plain.request().find("Authorization"), std::string::npos) << plain.request();
}

TEST(OptimizeCliNoServer, FailsClearlyWhenTheServerIsDown) {
  FlowWorkspace ws;
  CmdResult r = RunAlphalab({"optimize", "--config", "configs/sweeps/sma_grid.yaml", "--server", "http://127.0.0.1:1"},
                            ws.root(), 30s);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(NonEmptyLines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("alphalab optimize: cannot connect to http://127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(ws.root() / "reports" / "optimizations"));
}

}  // namespace
}  // namespace alphalab::flows

// Integration-test harness: a temporary workspace (example configs + a fixture job type in
// alphalab.yaml) and the real `bin/alphalab serve` process on 127.0.0.1 (port 0 -> the port
// it prints), talked to over real HTTP.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "core/workspace.hpp"
#include "http/http_client.hpp"

extern char** environ;

namespace alphalab::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline fs::path BinDir() { return fs::path(ALPHALAB_BINARY_DIR) / "bin"; }

// A query value percent-encoded (unreserved characters kept): "rdagent:a/b.yaml" -> "rdagent%3Aa%2Fb.yaml".
inline std::string QueryEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

inline std::string FixtureJobTypesYaml() {
  const std::string fixture = (BinDir() / "alphalab-fixture-job").string();
  const std::string common = R"(
    params:
      lines: {type: int, min: 0}
      print: string
      stderr: string
      run_id: string
      pid_file: {type: path, must_exist: false}
      sleep: {type: float, min: 0}
      exit_code: int
    artifacts: {run_id: '^run_id:\s*(\S+)', run_dir: '^run_dir:\s*(\S+)'}
    required_artifacts: [run_id]
)";
  const std::string argv = "[--lines, \"{lines}\"], [--print, \"{print}\"], [--stderr, \"{stderr}\"], "
                           "[--run-id, \"{run_id}\"], [--pid-file, \"{pid_file}\"], [--sleep, \"{sleep}\"], "
                           "[--exit, \"{exit_code}\"]";
  return "job_types:\n"
         "  fixture:\n"
         "    description: test fixture program\n"
         "    argv: [\"" + fixture + "\", " + argv + "]\n" + common +
         "  fixture-tree:\n"
         "    description: fixture that also spawns a grandchild\n"
         "    argv: [\"" + fixture + "\", --grandchild, " + argv + "]\n" + common;
}

class TempWorkspace {
 public:
  explicit TempWorkspace(const std::string& extra_yaml = "") {
    root_ = fs::temp_directory_path() / ("alphalab_it_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "configs" / "backtest");
    fs::create_directories(root_ / "runs" / "run_demo");
    fs::create_directories(root_ / "pids");
    const fs::path example = fs::path(ALPHALAB_SOURCE_DIR) / "examples" / "workspace" / "configs";
    std::error_code ec;
    fs::copy(example, root_ / "configs", fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (!fs::exists(root_ / "configs" / "base.yaml")) std::ofstream(root_ / "configs" / "base.yaml") << "dataset: demo\n";
    if (!fs::exists(root_ / "configs" / "backtest" / "base.yaml")) {
      std::ofstream(root_ / "configs" / "backtest" / "base.yaml") << "dataset: demo\n";
    }
    // The example configs' dataset, so that jobs submitted with them pass the submit check
    // (app/engine_job_check.hpp: an unknown dataset is a 400); a few bars each.
    fs::create_directories(root_ / "data" / "demo");
    for (const char* ticker : {"SPX", "TSM"}) {
      std::ofstream(root_ / "data" / "demo" / (std::string(ticker) + ".csv"))
          << "date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,1000\n2020-01-03,10.5,11,10,10.8,1200\n";
    }
    std::ofstream(root_ / "alphalab.yaml") << "storage:\n  db: sqlite:alphalab.db\n" << FixtureJobTypesYaml() << extra_yaml;
  }
  ~TempWorkspace() {
    std::error_code ec;
    if (!std::getenv("ALPHALAB_KEEP_TEST_WORKSPACE")) fs::remove_all(root_, ec);
  }
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

class ServerProcess {
 public:
  ServerProcess(const fs::path& workspace, std::vector<std::string> extra_args = {})
      : workspace_(workspace), extra_(std::move(extra_args)) {}
  ~ServerProcess() { Stop(); }

  // Bind this address instead of 127.0.0.1 (the client still talks to 127.0.0.1).
  void WithHost(std::string host) { host_ = std::move(host); }
  // Keep the access log on (off by default in tests: it only fills server.stderr.log).
  void WithAccessLog() { access_log_ = true; }
  // Runs the server through a wrapper (absolute path first), e.g. {"/usr/bin/prlimit", "--nofile=64:64", "--"}.
  void WithCommandPrefix(std::vector<std::string> prefix) { prefix_ = std::move(prefix); }
  pid_t pid() const { return pid_; }

  // Starts the server and waits for its "serving ... on http://host:port/" line.
  ::testing::AssertionResult Start() {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return ::testing::AssertionFailure() << "pipe";
    std::vector<std::string> args = {(BinDir() / "alphalab").string(), "serve", "--workspace", workspace_.string(),
                                     "--host", host_, "--port", "0"};
    if (!access_log_) args.push_back("--no-access-log");
    args.insert(args.end(), extra_.begin(), extra_.end());
    args.insert(args.begin(), prefix_.begin(), prefix_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    const std::string err_log = (workspace_ / "server.stderr.log").string();
    posix_spawn_file_actions_addopen(&fa, 2, err_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      return ::testing::AssertionFailure() << "spawn alphalab: " << std::strerror(rc);
    }
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      const ssize_t n = ::read(out[0], &c, 1);
      if (n <= 0) break;
      if (c == '\n') {
        const std::string prefix = "http://" + host_ + ":";
        const size_t at = line.find(prefix);
        if (at != std::string::npos) {
          port_ = std::stoi(line.substr(at + prefix.size()));
          break;
        }
        line.clear();
      } else {
        line.push_back(c);
      }
    }
    ::close(out[0]);
    if (port_ == 0) {
      Stop();
      auto log = ReadFile(workspace_ / "server.stderr.log");
      return ::testing::AssertionFailure() << "server did not start: " << (log.ok() ? *log : "");
    }
    auto client = http::HttpClient::Create(url(), 20s);
    client_ = std::move(client).value();
    return ::testing::AssertionSuccess();
  }

  void Stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        exit_status_ = status;
        break;
      }
      std::this_thread::sleep_for(25ms);
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = 0;
    }
    client_.reset();
    port_ = 0;
  }
  void Kill9() { Stop(SIGKILL); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int exit_status() const { return exit_status_; }

  http::ClientResponse Get(const std::string& target) {
    auto r = client_->Get(target);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  http::ClientResponse Post(const std::string& target, const Json& body) {
    auto r = client_->PostJson(target, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  http::ClientResponse PostRaw(const std::string& target, const std::string& body) {
    auto r = client_->Request("POST", target, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  Json GetJson(const std::string& target) {
    auto r = Get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    auto j = r.JsonBody();
    return j.ok() ? *j : Json();
  }
  // Polls GET /api/jobs/{id} until its status is terminal.
  Json WaitTerminal(const std::string& job_id, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Json j;
    while (std::chrono::steady_clock::now() < deadline) {
      j = GetJson("/api/jobs/" + job_id);
      const std::string s = j.value("status", "");
      if (s == "SUCCESS" || s == "FAILED" || s == "CANCELED") return j;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "job " << job_id << " did not end: " << j.dump();
    return j;
  }
  http::HttpClient& client() { return *client_; }

 private:
  fs::path workspace_;
  std::vector<std::string> extra_;
  std::string host_ = "127.0.0.1";
  bool access_log_ = false;
  std::vector<std::string> prefix_;
  pid_t pid_ = 0;
  int port_ = 0;
  int exit_status_ = 0;
  std::unique_ptr<http::HttpClient> client_;
};

// True when the process is gone or a zombie (dead, not yet reaped by its parent).
inline bool ProcessDead(int pid) {
  if (pid <= 0) return true;
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t rp = content.rfind(')');
  return rp != std::string::npos && rp + 2 < content.size() && content[rp + 2] == 'Z';
}

}  // namespace alphalab::testing

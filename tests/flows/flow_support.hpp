// Whole-path test support: the real `bin/alphalab` run as a child process (CLI tests) and as
// `alphalab serve` on 127.0.0.1 (flows), over temporary copies of examples/workspace with the
// real demo data (S&P 500 from vega-datasets) and small synthetic universes.
// Used by tests/cli/* and tests/flows/*.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/json.hpp"
#include "integration/server_harness.hpp"

extern char** environ;

namespace alphalab::flows {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline fs::path AlphalabBin() { return fs::path(ALPHALAB_BINARY_DIR) / "bin" / "alphalab"; }
inline fs::path SourceDir() { return fs::path(ALPHALAB_SOURCE_DIR); }
inline fs::path DemoCsv() { return SourceDir() / "ui" / "node_modules" / "vega-datasets" / "data" / "sp500-2000.csv"; }

inline std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Json ReadJsonFile(const fs::path& p) {
  auto j = ParseJson(Slurp(p));
  EXPECT_TRUE(j.ok()) << p << ": " << j.status().ToString();
  return j.ok() ? *j : Json();
}

struct CmdResult {
  int exit_code = -1;  // -1: did not exit normally (signal or timeout)
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs argv (argv[0] an absolute path) in cwd with stdout/stderr captured to files; no shell.
// extra_env: "K=V" entries added to (or replacing) the inherited environment.
inline CmdResult RunProcess(const std::vector<std::string>& args, const fs::path& cwd,
                            std::chrono::milliseconds timeout = 120s,
                            const std::vector<std::string>& extra_env = {}) {
  CmdResult r;
  static int counter = 0;
  const fs::path tmp = fs::temp_directory_path();
  const std::string tag = std::to_string(::getpid()) + "_" + std::to_string(++counter);
  const fs::path out_path = tmp / ("alphalab_flow_out_" + tag);
  const fs::path err_path = tmp / ("alphalab_flow_err_" + tag);
  std::vector<std::string> a = args;
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    bool replaced = false;
    for (const auto& x : extra_env) {
      if (kv.substr(0, kv.find('=') + 1) == x.substr(0, x.find('=') + 1)) replaced = true;
    }
    if (!replaced) env_store.push_back(kv);
  }
  for (const auto& x : extra_env) env_store.push_back(x);
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    r.err = std::string("spawn failed: ") + std::strerror(rc);
    return r;
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  if (!r.timed_out && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  std::error_code ec;
  fs::remove(out_path, ec);
  fs::remove(err_path, ec);
  return r;
}

inline CmdResult RunAlphalab(std::vector<std::string> args, const fs::path& cwd,
                             std::chrono::milliseconds timeout = 120s,
                             const std::vector<std::string>& extra_env = {}) {
  args.insert(args.begin(), AlphalabBin().string());
  return RunProcess(args, cwd, timeout, extra_env);
}

inline std::string Describe(const CmdResult& r) {
  return "exit=" + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + "\n--- stdout:\n" +
         r.out.substr(0, 4000) + "\n--- stderr:\n" + r.err.substr(0, 4000);
}

// The value after "key:" (or "key =") on a line of its own in a command's output; "" if absent.
inline std::string OutputValue(const std::string& out, const std::string& key) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    size_t i = 0;
    while (i < line.size() && line[i] == ' ') ++i;
    if (line.compare(i, key.size(), key) != 0) continue;
    size_t j = i + key.size();
    while (j < line.size() && line[j] == ' ') ++j;
    if (j >= line.size() || (line[j] != ':' && line[j] != '=')) continue;
    ++j;
    while (j < line.size() && line[j] == ' ') ++j;
    size_t k = j;
    while (k < line.size() && !std::isspace(static_cast<unsigned char>(line[k]))) ++k;
    return line.substr(j, k - j);
  }
  return "";
}

// Number of non-empty lines.
inline size_t NonEmptyLines(const std::string& s) {
  std::istringstream in(s);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    if (!line.empty()) ++n;
  }
  return n;
}

// Names in a directory (recursive, relative), sorted; empty when it does not exist.
inline std::set<std::string> Tree(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return names;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.insert(fs::relative(it->path(), dir).string());
  }
  return names;
}

// CSV header + rows (no quoting in alphalab's outputs).
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int Col(const std::string& name) const {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  }
};
inline Csv ReadCsv(const fs::path& p) {
  Csv csv;
  std::istringstream in(Slurp(p));
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (line.back() == ',') cells.push_back("");
    if (first) {
      csv.header = cells;
      first = false;
    } else {
      csv.rows.push_back(cells);
    }
  }
  return csv;
}

// A temporary copy of examples/workspace with the demo data (data/demo/SPX.csv) prepared by
// scripts/prepare-data.sh's demo step (a plain copy of the vega-datasets file) and, on
// request, a small synthetic universe written by `alphalab data synth`.
class FlowWorkspace {
 public:
  FlowWorkspace() {
    root_ = fs::temp_directory_path() /
            ("alphalab_flow_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
    const fs::path example = SourceDir() / "examples" / "workspace";
    std::error_code ec;
    fs::copy(example, root_, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    EXPECT_FALSE(ec) << "copy examples/workspace: " << ec.message();
    fs::create_directories(root_ / "data" / "demo");
    fs::copy_file(DemoCsv(), root_ / "data" / "demo" / "SPX.csv", fs::copy_options::overwrite_existing, ec);
    EXPECT_FALSE(ec) << "copy " << DemoCsv() << ": " << ec.message();
  }
  ~FlowWorkspace() {
    std::error_code ec;
    if (!std::getenv("ALPHALAB_KEEP_TEST_WORKSPACE")) fs::remove_all(root_, ec);
  }
  FlowWorkspace(const FlowWorkspace&) = delete;
  FlowWorkspace& operator=(const FlowWorkspace&) = delete;

  const fs::path& root() const { return root_; }
  fs::path operator/(const std::string& rel) const { return root_ / rel; }

  // `alphalab data synth` into data/synthetic (small: fast to train).
  ::testing::AssertionResult Synth(const std::string& symbols, int instruments = 3, int years = 8, int seed = 7) {
    std::vector<std::string> args = {"data", "synth", "--workspace", root_.string(), "--out", "data/synthetic",
                                     "--instruments", std::to_string(instruments), "--years", std::to_string(years),
                                     "--seed", std::to_string(seed)};
    if (!symbols.empty()) {
      args.push_back("--symbols");
      args.push_back(symbols);
    }
    CmdResult r = RunAlphalab(args, root_, 60s);
    if (r.exit_code != 0) return ::testing::AssertionFailure() << "data synth: " << Describe(r);
    return ::testing::AssertionSuccess();
  }

  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << text;
  }

  std::set<std::string> Runs() const { return Tree(root_ / "runs"); }
  std::set<std::string> Backtests() const { return Tree(root_ / "backtests"); }
  std::set<std::string> JobLogs() const { return Tree(root_ / "reports" / "jobs" / "runtime"); }

 private:
  fs::path root_;
};

using testing::ServerProcess;

// Polls GET /api/jobs/{id} until terminal (longer default than the integration harness: real
// engine jobs).
inline Json WaitJob(ServerProcess& server, const std::string& job_id, std::chrono::milliseconds timeout = 90s) {
  return server.WaitTerminal(job_id, timeout);
}

inline std::string Q(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace alphalab::flows

// Hostile input and a failing machine against a real `alphalab serve`: nested JSON bodies, error
// envelopes without absolute paths, running out of file descriptors, a database write lock
// held by another process.
#include <sqlite3.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <atomic>
#include <sstream>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include "integration/server_harness.hpp"
#include "registry/run_fixtures.hpp"

namespace alphalab::testing {
namespace {

namespace asio = boost::asio;

// CPU seconds (user + system) the process has used so far.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t rp = content.rfind(')');
  if (rp == std::string::npos) return 0;
  std::istringstream fields(content.substr(rp + 2));
  std::string f;
  std::vector<std::string> v;
  while (fields >> f) v.push_back(f);
  if (v.size() < 13) return 0;
  return (std::stod(v[11]) + std::stod(v[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

size_t CountLines(const fs::path& file, const std::string& needle) {
  std::ifstream in(file);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

double P99(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(static_cast<double>(v.size()) * 0.99))];
}

TEST(HardeningTest, DeeplyNestedJsonBodiesAre400AndTheServerLives) {
  TempWorkspace ws;
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  const std::string deep = std::string(70000, '[') + std::string(70000, ']');  // ~140 KB
  std::string padded = deep + std::string(280000, ' ');                          // ~420 KB body
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"/api/jobs", R"({"job_type":"fixture","params":{"print":)" + padded + "}}"},
      {"/api/jobs", R"({"job_type":"fixture","params":)" + deep + "}"},
      {"/api/jobs/train", R"({"config_path":"configs/base.yaml","overrides":)" + deep + "}"},
      {"/api/jobs/backtest", deep},
  };
  for (const auto& [path, body] : bodies) {
    auto r = server.PostRaw(path, body);
    EXPECT_EQ(r.status, 400) << path << ": " << r.body.substr(0, 300);
    auto j = r.JsonBody();
    ASSERT_TRUE(j.ok()) << r.body.substr(0, 300);
    EXPECT_EQ((*j)["error"]["code"], "INVALID_ARGUMENT");
    EXPECT_NE((*j)["error"]["message"].get<std::string>().find("nested deeper"), std::string::npos)
        << r.body;
  }
  EXPECT_EQ(server.Get("/api/health").status, 200);
  EXPECT_FALSE(ProcessDead(server.pid()));
}

TEST(HardeningTest, ErrorEnvelopesNeverCarryAbsolutePaths) {
  TempWorkspace ws;
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  const std::string root = fs::canonical(ws.root()).string();
  const std::vector<std::pair<std::string, Json>> posts = {
      {"/api/jobs/train", Json{{"config_path", "configs/does_not_exist.yaml"}}},
      {"/api/jobs/train", Json{{"config_path", "/etc/passwd"}}},
      {"/api/jobs/train", Json{{"config_path", root + "/configs/missing.yaml"}}},
      {"/api/jobs/backtest", Json{{"config_path", "../../../../etc/shadow"}}},
      {"/api/jobs", Json{{"job_type", "fixture"}, {"params", {{"pid_file", "/proc/self/environ"}}}}},
  };
  for (const auto& [path, body] : posts) {
    auto r = server.Post(path, body);
    EXPECT_GE(r.status, 400) << body.dump();
    EXPECT_EQ(r.body.find(root), std::string::npos) << r.body;
    for (const char* dir : {"/etc/", "/proc/", "/tmp/"}) {
      // An absolute path starts a token; "../../etc/shadow" (the client's own relative text) may stay.
      for (size_t at = r.body.find(dir); at != std::string::npos; at = r.body.find(dir, at + 1)) {
        const char before = at == 0 ? ' ' : r.body[at - 1];
        EXPECT_TRUE(before == '.' || std::isalnum(static_cast<unsigned char>(before))) << r.body;
      }
    }
  }
}

// Health is open without auth: it names no folder of the server. A job's cwd is shown relative to
// the workspace (the submit answer, the detail, the recent list, the meta file). Before: health had
// "workspace": "<absolute root>" and cwd the absolute root.
TEST(HardeningTest, HealthAndJobDetailsShowNoServerPath) {
  TempWorkspace ws;
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  const std::string root = fs::canonical(ws.root()).string();
  const auto health = server.Get("/api/health");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(health.body.find(root), std::string::npos) << health.body;
  EXPECT_EQ(health.body.find("\"/"), std::string::npos) << "no absolute path: " << health.body;
  EXPECT_FALSE(Json::parse(health.body).contains("workspace")) << health.body;

  auto submit = server.Post("/api/jobs/train", Json{{"config_path", "configs/base.yaml"}, {"dry_run", true}});
  ASSERT_EQ(submit.status, 200) << submit.body;
  const Json job = Json::parse(submit.body);
  EXPECT_EQ(job["cwd"], ".");
  const std::string id = job["job_id"];
  for (const std::string& path : {"/api/jobs/" + id, std::string("/api/jobs/recent")}) {
    const auto r = server.Get(path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body.find("\"cwd\":\"" + root), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"cwd\":\".\""), std::string::npos) << r.body;
  }
}

TEST(HardeningTest, RunningOutOfFileDescriptorsBacksOffAndRecovers) {
#if defined(ALPHALAB_UBSAN_VPTR)
  // UBSan's vptr check reads a vtable through a pipe (sanitizer_common IsAccessibleMemoryRange);
  // with every descriptor in use pipe() fails with EMFILE and UBSan reports "invalid vptr" for a
  // valid object and aborts the server (strace and source in docs/testing.md, "Sanitizers"). It
  // runs in the plain build and under TSan.
  GTEST_SKIP() << "UBSan's vptr check needs a free descriptor (pipe) and this test has none";
#endif
  TempWorkspace ws;
  // 64 descriptors in all, and a connection cap far above them: accept() hits EMFILE.
  ServerProcess server(ws.root(), {"--max-connections", "100000"});
  server.WithCommandPrefix({"/usr/bin/prlimit", "--nofile=64:64", "--"});
  ASSERT_TRUE(server.Start());
  asio::io_context ioc;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> idle;
  for (int i = 0; i < 150; ++i) {
    auto sock = std::make_unique<asio::ip::tcp::socket>(ioc);
    boost::system::error_code ec;
    sock->connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())}, ec);
    if (!ec) idle.push_back(std::move(sock));
  }
  ASSERT_GT(idle.size(), 100u);
  std::this_thread::sleep_for(300ms);
  const double cpu0 = CpuSeconds(server.pid());
  std::this_thread::sleep_for(2s);
  const double cpu = CpuSeconds(server.pid()) - cpu0;
  EXPECT_LT(cpu, 0.4) << "the server spins while out of descriptors";
  // Some of the waiting connections were taken off the queue with a 503 envelope.
  int refused = 0;
  for (auto& sock : idle) {
    int avail = 0;
    if (::ioctl(sock->native_handle(), FIONREAD, &avail) == 0 && avail > 0) {
      std::string buf(static_cast<size_t>(avail), '\0');
      const ssize_t n = ::recv(sock->native_handle(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0 && buf.rfind("HTTP/1.1 503", 0) == 0 && buf.find("UNAVAILABLE") != std::string::npos) ++refused;
    }
  }
  EXPECT_GT(refused, 0);
  idle.clear();
  // Once connections close the server serves again.
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    std::this_thread::sleep_for(100ms);
    auto client = http::HttpClient::Create(server.url(), 2s);
    auto r = (*client)->Get("/api/health");
    status = r.ok() ? r->status : 0;
  }
  EXPECT_EQ(status, 200);
  server.Stop();
  EXPECT_LE(CountLines(ws.root() / "server.stderr.log", "accept failed"), 3u);
}

TEST(HardeningTest, ConnectionsBeyondTheDefaultCapAre503UnderALowFdLimit) {
  TempWorkspace ws;
  ServerProcess server(ws.root());
  server.WithCommandPrefix({"/usr/bin/prlimit", "--nofile=64:64", "--"});
  ASSERT_TRUE(server.Start());
  asio::io_context ioc;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> idle;
  for (int i = 0; i < 80; ++i) {
    auto sock = std::make_unique<asio::ip::tcp::socket>(ioc);
    boost::system::error_code ec;
    sock->connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())}, ec);
    if (!ec) idle.push_back(std::move(sock));
  }
  std::this_thread::sleep_for(500ms);
  int refused = 0;
  for (auto& sock : idle) {
    char buf[512];
    const ssize_t n = ::recv(sock->native_handle(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 && std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 503", 0) == 0) ++refused;
  }
  EXPECT_GE(refused, 30) << "connections beyond the cap (half the fd limit) are refused at once";
  idle.clear();
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    std::this_thread::sleep_for(100ms);
    auto client = http::HttpClient::Create(server.url(), 2s);
    auto r = (*client)->Get("/api/health");
    status = r.ok() ? r->status : 0;
  }
  EXPECT_EQ(status, 200);
}

TEST(HardeningTest, HealthAndMetricsStayFastWhileTheDatabaseIsWriteLocked) {
  TempWorkspace ws;
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((ws.root() / "alphalab.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto locked_at = std::chrono::steady_clock::now();
  std::atomic<int> submits_done{0};
  std::vector<std::thread> submits;
  for (int i = 0; i < 2; ++i) {
    submits.emplace_back([&] {
      auto client = http::HttpClient::Create(server.url(), 30s);
      auto r = (*client)->PostJson("/api/jobs", Json{{"job_type", "fixture"}, {"params", {{"lines", 1}}}});
      ++submits_done;
    });
  }
  std::this_thread::sleep_for(300ms);
  auto client = std::move(http::HttpClient::Create(server.url(), 10s).value());
  std::vector<double> health_ms, metrics_ms;
  while (std::chrono::steady_clock::now() - locked_at < 4s) {
    for (const char* path : {"/api/health", "/metrics"}) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = client->Get(path);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->status, 200);
      (std::string(path) == "/metrics" ? metrics_ms : health_ms).push_back(ms);
    }
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(submits_done.load(), 0) << "the submits should still be waiting on the lock";
  EXPECT_GT(health_ms.size(), 20u);
  EXPECT_LT(P99(health_ms), 50.0);
  EXPECT_LT(P99(metrics_ms), 50.0);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  for (auto& t : submits) t.join();
}


// The hostile corpus: symlinks to /etc/passwd (and to a folder outside the workspace) planted
// where every request reader looks. None of it may come back; inside symlinks still work.
TEST(HardeningTest, PlantedSymlinksLeakNothingThroughAnyReader) {
  TempWorkspace ws;
  const fs::path root = ws.root();
  const fs::path outside = root.parent_path() / (root.filename().string() + "_outside");
  fs::create_directories(outside);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{outside};
  // A run whose config is /etc/passwd; a run whose config links inside the workspace.
  fs::create_directories(root / "runs" / "run_evil");
  fs::create_symlink("/etc/passwd", root / "runs" / "run_evil" / "config.yaml");
  fs::create_symlink("/etc/passwd", root / "runs" / "run_evil" / "metrics.json");
  fs::create_directories(root / "runs" / "run_ok");
  fs::create_symlink("../../configs/base.yaml", root / "runs" / "run_ok" / "config.yaml");
  // Backtests: planted files, a folder symlinked outside, and a clean one.
  WriteBacktest(root, "bt_ok", "sma_cross", {"AAA"});
  WriteBacktest(root, "bt_evil", "sma_cross", {"AAA"});
  for (const char* f : {"config.yaml", "trades.csv", "summary.json", "equity.csv"}) {
    fs::remove(root / "backtests" / "bt_evil" / f);
    fs::create_symlink("/etc/passwd", root / "backtests" / "bt_evil" / f);
  }
  WriteBacktest(outside, "bt_far", "sma_cross", {"AAA"});
  fs::create_directory_symlink(outside / "backtests" / "bt_far", root / "backtests" / "bt_link");

  ServerProcess server(root);
  ASSERT_TRUE(server.Start());
  const std::string passwd_marker = "root:x:0:0";

  auto run_evil = server.Get("/api/runs/run_evil");
  EXPECT_EQ(run_evil.body.find(passwd_marker), std::string::npos) << run_evil.body;
  EXPECT_EQ(run_evil.body.find("/bin/"), std::string::npos) << run_evil.body;
  auto run_ok = server.Get("/api/runs/run_ok");
  EXPECT_EQ(run_ok.status, 200) << run_ok.body;
  auto run_ok_json = run_ok.JsonBody();
  ASSERT_TRUE(run_ok_json.ok());
  EXPECT_TRUE((*run_ok_json)["config"].contains("raw")) << run_ok.body;

  auto bt_evil = server.Get("/api/backtests/bt_evil");
  EXPECT_EQ(bt_evil.body.find(passwd_marker), std::string::npos) << bt_evil.body;
  for (const char* f : {"config.yaml", "trades.csv", "summary.json"}) {
    auto file = server.Get(std::string("/api/backtests/bt_evil/files/") + f);
    EXPECT_GE(file.status, 400) << f;
    EXPECT_EQ(file.body.find(passwd_marker), std::string::npos) << f << ": " << file.body;
  }
  auto bt_link = server.Get("/api/backtests/bt_link");
  EXPECT_GE(bt_link.status, 400) << bt_link.body;
  EXPECT_EQ(server.Get("/api/backtests/bt_ok").status, 200);

  // The indexer: the clean backtest is listed, the symlinked folder is not.
  EXPECT_EQ(server.Post("/api/registry/index", Json::object()).status, 200);
  const Json list = server.GetJson("/api/backtests?limit=100");
  std::set<std::string> ids;
  for (const auto& b : list["items"]) ids.insert(b.value("bt_run_id", ""));
  EXPECT_TRUE(ids.count("bt_ok")) << list.dump();
  EXPECT_FALSE(ids.count("bt_link")) << list.dump();
  EXPECT_FALSE(ids.count("bt_evil")) << list.dump();

  // A job's log replaced by a symlink to /etc/passwd: neither /log nor /log/stream reads it.
  auto submitted = server.Post("/api/jobs", Json{{"job_type", "fixture"}, {"params", {{"lines", 2}}}});
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  const std::string id = submitted.JsonBody().value()["job_id"];
  const Json done = server.WaitTerminal(id);
  fs::path log_path = root / "reports" / "jobs" / "runtime" / (id + ".log");
  ASSERT_TRUE(fs::exists(log_path)) << done.dump();
  fs::remove(log_path);
  fs::create_symlink("/etc/passwd", log_path);
  auto log = server.Get("/api/jobs/" + id + "/log");
  EXPECT_EQ(log.body.find(passwd_marker), std::string::npos) << log.body;
  EXPECT_GE(log.status, 400) << log.body;
  std::string streamed;
  auto st = server.client().Stream("/api/jobs/" + id + "/log/stream", [&](std::string_view d) {
    streamed.append(d);
    return streamed.size() < (1u << 20);
  });
  EXPECT_EQ(streamed.find(passwd_marker), std::string::npos) << streamed;
}

TEST(HardeningTest, CancelAndEndKillDescendantsThatLeftTheSession) {
  const std::string fixture = (BinDir() / "alphalab-fixture-job").string();
  TempWorkspace ws("  fixture-escape:\n"
                   "    description: fixture whose descendants leave its process group and session\n"
                   "    argv: [\"" + fixture + "\", --escape, [--pid-file, \"{pid_file}\"], [--sleep, \"{sleep}\"]]\n"
                   "    params:\n"
                   "      pid_file: {type: path, must_exist: false}\n"
                   "      sleep: {type: float, min: 0}\n");
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  std::vector<int> all_pids;
  struct Reaper {
    std::vector<int>& pids;
    ~Reaper() {
      for (int p : pids) {
        if (p > 0 && !ProcessDead(p)) ::kill(p, SIGKILL);
      }
    }
  } reaper{all_pids};
  for (const bool cancel : {true, false}) {
    const std::string name = cancel ? "cancel" : "end";
    auto r = server.Post("/api/jobs", Json{{"job_type", "fixture-escape"},
                                           {"params", {{"pid_file", "pids/" + name + ".txt"}, {"sleep", cancel ? 60 : 1.0}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string id = r.JsonBody().value()["job_id"];
    const fs::path pid_file = ws.root() / "pids" / (name + ".txt");
    for (int i = 0; i < 500 && !fs::exists(pid_file); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(fs::exists(pid_file));
    int pid = 0, grandchild = 0, escaped = 0, orphan = 0;
    std::ifstream(pid_file) >> pid >> grandchild >> escaped >> orphan;
    all_pids.insert(all_pids.end(), {pid, escaped, orphan});
    ASSERT_GT(escaped, 0);
    ASSERT_GT(orphan, 0);
    EXPECT_FALSE(ProcessDead(escaped));
    EXPECT_FALSE(ProcessDead(orphan));
    EXPECT_NE(::getsid(escaped), ::getsid(pid)) << "the fixture's descendant left the session";
    if (cancel) {
      auto c = server.Post("/api/jobs/" + id + "/cancel", Json::object());
      ASSERT_EQ(c.status, 200) << c.body;
    }
    const Json done = server.WaitTerminal(id);
    EXPECT_EQ(done["status"], cancel ? "CANCELED" : "SUCCESS") << done.dump();
    for (int i = 0; i < 300 && !(ProcessDead(escaped) && ProcessDead(orphan)); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(ProcessDead(escaped)) << name << ": the setsid child survived its job";
    EXPECT_TRUE(ProcessDead(orphan)) << name << ": the orphaned grandchild survived its job";
  }
}


// Field `index` (1-based, as in proc(5)) of /proc/<pid>/stat, or its comm (index 2); "" when gone.
std::string StatField(int pid, int index) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t lp = content.find('('), rp = content.rfind(')');
  if (lp == std::string::npos || rp == std::string::npos) return "";
  if (index == 2) return content.substr(lp + 1, rp - lp - 1);
  std::istringstream fields(content.substr(rp + 2));
  std::string f;
  for (int i = 3; fields >> f; ++i) {
    if (i == index) return f;
  }
  return "";
}

// The process supervisor above a job's process: the alphalab-shim ancestor that leads its own
// session; 0 when none.
int SupervisorOf(int pid) {
  for (int p = pid, hops = 0; p > 1 && hops < 10; ++hops) {
    if (StatField(p, 2) == "alphalab-shim" && StatField(p, 6) == std::to_string(p)) return p;
    p = std::atoi(StatField(p, 4).c_str());
  }
  return 0;
}

// Item 8: kill -9 of the process supervisor while jobs run. A job that goes on to exit 0 is
// SUCCESS (exit_code 0), recorded by the live server; one that ends after the server was
// killed too is recorded with its real exit code by the next server.
TEST(HardeningTest, AKilledSupervisorDoesNotRewriteHowItsJobsEnd) {
  TempWorkspace ws;
  std::string live_id, later_id;
  int later_pid = 0;
  {
    ServerProcess server(ws.root(), {"--slots", "2"});
    ASSERT_TRUE(server.Start());
    auto submit = [&](const Json& params) {
      auto r = server.Post("/api/jobs", Json{{"job_type", "fixture"}, {"params", params}});
      EXPECT_EQ(r.status, 200) << r.body;
      return r.JsonBody().value()["job_id"].get<std::string>();
    };
    live_id = submit({{"run_id", "run_live"}, {"sleep", 2.0}, {"exit_code", 0}, {"pid_file", "pids/live.txt"}});
    later_id = submit({{"run_id", "run_later"}, {"sleep", 4.0}, {"exit_code", 3}, {"pid_file", "pids/later.txt"}});
    for (int i = 0; i < 500 && !(fs::exists(ws.root() / "pids/live.txt") && fs::exists(ws.root() / "pids/later.txt")); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    // Both jobs RUNNING through the API: the supervisor has reported their spawns (a job it
    // spawned in the instant before dying, before saying so, is a documented spawn failure).
    for (const std::string& id : {live_id, later_id}) {
      for (int i = 0; i < 500 && server.GetJson("/api/jobs/" + id)["status"] != "RUNNING"; ++i) {
        std::this_thread::sleep_for(10ms);
      }
      ASSERT_EQ(server.GetJson("/api/jobs/" + id)["status"], "RUNNING") << id;
    }
    int live_pid = 0;
    std::ifstream(ws.root() / "pids/live.txt") >> live_pid;
    std::ifstream(ws.root() / "pids/later.txt") >> later_pid;
    ASSERT_GT(live_pid, 1);
    ASSERT_GT(later_pid, 1);
    const int supervisor = SupervisorOf(live_pid);
    ASSERT_GT(supervisor, 1) << "no supervisor above the job";
    ASSERT_EQ(SupervisorOf(later_pid), supervisor);
    ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
    for (int i = 0; i < 300 && !ProcessDead(supervisor); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(ProcessDead(supervisor));
    EXPECT_FALSE(ProcessDead(live_pid)) << "the job runs on without its supervisor";

    const Json live = server.WaitTerminal(live_id);
    EXPECT_EQ(live["status"], "SUCCESS") << live.dump();
    EXPECT_EQ(live["exit_code"], 0) << live.dump();
    EXPECT_EQ(live["end_reason"], "exit_code") << live.dump();
    EXPECT_EQ(live["artifacts"]["run_id"], "run_live") << live.dump();
    EXPECT_EQ(server.GetJson("/api/jobs/" + later_id)["status"], "RUNNING");
    server.Kill9();
  }
  for (int i = 0; i < 1000 && !ProcessDead(later_pid); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(ProcessDead(later_pid)) << "the second job should have ended";
  ServerProcess server(ws.root(), {"--slots", "2"});
  ASSERT_TRUE(server.Start());
  const Json later = server.WaitTerminal(later_id);
  EXPECT_EQ(later["status"], "FAILED") << later.dump();
  EXPECT_EQ(later["exit_code"], 3) << later.dump();
  EXPECT_EQ(later["end_reason"], "exit_code") << "the exit record tells the truth: " << later.dump();
}


// Item 8, the instant between a job's start and its report: the supervisor starts a job and
// only then tells the server. A supervisor killed in between left a job that ran on while the
// server stored it FAILED spawn_failed (seen once in CI). A job now records itself on the log
// before its program is executed and is not executed once its supervisor is gone (issue 14: the
// supervisor's vfork-style child does this, where a per-job keeper did it before), so after a
// kill among many starts every job's record is true: a job that ran is SUCCESS with its exit
// code; one that did not run is FAILED and never runs later. The kill lands while jobs are
// starting (five rounds); each job's start record is checked too.
TEST(HardeningTest, ASupervisorKilledWhileStartingJobsLeavesEveryRecordTrue) {
  TempWorkspace ws;
  ServerProcess server(ws.root(), {"--slots", "64"});
  ASSERT_TRUE(server.Start());
  constexpr int kRounds = 5;
  constexpr int kJobs = 24;
  std::vector<std::pair<std::string, fs::path>> jobs;  // id, pid file
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::pair<std::string, fs::path>> batch;
    for (int i = 0; i < kJobs; ++i) {
      const std::string name = "r" + std::to_string(round) + "_" + std::to_string(i);
      auto r = server.Post("/api/jobs", Json{{"job_type", "fixture"},
                                            {"params", {{"run_id", "run_" + name}, {"sleep", 0.3},
                                                        {"exit_code", 0}, {"pid_file", "pids/" + name + ".txt"}}}});
      ASSERT_EQ(r.status, 200) << r.body;
      batch.emplace_back(r.JsonBody().value()["job_id"].get<std::string>(), ws.root() / "pids" / (name + ".txt"));
      if (i == kJobs / 3) {  // some started, more starting: kill their supervisor now
        int supervisor = 0;
        for (int t = 0; t < 500 && supervisor <= 1; ++t) {
          for (const auto& [id, pid_file] : batch) {
            int pid = 0;
            std::ifstream(pid_file) >> pid;
            if (pid > 1 && (supervisor = SupervisorOf(pid)) > 1) break;
          }
          if (supervisor <= 1) std::this_thread::sleep_for(2ms);
        }
        ASSERT_GT(supervisor, 1) << "no supervisor above the first jobs";
        ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
      }
    }
    for (auto& job : batch) jobs.push_back(std::move(job));
  }
  int ran = 0, not_started = 0;
  for (const auto& [id, pid_file] : jobs) {
    const Json job = server.WaitTerminal(id);
    if (fs::exists(pid_file)) {
      ++ran;
      EXPECT_EQ(job["status"], "SUCCESS") << "the job ran: " << job.dump();
      EXPECT_EQ(job["exit_code"], 0) << job.dump();
      // The job recorded itself on the log before its program was executed.
      const fs::path log = ws.root() / "reports" / "jobs" / "runtime" / (id + ".log");
      char buf[64] = {};
      const ssize_t n = ::getxattr(log.c_str(), "user.alphalab.start", buf, sizeof(buf) - 1);
      ASSERT_GT(n, 0) << "no start record on " << log;
      EXPECT_GT(std::atoi(buf), 1) << buf;
    } else {
      ++not_started;
      EXPECT_EQ(job["status"], "FAILED") << "the job never ran: " << job.dump();
    }
  }
  std::this_thread::sleep_for(500ms);
  for (const auto& [id, pid_file] : jobs) {
    if (!fs::exists(pid_file)) {
      EXPECT_EQ(server.GetJson("/api/jobs/" + id)["status"], "FAILED") << id;
    }
  }
  EXPECT_EQ(ran + not_started, kRounds * kJobs);
  EXPECT_GT(ran, 0);
}

// Read-type system calls (read, pread, readv) the whole process has made so far (/proc/<pid>/io).
uint64_t ReadSyscalls(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("syscr: ", 0) == 0) return std::stoull(line.substr(7));
  }
  return 0;
}

// The value of an unlabelled metric in a /metrics text (-1 when absent).
double MetricValue(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

// Many SSE followers of a growing log (issue 12's load benchmark starved the API: each
// follower's every poll hopped to the handler pool, looked the job up and reopened the log).
// Followers of one log now share one read per change, and none of them occupies the handler
// pool: with the pool at two threads, API requests answer quickly while 200 followers stream.
TEST(HardeningTest, LogFollowersShareReadsAndLeaveTheHandlerPoolToRequests) {
  TempWorkspace ws(
      "  ticker:\n    description: prints a line every 0.05 s\n"
      "    argv: [/bin/sh, -c, 'i=0; while [ $i -lt 1200 ]; do echo tick $i; i=$((i+1)); sleep 0.05; done']\n");
  ServerProcess server(ws.root(), {"--handler-threads", "2"});
  ASSERT_TRUE(server.Start());
  auto submitted = server.Post("/api/jobs", Json{{"job_type", "ticker"}, {"params", Json::object()}});
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  const std::string id = Json::parse(submitted.body)["job_id"];

  constexpr int kFollowers = 200;
  asio::io_context ioc;
  std::vector<asio::ip::tcp::socket> sockets;
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port()));
  const std::string request = "GET /api/jobs/" + id + "/log/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (int i = 0; i < kFollowers; ++i) {
    sockets.emplace_back(ioc);
    boost::system::error_code ec;
    sockets.back().connect(ep, ec);
    ASSERT_FALSE(ec) << ec.message();
    asio::write(sockets.back(), asio::buffer(request), ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  // Every follower is read as it streams (what a browser does); counts its `log` events.
  std::vector<std::string> heads(kFollowers);
  std::vector<int> log_events(kFollowers, 0);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    std::vector<pollfd> fds;
    for (auto& s : sockets) fds.push_back(pollfd{s.native_handle(), POLLIN, 0});
    char buf[65536];
    while (!stop) {
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {
          fds[i].fd = -1;
          continue;
        }
        const std::string_view got(buf, static_cast<size_t>(n));
        if (heads[i].size() < 200) heads[i].append(got.substr(0, 200));
        for (size_t at = got.find("event: log"); at != std::string_view::npos; at = got.find("event: log", at + 1)) {
          ++log_events[i];
        }
      }
    }
  });
  std::this_thread::sleep_for(1500ms);  // every follower connected and caught up

  // A quiet window: only the followers. 200 followers each reading for themselves make
  // 5 reads a second each (2,000 in two seconds); shared, the log is read once per change.
  const double pool_before = MetricValue(server.Get("/metrics").body, "alphalab_http_handler_pool_tasks_total");
  const uint64_t reads_before = ReadSyscalls(server.pid());
  std::this_thread::sleep_for(2s);
  const uint64_t reads = ReadSyscalls(server.pid()) - reads_before;
  const double pool_quiet = MetricValue(server.Get("/metrics").body, "alphalab_http_handler_pool_tasks_total");
  EXPECT_LT(reads, static_cast<uint64_t>(kFollowers)) << "read system calls in 2 s with " << kFollowers << " followers";
  EXPECT_GE(pool_before, 0) << "the handler pool counter is exported";
  EXPECT_LE(pool_quiet - pool_before, 2.0) << "followers ran work on the handler pool";

  // API requests that run on the pool answer quickly while the followers stream.
  std::vector<double> ms;
  int pool_requests = 0;
  const auto load_start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - load_start < 3s) {
    const std::vector<std::string> targets = {"/api/jobs/recent?limit=20", "/api/jobs/" + id + "/log?offset=0&tail=2000",
                                              "/api/health", "/api/jobs/" + id};
    for (const std::string& target : targets) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = server.Get(target);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    }
    pool_requests += 2;
    std::this_thread::sleep_for(20ms);
  }
  const double pool_after = MetricValue(server.Get("/metrics").body, "alphalab_http_handler_pool_tasks_total");
  EXPECT_LE(pool_after - pool_quiet, pool_requests + 2.0);
  std::printf("%d followers: %llu read system calls in 2 s, %.0f handler-pool tasks in 2 s without requests; "
              "%zu API requests p99 %.1f ms, max %.1f ms\n",
              kFollowers, static_cast<unsigned long long>(reads), pool_quiet - pool_before, ms.size(), P99(ms),
              *std::max_element(ms.begin(), ms.end()));
  EXPECT_LT(P99(ms), 250.0);  // at 200 followers this held before too; the two checks above did not

  stop = true;
  reader.join();
  for (int i = 0; i < kFollowers; ++i) {
    EXPECT_EQ(heads[i].rfind("HTTP/1.1 200", 0), 0u) << "follower " << i << ": " << heads[i];
    EXPECT_GE(log_events[i], 3) << "follower " << i;
  }
  for (auto& s : sockets) {
    boost::system::error_code ec;
    s.close(ec);
  }
  (void)server.Post("/api/jobs/" + id + "/cancel", Json::object());
  server.WaitTerminal(id);
}

}  // namespace
}  // namespace alphalab::testing

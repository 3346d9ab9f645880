// The server's structured logs: every stderr line is one JSON object; the access log names
// method, path, status, bytes and time; lines reach stderr within about a second while the
// server runs (they are buffered) and all of them by the time it has stopped.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "integration/server_harness.hpp"

namespace alphalab::testing {
namespace {

std::vector<Json> LogLines(const fs::path& ws) {
  std::vector<Json> lines;
  auto text = ReadFile(ws / "server.stderr.log");
  if (!text.ok()) return lines;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = ParseJson(line);
    EXPECT_TRUE(j.ok()) << "not JSON: " << line;
    if (j.ok()) lines.push_back(*j);
  }
  return lines;
}

bool HasAccessLine(const std::vector<Json>& lines, const std::string& path, int status) {
  for (const Json& l : lines) {
    const Json& e = l["event"];
    if (e.is_object() && e.value("msg", "") == "http" && e.value("path", "") == path &&
        e.value("status", 0) == status) {
      return true;
    }
  }
  return false;
}

TEST(ServerLogsTest, AccessAndEventLinesAreJsonAndReachStderr) {
  TempWorkspace ws;
  ServerProcess server(ws.root());
  server.WithAccessLog();
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.Get("/api/health").status, 200);
  EXPECT_EQ(server.Get("/api/jobs/job_20260101_000000__00000000").status, 404);

  // Buffered, but flushed every second while the server runs.
  bool seen = false;
  for (int i = 0; i < 40 && !seen; ++i) {
    std::this_thread::sleep_for(100ms);
    seen = HasAccessLine(LogLines(ws.root()), "/api/jobs/job_20260101_000000__00000000", 404);
  }
  EXPECT_TRUE(seen) << "the access line did not reach stderr within 4 s";

  for (int i = 0; i < 50; ++i) server.Get("/api/jobs/recent?offset=" + std::to_string(i));
  // Job events: one line per recorded state, failures at warn level with the exit code.
  auto ok = server.Post("/api/jobs", {{"job_type", "fixture"}, {"params", {{"lines", 1}, {"run_id", "r1"}}}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  const std::string ok_id = Json::parse(ok.body)["job_id"];
  auto bad = server.Post("/api/jobs", {{"job_type", "fixture"}, {"params", {{"exit_code", 3}}}});
  ASSERT_EQ(bad.status, 200) << bad.body;
  const std::string bad_id = Json::parse(bad.body)["job_id"];
  EXPECT_EQ(server.WaitTerminal(ok_id)["status"], "SUCCESS");
  EXPECT_EQ(server.WaitTerminal(bad_id)["status"], "FAILED");
  server.Stop();
  const std::vector<Json> lines = LogLines(ws.root());
  ASSERT_FALSE(lines.empty());
  int recent_lines = 0;
  bool listening = false, stopped = false;
  for (const Json& l : lines) {
    EXPECT_TRUE(l.contains("ts") && l.contains("level") && l.contains("event")) << l.dump();
    const Json& e = l["event"];
    if (!e.is_object()) continue;
    const std::string msg = e.value("msg", "");
    listening |= msg == "listening";
    stopped |= msg == "stopped";
    if (msg == "http" && e.value("path", "").rfind("/api/jobs/recent?offset=", 0) == 0) {
      ++recent_lines;
      EXPECT_EQ(e.value("method", ""), "GET");
      EXPECT_EQ(e.value("status", 0), 200);
      EXPECT_GT(e.value("bytes", 0), 0);
      EXPECT_TRUE(e["ms"].is_number());
    }
  }
  EXPECT_TRUE(listening);
  EXPECT_TRUE(stopped);
  std::vector<std::string> ok_states, bad_states;
  for (const Json& l : lines) {
    const Json& e = l["event"];
    if (!e.is_object() || e.value("msg", "") != "job") continue;
    if (e.value("job_id", "") == ok_id) ok_states.push_back(e.value("status", ""));
    if (e.value("job_id", "") == bad_id) {
      bad_states.push_back(e.value("status", ""));
      if (e.value("status", "") == "FAILED") {
        EXPECT_EQ(l.value("level", ""), "warning");
        EXPECT_EQ(e.value("exit_code", 0), 3);
        EXPECT_TRUE(e["duration_sec"].is_number());
        EXPECT_EQ(e.value("job_type", ""), "fixture");
      }
    }
  }
  EXPECT_EQ(ok_states, (std::vector<std::string>{"QUEUED", "RUNNING", "SUCCESS"}));
  EXPECT_EQ(bad_states, (std::vector<std::string>{"QUEUED", "RUNNING", "FAILED"}));
  EXPECT_EQ(recent_lines, 50) << "every request of a stopped server is in its log";
}

}  // namespace
}  // namespace alphalab::testing

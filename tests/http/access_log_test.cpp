// AccessLogBuffer: every line arrives once, whole, in its thread's order; the background flush
// delivers without being asked; the destructor delivers the rest. FormatAccessLine is JSON.
#include "http/access_log.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "core/json.hpp"

namespace alphalab::http {
namespace {

using namespace std::chrono_literals;

struct Collected {
  std::mutex mu;
  std::string text;
  int chunks = 0;
  std::function<void(std::string_view)> Writer() {
    return [this](std::string_view chunk) {
      std::lock_guard lock(mu);
      EXPECT_EQ(chunk.back(), '\n') << "chunks hold whole lines";
      text.append(chunk);
      ++chunks;
    };
  }
  std::string Text() {
    std::lock_guard lock(mu);
    return text;
  }
};

TEST(AccessLogBufferTest, EveryLineOnceWholeAndInItsThreadsOrder) {
  Collected out;
  {
    AccessLogBuffer buffer(out.Writer());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 5000; ++i) {
          buffer.Append("t" + std::to_string(t) + " " + std::to_string(i) + " " + std::string(40, 'x') + "\n");
        }
      });
    }
    for (auto& th : threads) th.join();
  }  // the destructor flushes what is left
  std::istringstream in(out.Text());
  std::string line;
  std::map<int, int> next;  // thread -> next expected index
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "t%d %d", &t, &i), 2) << line;
    ASSERT_EQ(line.size(), line.find(' ', line.find(' ') + 1) + 1 + 40) << "torn line: " << line;
    EXPECT_EQ(i, next[t]) << "thread " << t << " out of order";
    next[t] = i + 1;
  }
  EXPECT_EQ(lines, 20000);
  for (int t = 0; t < 4; ++t) EXPECT_EQ(next[t], 5000);
  EXPECT_GT(out.chunks, 4) << "big batches go out as they fill, not only at the end";
}

TEST(AccessLogBufferTest, QuietLinesGoOutWithoutAFlushCall) {
  Collected out;
  AccessLogBuffer buffer(out.Writer());
  buffer.Append("one\n");
  std::thread([&] { buffer.Append("two\n"); }).join();  // a thread that is gone by now
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (out.Text().size() < 8 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  const std::string text = out.Text();
  EXPECT_NE(text.find("one\n"), std::string::npos);
  EXPECT_NE(text.find("two\n"), std::string::npos);
}

TEST(AccessLogBufferTest, FormatAccessLineIsOneJsonLine) {
  const std::string line = FormatAccessLine("GET", "/api/jobs/recent?q=\"a\"\xff", 404, 123, 1.5, "127.0.0.1:5");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto j = ParseJson(line);
  ASSERT_TRUE(j.ok()) << line;
  EXPECT_EQ((*j)["level"], "info");
  EXPECT_EQ((*j)["ts"].get<std::string>().size(), 24u);  // 2026-11-21T09:54:44.652Z
  const Json& e = (*j)["event"];
  EXPECT_EQ(e["msg"], "http");
  EXPECT_EQ(e["method"], "GET");
  EXPECT_EQ(e["status"], 404);
  EXPECT_EQ(e["bytes"], 123);
  EXPECT_DOUBLE_EQ(e["ms"].get<double>(), 1.5);
  EXPECT_EQ(e["remote"], "127.0.0.1:5");
  EXPECT_EQ(e["path"].get<std::string>().rfind("/api/jobs/recent?q=\"a\"", 0), 0u);
}

// The line is written by hand (no format string): the same text as the format it replaced,
// numbers included ("ms" with three decimals, rounded).
TEST(AccessLogBufferTest, FormatAccessLineMatchesTheFormattedLine) {
  for (const double ms : {0.0, 0.0004, 0.0005, 0.033, 1.5, 12.3456, 999.9996, 123456.789}) {
    for (const int status : {200, 404, 503}) {
      const std::string line = FormatAccessLine("GET", "/api/jobs/x?y=\"z\"", status, 949, ms, "127.0.0.1:5");
      const std::string expected = fmt::format(
          R"(","level":"info","event":{{"msg":"http","method":"GET","path":{},"status":{},"bytes":949,"ms":{:.3f},"remote":"127.0.0.1:5"}}}})"
          "\n",
          JsonEscape("/api/jobs/x?y=\"z\""), status, ms);
      ASSERT_GT(line.size(), expected.size());
      EXPECT_EQ(line.substr(line.size() - expected.size()), expected) << ms;
      EXPECT_EQ(line.rfind(R"({"ts":")", 0), 0u);
    }
  }
}

}  // namespace
}  // namespace alphalab::http

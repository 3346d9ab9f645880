// The Beast server in-process on 127.0.0.1: keep-alive, limits (413), 500 envelope, stop.
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include "http/api_error.hpp"
#include "http/http_client.hpp"
#include "http/log_follow.hpp"
#include "http/server.hpp"
#include "jobs/metrics.hpp"

namespace alphalab::http {
namespace {

using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Get("/api/ping", [](const HttpRequest& r) -> Result<Json> {
      return Json{{"pong", true}, {"q", r.query.Get("q").value_or("")}};
    });
    router_.Post("/api/echo", [](const HttpRequest& r) -> Result<Json> {
      auto j = r.JsonBody();
      if (!j.ok()) return j.status();
      return *j;
    });
    options_.port = 0;
    options_.max_body_bytes = 1024;
    options_.access_log = false;
    server_ = std::make_unique<HttpServer>(options_, router_, &metrics_);
    ASSERT_TRUE(server_->Listen().ok());
    thread_ = std::thread([this] { server_->Run(); });
    client_ = std::move(HttpClient::Create("http://127.0.0.1:" + std::to_string(server_->port())).value());
  }
  void TearDown() override {
    server_->Stop();
    thread_.join();
  }
  Router router_;
  ServerOptions options_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ServerTest, KeepAliveRequestsAndMetrics) {
  for (int i = 0; i < 20; ++i) {
    auto r = client_->Get("/api/ping?q=" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(Json::parse(r->body)["q"], std::to_string(i));
  }
  EXPECT_EQ(metrics_.CounterValue("alphalab_http_requests_total",
                                  {{"method", "GET"}, {"route", "/api/ping"}, {"status", "200"}}),
            20);
}

TEST_F(ServerTest, BodyLimitIs413WithEnvelope) {
  auto ok = client_->Request("POST", "/api/echo", R"({"a":1})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  auto big = client_->Request("POST", "/api/echo", "{\"a\":\"" + std::string(5000, 'x') + "\"}");
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(Json::parse(big->body)["error"]["code"], "RESOURCE_EXHAUSTED");
}

// Sends raw bytes on a fresh connection, half-closes, and returns everything the server wrote
// until it closed the connection (or 5 s passed).
std::string RawExchange(int port, const std::string& bytes) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  timeval tv{5, 0};
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  boost::system::error_code ec;
  asio::write(sock, asio::buffer(bytes), ec);
  sock.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  std::string out;
  char buf[4096];
  for (;;) {
    const size_t n = sock.read_some(asio::buffer(buf), ec);
    if (ec || n == 0) break;
    out.append(buf, n);
  }
  return out;
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

Json BodyOf(const std::string& response) {
  const size_t at = response.find("\r\n\r\n");
  if (at == std::string::npos) return Json();
  return Json::parse(response.substr(at + 4), nullptr, false);
}

// Reads one HTTP/1.1 response with a Content-Length body from `sock`: {head, body}.
std::pair<std::string, std::string> ReadResponse(boost::asio::ip::tcp::socket& sock) {
  std::string data;
  char buf[65536];
  boost::system::error_code ec;
  size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    const size_t n = sock.read_some(boost::asio::buffer(buf), ec);
    if (ec || n == 0) return {data, ""};
    data.append(buf, n);
  }
  const std::string head = data.substr(0, head_end + 4);
  const size_t cl = head.find("Content-Length: ");
  if (cl == std::string::npos) return {head, ""};
  const size_t want = std::stoul(head.substr(cl + 16));
  std::string body = data.substr(head_end + 4);
  while (body.size() < want) {
    const size_t n = sock.read_some(boost::asio::buffer(buf), ec);
    if (ec || n == 0) break;
    body.append(buf, n);
  }
  return {head, body};
}

// A response is first written straight to the socket; what the kernel does not take at once
// (a large body, a client that does not read yet) must follow through the stream, complete and
// in order, and the connection must go on serving. A peer that leaves mid-response costs nothing.
TEST(ServerWriteTest, LargeResponsesToSlowReadersArriveWholeAndTheConnectionGoesOn) {
  std::string big(16u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7) % 26);
  Router router;
  router.GetRaw("/api/big", [&big](const HttpRequest&) -> Result<HttpResponse> {
    return HttpResponse::Text(big, "application/octet-stream");
  });
  router.Get("/api/ping", [](const HttpRequest& r) -> Result<Json> {
    return Json{{"q", r.query.Get("q").value_or("")}};
  });
  ServerOptions options;
  options.port = 0;
  options.access_log = false;
  Metrics metrics;
  auto server_ = std::make_unique<HttpServer>(options, router, &metrics);
  ASSERT_TRUE(server_->Listen().ok());
  std::thread thread([&] { server_->Run(); });
  struct Stop {
    HttpServer& s;
    std::thread& t;
    ~Stop() {
      s.Stop();
      t.join();
    }
  } stop{*server_, thread};
  auto client_ = std::move(HttpClient::Create("http://127.0.0.1:" + std::to_string(server_->port())).value());
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.open(asio::ip::tcp::v4());
  const int small = 4096;
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port())});
  timeval tv{10, 0};
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(sock, asio::buffer(std::string("GET /api/big HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::this_thread::sleep_for(300ms);  // the server has filled what the kernel takes by now
  auto [head, body] = ReadResponse(sock);
  EXPECT_EQ(StatusOf(head), 200) << head;
  ASSERT_EQ(body.size(), big.size());
  EXPECT_TRUE(body == big) << "the body arrived altered";
  asio::write(sock, asio::buffer(std::string("GET /api/ping?q=after HTTP/1.1\r\nHost: x\r\n\r\n")));
  auto [head2, body2] = ReadResponse(sock);
  EXPECT_EQ(StatusOf(head2), 200) << head2;
  EXPECT_EQ(Json::parse(body2)["q"], "after");

  for (int i = 0; i < 3; ++i) {  // peers that ask for the big body and leave at once
    asio::ip::tcp::socket gone(ioc);
    gone.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port())});
    asio::write(gone, asio::buffer(std::string("GET /api/big HTTP/1.1\r\nHost: x\r\n\r\n")));
    gone.close();
  }
  for (int i = 0; i < 5; ++i) {
    auto r = client_->Get("/api/ping");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(ServerTest, GarbageRequestGets400EnvelopeWithoutHurtingOthers) {
  const std::string res = RawExchange(server_->port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(StatusOf(res), 400) << res;
  EXPECT_EQ(BodyOf(res)["error"]["code"], "INVALID_ARGUMENT") << res;
  auto r = client_->Get("/api/ping");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, MalformedHttpIsAnsweredBeforeTheClose) {
  struct Case {
    const char* name;
    std::string bytes;
    int status;
  };
  // The start of a TLS 1.2 ClientHello record (content type 0x16), as a browser sends to https://.
  std::string tls_hello = {'\x16', '\x03', '\x01', '\x00', '\xa5', '\x01', '\x00', '\x00', '\xa1', '\x03', '\x03'};
  tls_hello += std::string(32, '\x11');
  const std::vector<Case> cases = {
      {"bad content-length", "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400},
      {"negative content-length", "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: -2\r\n\r\n{}", 400},
      {"duplicate content-length",
       "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400},
      {"broken chunk size",
       "POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400},
      {"chunk without terminator",
       "POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n", 400},
      {"bad version", "GET /api/ping HTTP/1.x\r\nHost: x\r\n\r\n", 400},
      {"NUL in method", std::string("GE\0T /api/ping HTTP/1.1\r\nHost: x\r\n\r\n", 34), 400},
      {"bad header syntax", "GET /api/ping HTTP/1.1\r\nHost x\r\nBad Header: y\r\n\r\n", 400},
      {"space before colon", "GET /api/ping HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"truncated request", "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}", 400},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
      {"HTTP/3.0 request", "GET /api/ping HTTP/3.0\r\nHost: x\r\n\r\n", 505},
      {"TLS ClientHello", tls_hello, 400},
  };
  for (const Case& c : cases) {
    const std::string res = RawExchange(server_->port(), c.bytes);
    EXPECT_EQ(StatusOf(res), c.status) << c.name << ": " << res;
    const Json body = BodyOf(res);
    EXPECT_TRUE(body.contains("error") && body["error"].contains("code") && body["error"].contains("message"))
        << c.name << ": " << res;
    EXPECT_NE(res.find("Connection: close"), std::string::npos) << c.name;
  }
  auto r = client_->Get("/api/ping");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, DeeplyNestedBodyIs400) {
  // ~420 KB of '[' in a 1 KB-limited server is a 413; raise the limit for this server.
  Router router;
  router.Post("/api/echo", [](const HttpRequest& r) -> Result<Json> {
    auto j = r.JsonBody();
    if (!j.ok()) return j.status();
    Json copy = *j;  // a recursive copy: what overflowed the stack before the depth limit
    return copy;
  });
  ServerOptions options;
  options.port = 0;
  options.access_log = false;
  HttpServer server(options, router, nullptr);
  ASSERT_TRUE(server.Listen().ok());
  std::thread t([&] { server.Run(); });
  auto client = std::move(HttpClient::Create("http://127.0.0.1:" + std::to_string(server.port())).value());
  const std::string body = "{\"params\":" + std::string(70000, '[') + std::string(70000, ']') + "}";
  auto r = client->Request("POST", "/api/echo", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"]["code"], "INVALID_ARGUMENT");
  auto ok = client->Request("POST", "/api/echo", R"({"a":[[[1]]]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  server.Stop();
  t.join();
}

TEST_F(ServerTest, ConnectionsBeyondTheCapGet503) {
  Router router;
  router.Get("/api/ping", [](const HttpRequest&) -> Result<Json> { return Json{{"pong", true}}; });
  ServerOptions options;
  options.port = 0;
  options.access_log = false;
  options.max_connections = 3;
  HttpServer server(options, router, nullptr);
  ASSERT_TRUE(server.Listen().ok());
  std::thread t([&] { server.Run(); });
  namespace asio = boost::asio;
  asio::io_context ioc;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<asio::ip::tcp::socket>(ioc));
    idle.back()->connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())});
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // all three accepted
  const std::string res = RawExchange(server.port(), "GET /api/ping HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(res), 503) << res;
  EXPECT_EQ(BodyOf(res)["error"]["code"], "UNAVAILABLE") << res;
  idle.clear();  // closing them frees the slots
  std::string again;
  for (int i = 0; i < 50 && StatusOf(again) != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    again = RawExchange(server.port(), "GET /api/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }
  EXPECT_EQ(StatusOf(again), 200) << again;
  server.Stop();
  t.join();
}

// The heap's free memory goes back to the OS once per quiet spell (ServerOptions::idle_trim_ms):
// not while requests keep coming, once after they stop, not again until new ones came.
TEST(ServerIdleTrimTest, TrimsOncePerQuietSpellAfterRequests) {
  Router router;
  router.Get("/api/ping", [](const HttpRequest&) -> Result<Json> { return Json{{"pong", true}}; });
  ServerOptions options;
  options.port = 0;
  options.access_log = false;
  options.idle_trim_ms = 150;
  Metrics metrics;
  HttpServer server(options, router, &metrics);
  ASSERT_TRUE(server.Listen().ok());
  std::thread t([&] { server.Run(); });
  auto client = std::move(HttpClient::Create("http://127.0.0.1:" + std::to_string(server.port())).value());
  const auto trims = [&] { return metrics.CounterValue("alphalab_http_idle_heap_trims_total"); };
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(trims(), 0) << "no request yet: nothing to give back";
  const auto busy_until = std::chrono::steady_clock::now() + 600ms;
  while (std::chrono::steady_clock::now() < busy_until) {  // a request every 50 ms: never idle
    ASSERT_EQ(client->Get("/api/ping")->status, 200);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(trims(), 0) << "trimmed while requests kept coming";
  for (int i = 0; i < 100 && trims() < 1; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(trims(), 1) << "no trim within 2 s of the last request";
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(trims(), 1) << "trimmed again without new requests";
  ASSERT_EQ(client->Get("/api/ping")->status, 200);
  for (int i = 0; i < 100 && trims() < 2; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(trims(), 2) << "no trim after the next quiet spell";
  server.Stop();
  t.join();
}

TEST_F(ServerTest, InlineRoutesAnswerWhileTheHandlerPoolIsBusy) {
  Router router;
  std::atomic<bool> release{false};
  router.Get("/api/slow", [&](const HttpRequest&) -> Result<Json> {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return Json{{"slow", true}};
  });
  router.Get("/api/health", [](const HttpRequest&) -> Result<Json> { return Json{{"status", "ok"}}; });
  router.Get("/api/other", [](const HttpRequest&) -> Result<Json> { return Json{{"other", true}}; });
  router.SetInline("/api/health");
  ServerOptions options;
  options.port = 0;
  options.access_log = false;
  options.io_threads = 1;       // a handler on the I/O thread would block everything
  options.handler_threads = 2;
  HttpServer server(options, router, nullptr);
  ASSERT_TRUE(server.Listen().ok());
  std::thread t([&] { server.Run(); });
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  std::vector<std::thread> slow;
  for (int i = 0; i < 2; ++i) {
    slow.emplace_back([&] {
      auto c = std::move(HttpClient::Create(url).value());
      auto r = c->Get("/api/slow");
      EXPECT_TRUE(r.ok() && r->status == 200);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // both pool threads blocked
  auto client = std::move(HttpClient::Create(url, std::chrono::seconds(5)).value());
  std::vector<int64_t> ms;
  for (int i = 0; i < 20; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = client->Get("/api/health");  // on the I/O thread this would wait for `release`
    ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
  }
  std::sort(ms.begin(), ms.end());
  EXPECT_LT(ms[ms.size() / 2], 50);  // median; a busy machine may delay a single one
  EXPECT_LT(ms.back(), 2000);
  release = true;
  for (auto& th : slow) th.join();
  auto other = client->Get("/api/other");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->status, 200);
  server.Stop();
  t.join();
}

// A blocking read that waits longer than 20 s fails instead of hanging the test.
void SetReadTimeout(boost::asio::ip::tcp::socket& sock) {
  timeval tv{20, 0};
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// The woken-stream path (SSE through the log followers registry: the registry's thread wakes
// sessions on the I/O threads) with many streams at once, peers that leave mid-stream and a
// server stopped while streams are open. Built into `sanitize_http_core_test` too, so TSan and
// ASan watch the wake gate, the per-stream queues and the session strands (docs/testing.md).
TEST(ServerStreamTest, WokenLogStreamsDeliverEverythingAndSurvivePeersLeavingAndAStop) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("alphalab_woken_" + std::to_string(::getpid()));
  fs::create_directories(root / "logs");
  const fs::path log = root / "logs" / "j.log";
  std::ofstream(log).close();
  std::atomic<bool> ended{false};
  {
    LogFollowers followers(root, [&](const JobId&) -> Result<FollowedJob> {
      FollowedJob j;
      j.terminal = ended.load();
      j.status = j.terminal ? "SUCCESS" : "RUNNING";
      j.exit_code = j.terminal ? Json(0) : Json();
      return j;
    }, {.interval = 10ms, .max_pending_bytes = 1 << 20, .slots = 4, .group_size = 8});
    Router router;
    router.GetRaw("/stream", [&](const HttpRequest&) -> Result<HttpResponse> {
      HttpResponse res;
      res.content_type = "text/event-stream";
      res.stream = followers.Follow(JobId("j"), log, 0);
      return res;
    });
    ServerOptions options;
    options.port = 0;
    options.access_log = false;
    options.io_threads = 2;
    options.handler_threads = 2;
    HttpServer server(options, router, nullptr);
    ASSERT_TRUE(server.Listen().ok());
    std::thread run([&] { server.Run(); });

    constexpr int kStreams = 24;
    constexpr int kLines = 40;
    std::string expected;
    for (int k = 0; k < kLines; ++k) expected += "line " + std::to_string(k) + "\n";
    // The `content` of every `log` event in `events`.
    const auto contents = [](const std::string& events) {
      std::string out;
      size_t pos = 0;
      while ((pos = events.find("event: log\ndata: ", pos)) != std::string::npos) {
        pos += 17;
        const size_t end = events.find('\n', pos);
        if (end == std::string::npos) break;
        out += Json::parse(events.substr(pos, end - pos))["content"].get<std::string>();
      }
      return out;
    };
    std::vector<std::string> got(kStreams);
    std::vector<std::thread> readers;
    for (int i = 0; i < kStreams; ++i) {
      readers.emplace_back([&, i] {
        boost::asio::io_context io;
        boost::asio::ip::tcp::socket sock(io);
        boost::system::error_code ec;
        sock.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())}, ec);
        ASSERT_FALSE(ec) << ec.message();
        SetReadTimeout(sock);
        const std::string req = "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        boost::asio::write(sock, boost::asio::buffer(req), ec);
        const bool leaves_early = i % 3 == 0;  // a third of the peers go away mid-stream
        char buf[4096];
        for (;;) {
          const size_t n = sock.read_some(boost::asio::buffer(buf), ec);
          if (ec) break;
          got[i].append(buf, n);
          const std::string c = contents(got[i]);
          if (leaves_early && c.size() >= expected.size() / 2) break;
          if (!leaves_early && c == expected) break;
        }
        sock.close(ec);
      });
    }
    for (int k = 0; k < kLines; ++k) {
      std::ofstream(log, std::ios::app) << "line " << k << "\n";
      std::this_thread::sleep_for(2ms);
    }
    for (auto& r : readers) r.join();
    for (int i = 0; i < kStreams; ++i) {
      const std::string c = contents(got[i]);
      if (i % 3 == 0) {
        EXPECT_EQ(c, expected.substr(0, c.size())) << "stream " << i;
      } else {
        EXPECT_EQ(c, expected) << "stream " << i;
      }
    }
    // Streams still open when the server stops: 8 more followers, then Stop() under them.
    std::vector<std::thread> open;
    std::atomic<int> closed{0};
    for (int i = 0; i < 8; ++i) {
      open.emplace_back([&] {
        boost::asio::io_context io;
        boost::asio::ip::tcp::socket sock(io);
        boost::system::error_code ec;
        sock.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())}, ec);
        if (ec) return;
        SetReadTimeout(sock);
        const std::string req = "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        boost::asio::write(sock, boost::asio::buffer(req), ec);
        char buf[4096];
        while (!ec) sock.read_some(boost::asio::buffer(buf), ec);
        if (ec == boost::asio::error::eof) ++closed;  // not a read timeout
      });
    }
    std::this_thread::sleep_for(100ms);
    for (int k = 0; k < 20; ++k) std::ofstream(log, std::ios::app) << "more " << k << "\n";
    server.Stop();
    run.join();
    for (auto& t : open) t.join();
    EXPECT_EQ(closed.load(), 8) << "every open stream ends when the server stops";
  }
  std::error_code ec;
  fs::remove_all(root, ec);
}

TEST(ApiErrorTest, EnvelopeNeverCarriesAbsolutePaths) {
  SetEnvelopePathRoots({"/srv/alphalab-ws-test"});
  const Status s = Status::NotFound("cannot read /srv/alphalab-ws-test/runs/r1/config.yaml: no such file",
                                    Json{{"path", "/srv/alphalab-ws-test/runs/r1"}, {"other", "/etc/passwd"},
                                         {"list", Json::array({"/home/u/.ssh/id_rsa", "/api/jobs/x"})}});
  const Json e = ErrorEnvelope(s)["error"];
  EXPECT_EQ(e["message"], "cannot read runs/r1/config.yaml: no such file");
  EXPECT_EQ(e["details"]["path"], "runs/r1");
  EXPECT_EQ(e["details"]["other"], "<path>");
  EXPECT_EQ(e["details"]["list"][0], "<path>");
  EXPECT_EQ(e["details"]["list"][1], "/api/jobs/x");  // URL paths are not file paths
  EXPECT_EQ(RedactPaths("at '/srv/alphalab-ws-test' and /tmp/x/y, see /proc/self/environ"),
            "at '.' and <path>, see <path>");
  EXPECT_EQ(RedactPaths("no route for GET /api/nope"), "no route for GET /api/nope");
  EXPECT_EQ(RedactPaths("a/etc/passwd"), "a/etc/passwd");
}

}  // namespace
}  // namespace alphalab::http

// The Beast server in-process on 127.0.0.1: keep-alive, limits (413), 500 envelope, stop.
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "http/http_client.hpp"
#include "http/server.hpp"
#include "jobs/metrics.hpp"

namespace alphalab::http {
namespace {

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

TEST_F(ServerTest, GarbageRequestClosesTheConnectionWithoutHurtingOthers) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port())});
  asio::write(sock, asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
  boost::system::error_code ec;
  char buf[256];
  sock.read_some(asio::buffer(buf), ec);  // closed (or an error) — either way no crash
  auto r = client_->Get("/api/ping");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace alphalab::http

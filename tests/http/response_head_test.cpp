// ResponseHead (the server's own status line and headers) writes the bytes Beast's serializer
// writes for the same response, for each status, version, keep-alive and header mix the server
// sends; what it cannot write the same way it declines (nullopt), and the server uses Beast.
#include "http/response_head.hpp"

#include <utility>  // before Asio/Beast (GCC 12 + C++20)

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <string>

namespace alphalab::http {
namespace {

namespace bhttp = boost::beast::http;

// The server's Beast path (server.cpp), serialized to a string: headers only.
std::string BeastHead(const HttpResponse& r, unsigned version, bool keep_alive, size_t content_length) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "alphalab");
  res.set(bhttp::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.body() = std::string(content_length, 'x');
  res.prepare_payload();
  bhttp::response_serializer<bhttp::string_body> sr{res};
  sr.split(true);
  std::string out;
  boost::beast::error_code ec;
  while (!sr.is_header_done()) {
    sr.next(ec, [&](boost::beast::error_code&, const auto& buffers) {
      out += boost::beast::buffers_to_string(buffers);
      sr.consume(boost::beast::buffer_bytes(buffers));
    });
    if (ec) return "error: " + ec.message();
  }
  return out;
}

TEST(ResponseHeadTest, SameBytesAsBeast) {
  int cases = 0;
  for (int status : {200, 201, 202, 400, 401, 403, 404, 405, 409, 413, 415, 421, 422, 429, 431, 500, 501, 503, 505, 299, 599}) {
    for (unsigned version : {10u, 11u}) {
      for (bool keep_alive : {true, false}) {
        for (size_t length : {size_t{0}, size_t{1}, size_t{987}, size_t{1234567}}) {
          for (int variant = 0; variant < 3; ++variant) {
            HttpResponse r;
            r.status = status;
            if (variant == 1) {
              r.content_type = "text/plain; charset=utf-8";
              r.headers = {{"Cache-Control", "no-store"}, {"ETag", "\"abc\""}};
            }
            if (variant == 2) {
              r.content_type = "application/octet-stream";
              r.headers = {{"Content-Disposition", "attachment; filename=\"a b.csv\""}, {"x-custom", "1"},
                           {"Location", "/api/jobs/job_1"}, {"Retry-After", "1"}};
            }
            const auto head = ResponseHead(r, version, keep_alive, length);
            ASSERT_TRUE(head.has_value()) << status;
            EXPECT_EQ(*head, BeastHead(r, version, keep_alive, length))
                << status << " HTTP/" << version << " keep_alive " << keep_alive << " variant " << variant;
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 21 * 2 * 2 * 4 * 3);
}

TEST(ResponseHeadTest, DeclinesWhatBeastWritesDifferently) {
  HttpResponse r;
  for (int status : {100, 101, 204, 304}) {
    r.status = status;
    EXPECT_FALSE(ResponseHead(r, 11, true, 0).has_value()) << status;
  }
  r.status = 200;
  EXPECT_FALSE(ResponseHead(r, 20, true, 0).has_value());
  for (const char* name : {"Server", "content-type", "Connection", "Content-Length", "Transfer-Encoding"}) {
    r.headers = {{name, "x"}};
    EXPECT_FALSE(ResponseHead(r, 11, true, 0).has_value()) << name;
  }
  r.headers = {{"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}};  // Beast's set() keeps only the last
  EXPECT_FALSE(ResponseHead(r, 11, true, 0).has_value());
  r.headers = {{"Set-Cookie", "a=1"}};
  EXPECT_TRUE(ResponseHead(r, 11, true, 0).has_value());
}

}  // namespace
}  // namespace alphalab::http

// libFuzzer target: the HTTP request path the server runs on bytes from a socket — Beast's
// request parser with the server's limits, then what the session does with a parsed request:
// percent-decoding the path, the query string, header names, routing, JSON bodies, query
// getters and the error envelope (with its path redaction).
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "http/api_error.hpp"
#include "http/router.hpp"

namespace {

namespace bhttp = boost::beast::http;
using alphalab::Json;
using alphalab::Result;
using alphalab::http::HttpRequest;

const alphalab::http::Router& TheRouter() {
  static const alphalab::http::Router* router = [] {
    auto* r = new alphalab::http::Router();
    r->Get("/api/jobs/{job_id}", [](const HttpRequest& req) -> Result<Json> {
      ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0));
      ASSIGN_OR_RETURN(std::optional<double> x, req.query.GetDouble("x"));
      ASSIGN_OR_RETURN(bool b, req.query.GetBool("b", false));
      return Json{{"id", std::string(req.Param("job_id"))}, {"offset", offset}, {"x", x.value_or(0)}, {"b", b}};
    });
    r->Post("/api/jobs", [](const HttpRequest& req) -> Result<Json> {
      ASSIGN_OR_RETURN(Json body, req.JsonBody());
      RETURN_IF_ERROR(alphalab::CheckKnownKeys(body, {"job_type", "params"}));
      return body;
    });
    alphalab::http::SetEnvelopePathRoots({"/srv/ws"});
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16u << 10);
  parser.body_limit(1u << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t at = 0;
  while (at < size && !parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(data + at, size - at), ec);
    if (ec == bhttp::error::need_more) {
      ec = {};
      break;
    }
    if (ec) return 0;  // the server answers these with a 400 envelope and closes
    at += n;
    if (n == 0) break;
  }
  if (!parser.is_done()) {
    if (!parser.got_some()) return 0;  // the server sees end_of_stream: nothing to answer
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  auto& breq = parser.get();
  HttpRequest req;
  req.method_name = std::string(breq.method_string());
  req.method = breq.method() == bhttp::verb::post ? alphalab::http::HttpMethod::kPost : alphalab::http::HttpMethod::kGet;
  req.target = std::string(breq.target());
  const size_t q = req.target.find('?');
  auto path = alphalab::http::PercentDecode(std::string_view(req.target).substr(0, q), false);
  if (!path.ok()) {
    (void)alphalab::http::ErrorResponse(path.status());
    return 0;
  }
  req.path = *path;
  if (q != std::string::npos) {
    auto query = alphalab::http::QueryParams::Parse(std::string_view(req.target).substr(q + 1));
    if (!query.ok()) {
      (void)alphalab::http::ErrorResponse(query.status());
      return 0;
    }
    req.query = std::move(query).value();
  }
  for (const auto& field : breq) req.headers[std::string(field.name_string())] = std::string(field.value());
  req.body = breq.body();
  (void)TheRouter().IsInline(req);
  (void)TheRouter().Dispatch(req);
  return 0;
}

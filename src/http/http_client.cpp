#include <utility>

#include "http/http_client.hpp"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace alphalab::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string ClientResponse::ErrorMessage() const {
  auto j = ParseJson(body);
  if (j.ok() && j->is_object() && j->contains("error") && (*j)["error"].is_object() &&
      (*j)["error"].contains("message") && (*j)["error"]["message"].is_string()) {
    return (*j)["error"]["message"].get<std::string>();
  }
  return body.substr(0, 500);
}

std::string UserToken() {
  if (const char* env = std::getenv("ALPHALAB_TOKEN"); env && *env) return env;
  std::filesystem::path dir;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    dir = xdg;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = std::filesystem::path(home) / ".config";
  } else {
    return "";
  }
  std::ifstream in(dir / "alphalab" / "token");
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.erase(0, 1);
  return line;
}

struct HttpClient::Impl {
  std::string host;
  std::string port;
  std::string bearer;
  std::chrono::milliseconds timeout{30000};
  asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  Status Connect(std::unique_ptr<beast::tcp_stream>& s) {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(host, port, ec);
    if (ec) return Status::Unavailable("cannot resolve " + host + ": " + ec.message());
    s = std::make_unique<beast::tcp_stream>(ioc);
    s->expires_after(timeout);
    s->connect(results, ec);
    if (ec) {
      s.reset();
      return Status::Unavailable("cannot connect to http://" + host + ":" + port + " (" + ec.message() +
                                 "); is `alphalab serve` running?");
    }
    s->socket().set_option(tcp::no_delay(true), ec);
    return Status::Ok();
  }
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {}
HttpClient::~HttpClient() = default;

const std::string& HttpClient::host() const { return impl_->host; }
const std::string& HttpClient::port() const { return impl_->port; }
void HttpClient::set_bearer_token(std::string token) { impl_->bearer = std::move(token); }

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_url,
                                                       std::chrono::milliseconds timeout) {
  std::string_view rest = base_url;
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return Status::InvalidArgument("only http:// server URLs are supported: " + std::string(base_url));
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("server URL must be http://host:port, got " + std::string(base_url));
  }
  std::unique_ptr<HttpClient> c(new HttpClient());
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    c->impl_->host = std::string(rest);
    c->impl_->port = "80";
  } else {
    c->impl_->host = std::string(rest.substr(0, colon));
    c->impl_->port = std::string(rest.substr(colon + 1));
  }
  if (c->impl_->host.empty()) return Status::InvalidArgument("server URL has no host: " + std::string(base_url));
  c->impl_->timeout = timeout;
  return c;
}

Result<ClientResponse> HttpClient::Request(std::string_view method, std::string_view target,
                                           std::string_view body, std::string_view content_type) {
  Impl& d = *impl_;
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(beast::string_view(method.data(), method.size())), std::string(target), 11};
  req.set(bhttp::field::host, d.host + ":" + d.port);
  req.set(bhttp::field::user_agent, "alphalab-cli");
  if (!d.bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + d.bearer);
  req.keep_alive(true);
  // State-changing requests always say application/json (the server refuses them otherwise).
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE") {
    req.set(bhttp::field::content_type, std::string(content_type));
    req.body() = std::string(body);
  }
  req.prepare_payload();
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !d.stream;
    if (!d.stream) RETURN_IF_ERROR(d.Connect(d.stream));
    beast::error_code ec;
    d.stream->expires_after(d.timeout);
    bhttp::write(*d.stream, req, ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256u << 20);
    if (!ec) bhttp::read(*d.stream, d.buffer, parser, ec);
    if (ec) {
      d.stream.reset();
      d.buffer.clear();
      if (!fresh) continue;  // a kept-alive connection the server had closed: retry once
      return Status::Unavailable("request to http://" + d.host + ":" + d.port + " failed: " + ec.message());
    }
    auto& res = parser.get();
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[bhttp::field::content_type]);
    out.body = std::move(res.body());
    if (!res.keep_alive()) {
      d.stream.reset();
      d.buffer.clear();
    }
    return out;
  }
  return Status::Unavailable("request to http://" + d.host + ":" + d.port + " failed");
}

Result<int> HttpClient::Stream(std::string_view target, const std::function<bool(std::string_view)>& on_data) {
  Impl& d = *impl_;
  std::unique_ptr<beast::tcp_stream> s;
  RETURN_IF_ERROR(d.Connect(s));
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, std::string(target), 11};
  req.set(bhttp::field::host, d.host + ":" + d.port);
  req.set(bhttp::field::accept, "text/event-stream");
  if (!d.bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + d.bearer);
  beast::error_code ec;
  bhttp::write(*s, req, ec);
  if (ec) return Status::Unavailable("stream request failed: " + ec.message());
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  s->expires_never();
  bhttp::read_header(*s, buf, parser, ec);
  if (ec) return Status::Unavailable("stream response failed: " + ec.message());
  const int status = static_cast<int>(parser.get().result_int());
  char chunk[16384];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    bhttp::read(*s, buf, parser, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) break;
    const size_t n = sizeof(chunk) - parser.get().body().size;
    if (n > 0 && !on_data(std::string_view(chunk, n))) break;
  }
  return status;
}

}  // namespace alphalab::http

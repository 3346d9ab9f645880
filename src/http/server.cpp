#include <utility>  // must precede Asio with GCC 12 + C++20 (PLATFORM.md)
// GCC 12 warns inside Asio's coroutine frame allocator (a false positive); keep -Werror usable.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "http/server.hpp"

#include "http/access_log.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "http/api_error.hpp"
#include "jobs/metrics.hpp"

namespace alphalab::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

HttpMethod ToMethod(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return HttpMethod::kGet;
    case bhttp::verb::post: return HttpMethod::kPost;
    case bhttp::verb::put: return HttpMethod::kPut;
    case bhttp::verb::delete_: return HttpMethod::kDelete;
    case bhttp::verb::patch: return HttpMethod::kPatch;
    case bhttp::verb::head: return HttpMethod::kHead;
    case bhttp::verb::options: return HttpMethod::kOptions;
    default: return HttpMethod::kOther;
  }
}

}  // namespace

struct HttpServer::Impl {
  Impl(const ServerOptions& o, const Router& r, Metrics* m)
      : options(o), router(r), metrics(m), ioc(std::max(1, o.io_threads)), acceptor(ioc) {
    if (o.access_log && o.access_log_writer) access_buffer = std::make_unique<AccessLogBuffer>(o.access_log_writer);
  }

  const ServerOptions& options;
  const Router& router;
  Metrics* metrics;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::unique_ptr<asio::signal_set> signals;
  std::atomic<bool> stopping{false};
  std::thread stopper;
  std::atomic<int> active_sessions{0};
  int bound_port = 0;
  std::unique_ptr<AccessLogBuffer> access_buffer;  // when options.access_log_writer is set

  asio::awaitable<void> Accept();
  asio::awaitable<void> Session(beast::tcp_stream stream);
  HttpResponse Handle(bhttp::request<bhttp::string_body>& breq, const std::string& remote);
  void AccessLog(const HttpRequest& req, int status, size_t bytes, double ms);
};

HttpServer::HttpServer(const ServerOptions& options, const Router& router, Metrics* metrics)
    : impl_(std::make_unique<Impl>(options, router, metrics)) {
  if (metrics) {
    metrics->DeclareCounter("alphalab_http_requests_total",
                            "HTTP requests by method, route pattern and status");
    metrics->DeclareHistogram("alphalab_http_request_seconds", "HTTP request handling time",
                              {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5});
  }
}

HttpServer::~HttpServer() {
  Stop();
  if (impl_->stopper.joinable()) impl_->stopper.join();
}

Status HttpServer::Listen() {
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->options.host, ec);
  if (ec) return Status::InvalidArgument("bad host '" + impl_->options.host + "': " + ec.message());
  tcp::endpoint ep(addr, static_cast<unsigned short>(impl_->options.port));
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + impl_->options.host + ":" +
                               std::to_string(impl_->options.port) + ": " + ec.message());
  }
  impl_->bound_port = acc.local_endpoint().port();
  return Status::Ok();
}

int HttpServer::port() const { return impl_->bound_port; }

void HttpServer::Run() {
  asio::co_spawn(impl_->ioc, impl_->Accept(), asio::detached);
  const int n = std::max(1, impl_->options.io_threads);
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void HttpServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    if (impl->signals) impl->signals->cancel(ec);
  });
  // Grace period: let requests in flight finish (streams notice `stopping` and end).
  impl_->stopper = std::thread([impl = impl_.get()] {
    for (int i = 0; i < 40 && impl->active_sessions.load() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    impl->ioc.stop();
  });
}

void HttpServer::StopOnSignals() {
  impl_->signals = std::make_unique<asio::signal_set>(impl_->ioc, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](const beast::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info(R"({{"msg":"signal received, stopping","signal":{}}})", sig);
    Stop();
  });
}

asio::awaitable<void> HttpServer::Impl::Accept() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(asio::make_strand(ioc));
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      spdlog::warn(R"({{"msg":"accept failed","error":{}}})", JsonEscape(ec.message()));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, Session(beast::tcp_stream(std::move(socket))), asio::detached);
  }
}

void HttpServer::Impl::AccessLog(const HttpRequest& req, int status, size_t bytes, double ms) {
  if (metrics) {
    const std::string route(req.route);
    metrics->Increment("alphalab_http_requests_total",
                       {{"method", req.method_name}, {"route", route}, {"status", std::to_string(status)}});
    metrics->Observe("alphalab_http_request_seconds", ms / 1000.0);
  }
  if (!options.access_log) return;
  if (access_buffer) {
    access_buffer->Append(FormatAccessLine(req.method_name, req.target, status, bytes, ms, req.remote));
    return;
  }
  spdlog::info(R"({{"msg":"http","method":"{}","path":{},"status":{},"bytes":{},"ms":{:.3f},"remote":"{}"}})",
               req.method_name, JsonEscape(req.target), status, bytes, ms, req.remote);
}

HttpResponse HttpServer::Impl::Handle(bhttp::request<bhttp::string_body>& breq,
                                      const std::string& remote) {
  HttpRequest req;
  req.method = ToMethod(breq.method());
  req.method_name = std::string(breq.method_string());
  req.target = std::string(breq.target());
  req.remote = remote;
  const size_t q = req.target.find('?');
  auto path = PercentDecode(std::string_view(req.target).substr(0, q), false);
  if (!path.ok()) return ErrorResponse(path.status());
  req.path = std::move(path).value();
  if (req.path.empty() || req.path[0] != '/') {
    return ErrorResponse(Status::InvalidArgument("request target must start with '/'"));
  }
  if (q != std::string::npos) {
    auto query = QueryParams::Parse(std::string_view(req.target).substr(q + 1));
    if (!query.ok()) return ErrorResponse(query.status());
    req.query = std::move(query).value();
  }
  for (const auto& field : breq) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[std::move(name)] = std::string(field.value());
  }
  req.body = std::move(breq.body());
  const auto t0 = std::chrono::steady_clock::now();
  HttpResponse res = router.Dispatch(req);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  AccessLog(req, res.status, res.body.size(), ms);
  return res;
}

asio::awaitable<void> HttpServer::Impl::Session(beast::tcp_stream stream) {
  ++active_sessions;
  struct Guard {
    std::atomic<int>& n;
    ~Guard() { --n; }
  } guard{active_sessions};
  std::string remote;
  {
    beast::error_code ec;
    auto ep = stream.socket().remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  beast::flat_buffer buffer;
  try {
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      stream.expires_after(std::chrono::seconds(options.read_timeout_sec));
      beast::error_code ec;
      co_await bhttp::async_read(stream, buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::connection_reset || ec == asio::error::eof) {
        break;
      }
      if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
        const bool body = ec == bhttp::error::body_limit;
        HttpResponse r = ErrorResponse(
            Status::ResourceExhausted(body ? "request body larger than " +
                                                 std::to_string(options.max_body_bytes) + " bytes"
                                           : "request headers too large"),
            body ? 413 : 431);
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
        res.set(bhttp::field::content_type, r.content_type);
        res.keep_alive(false);
        res.body() = std::move(r.body);
        res.prepare_payload();
        stream.expires_after(std::chrono::seconds(10));
        co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      if (ec) break;  // malformed request or socket error: drop the connection

      auto& breq = parser.get();
      const bool keep_alive = breq.keep_alive() && !stopping;
      const unsigned version = breq.version();
      const bool head = breq.method() == bhttp::verb::head;
      HttpResponse r = Handle(breq, remote);

      if (r.stream) {
        // Streamed body (SSE): headers, then chunks until the source is done; then close.
        bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(r.status), version};
        res.set(bhttp::field::content_type, r.content_type);
        res.set(bhttp::field::cache_control, "no-cache");
        for (const auto& [k, v] : r.headers) res.set(k, v);
        res.keep_alive(false);
        bhttp::response_serializer<bhttp::empty_body> sr{res};
        stream.expires_after(std::chrono::seconds(30));
        co_await bhttp::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        if (!r.body.empty()) {
          co_await asio::async_write(stream, asio::buffer(r.body),
                                     asio::redirect_error(asio::use_awaitable, ec));
        }
        asio::steady_timer timer(stream.get_executor());
        while (!ec && !stopping) {
          auto chunk = r.stream->Next();
          if (!chunk.ok()) break;
          if (!chunk->data.empty()) {
            stream.expires_after(std::chrono::seconds(30));
            co_await asio::async_write(stream, asio::buffer(chunk->data),
                                       asio::redirect_error(asio::use_awaitable, ec));
          }
          if (chunk->done) break;
          if (chunk->wait.count() > 0) {
            timer.expires_after(chunk->wait);
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          }
        }
        break;
      }

      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
      res.set(bhttp::field::server, "alphalab");
      res.set(bhttp::field::content_type, r.content_type);
      for (const auto& [k, v] : r.headers) res.set(k, v);
      res.keep_alive(keep_alive);
      const size_t body_size = r.body.size();
      res.body() = std::move(r.body);
      res.prepare_payload();
      if (head) {
        res.body().clear();
        res.content_length(body_size);
      }
      stream.expires_after(std::chrono::seconds(30));
      co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep_alive) break;
    }
  } catch (const std::exception& e) {
    // One catch per session: log it; the connection is dropped (the router already turns
    // handler exceptions into 500 envelopes, so this is I/O-level trouble).
    spdlog::error(R"({{"msg":"session error","remote":"{}","what":{}}})", remote, JsonEscape(e.what()));
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  co_return;
}

}  // namespace alphalab::http

#include <utility>  // must precede Asio with GCC 12 + C++20 ('exchange' is not a member of 'std' otherwise)
// GCC 12 warns inside Asio's coroutine frame allocator (a false positive); keep -Werror usable.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "http/server.hpp"

#include "http/access_log.hpp"
#include "http/response_head.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "core/release_memory.hpp"
#include "http/api_error.hpp"
#include "jobs/metrics.hpp"

namespace alphalab::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// Sends as much of `buffers` as the kernel takes right now, without waiting and without the
// stream's timer and reactor (a response to a client that reads its socket: all of it, almost
// always). Returns the bytes sent; sets `ec` on a hard error (peer gone). EAGAIN is 0 bytes, not
// an error: the caller sends the rest asynchronously, under the write timeout.
size_t SendNow(int fd, const std::array<asio::const_buffer, 2>& buffers, beast::error_code& ec) {
  std::array<iovec, 2> iov{};
  size_t n = 0;
  for (const asio::const_buffer& b : buffers) {
    if (b.size() == 0) continue;
    iov[n].iov_base = const_cast<void*>(b.data());
    iov[n].iov_len = b.size();
    ++n;
  }
  if (n == 0) return 0;
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = n;
  for (;;) {
    const ssize_t sent = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<size_t>(sent);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec = beast::error_code(errno, boost::system::system_category());
    return 0;
  }
}


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

// The status and message a request that Beast could not parse gets before the connection is
// closed; nullopt for a peer that went away or timed out (nothing to answer).
struct ParseFailure {
  int http_status;
  std::string message;
};
std::optional<ParseFailure> ClassifyReadError(const beast::error_code& ec, size_t max_body) {
  if (ec == bhttp::error::body_limit) {
    return ParseFailure{413, "request body larger than " + std::to_string(max_body) + " bytes"};
  }
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return ParseFailure{431, "request headers too large"};
  }
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return std::nullopt;  // socket errors, timeouts: the peer is gone or silent
  }
  if (ec == bhttp::error::end_of_stream) return std::nullopt;
  if (ec == bhttp::error::partial_message) {
    return ParseFailure{400, "malformed HTTP request: the connection ended inside the request"};
  }
  const char* what = "malformed HTTP request";
  if (ec == bhttp::error::bad_method) what = "malformed HTTP request: bad method";
  else if (ec == bhttp::error::bad_target) what = "malformed HTTP request: bad request target";
  else if (ec == bhttp::error::bad_version) what = "malformed HTTP request: bad HTTP version";
  else if (ec == bhttp::error::bad_field) what = "malformed HTTP request: bad header name";
  else if (ec == bhttp::error::bad_value) what = "malformed HTTP request: bad header value";
  else if (ec == bhttp::error::bad_line_ending) what = "malformed HTTP request: bad line ending";
  else if (ec == bhttp::error::bad_content_length) {
    what = "malformed HTTP request: bad or repeated Content-Length";
  } else if (ec == bhttp::error::bad_transfer_encoding) {
    what = "malformed HTTP request: bad Transfer-Encoding";
  } else if (ec == bhttp::error::bad_chunk || ec == bhttp::error::bad_chunk_extension) {
    what = "malformed HTTP request: broken chunked body";
  } else if (ec == bhttp::error::bad_obs_fold) {
    what = "malformed HTTP request: folded header line";
  }
  return ParseFailure{400, what};
}

// A request line starts with a method token (RFC 9110 tchar); anything else is not HTTP/1.x.
bool IsMethodStart(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
    case '\r': case '\n':  // empty lines before a request line are tolerated (RFC 9112 2.2)
      return true;
    default:
      return false;
  }
}

// True when the request line in `buffer` ends in a well-formed "HTTP/<d>.<d>" other than 1.x
// (Beast accepts only HTTP/1.x and reports the rest as bad_version): "PRI * HTTP/2.0" is the
// HTTP/2 preface.
bool IsOtherHttpVersion(const beast::flat_buffer& buffer) {
  const std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
  const size_t eol = data.find("\r\n");
  if (eol == std::string_view::npos || eol < 8) return false;
  const std::string_view version = data.substr(eol - 8, 8);
  return version.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(version[5])) &&
         version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7])) && version[5] != '1' &&
         (eol == 8 || data[eol - 9] == ' ');
}

// What a connection over the limit gets (written without a session).
const std::string& OverloadedResponse() {
  static const std::string text = [] {
    const std::string body = DumpJson(ErrorEnvelope(
        Status::Unavailable("server is at its connection limit; retry shortly")));
    return "HTTP/1.1 503 Service Unavailable\r\nServer: alphalab\r\nContent-Type: application/json\r\n"
           "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return text;
}

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force.
rlim_t RaiseFdLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      spdlog::info(R"({{"msg":"raised open file limit","from":{},"to":{}}})",
                   static_cast<uint64_t>(lim.rlim_cur), static_cast<uint64_t>(raised.rlim_cur));
      lim = raised;
    }
  }
  return lim.rlim_cur;
}

// Writes an error response (Connection: close); the caller closes the connection.
asio::awaitable<void> WriteErrorAndClose(beast::tcp_stream& stream, HttpResponse r) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
  res.set(bhttp::field::server, "alphalab");
  res.set(bhttp::field::content_type, r.content_type);
  res.keep_alive(false);
  res.body() = std::move(r.body);
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(10));
  beast::error_code ec;
  co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

struct HttpServer::Impl {
  Impl(const ServerOptions& o, const Router& r, Metrics* m)
      : options(o), router(r), metrics(m), ioc(1), acceptor(ioc),
        handlers(static_cast<size_t>(std::max(1, o.handler_threads))),
        max_connections(o.max_connections > 0 ? o.max_connections : 1024) {
    if (o.access_log && o.access_log_writer) access_buffer = std::make_unique<AccessLogBuffer>(o.access_log_writer);
    for (int i = 1; i < std::max(1, o.io_threads); ++i) {
      auto& c = io_contexts.emplace_back(std::make_unique<asio::io_context>(1));
      io_guards.emplace_back(c->get_executor());
    }
  }
  ~Impl() {
    // No stream may post to the io_context once it is being destroyed (the log followers'
    // thread may still be waking streams whose sessions are gone).
    {
      std::lock_guard lock(wake_gate->mu);
      wake_gate->open = false;
    }
    if (spare_fd >= 0) ::close(spare_fd);
  }

  const ServerOptions& options;
  const Router& router;
  Metrics* metrics;
  // One io_context per I/O thread, each run by its thread alone (concurrency hint 1): a
  // connection lives on one thread for its whole life, so its handlers need no strand, and
  // readiness on one thread never wakes another (one shared context woke the other thread
  // through its eventfd and their scheduler mutex for nearly every request). `ioc` (thread 0)
  // also accepts, and hands the connections out in turn (NextContext).
  asio::io_context ioc;
  std::vector<std::unique_ptr<asio::io_context>> io_contexts;  // threads 1..io_threads-1
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> io_guards;  // run() until Stop
  size_t next_context = 0;  // Accept() only
  asio::io_context& NextContext() {
    const size_t i = next_context++ % (io_contexts.size() + 1);
    return i == 0 ? ioc : *io_contexts[i - 1];
  }
  void StopContexts() {
    ioc.stop();
    for (auto& c : io_contexts) c->stop();
  }
  tcp::acceptor acceptor;
  std::unique_ptr<asio::signal_set> signals;
  std::atomic<bool> stopping{false};
  std::thread stopper;
  std::atomic<int> active_sessions{0};
  std::atomic<uint64_t> requests_started{0};  // read by TrimWhenIdle()
  int bound_port = 0;
  std::unique_ptr<AccessLogBuffer> access_buffer;  // when options.access_log_writer is set
  asio::thread_pool handlers;  // blocking handler work runs here, never on the I/O threads
  int max_connections;         // options.max_connections, or (0) derived from the fd limit in Listen()
  int spare_fd = -1;           // released to accept-and-refuse when the process is out of fds
  // Woken streams (BodyStream::SetWake) post to a session's context only while this is open.
  struct WakeGate {
    std::mutex mu;
    bool open = true;
  };
  std::shared_ptr<WakeGate> wake_gate = std::make_shared<WakeGate>();
  // Accept errors: logged at most once per 10 s with the number suppressed in between.
  std::chrono::steady_clock::time_point last_accept_log{};
  uint64_t accept_errors_unlogged = 0;

  asio::awaitable<void> Accept();
  asio::awaitable<void> Session(beast::tcp_stream stream);
  asio::awaitable<void> Refuse(tcp::socket socket);
  // Gives the heap's free memory back (ReleaseFreeHeapMemory) once no request has started for
  // options.idle_trim_ms after some did: once per quiet spell, off the I/O threads.
  asio::awaitable<void> TrimWhenIdle();
  // A timer due every second on each context until the server stops. The reactor reprograms
  // its kernel timer (timerfd_settime) whenever its earliest deadline changes; without an
  // earlier one, a connection resetting its own read/write deadline is that earliest deadline
  // at nearly every request (two timerfd_settime per request on a context of its own).
  asio::awaitable<void> Heartbeat();
  // Sends a woken stream (BodyStream::SetWake) until it is done, the peer goes or the server stops.
  asio::awaitable<void> SendWokenStream(beast::tcp_stream& stream, BodyStream& body);
  // Runs fn() on the handler pool and resumes on the caller's executor.
  template <typename Fn>
  asio::awaitable<void> OffIo(Fn fn) {
    if (metrics) metrics->Increment("alphalab_http_handler_pool_tasks_total");
    co_await asio::co_spawn(
        handlers, [&fn]() -> asio::awaitable<void> {
          fn();
          co_return;
        },
        asio::use_awaitable);
  }
  void OnAcceptError(const beast::error_code& ec);
  std::optional<HttpRequest> BuildRequest(bhttp::request<bhttp::string_body>& breq,
                                          const std::string& remote, HttpResponse* error);
  HttpResponse Handle(HttpRequest& req, Router::Match match);
  void AccessLog(const HttpRequest& req, int status, size_t bytes, double ms);
  // alphalab_http_requests_total's series for this request (cached per method, route, status).
  Metrics::SeriesRef RequestCounter(const HttpRequest& req, int status);
  struct CounterKey {
    const char* route;
    size_t route_size;
    HttpMethod method;
    int status;
    bool operator==(const CounterKey&) const = default;
  };
  struct CounterKeyHash {
    size_t operator()(const CounterKey& k) const {
      return std::hash<const void*>()(k.route) ^ (k.route_size * 31) ^ (static_cast<size_t>(k.method) << 20) ^
             (static_cast<size_t>(k.status) << 8);
    }
  };
  std::mutex counters_mu;
  std::unordered_map<CounterKey, Metrics::SeriesRef, CounterKeyHash> counters;
  Metrics::SeriesRef request_seconds;  // alphalab_http_request_seconds (set with metrics)
};

HttpServer::HttpServer(const ServerOptions& options, const Router& router, Metrics* metrics)
    : impl_(std::make_unique<Impl>(options, router, metrics)) {
  if (metrics) {
    metrics->DeclareCounter("alphalab_http_requests_total",
                            "HTTP requests by method, route pattern and status");
    metrics->DeclareHistogram("alphalab_http_request_seconds", "HTTP request handling time",
                              {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5});
    metrics->DeclareCounter("alphalab_http_handler_pool_tasks_total",
                            "units of work run on the handler pool (requests off the I/O threads)");
    impl_->request_seconds = metrics->HistogramSeries("alphalab_http_request_seconds");
    metrics->DeclareCounter("alphalab_http_idle_heap_trims_total",
                            "times the idle server gave the heap's free memory back to the OS");
  }
}

HttpServer::~HttpServer() {
  Stop();
  if (impl_->stopper.joinable()) impl_->stopper.join();
  impl_->handlers.join();
}

Status HttpServer::Listen() {
  // Every connection is a descriptor: use all the process may have, keep headroom for the
  // database, logs and jobs, and refuse connections beyond that instead of failing accept().
  const rlim_t fd_limit = RaiseFdLimit();
  const int64_t usable = static_cast<int64_t>(std::min<rlim_t>(fd_limit, 1u << 30));
  const int64_t fd_cap = std::max<int64_t>(usable / 2, usable - 256);
  if (impl_->options.max_connections <= 0) {
    impl_->max_connections = static_cast<int>(std::clamp<int64_t>(fd_cap, 1, 1 << 20));
  }
  if (impl_->spare_fd < 0) impl_->spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
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
  if (impl_->options.idle_trim_ms > 0) asio::co_spawn(impl_->ioc, impl_->TrimWhenIdle(), asio::detached);
  asio::co_spawn(impl_->ioc, impl_->Heartbeat(), asio::detached);
  for (auto& c : impl_->io_contexts) asio::co_spawn(*c, impl_->Heartbeat(), asio::detached);
  std::vector<std::thread> threads;
  for (auto& c : impl_->io_contexts) threads.emplace_back([ctx = c.get()] { ctx->run(); });
  impl_->ioc.run();
  impl_->StopContexts();  // the accepting context stopped: so do the others
  for (auto& t : threads) t.join();
  // Handlers still running finish; their sessions are gone with the stopped io_context.
  impl_->handlers.join();
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
    impl->StopContexts();
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

void HttpServer::Impl::OnAcceptError(const beast::error_code& ec) {
  ++accept_errors_unlogged;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_accept_log < std::chrono::seconds(10)) return;
  spdlog::warn(R"({{"msg":"accept failed","error":{},"count":{},"active_connections":{}}})",
               JsonEscape(ec.message()), accept_errors_unlogged, active_sessions.load());
  accept_errors_unlogged = 0;
  last_accept_log = now;
}

asio::awaitable<void> HttpServer::Impl::Accept() {
  asio::steady_timer backoff(ioc);
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(NextContext());
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      OnAcceptError(ec);
      const bool out_of_fds = ec == asio::error::no_descriptors || ec.value() == ENFILE;
      if (out_of_fds && spare_fd >= 0) {
        // Free one descriptor to take the waiting connection off the queue with a 503, so
        // clients learn the server is full instead of hanging in the backlog.
        ::close(spare_fd);
        spare_fd = -1;
        const int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
          const std::string& text = OverloadedResponse();
          [[maybe_unused]] const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          ::close(fd);
        }
        spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      }
      // Back off: retrying at once would spin on a condition that lasts until connections close.
      backoff.expires_after(std::chrono::milliseconds(out_of_fds ? 100 : 50));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping) co_return;
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    if (active_sessions.load() >= max_connections) {
      asio::co_spawn(ex, Refuse(std::move(socket)), asio::detached);
      continue;
    }
    ++active_sessions;  // counted here so a burst of accepts cannot overshoot the cap
    asio::co_spawn(ex, Session(beast::tcp_stream(std::move(socket))), asio::detached);
  }
}

asio::awaitable<void> HttpServer::Impl::TrimWhenIdle() {
  const auto idle = std::chrono::milliseconds(options.idle_trim_ms);
  const auto tick = std::min<std::chrono::milliseconds>(idle, std::chrono::seconds(1));
  asio::steady_timer timer(ioc);
  uint64_t seen = requests_started.load(std::memory_order_relaxed);
  bool pending = false;  // requests since the last trim
  auto quiet_since = std::chrono::steady_clock::now();
  while (!stopping) {
    beast::error_code ec;
    timer.expires_after(tick);
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping) co_return;
    const uint64_t now_seen = requests_started.load(std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (now_seen != seen) {
      seen = now_seen;
      pending = true;
      quiet_since = now;
    } else if (pending && now - quiet_since >= idle) {
      pending = false;
      bool released = false;
      co_await OffIo([&released] { released = ReleaseFreeHeapMemory(); });
      spdlog::debug(R"({{"msg":"idle heap trim","released":{}}})", released);
      if (metrics) metrics->Increment("alphalab_http_idle_heap_trims_total");
    }
  }
}

asio::awaitable<void> HttpServer::Impl::Heartbeat() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping) {
    beast::error_code ec;
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> HttpServer::Impl::Refuse(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(2));
  beast::error_code ec;
  co_await asio::async_write(stream, asio::buffer(OverloadedResponse()),
                             asio::redirect_error(asio::use_awaitable, ec));
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

asio::awaitable<void> HttpServer::Impl::SendWokenStream(beast::tcp_stream& stream, BodyStream& body) {
  // The timer is the session's wait: the stream's wake cancels it (posted to the session's
  // context, so it cannot race the wait); otherwise it fires every second to notice a stopping
  // server, and after 15 s of silence a keep-alive comment goes out.
  struct Waiter {
    explicit Waiter(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::atomic<bool> woken{false};  // set before the cancel is posted: no wake is lost
  };
  auto ex = stream.get_executor();
  auto waiter = std::make_shared<Waiter>(ex);
  std::weak_ptr<Waiter> weak = waiter;
  body.SetWake([gate = wake_gate, weak] {
    std::lock_guard lock(gate->mu);
    if (!gate->open) return;
    auto w = weak.lock();
    if (!w) return;
    w->woken = true;
    asio::post(w->timer.get_executor(), [weak] {
      if (auto w2 = weak.lock()) w2->timer.cancel();
    });
    w.reset();  // the last reference may go here, while the gate keeps the io_context alive
  });
  struct Unwake {
    BodyStream& body;
    ~Unwake() { body.SetWake(nullptr); }
  } unwake{body};
  beast::error_code ec;
  auto idle_since = std::chrono::steady_clock::now();
  while (!stopping) {
    auto chunk = body.Next();
    if (!chunk.ok()) break;
    if (!chunk->data.empty()) {
      stream.expires_after(std::chrono::seconds(30));
      co_await asio::async_write(stream, asio::buffer(chunk->data), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      idle_since = std::chrono::steady_clock::now();
    }
    if (chunk->done) break;
    if (std::chrono::steady_clock::now() - idle_since >= std::chrono::seconds(15)) {
      static const std::string kKeepAlive = ": keep-alive\n\n";
      stream.expires_after(std::chrono::seconds(30));
      co_await asio::async_write(stream, asio::buffer(kKeepAlive), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      idle_since = std::chrono::steady_clock::now();
    }
    if (waiter->woken.exchange(false)) continue;  // queued while we were writing
    waiter->timer.expires_after(std::chrono::seconds(1));
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    ec = {};  // woken (canceled) or the second passed: look again
  }
}

Metrics::SeriesRef HttpServer::Impl::RequestCounter(const HttpRequest& req, int status) {
  const auto labels = [&] {
    return Metrics::Labels{{"method", req.method_name}, {"route", std::string(req.route)}, {"status", std::to_string(status)}};
  };
  if (req.method == HttpMethod::kOther) return metrics->CounterSeries("alphalab_http_requests_total", labels());
  // A route is a pattern the router owns (or a literal): its address names it.
  const CounterKey key{req.route.data(), req.route.size(), req.method, status};
  std::lock_guard lock(counters_mu);
  auto it = counters.find(key);
  if (it == counters.end()) {
    it = counters.emplace(key, metrics->CounterSeries("alphalab_http_requests_total", labels())).first;
  }
  return it->second;
}

void HttpServer::Impl::AccessLog(const HttpRequest& req, int status, size_t bytes, double ms) {
  if (metrics) {
    // Series found once per (method, route, status): no label text built per request.
    metrics->Increment(RequestCounter(req, status));
    metrics->Observe(request_seconds, ms / 1000.0);
  }
  if (!options.access_log) return;
  if (access_buffer) {
    access_buffer->Append(FormatAccessLine(req.method_name, req.target, status, bytes, ms, req.remote));
    return;
  }
  spdlog::info(R"({{"msg":"http","method":"{}","path":{},"status":{},"bytes":{},"ms":{:.3f},"remote":"{}"}})",
               req.method_name, JsonEscape(req.target), status, bytes, ms, req.remote);
}

std::optional<HttpRequest> HttpServer::Impl::BuildRequest(bhttp::request<bhttp::string_body>& breq,
                                                          const std::string& remote, HttpResponse* error) {
  HttpRequest req;
  req.method = ToMethod(breq.method());
  req.method_name = std::string(breq.method_string());
  req.target = std::string(breq.target());
  req.remote = remote;
  const size_t q = req.target.find('?');
  auto path = PercentDecode(std::string_view(req.target).substr(0, q), false);
  if (!path.ok()) {
    *error = ErrorResponse(path.status());
    return std::nullopt;
  }
  req.path = std::move(path).value();
  if (req.path.empty() || req.path[0] != '/') {
    *error = ErrorResponse(Status::InvalidArgument("request target must start with '/'"));
    return std::nullopt;
  }
  if (q != std::string::npos) {
    auto query = QueryParams::Parse(std::string_view(req.target).substr(q + 1));
    if (!query.ok()) {
      *error = ErrorResponse(query.status());
      return std::nullopt;
    }
    req.query = std::move(query).value();
  }
  for (const auto& field : breq) {
    std::string name(field.name_string());
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // ASCII: header names are tokens
    }
    req.headers[std::move(name)] = std::string(field.value());
  }
  req.body = std::move(breq.body());
  return req;
}

HttpResponse HttpServer::Impl::Handle(HttpRequest& req, Router::Match match) {
  requests_started.fetch_add(1, std::memory_order_relaxed);
  const auto t0 = std::chrono::steady_clock::now();
  HttpResponse res = router.Dispatch(req, std::move(match));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  AccessLog(req, res.status, res.body.size(), ms);
  return res;
}

asio::awaitable<void> HttpServer::Impl::Session(beast::tcp_stream stream) {
  // active_sessions was incremented by Accept().
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
  bool first_request = true;
  try {
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      stream.expires_after(std::chrono::seconds(options.read_timeout_sec));
      beast::error_code ec;
      if (first_request && buffer.size() == 0) {
        first_request = false;
        // The first bytes on a connection decide early whether it is HTTP at all: a TLS
        // ClientHello or another binary protocol would otherwise wait for a header end that
        // never comes and be closed silently at the read timeout.
        const size_t n = co_await stream.async_read_some(
            buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
        buffer.commit(n);
        if (ec && n == 0) break;
        const auto first = static_cast<unsigned char>(*static_cast<const char*>(buffer.data().data()));
        if (!IsMethodStart(first)) {
          co_await WriteErrorAndClose(
              stream, ErrorResponse(Status::InvalidArgument(
                                        first == 0x16 ? "this port speaks plain HTTP/1.1, not TLS"
                                                      : "malformed HTTP request: not an HTTP/1.1 request line"),
                                    400));
          break;
        }
        ec = {};
      }
      co_await bhttp::async_read(stream, buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        // Anything Beast refuses to parse gets a 4xx envelope before the close (a peer that
        // went away or timed out gets nothing: there is no one to answer).
        auto failure = ClassifyReadError(ec, options.max_body_bytes);
        if (!failure) break;
        if (ec == bhttp::error::bad_version && IsOtherHttpVersion(buffer)) {
          failure = ParseFailure{505, "HTTP version not supported (use HTTP/1.1)"};
        }
        const Status status = failure->http_status == 400
                                  ? Status::InvalidArgument(failure->message)
                                  : Status::ResourceExhausted(failure->message);
        co_await WriteErrorAndClose(stream, ErrorResponse(status, failure->http_status));
        break;
      }

      auto& breq = parser.get();
      if (breq.version() != 10 && breq.version() != 11) {
        co_await WriteErrorAndClose(
            stream, ErrorResponse(Status::InvalidArgument("HTTP version not supported (use HTTP/1.1)"), 505));
        break;
      }
      const bool keep_alive = breq.keep_alive() && !stopping;
      const unsigned version = breq.version();
      const bool head = breq.method() == bhttp::verb::head;
      HttpResponse r;
      std::optional<HttpRequest> req = BuildRequest(breq, remote, &r);
      if (req) {
        Router::Match match = router.Resolve(*req);  // once: where it runs, then what runs
        if (match.inline_io()) {
          r = Handle(*req, std::move(match));
        } else {
          co_await OffIo([&] { r = Handle(*req, std::move(match)); });
        }
      }

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
        if (r.stream->SetWake(nullptr)) {
          co_await SendWokenStream(stream, *r.stream);
          break;
        }
        asio::steady_timer timer(stream.get_executor());
        while (!ec && !stopping) {
          std::optional<Result<StreamChunk>> next;
          co_await OffIo([&] { next.emplace(r.stream->Next()); });
          auto& chunk = *next;
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

      if (std::optional<std::string> text = ResponseHead(r, version, keep_alive, r.body.size())) {
        // The common case: the head written by hand and sent with the body in one gather write,
        // straight to the socket; only what the kernel did not take at once (a client that does
        // not read, a large body) goes through the stream, under the write timeout.
        const std::array<asio::const_buffer, 2> buffers{asio::buffer(*text),
                                                        asio::buffer(r.body.data(), head ? 0 : r.body.size())};
        const size_t total = buffers[0].size() + buffers[1].size();
        const size_t sent = SendNow(stream.socket().native_handle(), buffers, ec);
        if (!ec && sent < total) {
          beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(buffers);
          rest.consume(sent);
          stream.expires_after(std::chrono::seconds(30));
          co_await asio::async_write(stream, rest, asio::redirect_error(asio::use_awaitable, ec));
        }
        if (ec || !keep_alive) break;
        continue;
      }
      stream.expires_after(std::chrono::seconds(30));
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

// The Boost.Beast HTTP/1.1 server: N io threads on one io_context, one coroutine per
// connection (keep-alive), a timeout on every read, header/body limits (431/413), one catch
// per session turning the unexpected into a logged 500 with the error envelope, JSON access
// logs, graceful Stop(). All routing and logic live in the Router's pure handlers, which run on
// a handler pool (ServerOptions::handler_threads) so blocking work never stalls the I/O
// threads; routes marked Router::SetInline run on the I/O thread.
// Hostile clients: malformed HTTP gets a 400/505 envelope before the close; connections over
// ServerOptions::max_connections get a 503; running out of descriptors backs off (no spin) and
// logs at most once per 10 s; Listen() raises the soft open-file limit to the hard one.
#pragma once

#include <memory>
#include <string>

#include "core/status.hpp"
#include "http/router.hpp"
#include "http/server_options.hpp"

namespace alphalab {
class Metrics;
}

namespace alphalab::http {

class HttpServer {
 public:
  // `router` and `metrics` must outlive the server.
  HttpServer(const ServerOptions& options, const Router& router, Metrics* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (port 0 picks a free port). Unavailable when the port is taken.
  Status Listen();
  int port() const;
  // Serves on options.io_threads threads until Stop(); returns when they have exited.
  void Run();
  // Stops accepting, gives open requests a short grace period, then ends Run(). Thread-safe,
  // callable from a signal handler's asio callback.
  void Stop();
  // Installs SIGINT/SIGTERM handlers (asio signal_set) that call Stop(). Before Run().
  void StopOnSignals();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace alphalab::http

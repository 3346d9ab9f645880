// How the HTTP server listens and limits requests (filled by the composition root from the
// workspace config and the `serve` flags).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace alphalab::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  int io_threads = 2;
  std::string ui_dir;                  // empty = no static files
  size_t max_body_bytes = 8u << 20;    // 413 above this
  size_t max_header_bytes = 16u << 10; // 431/413 above this
  int read_timeout_sec = 30;
  // Connections served at once; further ones are answered 503 and closed. 0 (the default):
  // derived at Listen() from the open-file limit (whose soft value Listen() first raises to the
  // hard one): the limit minus 256 descriptors of headroom, at least half of it.
  int max_connections = 0;
  // Threads that run handlers (database, files) so the I/O threads never block; routes marked
  // Router::SetInline (health, metrics) run on the I/O thread.
  // Once no request has started for this long after some did, the heap's free memory goes
  // back to the OS (core/release_memory.hpp; glibc keeps a burst's freed memory otherwise).
  // 0: never.
  int idle_trim_ms = 2000;
  int handler_threads = 8;           // every read on a connection (keep-alive idle too)
  bool access_log = true;              // structured JSON access log lines on stderr
  // Where batched access-log lines go, a chunk of whole lines at a time (the server's log sink,
  // set by the wiring). Empty: one spdlog line per request.
  std::function<void(std::string_view chunk)> access_log_writer;
};

}  // namespace alphalab::http

// What route handlers may use: references to the long-lived services of one server.
// Built once in cli/server_wiring.cpp (the only place concrete classes are chosen) and
// passed to every Register*Routes function (see router.hpp / route_modules.hpp).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/workspace.hpp"

namespace alphalab {
class JobService;
class JobCatalog;
class JobStore;
class Metrics;
class SqliteDb;  // store/sqlite/sqlite_db.hpp
// ---- services added by other modules (forward declarations; define them in your module) ----
class RegistryService;  // registry helper: src/registry/
}  // namespace alphalab

namespace alphalab::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  int io_threads = 2;
  std::string db_url;             // "sqlite:/abs/path/alphalab.db" (absolute after wiring)
  std::string ui_dir;             // empty = no static files
  size_t max_body_bytes = 8u << 20;    // 413 above this
  size_t max_header_bytes = 16u << 10; // 431/413 above this
  int read_timeout_sec = 30;      // every read on a connection (keep-alive idle too)
  // Connections served at once; further ones are answered 503 and closed. 0 (the default):
  // derived at Listen() from the open-file limit (whose soft value Listen() first raises to the
  // hard one): the limit minus 256 descriptors of headroom, at least half of it.
  int max_connections = 0;
  // Threads that run handlers (database, files) so the I/O threads never block; routes marked
  // Router::SetInline (health, metrics) run on the I/O thread.
  int handler_threads = 8;
  bool access_log = true;         // structured JSON access log lines on stderr
  // Where batched access-log lines go, a chunk of whole lines at a time (the server's log sink,
  // set by the wiring). Empty: one spdlog line per request.
  std::function<void(std::string_view chunk)> access_log_writer;
};

struct ServerContext {
  ServerContext(const Workspace& workspace_in, JobService& jobs_in, const JobCatalog& catalog_in,
                JobStore& store_in, const Clock& clock_in, Metrics& metrics_in,
                const ServerOptions& options_in)
      : workspace(workspace_in), jobs(jobs_in), catalog(catalog_in), store(store_in),
        clock(clock_in), metrics(metrics_in), options(options_in), db_url(options_in.db_url) {}

  const Workspace& workspace;
  JobService& jobs;
  const JobCatalog& catalog;
  JobStore& store;
  const Clock& clock;
  Metrics& metrics;
  const ServerOptions& options;
  std::string db_url;  // same as options.db_url
  // The shared SQLite database (WAL) when db_url is sqlite:...; null for other backends.
  // Modules create their own tables in it with db.Migrate("<component>", migrations).
  SqliteDb* sqlite_db = nullptr;

  // ======== services owned by other modules: each module sets its own pointer in its ========
  // ======== Register*Routes function (built lazily there, kept alive by this context)  ========
  std::shared_ptr<RegistryService> registry;  // registry helper (RegisterRegistryRoutes)
  // (add further `std::shared_ptr<XxxService> xxx;` lines here when a module needs one)

  // Called in reverse order when the server stops (before the job service and store go).
  std::vector<std::function<void()>> on_shutdown;
};

}  // namespace alphalab::http

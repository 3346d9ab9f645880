// Server wiring: the one place concrete classes are chosen (SqliteJobStore, LocalExecutor),
// from alphalab.yaml and command-line flags, and the order things start and stop in:
//   workspace -> database -> job store -> executor -> catalog -> job service (Recover)
//   -> router (every registered route module) -> HTTP server
// and in reverse on SIGINT/SIGTERM (running jobs are left running; the next server
// re-attaches them).
#pragma once

#include <optional>
#include <string>

#include "core/status.hpp"

namespace alphalab::cli {

struct ServeFlags {
  std::string workspace = ".";
  std::optional<std::string> host;      // default: alphalab.yaml server.host, else 127.0.0.1
  std::optional<int> port;              // default: alphalab.yaml server.port, else 8000
  std::optional<std::string> db;        // sqlite:PATH (relative to the workspace)
  std::optional<int> slots;             // default: alphalab.yaml executor.slots, 0 = cores
  std::optional<std::string> ui_dir;    // default: $ALPHALAB_UI_DIR, else <source>/ui/dist
  int io_threads = 2;
  int handler_threads = 8;       // handler pool (database, files) off the I/O threads
  int max_connections = 0;       // connections served at once (0: from the fd limit); excess get 503
  bool access_log = true;
};

// Runs the server until SIGINT/SIGTERM. Startup problems come back as a Status.
Status RunServer(const ServeFlags& flags);

// The UI directory the server would use for `flag` (empty = none found).
std::string ChooseUiDir(const std::optional<std::string>& flag);

}  // namespace alphalab::cli

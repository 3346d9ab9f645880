// `alphalab serve`: the HTTP server over a workspace.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "app/composition_root.hpp"

namespace alphalab::cli {
namespace {

void SetupServeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<app::ServeFlags>();
  auto host = std::make_shared<std::string>();
  auto db = std::make_shared<std::string>();
  auto ui = std::make_shared<std::string>();
  auto port = std::make_shared<int>(0);
  auto slots = std::make_shared<int>(0);
  auto* cmd = app.add_subcommand("serve", "Serve the API and web UI over a workspace");
  cmd->add_option("--workspace,-w", flags->workspace, "workspace directory")->capture_default_str();
  auto* host_opt = cmd->add_option("--host", *host, "address to bind (default: alphalab.yaml server.host, else 127.0.0.1)");
  auto* port_opt = cmd->add_option("--port,-p", *port, "port (default: alphalab.yaml server.port, else 8000; 0 = any free)");
  auto* db_opt = cmd->add_option("--db", *db, "database URL, sqlite:PATH (default: alphalab.yaml storage.db, else sqlite:alphalab.db)");
  auto* slots_opt = cmd->add_option("--slots", *slots, "jobs running at once (default: alphalab.yaml executor.slots; 0 = one per core)");
  auto* ui_opt = cmd->add_option("--ui-dir", *ui, "web UI build directory (default: $ALPHALAB_UI_DIR, else the source tree's ui/dist)");
  cmd->add_option("--io-threads", flags->io_threads, "HTTP I/O threads")->capture_default_str();
  cmd->add_option("--handler-threads", flags->handler_threads, "threads running request handlers")
      ->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--max-connections", flags->max_connections,
                  "connections served at once, more are answered 503 (0: from the open-file limit)")
      ->capture_default_str()->check(CLI::Range(0, 1000000));
  cmd->add_flag("--no-fast-path{false}", flags->optimization_fast_path,
                "run every optimization task as a process (default: built-in backtest tasks run in batches "
                "inside the server)");
  cmd->add_flag("--insecure", flags->insecure,
               "allow a non-loopback --host with auth.mode none (anyone who can reach it can run jobs)");
  auto no_access_log = std::make_shared<bool>(false);
  cmd->add_flag("--no-access-log", *no_access_log, "do not log every request");
  cmd->callback([=, &exit_code]() {
    app::ServeFlags f = *flags;
    if (host_opt->count()) f.host = *host;
    if (port_opt->count()) f.port = *port;
    if (db_opt->count()) f.db = *db;
    if (slots_opt->count()) f.slots = *slots;
    if (ui_opt->count()) f.ui_dir = *ui;
    f.access_log = !*no_access_log;
    Status s = app::RunServer(f);
    if (!s.ok()) {
      std::fprintf(stderr, "alphalab serve: %s\n", s.message().c_str());
      exit_code = 1;
    }
  });
}

}  // namespace
ALPHALAB_REGISTER_COMMAND(10, SetupServeCommand);
}  // namespace alphalab::cli

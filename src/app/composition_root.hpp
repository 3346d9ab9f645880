// The composition root: the one place that names concrete classes (SqliteDb, SqliteJobStore,
// SqliteRegistryStore, PgDb and the Postgres*Store classes, LocalExecutor) and builds the object graph of a server from the
// workspace config (config/workspace_config.hpp) and the command-line flags:
//
//   WorkspaceConfig -> Stores (one database: job store + registry store)
//                   -> executor -> job catalog -> JobService (Recover)
//                   -> RegistryService (start-up index when registry.index_on_start,
//                      re-index when a job finishes: a JobService finished listener)
//                   -> OptimizationService (resumes unfinished optimizations; its tasks are
//                      jobs of the JobService, optionally run in batches by a TaskBatchRunner)
//                   -> ConfigService (roots: resolved, must exist; configs: managed files) and
//                      its ToolJobPreparer for job types with `tool:`
//                   -> AuditLog (reports/audit.log) + AuthGate (http/auth.hpp: the router's guard)
//                   -> Router: the route groups of http/routes.hpp in one explicit list
//                   -> HttpServer
//
// and stops it in reverse (running jobs are left running; the next server re-attaches them).
// Everything else sees interfaces (JobStore, RegistryStore, Executor) and is handed what it
// uses; a lint in the test suite (scripts/check-concrete-includes.sh) fails when a file
// outside src/app includes store/sqlite/* or exec/local/*.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/workspace_config.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"

namespace alphalab {
class JobStore;
class OptimizationStore;
class RegistryStore;
class SqliteDb;
class PgDb;
class TokenStore;
class ConfigHistoryStore;
namespace http {
class Router;
}
}  // namespace alphalab

namespace alphalab::app {

struct ServeFlags {
  std::string workspace = ".";
  std::optional<std::string> host;      // default: alphalab.yaml server.host, else 127.0.0.1
  std::optional<int> port;              // default: alphalab.yaml server.port, else 8000
  std::optional<std::string> db;        // a database URL (default: alphalab.yaml storage.db)
  std::optional<int> slots;             // default: alphalab.yaml executor.slots, 0 = cores
  std::optional<std::string> ui_dir;    // default: $ALPHALAB_UI_DIR, else <source>/ui/dist
  int io_threads = 2;
  int handler_threads = 8;       // handler pool (database, files) off the I/O threads
  int max_connections = 0;       // connections served at once (0: from the fd limit); excess get 503
  bool access_log = true;
  // Allows a non-loopback bind with auth.mode none (refused otherwise); the UI then shows a
  // warning on every page.
  bool insecure = false;
  // Built-in backtest tasks of optimizations run in process through the engine's grid mode
  // (docs/optimizations.md, "Fast path"); false: every task is a process (--no-fast-path).
  bool optimization_fast_path = true;
};

// The stores of one database, opened from a parsed URL (migrations applied).
class Stores {
 public:
  static Result<std::unique_ptr<Stores>> Open(const Workspace& ws, const DbUrl& url);
  ~Stores();
  Stores(const Stores&) = delete;
  Stores& operator=(const Stores&) = delete;

  JobStore& jobs() const { return *jobs_; }
  RegistryStore& registry() const { return *registry_; }
  OptimizationStore& optimizations() const { return *optimizations_; }
  TokenStore& tokens() const { return *tokens_; }
  ConfigHistoryStore& config_history() const { return *config_history_; }

 private:
  Stores();
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<PgDb> pg_;  // postgresql:// URLs
  std::unique_ptr<JobStore> jobs_;
  std::unique_ptr<RegistryStore> registry_;
  std::unique_ptr<OptimizationStore> optimizations_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<ConfigHistoryStore> config_history_;
};

// OK unless `host` is not a loopback address while auth is off and `insecure` is false: a
// server anyone on the network can drive needs auth.mode token (or an explicit --insecure).
Status CheckBindIsSafe(const std::string& host, const WorkspaceConfig& config, bool insecure);

// The database URL a command uses: `flag` when given (parsed here), else storage.db.
Result<DbUrl> ChooseDbUrl(const WorkspaceConfig& config, const std::optional<std::string>& flag);

// The UI directory the server would use for `flag` (empty = none found).
std::string ChooseUiDir(const std::optional<std::string>& flag);

// One server's object graph, built and started in dependency order (see the top of this file).
class Server {
 public:
  // `access_log_writer`: where batched access-log lines go (empty = one log line per request).
  static Result<std::unique_ptr<Server>> Build(const Workspace& ws, const WorkspaceConfig& config,
                                               const ServeFlags& flags,
                                               std::function<void(std::string_view)> access_log_writer = {});
  // Stops the job service and the executor, then releases everything in reverse order.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const http::Router& router() const;
  // Binds, prints the address, serves until SIGINT/SIGTERM.
  Status Run();
  // In-process use (`alphalab optimize --local`): binds (port 0 picks a free port) and serves
  // on a background thread, without signal handlers, until Stop() or destruction.
  Status Start();
  // The bound port (after Start or Run has bound).
  int port() const;
  // Ends a Start()ed server: stops accepting, finishes open requests, joins the thread.
  void Stop();

 private:
  struct Parts;
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// `alphalab serve`: structured logging on stderr, the workspace config, Build, Run.
Status RunServer(const ServeFlags& flags);

}  // namespace alphalab::app

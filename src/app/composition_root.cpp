#include <utility>  // before Asio headers (GCC 12 + C++20)

#include "app/composition_root.hpp"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "app/engine_job_check.hpp"
#include "core/audit_log.hpp"
#include "configs/config_service.hpp"
#include "configs/tool_job_preparer.hpp"
#include "core/clock.hpp"
#include "core/roots.hpp"
#include "datasets/dataset_service.hpp"
#include "exec/local/local_executor.hpp"
#include "exec/slurm/slurm_executor.hpp"
#include "http/router.hpp"
#include "http/api_error.hpp"
#include "http/auth.hpp"
#include "http/openapi.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_preparer.hpp"
#include "jobs/job_service.hpp"
#include "jobs/metrics.hpp"
#include "optimize/builtin_backtest_runner.hpp"
#include "optimize/model_axis.hpp"
#include "optimize/optimization_service.hpp"
#include "optimize/task_batch_runner.hpp"
#include "registry/registry_service.hpp"
#include "store/postgres/pg_config_history_store.hpp"
#include "store/postgres/pg_db.hpp"
#include "store/postgres/pg_job_store.hpp"
#include "store/postgres/pg_optimization_store.hpp"
#include "store/postgres/pg_registry_store.hpp"
#include "store/postgres/pg_token_store.hpp"
#include "store/sqlite/sqlite_config_history_store.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_job_store.hpp"
#include "store/sqlite/sqlite_optimization_store.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"
#include "store/sqlite/sqlite_token_store.hpp"

#ifndef ALPHALAB_DEFAULT_UI_DIR
#define ALPHALAB_DEFAULT_UI_DIR ""
#endif

namespace alphalab::app {

namespace fs = std::filesystem;

namespace {

// The server's log on stderr, buffered: lines are collected and written with one write() when
// 32 KB are pending, every second (spdlog::flush_every), at shutdown, and at once from level
// warn up. A write() per access-log line cost more than the rest of logging a request. A
// kill -9 loses at most the last second of info lines. The logger in front of it is
// synchronous: the thread that logs formats its line and appends it here (a write() only
// when 32 KB are pending, as the access log's batches already do). An asynchronous logger
// (spdlog's queue and worker thread) cost every line a wake-up of that thread: about 5 futex
// calls and 3 context switches per trivial job, for the three "job" lines.
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  ~BufferedStderrSink() override { flush_(); }

  // Whole lines formatted elsewhere (the HTTP server's batched access log), newlines included.
  void WriteRaw(std::string_view lines) {
    std::lock_guard<std::mutex> lock(mutex_);
    buffer_.append(lines);
    if (buffer_.size() >= kFlushBytes) flush_();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= kFlushBytes) flush_();
  }
  void flush_() override {
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr closed or full disk: drop rather than block the server
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

 private:
  static constexpr size_t kFlushBytes = 32 * 1024;
  std::string buffer_;
};

fs::path SelfExe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("alphalab") : p;
}

void LogIndexReport(const char* trigger, const registry::IndexReport& report) {
  spdlog::info(R"({{"msg":"registry index","trigger":{},"report":{}}})", Json(trigger).dump(),
               DumpJson(report.ToJson()));
}

// Re-indexes the runs and backtests of jobs that finished (RegistryService::OnJobsFinished;
// the fast path's jobs of a chunk come together, with their summary.json texts, and their
// backtests are indexed in batches from those texts).
void IndexWhenJobsFinish(JobService& jobs, RegistryService& registry) {
  jobs.AddFinishedBatchListener([&registry](std::span<const JobRecord> done, std::span<const KnownResult> known) {
    auto r = registry.OnJobsFinished(done, known);
    const std::string trigger =
        done.size() == 1 ? done.front().job_id.str()
                         : done.front().job_id.str() + " and " + std::to_string(done.size() - 1) + " more jobs";
    if (!r.ok()) {
      spdlog::error(R"({{"msg":"registry index after job failed","job_id":{},"jobs":{},"error":{}}})",
                    Json(done.front().job_id.str()).dump(), done.size(), Json(r.status().ToString()).dump());
    } else if (r->runs_indexed + r->backtests_indexed > 0 || !r->problems.empty()) {
      LogIndexReport(trigger.c_str(), *r);
    }
  });
}

void IndexAtStart(RegistryService& registry) {
  auto report = registry.IndexAll();
  if (report.ok()) {
    LogIndexReport("startup", *report);
  } else {
    spdlog::error(R"({{"msg":"registry startup index failed","error":{}}})", Json(report.status().ToString()).dump());
  }
}

Result<http::ServerOptions> MakeServerOptions(const WorkspaceConfig& config, const ServeFlags& flags,
                                              std::function<void(std::string_view)> access_log_writer) {
  http::ServerOptions options;
  options.host = flags.host.value_or(config.server.host.value_or("127.0.0.1"));
  options.port = flags.port.value_or(config.server.port.value_or(8000));
  if (options.port < 0 || options.port > 65535) return Status::InvalidArgument("--port must be 0..65535");
  options.io_threads = std::max(1, flags.io_threads);
  options.handler_threads = std::max(1, flags.handler_threads);
  options.max_connections = std::max(0, flags.max_connections);
  options.access_log = flags.access_log;
  options.access_log_writer = std::move(access_log_writer);
  options.ui_dir = ChooseUiDir(flags.ui_dir);
  return options;
}

}  // namespace

Stores::Stores() = default;
Stores::~Stores() {
  config_history_.reset();
  optimizations_.reset();
  tokens_.reset();
  registry_.reset();
  jobs_.reset();
  db_.reset();
  pg_.reset();
}

// The claimer name of a server sharing a PostgreSQL database with others: HOST:PORT, stable
// across restarts (a restarted server takes its jobs back); with --port 0 (an ephemeral port)
// HOST:pid-PID, unique among live servers.
namespace {
std::string SharedServerName(const ServeFlags& flags, const WorkspaceConfig& config) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
  const int port = flags.port.value_or(config.server.port.value_or(8000));
  if (port > 0) return std::string(host) + ":" + std::to_string(port);
  return std::string(host) + ":pid-" + std::to_string(::getpid());
}
}  // namespace

Result<std::unique_ptr<Stores>> Stores::Open(const Workspace& ws, const DbUrl& url) {
  std::unique_ptr<Stores> stores(new Stores());
  switch (url.scheme) {
    case DbUrl::Scheme::kSqlite: {
      ASSIGN_OR_RETURN(stores->db_, SqliteDb::Open(url.SqliteFile(ws)));
      ASSIGN_OR_RETURN(stores->jobs_, SqliteJobStore::Open(*stores->db_));
      ASSIGN_OR_RETURN(stores->registry_, SqliteRegistryStore::Open(*stores->db_));
      ASSIGN_OR_RETURN(stores->optimizations_, SqliteOptimizationStore::Open(*stores->db_));
      ASSIGN_OR_RETURN(stores->tokens_, SqliteTokenStore::Open(*stores->db_));
      ASSIGN_OR_RETURN(stores->config_history_, SqliteConfigHistoryStore::Open(*stores->db_));
      return stores;
    }
    case DbUrl::Scheme::kPostgres: {
      // Several servers may share this database (docs/deploy.md, "PostgreSQL").
      ASSIGN_OR_RETURN(stores->pg_, PgDb::Open(url.text));
      ASSIGN_OR_RETURN(stores->jobs_, PostgresJobStore::Open(*stores->pg_));
      ASSIGN_OR_RETURN(stores->registry_, PostgresRegistryStore::Open(*stores->pg_));
      ASSIGN_OR_RETURN(stores->optimizations_, PostgresOptimizationStore::Open(*stores->pg_));
      ASSIGN_OR_RETURN(stores->tokens_, PostgresTokenStore::Open(*stores->pg_));
      ASSIGN_OR_RETURN(stores->config_history_, PostgresConfigHistoryStore::Open(*stores->pg_));
      return stores;
    }
  }
  return Status::InvalidArgument("database URL '" + url.text + "' is not supported by this build");
}

Status CheckBindIsSafe(const std::string& host, const WorkspaceConfig& config, bool insecure) {
  if (config.auth.mode != AuthMode::kNone || insecure || http::IsLoopbackHost(host)) return Status::Ok();
  return Status::FailedPrecondition(
      "refusing to serve on " + host +
      " with auth.mode none: anyone who can reach that address could run jobs. Turn on tokens "
      "(auth: {mode: token} in alphalab.yaml, then `alphalab token create --name NAME --role admin`) "
      "or pass --insecure to serve without auth anyway");
}

Result<DbUrl> ChooseDbUrl(const WorkspaceConfig& config, const std::optional<std::string>& flag) {
  if (!flag) return config.storage.db;
  auto url = DbUrl::Parse(*flag);
  if (!url.ok()) return url.status().WithContext("--db");
  return url;
}

std::string ChooseUiDir(const std::optional<std::string>& flag) {
  std::error_code ec;
  if (flag) return *flag;
  if (const char* env = std::getenv("ALPHALAB_UI_DIR"); env && *env) return env;
  const fs::path def = ALPHALAB_DEFAULT_UI_DIR;
  if (!def.empty() && fs::is_directory(def, ec)) return def.string();
  return "";
}

// Members in construction order; destroyed in reverse.
struct Server::Parts {
  const Workspace& ws;
  http::ServerOptions options;
  std::unique_ptr<Stores> stores;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<JobCatalog> catalog;
  Metrics metrics;
  // The config center: managed files of `configs:` beneath the roots of `roots:`. Its
  // ToolJobPreparer prepares jobs of types with `tool:` (jobs/job_preparer.hpp); declared
  // before the job service, which borrows it.
  std::unique_ptr<configs::LlmProbe> llm_probe;
  std::unique_ptr<configs::ConfigService> configs;
  std::unique_ptr<configs::ToolJobPreparer> preparer;
  // The built-in engine types' configs judged at submit (a 400, not a job that fails).
  std::unique_ptr<EngineJobCheck> engine_check;
  std::unique_ptr<JobService> jobs;
  std::unique_ptr<RegistryService> registry;
  std::unique_ptr<datasets::DatasetService> datasets;
  // The in-process batch runner of optimization tasks (built-in backtests through the engine's
  // grid mode); declared before the service, so the service is destroyed first.
  std::unique_ptr<optimize::TaskBatchRunner> task_runner;
  std::unique_ptr<optimize::OptimizationService> optimizations;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<http::AuthGate> auth;
  http::Router router;
  std::unique_ptr<http::HttpServer> server;
  std::thread serving;  // Start(): the thread running server->Run()

  explicit Parts(const Workspace& w) : ws(w) {}
  ~Parts() {
    StopServing();
    server.reset();
    if (optimizations) optimizations->Shutdown();
    if (jobs) jobs->Shutdown();  // no job-finished listener runs after this
    if (executor) executor->Shutdown();
  }
  void StopServing() {
    if (!serving.joinable()) return;
    server->Stop();
    serving.join();
  }
};

Result<std::unique_ptr<Server>> Server::Build(const Workspace& ws, const WorkspaceConfig& config,
                                              const ServeFlags& flags,
                                              std::function<void(std::string_view)> access_log_writer) {
  const Clock& clock = SystemClock::Instance();
  auto parts = std::make_unique<Parts>(ws);
  ASSIGN_OR_RETURN(parts->options, MakeServerOptions(config, flags, std::move(access_log_writer)));
  RETURN_IF_ERROR(CheckBindIsSafe(parts->options.host, config, flags.insecure));

  // Extra roots (roots: in alphalab.yaml) are resolved once, before anything else uses them: a
  // root that does not exist stops the start with the line that declares it.
  std::vector<RootSpec> root_specs;
  for (const RootDecl& r : config.roots) root_specs.push_back(RootSpec{r.name, r.path, r.line});
  ASSIGN_OR_RETURN(ConfinedRoots roots, ConfinedRoots::Resolve(ws.root(), root_specs, config.file));

  ASSIGN_OR_RETURN(const DbUrl db_url, ChooseDbUrl(config, flags.db));
  ASSIGN_OR_RETURN(parts->stores, Stores::Open(ws, db_url));

  switch (config.executor.type) {
    case ExecutorType::kLocal: {
      LocalExecutorOptions exec_options;
      exec_options.slots = flags.slots.value_or(config.executor.slots.value_or(0));
      if (exec_options.slots < 0) return Status::InvalidArgument("--slots must be >= 0");
      exec_options.realtime_supervisor = config.executor.realtime_supervisor;
      ASSIGN_OR_RETURN(std::unique_ptr<LocalExecutor> local, LocalExecutor::Create(exec_options));
      if (exec_options.realtime_supervisor && !local->SupervisorRealtime()) {
        spdlog::info(R"({{"msg":"process supervisor runs under the normal scheduling policy","pid":{},)"
                     R"x("why":"SCHED_FIFO not permitted (needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO above 0)"}})x",
                     local->SupervisorPid());
      }
      parts->executor = std::move(local);
      break;
    }
    case ExecutorType::kSlurm: {
      SlurmExecutorOptions exec_options;
      exec_options.partition = config.executor.partition;
      exec_options.account = config.executor.account;
      exec_options.time_limit = config.executor.time_limit;
      exec_options.sbatch_args = config.executor.sbatch_args;
      const int slots = flags.slots.value_or(config.executor.slots.value_or(0));
      if (slots < 0) return Status::InvalidArgument("--slots must be >= 0");
      if (slots > 0) exec_options.capacity = slots;
      parts->executor = std::make_unique<SlurmExecutor>(std::move(exec_options));
      break;
    }
  }

  parts->catalog = std::make_unique<JobCatalog>(ws, SelfExe());
  RETURN_IF_ERROR(parts->catalog->AddUserTypes(config));

  parts->llm_probe = configs::MakeBeastLlmProbe();
  parts->configs = std::make_unique<configs::ConfigService>(config.configs, std::move(roots),
                                                            parts->stores->config_history(), clock,
                                                            parts->llm_probe.get());
  parts->preparer = std::make_unique<configs::ToolJobPreparer>(*parts->configs);
  JobServiceTuning tuning;
  if (db_url.scheme == DbUrl::Scheme::kPostgres) tuning.claimer = SharedServerName(flags, config);
  tuning.lease_ttl = std::chrono::seconds(config.storage.lease_ttl_seconds);
  tuning.lease_interval = std::chrono::seconds(config.storage.lease_renew_seconds);
  parts->jobs = std::make_unique<JobService>(parts->stores->jobs(), *parts->executor, *parts->catalog, ws, clock,
                                             &parts->metrics, 0, tuning);
  parts->jobs->SetPreparer(parts->preparer.get());  // before Recover: requeued tool jobs need it
  parts->engine_check = std::make_unique<EngineJobCheck>(ws);
  parts->jobs->SetSubmitCheck(parts->engine_check.get());
  RETURN_IF_ERROR(parts->jobs->Recover().WithContext("recovering jobs"));
  // Built-in backtest tasks of optimizations run in process through the engine's grid mode.
  // With Slurm every task is a Slurm job (the fast path would run them on this machine).
  if (flags.optimization_fast_path && config.executor.type == ExecutorType::kLocal) {
    parts->task_runner = optimize::MakeBuiltinBacktestBatchRunner(*parts->jobs, *parts->catalog, ws, clock);
  }

  parts->registry = std::make_unique<RegistryService>(ws, parts->stores->registry(), &parts->stores->jobs(), clock);
  if (config.registry.index_on_start) IndexAtStart(*parts->registry);
  IndexWhenJobsFinish(*parts->jobs, *parts->registry);

  parts->datasets = std::make_unique<datasets::DatasetService>(ws, parts->jobs.get());

  optimize::OptimizationServiceOptions opt_options;
  // A models dimension expands to the registry's model files (optimize/model_axis.hpp).
  opt_options.limits.resolve_models = optimize::RegistryModelResolver(parts->stores->registry());
  parts->optimizations = std::make_unique<optimize::OptimizationService>(
      parts->stores->optimizations(), *parts->jobs, *parts->catalog, ws, clock, &parts->metrics,
      parts->task_runner.get(), std::move(opt_options));
  RETURN_IF_ERROR(parts->optimizations->Start().WithContext("resuming optimizations"));

  // Error envelopes name workspace files relative to the workspace, never absolute.
  http::SetEnvelopePathRoots({ws.root().string()});

  // Who may ask what: Host/Origin/Content-Type checks and tokens, before every handler.
  parts->audit = std::make_unique<AuditLog>(AuditLog::FileIn(ws.root()), clock);
  http::AuthGateOptions auth;
  auth.mode = config.auth.mode;
  auth.bound_host = parts->options.host;
  auth.hosts = config.server.hosts;
  auth.origins = config.server.origins;
  auth.insecure = config.auth.mode == AuthMode::kNone && !http::IsLoopbackHost(parts->options.host);
  auth.session_hours = config.auth.session_hours;
  parts->auth = std::make_unique<http::AuthGate>(auth, &parts->stores->tokens(), clock, parts->audit.get());

  // The API, one route group per line (the static UI last: it is the fallback).
  http::Router& router = parts->router;
  router.SetGuard([gate = parts->auth.get()](http::HttpRequest& req, bool inline_route) {
    return gate->Check(req, inline_route);
  });
  http::RegisterHealthRoutes(router, *parts->jobs, clock, parts->metrics);
  http::RegisterJobRoutes(router, ws, *parts->jobs, *parts->catalog, clock, parts->audit.get());
  http::RegisterRdagentRoutes(router, ws, *parts->jobs, *parts->catalog, clock, parts->audit.get());
  http::RegisterDatasetRoutes(router, *parts->datasets, parts->audit.get());
  http::RegisterRegistryRoutes(router, *parts->registry);
  http::RegisterResultsRoutes(router, *parts->registry);
  http::RegisterOptimizationRoutes(router, *parts->optimizations, parts->audit.get());
  http::RegisterProjectRoutes(router, *parts->jobs, parts->stores->registry(), parts->stores->optimizations());
  http::RegisterConfigRoutes(router, *parts->configs, parts->audit.get());
  http::RegisterSessionRoutes(router, *parts->auth);
  http::RegisterStaticRoutes(router, parts->options.ui_dir);
  // Last: serves the OpenAPI document and takes each route's query parameters from it; fails
  // when a route is undocumented or a documented operation has no route.
  RETURN_IF_ERROR(http::InstallOpenApi(router).WithContext("OpenAPI contract"));

  parts->server = std::make_unique<http::HttpServer>(parts->options, parts->router, &parts->metrics);
  return std::unique_ptr<Server>(new Server(std::move(parts)));
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() = default;

const http::Router& Server::router() const { return parts_->router; }

Status Server::Run() {
  Parts& p = *parts_;
  RETURN_IF_ERROR(p.server->Listen());
  p.server->StopOnSignals();
  std::fprintf(stdout, "alphalab: serving %s on http://%s:%d/ (ui: %s, slots: %d, auth: %s)\n", p.ws.root().c_str(),
               p.options.host.c_str(), p.server->port(), p.options.ui_dir.empty() ? "none" : p.options.ui_dir.c_str(),
               p.jobs->capacity(), p.auth->options().mode == AuthMode::kToken ? "token" : "none");
  if (p.auth->options().insecure) {
    std::fprintf(stderr,
                 "alphalab: WARNING: serving on %s without authentication (--insecure): anyone who can "
                 "reach this address can run jobs. Set auth: {mode: token} in alphalab.yaml.\n",
                 p.options.host.c_str());
    spdlog::warn(R"({{"msg":"serving without authentication on a non-loopback address","host":"{}"}})",
                 p.options.host);
  }
  std::fflush(stdout);
  spdlog::info(R"({{"msg":"listening","host":"{}","port":{},"workspace":{},"routes":{}}})", p.options.host,
               p.server->port(), Json(p.ws.root().string()).dump(), p.router.ListRoutes().size());
  p.server->Run();
  spdlog::info(R"({"msg":"stopping"})");
  return Status::Ok();
}

Status Server::Start() {
  Parts& p = *parts_;
  if (p.serving.joinable()) return Status::FailedPrecondition("the server is already started");
  RETURN_IF_ERROR(p.server->Listen());
  p.serving = std::thread([&p] { p.server->Run(); });
  spdlog::info(R"({{"msg":"listening","host":"{}","port":{},"workspace":{},"in_process":true}})", p.options.host,
               p.server->port(), Json(p.ws.root().string()).dump());
  return Status::Ok();
}

int Server::port() const { return parts_->server->port(); }

void Server::Stop() { parts_->StopServing(); }

Status RunServer(const ServeFlags& flags) {
  // Structured JSON logs on stderr (one JSON object per line), buffered (BufferedStderrSink):
  // each line is formatted on the thread that logs it (no queue, no logging thread). Access
  // lines are batched per I/O thread and go to the same sink.
  struct LogShutdown {
    ~LogShutdown() {
      spdlog::default_logger()->flush();  // writes what the sink still holds
      spdlog::shutdown();                 // stops the periodic flusher
    }
  } log_shutdown;
  auto sink = std::make_shared<BufferedStderrSink>();
  auto logger = std::make_shared<spdlog::logger>("alphalab", sink);
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","event":%v})", spdlog::pattern_time_type::utc);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));

  ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(flags.workspace));
  ASSIGN_OR_RETURN(WorkspaceConfig config, LoadWorkspaceConfig(ws));
  // Access lines are batched per I/O thread and go straight to the sink (same lock as every
  // other line, so lines never mix); the sink's periodic flush writes them.
  ASSIGN_OR_RETURN(std::unique_ptr<Server> server,
                   Server::Build(ws, config, flags, [sink](std::string_view lines) { sink->WriteRaw(lines); }));
  RETURN_IF_ERROR(server->Run());
  server.reset();
  spdlog::info(R"({"msg":"stopped"})");
  return Status::Ok();
}

}  // namespace alphalab::app

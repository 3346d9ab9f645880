#include <utility>

#include "cli/server_wiring.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <errno.h>

#include <mutex>
#include <string>

#include <spdlog/async.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "core/clock.hpp"
#include "core/workspace.hpp"
#include "exec/local/local_executor.hpp"
#include "http/route_modules.hpp"
#include "http/server.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_service.hpp"
#include "jobs/metrics.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_job_store.hpp"

#ifndef ALPHALAB_DEFAULT_UI_DIR
#define ALPHALAB_DEFAULT_UI_DIR ""
#endif

namespace alphalab::cli {

namespace fs = std::filesystem;

namespace {

// The server's log on stderr, buffered: lines are collected and written with one write() when
// 32 KB are pending, every second (spdlog::flush_every), at shutdown, and at once from level
// warn up. A write() per access-log line cost more than the rest of logging a request. A
// kill -9 loses at most the last second of info lines. The logger in front of it is
// asynchronous (one spdlog worker thread formats and writes), so a request thread only
// formats its message and queues it.
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

struct YamlDefaults {
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> db;
  std::optional<int> slots;
};

Result<YamlDefaults> ReadDefaults(const Workspace& ws) {
  YamlDefaults d;
  std::error_code ec;
  if (!fs::exists(ws.ConfigFile(), ec)) return d;
  try {
    YAML::Node root = YAML::LoadFile(ws.ConfigFile().string());
    if (root["server"] && root["server"]["host"]) d.host = root["server"]["host"].as<std::string>();
    if (root["server"] && root["server"]["port"]) d.port = root["server"]["port"].as<int>();
    if (root["storage"] && root["storage"]["db"]) d.db = root["storage"]["db"].as<std::string>();
    if (root["executor"] && root["executor"]["slots"]) d.slots = root["executor"]["slots"].as<int>();
    if (root["executor"] && root["executor"]["type"]) {
      const std::string type = root["executor"]["type"].as<std::string>();
      if (type != "local") {
        return Status::InvalidArgument("alphalab.yaml: executor.type '" + type +
                                       "' is not available in this build (use local)");
      }
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("alphalab.yaml: ") + e.what());
  }
  return d;
}

fs::path SelfExe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("alphalab") : p;
}

}  // namespace

std::string ChooseUiDir(const std::optional<std::string>& flag) {
  std::error_code ec;
  if (flag) return *flag;
  if (const char* env = std::getenv("ALPHALAB_UI_DIR"); env && *env) return env;
  const fs::path def = ALPHALAB_DEFAULT_UI_DIR;
  if (!def.empty() && fs::is_directory(def, ec)) return def.string();
  return "";
}

Status RunServer(const ServeFlags& flags) {
  // Structured JSON logs on stderr (one JSON object per line), asynchronous and buffered.
  spdlog::init_thread_pool(1 << 16, 1);
  struct LogShutdown {
    ~LogShutdown() {
      spdlog::default_logger()->flush();  // queued behind every line logged so far
      spdlog::shutdown();                 // drains the queue, joins the worker
    }
  } log_shutdown;
  auto sink = std::make_shared<BufferedStderrSink>();
  auto logger = std::make_shared<spdlog::async_logger>("alphalab", sink, spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::block);
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","event":%v})", spdlog::pattern_time_type::utc);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));

  ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(flags.workspace));
  ASSIGN_OR_RETURN(YamlDefaults defaults, ReadDefaults(ws));

  http::ServerOptions options;
  options.host = flags.host.value_or(defaults.host.value_or("127.0.0.1"));
  options.port = flags.port.value_or(defaults.port.value_or(8000));
  options.io_threads = std::max(1, flags.io_threads);
  options.handler_threads = std::max(1, flags.handler_threads);
  options.max_connections = std::max(0, flags.max_connections);
  options.access_log = flags.access_log;
  // Access lines are batched per I/O thread and go straight to the sink (same lock as every
  // other line, so lines never mix); the sink's periodic flush writes them.
  options.access_log_writer = [sink](std::string_view lines) { sink->WriteRaw(lines); };
  options.ui_dir = ChooseUiDir(flags.ui_dir);
  if (options.port < 0 || options.port > 65535) return Status::InvalidArgument("port must be 0..65535");

  std::string db = flags.db.value_or(defaults.db.value_or("sqlite:alphalab.db"));
  if (db.rfind("sqlite:", 0) != 0) {
    return Status::InvalidArgument("--db '" + db + "' is not supported by this build (use sqlite:PATH)");
  }
  fs::path db_path = db.substr(7);
  if (db_path.empty()) return Status::InvalidArgument("--db sqlite: needs a path");
  if (db_path.is_relative()) db_path = ws.root() / db_path;
  options.db_url = "sqlite:" + db_path.string();

  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> sqlite, SqliteDb::Open(db_path));
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteJobStore> store, SqliteJobStore::Open(*sqlite));

  LocalExecutorOptions exec_options;
  const int slots = flags.slots.value_or(defaults.slots.value_or(0));
  if (slots < 0) return Status::InvalidArgument("--slots must be >= 0");
  exec_options.slots = slots;
  ASSIGN_OR_RETURN(std::unique_ptr<LocalExecutor> executor, LocalExecutor::Create(exec_options));

  JobCatalog catalog(ws, SelfExe());
  RETURN_IF_ERROR(catalog.LoadWorkspaceFile());

  Metrics metrics;
  const Clock& clock = SystemClock::Instance();
  JobService jobs(*store, *executor, catalog, ws, clock, &metrics);
  RETURN_IF_ERROR(jobs.Recover().WithContext("recovering jobs"));

  http::Router router;
  http::ServerContext ctx(ws, jobs, catalog, *store, clock, metrics, options);
  ctx.sqlite_db = sqlite.get();
  http::RegisterAllRoutes(router, ctx);

  http::HttpServer server(options, router, &metrics);
  RETURN_IF_ERROR(server.Listen());
  server.StopOnSignals();
  std::fprintf(stdout, "alphalab: serving %s on http://%s:%d/ (ui: %s, slots: %d)\n",
               ws.root().c_str(), options.host.c_str(), server.port(),
               options.ui_dir.empty() ? "none" : options.ui_dir.c_str(), jobs.capacity());
  std::fflush(stdout);
  spdlog::info(R"({{"msg":"listening","host":"{}","port":{},"workspace":{},"routes":{}}})", options.host,
               server.port(), Json(ws.root().string()).dump(), router.ListRoutes().size());
  server.Run();

  spdlog::info(R"({"msg":"stopping"})");
  for (auto it = ctx.on_shutdown.rbegin(); it != ctx.on_shutdown.rend(); ++it) (*it)();
  jobs.Shutdown();
  executor->Shutdown();
  spdlog::info(R"({"msg":"stopped"})");
  return Status::Ok();
}

}  // namespace alphalab::cli

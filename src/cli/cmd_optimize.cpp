// `alphalab optimize --config sweep.yaml [--server URL | --local]`: reads the sweep YAML into
// the request document, submits it (POST /api/v1/optimizations), follows
// GET /api/v1/optimizations/{id}/status with a progress bar (plain lines when stderr is not a
// terminal or with --no-progress), prints the Top-N and downloads the export zip. Ctrl-C
// cancels the optimization on the server and exits 130 once it is canceled. --local builds
// the server in this process (composition root, 127.0.0.1, a free port) and talks to it
// through the same HTTP client. See docs/cli.md.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "app/composition_root.hpp"
#include "cli/command.hpp"
#include "cli/sweep_client.hpp"
#include "config/workspace_config.hpp"
#include "core/workspace.hpp"
#include "http/http_client.hpp"
#include "optimize/request.hpp"

namespace alphalab::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::atomic<int> g_interrupts{0};

extern "C" void OnSigint(int) { g_interrupts.fetch_add(1); }

// SIGINT sets a flag (no SA_RESTART: a sleeping poll wakes up); restored on destruction.
class SigintGuard {
 public:
  SigintGuard() {
    struct sigaction sa {};
    sa.sa_handler = OnSigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ::sigaction(SIGINT, &sa, &old_);
  }
  ~SigintGuard() { ::sigaction(SIGINT, &old_, nullptr); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

 private:
  struct sigaction old_ {};
};

struct OptimizeOpts {
  std::string config;
  std::string server;
  bool local = false;
  std::string workspace = ".";
  std::string out;
  bool out_given = false;
  bool no_progress = false;
  bool json = false;
  int poll_ms = 200;
};

std::string DefaultServer() {
  if (const char* env = std::getenv("ALPHALAB_SERVER"); env && *env) return env;
  return "http://127.0.0.1:8000";
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "alphalab optimize: %s\n", message.c_str());
  return 1;
}

// The error of a refused request, with the YAML line of details.field when there is one.
std::string RefusalMessage(const http::ClientResponse& res, const SweepDocument& doc) {
  std::string where;
  auto j = res.JsonBody();
  if (j.ok() && j->is_object() && j->contains("error") && (*j)["error"].is_object()) {
    const Json& err = (*j)["error"];
    if (err.contains("details") && err["details"].is_object() && err["details"].contains("field") &&
        err["details"]["field"].is_string()) {
      where = doc.Locate(err["details"]["field"].get<std::string>()) + ": ";
    }
  }
  return where + "server said " + std::to_string(res.status) + ": " + res.ErrorMessage();
}

// Draws progress on stderr: a bar redrawn in place on a terminal, else a plain line when
// something changed (at most once a second) and at least every 10 seconds.
class Progress {
 public:
  explicit Progress(bool bar) : bar_(bar) {}

  void Update(const std::string& status, const SweepCounts& c) {
    const auto now = Clock::now();
    if (bar_) {
      std::fprintf(stderr, "\r%s\033[K", FormatProgressBar(status, c).c_str());
      std::fflush(stderr);
      drawn_ = true;
      return;
    }
    const std::string line = FormatProgressLine(status, c);
    const bool changed = line != last_;
    if (last_.empty() || (changed && now - last_at_ >= std::chrono::seconds(1)) ||
        now - last_at_ >= std::chrono::seconds(10)) {
      std::fprintf(stderr, "progress: %s\n", line.c_str());
      std::fflush(stderr);
      last_ = line;
      last_at_ = now;
    }
  }
  void Final(const std::string& status, const SweepCounts& c) {
    if (bar_) {
      std::fprintf(stderr, "\r%s\033[K\n", FormatProgressBar(status, c).c_str());
    } else {
      std::fprintf(stderr, "progress: %s\n", FormatProgressLine(status, c).c_str());
    }
    std::fflush(stderr);
  }
  void Note(const std::string& text) {
    std::fprintf(stderr, "%s%s\n", bar_ && drawn_ ? "\n" : "", text.c_str());
    std::fflush(stderr);
    drawn_ = false;
  }

 private:
  bool bar_;
  bool drawn_ = false;
  std::string last_;
  Clock::time_point last_at_{};
};

// The in-process server of --local: logs only errors, to stderr (a canceled task is a
// warning there, and the progress already shows it).
Result<std::unique_ptr<app::Server>> StartLocalServer(const Workspace& ws) {
  auto logger = spdlog::stderr_logger_mt("alphalab-local");
  logger->set_level(spdlog::level::err);
  spdlog::set_default_logger(logger);
  ASSIGN_OR_RETURN(WorkspaceConfig config, LoadWorkspaceConfig(ws));
  app::ServeFlags flags;
  flags.workspace = ws.root().string();
  flags.host = "127.0.0.1";
  flags.port = 0;
  flags.ui_dir = "";
  flags.access_log = false;
  ASSIGN_OR_RETURN(std::unique_ptr<app::Server> server, app::Server::Build(ws, config, flags));
  RETURN_IF_ERROR(server->Start());
  return server;
}

int RunDocument(const OptimizeOpts& o, const SweepDocument* doc, bool with_report);

int Run(const OptimizeOpts& o) {
  // 1. The sweep file and the request it describes: refused here before anything is contacted.
  auto doc = LoadSweepFile(o.config);
  if (!doc.ok()) return Fail(doc.status().message());
  return RunDocument(o, &*doc, false);
}

// Submits `doc->request`, follows it to its end, downloads the export; with `with_report`, also
// prints the report (GET .../report: counts, Top 3, deflated Sharpe, the report files).
int RunDocument(const OptimizeOpts& o, const SweepDocument* doc, bool with_report) {
  if (!optimize::IsRerunRequest(doc->request)) {
    optimize::RequestLimits limits;
    limits.allow_unresolved_models = true;  // the server expands a models dimension
    auto parsed = optimize::ParseOptimizationRequest(doc->request, limits);
    if (!parsed.ok()) {
      const Json& d = parsed.status().details();
      const std::string field = d.is_object() && d.contains("field") && d["field"].is_string()
                                    ? d["field"].get<std::string>()
                                    : std::string();
      return Fail(doc->Locate(field) + ": " + parsed.status().message());
    }
  }
  auto ws = Workspace::Open(o.workspace);
  if (!ws.ok()) return Fail("--workspace: " + ws.status().message());
  std::optional<std::string> out;
  if (o.out_given) out = o.out;
  if (out) {
    auto checked = ExportPath(*ws, out, "");
    if (!checked.ok()) return Fail(checked.status().message());
  }

  // 2. The server: given, or built in this process.
  std::unique_ptr<app::Server> local;
  std::string url = o.server.empty() ? DefaultServer() : o.server;
  if (o.local) {
    auto started = StartLocalServer(*ws);
    if (!started.ok()) return Fail("--local: " + started.status().message());
    local = std::move(*started);
    url = "http://127.0.0.1:" + std::to_string(local->port());
  }
  auto client = http::HttpClient::Create(url);
  if (!client.ok()) return Fail(client.status().message());
  (*client)->set_bearer_token(http::UserToken());  // $ALPHALAB_TOKEN or ~/.config/alphalab/token

  // 3. Submit.
  SigintGuard sigint;
  auto created = (*client)->PostJson("/api/v1/optimizations", doc->request);
  if (!created.ok()) return Fail(created.status().message());
  if (created->status >= 400) return Fail(RefusalMessage(*created, *doc));
  auto opt = created->JsonBody();
  if (!opt.ok() || !opt->is_object() || !opt->contains("id") || !(*opt)["id"].is_string()) {
    return Fail("unexpected response to the submit: " + created->body.substr(0, 200));
  }
  const std::string id = (*opt)["id"].get<std::string>();
  if (!IsOptimizationId(id)) return Fail("the server returned an unexpected optimization id: " + id.substr(0, 80));
  const std::string base = "/api/v1/optimizations/" + id;  // shape checked above
  std::string metric;
  if (opt->contains("request") && (*opt)["request"].is_object()) {
    metric = (*opt)["request"].value("objective", Json::object()).value("metric", "");
  }
  if (metric.empty() && doc->request.contains("objective") && doc->request["objective"].is_object()) {
    metric = doc->request["objective"].value("metric", "");
  }
  if (!o.json) {
    std::printf("optimization: %s\n", id.c_str());
    const Json& est = opt->contains("estimate") ? (*opt)["estimate"] : Json();
    if (est.is_object() && est.contains("seconds") && est["seconds"].is_number()) {
      std::printf("estimate: %.1f s for %s tasks (%s)\n", est["seconds"].get<double>(),
                  est.contains("tasks") ? est["tasks"].dump().c_str() : "?",
                  est.value("basis", std::string("?")).c_str());
    }
    std::fflush(stdout);
  }

  // 4. Follow until terminal; the first Ctrl-C cancels, a second one leaves at once.
  const bool bar = !o.no_progress && ::isatty(STDERR_FILENO);
  Progress progress(bar);
  bool cancel_sent = false;
  Json status_doc;
  std::string status;
  for (;;) {
    if (g_interrupts.load() > 0 && !cancel_sent) {
      progress.Note("alphalab optimize: interrupted, canceling " + id + " (Ctrl-C again to leave it running)");
      auto c = (*client)->PostJson(base + "/cancel", Json::object());
      if (!c.ok()) return Fail("cancel: " + c.status().message());
      if (c->status >= 400 && c->status != 409) return Fail("cancel: server said " + std::to_string(c->status) + ": " + c->ErrorMessage());
      cancel_sent = true;
    }
    if (g_interrupts.load() > 1) return Fail("interrupted again; " + id + " may still be canceling on the server");
    auto res = (*client)->Get(base + "/status");
    if (!res.ok()) return Fail("status of " + id + ": " + res.status().message());
    if (res->status >= 400) return Fail("status of " + id + ": server said " + std::to_string(res->status) + ": " + res->ErrorMessage());
    auto j = res->JsonBody();
    if (!j.ok() || !j->is_object() || !j->contains("status") || !(*j)["status"].is_string()) {
      return Fail("unexpected status response: " + res->body.substr(0, 200));
    }
    status_doc = std::move(*j);
    status = status_doc["status"].get<std::string>();
    const SweepCounts counts = CountsOf(status_doc.value("summary", Json::object()));
    if (IsTerminalSweepStatus(status)) {
      progress.Final(status, counts);
      break;
    }
    progress.Update(status, counts);
    std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));  // a signal cuts it short
  }

  // 5. Top-N, export, exit code.
  const Json summary = status_doc.value("summary", Json::object());
  auto path = ExportPath(*ws, out, id);
  if (!path.ok()) return Fail(path.status().message());
  std::string export_error;
  auto zip = (*client)->Get(base + "/export");
  if (!zip.ok()) {
    export_error = zip.status().message();
  } else if (zip->status >= 400) {
    export_error = "server said " + std::to_string(zip->status) + ": " + zip->ErrorMessage();
  } else {
    std::error_code ec;
    fs::create_directories(path->parent_path(), ec);
    Status w = WriteFileAtomic(*path, zip->body);
    if (!w.ok()) export_error = w.message();
  }
  Json report;
  if (with_report) {
    auto r = (*client)->Get(base + "/report");
    if (r.ok() && r->status < 400) {
      auto j = r->JsonBody();
      if (j.ok()) report = std::move(*j);
    }
  }
  local.reset();  // --local: stop the in-process server before printing the end

  if (o.json) {
    Json result{{"id", id}, {"status", status}, {"summary", summary}, {"optimization", *opt},
                {"export_path", export_error.empty() ? Json(path->string()) : Json(nullptr)}};
    if (!export_error.empty()) result["export_error"] = export_error;
    if (with_report) result["report"] = report;
    std::printf("%s\n", result.dump(2).c_str());
  } else {
    std::printf("status: %s\n", status.c_str());
    std::printf("%s", FormatTopN(summary, metric).c_str());
    if (report.is_object()) std::printf("%s", FormatReport(report).c_str());
    if (export_error.empty()) std::printf("export: %s\n", path->string().c_str());
  }
  std::fflush(stdout);
  if (!export_error.empty()) return Fail("export of " + id + ": " + export_error);
  if (cancel_sent) {
    std::fprintf(stderr, "alphalab optimize: %s ended %s after Ctrl-C\n", id.c_str(), status.c_str());
    return kExitInterrupted;
  }
  const int code = ExitCodeForStatus(status);
  if (code != 0) std::fprintf(stderr, "alphalab optimize: %s ended %s\n", id.c_str(), status.c_str());
  return code;
}

void SetupOptimizeCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<OptimizeOpts>();
  auto* cmd = app.add_subcommand("optimize",
                                 "Run a parameter sweep: alphalab optimize --config sweep.yaml [--server URL | --local]");
  cmd->add_option("--config,-c", o->config, "the sweep file (YAML: the optimization request document)")
      ->required();
  auto* server = cmd->add_option("--server", o->server, "server URL (default: $ALPHALAB_SERVER, else http://127.0.0.1:8000)");
  auto* local = cmd->add_flag("--local", o->local, "run the server in this process over --workspace");
  server->excludes(local);
  cmd->add_option("--workspace,-w", o->workspace, "workspace directory (--local; where the export goes)")
      ->capture_default_str();
  auto* out = cmd->add_option("--out,-o", o->out, "export zip path (default: reports/optimizations/<id>.zip in the workspace)");
  cmd->add_flag("--no-progress", o->no_progress, "plain progress lines instead of a bar");
  cmd->add_flag("--json", o->json, "print the final status, summary and export path as JSON");
  cmd->add_option("--poll-ms", o->poll_ms, "status poll interval in milliseconds")
      ->capture_default_str()->check(CLI::Range(10, 60000))->group("");
  cmd->callback([o, out, &exit_code] {
    OptimizeOpts opts = *o;
    opts.out_given = out->count() > 0;
    exit_code = Run(opts);
  });
}

struct SelectOpts {
  OptimizeOpts run;
  SelectModelsOptions request;
  double max_drawdown = -1;  // -1: no constraint
  std::string holdout_start;
};

void SetupSelectModelsCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SelectOpts>();
  auto* cmd = app.add_subcommand(
      "select-models",
      "Backtest every trained model of a project with fixed parameters and pick the best under a drawdown limit: "
      "alphalab select-models --project P --max-drawdown 0.15 --objective cagr --config configs/backtest/topn.yaml");
  cmd->add_option("--project,-p", o->request.project, "the project whose models are backtested")->required();
  cmd->add_option("--config,-c", o->request.config, "backtest config with the fixed parameters (workspace-relative)")
      ->required();
  cmd->add_option("--objective", o->request.objective, "metric to rank by")->capture_default_str();
  cmd->add_option("--direction", o->request.direction, "max or min")
      ->capture_default_str()->check(CLI::IsMember({"max", "min"}));
  cmd->add_option("--max-drawdown", o->max_drawdown, "keep models with max_drawdown <= this (a fraction)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--status", o->request.status, "registry status of the models (\"any\": every status)")
      ->capture_default_str();
  cmd->add_option("--max-inflight", o->request.max_inflight, "backtests running at once")
      ->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_option("--top", o->request.top_n, "rows kept in the ranking")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--holdout-start", o->holdout_start,
                  "rank on data before this date (YYYY-MM-DD), then re-run the best from it");
  auto* server = cmd->add_option("--server", o->run.server, "server URL (default: $ALPHALAB_SERVER, else http://127.0.0.1:8000)");
  auto* local = cmd->add_flag("--local", o->run.local, "run the server in this process over --workspace");
  server->excludes(local);
  cmd->add_option("--workspace,-w", o->run.workspace, "workspace directory (--local; where the export goes)")
      ->capture_default_str();
  auto* out = cmd->add_option("--out,-o", o->run.out, "export zip path (default: reports/optimizations/<id>.zip in the workspace)");
  cmd->add_flag("--no-progress", o->run.no_progress, "plain progress lines instead of a bar");
  cmd->add_flag("--json", o->run.json, "print the final status, summary, report and export path as JSON");
  cmd->add_option("--poll-ms", o->run.poll_ms, "status poll interval in milliseconds")
      ->capture_default_str()->check(CLI::Range(10, 60000))->group("");
  cmd->callback([o, out, &exit_code] {
    OptimizeOpts opts = o->run;
    opts.out_given = out->count() > 0;
    SweepDocument doc;
    doc.file = "select-models";
    SelectModelsOptions request = o->request;
    if (o->max_drawdown >= 0) request.max_drawdown = o->max_drawdown;
    if (!o->holdout_start.empty()) request.holdout_start = o->holdout_start;
    doc.request = SelectModelsRequest(request);
    exit_code = RunDocument(opts, &doc, true);
  });
}

}  // namespace
ALPHALAB_REGISTER_COMMAND(12, SetupOptimizeCommand);
ALPHALAB_REGISTER_COMMAND(13, SetupSelectModelsCommand);
}  // namespace alphalab::cli

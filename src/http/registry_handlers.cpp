// Registry API (SPEC §4, seed 000 C): GET /api/registry/models (server-side filter, sort,
// paging), GET /api/registry/compare (same-ticker compare drawer), GET /api/registry/tickers,
// POST /api/registry/index (re-index the workspace now).
//
// This module also builds the RegistryService for the server (ctx.registry), indexes the
// workspace once at start-up, and re-indexes a run when a train / eval-metrics job succeeds
// (a backtest when a backtest job succeeds) through the JobService finished hook.
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "http/route_modules.hpp"
#include "jobs/job_service.hpp"
#include "registry/registry_service.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace alphalab::http {

namespace {

void LogReport(const char* what, const registry::IndexReport& report) {
  spdlog::info(R"({{"msg":"registry index","trigger":{},"report":{}}})", Json(what).dump(),
               DumpJson(report.ToJson()));
}

// alphalab.yaml `registry: {index_on_start: false}` skips the start-up pass (very large
// workspaces, or a database filled by other means); default true.
bool IndexOnStart(const Workspace& ws) {
  std::error_code ec;
  if (!std::filesystem::exists(ws.ConfigFile(), ec)) return true;
  try {
    YAML::Node root = YAML::LoadFile(ws.ConfigFile().string());
    if (root["registry"] && root["registry"]["index_on_start"]) return root["registry"]["index_on_start"].as<bool>();
  } catch (const std::exception& e) {
    spdlog::warn(R"({{"msg":"alphalab.yaml registry.index_on_start unreadable, indexing","error":{}}})",
                 Json(e.what()).dump());
  }
  return true;
}

void RegisterRegistryRoutes(Router& router, ServerContext& ctx) {
  JobStore* job_store = &ctx.store;
  auto bundle = ctx.sqlite_db != nullptr
                    ? registry::OpenRegistryOn(*ctx.sqlite_db, ctx.workspace, job_store, ctx.clock)
                    : registry::OpenRegistry(ctx.workspace, ctx.db_url, job_store, ctx.clock);
  if (!bundle.ok()) {
    // The rest of the server (jobs) still works; registry routes answer 503 with the reason.
    spdlog::error(R"({{"msg":"registry unavailable","error":{}}})", Json(bundle.status().ToString()).dump());
    const Status why = Status::Unavailable("registry is unavailable: " + bundle.status().message());
    for (const char* path : {"/api/registry/models", "/api/registry/compare", "/api/registry/tickers"}) {
      router.Get(path, [why](const HttpRequest&) -> Result<Json> { return why; });
    }
    router.Post("/api/registry/index", [why](const HttpRequest&) -> Result<Json> { return why; });
    return;
  }
  // The context keeps the whole bundle (database handle, store, service) alive through an
  // aliasing shared_ptr to the service.
  std::shared_ptr<registry::RegistryBundle> owner(std::move(bundle).value());
  ctx.registry = std::shared_ptr<RegistryService>(owner, owner->service.get());
  std::shared_ptr<RegistryService> svc = ctx.registry;

  if (IndexOnStart(ctx.workspace)) {
    auto report = svc->IndexAll();
    if (report.ok()) {
      LogReport("startup", *report);
    } else {
      spdlog::error(R"({{"msg":"registry startup index failed","error":{}}})", Json(report.status().ToString()).dump());
    }
  }

  ctx.jobs.AddFinishedListener([svc](const JobRecord& job) {
    auto r = svc->OnJobFinished(job);
    if (!r.ok()) {
      spdlog::error(R"({{"msg":"registry index after job failed","job_id":{},"error":{}}})",
                    Json(job.job_id.str()).dump(), Json(r.status().ToString()).dump());
    } else if (r->runs_indexed + r->backtests_indexed > 0 || !r->problems.empty()) {
      LogReport(job.job_id.str().c_str(), *r);
    }
  });

  router.Get("/api/registry/models", [svc](const HttpRequest& req) -> Result<Json> {
    return svc->Models(registry::ParamsFromItems(req.query.items()));
  });
  router.Get("/api/registry/compare", [svc](const HttpRequest& req) -> Result<Json> {
    return svc->Compare(registry::ParamsFromItems(req.query.items()));
  });
  router.Get("/api/registry/tickers", [svc](const HttpRequest&) -> Result<Json> {
    ASSIGN_OR_RETURN(auto tickers, svc->store().ListTickers());
    return Json{{"items", tickers}, {"total", tickers.size()}};
  });
  router.Post("/api/registry/index", [svc](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {}));  // the body carries no fields (empty or {})
    ASSIGN_OR_RETURN(auto r, svc->IndexAll());
    return r.ToJson();
  });
}

}  // namespace

ALPHALAB_REGISTER_ROUTES(40, RegisterRegistryRoutes);

}  // namespace alphalab::http

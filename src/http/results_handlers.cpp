// Results API (docs/registry.md): GET /api/runs (paged, newest first), GET /api/runs/{run_id},
// GET /api/runs/{run_id}/files/{name},
// GET /api/backtests (paged; ticker / strategy / model_run_id filters),
// GET /api/backtests/{bt_run_id}?points=N, GET /api/backtests/{bt_run_id}/files/{name},
// GET /api/dashboard. Served by the RegistryService the composition root builds.
#include "core/ids.hpp"
#include "http/auth.hpp"
#include "http/routes.hpp"
#include "registry/registry_service.hpp"

namespace alphalab::http {

namespace {

Result<std::string> IdParam(const HttpRequest& req, const char* name) {
  std::string id(req.Param(name));
  if (!IsSafeIdentifier(id)) {
    return Status::InvalidArgument(std::string(name) + " '" + id.substr(0, 100) +
                                       "' is not a valid identifier ([A-Za-z0-9_.-], at most 128 characters)",
                                   Json{{name, id.substr(0, 100)}});
  }
  return id;
}

// A file of a run or backtest folder, shown inline under its own name (a download link's
// `download` attribute saves it).
HttpResponse FileResponse(registry::FileContent file) {
  HttpResponse resp = HttpResponse::Text(std::move(file.body), file.content_type);
  resp.headers.emplace_back("Content-Disposition", "inline; filename=\"" + file.name + "\"");
  return resp;
}

}  // namespace

void RegisterResultsRoutes(Router& router, RegistryService& service) {
  RegistryService* const s = &service;
  router.Get("/api/runs", [s](const HttpRequest& req) -> Result<Json> {
    return s->Runs(registry::ParamsFromItems(req.query.items()));
  });
  router.Get("/api/runs/{run_id}", [s](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string id, IdParam(req, "run_id"));
    return s->RunDetail(id);
  });
  router.GetRaw("/api/runs/{run_id}/files/{name}", [s](const HttpRequest& req) -> Result<HttpResponse> {
    ASSIGN_OR_RETURN(std::string id, IdParam(req, "run_id"));
    ASSIGN_OR_RETURN(std::string name, IdParam(req, "name"));
    ASSIGN_OR_RETURN(registry::FileContent file, s->RunFile(id, name));
    return FileResponse(std::move(file));
  });
  router.Get("/api/backtests", [s](const HttpRequest& req) -> Result<Json> {
    return s->Backtests(registry::ParamsFromItems(req.query.items()));
  });
  router.Get("/api/backtests/{bt_run_id}", [s](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string id, IdParam(req, "bt_run_id"));
    return s->BacktestDetail(id, registry::ParamsFromItems(req.query.items()));
  });
  router.GetRaw("/api/backtests/{bt_run_id}/files/{name}", [s](const HttpRequest& req) -> Result<HttpResponse> {
    ASSIGN_OR_RETURN(std::string id, IdParam(req, "bt_run_id"));
    ASSIGN_OR_RETURN(std::string name, IdParam(req, "name"));
    ASSIGN_OR_RETURN(registry::FileContent file, s->BacktestFile(id, name));
    return FileResponse(std::move(file));
  });
  router.Get("/api/dashboard", [s](const HttpRequest& req) -> Result<Json> {
    return s->Dashboard(registry::ParamsFromItems(req.query.items()), OwnerFilter(req));  // users: own jobs
  });
}

}  // namespace alphalab::http

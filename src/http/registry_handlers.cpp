// Registry API (docs/api.md, registry): GET /api/registry/models (server-side filter, sort,
// paging), GET /api/registry/compare (same-ticker compare drawer), GET /api/registry/tickers,
// POST /api/registry/index (re-index the workspace now).
#include "http/routes.hpp"
#include "registry/registry_service.hpp"

namespace alphalab::http {

void RegisterRegistryRoutes(Router& router, RegistryService& service) {
  RegistryService* const svc = &service;
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

}  // namespace alphalab::http

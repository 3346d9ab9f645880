// Datasets API (docs/datasets.md), served by datasets::DatasetService:
//   GET    /api/datasets                        every dataset (alphalab.yaml's read-only) + the default
//   POST   /api/datasets                        create {name, format, path | provider_uri, instruments_file, description, default}
//   POST   /api/datasets/upload-instruments     {name, dataset, content}: a dataset restricted to a symbol list
//   POST   /api/datasets/{name}/default         make it the default
//   DELETE /api/datasets/{name}                 API-created only; 409 while a queued/running job uses it
//   GET    /api/datasets/{name}/validation      the layout report (Qlib: calendars, instruments, features)
//   GET    /api/rdagent/datasets, POST /api/rdagent/datasets/upload-instruments   the same, for the RD-Agent page
#include "datasets/dataset_service.hpp"
#include "http/routes.hpp"

namespace alphalab::http {

void RegisterDatasetRoutes(Router& router, datasets::DatasetService& service) {
  auto* s = &service;
  for (const char* base : {"/api/datasets", "/api/rdagent/datasets"}) {
    router.Get(base, [s](const HttpRequest&) -> Result<Json> { return s->List(); });
    router.Post(std::string(base) + "/upload-instruments", [s](const HttpRequest& req) -> Result<Json> {
      ASSIGN_OR_RETURN(Json body, req.JsonBody());
      return s->UploadInstruments(body);
    });
  }
  router.Post("/api/datasets", [s](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    return s->Create(body);
  });
  router.Post("/api/datasets/{name}/default", [s](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {}));
    return s->SetDefault(std::string(req.Param("name")));
  });
  router.Delete("/api/datasets/{name}", [s](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {}));  // the body carries no fields (empty or {})
    return s->Delete(std::string(req.Param("name")));
  });
  router.Get("/api/datasets/{name}/validation", [s](const HttpRequest& req) -> Result<Json> {
    return s->Validate(std::string(req.Param("name")));
  });
}

}  // namespace alphalab::http

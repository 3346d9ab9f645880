// Datasets API (docs/datasets.md), served by datasets::DatasetService:
//   GET    /api/datasets                        every dataset (alphalab.yaml's read-only) + the default
//   POST   /api/datasets                        create {name, format, path | provider_uri, instruments_file, description, default}
//   POST   /api/datasets/upload-instruments     {name, dataset, content}: a dataset restricted to a symbol list
//   POST   /api/datasets/{name}/default         make it the default
//   DELETE /api/datasets/{name}                 API-created only; 409 while a queued/running job uses it
//   GET    /api/datasets/{name}/validation      the layout report (Qlib: calendars, instruments, features)
//   GET    /api/rdagent/datasets, POST /api/rdagent/datasets/upload-instruments   the same, for the RD-Agent page
// Datasets are shared by every user, so with auth on every change (create, upload, default,
// delete) is admin-only (docs/security.md); each change, and each refusal, is audited.
#include "core/audit_log.hpp"
#include "datasets/dataset_service.hpp"
#include "http/auth.hpp"
#include "http/routes.hpp"

namespace alphalab::http {

namespace {

// The dataset a create/upload body names, as far as it can be read (the audit target).
std::string BodyName(const HttpRequest& req) {
  auto body = req.JsonBody();
  if (!body.ok() || !body->is_object() || !body->contains("name") || !(*body)["name"].is_string()) return "";
  return (*body)["name"].get<std::string>().substr(0, 128);
}

// An admin-only change of the datasets: refused (403, audited "denied") for a user; else `change`,
// audited with its outcome.
template <typename Change>
Result<Json> AdminChange(AuditLog* audit, const HttpRequest& req, const char* action, const std::string& target,
                         Change change) {
  RETURN_IF_ERROR(RequireAdminAudited(audit, req, action, target));
  Result<Json> out = change();
  RecordAudit(audit, req, action, target, out.status());
  return out;
}

}  // namespace

void RegisterDatasetRoutes(Router& router, datasets::DatasetService& service, AuditLog* audit) {
  auto* s = &service;
  for (const char* base : {"/api/datasets", "/api/rdagent/datasets"}) {
    router.Get(base, [s](const HttpRequest&) -> Result<Json> { return s->List(); });
    router.Post(std::string(base) + "/upload-instruments", [s, audit](const HttpRequest& req) -> Result<Json> {
      return AdminChange(audit, req, "dataset.upload", BodyName(req), [&]() -> Result<Json> {
        ASSIGN_OR_RETURN(Json body, req.JsonBody());
        return s->UploadInstruments(body);
      });
    });
  }
  router.Post("/api/datasets", [s, audit](const HttpRequest& req) -> Result<Json> {
    return AdminChange(audit, req, "dataset.create", BodyName(req), [&]() -> Result<Json> {
      ASSIGN_OR_RETURN(Json body, req.JsonBody());
      return s->Create(body);
    });
  });
  router.Post("/api/datasets/{name}/default", [s, audit](const HttpRequest& req) -> Result<Json> {
    const std::string name(req.Param("name"));
    return AdminChange(audit, req, "dataset.default", name.substr(0, 128), [&]() -> Result<Json> {
      ASSIGN_OR_RETURN(Json body, req.JsonBody());
      RETURN_IF_ERROR(CheckKnownKeys(body, {}));
      return s->SetDefault(name);
    });
  });
  router.Delete("/api/datasets/{name}", [s, audit](const HttpRequest& req) -> Result<Json> {
    const std::string name(req.Param("name"));
    return AdminChange(audit, req, "dataset.delete", name.substr(0, 128), [&]() -> Result<Json> {
      ASSIGN_OR_RETURN(Json body, req.JsonBody());
      RETURN_IF_ERROR(CheckKnownKeys(body, {}));  // the body carries no fields (empty or {})
      return s->Delete(name);
    });
  });
  router.Get("/api/datasets/{name}/validation", [s](const HttpRequest& req) -> Result<Json> {
    return s->Validate(std::string(req.Param("name")));
  });
}

}  // namespace alphalab::http

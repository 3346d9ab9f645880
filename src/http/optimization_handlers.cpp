// Optimizations API (docs/api.md, optimizations): create / re-run, estimate, history, detail, status,
// tasks, cancel, retry-failed, extend, export. The work is done by
// optimize::OptimizationService; handlers validate the query and body and map the answers.
#include <string>

#include "core/audit_log.hpp"
#include "core/ids.hpp"
#include "core/list_query.hpp"
#include "http/auth.hpp"
#include "http/routes.hpp"
#include "optimize/optimization_service.hpp"

namespace alphalab::http {

namespace {

// A user (auth.mode token, role user) reads and changes only their own optimizations; admins
// and auth none: every one. Costs one row read, only for users.
Status CheckOptimizationOwner(const HttpRequest& req, optimize::OptimizationService& service,
                              const std::string& id) {
  if (!OwnerFilter(req)) return Status::Ok();
  ASSIGN_OR_RETURN(Json opt, service.Get(id));
  std::optional<std::string> owner;
  if (opt.contains("owner_id") && opt["owner_id"].is_string()) owner = opt["owner_id"].get<std::string>();
  return CheckOwner(req, owner, "optimization " + id);
}

void Audit(AuditLog* audit, const HttpRequest& req, std::string action, const std::string& id,
           const Result<Json>& outcome) {
  RecordAudit(audit, req, std::move(action), id, outcome.status());
}

Result<std::string> OptimizationIdParam(const HttpRequest& req) {
  const std::string id(req.Param("optimization_id"));
  if (!IsSafeIdentifier(id)) {
    return Status::InvalidArgument("'" + id.substr(0, 100) + "' is not a valid optimization id",
                                   Json{{"optimization_id", id.substr(0, 100)}});
  }
  return id;
}

// sort=<field>_<asc|desc> (one key): index, score or a numeric result field.
Result<OptimizationTaskSort> ParseTaskSort(const std::optional<std::string>& text) {
  OptimizationTaskSort sort;
  if (!text) return sort;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("sort: " + why + " (expected <field>_<asc|desc>, e.g. score_desc), got '" +
                                       text->substr(0, 100) + "'",
                                   Json{{"parameter", "sort"}});
  };
  if (text->find(',') != std::string::npos) return bad("one sort key only");
  std::string field;
  if (text->size() > 4 && text->compare(text->size() - 4, 4, "_asc") == 0) {
    field = text->substr(0, text->size() - 4);
    sort.descending = false;
  } else if (text->size() > 5 && text->compare(text->size() - 5, 5, "_desc") == 0) {
    field = text->substr(0, text->size() - 5);
    sort.descending = true;
  } else {
    return bad("no direction");
  }
  RETURN_IF_ERROR(CheckTaskSortField(field));
  sort.field = field;
  return sort;
}

Status EmptyBody(const HttpRequest& req) {
  ASSIGN_OR_RETURN(Json body, req.JsonBody());
  return CheckKnownKeys(body, {});
}

}  // namespace

void RegisterOptimizationRoutes(Router& router, optimize::OptimizationService& service, AuditLog* audit) {
  const std::string base = "/api/v1/optimizations";

  router.Post(base, [&service, audit](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    if (body.is_object() && body.contains("source_job_id") && body["source_job_id"].is_string()) {
      const std::string source = body["source_job_id"].get<std::string>();
      if (IsSafeIdentifier(source)) {
        if (Status allowed = CheckOptimizationOwner(req, service, source); !allowed.ok()) {
          Audit(audit, req, "optimization.submit", "", allowed);
          return allowed;
        }
      }
    }
    Result<Json> created = service.Create(body, OwnerId(req));
    Audit(audit, req, "optimization.submit", created.ok() ? created->value("id", "") : "", created);
    return created;
  });

  // The estimate before launch: the same body as POST base, validated the same way (the same
  // 400s), nothing created; history only (OptimizationService::EstimateBeforeCreate).
  router.Post(base + "/estimate", [&service](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    if (body.is_object() && body.contains("source_job_id") && body["source_job_id"].is_string()) {
      const std::string source = body["source_job_id"].get<std::string>();
      if (IsSafeIdentifier(source)) RETURN_IF_ERROR(CheckOptimizationOwner(req, service, source));
    }
    return service.EstimateBeforeCreate(body);
  });

  router.Get(base, [&service](const HttpRequest& req) -> Result<Json> {
    OptimizationQuery q;
    // The list convention (core/list_query.hpp): a comma list is IN.
    ASSIGN_OR_RETURN(q.statuses, ParseInList("status", req.query.Get("status")));
    ASSIGN_OR_RETURN(q.projects, ParseInList("project", req.query.Get("project")));
    q.source_id = req.query.Get("source_id");
    q.owner_id = OwnerFilter(req);
    ASSIGN_OR_RETURN(int64_t limit, req.query.GetInt("limit", 50, 0, kMaxOptimizationPageLimit));
    ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0, 1000000000));
    q.limit = static_cast<int>(limit);
    q.offset = offset;
    for (const std::string& status : q.statuses) {
      if (!IsOptimizationStatus(status)) {
        return Status::InvalidArgument("status must be one of queued, running, succeeded, failed, early-stopped, "
                                       "canceled; got '" + status.substr(0, 50) + "'",
                                       Json{{"parameter", "status"}});
      }
    }
    return service.List(q);
  });

  router.Get(base + "/{optimization_id}", [&service](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string id, OptimizationIdParam(req));
    RETURN_IF_ERROR(CheckOptimizationOwner(req, service, id));
    return service.Get(id);
  });

  router.Get(base + "/{optimization_id}/report", [&service](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string id, OptimizationIdParam(req));
    RETURN_IF_ERROR(CheckOptimizationOwner(req, service, id));
    return service.Report(id);
  });

  router.Get(base + "/{optimization_id}/status", [&service](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string id, OptimizationIdParam(req));
    RETURN_IF_ERROR(CheckOptimizationOwner(req, service, id));
    return service.StatusOf(id);
  });
  // Answered on the I/O thread (no hop to the handler pool, which a busy fast path delays):
  // one row read from a WAL snapshot, which never waits for the write lock.
  router.SetInline(base + "/{optimization_id}/status");

  router.Get(base + "/{optimization_id}/tasks", [&service](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string id, OptimizationIdParam(req));
    RETURN_IF_ERROR(CheckOptimizationOwner(req, service, id));
    OptimizationTaskQuery q;
    q.validation = false;
    q.status = req.query.Get("status");
    if (q.status && !IsOptimizationTaskStatus(*q.status)) {
      return Status::InvalidArgument("status must be one of pending, queued, running, succeeded, failed, canceled; "
                                     "got '" + q.status->substr(0, 50) + "'",
                                     Json{{"parameter", "status"}});
    }
    ASSIGN_OR_RETURN(q.sort, ParseTaskSort(req.query.Get("sort")));
    ASSIGN_OR_RETURN(int64_t limit, req.query.GetInt("limit", 50, 0, kMaxOptimizationPageLimit));
    ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0, 1000000000));
    q.limit = static_cast<int>(limit);
    q.offset = offset;
    return service.Tasks(id, q);
  });

  router.Post(base + "/{optimization_id}/cancel", [&service, audit](const HttpRequest& req) -> Result<Json> {
    RETURN_IF_ERROR(EmptyBody(req));
    ASSIGN_OR_RETURN(std::string id, OptimizationIdParam(req));
    Status allowed = CheckOptimizationOwner(req, service, id);
    Result<Json> canceled = allowed.ok() ? service.Cancel(id) : Result<Json>(allowed);
    Audit(audit, req, "optimization.cancel", id, canceled);
    return canceled;
  });

  router.Post(base + "/{optimization_id}/retry-failed", [&service, audit](const HttpRequest& req) -> Result<Json> {
    RETURN_IF_ERROR(EmptyBody(req));
    ASSIGN_OR_RETURN(std::string id, OptimizationIdParam(req));
    Status allowed = CheckOptimizationOwner(req, service, id);
    Result<Json> retried = allowed.ok() ? service.RetryFailed(id) : Result<Json>(allowed);
    Audit(audit, req, "optimization.retry_failed", id, retried);
    return retried;
  });

  router.Post(base + "/{optimization_id}/extend", [&service, audit](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {"param_space", "sampler"}));
    ASSIGN_OR_RETURN(std::string id, OptimizationIdParam(req));
    Status allowed = CheckOptimizationOwner(req, service, id);
    Result<Json> extended = allowed.ok() ? service.Extend(id, body) : Result<Json>(allowed);
    Audit(audit, req, "optimization.extend", id, extended);
    return extended;
  });

  router.GetRaw(base + "/{optimization_id}/export", [&service](const HttpRequest& req) -> Result<HttpResponse> {
    ASSIGN_OR_RETURN(std::string id, OptimizationIdParam(req));
    RETURN_IF_ERROR(CheckOptimizationOwner(req, service, id));
    ASSIGN_OR_RETURN(optimize::ExportArchive archive, service.Export(id));
    HttpResponse res;
    res.content_type = "application/zip";
    res.body = std::move(archive.bytes);
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + archive.filename + "\"");
    return res;
  });
}

}  // namespace alphalab::http

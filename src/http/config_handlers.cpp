// The config center over HTTP (docs/configs.md): /api/configs[...] for every tool declared under
// `configs:`, and the RD-Agent paths /api/rdagent/env and /api/rdagent/templates[...] as views of the
// same service for the tool `rdagent`. A managed file is "<tool>:<path>" (rdagent:.env).
// Reads (list, file, checks) are open to every signed-in caller; history is per owner: a user
// sees the entries they made (a diff against another's is a 403), an admin every one; writes
// and rollbacks need an admin when auth is on; both go to the audit log, refusals as "denied".
#include <optional>
#include <string>
#include <vector>

#include "configs/config_service.hpp"
#include "core/audit_log.hpp"
#include "http/auth.hpp"
#include "http/routes.hpp"

namespace alphalab::http {

namespace {

using configs::ConfigService;

std::string OperatorOf(const HttpRequest& req) { return OwnerId(req).value_or("local"); }

void Audit(AuditLog* audit, const HttpRequest& req, std::string action, const std::string& target,
           const Result<Json>& outcome) {
  RecordAudit(audit, req, std::move(action), target, outcome.status(),
              outcome.ok() ? Json{{"sha256", outcome->value("sha256", "")}} : Json::object());
}

Result<std::string> RequiredQuery(const HttpRequest& req, const char* name) {
  auto v = req.query.Get(name);
  if (!v) return Status::InvalidArgument(std::string(name) + " is required", Json{{"parameter", name}});
  return *v;
}

Result<std::string> StringField(const Json& body, const char* name, bool required) {
  if (!body.contains(name) || body[name].is_null()) {
    if (required) return Status::InvalidArgument(std::string(name) + " is required", Json{{"field", name}});
    return std::string();
  }
  if (!body[name].is_string()) return Status::InvalidArgument(std::string(name) + " must be a string", Json{{"field", name}});
  return body[name].get<std::string>();
}

Result<int64_t> IdField(const Json& body, const char* name) {
  if (!body.contains(name) || !body[name].is_number_integer() || body[name].get<int64_t>() < 1) {
    return Status::InvalidArgument(std::string(name) + " must be a history id (a positive integer)", Json{{"field", name}});
  }
  return body[name].get<int64_t>();
}

// A string field of the body as far as it can be read, for the audit line of a refused request.
std::string BodyFieldForAudit(const HttpRequest& req, const char* field) {
  auto body = req.JsonBody();
  if (!body.ok() || !body->is_object() || !body->contains(field) || !(*body)[field].is_string()) return "";
  return (*body)[field].get<std::string>().substr(0, 200);
}

// Writes and rollbacks are admin-only when auth is on (docs/security.md); a refusal is audited
// with outcome "denied", like a refused job.cancel. Its target: `target` followed by the body's
// `body_field` (when not null; read only for a refusal).
Status RequireAdminNaming(AuditLog* audit, const HttpRequest& req, const char* action, const std::string& target,
                          const char* body_field) {
  Status s = RequireAdmin(req);
  if (!s.ok()) RecordAudit(audit, req, action, target + (body_field ? BodyFieldForAudit(req, body_field) : ""), s);
  return s;
}

Result<Json> DoWrite(ConfigService& svc, AuditLog* audit, const HttpRequest& req, const std::string& path,
                     const Json& body) {
  configs::WriteRequest w;
  w.path = path;
  ASSIGN_OR_RETURN(w.content, StringField(body, "content", true));
  ASSIGN_OR_RETURN(w.base_sha256, StringField(body, "base_sha256", true));
  ASSIGN_OR_RETURN(w.note, StringField(body, "note", false));
  ASSIGN_OR_RETURN(w.task_id, StringField(body, "task_id", false));
  w.operator_name = OperatorOf(req);
  Result<Json> out = svc.Write(w);
  Audit(audit, req, "config.write", path, out);
  return out;
}

Result<Json> DoRollback(ConfigService& svc, AuditLog* audit, const HttpRequest& req, const std::string& path,
                        const Json& body) {
  ASSIGN_OR_RETURN(int64_t id, IdField(body, "history_id"));
  ASSIGN_OR_RETURN(std::string note, StringField(body, "note", false));
  Result<Json> out = svc.Rollback(path, id, OperatorOf(req), note);
  Audit(audit, req, "config.rollback", path, out);
  return out;
}

// History as `req` may see it: an admin's (or with auth off) the whole page; a user's only the
// entries they made (operator = their name), paged over those (issue 12: a user gets no other
// owner's config history).
Result<Json> VisibleHistory(ConfigService& svc, const HttpRequest& req, const std::string& path, int64_t limit,
                            int64_t offset) {
  const std::optional<std::string> mine = OwnerFilter(req);
  if (!mine) return svc.History(path, static_cast<int>(limit), offset);
  constexpr int kPage = 1000;
  std::vector<Json> own;
  Json page;
  for (int64_t at = 0;; at += kPage) {
    ASSIGN_OR_RETURN(page, svc.History(path, kPage, at));
    for (const Json& e : page["items"]) {
      if (e.value("operator", "") == *mine) own.push_back(e);
    }
    if (page["items"].size() < static_cast<size_t>(kPage)) break;
  }
  Json items = Json::array();
  for (int64_t i = offset; i < static_cast<int64_t>(own.size()) && static_cast<int64_t>(items.size()) < limit; ++i) {
    items.push_back(own[static_cast<size_t>(i)]);
  }
  page["items"] = std::move(items);
  page["total"] = own.size();
  return page;
}

// A diff's `from`/`to` history entry, when it is one another owner made: 403 for a user.
Status CheckHistoryVersion(ConfigService& svc, const HttpRequest& req, const std::string& which) {
  if (!OwnerFilter(req) || which == "current" || which.empty() || which.size() > 18 ||
      which.find_first_not_of("0123456789") != std::string::npos) {
    return Status::Ok();  // the service answers the malformed ones (400)
  }
  auto rec = svc.HistoryEntry(std::stoll(which));
  if (!rec.ok()) return Status::Ok();  // and the unknown ones (404)
  return CheckOwner(req, rec->operator_name, "config history entry " + which);
}

// The rdagent views: the tool's `env` file, its writable yaml files ("templates").
Result<std::string> RdagentEnvPath(const ConfigService& svc) {
  for (const ToolConfigDecl& t : svc.tools()) {
    if (t.name != "rdagent") continue;
    for (const ManagedFileDecl& f : t.files) {
      if (f.kind == "env") return "rdagent:" + f.path;
    }
    return Status::NotFound("the rdagent tool declares no env file (configs.rdagent.files, kind: env)");
  }
  return Status::NotFound("no tool 'rdagent' is declared under configs: in alphalab.yaml");
}

// `file`: a template's path relative to the rdagent root, or its file name when unique.
Result<std::string> RdagentTemplatePath(const ConfigService& svc, const std::string& file) {
  std::string found;
  for (const ToolConfigDecl& t : svc.tools()) {
    if (t.name != "rdagent") continue;
    for (const ManagedFileDecl& f : t.files) {
      if (f.kind != "yaml" || f.readonly) continue;
      if (f.path == file) return "rdagent:" + f.path;
      const size_t slash = f.path.rfind('/');
      const std::string name = slash == std::string::npos ? f.path : f.path.substr(slash + 1);
      if (name == file) {
        if (!found.empty()) {
          return Status::InvalidArgument("file '" + file.substr(0, 100) + "' names several templates; give its path",
                                         Json{{"field", "file"}});
        }
        found = "rdagent:" + f.path;
      }
    }
  }
  if (found.empty()) {
    return Status::NotFound("file '" + file.substr(0, 100) + "' is not an rdagent template", Json{{"field", "file"}});
  }
  return found;
}

}  // namespace

void RegisterConfigRoutes(Router& router, ConfigService& svc, AuditLog* audit) {
  router.Get("/api/configs", [&svc](const HttpRequest& req) -> Result<Json> { return svc.List(req.query.Get("tool")); });

  router.Get("/api/configs/file", [&svc](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string path, RequiredQuery(req, "path"));
    return svc.Read(path);
  });

  router.Put("/api/configs/file", [&svc, audit](const HttpRequest& req) -> Result<Json> {
    RETURN_IF_ERROR(RequireAdminNaming(audit, req, "config.write", "", "path"));
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {"path", "content", "base_sha256", "note", "task_id"}));
    ASSIGN_OR_RETURN(std::string path, StringField(body, "path", true));
    return DoWrite(svc, audit, req, path, body);
  });

  router.Get("/api/configs/history", [&svc](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string path, RequiredQuery(req, "path"));
    ASSIGN_OR_RETURN(int64_t limit, req.query.GetInt("limit", 100, 1, 1000));
    ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0, 1000000000));
    return VisibleHistory(svc, req, path, limit, offset);
  });

  router.Get("/api/configs/diff", [&svc](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string path, RequiredQuery(req, "path"));
    ASSIGN_OR_RETURN(std::string from, RequiredQuery(req, "from"));
    const std::string to = req.query.Get("to").value_or("current");
    RETURN_IF_ERROR(CheckHistoryVersion(svc, req, from));
    RETURN_IF_ERROR(CheckHistoryVersion(svc, req, to));
    return svc.Diff(path, from, to);
  });

  router.Post("/api/configs/rollback", [&svc, audit](const HttpRequest& req) -> Result<Json> {
    RETURN_IF_ERROR(RequireAdminNaming(audit, req, "config.rollback", "", "path"));
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {"path", "history_id", "note"}));
    ASSIGN_OR_RETURN(std::string path, StringField(body, "path", true));
    return DoRollback(svc, audit, req, path, body);
  });

  router.Post("/api/configs/check", [&svc](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {"tool", "check", "provider_uri"}));
    ASSIGN_OR_RETURN(std::string tool, StringField(body, "tool", true));
    ASSIGN_OR_RETURN(std::string check, StringField(body, "check", false));
    ASSIGN_OR_RETURN(std::string uri, StringField(body, "provider_uri", false));
    return svc.Check(tool, check.empty() ? "all" : check,
                     uri.empty() ? std::nullopt : std::optional<std::string>(uri));
  });

  // The RD-Agent paths (docs/configs.md): views of the same service for the tool `rdagent`.
  router.Get("/api/rdagent/env", [&svc](const HttpRequest&) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string path, RdagentEnvPath(svc));
    return svc.Read(path);
  });

  router.Put("/api/rdagent/env", [&svc, audit](const HttpRequest& req) -> Result<Json> {
    RETURN_IF_ERROR(RequireAdminNaming(audit, req, "config.write", "rdagent:.env", nullptr));
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {"content", "base_sha256", "note", "task_id"}));
    ASSIGN_OR_RETURN(std::string path, RdagentEnvPath(svc));
    return DoWrite(svc, audit, req, path, body);
  });

  router.Get("/api/rdagent/templates", [&svc](const HttpRequest&) -> Result<Json> {
    ASSIGN_OR_RETURN(Json listed, svc.List(std::string("rdagent")));
    Json items = Json::array();
    for (const Json& f : listed["tools"][0]["files"]) {
      if (f.value("kind", "") == "yaml" && !f.value("readonly", false)) items.push_back(f);
    }
    ASSIGN_OR_RETURN(configs::ManagedRef any, svc.Find(listed["tools"][0]["files"][0].value("path", "")));
    ASSIGN_OR_RETURN(Json consistency, svc.Consistency(*any.tool));
    return Json{{"items", std::move(items)}, {"consistency", std::move(consistency)}};
  });

  router.Get("/api/rdagent/templates/history", [&svc](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(std::string file, RequiredQuery(req, "file"));
    ASSIGN_OR_RETURN(std::string path, RdagentTemplatePath(svc, file));
    ASSIGN_OR_RETURN(int64_t limit, req.query.GetInt("limit", 100, 1, 1000));
    ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0, 1000000000));
    return VisibleHistory(svc, req, path, limit, offset);
  });

  router.Post("/api/rdagent/templates/rollback", [&svc, audit](const HttpRequest& req) -> Result<Json> {
    RETURN_IF_ERROR(RequireAdminNaming(audit, req, "config.rollback", "rdagent:", "file"));
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {"file", "history_id", "note"}));
    ASSIGN_OR_RETURN(std::string file, StringField(body, "file", true));
    ASSIGN_OR_RETURN(std::string path, RdagentTemplatePath(svc, file));
    return DoRollback(svc, audit, req, path, body);
  });
}

}  // namespace alphalab::http

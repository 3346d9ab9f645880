// `alphalab token create | list | revoke`: API tokens of a workspace (docs/security.md). A
// token is 32 random bytes, base64url, prefixed "alk_"; it is printed once by `create` and
// only its SHA-256 is stored (the workspace database, table auth_tokens). Creating and
// revoking are written to the audit log (reports/audit.log) as actor "cli:<user>".
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "app/composition_root.hpp"
#include "cli/command.hpp"
#include "config/workspace_config.hpp"
#include "core/audit_log.hpp"
#include "core/clock.hpp"
#include "core/workspace.hpp"
#include "store/token_store.hpp"

namespace alphalab::cli {
namespace {

struct TokenFlags {
  std::string workspace = ".";
  std::string db;
  std::string name;
  std::string role = "user";
  std::string which;  // revoke: id or name
  bool json = false;
};

struct Opened {
  std::unique_ptr<Workspace> ws;
  std::unique_ptr<app::Stores> stores;
};

Result<Opened> OpenStores(const TokenFlags& f) {
  Opened o;
  ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(f.workspace));
  o.ws = std::make_unique<Workspace>(std::move(ws));
  ASSIGN_OR_RETURN(WorkspaceConfig config, LoadWorkspaceConfig(*o.ws));
  ASSIGN_OR_RETURN(DbUrl url, app::ChooseDbUrl(config, f.db.empty() ? std::nullopt : std::optional<std::string>(f.db)));
  ASSIGN_OR_RETURN(o.stores, app::Stores::Open(*o.ws, url));
  return o;
}

std::string CliActor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user && *user ? user : std::to_string(::getuid()));
}

void Audit(const Workspace& ws, const std::string& action, const std::string& target, const Json& details) {
  AuditLog log(AuditLog::FileIn(ws.root()), SystemClock::Instance());
  AuditEvent e;
  e.action = action;
  e.actor = CliActor();
  e.target = target;
  e.details = details;
  log.Record(e);
}

Status Create(const TokenFlags& f) {
  RETURN_IF_ERROR(CheckTokenName(f.name).WithContext("--name"));
  RETURN_IF_ERROR(CheckTokenRole(f.role).WithContext("--role"));
  ASSIGN_OR_RETURN(Opened o, OpenStores(f));
  ASSIGN_OR_RETURN(IssuedToken issued, IssueToken(o.stores->tokens(), f.name, f.role, SystemClock::Instance().Now()));
  const TokenRecord& t = issued.record;
  const std::string& token = issued.secret;
  Audit(*o.ws, "token.create", t.id, Json{{"name", t.name}, {"role", t.role}});
  if (f.json) {
    std::printf("%s\n", DumpJson(Json{{"id", t.id}, {"name", t.name}, {"role", t.role}, {"token", token}}).c_str());
  } else {
    std::printf("%s\n", token.c_str());
    std::fprintf(stderr,
                 "created token %s for '%s' (role %s). It is shown only this once: keep it somewhere safe.\n"
                 "CLI: export ALPHALAB_TOKEN=... (or save it in ~/.config/alphalab/token); browser: paste it "
                 "when the UI asks.\n",
                 t.id.c_str(), t.name.c_str(), t.role.c_str());
  }
  return Status::Ok();
}

Status List(const TokenFlags& f) {
  ASSIGN_OR_RETURN(Opened o, OpenStores(f));
  ASSIGN_OR_RETURN(std::vector<TokenRecord> all, o.stores->tokens().ListTokens());
  if (f.json) {
    Json items = Json::array();
    for (const TokenRecord& t : all) items.push_back(TokenJson(t));
    std::printf("%s\n", DumpJson(Json{{"items", items}}).c_str());
    return Status::Ok();
  }
  std::printf("%-22s %-20s %-6s %-25s %-25s %s\n", "ID", "NAME", "ROLE", "CREATED", "LAST USED", "STATUS");
  for (const TokenRecord& t : all) {
    std::printf("%-22s %-20s %-6s %-25s %-25s %s\n", t.id.c_str(), t.name.c_str(), t.role.c_str(),
                FormatIso8601(t.created_at).c_str(), t.last_used ? FormatIso8601(*t.last_used).c_str() : "-",
                t.revoked ? "revoked" : "active");
  }
  return Status::Ok();
}

Status Revoke(const TokenFlags& f) {
  ASSIGN_OR_RETURN(Opened o, OpenStores(f));
  TokenStore& tokens = o.stores->tokens();
  std::optional<TokenRecord> target;
  if (auto byid = tokens.GetToken(f.which); byid.ok()) {
    target = *byid;
  } else {
    ASSIGN_OR_RETURN(std::vector<TokenRecord> all, tokens.ListTokens());
    for (const TokenRecord& t : all) {
      if (t.name == f.which && !t.revoked) target = t;
    }
  }
  if (!target) return Status::NotFound("no token with id or (active) name '" + f.which + "'");
  RETURN_IF_ERROR(tokens.RevokeToken(target->id, SystemClock::Instance().Now()));
  Audit(*o.ws, "token.revoke", target->id, Json{{"name", target->name}});
  std::printf("revoked %s (%s)\n", target->id.c_str(), target->name.c_str());
  return Status::Ok();
}

void SetupTokenCommands(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<TokenFlags>();
  CLI::App* token = app.add_subcommand("token", "API tokens (auth.mode token): create, list, revoke");
  token->require_subcommand(1);
  auto common = [f](CLI::App* c) {
    c->add_option("--workspace,-w", f->workspace, "workspace directory")->capture_default_str();
    c->add_option("--db", f->db, "database URL (default: alphalab.yaml storage.db)");
  };
  auto run = [f, &exit_code](const char* what, Status (*fn)(const TokenFlags&)) {
    Status s = fn(*f);
    if (!s.ok()) {
      std::fprintf(stderr, "alphalab token %s: %s\n", what, s.message().c_str());
      exit_code = 1;
    }
  };
  CLI::App* create = token->add_subcommand("create", "Create a token and print it once");
  common(create);
  create->add_option("--name", f->name, "who the token is for (its owner_id on jobs)")->required();
  create->add_option("--role", f->role, "admin (sees and manages everything) or user (own jobs only)")
      ->capture_default_str()->check(CLI::IsMember({"admin", "user"}));
  create->add_flag("--json", f->json, "print {id, name, role, token} as JSON");
  create->callback([run] { run("create", Create); });
  CLI::App* list = token->add_subcommand("list", "List tokens (never their secrets)");
  common(list);
  list->add_flag("--json", f->json, "print JSON");
  list->callback([run] { run("list", List); });
  CLI::App* revoke = token->add_subcommand("revoke", "Revoke a token (by id or name); its sessions end");
  common(revoke);
  revoke->add_option("token", f->which, "token id (tok_...) or name")->required();
  revoke->callback([run] { run("revoke", Revoke); });
}

}  // namespace
ALPHALAB_REGISTER_COMMAND(75, SetupTokenCommands);
}  // namespace alphalab::cli

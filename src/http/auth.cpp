#include "http/auth.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <spdlog/spdlog.h>

#include "core/ids.hpp"
#include "core/secret.hpp"
#include "http/api_error.hpp"
#include "store/token_store.hpp"

namespace alphalab::http {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "name:port" / "[v6]:port" / "name" -> the name part (brackets kept for v6).
std::string_view HostName(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  const size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  std::string_view port = host.substr(colon + 1);
  if (port.empty() || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return host;
  }
  return host.substr(0, colon);
}

bool IsIpv4Literal(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('.', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view part = s.substr(i, j - i);
    if (part.empty() || part.size() > 3) return false;
    int value = 0;  // at most 3 digits: no overflow, no allocation (every request's Host)
    for (const char c : part) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    ++parts;
    if (j == s.size()) break;
    i = j + 1;
  }
  return parts == 4;
}

bool IsIpv6Literal(std::string_view s) {  // bracketed, as in a Host header
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  std::string_view in = s.substr(1, s.size() - 2);
  return std::all_of(in.begin(), in.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; });
}

bool IsStateChanging(HttpMethod m) {
  return m == HttpMethod::kPost || m == HttpMethod::kPut || m == HttpMethod::kPatch || m == HttpMethod::kDelete;
}

bool IsPublicPath(std::string_view path) {
  if (path == "/api/health" || path == "/api/session" || path == "/api/openapi.json") return true;
  const bool api = path == "/api" || path.rfind("/api/", 0) == 0;
  return !api && path != "/metrics";  // the UI's static files
}

std::optional<std::string> CookieValue(const HttpRequest& req, std::string_view name) {
  auto header = req.Header("cookie");
  if (!header) return std::nullopt;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const size_t semi = rest.find(';');
    std::string_view item = Trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (Trim(item.substr(0, eq)) == name) return std::string(Trim(item.substr(eq + 1)));
  }
  return std::nullopt;
}

HttpResponse Refuse(const Status& status, int http_status = 0) {
  HttpResponse res = ErrorResponse(status, http_status);
  if (status.code() == StatusCode::kUnauthenticated) res.headers.emplace_back("WWW-Authenticate", "Bearer");
  return res;
}

Json PrincipalJson(const Principal& p) {
  return Json{{"name", p.name}, {"role", p.role}, {"token_id", p.token_id}};
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  const std::string h = Lower(host);
  if (h == "localhost" || h == "::1" || h == "[::1]") return true;
  return IsIpv4Literal(h) && h.rfind("127.", 0) == 0;
}

std::optional<std::string> OwnerId(const HttpRequest& req) {
  if (!req.principal) return std::nullopt;
  return req.principal->name;
}

std::optional<std::string> OwnerFilter(const HttpRequest& req) {
  if (!req.principal || req.principal->admin()) return std::nullopt;
  return req.principal->name;
}

Status CheckOwner(const HttpRequest& req, const std::optional<std::string>& owner_id, std::string_view what) {
  if (!req.principal || req.principal->admin()) return Status::Ok();
  if (owner_id && *owner_id == req.principal->name) return Status::Ok();
  return Status(StatusCode::kPermissionDenied, std::string(what) + " belongs to another user",
                Json{{"owner_id", owner_id ? Json(*owner_id) : Json()}});
}

Status RequireAdmin(const HttpRequest& req) {
  if (!req.principal || req.principal->admin()) return Status::Ok();
  return Status::PermissionDenied("this needs an admin token (" + req.principal->name + " is a user)");
}

AuditEvent AuditFor(const HttpRequest& req, std::string action, std::string target) {
  AuditEvent e;
  e.action = std::move(action);
  e.target = std::move(target);
  e.remote = req.remote;
  if (req.principal) {
    e.actor = req.principal->name;
    e.role = req.principal->role;
  } else {
    e.actor = "anonymous";
  }
  return e;
}

void RecordAudit(AuditLog* audit, const HttpRequest& req, std::string action, std::string target, const Status& outcome,
                 Json details) {
  if (!audit) return;
  AuditEvent e = AuditFor(req, std::move(action), std::move(target));
  e.details = details.is_object() ? std::move(details) : Json::object();
  if (!outcome.ok()) {
    e.outcome = outcome.code() == StatusCode::kPermissionDenied ? "denied" : "failed";
    e.details["error"] = outcome.message().substr(0, 300);
  }
  audit->Record(e);
}

Status RequireAdminAudited(AuditLog* audit, const HttpRequest& req, std::string action, std::string target) {
  Status s = RequireAdmin(req);
  if (!s.ok()) RecordAudit(audit, req, std::move(action), std::move(target), s);
  return s;
}

AuthGate::AuthGate(AuthGateOptions options, TokenStore* tokens, const Clock& clock, AuditLog* audit)
    : options_(std::move(options)), tokens_(tokens), clock_(clock), audit_(audit) {
  options_.bound_host = Lower(options_.bound_host);
}

bool AuthGate::HostAllowed(std::string_view host_header) const {
  const std::string host = Lower(Trim(host_header));
  if (host.empty()) return true;  // HTTP/1.0 without Host: not a browser
  const std::string name(HostName(host));
  if (name == "localhost" || IsIpv4Literal(name) || IsIpv6Literal(name)) return true;
  if (name == options_.bound_host || host == options_.bound_host) return true;
  for (const std::string& h : options_.hosts) {
    if (h == host || h == name) return true;
  }
  return false;
}

bool AuthGate::OriginAllowed(std::string_view origin, std::string_view host_header) const {
  const std::string o = Lower(Trim(origin));
  const std::string host = Lower(Trim(host_header));
  if (!host.empty() && (o == "http://" + host || o == "https://" + host)) return true;
  return std::find(options_.origins.begin(), options_.origins.end(), o) != options_.origins.end();
}

std::optional<HttpResponse> AuthGate::Check(HttpRequest& req, bool inline_route) {
  const std::string host = req.Header("host").value_or("");
  if (!HostAllowed(host)) {
    return Refuse(Status(StatusCode::kPermissionDenied,
                         "Host '" + host.substr(0, 100) + "' is not a name of this server (add it to server.hosts)",
                         Json{{"host", host.substr(0, 100)}}),
                  421);
  }
  if (auto origin = req.Header("origin"); origin && !OriginAllowed(*origin, host)) {
    return Refuse(Status(StatusCode::kPermissionDenied,
                         "cross-origin request from '" + origin->substr(0, 100) +
                             "' refused (add it to server.origins to allow it)",
                         Json{{"origin", origin->substr(0, 100)}}));
  }
  if (IsStateChanging(req.method)) {
    const std::string header = req.Header("content-type").value_or("");
    const std::string type = Lower(Trim(std::string_view(header).substr(0, header.find(';'))));
    if (type != "application/json") {
      return Refuse(Status(StatusCode::kInvalidArgument,
                           req.method_name + " requests need Content-Type: application/json" +
                               (type.empty() ? "" : ", got '" + type.substr(0, 60) + "'"),
                           Json{{"content_type", type.substr(0, 60)}}),
                    415);
    }
  }
  if (options_.mode == AuthMode::kNone) return std::nullopt;
  const bool is_public = IsPublicPath(req.path);
  auto who = Authenticate(req, inline_route);
  if (who.ok()) {
    req.principal = std::move(who).value();
    return std::nullopt;
  }
  if (is_public) return std::nullopt;  // public routes still learn who asks when they can
  return Refuse(who.status());
}

Result<Principal> AuthGate::Authenticate(const HttpRequest& req, bool inline_route) {
  if (auto header = req.Header("authorization")) {
    std::string_view h = Trim(*header);
    if (h.size() < 7 || Lower(h.substr(0, 7)) != "bearer ") {
      return Status::Unauthenticated("the Authorization header must be 'Bearer <token>'");
    }
    return PrincipalForToken(std::string(Trim(h.substr(7))), inline_route);
  }
  if (auto cookie = CookieValue(req, kSessionCookie); cookie && !cookie->empty()) {
    return PrincipalForSession(*cookie, inline_route);
  }
  return Status::Unauthenticated(
      "authentication required: send 'Authorization: Bearer <token>' or sign in (POST /api/session)");
}

std::optional<AuthGate::Cached> AuthGate::FromCache(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() - it->second.verified > options_.cache_ttl) {
    cache_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void AuthGate::ToCache(const std::string& key, Cached entry) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[key] = std::move(entry);
}

void AuthGate::Touch(const std::string& token_id, bool inline_route) {
  if (inline_route || !tokens_) return;  // never a write on an I/O thread
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = touched_.find(token_id);
    if (it != touched_.end() && now - it->second < std::chrono::seconds(60)) return;
    touched_[token_id] = now;
  }
  Status s = tokens_->TouchToken(token_id, clock_.Now());
  if (!s.ok()) spdlog::warn(R"({{"msg":"token last_used not recorded","error":{}}})", Json(s.message()).dump());
}

Result<Principal> AuthGate::PrincipalForToken(const std::string& token, bool inline_route) {
  if (!tokens_) return Status::Unauthenticated("auth is off");
  if (token.empty() || token.size() > 200) return Status::Unauthenticated("invalid token");
  const std::string hash = Sha256Hex(token);
  const std::string key = "b:" + hash;
  if (auto hit = FromCache(key)) {
    Touch(hit->principal.token_id, inline_route);
    return hit->principal;
  }
  auto rec = tokens_->FindTokenByHash(hash);
  if (!rec.ok()) {
    if (rec.status().IsNotFound()) return Status::Unauthenticated("invalid token");
    return rec.status();
  }
  if (!ConstantTimeEquals(rec->hash, hash)) return Status::Unauthenticated("invalid token");
  if (rec->revoked) return Status::Unauthenticated("this token was revoked");
  Principal p{rec->id, rec->name, rec->role};
  ToCache(key, Cached{p, std::chrono::steady_clock::now(), std::nullopt});
  Touch(p.token_id, inline_route);
  return p;
}

Result<Principal> AuthGate::PrincipalForSession(const std::string& session_id, bool inline_route) {
  if (!tokens_) return Status::Unauthenticated("auth is off");
  if (session_id.size() > 200) return Status::Unauthenticated("invalid session");
  const std::string hash = Sha256Hex(session_id);
  const std::string key = "s:" + hash;
  const TimePoint now = clock_.Now();
  if (auto hit = FromCache(key)) {
    if (hit->expires && *hit->expires <= now) return Status::Unauthenticated("the session expired: sign in again");
    Touch(hit->principal.token_id, inline_route);
    return hit->principal;
  }
  auto session = tokens_->FindSession(hash);
  if (!session.ok()) {
    if (session.status().IsNotFound()) return Status::Unauthenticated("the session ended: sign in again");
    return session.status();
  }
  if (session->expires_at <= now) return Status::Unauthenticated("the session expired: sign in again");
  auto rec = tokens_->GetToken(session->token_id);
  if (!rec.ok() || rec->revoked) return Status::Unauthenticated("the session's token was revoked");
  Principal p{rec->id, rec->name, rec->role};
  ToCache(key, Cached{p, std::chrono::steady_clock::now(), session->expires_at});
  Touch(p.token_id, inline_route);
  return p;
}

Result<HttpResponse> AuthGate::Login(const HttpRequest& req) {
  if (options_.mode == AuthMode::kNone || !tokens_) {
    return Status::FailedPrecondition("auth is off (auth.mode: none): there is nothing to sign in to");
  }
  const std::string address = ClientAddress(req.remote);
  if (const int64_t wait = TakeLoginAttempt(address); wait > 0) {
    if (audit_) {
      AuditEvent e = AuditFor(req, "session.login", "");
      e.outcome = "denied";
      e.details = Json{{"reason", "rate limited"}};
      audit_->Record(e);
    }
    HttpResponse res = ErrorResponse(Status::ResourceExhausted(
        "too many sign-in attempts from this address: try again in " + std::to_string(wait) + " s",
        Json{{"retry_after_s", wait}}));
    res.headers.emplace_back("Retry-After", std::to_string(wait));
    return res;
  }
  ASSIGN_OR_RETURN(Json body, req.JsonBody());
  RETURN_IF_ERROR(CheckKnownKeys(body, {"token"}));
  ASSIGN_OR_RETURN(std::string token, GetString(body, "token"));
  auto who = PrincipalForToken(token, /*inline_route=*/false);
  if (who.ok()) GiveBackLoginAttempt(address);
  if (!who.ok()) {
    if (audit_) {
      AuditEvent e = AuditFor(req, "session.login", "");
      e.outcome = "denied";
      e.details = Json{{"reason", who.status().message()}};
      audit_->Record(e);
    }
    return who.status();
  }
  ASSIGN_OR_RETURN(std::string session_id, RandomBase64Url(32));
  const TimePoint now = clock_.Now();
  SessionRecord s;
  s.id_hash = Sha256Hex(session_id);
  s.token_id = who->token_id;
  s.created_at = now;
  s.expires_at = now + std::chrono::hours(options_.session_hours);
  if (Result<int64_t> swept = tokens_->DeleteExpiredSessions(now); !swept.ok()) {
    spdlog::warn(R"({{"msg":"expired sessions not swept","error":{}}})", Json(swept.status().message()).dump());
  }
  RETURN_IF_ERROR(tokens_->CreateSession(s));
  if (audit_) {
    HttpRequest as = req;
    as.principal = *who;
    audit_->Record(AuditFor(as, "session.login", who->token_id));
  }
  HttpResponse res = HttpResponse::FromJson(
      Json{{"principal", PrincipalJson(*who)}, {"expires_at", FormatIso8601(s.expires_at)}});
  res.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + session_id +
                                             "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
                                             std::to_string(options_.session_hours * 3600));
  res.headers.emplace_back("Cache-Control", "no-store");
  return res;
}

std::string ClientAddress(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    const size_t close = remote.find(']');
    return std::string(remote.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  const size_t colon = remote.rfind(':');
  if (colon == std::string_view::npos || remote.find(':') != colon) return std::string(remote);  // no port, or bare IPv6
  return std::string(remote.substr(0, colon));
}

int64_t AuthGate::TakeLoginAttempt(const std::string& address) {
  const double burst = std::max(1, options_.login_burst);
  const double refill_ms = static_cast<double>(std::max<int64_t>(1, options_.login_refill.count()));
  const TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> lock(login_mu_);
  auto refill = [&](LoginBucket& b) {
    const double elapsed_ms =
        static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(now - b.at).count());
    if (elapsed_ms > 0) b.attempts = std::min(burst, b.attempts + elapsed_ms / refill_ms);
    b.at = now;
  };
  if (login_buckets_.size() >= 10000 && login_buckets_.count(address) == 0) {
    // Bounded memory: forget addresses whose bucket is full again (they lose nothing).
    for (auto it = login_buckets_.begin(); it != login_buckets_.end();) {
      refill(it->second);
      it = it->second.attempts >= burst ? login_buckets_.erase(it) : std::next(it);
    }
    if (login_buckets_.size() >= 100000) login_buckets_.clear();  // a flood of addresses: start over
  }
  auto [it, added] = login_buckets_.try_emplace(address, LoginBucket{burst, now});
  LoginBucket& b = it->second;
  refill(b);
  if (b.attempts >= 1) {
    b.attempts -= 1;
    return 0;
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1 - b.attempts) * refill_ms / 1000)));
}

void AuthGate::GiveBackLoginAttempt(const std::string& address) {
  std::lock_guard<std::mutex> lock(login_mu_);
  auto it = login_buckets_.find(address);
  if (it != login_buckets_.end()) {
    it->second.attempts = std::min<double>(std::max(1, options_.login_burst), it->second.attempts + 1);
  }
}

Result<HttpResponse> AuthGate::Logout(const HttpRequest& req) {
  if (tokens_) {
    if (auto cookie = CookieValue(req, kSessionCookie); cookie && !cookie->empty()) {
      const std::string hash = Sha256Hex(*cookie);
      RETURN_IF_ERROR(tokens_->DeleteSession(hash));
      std::lock_guard<std::mutex> lock(mu_);
      cache_.erase("s:" + hash);
    }
  }
  if (audit_ && req.principal) audit_->Record(AuditFor(req, "session.logout", req.principal->token_id));
  HttpResponse res = HttpResponse::FromJson(Json{{"signed_out", true}});
  res.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  return res;
}

Json AuthGate::SessionInfo(const HttpRequest& req) {
  return Json{{"auth", options_.mode == AuthMode::kToken ? "token" : "none"},
              {"insecure", options_.insecure},
              {"authenticated", req.principal.has_value()},
              {"principal", req.principal ? PrincipalJson(*req.principal) : Json()}};
}

Result<Json> AuthGate::ListTokens(const HttpRequest& req) {
  RETURN_IF_ERROR(RequireAdmin(req));
  Json items = Json::array();
  if (tokens_) {
    ASSIGN_OR_RETURN(std::vector<TokenRecord> all, tokens_->ListTokens());
    for (const TokenRecord& t : all) items.push_back(TokenJson(t));
  }
  return Json{{"items", std::move(items)}};
}

void AuthGate::Audit(const HttpRequest& req, const char* action, const std::string& target, const Status& outcome,
                     Json details) {
  RecordAudit(audit_, req, action, target, outcome, std::move(details));
}

Status AuthGate::TokensManagedHere() const {
  // With auth none every caller is anonymous: a token minted then (say, during an --insecure
  // spell) would outlive it as a valid credential once auth is on. The CLI still makes them.
  if (options_.mode == AuthMode::kNone || !tokens_) {
    return Status::FailedPrecondition(
        "auth is off (auth.mode: none): tokens are managed over HTTP only with auth on; use `alphalab token`");
  }
  return Status::Ok();
}

Result<Json> AuthGate::CreateToken(const HttpRequest& req) {
  if (Status admin = RequireAdmin(req); !admin.ok()) {
    Audit(req, "token.create", "", admin);
    return admin;
  }
  RETURN_IF_ERROR(TokensManagedHere());
  ASSIGN_OR_RETURN(Json body, req.JsonBody());
  RETURN_IF_ERROR(CheckKnownKeys(body, {"name", "role"}));
  ASSIGN_OR_RETURN(std::string name, GetString(body, "name"));
  ASSIGN_OR_RETURN(std::optional<std::string> role, GetOptionalString(body, "role"));
  Result<IssuedToken> issued = IssueToken(*tokens_, name, role.value_or("user"), clock_.Now());
  Json details{{"name", name.substr(0, 64)}, {"role", role.value_or("user").substr(0, 16)}};
  Audit(req, "token.create", issued.ok() ? issued->record.id : "", issued.status(), std::move(details));
  if (!issued.ok()) return issued.status();
  Json out = TokenJson(issued->record);
  out["token"] = issued->secret;  // shown this once
  return out;
}

Result<Json> AuthGate::RevokeToken(const HttpRequest& req) {
  const std::string id(req.Param("token_id"));
  if (Status admin = RequireAdmin(req); !admin.ok()) {
    Audit(req, "token.revoke", id.substr(0, 100), admin);
    return admin;
  }
  RETURN_IF_ERROR(TokensManagedHere());
  ASSIGN_OR_RETURN(Json body, req.JsonBody());
  RETURN_IF_ERROR(CheckKnownKeys(body, {}));  // the body carries no fields (empty or {})
  if (!IsSafeIdentifier(id)) {
    return Status::InvalidArgument("'" + id.substr(0, 100) + "' is not a valid token id", Json{{"token_id", id.substr(0, 100)}});
  }
  Result<TokenRecord> rec = tokens_->GetToken(id);
  Status revoked = rec.ok() ? tokens_->RevokeToken(id, clock_.Now()) : rec.status();
  Audit(req, "token.revoke", id, revoked, rec.ok() ? Json{{"name", rec->name}} : Json::object());
  if (!revoked.ok()) {
    if (revoked.IsNotFound()) return Status::NotFound("no token with id '" + id + "'", Json{{"token_id", id}});
    return revoked;
  }
  {  // at once, not after the cache's lifetime: its bearer and its sessions stop here
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = it->second.principal.token_id == id ? cache_.erase(it) : std::next(it);
    }
  }
  ASSIGN_OR_RETURN(TokenRecord after, tokens_->GetToken(id));
  return TokenJson(after);
}

void RegisterSessionRoutes(Router& router, AuthGate& gate) {
  router.Get("/api/session", [&gate](const HttpRequest& req) -> Result<Json> { return gate.SessionInfo(req); });
  router.AddRaw(HttpMethod::kPost, "/api/session", [&gate](const HttpRequest& req) { return gate.Login(req); });
  router.AddRaw(HttpMethod::kDelete, "/api/session", [&gate](const HttpRequest& req) { return gate.Logout(req); });
  router.Get("/api/tokens", [&gate](const HttpRequest& req) { return gate.ListTokens(req); });
  router.Post("/api/tokens", [&gate](const HttpRequest& req) { return gate.CreateToken(req); });
  router.Delete("/api/tokens/{token_id}", [&gate](const HttpRequest& req) { return gate.RevokeToken(req); });
}

}  // namespace alphalab::http

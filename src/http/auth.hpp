// The auth gate: the one place every request passes before its handler (installed as the
// router's guard by the composition root), and the handlers' accessors for who is asking.
//
// Checks, in this order (docs/security.md, docs/api.md "Authentication"):
//   1. Host: the Host header names this server: an IP literal, "localhost", the bound host,
//      or a name under server.hosts (DNS rebinding) -> else 421.
//   2. Origin (any method, when the header is present): the server's own origin
//      (http[s]://<Host>) or one under server.origins -> else 403.
//   3. POST/PUT/PATCH/DELETE carry Content-Type: application/json -> else 415 (a cross-site
//      form or text/plain fetch cannot send it without a CORS preflight the server never grants).
//   4. auth.mode token: every /api route and /metrics needs `Authorization: Bearer <token>` or
//      the session cookie -> else 401; /api/health, /api/session and /api/openapi.json are
//      public, as are the UI's static files.
// Handlers then call OwnerId (what they create), OwnerFilter (what a list shows), CheckOwner
// (403 for a user on another owner's object) and RequireAdmin (403 for a user).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/workspace_config.hpp"
#include "core/audit_log.hpp"
#include "core/clock.hpp"
#include "http/router.hpp"

namespace alphalab {
class TokenStore;
}

namespace alphalab::http {

// ---- Accessors for handlers --------------------------------------------------------------
// The owner_id to store on what this request creates: the token's name; nullopt when auth is off.
std::optional<std::string> OwnerId(const HttpRequest& req);
// The owner a list must be limited to: the caller's name for a `user`, nullopt for an admin or
// when auth is off.
std::optional<std::string> OwnerFilter(const HttpRequest& req);
// OK when the caller may read or change an object owned by `owner_id` (admins and auth off:
// always; a user: only their own). PermissionDenied (403) naming `what` otherwise.
Status CheckOwner(const HttpRequest& req, const std::optional<std::string>& owner_id, std::string_view what);
// PermissionDenied (403) unless the caller is an admin (or auth is off).
Status RequireAdmin(const HttpRequest& req);
// The audit fields of a request: actor (token name or "anonymous"), role, remote.
AuditEvent AuditFor(const HttpRequest& req, std::string action, std::string target);

// One audit line for `req`: outcome "ok", or "denied" (PermissionDenied) / "failed" with the
// error message (cut to 300 characters) added to `details`. Nothing when `audit` is null.
void RecordAudit(AuditLog* audit, const HttpRequest& req, std::string action, std::string target, const Status& outcome,
                 Json details = Json::object());
// RequireAdmin, and a refusal audited as `action` on `target` with outcome "denied".
Status RequireAdminAudited(AuditLog* audit, const HttpRequest& req, std::string action, std::string target);

inline constexpr char kSessionCookie[] = "alphalab_session";
inline constexpr char kTokenPrefix[] = "alk_";

struct AuthGateOptions {
  AuthMode mode = AuthMode::kNone;
  std::string bound_host = "127.0.0.1";  // the address the server binds
  std::vector<std::string> hosts;        // server.hosts (lowercase)
  std::vector<std::string> origins;      // server.origins (lowercase)
  bool insecure = false;                 // a non-loopback bind with auth none (--insecure)
  int session_hours = 12;
  // How long a verified token or session is trusted before the store is asked again (a token
  // revoked from the CLI stops working within this time; one revoked through the API at once).
  std::chrono::milliseconds cache_ttl{5000};
  // Sign-in attempts (POST /api/session) per client address: a burst of `login_burst`, then
  // one more every `login_refill`. A successful sign-in gives its attempt back, so only failed
  // ones count. Beyond that: 429 with Retry-After, and the token is not even checked.
  int login_burst = 10;
  std::chrono::milliseconds login_refill{6000};
};

class AuthGate {
 public:
  // `tokens` may be null only with mode none. `audit` may be null (no audit lines).
  AuthGate(AuthGateOptions options, TokenStore* tokens, const Clock& clock, AuditLog* audit);

  // The router guard: nullopt to go on (req.principal set in token mode), else the refusal.
  std::optional<HttpResponse> Check(HttpRequest& req, bool inline_route);

  // POST /api/session {token}: a session cookie for a valid token.
  Result<HttpResponse> Login(const HttpRequest& req);
  // DELETE /api/session: ends the cookie's session, clears the cookie.
  Result<HttpResponse> Logout(const HttpRequest& req);
  // GET /api/session: {auth, insecure, authenticated, principal}.
  Json SessionInfo(const HttpRequest& req);
  // GET /api/tokens (admin): the tokens without their hashes.
  Result<Json> ListTokens(const HttpRequest& req);
  // POST /api/tokens {name, role?} (admin; auth mode token only, else 409): a new token, its
  // secret in `token` this once.
  Result<Json> CreateToken(const HttpRequest& req);
  // DELETE /api/tokens/{token_id} (admin; auth mode token only, else 409): revokes it and its
  // sessions, at once on this server.
  Result<Json> RevokeToken(const HttpRequest& req);

  const AuthGateOptions& options() const { return options_; }

  // Exposed for tests: the checks of steps 1 and 2.
  bool HostAllowed(std::string_view host_header) const;
  bool OriginAllowed(std::string_view origin, std::string_view host_header) const;

 private:
  struct Cached {
    Principal principal;
    std::chrono::steady_clock::time_point verified;
    std::optional<TimePoint> expires;  // sessions
  };
  Result<Principal> Authenticate(const HttpRequest& req, bool inline_route);
  Result<Principal> PrincipalForToken(const std::string& token, bool inline_route);
  Result<Principal> PrincipalForSession(const std::string& session_id, bool inline_route);
  std::optional<Cached> FromCache(const std::string& key);
  void ToCache(const std::string& key, Cached entry);
  void Touch(const std::string& token_id, bool inline_route);
  // OK when tokens may be created and revoked over HTTP (auth mode token), else FailedPrecondition.
  Status TokensManagedHere() const;
  // One audit line for a token route; a failed or refused `outcome` adds its message.
  void Audit(const HttpRequest& req, const char* action, const std::string& target, const Status& outcome,
             Json details = Json::object());

  // Takes one sign-in attempt from `address`'s bucket: 0 when allowed, else the seconds until
  // the next attempt is (Retry-After). GiveBackLoginAttempt returns it after a success.
  int64_t TakeLoginAttempt(const std::string& address);
  void GiveBackLoginAttempt(const std::string& address);

  AuthGateOptions options_;
  TokenStore* tokens_;
  const Clock& clock_;
  AuditLog* audit_;
  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> touched_;
  struct LoginBucket {
    double attempts = 0;  // attempts left (fractional while refilling)
    TimePoint at;         // when `attempts` was computed
  };
  std::mutex login_mu_;
  std::unordered_map<std::string, LoginBucket> login_buckets_;  // client address -> bucket
};

// The client address of a request's remote ("127.0.0.1:53422" -> "127.0.0.1",
// "[::1]:8000" -> "::1").
std::string ClientAddress(std::string_view remote);

// /api/session (GET, POST, DELETE) and /api/tokens (GET, POST, DELETE /{token_id}; admin).
void RegisterSessionRoutes(Router& router, AuthGate& gate);

// True for loopback addresses and names: 127.0.0.0/8, ::1, localhost.
bool IsLoopbackHost(std::string_view host);

}  // namespace alphalab::http

// TokenStore: API tokens and browser sessions (docs/security.md). Only SHA-256 digests of
// tokens and session ids are stored, never the secrets themselves.
//
// Semantics every implementation keeps (the conformance suite, tests/store/token_store_conformance.hpp):
// - token ids are unique (AlreadyExists); a name is unique among tokens not revoked
//   (AlreadyExists), so a revoked token's name can be given to its replacement;
// - FindTokenByHash finds revoked tokens too (callers check `revoked`); NotFound otherwise;
// - RevokeToken is idempotent (keeps the first revoked_at) and deletes the token's sessions;
// - ListTokens: every token, newest first (created_at, then id, descending);
// - sessions are keyed by the digest of their id; FindSession returns expired ones too
//   (callers compare expires_at); DeleteExpiredSessions removes those with expires_at <= now.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab {

struct TokenRecord {
  std::string id;          // "tok_" + 16 hex
  std::string name;        // who it belongs to; the owner_id of what it creates
  std::string role;        // "admin" | "user"
  std::string hash;        // SHA-256 hex of the token
  TimePoint created_at{};
  std::optional<TimePoint> last_used;
  bool revoked = false;
  std::optional<TimePoint> revoked_at;

  bool operator==(const TokenRecord&) const = default;
};

struct SessionRecord {
  std::string id_hash;     // SHA-256 hex of the session id (the cookie value)
  std::string token_id;    // the token it was opened with
  TimePoint created_at{};
  TimePoint expires_at{};

  bool operator==(const SessionRecord&) const = default;
};

// "admin" or "user"; InvalidArgument otherwise.
inline Status CheckTokenRole(const std::string& role) {
  if (role == "admin" || role == "user") return Status::Ok();
  return Status::InvalidArgument("role must be admin or user, got '" + role.substr(0, 40) + "'");
}

// A token name (the owner_id of what it creates): 1-64 letters, digits, '_', '-', '.', '@';
// InvalidArgument otherwise.
Status CheckTokenName(const std::string& name);

class TokenStore;

// A token just made: its record (as stored) and its secret ("alk_" + 32 random bytes,
// base64url), which exists only here: the store keeps its SHA-256.
struct IssuedToken {
  TokenRecord record;
  std::string secret;
};
// Checks the name and role, makes a new id and secret and stores the token (AlreadyExists when
// a live token has the name). Used by `alphalab token create` and POST /api/tokens.
Result<IssuedToken> IssueToken(TokenStore& store, const std::string& name, const std::string& role, TimePoint now);

// {id, name, role, created_at, last_used, revoked}: never the hash.
Json TokenJson(const TokenRecord& t);

class TokenStore {
 public:
  virtual ~TokenStore() = default;

  virtual Status CreateToken(const TokenRecord& token) = 0;
  virtual Result<TokenRecord> GetToken(const std::string& id) = 0;
  virtual Result<TokenRecord> FindTokenByHash(const std::string& hash) = 0;
  virtual Result<std::vector<TokenRecord>> ListTokens() = 0;
  // NotFound for an unknown id.
  virtual Status RevokeToken(const std::string& id, TimePoint at) = 0;
  // Sets last_used (NotFound for an unknown id).
  virtual Status TouchToken(const std::string& id, TimePoint at) = 0;

  // AlreadyExists for a known id_hash; NotFound when the token does not exist; FailedPrecondition
  // when it is revoked.
  virtual Status CreateSession(const SessionRecord& session) = 0;
  virtual Result<SessionRecord> FindSession(const std::string& id_hash) = 0;
  // Deleting an unknown session is not an error.
  virtual Status DeleteSession(const std::string& id_hash) = 0;
  virtual Result<int64_t> DeleteExpiredSessions(TimePoint now) = 0;
};

}  // namespace alphalab

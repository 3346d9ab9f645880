// TokenStore on PostgreSQL (scale-out; same tables, migrations and semantics as the SQLite one): tables `auth_tokens` and `auth_sessions`,
// migrations under the component "auth". Times are integer microseconds since the epoch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/postgres/pg_db.hpp"
#include "store/token_store.hpp"

namespace alphalab {

class PostgresTokenStore final : public TokenStore {
 public:
  // Applies the "auth" migrations; `db` must outlive the store.
  static Result<std::unique_ptr<PostgresTokenStore>> Open(PgDb& db);

  Status CreateToken(const TokenRecord& token) override;
  Result<TokenRecord> GetToken(const std::string& id) override;
  Result<TokenRecord> FindTokenByHash(const std::string& hash) override;
  Result<std::vector<TokenRecord>> ListTokens() override;
  Status RevokeToken(const std::string& id, TimePoint at) override;
  Status TouchToken(const std::string& id, TimePoint at) override;
  Status CreateSession(const SessionRecord& session) override;
  Result<SessionRecord> FindSession(const std::string& id_hash) override;
  Status DeleteSession(const std::string& id_hash) override;
  Result<int64_t> DeleteExpiredSessions(TimePoint now) override;

  // The migrations of the "auth" component (exposed for tests).
  static const std::vector<std::string>& Migrations();

 private:
  explicit PostgresTokenStore(PgDb& db) : db_(db) {}
  PgDb& db_;
};

}  // namespace alphalab

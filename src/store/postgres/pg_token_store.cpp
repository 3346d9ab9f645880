#include "store/postgres/pg_token_store.hpp"

#include <chrono>
#include <optional>

#include "store/token_sql.hpp"

namespace alphalab {

const std::vector<std::string>& PostgresTokenStore::Migrations() {
  static const std::vector<std::string> kMigrations = {
      "CREATE TABLE auth_tokens ("
      " id TEXT COLLATE \"C\" PRIMARY KEY,"
      " name TEXT NOT NULL,"
      " role TEXT NOT NULL CHECK (role IN ('admin', 'user')),"
      " hash TEXT NOT NULL UNIQUE,"
      " created_at_us BIGINT NOT NULL,"
      " last_used_us BIGINT,"
      " revoked BIGINT NOT NULL DEFAULT 0,"
      " revoked_at_us BIGINT);"
      "CREATE UNIQUE INDEX auth_tokens_live_name ON auth_tokens(name) WHERE revoked = 0;"
      "CREATE TABLE auth_sessions ("
      " id_hash TEXT PRIMARY KEY,"
      " token_id TEXT NOT NULL REFERENCES auth_tokens(id),"
      " created_at_us BIGINT NOT NULL,"
      " expires_at_us BIGINT NOT NULL);"
      "CREATE INDEX auth_sessions_token ON auth_sessions(token_id);"
      "CREATE INDEX auth_sessions_expiry ON auth_sessions(expires_at_us);",
  };
  return kMigrations;
}

Result<std::unique_ptr<PostgresTokenStore>> PostgresTokenStore::Open(PgDb& db) {
  RETURN_IF_ERROR(db.Migrate("auth", Migrations()));
  return std::unique_ptr<PostgresTokenStore>(new PostgresTokenStore(db));
}

Status PostgresTokenStore::CreateToken(const TokenRecord& token) {
  return token_sql::CreateToken<PgConnection, PgStatement>(db_, token);
}

Result<TokenRecord> PostgresTokenStore::GetToken(const std::string& id) {
  return token_sql::GetToken<PgConnection, PgStatement>(db_, id);
}

Result<TokenRecord> PostgresTokenStore::FindTokenByHash(const std::string& hash) {
  return token_sql::FindTokenByHash<PgConnection, PgStatement>(db_, hash);
}

Result<std::vector<TokenRecord>> PostgresTokenStore::ListTokens() {
  return token_sql::ListTokens<PgConnection, PgStatement>(db_);
}

Status PostgresTokenStore::RevokeToken(const std::string& id, TimePoint at) {
  return token_sql::RevokeToken<PgConnection, PgStatement>(db_, id, at);
}

Status PostgresTokenStore::TouchToken(const std::string& id, TimePoint at) {
  return token_sql::TouchToken<PgConnection, PgStatement>(db_, id, at);
}

Status PostgresTokenStore::CreateSession(const SessionRecord& session) {
  return token_sql::CreateSession<PgConnection, PgStatement>(db_, session);
}

Result<SessionRecord> PostgresTokenStore::FindSession(const std::string& id_hash) {
  return token_sql::FindSession<PgConnection, PgStatement>(db_, id_hash);
}

Status PostgresTokenStore::DeleteSession(const std::string& id_hash) {
  return token_sql::DeleteSession<PgConnection, PgStatement>(db_, id_hash);
}

Result<int64_t> PostgresTokenStore::DeleteExpiredSessions(TimePoint now) {
  return token_sql::DeleteExpiredSessions<PgConnection, PgStatement>(db_, now);
}

}  // namespace alphalab

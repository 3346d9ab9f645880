#include "store/sqlite/sqlite_token_store.hpp"

#include <chrono>
#include <optional>

#include "store/token_sql.hpp"

namespace alphalab {

const std::vector<std::string>& SqliteTokenStore::Migrations() {
  static const std::vector<std::string> kMigrations = {
      "CREATE TABLE auth_tokens ("
      " id TEXT PRIMARY KEY,"
      " name TEXT NOT NULL,"
      " role TEXT NOT NULL CHECK (role IN ('admin', 'user')),"
      " hash TEXT NOT NULL UNIQUE,"
      " created_at_us INTEGER NOT NULL,"
      " last_used_us INTEGER,"
      " revoked INTEGER NOT NULL DEFAULT 0,"
      " revoked_at_us INTEGER);"
      "CREATE UNIQUE INDEX auth_tokens_live_name ON auth_tokens(name) WHERE revoked = 0;"
      "CREATE TABLE auth_sessions ("
      " id_hash TEXT PRIMARY KEY,"
      " token_id TEXT NOT NULL REFERENCES auth_tokens(id),"
      " created_at_us INTEGER NOT NULL,"
      " expires_at_us INTEGER NOT NULL);"
      "CREATE INDEX auth_sessions_token ON auth_sessions(token_id);"
      "CREATE INDEX auth_sessions_expiry ON auth_sessions(expires_at_us);",
  };
  return kMigrations;
}

Result<std::unique_ptr<SqliteTokenStore>> SqliteTokenStore::Open(SqliteDb& db) {
  RETURN_IF_ERROR(db.Migrate("auth", Migrations()));
  return std::unique_ptr<SqliteTokenStore>(new SqliteTokenStore(db));
}

Status SqliteTokenStore::CreateToken(const TokenRecord& token) {
  return token_sql::CreateToken<SqliteConnection, SqliteStatement>(db_, token);
}

Result<TokenRecord> SqliteTokenStore::GetToken(const std::string& id) {
  return token_sql::GetToken<SqliteConnection, SqliteStatement>(db_, id);
}

Result<TokenRecord> SqliteTokenStore::FindTokenByHash(const std::string& hash) {
  return token_sql::FindTokenByHash<SqliteConnection, SqliteStatement>(db_, hash);
}

Result<std::vector<TokenRecord>> SqliteTokenStore::ListTokens() {
  return token_sql::ListTokens<SqliteConnection, SqliteStatement>(db_);
}

Status SqliteTokenStore::RevokeToken(const std::string& id, TimePoint at) {
  return token_sql::RevokeToken<SqliteConnection, SqliteStatement>(db_, id, at);
}

Status SqliteTokenStore::TouchToken(const std::string& id, TimePoint at) {
  return token_sql::TouchToken<SqliteConnection, SqliteStatement>(db_, id, at);
}

Status SqliteTokenStore::CreateSession(const SessionRecord& session) {
  return token_sql::CreateSession<SqliteConnection, SqliteStatement>(db_, session);
}

Result<SessionRecord> SqliteTokenStore::FindSession(const std::string& id_hash) {
  return token_sql::FindSession<SqliteConnection, SqliteStatement>(db_, id_hash);
}

Status SqliteTokenStore::DeleteSession(const std::string& id_hash) {
  return token_sql::DeleteSession<SqliteConnection, SqliteStatement>(db_, id_hash);
}

Result<int64_t> SqliteTokenStore::DeleteExpiredSessions(TimePoint now) {
  return token_sql::DeleteExpiredSessions<SqliteConnection, SqliteStatement>(db_, now);
}

}  // namespace alphalab

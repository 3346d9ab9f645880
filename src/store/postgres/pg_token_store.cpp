#include "store/postgres/pg_token_store.hpp"

#include <chrono>
#include <optional>

namespace alphalab {

namespace {

constexpr std::string_view kTokenColumns = "id, name, role, hash, created_at_us, last_used_us, revoked, revoked_at_us";
constexpr std::string_view kSessionColumns = "id_hash, token_id, created_at_us, expires_at_us";

int64_t ToMicros(TimePoint tp) {
  return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

std::optional<TimePoint> FromMicros(const std::optional<int64_t>& us) {
  if (!us) return std::nullopt;
  return FromMicros(*us);
}

TokenRecord RowToToken(const PgStatement& s) {
  TokenRecord t;
  t.id = s.ColumnText(0);
  t.name = s.ColumnText(1);
  t.role = s.ColumnText(2);
  t.hash = s.ColumnText(3);
  t.created_at = FromMicros(s.ColumnInt64(4));
  t.last_used = FromMicros(s.ColumnOptionalInt64(5));
  t.revoked = s.ColumnInt64(6) != 0;
  t.revoked_at = FromMicros(s.ColumnOptionalInt64(7));
  return t;
}

SessionRecord RowToSession(const PgStatement& s) {
  SessionRecord r;
  r.id_hash = s.ColumnText(0);
  r.token_id = s.ColumnText(1);
  r.created_at = FromMicros(s.ColumnInt64(2));
  r.expires_at = FromMicros(s.ColumnInt64(3));
  return r;
}

}  // namespace

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
  RETURN_IF_ERROR(CheckTokenRole(token.role));
  return db_.InTransaction([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(int64_t live, c.QueryInt64("SELECT COUNT(*) FROM auth_tokens WHERE name = ? AND revoked = 0",
                                                token.name));
    if (live > 0) return Status::AlreadyExists("a token named '" + token.name + "' already exists");
    ASSIGN_OR_RETURN(int64_t same_id, c.QueryInt64("SELECT COUNT(*) FROM auth_tokens WHERE id = ?", token.id));
    if (same_id > 0) return Status::AlreadyExists("token " + token.id + " already exists");
    std::optional<int64_t> last_used, revoked_at;
    if (token.last_used) last_used = ToMicros(*token.last_used);
    if (token.revoked_at) revoked_at = ToMicros(*token.revoked_at);
    return c.Execute("INSERT INTO auth_tokens (" + std::string(kTokenColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     token.id, token.name, token.role, token.hash, ToMicros(token.created_at), last_used,
                     token.revoked ? 1 : 0, revoked_at);
  });
}

Result<TokenRecord> PostgresTokenStore::GetToken(const std::string& id) {
  return db_.WithReader([&](PgConnection& c) -> Result<TokenRecord> {
    std::optional<TokenRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kTokenColumns) + " FROM auth_tokens WHERE id = ?",
                            [&](PgStatement& s) { out = RowToToken(s); }, id));
    if (!out) return Status::NotFound("token " + id + " does not exist");
    return std::move(*out);
  });
}

Result<TokenRecord> PostgresTokenStore::FindTokenByHash(const std::string& hash) {
  return db_.WithReader([&](PgConnection& c) -> Result<TokenRecord> {
    std::optional<TokenRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kTokenColumns) + " FROM auth_tokens WHERE hash = ?",
                            [&](PgStatement& s) { out = RowToToken(s); }, hash));
    if (!out) return Status::NotFound("no such token");
    return std::move(*out);
  });
}

Result<std::vector<TokenRecord>> PostgresTokenStore::ListTokens() {
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<TokenRecord>> {
    std::vector<TokenRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kTokenColumns) +
                                " FROM auth_tokens ORDER BY created_at_us DESC, id DESC",
                            [&](PgStatement& s) { out.push_back(RowToToken(s)); }));
    return out;
  });
}

Status PostgresTokenStore::RevokeToken(const std::string& id, TimePoint at) {
  return db_.InTransaction([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(int64_t n, c.QueryInt64("SELECT COUNT(*) FROM auth_tokens WHERE id = ?", id));
    if (n == 0) return Status::NotFound("token " + id + " does not exist");
    RETURN_IF_ERROR(c.Execute("UPDATE auth_tokens SET revoked = 1, revoked_at_us = ? WHERE id = ? AND revoked = 0",
                              ToMicros(at), id));
    return c.Execute("DELETE FROM auth_sessions WHERE token_id = ?", id);
  });
}

Status PostgresTokenStore::TouchToken(const std::string& id, TimePoint at) {
  return db_.WithWriter([&](PgConnection& c) -> Status {
    RETURN_IF_ERROR(c.Execute("UPDATE auth_tokens SET last_used_us = ? WHERE id = ?", ToMicros(at), id));
    if (c.Changes() == 0) return Status::NotFound("token " + id + " does not exist");
    return Status::Ok();
  });
}

Status PostgresTokenStore::CreateSession(const SessionRecord& session) {
  return db_.InTransaction([&](PgConnection& c) -> Status {
    std::optional<int64_t> revoked;
    RETURN_IF_ERROR(c.Query("SELECT revoked FROM auth_tokens WHERE id = ?",
                            [&](PgStatement& s) { revoked = s.ColumnInt64(0); }, session.token_id));
    if (!revoked) return Status::NotFound("token " + session.token_id + " does not exist");
    if (*revoked != 0) return Status::FailedPrecondition("token " + session.token_id + " is revoked");
    return c.Execute("INSERT INTO auth_sessions (" + std::string(kSessionColumns) + ") VALUES (?, ?, ?, ?)",
                     session.id_hash, session.token_id, ToMicros(session.created_at), ToMicros(session.expires_at));
  });
}

Result<SessionRecord> PostgresTokenStore::FindSession(const std::string& id_hash) {
  return db_.WithReader([&](PgConnection& c) -> Result<SessionRecord> {
    std::optional<SessionRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kSessionColumns) + " FROM auth_sessions WHERE id_hash = ?",
                            [&](PgStatement& s) { out = RowToSession(s); }, id_hash));
    if (!out) return Status::NotFound("no such session");
    return std::move(*out);
  });
}

Status PostgresTokenStore::DeleteSession(const std::string& id_hash) {
  return db_.WithWriter(
      [&](PgConnection& c) -> Status { return c.Execute("DELETE FROM auth_sessions WHERE id_hash = ?", id_hash); });
}

Result<int64_t> PostgresTokenStore::DeleteExpiredSessions(TimePoint now) {
  return db_.WithWriter([&](PgConnection& c) -> Result<int64_t> {
    RETURN_IF_ERROR(c.Execute("DELETE FROM auth_sessions WHERE expires_at_us <= ?", ToMicros(now)));
    return static_cast<int64_t>(c.Changes());
  });
}

}  // namespace alphalab

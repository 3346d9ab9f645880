// The TokenStore body shared by the SQL token stores (tables auth_tokens, auth_sessions).
// Templates over the database layer (SqliteDb/PgDb with their connection and statement types:
// the same Prepare/Bind/Step/Column* names), so the SQLite and PostgreSQL stores share one
// body; each keeps its own migrations. Internal to src/store.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "store/token_store.hpp"

namespace alphalab::token_sql {

inline constexpr std::string_view kTokenColumns = "id, name, role, hash, created_at_us, last_used_us, revoked, revoked_at_us";
inline constexpr std::string_view kSessionColumns = "id_hash, token_id, created_at_us, expires_at_us";

inline int64_t ToMicros(TimePoint tp) {
  return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

inline TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

inline std::optional<TimePoint> FromMicros(const std::optional<int64_t>& us) {
  if (!us) return std::nullopt;
  return FromMicros(*us);
}

template <typename Stmt>
TokenRecord RowToToken(const Stmt& s) {
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

template <typename Stmt>
SessionRecord RowToSession(const Stmt& s) {
  SessionRecord r;
  r.id_hash = s.ColumnText(0);
  r.token_id = s.ColumnText(1);
  r.created_at = FromMicros(s.ColumnInt64(2));
  r.expires_at = FromMicros(s.ColumnInt64(3));
  return r;
}

template <typename Conn, typename Stmt, typename Db>
Status CreateToken(Db& db_, const TokenRecord& token) {
  RETURN_IF_ERROR(CheckTokenRole(token.role));
  return db_.InTransaction([&](Conn& c) -> Status {
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

template <typename Conn, typename Stmt, typename Db>
Result<TokenRecord> GetToken(Db& db_, const std::string& id) {
  return db_.WithReader([&](Conn& c) -> Result<TokenRecord> {
    std::optional<TokenRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kTokenColumns) + " FROM auth_tokens WHERE id = ?",
                            [&](Stmt& s) { out = RowToToken(s); }, id));
    if (!out) return Status::NotFound("token " + id + " does not exist");
    return std::move(*out);
  });
}

template <typename Conn, typename Stmt, typename Db>
Result<TokenRecord> FindTokenByHash(Db& db_, const std::string& hash) {
  return db_.WithReader([&](Conn& c) -> Result<TokenRecord> {
    std::optional<TokenRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kTokenColumns) + " FROM auth_tokens WHERE hash = ?",
                            [&](Stmt& s) { out = RowToToken(s); }, hash));
    if (!out) return Status::NotFound("no such token");
    return std::move(*out);
  });
}

template <typename Conn, typename Stmt, typename Db>
Result<std::vector<TokenRecord>> ListTokens(Db& db_) {
  return db_.WithReader([&](Conn& c) -> Result<std::vector<TokenRecord>> {
    std::vector<TokenRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kTokenColumns) +
                                " FROM auth_tokens ORDER BY created_at_us DESC, id DESC",
                            [&](Stmt& s) { out.push_back(RowToToken(s)); }));
    return out;
  });
}

template <typename Conn, typename Stmt, typename Db>
Status RevokeToken(Db& db_, const std::string& id, TimePoint at) {
  return db_.InTransaction([&](Conn& c) -> Status {
    ASSIGN_OR_RETURN(int64_t n, c.QueryInt64("SELECT COUNT(*) FROM auth_tokens WHERE id = ?", id));
    if (n == 0) return Status::NotFound("token " + id + " does not exist");
    RETURN_IF_ERROR(c.Execute("UPDATE auth_tokens SET revoked = 1, revoked_at_us = ? WHERE id = ? AND revoked = 0",
                              ToMicros(at), id));
    return c.Execute("DELETE FROM auth_sessions WHERE token_id = ?", id);
  });
}

template <typename Conn, typename Stmt, typename Db>
Status TouchToken(Db& db_, const std::string& id, TimePoint at) {
  return db_.WithWriter([&](Conn& c) -> Status {
    RETURN_IF_ERROR(c.Execute("UPDATE auth_tokens SET last_used_us = ? WHERE id = ?", ToMicros(at), id));
    if (c.Changes() == 0) return Status::NotFound("token " + id + " does not exist");
    return Status::Ok();
  });
}

template <typename Conn, typename Stmt, typename Db>
Status CreateSession(Db& db_, const SessionRecord& session) {
  return db_.InTransaction([&](Conn& c) -> Status {
    std::optional<int64_t> revoked;
    RETURN_IF_ERROR(c.Query("SELECT revoked FROM auth_tokens WHERE id = ?",
                            [&](Stmt& s) { revoked = s.ColumnInt64(0); }, session.token_id));
    if (!revoked) return Status::NotFound("token " + session.token_id + " does not exist");
    if (*revoked != 0) return Status::FailedPrecondition("token " + session.token_id + " is revoked");
    return c.Execute("INSERT INTO auth_sessions (" + std::string(kSessionColumns) + ") VALUES (?, ?, ?, ?)",
                     session.id_hash, session.token_id, ToMicros(session.created_at), ToMicros(session.expires_at));
  });
}

template <typename Conn, typename Stmt, typename Db>
Result<SessionRecord> FindSession(Db& db_, const std::string& id_hash) {
  return db_.WithReader([&](Conn& c) -> Result<SessionRecord> {
    std::optional<SessionRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kSessionColumns) + " FROM auth_sessions WHERE id_hash = ?",
                            [&](Stmt& s) { out = RowToSession(s); }, id_hash));
    if (!out) return Status::NotFound("no such session");
    return std::move(*out);
  });
}

template <typename Conn, typename Stmt, typename Db>
Status DeleteSession(Db& db_, const std::string& id_hash) {
  return db_.WithWriter(
      [&](Conn& c) -> Status { return c.Execute("DELETE FROM auth_sessions WHERE id_hash = ?", id_hash); });
}

template <typename Conn, typename Stmt, typename Db>
Result<int64_t> DeleteExpiredSessions(Db& db_, TimePoint now) {
  return db_.WithWriter([&](Conn& c) -> Result<int64_t> {
    RETURN_IF_ERROR(c.Execute("DELETE FROM auth_sessions WHERE expires_at_us <= ?", ToMicros(now)));
    return static_cast<int64_t>(c.Changes());
  });
}

}  // namespace alphalab::token_sql

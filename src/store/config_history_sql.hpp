// The ConfigHistoryStore body shared by the SQL stores (tables config_history, config_known_hashes).
// Templates over the database layer (SqliteDb/PgDb with their connection and statement types:
// the same Prepare/Bind/Step/Column* names), so the SQLite and PostgreSQL stores share one
// body; each keeps its own migrations. Internal to src/store.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "store/config_history_store.hpp"

namespace alphalab::config_history_sql {

inline constexpr std::string_view kColumns =
    "id, tool, path, history_path, task_id, operator, sha256, note, event, created_at_us";

inline int64_t ToMicros(TimePoint tp) {
  return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

inline TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

template <typename Stmt>
ConfigHistoryRecord RowToRecord(const Stmt& s) {
  ConfigHistoryRecord r;
  r.id = s.ColumnInt64(0);
  r.tool = s.ColumnText(1);
  r.path = s.ColumnText(2);
  r.history_path = s.ColumnText(3);
  r.task_id = s.ColumnText(4);
  r.operator_name = s.ColumnText(5);
  r.sha256 = s.ColumnText(6);
  r.note = s.ColumnText(7);
  r.event = s.ColumnText(8);
  r.created_at = FromMicros(s.ColumnInt64(9));
  return r;
}

template <typename Conn, typename Stmt, typename Db>
Result<int64_t> Append(Db& db_, const ConfigHistoryRecord& r) {
  int64_t id = 0;
  RETURN_IF_ERROR(db_.InTransaction([&](Conn& c) -> Status {
    ASSIGN_OR_RETURN(id, c.QueryInt64("INSERT INTO config_history (tool, path, history_path, task_id, operator, sha256,"
                                      " note, event, created_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                      r.tool, r.path, r.history_path, r.task_id, r.operator_name, r.sha256, r.note,
                                      r.event, ToMicros(r.created_at)));
    return Status::Ok();
  }));
  return id;
}

template <typename Conn, typename Stmt, typename Db>
Result<ConfigHistoryRecord> Get(Db& db_, int64_t id) {
  return db_.WithReader([&](Conn& c) -> Result<ConfigHistoryRecord> {
    std::optional<ConfigHistoryRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kColumns) + " FROM config_history WHERE id = ?",
                            [&](Stmt& s) { out = RowToRecord(s); }, id));
    if (!out) return Status::NotFound("history entry " + std::to_string(id) + " does not exist");
    return std::move(*out);
  });
}

template <typename Conn, typename Stmt, typename Db>
Result<std::vector<ConfigHistoryRecord>> List(Db& db_, const std::string& tool,
    const std::string& path, int limit,
    int64_t offset) {
  return db_.WithReader([&](Conn& c) -> Result<std::vector<ConfigHistoryRecord>> {
    std::vector<ConfigHistoryRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kColumns) +
                                " FROM config_history WHERE tool = ? AND path = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                            [&](Stmt& s) { out.push_back(RowToRecord(s)); }, tool, path, limit, offset));
    return out;
  });
}

template <typename Conn, typename Stmt, typename Db>
Result<std::map<std::string, int64_t>> CountByFile(Db& db_, const std::string& tool) {
  return db_.WithReader([&](Conn& c) -> Result<std::map<std::string, int64_t>> {
    std::map<std::string, int64_t> out;
    RETURN_IF_ERROR(c.Query("SELECT path, COUNT(*) FROM config_history WHERE tool = ? GROUP BY path",
                            [&](Stmt& s) { out[s.ColumnText(0)] = s.ColumnInt64(1); }, tool));
    return out;
  });
}

template <typename Conn, typename Stmt, typename Db>
Result<int64_t> LastId(Db& db_) {
  return db_.WithReader([&](Conn& c) -> Result<int64_t> {
    int64_t out = 0;
    RETURN_IF_ERROR(c.Query("SELECT COALESCE(MAX(id), 0) FROM config_history", [&](Stmt& s) { out = s.ColumnInt64(0); }));
    return out;
  });
}

template <typename Conn, typename Stmt, typename Db>
Result<std::optional<std::string>> KnownHash(Db& db_, const std::string& tool,
    const std::string& path) {
  return db_.WithReader([&](Conn& c) -> Result<std::optional<std::string>> {
    std::optional<std::string> out;
    RETURN_IF_ERROR(c.Query("SELECT sha256 FROM config_known_hashes WHERE tool = ? AND path = ?",
                            [&](Stmt& s) { out = s.ColumnText(0); }, tool, path));
    return out;
  });
}

template <typename Conn, typename Stmt, typename Db>
Status SetKnownHash(Db& db_, const std::string& tool, const std::string& path,
    const std::string& sha256) {
  return db_.WithWriter([&](Conn& c) -> Status {
    return c.Execute("INSERT INTO config_known_hashes (tool, path, sha256) VALUES (?, ?, ?)"
                     " ON CONFLICT (tool, path) DO UPDATE SET sha256 = excluded.sha256",
                     tool, path, sha256);
  });
}

}  // namespace alphalab::config_history_sql

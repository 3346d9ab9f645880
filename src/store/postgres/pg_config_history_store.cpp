#include "store/postgres/pg_config_history_store.hpp"

#include <chrono>
#include <optional>

namespace alphalab {

namespace {

constexpr std::string_view kColumns =
    "id, tool, path, history_path, task_id, operator, sha256, note, event, created_at_us";

int64_t ToMicros(TimePoint tp) {
  return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

ConfigHistoryRecord RowToRecord(const PgStatement& s) {
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

}  // namespace

const std::vector<std::string>& PostgresConfigHistoryStore::Migrations() {
  static const std::vector<std::string> kMigrations = {
      "CREATE TABLE config_history ("
      " id BIGSERIAL PRIMARY KEY,"
      " tool TEXT NOT NULL,"
      " path TEXT NOT NULL,"
      " history_path TEXT NOT NULL,"
      " task_id TEXT NOT NULL DEFAULT '',"
      " operator TEXT NOT NULL,"
      " sha256 TEXT NOT NULL,"
      " note TEXT NOT NULL DEFAULT '',"
      " event TEXT NOT NULL,"
      " created_at_us BIGINT NOT NULL);"
      "CREATE INDEX config_history_file ON config_history(tool, path, id);"
      "CREATE TABLE config_known_hashes ("
      " tool TEXT NOT NULL,"
      " path TEXT NOT NULL,"
      " sha256 TEXT NOT NULL,"
      " PRIMARY KEY (tool, path));",
  };
  return kMigrations;
}

Result<std::unique_ptr<PostgresConfigHistoryStore>> PostgresConfigHistoryStore::Open(PgDb& db) {
  RETURN_IF_ERROR(db.Migrate("configs", Migrations()));
  return std::unique_ptr<PostgresConfigHistoryStore>(new PostgresConfigHistoryStore(db));
}

Result<int64_t> PostgresConfigHistoryStore::Append(const ConfigHistoryRecord& r) {
  int64_t id = 0;
  RETURN_IF_ERROR(db_.InTransaction([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(id, c.QueryInt64("INSERT INTO config_history (tool, path, history_path, task_id, operator, sha256,"
                                      " note, event, created_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                      r.tool, r.path, r.history_path, r.task_id, r.operator_name, r.sha256, r.note,
                                      r.event, ToMicros(r.created_at)));
    return Status::Ok();
  }));
  return id;
}

Result<ConfigHistoryRecord> PostgresConfigHistoryStore::Get(int64_t id) {
  return db_.WithReader([&](PgConnection& c) -> Result<ConfigHistoryRecord> {
    std::optional<ConfigHistoryRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kColumns) + " FROM config_history WHERE id = ?",
                            [&](PgStatement& s) { out = RowToRecord(s); }, id));
    if (!out) return Status::NotFound("history entry " + std::to_string(id) + " does not exist");
    return std::move(*out);
  });
}

Result<std::vector<ConfigHistoryRecord>> PostgresConfigHistoryStore::List(const std::string& tool,
                                                                        const std::string& path, int limit,
                                                                        int64_t offset) {
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<ConfigHistoryRecord>> {
    std::vector<ConfigHistoryRecord> out;
    RETURN_IF_ERROR(c.Query("SELECT " + std::string(kColumns) +
                                " FROM config_history WHERE tool = ? AND path = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                            [&](PgStatement& s) { out.push_back(RowToRecord(s)); }, tool, path, limit, offset));
    return out;
  });
}

Result<std::map<std::string, int64_t>> PostgresConfigHistoryStore::CountByFile(const std::string& tool) {
  return db_.WithReader([&](PgConnection& c) -> Result<std::map<std::string, int64_t>> {
    std::map<std::string, int64_t> out;
    RETURN_IF_ERROR(c.Query("SELECT path, COUNT(*) FROM config_history WHERE tool = ? GROUP BY path",
                            [&](PgStatement& s) { out[s.ColumnText(0)] = s.ColumnInt64(1); }, tool));
    return out;
  });
}

Result<std::optional<std::string>> PostgresConfigHistoryStore::KnownHash(const std::string& tool,
                                                                       const std::string& path) {
  return db_.WithReader([&](PgConnection& c) -> Result<std::optional<std::string>> {
    std::optional<std::string> out;
    RETURN_IF_ERROR(c.Query("SELECT sha256 FROM config_known_hashes WHERE tool = ? AND path = ?",
                            [&](PgStatement& s) { out = s.ColumnText(0); }, tool, path));
    return out;
  });
}

Status PostgresConfigHistoryStore::SetKnownHash(const std::string& tool, const std::string& path,
                                              const std::string& sha256) {
  return db_.WithWriter([&](PgConnection& c) -> Status {
    return c.Execute("INSERT INTO config_known_hashes (tool, path, sha256) VALUES (?, ?, ?)"
                     " ON CONFLICT (tool, path) DO UPDATE SET sha256 = excluded.sha256",
                     tool, path, sha256);
  });
}

}  // namespace alphalab

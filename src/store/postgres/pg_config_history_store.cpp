#include "store/postgres/pg_config_history_store.hpp"

#include <chrono>
#include <optional>

#include "store/config_history_sql.hpp"

namespace alphalab {

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
  return config_history_sql::Append<PgConnection, PgStatement>(db_, r);
}

Result<ConfigHistoryRecord> PostgresConfigHistoryStore::Get(int64_t id) {
  return config_history_sql::Get<PgConnection, PgStatement>(db_, id);
}

Result<std::vector<ConfigHistoryRecord>> PostgresConfigHistoryStore::List(const std::string& tool,
    const std::string& path, int limit,
    int64_t offset) {
  return config_history_sql::List<PgConnection, PgStatement>(db_, tool, path, limit, offset);
}

Result<std::map<std::string, int64_t>> PostgresConfigHistoryStore::CountByFile(const std::string& tool) {
  return config_history_sql::CountByFile<PgConnection, PgStatement>(db_, tool);
}

Result<int64_t> PostgresConfigHistoryStore::LastId() {
  return config_history_sql::LastId<PgConnection, PgStatement>(db_);
}

Result<std::optional<std::string>> PostgresConfigHistoryStore::KnownHash(const std::string& tool,
    const std::string& path) {
  return config_history_sql::KnownHash<PgConnection, PgStatement>(db_, tool, path);
}

Status PostgresConfigHistoryStore::SetKnownHash(const std::string& tool, const std::string& path,
    const std::string& sha256) {
  return config_history_sql::SetKnownHash<PgConnection, PgStatement>(db_, tool, path, sha256);
}

}  // namespace alphalab

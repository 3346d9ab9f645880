#include "store/sqlite/sqlite_config_history_store.hpp"

#include <chrono>
#include <optional>

#include "store/config_history_sql.hpp"

namespace alphalab {

const std::vector<std::string>& SqliteConfigHistoryStore::Migrations() {
  static const std::vector<std::string> kMigrations = {
      "CREATE TABLE config_history ("
      " id INTEGER PRIMARY KEY AUTOINCREMENT,"
      " tool TEXT NOT NULL,"
      " path TEXT NOT NULL,"
      " history_path TEXT NOT NULL,"
      " task_id TEXT NOT NULL DEFAULT '',"
      " operator TEXT NOT NULL,"
      " sha256 TEXT NOT NULL,"
      " note TEXT NOT NULL DEFAULT '',"
      " event TEXT NOT NULL,"
      " created_at_us INTEGER NOT NULL);"
      "CREATE INDEX config_history_file ON config_history(tool, path, id);"
      "CREATE TABLE config_known_hashes ("
      " tool TEXT NOT NULL,"
      " path TEXT NOT NULL,"
      " sha256 TEXT NOT NULL,"
      " PRIMARY KEY (tool, path));",
  };
  return kMigrations;
}

Result<std::unique_ptr<SqliteConfigHistoryStore>> SqliteConfigHistoryStore::Open(SqliteDb& db) {
  RETURN_IF_ERROR(db.Migrate("configs", Migrations()));
  return std::unique_ptr<SqliteConfigHistoryStore>(new SqliteConfigHistoryStore(db));
}

Result<int64_t> SqliteConfigHistoryStore::Append(const ConfigHistoryRecord& r) {
  return config_history_sql::Append<SqliteConnection, SqliteStatement>(db_, r);
}

Result<ConfigHistoryRecord> SqliteConfigHistoryStore::Get(int64_t id) {
  return config_history_sql::Get<SqliteConnection, SqliteStatement>(db_, id);
}

Result<std::vector<ConfigHistoryRecord>> SqliteConfigHistoryStore::List(const std::string& tool,
    const std::string& path, int limit,
    int64_t offset) {
  return config_history_sql::List<SqliteConnection, SqliteStatement>(db_, tool, path, limit, offset);
}

Result<std::map<std::string, int64_t>> SqliteConfigHistoryStore::CountByFile(const std::string& tool) {
  return config_history_sql::CountByFile<SqliteConnection, SqliteStatement>(db_, tool);
}

Result<int64_t> SqliteConfigHistoryStore::LastId() {
  return config_history_sql::LastId<SqliteConnection, SqliteStatement>(db_);
}

Result<std::optional<std::string>> SqliteConfigHistoryStore::KnownHash(const std::string& tool,
    const std::string& path) {
  return config_history_sql::KnownHash<SqliteConnection, SqliteStatement>(db_, tool, path);
}

Status SqliteConfigHistoryStore::SetKnownHash(const std::string& tool, const std::string& path,
    const std::string& sha256) {
  return config_history_sql::SetKnownHash<SqliteConnection, SqliteStatement>(db_, tool, path, sha256);
}

}  // namespace alphalab

#include "store/sqlite/sqlite_optimization_store.hpp"

namespace alphalab {

const std::vector<std::string>& SqliteOptimizationStore::Migrations() {
  static const std::vector<std::string> migrations = optimization_sql::Migrations(optimization_sql::kSqliteDialect);
  return migrations;
}

Result<std::unique_ptr<SqliteOptimizationStore>> SqliteOptimizationStore::Open(SqliteDb& db) {
  RETURN_IF_ERROR(db.Migrate("optimizations", Migrations()));
  return std::unique_ptr<SqliteOptimizationStore>(new SqliteOptimizationStore(db));
}

}  // namespace alphalab

#include "store/postgres/pg_optimization_store.hpp"

namespace alphalab {

const std::vector<std::string>& PostgresOptimizationStore::Migrations() {
  static const std::vector<std::string> migrations = optimization_sql::Migrations(optimization_sql::kPostgresDialect);
  return migrations;
}

Result<std::unique_ptr<PostgresOptimizationStore>> PostgresOptimizationStore::Open(PgDb& db) {
  RETURN_IF_ERROR(db.Migrate("optimizations", Migrations()));
  return std::unique_ptr<PostgresOptimizationStore>(new PostgresOptimizationStore(db));
}

}  // namespace alphalab

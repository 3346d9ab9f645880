// OptimizationStore on PostgreSQL (scale-out): the shared SQL store (store/optimization_sql.hpp) in
// this dialect. Tables `optimizations` and `optimization_tasks`, migrations under the component
// "optimizations"; times are integer microseconds since the epoch, JSON fields are text. Create
// and AddTasks are one transaction each; every state change is an UPDATE ... WHERE status =
// expected (compare-and-set). Indexes keep a status read O(1) and a task page O(page) at
// 100,000 tasks for the index and score orders (see docs/optimizations.md, "Storage").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/optimization_sql.hpp"
#include "store/postgres/pg_db.hpp"

namespace alphalab {

class PostgresOptimizationStore final
    : public optimization_sql::SqlOptimizationStore<PgDb, PgConnection, PgStatement> {
 public:
  // Applies the "optimizations" migrations; `db` must outlive the store.
  static Result<std::unique_ptr<PostgresOptimizationStore>> Open(PgDb& db);

  // The migrations of the "optimizations" component (exposed for tests).
  static const std::vector<std::string>& Migrations();

 private:
  explicit PostgresOptimizationStore(PgDb& db) : SqlOptimizationStore(db, optimization_sql::kPostgresDialect) {}
};

}  // namespace alphalab

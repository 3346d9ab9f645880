// OptimizationStore on PostgreSQL (scale-out; same tables, migrations and semantics as the SQLite one): tables `optimizations` and
// `optimization_tasks`, migrations under the component "optimizations". Times are integer
// microseconds since the epoch, JSON fields are text. Create and AddTasks are one
// transaction each; every state change is an UPDATE ... WHERE status = expected
// (compare-and-set). Indexes keep a status read O(1) and a task page O(page) at 100,000
// tasks for the index and score orders (see docs/optimizations.md, "Storage").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/optimization_store.hpp"
#include "store/postgres/pg_db.hpp"

namespace alphalab {

class PostgresOptimizationStore final : public OptimizationStore {
 public:
  // Applies the "optimizations" migrations; `db` must outlive the store.
  static Result<std::unique_ptr<PostgresOptimizationStore>> Open(PgDb& db);

  Status Create(const OptimizationRecord& opt, const std::vector<OptimizationTaskRecord>& tasks) override;
  Result<int64_t> AddTasks(const std::string& opt_id, const std::vector<OptimizationTaskRecord>& tasks) override;
  Result<OptimizationRecord> Get(const std::string& id) override;
  Result<std::vector<OptimizationRecord>> List(const OptimizationQuery& query) override;
  Result<int64_t> Count(const OptimizationQuery& query) override;
  Result<std::vector<std::string>> ListOpenValidations() override;
  Status UpdateStatus(const std::string& id, const std::string& expected, const std::string& next,
                      const OptimizationStatusTimes& times) override;
  Status UpdateSummary(const std::string& id, const Json& summary, TimePoint updated_at) override;
  Result<std::vector<OptimizationTaskRecord>> ListTasks(const std::string& opt_id,
                                                        const OptimizationTaskQuery& query) override;
  Result<int64_t> CountTasks(const std::string& opt_id, const OptimizationTaskQuery& query) override;
  Result<OptimizationTaskRecord> GetTask(const std::string& opt_id, int64_t index) override;
  Result<std::vector<OptimizationTaskRecord>> TasksToRun(const std::string& opt_id, int limit) override;
  Status MarkTaskQueued(const std::string& opt_id, int64_t index, const std::string& job_id) override;
  Status MarkTaskStatus(const std::string& opt_id, int64_t index, const std::string& expected,
                        const std::string& next, const OptimizationTaskUpdate& update) override;
  Result<std::vector<Status>> ApplyTaskWrites(const std::string& opt_id,
                                              const std::vector<OptimizationTaskWrite>& writes) override;
  Result<int64_t> RequeueFailed(const std::string& opt_id) override;
  Result<std::vector<int64_t>> CancelPending(const std::string& opt_id, const std::string& reason,
                                             TimePoint ended_at) override;
  Result<OptimizationTaskRef> TaskByJobId(const std::string& job_id) override;

  // EXPLAIN QUERY PLAN of the statement ListTasks runs for `query`, one line per row (tests
  // check the index and score orders are index walks, not sorts).
  Result<std::vector<std::string>> ExplainListTasks(const std::string& opt_id, const OptimizationTaskQuery& query);

  // The migrations of the "optimizations" component (exposed for tests).
  static const std::vector<std::string>& Migrations();

 private:
  explicit PostgresOptimizationStore(PgDb& db) : db_(db) {}
  PgDb& db_;
};

}  // namespace alphalab

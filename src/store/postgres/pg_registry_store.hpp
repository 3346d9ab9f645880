// RegistryStore on PostgreSQL (scale-out; same tables, migrations and semantics as the SQLite one) (tables registry_*; migrations under the
// "registry" component). Filters, ordering (NULLS LAST), COUNT and paging are SQL; indexes
// cover the ticker filter with the default sort, the default sort alone and the
// lift-first sort, so a page and its total are index searches, not table scans.
#pragma once

#include <string>
#include <vector>

#include "store/registry_store.hpp"
#include "store/postgres/pg_db.hpp"

namespace alphalab {

class PostgresRegistryStore final : public RegistryStore {
 public:
  // Applies the registry migrations; `db` must outlive the store.
  static Result<std::unique_ptr<PostgresRegistryStore>> Open(PgDb& db);

  Status ReplaceRuns(const std::vector<IndexedRun>& runs) override;
  Status DeleteRun(const std::string& run_id) override;
  Result<std::vector<std::string>> ListRunIds() override;
  Result<RegistryPage> QueryModels(const RegistryQuery& query) override;
  Result<std::vector<RegistryRow>> BestModelPerTicker(const std::vector<RegistrySortKey>& sort, int limit) override;
  Status ScanModels(const std::function<Status(const RegistryRow&)>& fn) override;
  Result<std::vector<std::string>> ListTickers() override;
  Result<RunPage> ListRuns(const RunQuery& query) override;
  Result<RunSummary> GetRun(const std::string& run_id) override;
  Status UpsertBacktests(const std::vector<BacktestSummaryRow>& backtests) override;
  Status DeleteBacktest(const std::string& bt_run_id) override;
  Result<std::vector<std::string>> ListBacktestIds() override;
  Result<BacktestPage> ListBacktests(const BacktestQuery& query) override;
  Result<BacktestSummaryRow> GetBacktest(const std::string& bt_run_id) override;

  // The SQL QueryModels runs for `query` (items statement, then count statement), for
  // EXPLAIN QUERY PLAN in benchmarks and tests.
  static std::pair<std::string, std::string> ModelsSqlForTesting(const RegistryQuery& query);
  // EXPLAIN QUERY PLAN of an arbitrary read statement with the query's bindings, one line per row.
  Result<std::vector<std::string>> ExplainModelsQuery(const RegistryQuery& query, bool count);

 private:
  explicit PostgresRegistryStore(PgDb& db) : db_(db) {}
  PgDb& db_;
};

// The migrations of the "registry" component (exposed so a test can check they apply twice).
const std::vector<std::string>& PostgresRegistryMigrations();

}  // namespace alphalab

// Runs the shared JobStore suite against the SQLite store (a real file) and the fake.
#include "store/fake_job_store.hpp"
#include "store/job_store_conformance.hpp"
#include "store/sqlite/sqlite_job_store.hpp"
#include "store/temp_dir.hpp"

namespace alphalab::testing {
namespace {

std::shared_ptr<JobStore> MakeSqliteStore() {
  struct Holder {
    TempDir dir;
    std::unique_ptr<SqliteDb> db;
    std::unique_ptr<SqliteJobStore> store;
  };
  auto holder = std::make_shared<Holder>();
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(holder->dir.path() / "alphalab.db");
  if (!db.ok()) {
    ADD_FAILURE() << db.status().ToString();
    return nullptr;
  }
  holder->db = std::move(db).value();
  Result<std::unique_ptr<SqliteJobStore>> store = SqliteJobStore::Open(*holder->db);
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  holder->store = std::move(store).value();
  JobStore* raw = holder->store.get();
  return std::shared_ptr<JobStore>(std::move(holder), raw);  // aliasing: keeps dir + db alive
}

INSTANTIATE_TEST_SUITE_P(
    Stores, JobStoreConformanceTest,
    ::testing::Values(JobStoreFactory{"sqlite", MakeSqliteStore},
                      JobStoreFactory{"fake", [] { return std::make_shared<FakeJobStore>(); }}),
    JobStoreFactoryName);

}  // namespace
}  // namespace alphalab::testing

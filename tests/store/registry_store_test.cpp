// Runs the RegistryStore conformance suite against the in-memory fake and SQLite (file-backed
// with reader connections, and ":memory:"), plus SQLite-specific checks: migrations are
// idempotent and the hot queries are index searches.
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "store/fake_registry_store.hpp"
#include "store/registry_store_conformance.hpp"
#include "store/registry_totals_check.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"

namespace alphalab::testing {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  fs::path dir = fs::temp_directory_path() /
                 ("alphalab_regstore_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

class FakeEnv : public RegistryStoreEnv {
 public:
  RegistryStore& store() override { return store_; }

 private:
  FakeRegistryStore store_;
};

class SqliteEnv : public RegistryStoreEnv {
 public:
  explicit SqliteEnv(bool in_memory) {
    if (!in_memory) dir_ = TempDir("sqlite");
    auto db = SqliteDb::Open(in_memory ? fs::path(":memory:") : dir_ / "alphalab.db");
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto store = SqliteRegistryStore::Open(*db_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  ~SqliteEnv() override {
    store_.reset();
    db_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  RegistryStore& store() override { return *store_; }

 private:
  fs::path dir_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<SqliteRegistryStore> store_;
};

INSTANTIATE_TEST_SUITE_P(
    Stores, RegistryStoreConformance,
    ::testing::Values(RegistryStoreFactory{"fake", [] { return std::make_unique<FakeEnv>(); }},
                      RegistryStoreFactory{"sqlite_file", [] { return std::make_unique<SqliteEnv>(false); }},
                      RegistryStoreFactory{"sqlite_memory", [] { return std::make_unique<SqliteEnv>(true); }}),
    RegistryStoreFactoryName);

TEST(SqliteRegistryStore, MigrationsApplyOnceAndDataSurvivesReopen) {
  fs::path dir = TempDir("reopen");
  {
    auto db = SqliteDb::Open(dir / "a.db").value();
    auto store = SqliteRegistryStore::Open(*db).value();
    ASSERT_TRUE(PutRows(*store, {MakeRow("r1", "AAA")}).ok());
  }
  {
    auto db = SqliteDb::Open(dir / "a.db").value();
    auto store = SqliteRegistryStore::Open(*db);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->QueryModels({})->total, 1);
    EXPECT_EQ(db->SchemaVersion("registry").value(), static_cast<int64_t>(SqliteRegistryMigrations().size()));
  }
  fs::remove_all(dir);
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(SqliteRegistryStore, HotQueriesSearchIndexesInsteadOfScanning) {
  auto db = SqliteDb::Open(":memory:").value();
  auto store = SqliteRegistryStore::Open(*db).value();
  ASSERT_TRUE(PutRows(*store, MixedRows(60)).ok());
  ASSERT_TRUE(db->Exec("ANALYZE").ok());

  RegistryQuery seed;  // the models curl of docs/api.md
  seed.tickers = {"TSM"};
  seed.min_lift = 1.1;
  seed.min_precision = 0.6;
  seed.min_support = 30;
  const std::string count_plan = Joined(store->ExplainModelsQuery(seed, /*count=*/true).value());
  EXPECT_NE(count_plan.find("SEARCH registry_models USING COVERING INDEX registry_models_ticker_"), std::string::npos)
      << count_plan;
  EXPECT_EQ(count_plan.find("SCAN"), std::string::npos) << count_plan;

  const std::string items_plan = Joined(store->ExplainModelsQuery(seed, /*count=*/false).value());
  EXPECT_NE(items_plan.find("SEARCH registry_models USING INDEX registry_models_ticker_default"), std::string::npos)
      << items_plan;
  // The index yields precision/lift order; at most the tail of the ORDER BY is sorted.
  EXPECT_EQ(items_plan.find("USE TEMP B-TREE FOR ORDER BY"), std::string::npos) << items_plan;
}

// The default sort (precision desc, lift desc, buy_rate asc with missing values last, support
// desc) is the sort indexes' own order (migration 6): a page reads an index range in order and
// sorts nothing; before, every run of equal (precision, lift) was sorted, a sorter flush per row
// (1.5 ms for the first 550 rows of a ticker at 1M rows). A project/mode/status page stays on
// the sort index: the (project, mode, status, support) index is for the totals only.
TEST(SqliteRegistryStore, DefaultSortPagesReadTheSortIndexInOrder) {
  auto db = SqliteDb::Open(":memory:").value();
  auto store = SqliteRegistryStore::Open(*db).value();
  ASSERT_TRUE(PutRows(*store, MixedRows(60)).ok());
  ASSERT_TRUE(db->Exec("ANALYZE").ok());
  RegistryQuery one;  // the API's default page of a ticker
  one.tickers = {"TSM"};
  one.min_support = 30;
  RegistryQuery three = one;  // several tickers, a later page: per-ticker ranges merged
  three.tickers = {"AAA", "CCC", "TSM"};
  three.offset = 500;
  RegistryQuery group;  // project, mode and status
  group.projects = {"alpha"};
  group.modes = {"base"};
  group.statuses = {"success"};
  group.min_support = 30;
  for (const RegistryQuery* q : {&one, &three, &group}) {
    const std::string plan = Joined(store->ExplainModelsQuery(*q, /*count=*/false).value());
    EXPECT_EQ(plan.find("RIGHT PART OF ORDER BY"), std::string::npos) << plan;
    EXPECT_NE(plan.find(q == &group ? "SCAN registry_models USING INDEX registry_models_default"
                                    : "INDEX registry_models_ticker_default (ticker=?)"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("registry_models_group_support"), std::string::npos) << plan;
  }
  // Several tickers: a lazy merge of the per-ticker ranges, each read in index order.
  const std::string merge_plan = Joined(store->ExplainModelsQuery(three, /*count=*/false).value());
  EXPECT_NE(merge_plan.find("MERGE (UNION ALL)"), std::string::npos) << merge_plan;
  EXPECT_EQ(merge_plan.find("USE TEMP B-TREE FOR ORDER BY"), merge_plan.rfind("USE TEMP B-TREE FOR ORDER BY"))
      << "only the page's own 50 rows are sorted:\n" << merge_plan;
  // The first page of one ticker: not even the outer merge sorts.
  EXPECT_EQ(Joined(store->ExplainModelsQuery(one, /*count=*/false).value()).find("TEMP B-TREE"), std::string::npos);
  // The rows of the group below the bound: a range of the group index.
  const std::string count_plan = Joined(store->ExplainModelsQuery(group, /*count=*/true).value());
  EXPECT_NE(count_plan.find("COVERING INDEX registry_models_group_support (project=? AND mode=? AND status=? AND support<?)"),
            std::string::npos)
      << count_plan;
}

// min_support totals past the count probe (registry_totals_check.hpp), and the count statement
// searches the support indexes: no scan of registry_models (the per-ticker totals table has a
// row per ticker).
TEST(SqliteRegistryStore, MinSupportTotalsPastTheProbeAreExactAndSearchIndexes) {
  auto db = SqliteDb::Open(":memory:").value();
  auto store = SqliteRegistryStore::Open(*db).value();
  ExpectMinSupportTotalsPastTheProbe(*store);
  ASSERT_TRUE(db->Exec("ANALYZE").ok());
  for (const std::vector<std::string>& tickers : {std::vector<std::string>{}, {"AAA", "CCC", "TSM"}}) {
    RegistryQuery q;
    q.tickers = tickers;
    q.min_support = 30;
    const std::string count_plan = Joined(store->ExplainModelsQuery(q, /*count=*/true).value());
    EXPECT_EQ(count_plan.find("SCAN registry_models"), std::string::npos) << count_plan;
    EXPECT_NE(count_plan.find("registry_models_"), std::string::npos) << count_plan;
  }
  // Project, mode and status filters: the kept per-group counts, and the rows below the bound
  // from the support index alone (a COUNT over the matches scanned 1M rows in seconds).
  for (const std::vector<std::string>& tickers : {std::vector<std::string>{}, {"AAA", "CCC", "TSM"}}) {
    for (const bool bounded : {false, true}) {
      RegistryQuery q;
      q.tickers = tickers;
      q.projects = {"alpha"};
      q.modes = {"base"};
      q.statuses = {"success"};
      if (bounded) q.min_support = 30;
      const std::string count_plan = Joined(store->ExplainModelsQuery(q, /*count=*/true).value());
      EXPECT_EQ(count_plan.find("SCAN registry_models"), std::string::npos) << count_plan;
      EXPECT_NE(count_plan.find("registry_model_group_counts"), std::string::npos) << count_plan;
      if (bounded && tickers.empty()) {
        EXPECT_NE(count_plan.find("COVERING INDEX registry_models_group_support"), std::string::npos) << count_plan;
      }
    }
  }
}

}  // namespace
}  // namespace alphalab::testing

// Runs the OptimizationStore conformance suite against the in-memory fake and SQLite
// (file-backed with reader connections, and ":memory:"), plus SQLite-specific checks:
// everything survives closing and reopening the file, migrations apply once, and the index
// and score orders of a task page are index walks, not sorts.
#include <atomic>
#include <filesystem>
#include <thread>

#include "store/fake_optimization_store.hpp"
#include "store/optimization_store_conformance.hpp"
#include "store/sqlite/sqlite_optimization_store.hpp"
#include "store/temp_dir.hpp"

namespace alphalab::testing {
namespace {

namespace fs = std::filesystem;

class FakeEnv : public OptimizationStoreEnv {
 public:
  OptimizationStore& store() override { return store_; }

 private:
  FakeOptimizationStore store_;
};

class SqliteEnv : public OptimizationStoreEnv {
 public:
  explicit SqliteEnv(bool in_memory) {
    auto db = SqliteDb::Open(in_memory ? fs::path(":memory:") : dir_.path() / "alphalab.db");
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto store = SqliteOptimizationStore::Open(*db_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  ~SqliteEnv() override {
    store_.reset();
    db_.reset();
  }
  OptimizationStore& store() override { return *store_; }

 private:
  TempDir dir_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<SqliteOptimizationStore> store_;
};

INSTANTIATE_TEST_SUITE_P(
    Stores, OptimizationStoreConformance,
    ::testing::Values(OptimizationStoreFactory{"fake", [] { return std::make_unique<FakeEnv>(); }},
                      OptimizationStoreFactory{"sqlite_file", [] { return std::make_unique<SqliteEnv>(false); }},
                      OptimizationStoreFactory{"sqlite_memory", [] { return std::make_unique<SqliteEnv>(true); }}),
    OptimizationStoreFactoryName);

TEST(SqliteOptimizationStore, EverythingSurvivesReopeningTheFile) {
  TempDir dir;
  const fs::path path = dir.path() / "alphalab.db";
  OptimizationRecord opt = MakeOpt("opt_20261201_000000__cafef00d");
  opt.source_id = "opt_20261130_000000__00000000";
  OptimizationTaskRecord done;
  {
    auto db = SqliteDb::Open(path).value();
    auto store = SqliteOptimizationStore::Open(*db).value();
    ASSERT_TRUE(store->Create(opt, MakeTasks(5)).ok());
    ASSERT_EQ(store->AddTasks(opt.id, MakeTasks(7)).value(), 2);
    ASSERT_TRUE(store->UpdateStatus(opt.id, "queued", "running", StatusTimes(OptTime(9), OptTime(9)))
                    .ok());
    ASSERT_TRUE(store->MarkTaskQueued(opt.id, 3, "job_3").ok());
    ASSERT_TRUE(store->MarkTaskStatus(opt.id, 3, "queued", "running", StartedAt(OptTime(10))).ok());
    OptimizationTaskUpdate u;
    u.score = 7.25;
    u.metrics = Json{{"final_equity", 7.25}};
    u.ranked = true;
    u.ended_at = OptTime(11);
    ASSERT_TRUE(store->MarkTaskStatus(opt.id, 3, "running", "succeeded", u).ok());
    ASSERT_TRUE(store->UpdateSummary(opt.id, Json{{"total", 7}, {"finished", 1}}, OptTime(11)).ok());
    done = store->GetTask(opt.id, 3).value();
  }
  auto db = SqliteDb::Open(path).value();
  auto store = SqliteOptimizationStore::Open(*db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(db->SchemaVersion("optimizations").value(),
            static_cast<int64_t>(SqliteOptimizationStore::Migrations().size()));
  OptimizationRecord got = (*store)->Get(opt.id).value();
  EXPECT_EQ(got.status, "running");
  EXPECT_EQ(got.total_tasks, 7);
  EXPECT_EQ(got.summary, (Json{{"total", 7}, {"finished", 1}}));
  EXPECT_EQ(got.source_id, opt.source_id);
  EXPECT_EQ(got.request, opt.request);
  EXPECT_EQ((*store)->GetTask(opt.id, 3).value(), done);
  EXPECT_EQ((*store)->TaskByJobId("job_3").value(), (OptimizationTaskRef{opt.id, 3}));
  EXPECT_EQ((*store)->CountTasks(opt.id, {}).value(), 7);
  // Resume where it stopped: the pending tasks, in index order, and no configuration twice.
  EXPECT_EQ(Indices((*store)->TasksToRun(opt.id, 100).value()), (std::vector<int64_t>{0, 1, 2, 4, 5, 6}));
  EXPECT_EQ((*store)->AddTasks(opt.id, MakeTasks(7)).value(), 0);
}

// Two servers sharing one database file: each has its own SqliteDb (its own connections),
// both claim the same tasks; compare-and-set gives every task exactly one owner.
TEST(SqliteOptimizationStore, TwoHandlesOnOneFileClaimEachTaskOnce) {
  TempDir dir;
  const fs::path path = dir.path() / "alphalab.db";
  auto db_a = SqliteDb::Open(path).value();
  auto db_b = SqliteDb::Open(path).value();
  auto store_a = SqliteOptimizationStore::Open(*db_a).value();
  auto store_b = SqliteOptimizationStore::Open(*db_b).value();
  const int64_t n = 200;
  ASSERT_TRUE(store_a->Create(MakeOpt("opt_shared"), MakeTasks(n)).ok());

  std::atomic<int64_t> wins_a{0};
  std::atomic<int64_t> wins_b{0};
  std::atomic<int64_t> errors{0};
  auto claim = [&](OptimizationStore& store, const std::string& server, std::atomic<int64_t>& wins) {
    for (int64_t i = 0; i < n; ++i) {
      Status s = store.MarkTaskQueued("opt_shared", i, server + "_job_" + std::to_string(i));
      if (s.ok()) {
        ++wins;
      } else if (s.code() != StatusCode::kFailedPrecondition) {
        ++errors;
      }
    }
  };
  std::thread a([&] { claim(*store_a, "a", wins_a); });
  std::thread b([&] { claim(*store_b, "b", wins_b); });
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wins_a.load() + wins_b.load(), n);
  OptimizationTaskQuery queued;
  queued.status = "queued";
  EXPECT_EQ(store_b->CountTasks("opt_shared", queued).value(), n);
  // Every recorded job maps back to its task, whichever server recorded it.
  int64_t mapped = 0;
  for (int64_t i = 0; i < n; ++i) {
    OptimizationTaskRecord t = store_a->GetTask("opt_shared", i).value();
    ASSERT_TRUE(t.job_id.has_value());
    if (store_b->TaskByJobId(*t.job_id).value() == OptimizationTaskRef{"opt_shared", i}) ++mapped;
  }
  EXPECT_EQ(mapped, n);
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// The tasks endpoint's pages (search tasks only: validation = 0) are index walks for the index
// and score orders, with or without a status filter; a metric order sorts (value, idx) pairs
// alone and reads the page's rows by primary key.
TEST(SqliteOptimizationStore, TaskPagesWalkIndexesInsteadOfSorting) {
  auto db = SqliteDb::Open(":memory:").value();
  auto store = SqliteOptimizationStore::Open(*db).value();
  ASSERT_TRUE(store->Create(MakeOpt("opt_a"), MakeTasks(200)).ok());
  ASSERT_TRUE(store->Create(MakeOpt("opt_b"), MakeTasks(200)).ok());
  ASSERT_TRUE(store->AddTasks("opt_a", {MakeTask(0, 0, /*validation=*/true)}).ok());
  ASSERT_TRUE(db->Exec("ANALYZE").ok());

  for (const std::string field : {"index", "score"}) {
    for (bool desc : {false, true}) {
      for (bool by_status : {false, true}) {
        OptimizationTaskQuery q;
        q.validation = false;
        q.sort = {field, desc};
        q.offset = 100;
        if (by_status) q.status = "pending";
        const std::string plan = Joined(store->ExplainListTasks("opt_a", q).value());
        const std::string what = field + (desc ? " desc" : " asc") + (by_status ? " pending" : "") + "\n" + plan;
        EXPECT_NE(plan.find("SEARCH optimization_tasks USING"), std::string::npos) << what;
        if (!by_status || field == "index") {
          EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << what;
        }
        EXPECT_EQ(plan.find("SCAN"), std::string::npos) << what;
      }
    }
  }
  OptimizationTaskQuery pending;
  pending.status = "pending";
  const std::string plan = Joined(store->ExplainListTasks("opt_a", pending).value());
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;

  OptimizationTaskQuery metric;
  metric.validation = false;
  metric.sort = {"cagr", true};
  const std::string metric_plan = Joined(store->ExplainListTasks("opt_a", metric).value());
  EXPECT_NE(metric_plan.find("(optimization_id=? AND validation=?)"), std::string::npos) << metric_plan;
  EXPECT_NE(metric_plan.find("(optimization_id=? AND idx=?)"), std::string::npos) << metric_plan;
}

TEST(OptimizationIds, FollowTheJobIdSchemeWithAnOptPrefix) {
  const std::string a = NewOptimizationId(OptTime(3723, 5));  // 2026-12-01T01:02:03Z
  const std::string b = NewOptimizationId(OptTime(3723, 5));
  EXPECT_EQ(a.substr(0, 21), "opt_20261201_010203__") << a;
  ASSERT_EQ(a.size(), 29u) << a;
  EXPECT_EQ(a.substr(21).find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_NE(a, b);  // same second, different ids
  EXPECT_TRUE(IsSafeIdentifier(a));
}

TEST(SqliteOptimizationStore, MigrationsApplyOnce) {
  auto db = SqliteDb::Open(":memory:").value();
  ASSERT_TRUE(SqliteOptimizationStore::Open(*db).ok());
  ASSERT_TRUE(SqliteOptimizationStore::Open(*db).ok());
  EXPECT_EQ(db->SchemaVersion("optimizations").value(), 2);
}

// A workspace written before the task pages' indexes (version 1) is upgraded in place.
TEST(SqliteOptimizationStore, VersionOneDatabaseIsUpgraded) {
  auto db = SqliteDb::Open(":memory:").value();
  ASSERT_TRUE(db->Migrate("optimizations", {SqliteOptimizationStore::Migrations().front()}).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO optimizations (id, name, project, owner_id, job_type, status, request, summary,"
                       " created_at_us, updated_at_us, total_tasks) VALUES ('opt_old', '', '', '', 'backtest',"
                       " 'succeeded', '{}', '{}', 1, 1, 1);"
                       "INSERT INTO optimization_tasks (optimization_id, idx, params, params_key, status, score,"
                       " metrics, ranked, reason, attempt, validation) VALUES ('opt_old', 0, '{}', '{}', 'succeeded',"
                       " 2.5, '{\"cagr\":0.1}', 1, '', 0, 0)")
                  .ok());
  auto store = SqliteOptimizationStore::Open(*db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(db->SchemaVersion("optimizations").value(), 2);
  OptimizationTaskQuery q;
  q.validation = false;
  q.sort = {"score", true};
  auto page = (*store)->ListTasks("opt_old", q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().score, 2.5);
  EXPECT_EQ((*store)->CountTasks("opt_old", q).value(), 1);
}

}  // namespace
}  // namespace alphalab::testing

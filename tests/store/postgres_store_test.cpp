// Runs every store conformance suite (jobs, registry, optimizations, tokens, config history)
// against the PostgreSQL stores, each test on a fresh schema (tests/store/pg_test_db.hpp),
// plus PostgreSQL-specific checks: migrations apply once per database, errors map to the
// same Status codes as SQLite's, and concurrent ClaimNext callers never share a job.
// Needs ALPHALAB_TEST_PG_URL (make test sets it); without it the suites have no PostgreSQL
// case and PostgresStoreEnv.UrlIsSet skips (fails in CI).
#include <atomic>
#include <set>
#include <thread>

#include "store/config_history_store_conformance.hpp"
#include "store/job_store_conformance.hpp"
#include "store/optimization_store_conformance.hpp"
#include "store/pg_test_db.hpp"
#include "store/postgres/pg_config_history_store.hpp"
#include "store/postgres/pg_job_store.hpp"
#include "store/postgres/pg_optimization_store.hpp"
#include "store/postgres/pg_registry_store.hpp"
#include "store/postgres/pg_token_store.hpp"
#include "store/registry_store_conformance.hpp"
#include "store/registry_totals_check.hpp"
#include "store/token_store_conformance.hpp"

namespace alphalab::testing {
namespace {

// A fresh schema and one store of type S opened on it; S::Open(PgDb&) applies the migrations.
template <typename S>
struct PgStoreHolder {
  PgTestDb db;
  std::unique_ptr<S> store;
  PgStoreHolder() {
    if (!db.ok()) return;
    auto opened = S::Open(db.db());
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (opened.ok()) store = std::move(opened).value();
  }
  ~PgStoreHolder() { store.reset(); }
};

// The Env classes of the suites: store() over a PgStoreHolder.
template <typename Base, typename Interface, typename S>
class PgEnv : public Base {
 public:
  Interface& store() override { return *holder_.store; }

 private:
  PgStoreHolder<S> holder_;
};

template <typename Factory, typename Base, typename Interface, typename S>
std::vector<Factory> PgFactories() {
  if (!PgTestUrl()) return {};
  return {Factory{"postgres", [] { return std::make_unique<PgEnv<Base, Interface, S>>(); }}};
}

std::vector<JobStoreFactory> PgJobFactories() {
  if (!PgTestUrl()) return {};
  return {JobStoreFactory{"postgres", [] {
    auto holder = std::make_shared<PgStoreHolder<PostgresJobStore>>();
    JobStore* raw = holder->store.get();
    return std::shared_ptr<JobStore>(std::move(holder), raw);  // aliasing: keeps the schema alive
  }}};
}

INSTANTIATE_TEST_SUITE_P(Postgres, JobStoreConformanceTest, ::testing::ValuesIn(PgJobFactories()),
                         JobStoreFactoryName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(JobStoreConformanceTest);
INSTANTIATE_TEST_SUITE_P(
    Postgres, RegistryStoreConformance,
    ::testing::ValuesIn(PgFactories<RegistryStoreFactory, RegistryStoreEnv, RegistryStore, PostgresRegistryStore>()),
    RegistryStoreFactoryName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RegistryStoreConformance);
INSTANTIATE_TEST_SUITE_P(Postgres, OptimizationStoreConformance,
                         ::testing::ValuesIn(PgFactories<OptimizationStoreFactory, OptimizationStoreEnv,
                                                         OptimizationStore, PostgresOptimizationStore>()),
                         OptimizationStoreFactoryName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OptimizationStoreConformance);
INSTANTIATE_TEST_SUITE_P(
    Postgres, TokenStoreConformance,
    ::testing::ValuesIn(PgFactories<TokenStoreFactory, TokenStoreEnv, TokenStore, PostgresTokenStore>()),
    TokenStoreFactoryName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TokenStoreConformance);
INSTANTIATE_TEST_SUITE_P(Postgres, ConfigHistoryStoreConformance,
                         ::testing::ValuesIn(PgFactories<ConfigHistoryStoreFactory, ConfigHistoryStoreEnv,
                                                         ConfigHistoryStore, PostgresConfigHistoryStore>()),
                         ConfigHistoryStoreFactoryName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConfigHistoryStoreConformance);

TEST(PostgresStoreEnv, UrlIsSet) {
  ALPHALAB_REQUIRE_PG();
  EXPECT_TRUE(IsPostgresUrl(*PgTestUrl()));
}

// The same min_support totals as SQLite's (the SQL is shared in shape).
TEST(PostgresRegistryStoreTest, MinSupportTotalsPastTheProbeAreExact) {
  if (!PgTestUrl()) GTEST_SKIP() << "ALPHALAB_TEST_PG_URL is not set";
  PgStoreHolder<PostgresRegistryStore> holder;
  ASSERT_TRUE(holder.store);
  ExpectMinSupportTotalsPastTheProbe(*holder.store);
}

TEST(PgDbTest, MigrationsApplyOnceAndNewerSchemaIsRefused) {
  ALPHALAB_REQUIRE_PG();
  PgTestDb t;
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(PostgresJobStore::Open(t.db()).ok());
  ASSERT_TRUE(PostgresJobStore::Open(t.db()).ok());  // second open: nothing to apply
  EXPECT_EQ(t.db().SchemaVersion("jobs").value(), static_cast<int64_t>(PostgresJobStore::Migrations().size()));
  Status newer = t.db().Migrate("jobs", {});
  EXPECT_EQ(newer.code(), StatusCode::kFailedPrecondition) << newer.ToString();
}

TEST(PgDbTest, ErrorsMapToStatusCodes) {
  ALPHALAB_REQUIRE_PG();
  PgTestDb t;
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.db().Exec("CREATE TABLE k (id TEXT PRIMARY KEY, n BIGINT NOT NULL)").ok());
  ASSERT_TRUE(t.db().WithConnection([](PgConnection& c) { return c.Execute("INSERT INTO k VALUES (?, ?)", "a", 1); }).ok());
  Status dup = t.db().WithConnection([](PgConnection& c) { return c.Execute("INSERT INTO k VALUES (?, ?)", "a", 2); });
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  EXPECT_EQ(dup.details()["sqlstate"], "23505");
  Status null = t.db().WithConnection([](PgConnection& c) { return c.Execute("INSERT INTO k VALUES (?, NULL)", "b"); });
  EXPECT_EQ(null.code(), StatusCode::kFailedPrecondition) << null.ToString();
  Status bad = t.db().WithConnection([](PgConnection& c) { return c.Execute("INSERT INTO k VALUES (?, ?)", "c", "x"); });
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument) << bad.ToString();
  // A failed writer closure rolls back everything it did.
  Status failed = t.db().WithWriter([](PgConnection& c) -> Status {
    RETURN_IF_ERROR(c.Execute("INSERT INTO k VALUES (?, ?)", "d", 4));
    return Status::Internal("give up");
  });
  EXPECT_TRUE(failed.IsInternal());
  EXPECT_EQ(t.db().WithConnection([](PgConnection& c) { return c.QueryInt64("SELECT COUNT(*) FROM k"); }).value(), 1);
}

TEST(PgDbTest, UnreachableServerIsUnavailable) {
  auto db = PgDb::Open("postgresql://nobody:secret@127.0.0.1:1/none");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(db.status().message().find("secret"), std::string::npos) << "password leaked: " << db.status().message();
}

TEST(PgDbTest, PlaceholdersSkipQuotedText) {
  EXPECT_EQ(PgPlaceholders("SELECT '?', \"a?\" FROM t WHERE a = ? AND b IN (?, ?)"),
            "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b IN ($2, $3)");
}

// Two stores on two pools (two servers), 8 claimers, one queue: every job exactly once.
TEST(PostgresJobStoreTest, ConcurrentClaimNextNeverSharesAJob) {
  ALPHALAB_REQUIRE_PG();
  PgTestDb t(8);
  ASSERT_TRUE(t.ok());
  PgDb::Options second_options;
  second_options.schema = t.db().schema();
  auto second = PgDb::Open(t.db().url(), second_options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto a = PostgresJobStore::Open(t.db()).value();
  auto b = PostgresJobStore::Open(**second).value();
  constexpr int kJobs = 400;
  for (int i = 0; i < kJobs; ++i) {
    JobRecord j;
    j.job_id = JobId("job_" + std::to_string(1000 + i));
    j.job_type = "t";
    j.created_at = TimePoint(std::chrono::seconds(1000 + i));
    j.cwd = "/";
    ASSERT_TRUE(a->InsertJob(j).ok());
  }
  std::mutex mu;
  std::multiset<std::string> taken;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 8; ++th) {
    threads.emplace_back([&, th] {
      JobStore& store = th % 2 ? static_cast<JobStore&>(*a) : static_cast<JobStore&>(*b);
      // A claimer takes its own claimed jobs back (JobStore contract): one name per thread.
      const std::string me = (th % 2 ? "server-a/" : "server-b/") + std::to_string(th);
      while (true) {
        auto next = store.ClaimNext(me);
        if (!next.ok()) {
          ++errors;
          return;
        }
        if (!*next) return;
        std::lock_guard<std::mutex> lock(mu);
        taken.insert((*next)->job_id.str());
        EXPECT_EQ((*next)->claimed_by, me);
        JobRecord running = **next;
        running.status = JobState::kRunning;
        Status moved = store.UpdateJob(running, JobState::kQueued);
        EXPECT_TRUE(moved.ok()) << moved.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(taken.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(taken.begin(), taken.end()).size(), static_cast<size_t>(kJobs)) << "a job was claimed twice";
}

}  // namespace
}  // namespace alphalab::testing

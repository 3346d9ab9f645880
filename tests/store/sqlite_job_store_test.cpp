// SQLite-specific behaviour of the job store (the shared contract is in the conformance suite).
#include "store/sqlite/sqlite_job_store.hpp"

#include <gtest/gtest.h>

#include "store/temp_dir.hpp"

namespace alphalab {
namespace {

JobRecord MakeJob(const std::string& id, int64_t created_us) {
  JobRecord job;
  job.job_id = JobId(id);
  job.job_type = "train";
  job.created_at = TimePoint(std::chrono::microseconds(created_us));
  job.cwd = "/ws";
  job.command = {"alphalab", "train"};
  job.log_path = "reports/jobs/runtime/" + id + ".log";
  job.meta_path = "reports/jobs/runtime/" + id + ".json";
  return job;
}

std::string QueryPlan(SqliteDb& db, const std::string& sql) {
  std::string plan;
  Status s = db.WithReader([&](SqliteConnection& c) {
    return c.Query("EXPLAIN QUERY PLAN " + sql, [&](SqliteStatement& row) { plan += row.ColumnText(3) + "\n"; });
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return plan;
}

TEST(SqliteJobStoreTest, JobsSurviveReopenAndMigrationIsRecorded) {
  testing::TempDir dir;
  const auto path = dir.path() / "alphalab.db";
  {
    auto db = SqliteDb::Open(path);
    ASSERT_TRUE(db.ok());
    auto store = SqliteJobStore::Open(**db);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->InsertJob(MakeJob("job_keep", 1)).ok());
    EXPECT_EQ((*db)->SchemaVersion("jobs").value_or(-1),
              static_cast<int64_t>(SqliteJobStore::Migrations().size()));
  }
  auto db = SqliteDb::Open(path);
  ASSERT_TRUE(db.ok());
  auto store = SqliteJobStore::Open(**db);  // migrations already applied: a no-op
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto job = (*store)->GetJob(JobId("job_keep"));
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->command, (std::vector<std::string>{"alphalab", "train"}));
}

TEST(SqliteJobStoreTest, ListingsAreServedByIndexes) {
  auto db = SqliteDb::Open(":memory:");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(SqliteJobStore::Open(**db).ok());
  EXPECT_NE(QueryPlan(**db, "SELECT job_id FROM jobs ORDER BY created_at_us DESC, job_id DESC LIMIT 100")
                .find("jobs_recent"), std::string::npos);
  EXPECT_NE(QueryPlan(**db, "SELECT job_id FROM jobs WHERE status = 'QUEUED' "
                            "ORDER BY created_at_us DESC, job_id DESC LIMIT 100")
                .find("jobs_by_status"), std::string::npos);
  EXPECT_NE(QueryPlan(**db, "SELECT job_id FROM jobs WHERE job_type = 'train' "
                            "ORDER BY created_at_us DESC, job_id DESC LIMIT 100")
                .find("jobs_by_type"), std::string::npos);
  EXPECT_NE(QueryPlan(**db, "SELECT job_id FROM jobs WHERE parent_id = 'p' "
                            "ORDER BY created_at_us DESC, job_id DESC LIMIT 100")
                .find("jobs_by_parent"), std::string::npos);
}

TEST(SqliteJobStoreTest, CorruptStoredJsonIsAnInternalErrorNamingTheJob) {
  auto db = SqliteDb::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto store = SqliteJobStore::Open(**db);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->InsertJob(MakeJob("job_bad", 1)).ok());
  ASSERT_TRUE((*db)->Exec("UPDATE jobs SET params = '{not json' WHERE job_id = 'job_bad'").ok());
  auto job = (*store)->GetJob(JobId("job_bad"));
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInternal);
  EXPECT_NE(job.status().message().find("job_bad"), std::string::npos);
  EXPECT_NE(job.status().message().find("params"), std::string::npos);
}

}  // namespace
}  // namespace alphalab

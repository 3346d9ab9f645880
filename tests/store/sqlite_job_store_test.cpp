// SQLite-specific behaviour of the job store (the shared contract is in the conformance suite).
#include "store/sqlite/sqlite_job_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "store/file_job_store.hpp"
#include "store/group_batch.hpp"
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

// A database written before end_reason existed (jobs schema v1) is migrated: its terminal
// rows get the reason their stored facts imply, without reading any message text.
TEST(SqliteJobStoreTest, MigrationToV2BackfillsEndReasonsOfExistingRows) {
  testing::TempDir dir;
  const auto path = dir.path() / "alphalab.db";
  {
    auto db = SqliteDb::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Migrate("jobs", {SqliteJobStore::Migrations().front()}).ok());
    Status s = (*db)->WriteGrouped([](SqliteConnection& c) {
      return c.Exec(
          "INSERT INTO jobs (job_id, job_type, status, created_at_us, started_at_us, exit_code,"
          " error_message, cwd, command, args_preview, params, artifacts, log_path, meta_path,"
          " dry_run, timeout_sec, env) VALUES"
          " ('job_ok', 't', 'SUCCESS', 1, 2, 0, NULL, '/', '[]', '', '{}', '{}', 'l', 'm', 0, 0, '{}'),"
          " ('job_cancel', 't', 'CANCELED', 2, NULL, NULL, NULL, '/', '[]', '', '{}', '{}', 'l', 'm', 0, 0, '{}'),"
          " ('job_spawn', 't', 'FAILED', 3, NULL, NULL, 'x', '/', '[]', '', '{}', '{}', 'l', 'm', 0, 0, '{}'),"
          " ('job_sig', 't', 'FAILED', 4, 5, -9, 'x', '/', '[]', '', '{}', '{}', 'l', 'm', 0, 0, '{}'),"
          " ('job_exit', 't', 'FAILED', 5, 6, 3, 'x', '/', '[]', '', '{}', '{}', 'l', 'm', 0, 0, '{}'),"
          " ('job_lost', 't', 'FAILED', 6, 7, NULL, 'x', '/', '[]', '', '{}', '{}', 'l', 'm', 0, 0, '{}'),"
          " ('job_run', 't', 'RUNNING', 7, 8, NULL, NULL, '/', '[]', '', '{}', '{}', 'l', 'm', 0, 0, '{}')");
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  auto db = SqliteDb::Open(path);
  ASSERT_TRUE(db.ok());
  auto store = SqliteJobStore::Open(**db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // v1 -> the latest (v2 end reasons, v3 project)
  EXPECT_EQ((*db)->SchemaVersion("jobs").value_or(-1), static_cast<int64_t>(SqliteJobStore::Migrations().size()));
  const std::map<std::string, std::optional<EndReason>> want = {
      {"job_ok", EndReason::kExitCode},     {"job_cancel", EndReason::kCanceled},
      {"job_spawn", EndReason::kSpawnFailed}, {"job_sig", EndReason::kSignal},
      {"job_exit", EndReason::kExitCode},   {"job_lost", EndReason::kLost},
      {"job_run", std::nullopt}};
  for (const auto& [id, reason] : want) {
    auto job = (*store)->GetJob(JobId(id));
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    EXPECT_EQ(job->end_reason, reason) << id;
    EXPECT_FALSE(job->claimed_by.has_value());
    EXPECT_EQ(job->project, "") << id;  // v3: rows stored before it have no project
  }
  // v4: the search column is filled for rows stored before it (folded like AsciiLower).
  JobQuery q;
  q.text = "JOB_SIG";
  auto found = (*store)->ListJobs(q);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].job_id.str(), "job_sig");
  q.text = "t";  // the job_type of every row
  EXPECT_EQ((*store)->CountJobs(q).value_or(-1), 7);
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
  // The text search reads jobs_recent alone (it carries search_text): newest first, stopping at
  // the page, and the counts scan that index, not the table.
  EXPECT_NE(QueryPlan(**db, "SELECT job_id FROM jobs WHERE instr(search_text, 'x') > 0 "
                            "ORDER BY created_at_us DESC, job_id DESC LIMIT 100")
                .find("COVERING INDEX jobs_recent"), std::string::npos);
  EXPECT_NE(QueryPlan(**db, "SELECT COUNT(*) FROM jobs WHERE instr(search_text, 'x') > 0").find("COVERING INDEX jobs_recent"),
            std::string::npos);
  EXPECT_NE(QueryPlan(**db, "SELECT job_id FROM jobs WHERE project = 'p18' "
                            "ORDER BY created_at_us DESC, job_id DESC LIMIT 100")
                .find("jobs_by_project"), std::string::npos);
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


using FileStore = testing::FileJobStore;

// Insert QUEUED, CAS to RUNNING, CAS to SUCCESS: the jobs service's three writes per job.
Status Lifecycle(JobStore& store, const std::string& id, int64_t created_us) {
  JobRecord job = MakeJob(id, created_us);
  RETURN_IF_ERROR(store.InsertJob(job));
  job.status = JobState::kRunning;
  job.started_at = TimePoint(std::chrono::microseconds(created_us + 10));
  job.executor_ref = "local:1:2";
  RETURN_IF_ERROR(store.UpdateJob(job, JobState::kQueued));
  job.status = JobState::kSuccess;
  job.ended_at = TimePoint(std::chrono::microseconds(created_us + 20));
  job.exit_code = 0;
  job.artifacts = Json{{"run_id", "run_" + id}};
  return store.UpdateJob(job, JobState::kRunning);
}

TEST(SqliteJobStoreConcurrencyTest, ManyThreadsOfLifecyclesLandExactlyOnce) {
  FileStore fs;
  ASSERT_NE(fs.store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * kPerThread + i;
        Status s = Lifecycle(*fs.store, "job_" + std::to_string(n), 1000 + n);
        if (!s.ok()) {
          ADD_FAILURE() << s.ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  auto counts = fs.store->CountJobsByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[JobState::kSuccess], kThreads * kPerThread);
  EXPECT_EQ((*counts)[JobState::kQueued], 0);
  EXPECT_EQ((*counts)[JobState::kRunning], 0);
  for (int n = 0; n < kThreads * kPerThread; n += 97) {
    auto job = fs.store->GetJob(JobId("job_" + std::to_string(n)));
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    EXPECT_EQ(job->status, JobState::kSuccess);
    EXPECT_EQ(job->exit_code, 0);
    EXPECT_EQ(job->artifacts, (Json{{"run_id", "run_job_" + std::to_string(n)}}));
    EXPECT_EQ(job->created_at, TimePoint(std::chrono::microseconds(1000 + n)));
  }
  const SqliteDb::WriteStats stats = fs.db->write_stats();
  EXPECT_EQ(stats.grouped_writes, static_cast<uint64_t>(3 * kThreads * kPerThread));
}

TEST(SqliteJobStoreConcurrencyTest, RacingInsertsAndCasHaveExactlyOneWinner) {
  FileStore fs;
  ASSERT_NE(fs.store, nullptr);
  constexpr int kThreads = 6;
  constexpr int kJobs = 100;
  std::atomic<int> inserted{0}, already_exists{0}, moved{0}, lost_cas{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kJobs; ++i) {
        Status s = fs.store->InsertJob(MakeJob("race_" + std::to_string(i), i));
        s.ok() ? ++inserted : s.IsAlreadyExists() ? ++already_exists : ++other;
      }
      for (int i = 0; i < kJobs; ++i) {
        JobRecord job = MakeJob("race_" + std::to_string(i), i);
        job.status = JobState::kRunning;
        Status s = fs.store->UpdateJob(job, JobState::kQueued);
        s.ok() ? ++moved : s.code() == StatusCode::kFailedPrecondition ? ++lost_cas : ++other;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(inserted.load(), kJobs);
  EXPECT_EQ(already_exists.load(), (kThreads - 1) * kJobs);
  EXPECT_EQ(moved.load(), kJobs);
  EXPECT_EQ(lost_cas.load(), (kThreads - 1) * kJobs);
  EXPECT_EQ(fs.store->CountJobs(JobQuery{}).value_or(-1), kJobs);
}

TEST(SqliteJobStoreConcurrencyTest, FailingCallersInOneBatchGetExactlyTheirErrors) {
  FileStore fs;
  ASSERT_NE(fs.store, nullptr);
  ASSERT_TRUE(fs.store->InsertJob(MakeJob("job_existing", 1)).ok());
  JobRecord running = MakeJob("job_running", 2);
  ASSERT_TRUE(fs.store->InsertJob(running).ok());
  running.status = JobState::kRunning;
  ASSERT_TRUE(fs.store->UpdateJob(running, JobState::kQueued).ok());
  const SqliteDb::WriteStats before = fs.db->write_stats();

  Status new_insert, dup_insert, cas_ok, cas_mismatch, cas_unknown, new_insert2;
  JobRecord to_success = running;
  to_success.status = JobState::kSuccess;
  to_success.exit_code = 0;
  JobRecord wrong_expected = MakeJob("job_existing", 1);
  wrong_expected.status = JobState::kFailed;
  JobRecord unknown = MakeJob("job_nobody", 3);
  unknown.status = JobState::kRunning;

  testing::BatchBuilder batch(*fs.db, 6);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { new_insert = fs.store->InsertJob(MakeJob("job_new", 10)); });
  threads.emplace_back([&] { dup_insert = fs.store->InsertJob(MakeJob("job_existing", 11)); });
  threads.emplace_back([&] { cas_ok = fs.store->UpdateJob(to_success, JobState::kRunning); });
  threads.emplace_back([&] { cas_mismatch = fs.store->UpdateJob(wrong_expected, JobState::kRunning); });
  threads.emplace_back([&] { cas_unknown = fs.store->UpdateJob(unknown, JobState::kQueued); });
  threads.emplace_back([&] { new_insert2 = fs.store->InsertJob(MakeJob("job_new2", 12)); });
  ASSERT_TRUE(batch.Finish().ok());
  for (auto& th : threads) th.join();

  const SqliteDb::WriteStats after = fs.db->write_stats();
  EXPECT_EQ(after.group_commits - before.group_commits, 2u) << "blocker + one batch of six";
  EXPECT_EQ(after.grouped_writes - before.grouped_writes, 7u);

  EXPECT_TRUE(new_insert.ok()) << new_insert.ToString();
  EXPECT_TRUE(new_insert2.ok()) << new_insert2.ToString();
  EXPECT_TRUE(cas_ok.ok()) << cas_ok.ToString();
  EXPECT_EQ(dup_insert.code(), StatusCode::kAlreadyExists) << dup_insert.ToString();
  EXPECT_NE(dup_insert.message().find("job_existing"), std::string::npos);
  EXPECT_EQ(cas_mismatch.code(), StatusCode::kFailedPrecondition) << cas_mismatch.ToString();
  EXPECT_EQ(cas_mismatch.details().value("status", ""), "QUEUED") << cas_mismatch.ToString();
  EXPECT_EQ(cas_unknown.code(), StatusCode::kNotFound) << cas_unknown.ToString();

  // The successful callers' writes are committed and visible; the failed ones changed nothing.
  EXPECT_EQ(fs.store->GetJob(JobId("job_new")).value_or(JobRecord{}).job_id.str(), "job_new");
  EXPECT_EQ(fs.store->GetJob(JobId("job_new2")).value_or(JobRecord{}).job_id.str(), "job_new2");
  EXPECT_EQ(fs.store->GetJob(JobId("job_running")).value_or(JobRecord{}).status, JobState::kSuccess);
  auto existing = fs.store->GetJob(JobId("job_existing"));
  ASSERT_TRUE(existing.ok());
  EXPECT_EQ(existing->status, JobState::kQueued);
  EXPECT_EQ(existing->created_at, TimePoint(std::chrono::microseconds(1)));
  EXPECT_FALSE(fs.store->GetJob(JobId("job_nobody")).ok());
  EXPECT_EQ(fs.store->CountJobs(JobQuery{}).value_or(-1), 4);
}

TEST(SqliteJobStoreConcurrencyTest, LoneWriteIsVisibleToReadersOnReturn) {
  FileStore fs;
  ASSERT_NE(fs.store, nullptr);
  for (int i = 0; i < 50; ++i) {
    JobRecord job = MakeJob("job_" + std::to_string(i), i);
    ASSERT_TRUE(fs.store->InsertJob(job).ok());
    auto read = fs.store->GetJob(job.job_id);  // a reader connection, not the writer
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->status, JobState::kQueued);
    job.status = JobState::kRunning;
    ASSERT_TRUE(fs.store->UpdateJob(job, JobState::kQueued).ok());
    EXPECT_EQ(fs.store->GetJob(job.job_id).value_or(JobRecord{}).status, JobState::kRunning);
  }
}

}  // namespace
}  // namespace alphalab

// SqliteDb::WriteGrouped (group commit) and the background WAL checkpointer.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_db.hpp"
#include "store/group_batch.hpp"
#include "store/temp_dir.hpp"

namespace alphalab {
namespace {

using testing::BatchBuilder;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

std::unique_ptr<SqliteDb> OpenDb(const std::filesystem::path& path,
                                 SqliteDb::Options options = SqliteDb::Options{}) {
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path, options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

Status Insert(SqliteDb& db, const std::string& key, int64_t value) {
  return db.WriteGrouped([&](SqliteConnection& c) {
    return c.Execute("INSERT INTO t (k, v) VALUES (?, ?)", key, value);
  });
}

int64_t Count(SqliteDb& db, const std::string& sql) {
  return db.WithReader([&](SqliteConnection& c) { return c.QueryInt64(sql); }).value_or(-1);
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenDb(dir_.path() / "group.db");
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").ok());
  }
  TempDir dir_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(GroupCommitTest, ManyThreadsManyWritesAllLandExactlyOnce) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 400;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!Insert(*db_, std::to_string(t) + ":" + std::to_string(i), i).ok()) ++failures;
      }
      // Each row updated once more through its own grouped write (read-modify-write).
      for (int i = 0; i < kPerThread; ++i) {
        Status s = db_->WriteGrouped([&](SqliteConnection& c) -> Status {
          RETURN_IF_ERROR(c.Execute("UPDATE t SET v = v + 1000 WHERE k = ?",
                                    std::to_string(t) + ":" + std::to_string(i)));
          return c.Changes() == 1 ? Status::Ok() : Status::Internal("update hit no row");
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t"), kThreads * kPerThread);
  EXPECT_EQ(Count(*db_, "SELECT COUNT(DISTINCT k) FROM t"), kThreads * kPerThread);
  // sum over threads of sum_i (i + 1000)
  const int64_t expected_sum =
      int64_t{kThreads} * (int64_t{kPerThread} * (kPerThread - 1) / 2 + 1000LL * kPerThread);
  EXPECT_EQ(Count(*db_, "SELECT SUM(v) FROM t"), expected_sum);
  const SqliteDb::WriteStats stats = db_->write_stats();
  EXPECT_EQ(stats.grouped_writes, static_cast<uint64_t>(2 * kThreads * kPerThread));
  EXPECT_LE(stats.group_commits, stats.grouped_writes);
}

TEST_F(GroupCommitTest, FailingClosureInABatchGetsOnlyItsErrorAndOthersCommit) {
  ASSERT_TRUE(Insert(*db_, "taken", 1).ok());
  const SqliteDb::WriteStats before = db_->write_stats();
  struct Caller {
    std::string name;
    std::function<Status(SqliteConnection&)> fn;
    Status result;
  };
  std::vector<Caller> callers;
  for (int i = 0; i < 4; ++i) {
    const std::string key = "good" + std::to_string(i);
    callers.push_back({key, [key](SqliteConnection& c) {
                         return c.Execute("INSERT INTO t (k, v) VALUES (?, 7)", key);
                       }, Status()});
  }
  callers.push_back({"duplicate", [](SqliteConnection& c) {
                       return c.Execute("INSERT INTO t (k, v) VALUES ('taken', 2)");
                     }, Status()});
  // Writes a row, then fails: its row must be rolled back with its savepoint.
  callers.push_back({"changed_mind", [](SqliteConnection& c) -> Status {
                       RETURN_IF_ERROR(c.Execute("INSERT INTO t (k, v) VALUES ('ghost1', 1)"));
                       RETURN_IF_ERROR(c.Execute("UPDATE t SET v = 99 WHERE k = 'taken'"));
                       return Status::InvalidArgument("changed my mind");
                     }, Status()});
  // Second statement fails: the first one's row goes too (a closure is atomic).
  callers.push_back({"half", [](SqliteConnection& c) -> Status {
                       RETURN_IF_ERROR(c.Execute("INSERT INTO t (k, v) VALUES ('ghost2', 1)"));
                       return c.Execute("INSERT INTO t (k, v) VALUES ('ghost3', NULL)");
                     }, Status()});
  BatchBuilder batch(*db_, callers.size());
  std::vector<std::thread> threads;
  for (Caller& caller : callers) {
    threads.emplace_back([&] { caller.result = db_->WriteGrouped(caller.fn); });
  }
  ASSERT_TRUE(batch.Finish().ok());
  for (auto& th : threads) th.join();

  const SqliteDb::WriteStats after = db_->write_stats();
  EXPECT_EQ(after.group_commits - before.group_commits, 2u) << "blocker + one shared batch";
  EXPECT_EQ(after.grouped_writes - before.grouped_writes, callers.size() + 1);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(callers[i].result.ok()) << callers[i].result.ToString();
  EXPECT_EQ(callers[4].result.code(), StatusCode::kAlreadyExists) << callers[4].result.ToString();
  EXPECT_EQ(callers[5].result.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(callers[5].result.message(), "changed my mind");
  EXPECT_EQ(callers[6].result.code(), StatusCode::kFailedPrecondition) << callers[6].result.ToString();
  EXPECT_NE(callers[6].result.message().find("NOT NULL"), std::string::npos);

  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t WHERE k LIKE 'good%' AND v = 7"), 4);
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t WHERE k LIKE 'ghost%'"), 0);
  EXPECT_EQ(Count(*db_, "SELECT v FROM t WHERE k = 'taken'"), 1);
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t"), 5);
}

TEST_F(GroupCommitTest, FailedCommitFailsEveryCallerOfTheBatch) {
  // A commit hook that vetoes turns the batch's COMMIT into a failure (as an I/O error would).
  std::vector<Status> results(4);
  BatchBuilder batch(*db_, results.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      if (i == 2) {
        results[i] = db_->WriteGrouped([](SqliteConnection& c) {
          sqlite3_commit_hook(c.raw(), [](void*) { return 1; }, nullptr);
          return c.Execute("INSERT INTO t (k, v) VALUES ('vetoer', 1)");
        });
      } else {
        results[i] = Insert(*db_, "row" + std::to_string(i), 1);
      }
    });
  }
  ASSERT_TRUE(batch.Finish().ok());
  for (auto& th : threads) th.join();
  for (const Status& s : results) {
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("group commit of 4 writes"), std::string::npos) << s.message();
    EXPECT_EQ(s.details().value("sqlite_code", 0), SQLITE_CONSTRAINT_COMMITHOOK) << s.ToString();
  }
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t"), 0);
  // The writer is not left inside the failed transaction.
  ASSERT_TRUE(db_->WithWriter([](SqliteConnection& c) {
    sqlite3_commit_hook(c.raw(), nullptr, nullptr);
    return !c.InTransaction();
  }));
  ASSERT_TRUE(Insert(*db_, "after", 1).ok());
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t"), 1);
}

TEST_F(GroupCommitTest, DeferredForeignKeyViolationFailsOnlyItsCaller) {
  // Checked at COMMIT by SQLite: in a shared transaction it would fail everyone's commit.
  ASSERT_TRUE(db_->Exec("CREATE TABLE p (id INTEGER PRIMARY KEY);"
                        "CREATE TABLE c (pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)")
                  .ok());
  std::vector<Status> results(4);
  BatchBuilder batch(*db_, results.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      if (i == 1) {
        results[i] = db_->WriteGrouped([](SqliteConnection& c) {
          return c.Execute("INSERT INTO c (pid) VALUES (42)");  // orphan
        });
      } else if (i == 2) {
        results[i] = db_->WriteGrouped([](SqliteConnection& c) -> Status {
          // Violates, then resolves, within the closure: fine.
          RETURN_IF_ERROR(c.Execute("INSERT INTO c (pid) VALUES (7)"));
          return c.Execute("INSERT INTO p (id) VALUES (7)");
        });
      } else {
        results[i] = Insert(*db_, "row" + std::to_string(i), 1);
      }
    });
  }
  ASSERT_TRUE(batch.Finish().ok());
  for (auto& th : threads) th.join();
  EXPECT_EQ(results[1].code(), StatusCode::kFailedPrecondition) << results[1].ToString();
  EXPECT_NE(results[1].message().find("FOREIGN KEY"), std::string::npos);
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_TRUE(results[2].ok()) << results[2].ToString();
  EXPECT_TRUE(results[3].ok()) << results[3].ToString();
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t"), 2);
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM c"), 1);
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM c WHERE pid = 42"), 0);
  // Alone (no savepoint), the same write fails at its own COMMIT.
  Status alone = db_->WriteGrouped([](SqliteConnection& c) {
    return c.Execute("INSERT INTO c (pid) VALUES (43)");
  });
  EXPECT_EQ(alone.code(), StatusCode::kFailedPrecondition) << alone.ToString();
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM c"), 1);
}

TEST_F(GroupCommitTest, LoneWritesCommitAloneAndAreVisibleOnReturn) {
  const uint64_t commits_before = db_->write_stats().group_commits;
  const auto start = Clock::now();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(Insert(*db_, "k" + std::to_string(i), i).ok());
    // A reader connection (not the writer) sees it at once: it is committed.
    ASSERT_EQ(Count(*db_, "SELECT COUNT(*) FROM t"), i + 1);
  }
  const auto elapsed = Clock::now() - start;
  // Nobody waited for company: one transaction per lone write, and no gathering timer (200
  // writes take a few ms; a 1 ms wait per commit alone would take 200 ms).
  EXPECT_EQ(db_->write_stats().group_commits - commits_before, 200u);
  EXPECT_LT(elapsed, std::chrono::milliseconds(200));
  // A lone failing write reports its own error and leaves no transaction open.
  EXPECT_EQ(Insert(*db_, "k0", 0).code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(db_->WithWriter([](SqliteConnection& c) { return c.InTransaction(); }));
}

TEST_F(GroupCommitTest, UngroupedModeRunsEachCallInItsOwnTransaction) {
  SqliteDb::Options options;
  options.group_commit = false;
  auto db = OpenDb(dir_.path() / "alone.db", options);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) EXPECT_TRUE(Insert(*db, std::to_string(t) + "/" + std::to_string(i), i).ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM t"), 400);
  EXPECT_EQ(db->write_stats().group_commits, 400u);
  EXPECT_EQ(Insert(*db, "0/0", 0).code(), StatusCode::kAlreadyExists);
}

TEST_F(GroupCommitTest, WriterConnectionNeverCheckpointsInsideCommits) {
  // SQLite reports 0 when its auto-checkpoint hook is not installed.
  EXPECT_EQ(db_->WithWriter([](SqliteConnection& c) { return c.QueryInt64("PRAGMA wal_autocheckpoint"); })
                .value_or(-1),
            0);
  SqliteDb::Options inline_options;
  inline_options.background_checkpoint = false;
  auto inline_db = OpenDb(dir_.path() / "inline.db", inline_options);
  ASSERT_NE(inline_db, nullptr);
  EXPECT_EQ(inline_db->WithWriter([](SqliteConnection& c) { return c.QueryInt64("PRAGMA wal_autocheckpoint"); })
                .value_or(-1),
            1000);
}

// Writes 20,000 rows (about 250 bytes each, two indexes) from 4 threads; returns the size of
// the WAL file afterwards (it never shrinks while the database is open, so this is its peak).
uintmax_t WalSizeAfterLongRun(const std::filesystem::path& path, SqliteDb::Options options,
                              SqliteDb::WriteStats* stats) {
  auto db = OpenDb(path, options);
  if (db == nullptr) return 0;
  EXPECT_TRUE(db->Exec("CREATE TABLE w (k TEXT PRIMARY KEY, v INTEGER, pad TEXT);"
                       "CREATE INDEX w_v ON w (v)").ok());
  const std::string pad(200, 'x');
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        // Keys spread over the whole table so each write dirties different pages.
        const int64_t v = (static_cast<int64_t>(i) * 7919 + t * 104729) % 1000003;
        Status s = db->WriteGrouped([&](SqliteConnection& c) {
          return c.Execute("INSERT INTO w (k, v, pad) VALUES (?, ?, ?)",
                           std::to_string(t) + "_" + std::to_string(i), v, pad);
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM w"), 20000);
  *stats = db->write_stats();
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path.string() + "-wal", ec);
  EXPECT_FALSE(ec) << ec.message();
  return size;
}

TEST_F(GroupCommitTest, WalStaysBoundedInALongWriteRun) {
  constexpr int kThreshold = 100;  // pages
  SqliteDb::Options options;
  options.wal_autocheckpoint_pages = kThreshold;
  SqliteDb::WriteStats stats;
  const uintmax_t bounded = WalSizeAfterLongRun(dir_.path() / "bounded.db", options, &stats);
  // Expected peak: wal_max_pages (default 4 x threshold = 400 frames of 4 KiB + 24 bytes)
  // plus one batch (< 128 writes of a few pages each). 6 MiB leaves room for that and is far
  // below what the same run writes without checkpoints (checked below).
  constexpr uintmax_t kBound = 6u << 20;
  EXPECT_GT(bounded, 0u);
  EXPECT_LT(bounded, kBound) << "WAL of " << bounded << " bytes";
  EXPECT_GT(stats.checkpoints, 0u);
  std::printf("bounded WAL: %ju bytes, peak %d frames, %ju restarts, %ju checkpoints (%ju writer stalls), %ju commits\n",
              bounded, stats.max_wal_pages, static_cast<uintmax_t>(stats.wal_restarts), static_cast<uintmax_t>(stats.checkpoints),
              static_cast<uintmax_t>(stats.writer_stalls),
              static_cast<uintmax_t>(stats.group_commits));

  // Control: the same run with checkpoints off grows the WAL far past the bound, so the
  // assertion above measures the checkpointer.
  options.wal_autocheckpoint_pages = 0;
  const uintmax_t unbounded = WalSizeAfterLongRun(dir_.path() / "unbounded.db", options, &stats);
  EXPECT_GT(unbounded, 4 * kBound) << "WAL of " << unbounded << " bytes";
  EXPECT_EQ(stats.checkpoints, 0u);
}

TEST_F(GroupCommitTest, WithWriterUsersAndGroupedWritersInterleaveSafely) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        const std::string key = std::to_string(t) + "#" + std::to_string(i);
        Status s = t % 2 == 0 ? Insert(*db_, key, i)
                              : db_->InTransaction([&](SqliteConnection& c) {
                                  return c.Execute("INSERT INTO t (k, v) VALUES (?, ?)", key, i);
                                });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t"), 6 * 150);
  EXPECT_EQ(db_->write_stats().grouped_writes, 3u * 150u);
}

TEST_F(GroupCommitTest, ClosureThatThrowsFailsOnlyItsCaller) {
  Status thrower, good;
  BatchBuilder batch(*db_, 2);
  std::thread a([&] {
    thrower = db_->WriteGrouped([](SqliteConnection& c) -> Status {
      (void)c.Execute("INSERT INTO t (k, v) VALUES ('thrown', 1)");
      throw std::runtime_error("boom");
    });
  });
  std::thread b([&] { good = Insert(*db_, "kept", 1); });
  ASSERT_TRUE(batch.Finish().ok());
  a.join();
  b.join();
  EXPECT_EQ(thrower.code(), StatusCode::kInternal);
  EXPECT_NE(thrower.message().find("boom"), std::string::npos) << thrower.message();
  EXPECT_TRUE(good.ok()) << good.ToString();
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t WHERE k = 'kept'"), 1);
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t WHERE k = 'thrown'"), 0);
}

TEST(GroupCommitCheckpointTest, WritersKeepGoingWhileAReaderPinsTheWalAndItRestartsAfter) {
  TempDir dir;
  SqliteDb::Options options;
  options.wal_autocheckpoint_pages = 20;
  options.wal_max_pages = 40;
  auto db = OpenDb(dir.path() / "pinned.db", options);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL, pad TEXT)").ok());
  const std::string pad(3000, 'p');  // about one page per row
  auto write = [&](const std::string& key) {
    return db->WriteGrouped([&](SqliteConnection& c) {
      return c.Execute("INSERT INTO t (k, v, pad) VALUES (?, 1, ?)", key, pad);
    });
  };
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(write("before" + std::to_string(i)).ok());

  // A reader holds a snapshot open: no checkpoint can copy frames past it, so the WAL cannot
  // restart while it lives.
  std::atomic<bool> pinned{false}, release{false};
  int64_t seen = -1;
  std::thread reader([&] {
    Status s = db->WithReader([&](SqliteConnection& c) -> Status {
      ASSIGN_OR_RETURN(SqliteTransaction tx, SqliteTransaction::Begin(c, /*immediate=*/false));
      ASSIGN_OR_RETURN(seen, c.QueryInt64("SELECT COUNT(*) FROM t"));
      pinned = true;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ASSIGN_OR_RETURN(int64_t again, c.QueryInt64("SELECT COUNT(*) FROM t"));
      EXPECT_EQ(again, seen);  // still its snapshot
      return tx.Commit();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  while (!pinned) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto start = Clock::now();
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(write("pinned" + std::to_string(i)).ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10)) << "writers must not block on the reader";
  const SqliteDb::WriteStats during = db->write_stats();
  EXPECT_GT(during.wal_pages, options.wal_max_pages);  // grew: the reader pins it
  EXPECT_GT(during.writer_stalls, 0u);
  release = true;
  reader.join();
  EXPECT_EQ(seen, 30);

  // With the reader gone, the next passes copy everything and the WAL starts over.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(write("after" + std::to_string(i)).ok());
  const SqliteDb::WriteStats after = db->write_stats();
  EXPECT_GT(after.wal_restarts, during.wal_restarts);
  EXPECT_LT(after.wal_pages, during.wal_pages);
  EXPECT_LE(after.wal_pages, options.wal_max_pages + 4);
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM t"), 530);
}

TEST(GroupCommitLifecycleTest, DestructorStopsCheckpointerAndCloseRemovesTheWal) {
  TempDir dir;
  const auto path = dir.path() / "cycle.db";
  SqliteDb::Options options;
  options.wal_autocheckpoint_pages = 4;  // the checkpointer wakes on almost every commit
  for (int round = 0; round < 20; ++round) {
    auto db = OpenDb(path, options);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Exec("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          EXPECT_TRUE(Insert(*db, std::to_string(round) + "/" + std::to_string(t) + "/" +
                                      std::to_string(i), i).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
  }  // each round's destructor joins the checkpoint thread while it may be mid-checkpoint
  EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal"));
  auto db = OpenDb(path, options);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM t"), 20 * 3 * 50);
}

}  // namespace
}  // namespace alphalab

#include "store/sqlite/sqlite_db.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "store/temp_dir.hpp"

namespace alphalab {
namespace {

using testing::TempDir;

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(dir_.path() / "sub" / "test.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }
  TempDir dir_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(SqliteDbTest, OpensInWalModeWithForeignKeysAndCreatesParentDirs) {
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "sub" / "test.db"));
  ASSERT_TRUE(db_->WithWriter([](SqliteConnection& c) {
    ASSIGN_OR_RETURN(SqliteStatement s, c.Prepare("PRAGMA journal_mode"));
    EXPECT_TRUE(s.Step().value_or(false));
    EXPECT_EQ(s.ColumnText(0), "wal");
    EXPECT_EQ(c.QueryInt64("PRAGMA foreign_keys").value_or(-1), 1);
    EXPECT_EQ(c.QueryInt64("PRAGMA synchronous").value_or(-1), 1);  // NORMAL
    return Status::Ok();
  }).ok());
}

// Point reads have readers of their own: with every shared reader held (two long scans on
// other threads), a point read still answers at once, sees committed rows, and its statement
// text is reported from the connection's cache in errors.
TEST_F(SqliteDbTest, PointReadsDoNotWaitForReadersHeldByScans) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)").ok());
  ASSERT_TRUE(db_->WithWriter([](SqliteConnection& c) { return c.Execute("INSERT INTO t VALUES ('a', 1)"); }).ok());
  std::atomic<int> holding{0};
  std::atomic<bool> release{false};
  std::vector<std::thread> scans;
  for (int i = 0; i < 2; ++i) {  // Options::reader_connections = 2: both taken
    scans.emplace_back([&] {
      (void)db_->WithReader([&](SqliteConnection&) {
        ++holding;
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return Status::Ok();
      });
    });
  }
  while (holding < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::atomic<bool> shared_read_done{false};
  std::thread shared_read([&] {  // waits for a shared reader: none is free
    (void)db_->WithReader([](SqliteConnection& c) { return c.QueryInt64("SELECT v FROM t WHERE k = 'a'"); });
    shared_read_done = true;
  });
  // On a thread of its own, so a point read that waited for a shared reader fails the test
  // (after 5 s, then the scans are released) instead of hanging it.
  std::atomic<int> point_reads_ok{0};
  std::atomic<bool> point_reads_done{false};
  std::thread point_reads([&] {
    for (int i = 0; i < 100; ++i) {
      Result<int64_t> v = db_->WithPointReader([](SqliteConnection& c) {
        return c.QueryInt64("SELECT v FROM t WHERE k = ?", std::string("a"));
      });
      if (v.ok() && *v == 1) ++point_reads_ok;
    }
    point_reads_done = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  while (!point_reads_done && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const bool in_time = point_reads_done.load();
  if (!in_time) release = true;  // unblock a point read stuck behind the scans
  point_reads.join();
  EXPECT_TRUE(in_time) << "point reads waited for the shared readers";
  EXPECT_EQ(point_reads_ok.load(), 100);
  if (in_time) {
    EXPECT_FALSE(shared_read_done.load()) << "a shared reader was free: the test held none";
  }
  Status bad = db_->WithPointReader([](SqliteConnection& c) -> Status {
    ASSIGN_OR_RETURN(SqliteStatement s, c.Prepare("SELECT v FROM t WHERE k = ?"));
    RETURN_IF_ERROR(s.Bind(7, int64_t{1}));  // no parameter 7: the error names the cached SQL
    return Status::Ok();
  });
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.ToString().find("SELECT v FROM t WHERE k = ?"), std::string::npos) << bad.ToString();
  release = true;
  for (auto& t : scans) t.join();
  shared_read.join();
  EXPECT_TRUE(shared_read_done.load());
}

TEST_F(SqliteDbTest, TypedBindsAndColumnsRoundTrip) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, n TEXT, o INTEGER, b BLOB)").ok());
  const std::string with_nul("a\0b", 3);
  Status ins = db_->WithWriter([&](SqliteConnection& c) {
    return c.Execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", int64_t{9007199254740993LL}, 2.5,
                     std::string("h\xc3\xa9llo"), nullptr, std::optional<int>(), "lit");
  });
  ASSERT_TRUE(ins.ok()) << ins.ToString();
  Status ins2 = db_->WithWriter([&](SqliteConnection& c) -> Status {
    ASSIGN_OR_RETURN(SqliteStatement s, c.Prepare("INSERT INTO t (i, o, b) VALUES (?, ?, ?)"));
    RETURN_IF_ERROR(s.Bind(1, true));
    RETURN_IF_ERROR(s.Bind(2, std::optional<int64_t>(7)));
    RETURN_IF_ERROR(s.BindBlob(3, with_nul));
    return s.Run();
  });
  ASSERT_TRUE(ins2.ok()) << ins2.ToString();
  int rows = 0;
  Status read = db_->WithReader([&](SqliteConnection& c) {
    return c.Query("SELECT i, d, s, n, o, b FROM t ORDER BY rowid", [&](SqliteStatement& s) {
      if (rows == 0) {
        EXPECT_EQ(s.ColumnInt64(0), 9007199254740993LL);
        EXPECT_DOUBLE_EQ(s.ColumnDouble(1), 2.5);
        EXPECT_EQ(s.ColumnText(2), "h\xc3\xa9llo");
        EXPECT_TRUE(s.ColumnIsNull(3));
        EXPECT_EQ(s.ColumnOptionalText(3), std::nullopt);
        EXPECT_EQ(s.ColumnOptionalInt64(4), std::nullopt);
        EXPECT_EQ(s.ColumnText(5), "lit");
      } else {
        EXPECT_EQ(s.ColumnInt64(0), 1);
        EXPECT_EQ(s.ColumnOptionalInt64(4), 7);
        EXPECT_EQ(s.ColumnBlob(5), with_nul);
        EXPECT_EQ(s.ColumnOptionalDouble(1), std::nullopt);
      }
      ++rows;
    });
  });
  ASSERT_TRUE(read.ok()) << read.ToString();
  EXPECT_EQ(rows, 2);
}

TEST_F(SqliteDbTest, ErrorsCarrySqliteMessageAndMapToCodes) {
  Status syntax = db_->Exec("CREATE TABLE (oops");
  EXPECT_EQ(syntax.code(), StatusCode::kInternal);
  EXPECT_NE(syntax.message().find("syntax error"), std::string::npos) << syntax.message();
  EXPECT_NE(syntax.message().find("CREATE TABLE (oops"), std::string::npos) << syntax.message();

  Status missing = db_->WithWriter([](SqliteConnection& c) { return c.Execute("SELECT * FROM nope"); });
  EXPECT_NE(missing.message().find("no such table: nope"), std::string::npos) << missing.message();

  ASSERT_TRUE(db_->Exec("CREATE TABLE u (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").ok());
  ASSERT_TRUE(db_->WithWriter([](SqliteConnection& c) { return c.Execute("INSERT INTO u VALUES (?, ?)", "a", 1); }).ok());
  Status dup = db_->WithWriter([](SqliteConnection& c) { return c.Execute("INSERT INTO u VALUES (?, ?)", "a", 2); });
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  EXPECT_NE(dup.message().find("UNIQUE constraint failed: u.k"), std::string::npos) << dup.message();
  Status not_null = db_->WithWriter([](SqliteConnection& c) { return c.Execute("INSERT INTO u VALUES (?, ?)", "b", nullptr); });
  EXPECT_EQ(not_null.code(), StatusCode::kFailedPrecondition) << not_null.ToString();

  Status range = db_->WithWriter([](SqliteConnection& c) { return c.Execute("SELECT ?", 1, 2); });
  EXPECT_FALSE(range.ok());
  EXPECT_NE(range.message().find("column index out of range"), std::string::npos) << range.message();

  Status two = db_->WithWriter([](SqliteConnection& c) { return c.Prepare("SELECT 1; SELECT 2").status(); });
  EXPECT_EQ(two.code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteDbTest, ForeignKeysAreEnforced) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE p (id INTEGER PRIMARY KEY);"
                        "CREATE TABLE c (pid INTEGER REFERENCES p(id))").ok());
  Status orphan = db_->WithWriter([](SqliteConnection& c) { return c.Execute("INSERT INTO c VALUES (42)"); });
  EXPECT_EQ(orphan.code(), StatusCode::kFailedPrecondition) << orphan.ToString();
  EXPECT_NE(orphan.message().find("FOREIGN KEY"), std::string::npos);
}

TEST_F(SqliteDbTest, TransactionRollsBackUnlessCommitted) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (v INTEGER)").ok());
  ASSERT_TRUE(db_->WithWriter([](SqliteConnection& c) {
    {
      Result<SqliteTransaction> tx = SqliteTransaction::Begin(c);
      EXPECT_TRUE(tx.ok());
      EXPECT_TRUE(c.InTransaction());
      EXPECT_TRUE(c.Execute("INSERT INTO t VALUES (1)").ok());
    }  // destroyed without Commit
    EXPECT_FALSE(c.InTransaction());
    {
      Result<SqliteTransaction> tx = SqliteTransaction::Begin(c);
      EXPECT_TRUE(c.Execute("INSERT INTO t VALUES (2)").ok());
      EXPECT_TRUE(tx->Commit().ok());
      EXPECT_EQ(tx->Commit().code(), StatusCode::kFailedPrecondition);
    }
    return Status::Ok();
  }).ok());
  Status failing = db_->InTransaction([](SqliteConnection& c) -> Status {
    RETURN_IF_ERROR(c.Execute("INSERT INTO t VALUES (3)"));
    return Status::InvalidArgument("changed my mind");
  });
  EXPECT_EQ(failing.code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(db_->InTransaction([](SqliteConnection& c) { return c.Execute("INSERT INTO t VALUES (4)"); }).ok());
  std::vector<int64_t> values;
  ASSERT_TRUE(db_->WithReader([&](SqliteConnection& c) {
    return c.Query("SELECT v FROM t ORDER BY v", [&](SqliteStatement& s) { values.push_back(s.ColumnInt64(0)); });
  }).ok());
  EXPECT_EQ(values, (std::vector<int64_t>{2, 4}));
}

TEST_F(SqliteDbTest, CachedStatementsAreReusedAndNestedUseGetsItsOwn) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2), (3)").ok());
  ASSERT_TRUE(db_->WithWriter([](SqliteConnection& c) {
    const char* sql = "SELECT v FROM t WHERE v >= ? ORDER BY v";
    auto outer = c.Prepare(sql);
    EXPECT_TRUE(outer.ok());
    EXPECT_TRUE(outer->Bind(1, 2).ok());
    EXPECT_TRUE(outer->Step().value_or(false));
    EXPECT_EQ(outer->ColumnInt64(0), 2);
    {
      // Same SQL while the cached statement is mid-iteration: must not disturb it.
      auto inner = c.Prepare(sql);
      EXPECT_TRUE(inner.ok());
      EXPECT_TRUE(inner->Bind(1, 1).ok());
      EXPECT_TRUE(inner->Step().value_or(false));
      EXPECT_EQ(inner->ColumnInt64(0), 1);
    }
    EXPECT_TRUE(outer->Step().value_or(false));
    EXPECT_EQ(outer->ColumnInt64(0), 3);
    return Status::Ok();
  }).ok());
  // A released cached statement starts clean (no stale bindings, reset cursor).
  ASSERT_TRUE(db_->WithWriter([](SqliteConnection& c) {
    auto again = c.Prepare("SELECT v FROM t WHERE v >= ? ORDER BY v");
    EXPECT_TRUE(again.ok());
    EXPECT_FALSE(again->Step().value_or(true));  // NULL parameter: no rows
    return Status::Ok();
  }).ok());
}

TEST_F(SqliteDbTest, MigrationsApplyOnceInOrderAndAreVersionedPerComponent) {
  const std::vector<std::string> v1 = {"CREATE TABLE a (x INTEGER)"};
  const std::vector<std::string> v2 = {"CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y TEXT"};
  ASSERT_TRUE(db_->Migrate("alpha", v1).ok());
  EXPECT_EQ(db_->SchemaVersion("alpha").value_or(-1), 1);
  ASSERT_TRUE(db_->Migrate("alpha", v1).ok());  // idempotent
  ASSERT_TRUE(db_->Migrate("alpha", v2).ok());  // only step 2 runs (step 1 would fail: table exists)
  EXPECT_EQ(db_->SchemaVersion("alpha").value_or(-1), 2);
  EXPECT_TRUE(db_->Exec("INSERT INTO a (x, y) VALUES (1, 'z')").ok());
  ASSERT_TRUE(db_->Migrate("beta", {"CREATE TABLE b (x INTEGER)"}).ok());
  EXPECT_EQ(db_->SchemaVersion("beta").value_or(-1), 1);
  EXPECT_EQ(db_->SchemaVersion("gamma").value_or(-1), 0);

  Status older = db_->Migrate("alpha", v1);  // a binary that knows less than the database
  EXPECT_EQ(older.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(older.message().find("version 2"), std::string::npos) << older.message();
}

TEST_F(SqliteDbTest, FailedMigrationLeavesNoTraceAndReportsWhichStep) {
  Status bad = db_->Migrate("delta", {"CREATE TABLE d1 (x INTEGER)",
                                      "CREATE TABLE d2 (x INTEGER); CREATE TABLE d2 (y INTEGER)"});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("migration delta v2"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("already exists"), std::string::npos) << bad.message();
  EXPECT_EQ(db_->SchemaVersion("delta").value_or(-1), 1);
  EXPECT_TRUE(db_->Exec("INSERT INTO d1 VALUES (1)").ok());
  EXPECT_FALSE(db_->Exec("INSERT INTO d2 VALUES (1)").ok());  // rolled back with its step
}

TEST_F(SqliteDbTest, DataSurvivesReopen) {
  ASSERT_TRUE(db_->Migrate("persist", {"CREATE TABLE p (v TEXT)"}).ok());
  ASSERT_TRUE(db_->WithWriter([](SqliteConnection& c) { return c.Execute("INSERT INTO p VALUES (?)", "kept"); }).ok());
  db_.reset();
  Result<std::unique_ptr<SqliteDb>> reopened = SqliteDb::Open(dir_.path() / "sub" / "test.db");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->SchemaVersion("persist").value_or(-1), 1);
  std::string value;
  ASSERT_TRUE((*reopened)->WithReader([&](SqliteConnection& c) {
    return c.Query("SELECT v FROM p", [&](SqliteStatement& s) { value = s.ColumnText(0); });
  }).ok());
  EXPECT_EQ(value, "kept");
}

TEST_F(SqliteDbTest, ReadersSeeCommittedRowsWhileAWriterWorks) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (v INTEGER)").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> read_errors{0};
  std::atomic<int64_t> max_seen{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        Result<int64_t> n = db_->WithReader([](SqliteConnection& c) { return c.QueryInt64("SELECT COUNT(*) FROM t"); });
        if (!n.ok()) {
          ++read_errors;
          continue;
        }
        int64_t prev = max_seen.load();
        while (*n > prev && !max_seen.compare_exchange_weak(prev, *n)) {
        }
      }
    });
  }
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(db_->WithWriter([&](SqliteConnection& c) { return c.Execute("INSERT INTO t VALUES (?)", i); }).ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(read_errors.load(), 0);
  EXPECT_LE(max_seen.load(), 500);
  // After the writer returned, any reader sees every row.
  EXPECT_EQ(db_->WithReader([](SqliteConnection& c) { return c.QueryInt64("SELECT COUNT(*) FROM t"); }).value_or(-1), 500);
}

TEST(SqliteDbMemoryTest, InMemoryDatabaseWorksWithoutReaders) {
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(":memory:");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Migrate("m", {"CREATE TABLE t (v INTEGER)", "INSERT INTO t VALUES (5)"}).ok());
  EXPECT_EQ((*db)->WithReader([](SqliteConnection& c) { return c.QueryInt64("SELECT v FROM t"); }).value_or(-1), 5);
}

TEST(SqliteDbOpenTest, UnopenablePathIsAnErrorNamingThePath) {
  testing::TempDir dir;
  // A directory where the database file should be.
  std::filesystem::create_directories(dir.path() / "is_a_dir.db");
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(dir.path() / "is_a_dir.db");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("is_a_dir.db"), std::string::npos) << db.status().message();
}

}  // namespace
}  // namespace alphalab

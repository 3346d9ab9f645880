// A thin, checked RAII layer over the SQLite C API, shared by every module that keeps
// tables in the workspace database (jobs, registry, optimizations, configs...).
//
// Threading model
//   SqliteDb owns ONE writer connection guarded by a mutex and a small pool of reader
//   connections (WAL lets readers run while the writer commits). Use
//     db.WithWriter([&](SqliteConnection& c) -> Status { ... });   // exclusive
//     db.WithReader([&](SqliteConnection& c) -> Result<T> { ... }); // shared, snapshot reads
//     db.WithPointReader(...)  // one row by key, on readers of its own (no scan waits there)
//     db.WriteGrouped([&](SqliteConnection& c) -> Status { ... }); // group commit (below)
//   A SqliteConnection and the SqliteStatements it hands out must only be used inside the
//   callback that received it (never store them). Callbacks must not call back into
//   WithWriter/WriteGrouped/InTransaction on the same SqliteDb (the writer mutex is not
//   recursive), and WriteGrouped must not be called while holding WithWriter.
//   For ":memory:" databases there are no readers; WithReader uses the writer.
//
// Group commit (WriteGrouped)
//   Small, independent writes (a job row insert, a status CAS) from many threads share one
//   transaction instead of paying one commit each. Leader/follower: a caller queues its
//   closure; if no batch is being committed it becomes the leader, takes the writer mutex,
//   drains up to Options::max_group_batch queued closures (FIFO), runs BEGIN IMMEDIATE, each
//   closure inside its own SAVEPOINT (on a closure's error: ROLLBACK TO + RELEASE, so only
//   that caller sees its error and the rest still commit), COMMIT, and hands every caller
//   its result. Callers that arrive while a batch commits wait and form the next batch
//   (committed by the same leader once, Options::leader_extra_batches, then the oldest
//   waiter is woken to lead; each caller is woken alone); a lone caller never waits for
//   company (no timers). WriteGrouped returns only after the
//   caller's change is committed (same durability as any commit: WAL, synchronous=NORMAL).
//   A closure's statements are atomic (its savepoint), and a deferred foreign key it leaves
//   unresolved fails that closure alone (as its own COMMIT would); a failed BEGIN or COMMIT
//   (I/O error, disk full...) fails every caller of that batch and nothing of it is kept. The closure runs on the leader's
//   thread: do the expensive preparation (serialising JSON...) before calling, and keep
//   results by reference (the caller's stack outlives the call). With
//   Options::group_commit = false each call is its own transaction (the A/B switch).
//
// Checkpoints
//   With Options::background_checkpoint (the default for files), the writer connection never
//   checkpoints inside a commit: sqlite3_wal_hook reports the WAL size after each commit and
//   a thread owned by SqliteDb runs PASSIVE checkpoints on its own connection while the WAL
//   holds >= wal_autocheckpoint_pages frames, without blocking writers. The WAL starts over
//   from its beginning only when a pass has copied every frame, which a writer that never
//   pauses prevents; so, as back-pressure, a grouped commit that finds the WAL at
//   wal_max_pages or more waits (holding the writer, before its BEGIN) for one background
//   pass that starts after it began waiting: that pass copies everything (nothing commits
//   meanwhile) and the commit restarts the WAL. (WithWriter/InTransaction users never wait;
//   their commits only count.) The copying and fsyncs stay on the
//   background thread; a writer waits only when writes outrun it, for the frames written
//   since the previous pass. The WAL file stays bounded (about wal_max_pages plus one batch).
//   The destructor stops and joins the thread before closing the connections.
//
// Errors: every SQLite failure becomes a Status carrying sqlite3_errmsg() and the SQL text;
//   details = {"sqlite_code": <extended code>, "sql": "..."}. UNIQUE/PRIMARY KEY violations
//   are AlreadyExists, SQLITE_BUSY/LOCKED are Unavailable, other constraint failures are
//   FailedPrecondition, the rest Internal.
//
// Migrations: Migrate("registry", {"CREATE TABLE ...", "ALTER TABLE ..."}) applies the
//   migrations whose 1-based version is not yet recorded in schema_migrations for that
//   component, each in its own transaction. Append new migrations; never edit old ones.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace alphalab {

class SqliteConnection;

// Turns a SQLite result code into a Status (OK for SQLITE_OK/ROW/DONE).
Status SqliteStatus(int rc, sqlite3* db, std::string_view sql);

// A prepared statement. Usually borrowed from the connection's statement cache; the
// destructor resets it and clears its bindings so the next user starts clean.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameters are 1-based, as in SQLite. Binding errors are returned (and also remembered:
  // Step()/Run() report the first one, so chained binds may be checked once at the end).
  Status BindInt64(int index, int64_t value);
  template <typename T>
    requires std::is_integral_v<T>  // int, int64_t, size_t, bool (as 0/1) ...
  Status Bind(int index, T value) {
    return BindInt64(index, static_cast<int64_t>(value));
  }
  Status Bind(int index, double value);
  Status Bind(int index, std::string_view value);  // copied by SQLite (SQLITE_TRANSIENT)
  Status Bind(int index, const std::string& value) { return Bind(index, std::string_view(value)); }
  Status Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Status Bind(int index, std::nullptr_t);
  Status BindBlob(int index, std::string_view bytes);
  template <typename T>
  Status Bind(int index, const std::optional<T>& value) {
    if (!value.has_value()) return Bind(index, nullptr);
    return Bind(index, *value);
  }
  // Binds args to parameters 1..N in order.
  template <typename... Args>
  Status BindAll(const Args&... args) {
    int index = 0;
    Status status;
    ((status.ok() ? (void)(status = Bind(++index, args)) : (void)0), ...);
    (void)index;
    return status;
  }

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Steps until done (for INSERT/UPDATE/DELETE); rows, if any, are skipped.
  Status Run();
  // Resets to run again with new bindings (bindings are kept until rebound).
  void Reset();

  int ColumnCount() const;
  std::string ColumnName(int col) const;
  bool ColumnIsNull(int col) const;
  int64_t ColumnInt64(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;  // "" for NULL
  // The text in the statement's own memory, valid until the next Step or reset ("" for NULL).
  std::string_view ColumnTextView(int col) const;
  std::string ColumnBlob(int col) const;
  std::optional<int64_t> ColumnOptionalInt64(int col) const;
  std::optional<double> ColumnOptionalDouble(int col) const;
  std::optional<std::string> ColumnOptionalText(int col) const;

  std::string_view sql() const { return sql_; }
  bool valid() const { return stmt_ != nullptr; }

 private:
  friend class SqliteConnection;
  // A cached statement views its SQL in the connection's cache (no copy per use); a private
  // one (in_use null) owns it.
  SqliteStatement(sqlite3_stmt* stmt, sqlite3* db, std::string_view cached_sql, bool* in_use);
  SqliteStatement(sqlite3_stmt* stmt, sqlite3* db, std::string owned_sql);
  void Release();

  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::string owned_sql_;
  std::string_view sql_;    // owned_sql_ or the cache's key
  bool* in_use_ = nullptr;  // cache slot flag; null = owned (finalized on destruction)
  Status bind_error_;
};

// One open database handle with a prepared-statement cache. Not thread-safe by itself:
// SqliteDb hands it out under a lock.
class SqliteConnection {
 public:
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Runs one or more statements that return no rows (DDL, PRAGMA, BEGIN/COMMIT...).
  Status Exec(std::string_view sql);
  // A statement from the cache (prepared once per connection; bind values, never splice
  // them into the SQL). If the cached one is in use (nested use of the same SQL) or the cache
  // is full (512 statements), a private statement is prepared instead.
  Result<SqliteStatement> Prepare(std::string_view sql);
  // Prepare + BindAll + Run.
  template <typename... Args>
  Status Execute(std::string_view sql, const Args&... args) {
    ASSIGN_OR_RETURN(SqliteStatement stmt, Prepare(sql));
    RETURN_IF_ERROR(stmt.BindAll(args...));
    return stmt.Run();
  }
  // Prepare + BindAll + Step; calls row_fn(stmt) for each row.
  template <typename Fn, typename... Args>
  Status Query(std::string_view sql, Fn&& row_fn, const Args&... args) {
    ASSIGN_OR_RETURN(SqliteStatement stmt, Prepare(sql));
    RETURN_IF_ERROR(stmt.BindAll(args...));
    while (true) {
      ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) return Status::Ok();
      if constexpr (std::is_same_v<std::invoke_result_t<Fn&, SqliteStatement&>, Status>) {
        RETURN_IF_ERROR(row_fn(stmt));
      } else {
        row_fn(stmt);
      }
    }
  }
  // The single-value "SELECT COUNT(*) ..." case; NotFound when there is no row.
  template <typename... Args>
  Result<int64_t> QueryInt64(std::string_view sql, const Args&... args) {
    ASSIGN_OR_RETURN(SqliteStatement stmt, Prepare(sql));
    RETURN_IF_ERROR(stmt.BindAll(args...));
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return Status::NotFound("query returned no row: " + std::string(sql));
    return stmt.ColumnInt64(0);
  }

  int64_t LastInsertRowId() const;
  int Changes() const;  // rows changed by the last INSERT/UPDATE/DELETE
  bool InTransaction() const;
  sqlite3* raw() { return db_; }

 private:
  friend class SqliteDb;
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    std::unique_ptr<bool> in_use = std::make_unique<bool>(false);
  };
  sqlite3* db_ = nullptr;
  // Looked up by the caller's string_view (no key copied per Prepare).
  struct SqlHash {
    using is_transparent = void;
    // The length and the last 48 characters (statements differ most in their WHERE and
    // ORDER BY): hashing the whole text cost ~500 instructions per point read. Equal hashes
    // are still told apart by comparing the text.
    size_t operator()(std::string_view sql) const {
      constexpr size_t kTail = 48;
      const std::string_view tail = sql.size() > kTail ? sql.substr(sql.size() - kTail) : sql;
      return std::hash<std::string_view>{}(tail) ^ (sql.size() * 0x9E3779B97F4A7C15ULL);
    }
  };
  std::unordered_map<std::string, CachedStatement, SqlHash, std::equal_to<>> cache_;
};

// RAII transaction: BEGIN IMMEDIATE (writer) or BEGIN (reader) on construction,
// ROLLBACK on destruction unless Commit() succeeded.
class SqliteTransaction {
 public:
  static Result<SqliteTransaction> Begin(SqliteConnection& conn, bool immediate = true);
  SqliteTransaction(SqliteTransaction&& other) noexcept;
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  SqliteTransaction(const SqliteTransaction&) = delete;
  ~SqliteTransaction();

  Status Commit();
  Status Rollback();

 private:
  explicit SqliteTransaction(SqliteConnection* conn) : conn_(conn) {}
  SqliteConnection* conn_ = nullptr;  // null once finished
};

class SqliteDb {
 public:
  struct Options {
    int busy_timeout_ms = 5000;
    int reader_connections = 2;  // 0 = all reads go through the writer
    // Readers of their own for point reads (WithPointReader: one row by key, what the HTTP I/O
    // threads read inline), so a long scan holding every shared reader never delays them.
    // Opened by the first point read (not at Open). 0 = point reads share the readers above.
    int point_reader_connections = 2;
    bool create = true;          // create the file if missing
    // WAL pages between automatic checkpoints (SQLite's default is 1000). Larger batches copy
    // hot pages (the newest index leaves) fewer times; the WAL file grows to ~4 KiB x this.
    // <= 0 disables checkpoints while the database is open.
    int wal_autocheckpoint_pages = 1000;
    // true: checkpoints run on a background thread (see "Checkpoints" above); false: SQLite's
    // own auto-checkpoint runs inside the commit that crosses the threshold (old behaviour).
    bool background_checkpoint = true;
    // WAL frames at which grouped commits wait for a background pass (so the WAL restarts);
    // 0 = 4 x wal_autocheckpoint_pages.
    int wal_max_pages = 0;
    // true: WriteGrouped batches concurrent callers into one transaction; false: each call
    // is its own transaction (for A/B measurements).
    bool group_commit = true;
    int max_group_batch = 128;  // closures per group transaction
    // Batches a leader commits for callers that queued during its own commit before it
    // returns and names the oldest waiter leader (0 = hand off at once).
    int leader_extra_batches = 1;
  };

  // Counters since Open (for tests and benchmarks).
  struct WriteStats {
    uint64_t group_commits = 0;       // transactions committed (or failed) by WriteGrouped
    uint64_t grouped_writes = 0;      // closures run by WriteGrouped
    uint64_t checkpoints = 0;         // background PASSIVE checkpoint passes
    uint64_t writer_stalls = 0;       // grouped commits that waited for a pass (WAL too big)
    int wal_pages = 0;                // WAL frames after the last commit (from the WAL hook)
    int max_wal_pages = 0;            // the most WAL frames any commit left
    uint64_t wal_restarts = 0;        // commits that started the WAL over from its beginning
  };

  // Opens (creating parent directories) with journal_mode=WAL, synchronous=NORMAL,
  // busy_timeout and foreign_keys=ON on every connection. path ":memory:" works (no readers).
  static Result<std::unique_ptr<SqliteDb>> Open(const std::filesystem::path& path,
                                                Options options);
  static Result<std::unique_ptr<SqliteDb>> Open(const std::filesystem::path& path) {
    return Open(path, Options{});
  }
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Exclusive use of the writer connection. fn(SqliteConnection&) -> anything.
  template <typename Fn>
  auto WithWriter(Fn&& fn) -> std::invoke_result_t<Fn&, SqliteConnection&> {
    std::lock_guard<std::mutex> lock(writer_mu_);
    return fn(*writer_);
  }
  // A reader connection (read-only snapshot semantics in WAL mode). Blocks when every
  // reader is busy.
  template <typename Fn>
  auto WithReader(Fn&& fn) -> std::invoke_result_t<Fn&, SqliteConnection&> {
    if (readers_.empty()) return WithWriter(std::forward<Fn>(fn));
    ReaderLease lease(readers_);
    return fn(*lease.conn);
  }
  // A reader for a read of one row by key (microseconds; never a scan): its own connections
  // (Options::point_reader_connections), waited for only by other point reads.
  template <typename Fn>
  auto WithPointReader(Fn&& fn) -> std::invoke_result_t<Fn&, SqliteConnection&> {
    if (!OpenPointReaders()) return WithReader(std::forward<Fn>(fn));
    ReaderLease lease(point_readers_);
    return fn(*lease.conn);
  }
  // Writer + BEGIN IMMEDIATE + fn + COMMIT (ROLLBACK when fn returns an error).
  // fn(SqliteConnection&) -> Status.
  Status InTransaction(const std::function<Status(SqliteConnection&)>& fn);

  // Group commit (see the header comment): fn runs, atomically, in a transaction shared with
  // other concurrent callers; returns fn's error (its changes undone), the batch's BEGIN or
  // COMMIT error, or OK once the change is committed.
  Status WriteGrouped(const std::function<Status(SqliteConnection&)>& fn);

  WriteStats write_stats() const;
  // Closures queued for WriteGrouped and not yet picked by a leader (tests use it to build
  // a batch deterministically).
  size_t QueuedGroupedWrites() const;

  // Convenience: Exec on the writer.
  Status Exec(std::string_view sql);

  // Applies the migrations of `component` not yet recorded in schema_migrations.
  // FailedPrecondition when the database records a newer version than `migrations` has
  // (a newer binary wrote it).
  Status Migrate(std::string_view component, const std::vector<std::string>& migrations);
  // The highest applied version of `component` (0 when none).
  Result<int64_t> SchemaVersion(std::string_view component);

  const std::filesystem::path& path() const { return path_; }

 private:
  SqliteDb() = default;
  static Result<std::unique_ptr<SqliteConnection>> OpenConnection(
      const std::filesystem::path& path, const Options& options, bool read_only);

  struct ReaderPool {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::unique_ptr<SqliteConnection>> conns;
    std::vector<SqliteConnection*> free;
    bool empty() const { return conns.empty(); }
  };
  struct ReaderLease {
    explicit ReaderLease(ReaderPool& pool);
    ~ReaderLease();
    ReaderPool& pool;
    SqliteConnection* conn;
  };

  struct GroupedWrite {
    const std::function<Status(SqliteConnection&)>* fn = nullptr;
    Status status;
    bool done = false;  // (group_mu_) result is final
    bool lead = false;  // (group_mu_) this caller commits the next batch
    std::condition_variable cv;  // each caller is woken alone (no thundering herd)
  };
  Status WriteAlone(const std::function<Status(SqliteConnection&)>& fn);
  void CommitBatch(std::vector<GroupedWrite*>& batch);
  static int WalHook(void* self, sqlite3* db, const char* name, int pages);
  void CheckpointLoop();
  void WaitForCheckpointIfWalFull();
  void StopCheckpointer();

  Options options_;
  std::filesystem::path path_;

  // Group commit queue (group_mu_ is never held while waiting for writer_mu_).
  mutable std::mutex group_mu_;
  std::deque<GroupedWrite*> group_queue_;
  bool group_leader_active_ = false;  // a leader runs or has been named; queue non-empty => true
  std::atomic<uint64_t> group_commits_{0};
  std::atomic<uint64_t> grouped_writes_{0};

  // Background checkpointer.
  std::unique_ptr<SqliteConnection> checkpointer_;
  std::thread checkpoint_thread_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_stop_ = false;
  std::atomic<int> wal_pages_{0};
  std::atomic<int> max_wal_pages_{0};
  std::atomic<uint64_t> wal_restarts_{0};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> writer_stalls_{0};
  int wal_max_pages_ = 0;
  std::atomic<int> pages_at_last_pass_{0};
  std::atomic<bool> checkpoint_running_{false};
  int min_new_frames_ = 1;
  bool checkpoint_urgent_ = false;      // a stalled writer asks for a pass (checkpoint_mu_)
  uint64_t checkpoint_passes_started_ = 0;  // (checkpoint_mu_)
  uint64_t checkpoint_passes_done_ = 0;     // (checkpoint_mu_)
  std::condition_variable checkpoint_done_cv_;

  std::mutex writer_mu_;
  std::unique_ptr<SqliteConnection> writer_;
  ReaderPool readers_;
  ReaderPool point_readers_;  // opened by the first point read (OpenPointReaders)
  std::once_flag point_readers_once_;
  // Opens the point readers on the first point read, not at Open: an idle server keeps no
  // connection it has not read with (each costs ~100 KB: lookaside and page cache). False when
  // there are none (in-memory, none configured, or the open failed): point reads then share
  // the readers.
  bool OpenPointReaders();
};

}  // namespace alphalab

// A thin, checked RAII layer over the SQLite C API, shared by every module that keeps
// tables in the workspace database (jobs, registry, optimizations, configs...).
//
// Threading model
//   SqliteDb owns ONE writer connection guarded by a mutex and a small pool of reader
//   connections (WAL lets readers run while the writer commits). Use
//     db.WithWriter([&](SqliteConnection& c) -> Status { ... });   // exclusive
//     db.WithReader([&](SqliteConnection& c) -> Result<T> { ... }); // shared, snapshot reads
//   A SqliteConnection and the SqliteStatements it hands out must only be used inside the
//   callback that received it (never store them). Callbacks must not call back into
//   WithWriter on the same SqliteDb (the writer mutex is not recursive).
//   For ":memory:" databases there are no readers; WithReader uses the writer.
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

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
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
  int ColumnInt(int col) const { return static_cast<int>(ColumnInt64(col)); }
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;  // "" for NULL
  std::string ColumnBlob(int col) const;
  std::optional<int64_t> ColumnOptionalInt64(int col) const;
  std::optional<double> ColumnOptionalDouble(int col) const;
  std::optional<std::string> ColumnOptionalText(int col) const;

  const std::string& sql() const { return sql_; }
  bool valid() const { return stmt_ != nullptr; }

 private:
  friend class SqliteConnection;
  SqliteStatement(sqlite3_stmt* stmt, sqlite3* db, std::string sql, bool* in_use);
  void Release();

  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::string sql_;
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
  std::unordered_map<std::string, CachedStatement> cache_;
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
    bool create = true;          // create the file if missing
    // WAL pages between automatic checkpoints (SQLite's default is 1000). Larger batches copy
    // hot pages (the newest index leaves) fewer times; the WAL file grows to ~4 KiB x this.
    int wal_autocheckpoint_pages = 1000;
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
  // Alias kept for readability at call sites that do both reads and writes.
  template <typename Fn>
  auto WithConnection(Fn&& fn) -> std::invoke_result_t<Fn&, SqliteConnection&> {
    return WithWriter(std::forward<Fn>(fn));
  }
  // A reader connection (read-only snapshot semantics in WAL mode). Blocks when every
  // reader is busy.
  template <typename Fn>
  auto WithReader(Fn&& fn) -> std::invoke_result_t<Fn&, SqliteConnection&> {
    if (readers_.empty()) return WithWriter(std::forward<Fn>(fn));
    ReaderLease lease(*this);
    return fn(*lease.conn);
  }
  // Writer + BEGIN IMMEDIATE + fn + COMMIT (ROLLBACK when fn returns an error).
  // fn(SqliteConnection&) -> Status.
  Status InTransaction(const std::function<Status(SqliteConnection&)>& fn);

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

  struct ReaderLease {
    explicit ReaderLease(SqliteDb& db);
    ~ReaderLease();
    SqliteDb& db;
    SqliteConnection* conn;
  };

  std::filesystem::path path_;
  std::mutex writer_mu_;
  std::unique_ptr<SqliteConnection> writer_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;
  std::vector<SqliteConnection*> free_readers_;
};

}  // namespace alphalab

// A thin, checked layer over libpq with the same shape as SqliteDb (store/sqlite/sqlite_db.hpp),
// so the PostgreSQL stores read like the SQLite ones: PgConnection::Prepare/Execute/Query/
// QueryInt64, PgStatement::Bind/Step/Column*, PgDb::WithReader/WithWriter/InTransaction/
// Migrate.
//
// SQL: statements are written with `?` placeholders (as for SQLite); Prepare rewrites them to
//   $1..$n (outside quoted strings). Every parameter is sent as text and typed by the server
//   from its context; a bare `?` whose type the server cannot infer needs a cast in the SQL.
//   Each distinct SQL text is prepared once per connection (PQprepare) and then executed by
//   name.
//
// Connections: a pool of Options::pool_size connections opened lazily (blocking when all
//   are in use). A connection that lost its server is reset before it is handed out again.
//   With Options::schema, every connection sets search_path to that schema (created when
//   missing): tests give each store its own schema in one database.
//
// Transactions: WithWriter and InTransaction run fn inside BEGIN ISOLATION LEVEL SERIALIZABLE
//   ... COMMIT (ROLLBACK when fn fails) and run it again, up to Options::max_retries times,
//   when PostgreSQL reports a serialization failure or deadlock (SQLSTATE 40001/40P01), so a
//   read-then-write closure behaves as under SQLite's single writer even with several
//   servers; fn must therefore only assign its outputs (never append to them). Within one
//   process writers also take a mutex (SQLite's writer model: no retries among our own
//   threads). WithConnection runs fn on a leased connection in autocommit (READ COMMITTED)
//   mode, for stores that take row locks themselves (jobs: FOR UPDATE SKIP LOCKED).
//   WithReader is WithConnection (every statement sees committed data).
//
// Errors: every failure becomes a Status carrying the server's message and the SQL text;
//   details = {"sqlstate": "...", "sql": "..."}. unique_violation (23505) is AlreadyExists,
//   other integrity violations (23xxx) FailedPrecondition, serialization failure/deadlock/
//   lock not available (40001, 40P01, 55P03) and connection failures (08xxx, no connection)
//   Unavailable, data exceptions (22xxx) InvalidArgument, the rest Internal.
//
// Migrations: Migrate("jobs", {...}) as SqliteDb::Migrate: a schema_migrations table per
//   schema, one row per (component, version); each step in its own transaction under a
//   transaction-scoped advisory lock, so two servers starting at once apply it once.
#pragma once

#include <condition_variable>
#include <cstdint>
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

struct pg_conn;
struct pg_result;

namespace alphalab {

// True for a postgresql:// or postgres:// URL.
bool IsPostgresUrl(std::string_view url);

// The URL without its password (for logs and messages).
std::string RedactPostgresUrl(std::string_view url);

// `sql` with each `?` outside quotes replaced by $1, $2, ...
std::string PgPlaceholders(std::string_view sql);

class PgConnection;

// A statement with its bound parameters; runs on the first Step()/Run() and keeps the whole
// result. Parameters are 1-based, as in SQLite.
class PgStatement {
 public:
  PgStatement() = default;
  PgStatement(PgStatement&& other) noexcept;
  PgStatement& operator=(PgStatement&& other) noexcept;
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;
  ~PgStatement();

  Status BindInt64(int index, int64_t value);
  template <typename T>
    requires std::is_integral_v<T>  // int, int64_t, size_t, bool (as 0/1) ...
  Status Bind(int index, T value) {
    return BindInt64(index, static_cast<int64_t>(value));
  }
  Status Bind(int index, double value);
  Status Bind(int index, std::string_view value);
  Status Bind(int index, const std::string& value) { return Bind(index, std::string_view(value)); }
  Status Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Status Bind(int index, std::nullptr_t);
  template <typename T>
  Status Bind(int index, const std::optional<T>& value) {
    if (!value.has_value()) return Bind(index, nullptr);
    return Bind(index, *value);
  }
  template <typename... Args>
  Status BindAll(const Args&... args) {
    int index = 0;
    Status status;
    ((status.ok() ? (void)(status = Bind(++index, args)) : (void)0), ...);
    (void)index;
    return status;
  }

  // Runs the statement on the first call; true while a row is available.
  Result<bool> Step();
  // Runs the statement (rows, if any, are kept but not needed).
  Status Run();
  // Forgets the result so the next Step()/Run() executes again (bindings are kept).
  void Reset();

  int ColumnCount() const;
  bool ColumnIsNull(int col) const;
  int64_t ColumnInt64(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;  // "" for NULL
  // The text in the result's own memory, valid until the next Step ("" for NULL).
  std::string_view ColumnTextView(int col) const;
  std::optional<int64_t> ColumnOptionalInt64(int col) const;
  std::optional<double> ColumnOptionalDouble(int col) const;
  std::optional<std::string> ColumnOptionalText(int col) const;
  // Rows changed by an INSERT/UPDATE/DELETE that ran.
  int64_t Changes() const { return changes_; }

  const std::string& sql() const { return sql_; }

 private:
  friend class PgConnection;
  PgStatement(PgConnection* conn, std::string sql, std::string name);
  Status Execute();
  void Clear();

  PgConnection* conn_ = nullptr;
  std::string sql_;   // as given (with ?)
  std::string name_;  // server-side prepared statement name
  std::vector<std::optional<std::string>> params_;
  pg_result* result_ = nullptr;
  int row_ = -1;
  int rows_ = 0;
  int64_t changes_ = 0;
  Status bind_error_;
};

// One server connection with its prepared statements. Not thread-safe: PgDb leases it out.
class PgConnection {
 public:
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one or more statements that return no rows (DDL, BEGIN/COMMIT...).
  Status Exec(std::string_view sql);
  Result<PgStatement> Prepare(std::string_view sql);
  template <typename... Args>
  Status Execute(std::string_view sql, const Args&... args) {
    ASSIGN_OR_RETURN(PgStatement stmt, Prepare(sql));
    RETURN_IF_ERROR(stmt.BindAll(args...));
    return stmt.Run();
  }
  template <typename Fn, typename... Args>
  Status Query(std::string_view sql, Fn&& row_fn, const Args&... args) {
    ASSIGN_OR_RETURN(PgStatement stmt, Prepare(sql));
    RETURN_IF_ERROR(stmt.BindAll(args...));
    while (true) {
      ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) return Status::Ok();
      if constexpr (std::is_same_v<std::invoke_result_t<Fn&, PgStatement&>, Status>) {
        RETURN_IF_ERROR(row_fn(stmt));
      } else {
        row_fn(stmt);
      }
    }
  }
  template <typename... Args>
  Result<int64_t> QueryInt64(std::string_view sql, const Args&... args) {
    ASSIGN_OR_RETURN(PgStatement stmt, Prepare(sql));
    RETURN_IF_ERROR(stmt.BindAll(args...));
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return Status::NotFound("query returned no row: " + std::string(sql));
    return stmt.ColumnInt64(0);
  }

  // Rows changed by the last statement run through Execute/Run on this connection.
  int64_t Changes() const { return changes_; }
  bool InTransaction() const;
  bool Healthy() const;
  pg_conn* raw() { return conn_; }

 private:
  friend class PgDb;
  friend class PgStatement;
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  Status StatusOf(pg_result* result, std::string_view sql);

  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
  int64_t changes_ = 0;
};

// RAII transaction on a leased connection: BEGIN (immediate: READ COMMITTED, for writes) or
// BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY (one snapshot for several reads) on
// construction, ROLLBACK on destruction unless Commit() succeeded.
class PgTransaction {
 public:
  static Result<PgTransaction> Begin(PgConnection& conn, bool immediate = true);
  PgTransaction(PgTransaction&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
  PgTransaction& operator=(PgTransaction&&) = delete;
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  ~PgTransaction();
  Status Commit();

 private:
  explicit PgTransaction(PgConnection* conn) : conn_(conn) {}
  PgConnection* conn_ = nullptr;
};

class PgDb {
 public:
  struct Options {
    int pool_size = 8;
    std::string schema;   // empty = the server's default search_path
    int max_retries = 20; // serialization failures retried by WithWriter/InTransaction
    int connect_timeout_sec = 10;
  };

  static Result<std::unique_ptr<PgDb>> Open(const std::string& url, Options options);
  static Result<std::unique_ptr<PgDb>> Open(const std::string& url) { return Open(url, Options{}); }
  ~PgDb();
  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;

  // A pooled connection in autocommit mode.
  template <typename Fn>
  auto WithConnection(Fn&& fn) -> std::invoke_result_t<Fn&, PgConnection&> {
    using R = std::invoke_result_t<Fn&, PgConnection&>;
    Lease lease(*this);
    if (!lease.status.ok()) return R(lease.status);
    return fn(*lease.conn);
  }
  template <typename Fn>
  auto WithReader(Fn&& fn) -> std::invoke_result_t<Fn&, PgConnection&> {
    return WithConnection(std::forward<Fn>(fn));
  }
  // fn in a SERIALIZABLE transaction, retried on serialization failures (see the header).
  template <typename Fn>
  auto WithWriter(Fn&& fn) -> std::invoke_result_t<Fn&, PgConnection&> {
    using R = std::invoke_result_t<Fn&, PgConnection&>;
    std::lock_guard<std::mutex> writer(writer_mu_);
    Lease lease(*this);
    if (!lease.status.ok()) return R(lease.status);
    PgConnection& c = *lease.conn;
    for (int attempt = 0;; ++attempt) {
      Status begin = c.Exec("BEGIN ISOLATION LEVEL SERIALIZABLE");
      if (!begin.ok()) return R(begin);
      R result = fn(c);
      Status end = result.ok() ? c.Exec("COMMIT") : Status::Ok();
      if (!result.ok() || !end.ok()) (void)c.Exec("ROLLBACK");
      const Status& failed = result.ok() ? end : StatusOf(result);
      if (failed.ok()) return result;
      if (!IsRetryable(failed) || attempt >= options_.max_retries) {
        return result.ok() ? R(end) : result;
      }
    }
  }
  Status InTransaction(const std::function<Status(PgConnection&)>& fn) { return WithWriter(fn); }
  // SqliteDb's group commit has no PostgreSQL counterpart: one transaction per call.
  Status WriteGrouped(const std::function<Status(PgConnection&)>& fn) { return WithWriter(fn); }

  Status Exec(std::string_view sql);
  Status Migrate(std::string_view component, const std::vector<std::string>& migrations);
  Result<int64_t> SchemaVersion(std::string_view component);

  // Drops Options::schema with everything in it (tests clean up their schema with it).
  Status DropSchema();

  const std::string& url() const { return url_; }
  const std::string& schema() const { return options_.schema; }

  static bool IsRetryable(const Status& status);

 private:
  PgDb() = default;
  Result<std::unique_ptr<PgConnection>> Connect();
  Status Setup(PgConnection& conn);
  Status Reconnect(PgConnection& conn);
  static const Status& StatusOf(const Status& s) { return s; }
  template <typename T>
  static Status StatusOf(const Result<T>& r) { return r.status(); }

  struct Lease {
    explicit Lease(PgDb& db);
    ~Lease();
    PgDb& db;
    PgConnection* conn = nullptr;
    Status status;
  };

  std::string url_;
  Options options_;
  std::mutex writer_mu_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<PgConnection>> all_;
  std::vector<PgConnection*> free_;
};

}  // namespace alphalab

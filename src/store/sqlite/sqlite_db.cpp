#include "store/sqlite/sqlite_db.hpp"

#include <sqlite3.h>

#include <system_error>

namespace alphalab {
namespace {

constexpr size_t kMaxSqlInMessage = 300;
constexpr size_t kMaxCachedStatements = 512;

std::string ShortSql(std::string_view sql) {
  if (sql.size() <= kMaxSqlInMessage) return std::string(sql);
  return std::string(sql.substr(0, kMaxSqlInMessage)) + "...";
}

bool IsBlank(const char* text) {
  if (text == nullptr) return true;
  for (; *text != '\0'; ++text) {
    if (*text != ' ' && *text != '\n' && *text != '\t' && *text != '\r' && *text != ';') {
      return false;
    }
  }
  return true;
}

}  // namespace

Status SqliteStatus(int rc, sqlite3* db, std::string_view sql) {
  const int primary = rc & 0xff;
  if (primary == SQLITE_OK || primary == SQLITE_ROW || primary == SQLITE_DONE) return Status::Ok();
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = "sqlite: " + detail;
  if (!sql.empty()) message += " (in: " + ShortSql(sql) + ")";
  nlohmann::json details = {{"sqlite_code", rc}, {"sql", ShortSql(sql)}};
  switch (primary) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return Status(StatusCode::kAlreadyExists, std::move(message), std::move(details));
      }
      return Status(StatusCode::kFailedPrecondition, std::move(message), std::move(details));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(StatusCode::kUnavailable, std::move(message), std::move(details));
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      return Status(StatusCode::kInvalidArgument, std::move(message), std::move(details));
    default:
      return Status(StatusCode::kInternal, std::move(message), std::move(details));
  }
}

// ---------------------------------------------------------------------------------------------
// SqliteStatement

SqliteStatement::SqliteStatement(sqlite3_stmt* stmt, sqlite3* db, std::string sql, bool* in_use)
    : stmt_(stmt), db_(db), sql_(std::move(sql)), in_use_(in_use) {}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      db_(other.db_),
      sql_(std::move(other.sql_)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      bind_error_(std::move(other.bind_error_)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    Release();
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
    sql_ = std::move(other.sql_);
    in_use_ = std::exchange(other.in_use_, nullptr);
    bind_error_ = std::move(other.bind_error_);
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { Release(); }

void SqliteStatement::Release() {
  if (stmt_ == nullptr) return;
  if (in_use_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
  in_use_ = nullptr;
}

namespace {
Status Remember(Status& slot, Status status) {
  if (!status.ok() && slot.ok()) slot = status;
  return status;
}
}  // namespace

Status SqliteStatement::BindInt64(int index, int64_t value) {
  return Remember(bind_error_, SqliteStatus(sqlite3_bind_int64(stmt_, index, value), db_, sql_));
}

Status SqliteStatement::Bind(int index, double value) {
  return Remember(bind_error_, SqliteStatus(sqlite3_bind_double(stmt_, index, value), db_, sql_));
}

Status SqliteStatement::Bind(int index, std::string_view value) {
  // A null data pointer would bind NULL; an empty string must stay an empty string.
  const char* data = value.data() != nullptr ? value.data() : "";
  return Remember(bind_error_,
                  SqliteStatus(sqlite3_bind_text64(stmt_, index, data, value.size(),
                                                   SQLITE_TRANSIENT, SQLITE_UTF8),
                               db_, sql_));
}

Status SqliteStatement::Bind(int index, std::nullptr_t) {
  return Remember(bind_error_, SqliteStatus(sqlite3_bind_null(stmt_, index), db_, sql_));
}

Status SqliteStatement::BindBlob(int index, std::string_view bytes) {
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  return Remember(bind_error_, SqliteStatus(sqlite3_bind_blob64(stmt_, index, data, bytes.size(),
                                                                SQLITE_TRANSIENT),
                                            db_, sql_));
}

Result<bool> SqliteStatement::Step() {
  if (stmt_ == nullptr) return Status::Internal("sqlite: step on an empty statement");
  if (!bind_error_.ok()) return bind_error_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status status = SqliteStatus(rc, db_, sql_);
  sqlite3_reset(stmt_);
  return status;
}

Status SqliteStatement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, Step());
    if (!has_row) return Status::Ok();
  }
}

void SqliteStatement::Reset() {
  if (stmt_ != nullptr) sqlite3_reset(stmt_);
}

int SqliteStatement::ColumnCount() const { return sqlite3_column_count(stmt_); }

std::string SqliteStatement::ColumnName(int col) const {
  const char* name = sqlite3_column_name(stmt_, col);
  return name != nullptr ? name : "";
}

bool SqliteStatement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

int64_t SqliteStatement::ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }

double SqliteStatement::ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }

std::string SqliteStatement::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_, col);
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

std::string SqliteStatement::ColumnBlob(int col) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  if (data == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_, col);
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

std::optional<int64_t> SqliteStatement::ColumnOptionalInt64(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnInt64(col);
}

std::optional<double> SqliteStatement::ColumnOptionalDouble(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnDouble(col);
}

std::optional<std::string> SqliteStatement::ColumnOptionalText(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnText(col);
}

// ---------------------------------------------------------------------------------------------
// SqliteConnection

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status SqliteConnection::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (error != nullptr) sqlite3_free(error);
  return SqliteStatus(rc, db_, sql);
}

Result<SqliteStatement> SqliteConnection::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = cache_.find(key);
  if (it != cache_.end() && !*it->second.in_use) {
    *it->second.in_use = true;
    return SqliteStatement(it->second.stmt, db_, std::move(key), it->second.in_use.get());
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  // SQL built with literal values would grow the cache without bound: past the cap, new
  // statements are prepared per use.
  const bool cacheable = it == cache_.end() && cache_.size() < kMaxCachedStatements;
  const int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                    cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, sql);
  if (stmt == nullptr) return Status::InvalidArgument("sqlite: empty statement: " + ShortSql(sql));
  if (!IsBlank(tail)) {
    sqlite3_finalize(stmt);
    return Status::InvalidArgument("sqlite: Prepare takes one statement (use Exec for scripts): " +
                                   ShortSql(sql));
  }
  if (!cacheable) return SqliteStatement(stmt, db_, std::move(key), nullptr);
  auto [slot, inserted] = cache_.emplace(key, CachedStatement{});
  slot->second.stmt = stmt;
  *slot->second.in_use = true;
  return SqliteStatement(stmt, db_, std::move(key), slot->second.in_use.get());
}

int64_t SqliteConnection::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int SqliteConnection::Changes() const { return sqlite3_changes(db_); }

bool SqliteConnection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

// ---------------------------------------------------------------------------------------------
// SqliteTransaction

Result<SqliteTransaction> SqliteTransaction::Begin(SqliteConnection& conn, bool immediate) {
  RETURN_IF_ERROR(conn.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return SqliteTransaction(&conn);
}

SqliteTransaction::SqliteTransaction(SqliteTransaction&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)) {}

SqliteTransaction::~SqliteTransaction() {
  if (conn_ != nullptr && conn_->InTransaction()) (void)conn_->Exec("ROLLBACK");
}

Status SqliteTransaction::Commit() {
  if (conn_ == nullptr) return Status::FailedPrecondition("sqlite: transaction already finished");
  Status status = conn_->Exec("COMMIT");
  if (status.ok()) conn_ = nullptr;  // on failure the destructor rolls back
  return status;
}

Status SqliteTransaction::Rollback() {
  if (conn_ == nullptr) return Status::FailedPrecondition("sqlite: transaction already finished");
  SqliteConnection* conn = std::exchange(conn_, nullptr);
  if (!conn->InTransaction()) return Status::Ok();  // SQLite already rolled back (e.g. on error)
  return conn->Exec("ROLLBACK");
}

// ---------------------------------------------------------------------------------------------
// SqliteDb

Result<std::unique_ptr<SqliteConnection>> SqliteDb::OpenConnection(
    const std::filesystem::path& path, const Options& options, bool read_only) {
  int flags = SQLITE_OPEN_NOMUTEX;  // SqliteDb serializes access to each connection itself
  if (read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqliteStatus(rc, raw, "").WithContext("open " + path.string());
    sqlite3_close_v2(raw);
    return status;
  }
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(raw));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  if (!read_only) {
    RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode=WAL").WithContext("open " + path.string()));
    sqlite3_wal_autocheckpoint(raw, options.wal_autocheckpoint_pages);
  }
  RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
                      .WithContext("open " + path.string()));
  return conn;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::filesystem::path& path,
                                                 Options options) {
  const bool in_memory = path.empty() || path == ":memory:";
  std::unique_ptr<SqliteDb> db(new SqliteDb());
  db->path_ = in_memory ? std::filesystem::path(":memory:") : path;
  if (!in_memory && path.has_parent_path() && options.create) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return Status::Internal("sqlite: cannot create directory " + path.parent_path().string() +
                              ": " + ec.message());
    }
  }
  ASSIGN_OR_RETURN(db->writer_, OpenConnection(db->path_, options, /*read_only=*/false));
  if (!in_memory) {
    for (int i = 0; i < options.reader_connections; ++i) {
      ASSIGN_OR_RETURN(auto reader, OpenConnection(db->path_, options, /*read_only=*/true));
      db->free_readers_.push_back(reader.get());
      db->readers_.push_back(std::move(reader));
    }
  }
  return db;
}

SqliteDb::~SqliteDb() {
  readers_.clear();
  writer_.reset();
}

SqliteDb::ReaderLease::ReaderLease(SqliteDb& owner) : db(owner), conn(nullptr) {
  std::unique_lock<std::mutex> lock(db.readers_mu_);
  db.readers_cv_.wait(lock, [&] { return !db.free_readers_.empty(); });
  conn = db.free_readers_.back();
  db.free_readers_.pop_back();
}

SqliteDb::ReaderLease::~ReaderLease() {
  {
    std::lock_guard<std::mutex> lock(db.readers_mu_);
    db.free_readers_.push_back(conn);
  }
  db.readers_cv_.notify_one();
}

Status SqliteDb::InTransaction(const std::function<Status(SqliteConnection&)>& fn) {
  return WithWriter([&](SqliteConnection& conn) -> Status {
    ASSIGN_OR_RETURN(SqliteTransaction tx, SqliteTransaction::Begin(conn));
    RETURN_IF_ERROR(fn(conn));
    return tx.Commit();
  });
}

Status SqliteDb::Exec(std::string_view sql) {
  return WithWriter([&](SqliteConnection& conn) { return conn.Exec(sql); });
}

namespace {
constexpr std::string_view kCreateMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " component TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " applied_at TEXT NOT NULL,"
    " PRIMARY KEY (component, version))";
constexpr std::string_view kCurrentVersion =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?";
}  // namespace

Status SqliteDb::Migrate(std::string_view component,
                         const std::vector<std::string>& migrations) {
  if (component.empty()) return Status::InvalidArgument("sqlite: migration component is empty");
  return WithWriter([&](SqliteConnection& conn) -> Status {
    RETURN_IF_ERROR(conn.Exec(kCreateMigrations));
    const auto target = static_cast<int64_t>(migrations.size());
    while (true) {
      // Read the version inside BEGIN IMMEDIATE so two processes never apply the same step.
      ASSIGN_OR_RETURN(SqliteTransaction tx, SqliteTransaction::Begin(conn));
      ASSIGN_OR_RETURN(int64_t current, conn.QueryInt64(kCurrentVersion, component));
      if (current > target) {
        return Status::FailedPrecondition(
            "database schema of '" + std::string(component) + "' is at version " +
            std::to_string(current) + " but this binary knows only " + std::to_string(target) +
            " (was it written by a newer alphalab?)");
      }
      if (current == target) return tx.Commit();
      const int64_t next = current + 1;
      const std::string context =
          "migration " + std::string(component) + " v" + std::to_string(next);
      RETURN_IF_ERROR(conn.Exec(migrations[static_cast<size_t>(current)]).WithContext(context));
      RETURN_IF_ERROR(conn.Execute(
          "INSERT INTO schema_migrations (component, version, applied_at)"
          " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
          component, next));
      RETURN_IF_ERROR(tx.Commit().WithContext(context));
    }
  });
}

Result<int64_t> SqliteDb::SchemaVersion(std::string_view component) {
  return WithWriter([&](SqliteConnection& conn) -> Result<int64_t> {
    RETURN_IF_ERROR(conn.Exec(kCreateMigrations));
    return conn.QueryInt64(kCurrentVersion, component);
  });
}

}  // namespace alphalab

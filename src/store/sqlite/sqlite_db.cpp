#include "store/sqlite/sqlite_db.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <exception>
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

SqliteStatement::SqliteStatement(sqlite3_stmt* stmt, sqlite3* db, std::string_view cached_sql, bool* in_use)
    : stmt_(stmt), db_(db), sql_(cached_sql), in_use_(in_use) {}

SqliteStatement::SqliteStatement(sqlite3_stmt* stmt, sqlite3* db, std::string owned_sql)
    : stmt_(stmt), db_(db), owned_sql_(std::move(owned_sql)), sql_(owned_sql_) {}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      db_(other.db_),
      owned_sql_(std::move(other.owned_sql_)),
      sql_(other.in_use_ != nullptr ? other.sql_ : std::string_view(owned_sql_)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      bind_error_(std::move(other.bind_error_)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    Release();
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
    owned_sql_ = std::move(other.owned_sql_);
    sql_ = other.in_use_ != nullptr ? other.sql_ : std::string_view(owned_sql_);
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

std::string_view SqliteStatement::ColumnTextView(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
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
  auto it = cache_.find(sql);
  if (it != cache_.end() && !*it->second.in_use) {
    *it->second.in_use = true;
    return SqliteStatement(it->second.stmt, db_, std::string_view(it->first), it->second.in_use.get());
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  // SQL built with literal values would grow the cache without bound: past the cap, new
  // statements are prepared per use.
  const bool cacheable = it == cache_.end() && cache_.size() < kMaxCachedStatements;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, sql);
  if (stmt == nullptr) return Status::InvalidArgument("sqlite: empty statement: " + ShortSql(sql));
  if (!IsBlank(tail)) {
    sqlite3_finalize(stmt);
    return Status::InvalidArgument("sqlite: Prepare takes one statement (use Exec for scripts): " +
                                   ShortSql(sql));
  }
  if (!cacheable) return SqliteStatement(stmt, db_, std::string(sql));
  auto [slot, inserted] = cache_.emplace(std::string(sql), CachedStatement{});
  slot->second.stmt = stmt;
  *slot->second.in_use = true;
  return SqliteStatement(stmt, db_, std::string_view(slot->first), slot->second.in_use.get());
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

namespace {
// SQLite counts every allocation it makes under one process-wide mutex (SQLITE_CONFIG_MEMSTATUS,
// on by default) for sqlite3_memory_used() and the soft heap limit, neither of which is used
// here: ~13 allocations per point read, each a lock and unlock of that mutex shared by every
// connection on every thread. Turned off before the library initializes (the first open); a
// no-op (SQLITE_MISUSE) if something else initialized it first.
void DisableSqliteMemoryStatus() {
  static const bool done = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)done;
}
}  // namespace

Result<std::unique_ptr<SqliteConnection>> SqliteDb::OpenConnection(
    const std::filesystem::path& path, const Options& options, bool read_only) {
  DisableSqliteMemoryStatus();
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
  // temp_store=MEMORY: statement journals, sorter spills and transient indexes stay in memory
  // instead of a temporary file created and unlinked in /var/tmp per use (the optimization
  // fast path's chunk writes made about 44 of them per 1,000 tasks, on the disk even when the
  // workspace is on tmpfs).
  RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;")
                      .WithContext("open " + path.string()));
  if (read_only) {
    // Readers map the database file (up to 1 GiB) instead of read()ing each page into their
    // own cache: a point read (GET /api/jobs/{id} of a job not in the server's cache) costs no
    // system call per B-tree page and no copy. Pages only count towards the RSS once touched
    // (shared with the page cache). WAL frames are still read.
    RETURN_IF_ERROR(conn->Exec("PRAGMA mmap_size=1073741824").WithContext("open " + path.string()));
  }
  return conn;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::filesystem::path& path,
                                                 Options options) {
  const bool in_memory = path.empty() || path == ":memory:";
  std::unique_ptr<SqliteDb> db(new SqliteDb());
  db->options_ = options;
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
      db->readers_.free.push_back(reader.get());
      db->readers_.conns.push_back(std::move(reader));
    }
  }
  if (!in_memory && options.background_checkpoint) {
    // No checkpoint inside the writer's commits; the WAL hook below replaces SQLite's
    // auto-checkpoint (which is itself a WAL hook).
    sqlite3_wal_autocheckpoint(db->writer_->raw(), 0);
    if (options.wal_autocheckpoint_pages > 0) {
      // The checkpointer needs a read-write handle of its own: it copies WAL frames back
      // into the database file while the writer keeps committing.
      ASSIGN_OR_RETURN(db->checkpointer_,
                       OpenConnection(db->path_, options, /*read_only=*/false));
      sqlite3_wal_autocheckpoint(db->checkpointer_->raw(), 0);
      sqlite3_wal_hook(db->writer_->raw(), &SqliteDb::WalHook, db.get());
      db->wal_max_pages_ = options.wal_max_pages > 0 ? options.wal_max_pages
                                                     : 4 * options.wal_autocheckpoint_pages;
      // A pass costs two fsyncs whatever it copies: while the WAL stays above the threshold,
      // the next pass waits for half a threshold of new frames (a stalled writer overrides).
      db->min_new_frames_ = std::max(1, options.wal_autocheckpoint_pages / 2);
      SqliteDb* raw = db.get();
      db->checkpoint_thread_ = std::thread([raw] { raw->CheckpointLoop(); });
    }
  }
  return db;
}

bool SqliteDb::OpenPointReaders() {
  std::call_once(point_readers_once_, [this] {
    if (path_ == ":memory:" || readers_.conns.empty()) return;
    for (int i = 0; i < options_.point_reader_connections; ++i) {
      auto reader = OpenConnection(path_, options_, /*read_only=*/true);
      if (!reader.ok()) break;  // fewer (or no) point readers: the reads still have the shared ones
      point_readers_.free.push_back(reader->get());
      point_readers_.conns.push_back(std::move(reader).value());
    }
  });
  return !point_readers_.conns.empty();
}

SqliteDb::~SqliteDb() {
  StopCheckpointer();
  readers_.conns.clear();
  point_readers_.conns.clear();
  checkpointer_.reset();
  writer_.reset();
}

SqliteDb::ReaderLease::ReaderLease(ReaderPool& p) : pool(p), conn(nullptr) {
  std::unique_lock<std::mutex> lock(pool.mu);
  pool.cv.wait(lock, [&] { return !pool.free.empty(); });
  conn = pool.free.back();
  pool.free.pop_back();
}

SqliteDb::ReaderLease::~ReaderLease() {
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    pool.free.push_back(conn);
  }
  pool.cv.notify_one();
}

Status SqliteDb::InTransaction(const std::function<Status(SqliteConnection&)>& fn) {
  return WithWriter([&](SqliteConnection& conn) -> Status {
    ASSIGN_OR_RETURN(SqliteTransaction tx, SqliteTransaction::Begin(conn));
    RETURN_IF_ERROR(fn(conn));
    return tx.Commit();
  });
}

// ---------------------------------------------------------------------------------------------
// Group commit

namespace {

constexpr std::string_view kBeginImmediate = "BEGIN IMMEDIATE";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kRollback = "ROLLBACK";
constexpr std::string_view kSavepoint = "SAVEPOINT alphalab_grouped_write";
constexpr std::string_view kRollbackTo = "ROLLBACK TO alphalab_grouped_write";
constexpr std::string_view kRelease = "RELEASE alphalab_grouped_write";

// Transaction-control statements run through the statement cache (prepared once).
Status Control(SqliteConnection& conn, std::string_view sql) { return conn.Execute(sql); }

void RollbackIfOpen(SqliteConnection& conn) {
  if (conn.InTransaction()) (void)conn.Exec(kRollback);
}

// Each closure is a transaction of its own: a deferred foreign key it leaves unresolved
// would make the shared COMMIT fail for everyone, so it fails that closure now instead.
Status CheckDeferredConstraints(SqliteConnection& conn) {
  int current = 0;
  int highwater = 0;
  if (sqlite3_db_status(conn.raw(), SQLITE_DBSTATUS_DEFERRED_FKS, &current, &highwater, 0) !=
          SQLITE_OK ||
      current == 0) {
    return Status::Ok();
  }
  return Status(StatusCode::kFailedPrecondition,
                "sqlite: FOREIGN KEY constraint failed (deferred constraint unresolved at the"
                " end of the write)",
                nlohmann::json{{"sqlite_code", SQLITE_CONSTRAINT_FOREIGNKEY}});
}

// A closure must not let an exception escape into the leader (it would strand every
// follower); it becomes that caller's error instead.
Status RunClosure(const std::function<Status(SqliteConnection&)>& fn, SqliteConnection& conn) {
  try {
    return fn(conn);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("sqlite: grouped write threw: ") + e.what());
  } catch (...) {
    return Status::Internal("sqlite: grouped write threw a non-standard exception");
  }
}

}  // namespace

Status SqliteDb::WriteAlone(const std::function<Status(SqliteConnection&)>& fn) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  SqliteConnection& conn = *writer_;
  WaitForCheckpointIfWalFull();
  group_commits_.fetch_add(1, std::memory_order_relaxed);
  grouped_writes_.fetch_add(1, std::memory_order_relaxed);
  RETURN_IF_ERROR(Control(conn, kBeginImmediate));
  Status status = RunClosure(fn, conn);
  if (status.ok()) status = Control(conn, kCommit);
  if (!status.ok()) RollbackIfOpen(conn);
  return status;
}

void SqliteDb::CommitBatch(std::vector<GroupedWrite*>& batch) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  SqliteConnection& conn = *writer_;
  WaitForCheckpointIfWalFull();
  group_commits_.fetch_add(1, std::memory_order_relaxed);
  grouped_writes_.fetch_add(batch.size(), std::memory_order_relaxed);
  // Every caller whose closure did not fail on its own gets `status`; nothing of the batch
  // is kept.
  auto fail_batch = [&](const Status& status) {
    RollbackIfOpen(conn);
    for (GroupedWrite* w : batch) {
      if (w->status.ok()) w->status = status;
    }
  };
  Status begin = Control(conn, kBeginImmediate);
  if (!begin.ok()) return fail_batch(begin);
  if (batch.size() == 1) {  // a lone caller: no savepoint needed
    GroupedWrite* w = batch.front();
    w->status = RunClosure(*w->fn, conn);
    if (!w->status.ok()) return RollbackIfOpen(conn);
  } else {
    for (size_t i = 0; i < batch.size(); ++i) {
      GroupedWrite* w = batch[i];
      Status savepoint = Control(conn, kSavepoint);
      if (!savepoint.ok()) return fail_batch(savepoint);
      w->status = RunClosure(*w->fn, conn);
      if (w->status.ok()) w->status = CheckDeferredConstraints(conn);
      if (w->status.ok()) {
        Status release = Control(conn, kRelease);
        if (!release.ok()) {
          w->status = release;
          return fail_batch(release);
        }
        continue;
      }
      if (!conn.InTransaction()) {
        // SQLite itself rolled the whole transaction back (I/O error, disk full...): the
        // earlier closures' changes are gone too.
        return fail_batch(Status::Internal(
            "sqlite: group transaction rolled back by an error in another write of the batch: " +
            w->status.message()));
      }
      Status undo = Control(conn, kRollbackTo);
      if (undo.ok()) undo = Control(conn, kRelease);
      if (!undo.ok()) return fail_batch(undo);
    }
  }
  Status commit = Control(conn, kCommit);
  if (!commit.ok()) fail_batch(commit.WithContext("group commit of " +
                                                  std::to_string(batch.size()) + " writes"));
}

Status SqliteDb::WriteGrouped(const std::function<Status(SqliteConnection&)>& fn) {
  if (!options_.group_commit) return WriteAlone(fn);
  const size_t max_batch = static_cast<size_t>(std::max(1, options_.max_group_batch));
  GroupedWrite self;
  self.fn = &fn;
  std::unique_lock<std::mutex> lock(group_mu_);
  group_queue_.push_back(&self);
  if (!group_leader_active_) {  // nothing is being committed: lead at once, alone
    group_leader_active_ = true;
    self.lead = true;
  }
  self.cv.wait(lock, [&] { return self.done || self.lead; });
  if (self.done) return std::move(self.status);
  // Leader. The queue's front is this caller (a leader is named only from the front, and an
  // arriving caller leads only when the queue was empty), so it is in its first batch.
  // Callers that queued meanwhile get one more batch from this leader while the writer is
  // warm (no wake-up hand-off before it is busy again); then the oldest waiter leads.
  const int extra_batches = options_.leader_extra_batches;
  for (int round = 0;; ++round) {
    const size_t n = std::min(max_batch, group_queue_.size());
    std::vector<GroupedWrite*> batch(group_queue_.begin(),
                                     group_queue_.begin() + static_cast<std::ptrdiff_t>(n));
    group_queue_.erase(group_queue_.begin(),
                       group_queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    CommitBatch(batch);
    lock.lock();
    for (GroupedWrite* w : batch) {
      w->done = true;
      if (w != &self) w->cv.notify_one();  // under the lock: w may return (and die) once done
    }
    if (group_queue_.empty()) {
      group_leader_active_ = false;
      break;
    }
    if (round >= extra_batches) {  // the oldest waiter leads the next batch
      group_queue_.front()->lead = true;
      group_queue_.front()->cv.notify_one();
      break;
    }
  }
  return std::move(self.status);
}

SqliteDb::WriteStats SqliteDb::write_stats() const {
  WriteStats stats;
  stats.group_commits = group_commits_.load();
  stats.grouped_writes = grouped_writes_.load();
  stats.checkpoints = checkpoints_.load();
  stats.writer_stalls = writer_stalls_.load();
  stats.wal_pages = wal_pages_.load();
  stats.max_wal_pages = max_wal_pages_.load();
  stats.wal_restarts = wal_restarts_.load();
  return stats;
}

size_t SqliteDb::QueuedGroupedWrites() const {
  std::lock_guard<std::mutex> lock(group_mu_);
  return group_queue_.size();
}

// ---------------------------------------------------------------------------------------------
// Background checkpoints

int SqliteDb::WalHook(void* self, sqlite3* /*db*/, const char* /*name*/, int pages) {
  // Runs on the committing thread right after each commit of the writer connection (with
  // writer_mu_ held): record, and wake the checkpointer once the threshold is crossed.
  auto* db = static_cast<SqliteDb*>(self);
  const int previous = db->wal_pages_.exchange(pages);
  if (pages < previous) db->wal_restarts_.fetch_add(1);
  if (pages > db->max_wal_pages_.load()) db->max_wal_pages_.store(pages);  // hook is serialised
  if (pages < db->options_.wal_autocheckpoint_pages || db->checkpoint_running_.load()) {
    return SQLITE_OK;  // below the threshold, or a pass runs (it re-checks when done)
  }
  const int last = db->pages_at_last_pass_.load();
  if (pages < last || pages - last >= db->min_new_frames_) {
    { std::lock_guard<std::mutex> lock(db->checkpoint_mu_); }  // no lost wake-up
    db->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteDb::CheckpointLoop() {
  const int threshold = options_.wal_autocheckpoint_pages;
  std::unique_lock<std::mutex> lock(checkpoint_mu_);
  while (true) {
    checkpoint_cv_.wait(lock, [&] {
      if (checkpoint_stop_ || checkpoint_urgent_) return true;
      const int pages = wal_pages_.load();
      const int last = pages_at_last_pass_.load();
      return pages >= threshold && (pages < last || pages - last >= min_new_frames_);
    });
    if (checkpoint_stop_) return;
    checkpoint_urgent_ = false;
    ++checkpoint_passes_started_;
    checkpoint_running_.store(true);
    pages_at_last_pass_.store(wal_pages_.load());
    lock.unlock();
    int log_frames = 0;
    int copied_frames = 0;
    // PASSIVE never waits for readers or the writer: frames a reader's snapshot still needs
    // are left for the next pass. Errors (SQLITE_BUSY while another process checkpoints) are
    // retried on the next wake-up.
    (void)sqlite3_wal_checkpoint_v2(checkpointer_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                    &log_frames, &copied_frames);
    checkpoints_.fetch_add(1);
    checkpoint_running_.store(false);
    lock.lock();
    checkpoint_passes_done_ = checkpoint_passes_started_;
    checkpoint_done_cv_.notify_all();
  }
}

void SqliteDb::WaitForCheckpointIfWalFull() {
  // Called with writer_mu_ held, before BEGIN. The checkpointer never takes writer_mu_.
  if (!checkpoint_thread_.joinable() || wal_pages_.load() < wal_max_pages_) return;
  writer_stalls_.fetch_add(1);
  std::unique_lock<std::mutex> lock(checkpoint_mu_);
  const uint64_t target = checkpoint_passes_started_ + 1;  // a pass that starts from now on
  checkpoint_urgent_ = true;
  checkpoint_cv_.notify_one();
  checkpoint_done_cv_.wait(
      lock, [&] { return checkpoint_stop_ || checkpoint_passes_done_ >= target; });
}

void SqliteDb::StopCheckpointer() {
  if (!checkpoint_thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    checkpoint_stop_ = true;
  }
  checkpoint_cv_.notify_all();
  checkpoint_done_cv_.notify_all();
  checkpoint_thread_.join();
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

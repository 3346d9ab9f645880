#include "store/postgres/pg_db.hpp"

#include <dlfcn.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace alphalab {
namespace {

// libpq is loaded when the first PostgreSQL database is opened (dlopen), not linked into the
// binary: a server on SQLite (the default) maps none of libpq and the ~20 libraries it pulls in
// (LDAP, Kerberos, GnuTLS, SASL, ...), 3 MB of its idle RSS. The calls go through this table.
#define ALPHALAB_LIBPQ_FUNCTIONS(X) \
  X(PQclear) \
  X(PQcmdTuples) \
  X(PQconnectdbParams) \
  X(PQerrorMessage) \
  X(PQexec) \
  X(PQexecPrepared) \
  X(PQfinish) \
  X(PQgetisnull) \
  X(PQgetlength) \
  X(PQgetvalue) \
  X(PQnfields) \
  X(PQntuples) \
  X(PQprepare) \
  X(PQreset) \
  X(PQresultErrorField) \
  X(PQresultErrorMessage) \
  X(PQresultStatus) \
  X(PQstatus) \
  X(PQtransactionStatus)
struct LibPq {
#define ALPHALAB_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
  ALPHALAB_LIBPQ_FUNCTIONS(ALPHALAB_LIBPQ_MEMBER)
#undef ALPHALAB_LIBPQ_MEMBER
};
// Set once, by the first LoadLibPq (PgDb::Open calls it before its first connection).
const LibPq* pq = nullptr;

Status LoadLibPq() {
  static const Result<const LibPq*> loaded = []() -> Result<const LibPq*> {
    void* lib = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = ::dlerror();
      return Status::Unavailable(std::string("postgres: cannot load the PostgreSQL client library libpq.so.5 "
                                             "(install libpq5): ") + (why != nullptr ? why : "unknown error"));
    }
    static LibPq table;
#define ALPHALAB_LIBPQ_LOAD(name)                                                          \
    table.name = reinterpret_cast<decltype(&::name)>(::dlsym(lib, #name));                \
    if (table.name == nullptr) return Status::Unavailable("postgres: libpq.so.5 has no " #name);
    ALPHALAB_LIBPQ_FUNCTIONS(ALPHALAB_LIBPQ_LOAD)
#undef ALPHALAB_LIBPQ_LOAD
    pq = &table;
    return &table;  // the library stays loaded for the life of the process
  }();
  return loaded.ok() ? Status::Ok() : loaded.status();
}

constexpr size_t kMaxSqlInMessage = 300;

std::string ShortSql(std::string_view sql) {
  if (sql.size() <= kMaxSqlInMessage) return std::string(sql);
  return std::string(sql.substr(0, kMaxSqlInMessage)) + "...";
}

std::string TrimMessage(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status FromSqlState(const std::string& state, std::string message, std::string_view sql) {
  if (!sql.empty()) message += " (in: " + ShortSql(sql) + ")";
  nlohmann::json details = {{"sqlstate", state}, {"sql", ShortSql(sql)}};
  StatusCode code = StatusCode::kInternal;
  if (state == "23505") {
    code = StatusCode::kAlreadyExists;
  } else if (state.rfind("23", 0) == 0) {
    code = StatusCode::kFailedPrecondition;
  } else if (state == "40001" || state == "40P01" || state == "55P03" || state.rfind("08", 0) == 0 ||
             state == "57P01" || state.empty()) {
    code = StatusCode::kUnavailable;
  } else if (state.rfind("22", 0) == 0) {
    code = StatusCode::kInvalidArgument;
  }
  return Status(code, "postgres: " + message, std::move(details));
}

}  // namespace

bool IsPostgresUrl(std::string_view url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

std::string RedactPostgresUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t at = url.find('@', scheme + 3);
  if (at == std::string_view::npos) return std::string(url);
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon)) + ":***" + std::string(url.substr(at));
}

std::string PgPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$' + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// PgStatement

PgStatement::PgStatement(PgConnection* conn, std::string sql, std::string name)
    : conn_(conn), sql_(std::move(sql)), name_(std::move(name)) {}

PgStatement::PgStatement(PgStatement&& other) noexcept
    : conn_(other.conn_),
      sql_(std::move(other.sql_)),
      name_(std::move(other.name_)),
      params_(std::move(other.params_)),
      result_(std::exchange(other.result_, nullptr)),
      row_(other.row_),
      rows_(other.rows_),
      changes_(other.changes_),
      bind_error_(std::move(other.bind_error_)) {}

PgStatement& PgStatement::operator=(PgStatement&& other) noexcept {
  if (this != &other) {
    Clear();
    conn_ = other.conn_;
    sql_ = std::move(other.sql_);
    name_ = std::move(other.name_);
    params_ = std::move(other.params_);
    result_ = std::exchange(other.result_, nullptr);
    row_ = other.row_;
    rows_ = other.rows_;
    changes_ = other.changes_;
    bind_error_ = std::move(other.bind_error_);
  }
  return *this;
}

PgStatement::~PgStatement() { Clear(); }

void PgStatement::Clear() {
  if (result_ != nullptr) pq->PQclear(result_);
  result_ = nullptr;
  row_ = -1;
  rows_ = 0;
}

void PgStatement::Reset() { Clear(); }

Status PgStatement::Bind(int index, std::nullptr_t) {
  if (index < 1 || index > 65535) {  // the protocol's limit
    bind_error_ = Status::InvalidArgument("postgres: parameter index " + std::to_string(index) +
                                          " out of range (in: " + ShortSql(sql_) + ")");
    return bind_error_;
  }
  if (params_.size() < static_cast<size_t>(index)) params_.resize(static_cast<size_t>(index));
  params_[static_cast<size_t>(index - 1)].reset();
  return Status::Ok();
}

Status PgStatement::Bind(int index, std::string_view value) {
  RETURN_IF_ERROR(Bind(index, nullptr));
  if (value.find('\0') != std::string_view::npos) {
    bind_error_ = Status::InvalidArgument("postgres: text parameter contains a NUL byte");
    return bind_error_;
  }
  params_[static_cast<size_t>(index - 1)] = std::string(value);
  return Status::Ok();
}

Status PgStatement::BindInt64(int index, int64_t value) { return Bind(index, std::to_string(value)); }

Status PgStatement::Bind(int index, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return Bind(index, std::string_view(buf));
}

Status PgStatement::Execute() {
  RETURN_IF_ERROR(bind_error_);
  Clear();
  std::vector<const char*> values;
  values.reserve(params_.size());
  for (const auto& p : params_) values.push_back(p ? p->c_str() : nullptr);
  result_ = pq->PQexecPrepared(conn_->conn_, name_.c_str(), static_cast<int>(values.size()),
                           values.empty() ? nullptr : values.data(), nullptr, nullptr, 0);
  Status status = conn_->StatusOf(result_, sql_);
  if (!status.ok()) {
    Clear();
    return status;
  }
  rows_ = pq->PQntuples(result_);
  const char* affected = pq->PQcmdTuples(result_);
  changes_ = (affected != nullptr && *affected != '\0') ? std::strtoll(affected, nullptr, 10) : 0;
  conn_->changes_ = changes_;
  row_ = -1;
  return Status::Ok();
}

Result<bool> PgStatement::Step() {
  if (result_ == nullptr) RETURN_IF_ERROR(Execute());
  ++row_;
  return row_ < rows_;
}

Status PgStatement::Run() { return Execute(); }

int PgStatement::ColumnCount() const { return result_ != nullptr ? pq->PQnfields(result_) : 0; }

bool PgStatement::ColumnIsNull(int col) const {
  return result_ == nullptr || row_ < 0 || row_ >= rows_ || pq->PQgetisnull(result_, row_, col) != 0;
}

std::string PgStatement::ColumnText(int col) const {
  if (ColumnIsNull(col)) return "";
  return std::string(pq->PQgetvalue(result_, row_, col), static_cast<size_t>(pq->PQgetlength(result_, row_, col)));
}

std::string_view PgStatement::ColumnTextView(int col) const {
  if (ColumnIsNull(col)) return {};
  return {pq->PQgetvalue(result_, row_, col), static_cast<size_t>(pq->PQgetlength(result_, row_, col))};
}

int64_t PgStatement::ColumnInt64(int col) const {
  if (ColumnIsNull(col)) return 0;
  const char* v = pq->PQgetvalue(result_, row_, col);
  if (std::strcmp(v, "t") == 0) return 1;
  if (std::strcmp(v, "f") == 0) return 0;
  if (std::strpbrk(v, ".eE") != nullptr) return static_cast<int64_t>(std::strtod(v, nullptr));
  return std::strtoll(v, nullptr, 10);
}

double PgStatement::ColumnDouble(int col) const {
  if (ColumnIsNull(col)) return 0.0;
  return std::strtod(pq->PQgetvalue(result_, row_, col), nullptr);
}

std::optional<int64_t> PgStatement::ColumnOptionalInt64(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnInt64(col);
}

std::optional<double> PgStatement::ColumnOptionalDouble(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnDouble(col);
}

std::optional<std::string> PgStatement::ColumnOptionalText(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnText(col);
}

// ---------------------------------------------------------------------------------------------
// PgConnection

PgConnection::~PgConnection() {
  if (conn_ != nullptr) pq->PQfinish(conn_);
}

Status PgConnection::StatusOf(pg_result* result, std::string_view sql) {
  const ExecStatusType st = result != nullptr ? pq->PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return Status::Ok();
  if (result == nullptr) return FromSqlState("", TrimMessage(pq->PQerrorMessage(conn_)), sql);
  const char* state = pq->PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string message = TrimMessage(pq->PQresultErrorMessage(result));
  if (message.empty()) message = TrimMessage(pq->PQerrorMessage(conn_));
  return FromSqlState(state != nullptr ? state : (pq->PQstatus(conn_) == CONNECTION_OK ? "XX000" : ""),
                      std::move(message), sql);
}

Status PgConnection::Exec(std::string_view sql) {
  pg_result* result = pq->PQexec(conn_, std::string(sql).c_str());
  Status status = StatusOf(result, sql);
  if (result != nullptr) pq->PQclear(result);
  return status;
}

Result<PgStatement> PgConnection::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    const std::string text = PgPlaceholders(sql);
    pg_result* result = pq->PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
    Status status = StatusOf(result, sql);
    if (result != nullptr) pq->PQclear(result);
    RETURN_IF_ERROR(status);
    it = prepared_.emplace(key, std::move(name)).first;
  }
  return PgStatement(this, std::move(key), it->second);
}

bool PgConnection::InTransaction() const {
  const PGTransactionStatusType st = pq->PQtransactionStatus(conn_);
  return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

bool PgConnection::Healthy() const { return conn_ != nullptr && pq->PQstatus(conn_) == CONNECTION_OK; }

// ---------------------------------------------------------------------------------------------
// PgTransaction

Result<PgTransaction> PgTransaction::Begin(PgConnection& conn, bool immediate) {
  if (conn.InTransaction()) return PgTransaction(nullptr);  // inside WithWriter's transaction
  RETURN_IF_ERROR(conn.Exec(immediate ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  return PgTransaction(&conn);
}

PgTransaction::~PgTransaction() {
  if (conn_ != nullptr) (void)conn_->Exec("ROLLBACK");
}

Status PgTransaction::Commit() {
  if (conn_ == nullptr) return Status::Ok();
  PgConnection* conn = std::exchange(conn_, nullptr);
  return conn->Exec("COMMIT");
}

// ---------------------------------------------------------------------------------------------
// PgDb

bool PgDb::IsRetryable(const Status& status) {
  if (status.ok() || status.code() != StatusCode::kUnavailable) return false;
  const nlohmann::json& d = status.details();
  if (!d.is_object() || !d.contains("sqlstate")) return false;
  const std::string state = d["sqlstate"].get<std::string>();
  return state == "40001" || state == "40P01";
}

Result<std::unique_ptr<PgDb>> PgDb::Open(const std::string& url, Options options) {
  if (!IsPostgresUrl(url)) {
    return Status::InvalidArgument("postgres: not a postgresql:// URL: " + RedactPostgresUrl(url));
  }
  if (options.pool_size < 1) options.pool_size = 1;
  for (char c : options.schema) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return Status::InvalidArgument("postgres: schema name '" + options.schema + "' is not [A-Za-z0-9_]+");
    }
  }
  RETURN_IF_ERROR(LoadLibPq());
  std::unique_ptr<PgDb> db(new PgDb());
  db->url_ = url;
  db->options_ = std::move(options);
  // Open one connection now so a bad URL or an unreachable server fails at startup.
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> first, db->Connect());
  db->free_.push_back(first.get());
  db->all_.push_back(std::move(first));
  return db;
}

PgDb::~PgDb() = default;

Result<std::unique_ptr<PgConnection>> PgDb::Connect() {
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const std::string timeout = std::to_string(options_.connect_timeout_sec);
  const char* values[] = {url_.c_str(), timeout.c_str(), "alphalab", nullptr};
  pg_conn* raw = pq->PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  std::unique_ptr<PgConnection> conn(new PgConnection(raw));
  if (raw == nullptr || pq->PQstatus(raw) != CONNECTION_OK) {
    return Status(StatusCode::kUnavailable,
                  "postgres: cannot connect to " + RedactPostgresUrl(url_) + ": " +
                      TrimMessage(raw != nullptr ? pq->PQerrorMessage(raw) : "out of memory"),
                  nlohmann::json{{"sqlstate", "08001"}});
  }
  RETURN_IF_ERROR(Setup(*conn));
  return conn;
}

Status PgDb::Setup(PgConnection& conn) {
  RETURN_IF_ERROR(conn.Exec("SET client_min_messages = warning"));
  if (!options_.schema.empty()) {
    RETURN_IF_ERROR(conn.Exec("CREATE SCHEMA IF NOT EXISTS " + options_.schema));
    RETURN_IF_ERROR(conn.Exec("SET search_path TO " + options_.schema));
  }
  return Status::Ok();
}

Status PgDb::Reconnect(PgConnection& conn) {
  pq->PQreset(conn.conn_);
  conn.prepared_.clear();
  if (!conn.Healthy()) {
    return Status(StatusCode::kUnavailable,
                  "postgres: lost the connection to " + RedactPostgresUrl(url_) + ": " +
                      TrimMessage(pq->PQerrorMessage(conn.conn_)),
                  nlohmann::json{{"sqlstate", "08006"}});
  }
  return Setup(conn);
}

PgDb::Lease::Lease(PgDb& d) : db(d) {
  std::unique_lock<std::mutex> lock(db.pool_mu_);
  while (db.free_.empty() && static_cast<int>(db.all_.size()) >= db.options_.pool_size) {
    db.pool_cv_.wait(lock);
  }
  if (!db.free_.empty()) {
    conn = db.free_.back();
    db.free_.pop_back();
    lock.unlock();
    if (!conn->Healthy()) {
      // The server went away (restart, network): reconnect before use.
      status = db.Reconnect(*conn);
      if (!status.ok()) {
        lock.lock();
        db.free_.push_back(conn);
        conn = nullptr;
        db.pool_cv_.notify_one();
        return;
      }
    }
    return;
  }
  // Room for another connection: open it outside the lock.
  db.all_.push_back(nullptr);
  lock.unlock();
  Result<std::unique_ptr<PgConnection>> fresh = db.Connect();
  lock.lock();
  auto slot = std::find(db.all_.begin(), db.all_.end(), nullptr);
  if (!fresh.ok()) {
    db.all_.erase(slot);
    status = fresh.status();
    db.pool_cv_.notify_one();
    return;
  }
  conn = fresh.value().get();
  *slot = std::move(fresh).value();
}

PgDb::Lease::~Lease() {
  if (conn == nullptr) return;
  if (conn->Healthy() && conn->InTransaction()) (void)conn->Exec("ROLLBACK");
  std::lock_guard<std::mutex> lock(db.pool_mu_);
  db.free_.push_back(conn);
  db.pool_cv_.notify_one();
}

Status PgDb::Exec(std::string_view sql) {
  return WithConnection([&](PgConnection& c) { return c.Exec(sql); });
}

namespace {
constexpr const char* kCreateMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " component TEXT NOT NULL, version BIGINT NOT NULL, applied_at TEXT NOT NULL,"
    " PRIMARY KEY (component, version))";
constexpr const char* kCurrentVersion =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?";
}  // namespace

Status PgDb::Migrate(std::string_view component, const std::vector<std::string>& migrations) {
  if (component.empty()) return Status::InvalidArgument("postgres: migration component is empty");
  return WithConnection([&](PgConnection& conn) -> Status {
    const auto target = static_cast<int64_t>(migrations.size());
    while (true) {
      RETURN_IF_ERROR(conn.Exec("BEGIN"));
      // One migrator per database at a time (two servers starting together); released at COMMIT.
      RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock(7361626)"));
      RETURN_IF_ERROR(conn.Exec(kCreateMigrations));
      ASSIGN_OR_RETURN(int64_t current, conn.QueryInt64(kCurrentVersion, component));
      if (current > target) {
        (void)conn.Exec("ROLLBACK");
        return Status::FailedPrecondition(
            "database schema of '" + std::string(component) + "' is at version " +
            std::to_string(current) + " but this binary knows only " + std::to_string(target) +
            " (was it written by a newer alphalab?)");
      }
      if (current == target) return conn.Exec("COMMIT");
      const int64_t next = current + 1;
      const std::string context = "migration " + std::string(component) + " v" + std::to_string(next);
      Status step = conn.Exec(migrations[static_cast<size_t>(current)]).WithContext(context);
      if (step.ok()) {
        step = conn.Execute(
            "INSERT INTO schema_migrations (component, version, applied_at)"
            " VALUES (?, ?, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
            component, next);
      }
      if (!step.ok()) {
        (void)conn.Exec("ROLLBACK");
        return step;
      }
      RETURN_IF_ERROR(conn.Exec("COMMIT").WithContext(context));
    }
  });
}

Result<int64_t> PgDb::SchemaVersion(std::string_view component) {
  return WithConnection([&](PgConnection& conn) -> Result<int64_t> {
    RETURN_IF_ERROR(conn.Exec(kCreateMigrations));
    return conn.QueryInt64(kCurrentVersion, component);
  });
}

Status PgDb::DropSchema() {
  if (options_.schema.empty()) return Status::Ok();
  return WithConnection([&](PgConnection& c) { return c.Exec("DROP SCHEMA IF EXISTS " + options_.schema + " CASCADE"); });
}

}  // namespace alphalab

// The OptimizationStore shared by the SQL stores (SQLite, PostgreSQL): one body, the class
// template SqlOptimizationStore over the database layer (SqliteDb/PgDb with their connection
// and statement types: the same Prepare/Bind/Step/Column*/Execute/Query names), and the few
// places the dialects differ in OptimizationSqlDialect (column types, reading a metric out of
// the JSON text, EXPLAIN, and whether a refused statement aborts the transaction). The
// migrations are built from the dialect, so both databases have the same tables and indexes.
// SqliteOptimizationStore and PostgresOptimizationStore only open it. Internal to src/store.
//
// What is indexed (docs/optimizations.md, "Storage"): a task page with validation = 0/1 (every
// caller of the service asks for one kind) is an index walk for the index order
// (optimization_tasks_kind), the score orders (optimization_tasks_score_asc/_desc) and a status
// filter in index order (optimization_tasks_status, which also serves TasksToRun and counts by
// status without reading rows); the total of a kind without a status filter is the
// optimization row's total_tasks. A sort by a metric (a result field) reads the optimization's
// rows once and keeps only the page (a bounded top-k of (value, index) pairs), then reads the
// page's rows: O(tasks) CPU, O(limit + offset) memory; tasks without metrics yet are skipped
// without parsing their JSON.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "store/optimization_store.hpp"

namespace alphalab::optimization_sql {

using Value = std::variant<std::string, int64_t>;

// Where the SQL dialects differ.
struct OptimizationSqlDialect {
  std::string_view key_text;  // a text column compared bytewise (ids, names, states)
  std::string_view integer;   // a 64-bit integer column
  std::string_view real;      // a double column
  // A top-level metric of `metrics` as a number, NULL when absent or not a number; the two "?"
  // are bound to MetricKey(field).
  std::string_view metric_value;
  bool metric_key_is_path;  // SQLite's JSON path ("$.\"Sharpe Ratio\""), else the key itself
  // validation.status of the `summary` column (NULL when absent or not JSON).
  std::string_view validation_status;
  std::string_view explain;  // the prefix whose rows describe the plan
  int explain_column;        // the column of the plan's text
  // PostgreSQL aborts the transaction on a failed statement: a write that may be refused runs
  // in a savepoint there (SQLite undoes the one statement itself).
  bool savepoint_per_write;
};

inline constexpr OptimizationSqlDialect kSqliteDialect{
    "TEXT",
    "INTEGER",
    "REAL",
    "CASE WHEN json_type(metrics, ?) IN ('integer', 'real') THEN json_extract(metrics, ?) END",
    true,
    "CASE WHEN json_valid(summary) THEN json_extract(summary, '$.validation.status') END",
    "EXPLAIN QUERY PLAN ",
    3,
    false};

inline constexpr OptimizationSqlDialect kPostgresDialect{
    "TEXT COLLATE \"C\"",
    "BIGINT",
    "DOUBLE PRECISION",
    "CASE WHEN json_typeof(metrics::json -> ?) = 'number' THEN (metrics::json ->> ?)::double precision END",
    false,
    "(summary::json -> 'validation' ->> 'status')",
    "EXPLAIN ",
    0,
    true};

inline constexpr std::string_view kOptColumns =
    "id, name, project, owner_id, job_type, status, request, summary, source_id, created_at_us,"
    " started_at_us, ended_at_us, updated_at_us, total_tasks";

inline constexpr std::string_view kTaskColumns =
    "optimization_id, idx, params, params_key, status, job_id, score, metrics, ranked, reason, attempt,"
    " started_at_us, ended_at_us, validation";

inline constexpr std::string_view kTaskRow = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

// Tasks per multi-row INSERT in Create (a round trip per row would make a 100,000-task sweep
// take minutes on PostgreSQL).
inline constexpr size_t kTaskChunk = 1000;

// The migrations of the component "optimizations" in `d`'s column types.
inline std::vector<std::string> Migrations(const OptimizationSqlDialect& d) {
  const std::string key(d.key_text);
  const std::string i64(d.integer);
  return {
      // 1: optimizations and their tasks.
      "CREATE TABLE optimizations ("
      "  id " + key + " PRIMARY KEY,"
      "  name " + key + " NOT NULL,"
      "  project " + key + " NOT NULL,"
      "  owner_id " + key + " NOT NULL,"
      "  job_type " + key + " NOT NULL,"
      "  status " + key + " NOT NULL,"
      "  request TEXT NOT NULL,"
      "  summary TEXT NOT NULL,"
      "  source_id TEXT,"
      "  created_at_us " + i64 + " NOT NULL,"
      "  started_at_us " + i64 + ","
      "  ended_at_us " + i64 + ","
      "  updated_at_us " + i64 + " NOT NULL,"
      "  total_tasks " + i64 + " NOT NULL DEFAULT 0);"
      "CREATE INDEX optimizations_newest ON optimizations (created_at_us DESC, id DESC);"
      "CREATE INDEX optimizations_status ON optimizations (status, created_at_us DESC, id DESC);"
      "CREATE INDEX optimizations_project ON optimizations (project, created_at_us DESC, id DESC);"
      "CREATE INDEX optimizations_owner ON optimizations (owner_id, created_at_us DESC, id DESC);"
      "CREATE INDEX optimizations_source ON optimizations (source_id, created_at_us DESC, id DESC)"
      "  WHERE source_id IS NOT NULL;"
      "CREATE TABLE optimization_tasks ("
      "  optimization_id " + key + " NOT NULL REFERENCES optimizations (id) ON DELETE CASCADE,"
      "  idx " + i64 + " NOT NULL,"
      "  params TEXT NOT NULL,"
      "  params_key " + key + " NOT NULL,"
      "  status " + key + " NOT NULL,"
      "  job_id " + key + ","
      "  score " + std::string(d.real) + ","
      "  metrics TEXT NOT NULL,"
      "  ranked " + i64 + " NOT NULL,"
      "  reason TEXT NOT NULL,"
      "  attempt " + i64 + " NOT NULL,"
      "  started_at_us " + i64 + ","
      "  ended_at_us " + i64 + ","
      "  validation " + i64 + " NOT NULL,"
      "  PRIMARY KEY (optimization_id, idx));"
      "CREATE UNIQUE INDEX optimization_tasks_params_key"
      "  ON optimization_tasks (optimization_id, validation, params_key);"
      "CREATE UNIQUE INDEX optimization_tasks_job ON optimization_tasks (job_id) WHERE job_id IS NOT NULL;"
      "CREATE INDEX optimization_tasks_status ON optimization_tasks (optimization_id, status, idx);"
      "CREATE INDEX optimization_tasks_score_asc"
      "  ON optimization_tasks (optimization_id, (score IS NULL), score ASC, idx ASC);"
      "CREATE INDEX optimization_tasks_score_desc"
      "  ON optimization_tasks (optimization_id, (score IS NULL), score DESC, idx ASC);",
      // 2: the task pages filter on validation (the tasks endpoint asks for the search tasks):
      // it leads the order indexes, so a page is an index walk that skips nothing, and the
      // status index carries it, so a count by status reads no row.
      "DROP INDEX optimization_tasks_status;"
      "DROP INDEX optimization_tasks_score_asc;"
      "DROP INDEX optimization_tasks_score_desc;"
      "CREATE INDEX optimization_tasks_kind ON optimization_tasks (optimization_id, validation, idx);"
      "CREATE INDEX optimization_tasks_status ON optimization_tasks (optimization_id, status, idx, validation);"
      "CREATE INDEX optimization_tasks_score_asc"
      "  ON optimization_tasks (optimization_id, validation, (score IS NULL), score ASC, idx ASC);"
      "CREATE INDEX optimization_tasks_score_desc"
      "  ON optimization_tasks (optimization_id, validation, (score IS NULL), score DESC, idx ASC);",
  };
}

inline int64_t ToMicros(TimePoint tp) {
  return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

inline std::optional<int64_t> ToMicros(const std::optional<TimePoint>& tp) {
  if (!tp) return std::nullopt;
  return ToMicros(*tp);
}

inline TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

inline std::optional<TimePoint> FromMicros(const std::optional<int64_t>& us) {
  if (!us) return std::nullopt;
  return FromMicros(*us);
}

// NaN and infinities have no SQL value; a non-finite score is stored as NULL (no score).
inline std::optional<double> Finite(const std::optional<double>& v) {
  if (v && !(*v == *v && *v - *v == 0)) return std::nullopt;
  return v;
}

template <typename Stmt>
Result<Json> ParseColumn(const Stmt& stmt, int col, std::string_view what, const std::string& owner) {
  Result<Json> parsed = ParseJson(stmt.ColumnText(col));
  if (!parsed.ok()) {
    return Status::Internal(owner + ": stored " + std::string(what) + " is not valid JSON: " +
                            parsed.status().message());
  }
  return parsed;
}

template <typename Stmt>
Result<OptimizationRecord> RowToOpt(const Stmt& s) {
  OptimizationRecord o;
  o.id = s.ColumnText(0);
  o.name = s.ColumnText(1);
  o.project = s.ColumnText(2);
  o.owner_id = s.ColumnText(3);
  o.job_type = s.ColumnText(4);
  o.status = s.ColumnText(5);
  const std::string owner = "optimization " + o.id;
  ASSIGN_OR_RETURN(o.request, ParseColumn(s, 6, "request", owner));
  ASSIGN_OR_RETURN(o.summary, ParseColumn(s, 7, "summary", owner));
  o.source_id = s.ColumnOptionalText(8);
  o.created_at = FromMicros(s.ColumnInt64(9));
  o.started_at = FromMicros(s.ColumnOptionalInt64(10));
  o.ended_at = FromMicros(s.ColumnOptionalInt64(11));
  o.updated_at = FromMicros(s.ColumnInt64(12));
  o.total_tasks = s.ColumnInt64(13);
  return o;
}

template <typename Stmt>
Result<OptimizationTaskRecord> RowToTask(const Stmt& s) {
  OptimizationTaskRecord t;
  t.optimization_id = s.ColumnText(0);
  t.index = s.ColumnInt64(1);
  const std::string owner = "task " + std::to_string(t.index) + " of optimization " + t.optimization_id;
  ASSIGN_OR_RETURN(t.params, ParseColumn(s, 2, "params", owner));
  t.params_key = s.ColumnText(3);
  t.status = s.ColumnText(4);
  t.job_id = s.ColumnOptionalText(5);
  t.score = s.ColumnOptionalDouble(6);
  ASSIGN_OR_RETURN(t.metrics, ParseColumn(s, 7, "metrics", owner));
  t.ranked = s.ColumnInt64(8) != 0;
  t.reason = s.ColumnText(9);
  t.attempt = s.ColumnInt64(10);
  t.started_at = FromMicros(s.ColumnOptionalInt64(11));
  t.ended_at = FromMicros(s.ColumnOptionalInt64(12));
  t.validation = s.ColumnInt64(13) != 0;
  return t;
}

// Binds a task's 14 columns (kTaskColumns order) from parameter `p` + 1 on; `p` ends at the last.
template <typename Stmt>
Status BindTask(Stmt& stmt, int& p, const std::string& opt_id, int64_t index, const OptimizationTaskRecord& t) {
  RETURN_IF_ERROR(stmt.Bind(++p, opt_id));
  RETURN_IF_ERROR(stmt.Bind(++p, index));
  RETURN_IF_ERROR(stmt.Bind(++p, DumpJson(t.params)));
  RETURN_IF_ERROR(stmt.Bind(++p, t.params_key));
  RETURN_IF_ERROR(stmt.Bind(++p, t.status));
  RETURN_IF_ERROR(stmt.Bind(++p, t.job_id));
  RETURN_IF_ERROR(stmt.Bind(++p, Finite(t.score)));
  RETURN_IF_ERROR(stmt.Bind(++p, DumpJson(t.metrics)));
  RETURN_IF_ERROR(stmt.Bind(++p, t.ranked));
  RETURN_IF_ERROR(stmt.Bind(++p, t.reason));
  RETURN_IF_ERROR(stmt.Bind(++p, t.attempt));
  RETURN_IF_ERROR(stmt.Bind(++p, ToMicros(t.started_at)));
  RETURN_IF_ERROR(stmt.Bind(++p, ToMicros(t.ended_at)));
  return stmt.Bind(++p, t.validation);
}

template <typename Stmt>
Status BindValues(Stmt& stmt, const std::vector<Value>& values) {
  int index = 1;
  for (const auto& v : values) {
    RETURN_IF_ERROR(std::visit([&](const auto& x) { return stmt.Bind(index, x); }, v));
    ++index;
  }
  return Status::Ok();
}

// Every row of a prepared and bound statement, through `row` (RowToOpt, RowToTask, ...).
template <typename T, typename Stmt, typename Row>
Result<std::vector<T>> Collect(Stmt& stmt, Row row) {
  std::vector<T> out;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return out;
    ASSIGN_OR_RETURN(T v, row(stmt));
    out.push_back(std::move(v));
  }
}

struct Where {
  std::string sql;
  std::vector<Value> values;
  void Add(const std::string& clause, Value v) {
    sql += (sql.empty() ? " WHERE " : " AND ") + clause;
    values.push_back(std::move(v));
  }
  // column IN (?, ...) for a non-empty list.
  void AddIn(const std::string& column, const std::vector<std::string>& list) {
    if (list.empty()) return;
    std::string clause = column + " IN (";
    for (size_t i = 0; i < list.size(); ++i) clause += i ? ",?" : "?";
    sql += (sql.empty() ? " WHERE " : " AND ") + clause + ")";
    for (const auto& v : list) values.emplace_back(v);
  }
};

inline Where OptWhere(const OptimizationQuery& q) {
  Where w;
  w.AddIn("status", q.statuses);
  w.AddIn("project", q.projects);
  if (q.owner_id) w.Add("owner_id = ?", *q.owner_id);
  if (q.source_id) w.Add("source_id = ?", *q.source_id);
  return w;
}

inline Where TaskWhere(const std::string& opt_id, const OptimizationTaskQuery& q) {
  Where w;
  w.Add("optimization_id = ?", opt_id);
  if (q.validation) w.Add("validation = ?", static_cast<int64_t>(*q.validation ? 1 : 0));
  if (q.status) w.Add("status = ?", *q.status);
  return w;
}

// The ListTasks statement and its bindings. Index and score orders are index walks (the
// indexes of migration 2, see the top of this file); a metric order picks the page's indexes
// from (value, idx) pairs, sorted with a LIMIT (a top-k, not a sort of every row), and reads
// those rows alone.
inline std::pair<std::string, std::vector<Value>> TaskListSql(const OptimizationSqlDialect& d, const std::string& opt_id,
                                                               const OptimizationTaskQuery& q) {
  Where w = TaskWhere(opt_id, q);
  const std::string dir = q.sort.descending ? " DESC" : " ASC";
  const std::string select = "SELECT " + std::string(kTaskColumns) + " FROM optimization_tasks";
  std::string sql;
  std::vector<Value> values;
  if (q.sort.field == "index") {
    sql = select + w.sql + " ORDER BY idx" + dir + " LIMIT ? OFFSET ?";
  } else if (q.sort.field == "score") {
    sql = select + w.sql + " ORDER BY score IS NULL ASC, score" + dir + ", idx ASC LIMIT ? OFFSET ?";
  } else {
    // The metric's key as one JSON object key, so dots and spaces stay part of it ("Sharpe Ratio").
    const std::string key = d.metric_key_is_path ? "$.\"" + q.sort.field + "\"" : q.sort.field;
    // A task that has not finished has no metrics ('{}'): no JSON to read.
    // (PostgreSQL orders by an output column only by its bare name: the values are a subquery.)
    const std::string order = " ORDER BY sort_value IS NULL ASC, sort_value" + dir + ", page_idx ASC";
    sql = "SELECT " + std::string(kTaskColumns) + " FROM optimization_tasks JOIN (SELECT page_idx, sort_value FROM"
          " (SELECT idx AS page_idx, CASE WHEN metrics = '{}' THEN NULL ELSE " + std::string(d.metric_value) +
          " END AS sort_value FROM optimization_tasks" + w.sql + ") AS v" + order +
          " LIMIT ? OFFSET ?) AS page ON optimization_id = ? AND idx = page_idx" + order;
    values = {key, key};
  }
  values.insert(values.end(), w.values.begin(), w.values.end());
  values.emplace_back(static_cast<int64_t>(q.limit));
  values.emplace_back(q.offset);
  if (q.sort.field != "index" && q.sort.field != "score") values.emplace_back(opt_id);
  return {sql, values};
}

inline Status StaleTask(const std::string& opt_id, int64_t index, const std::string& actual,
                        const std::string& expected) {
  return Status::FailedPrecondition(
      "task " + std::to_string(index) + " of optimization " + opt_id + " is " + actual + ", not " + expected,
      {{"status", actual}});
}

// OptimizationStore over `Db` (SqliteDb with SqliteConnection/SqliteStatement, or PgDb with
// PgConnection/PgStatement). Tables `optimizations` and `optimization_tasks`, migrations
// Migrations(dialect) under the component "optimizations". Times are integer microseconds
// since the epoch, JSON fields are text. Create and AddTasks are one transaction each; every
// state change is an UPDATE ... WHERE status = expected (compare-and-set).
template <typename Db, typename Conn, typename Stmt>
class SqlOptimizationStore : public OptimizationStore {
 public:
  Status Create(const OptimizationRecord& opt, const std::vector<OptimizationTaskRecord>& tasks) override {
    RETURN_IF_ERROR(CheckOptimizationStatus(opt.status, "status"));
    RETURN_IF_ERROR(CheckNewTasks(tasks));
    int64_t total = 0;
    for (const auto& t : tasks) total += t.validation ? 0 : 1;
    const std::string request = DumpJson(opt.request);
    const std::string summary = DumpJson(opt.summary);
    return db_.InTransaction([&](Conn& c) -> Status {
      Status inserted = c.Execute("INSERT INTO optimizations (" + std::string(kOptColumns) +
                                      ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                  opt.id, opt.name, opt.project, opt.owner_id, opt.job_type, opt.status, request,
                                  summary, opt.source_id, ToMicros(opt.created_at), ToMicros(opt.started_at),
                                  ToMicros(opt.ended_at), ToMicros(opt.updated_at), total);
      if (inserted.IsAlreadyExists()) return Status::AlreadyExists("optimization " + opt.id + " already exists");
      RETURN_IF_ERROR(inserted);
      for (size_t begin = 0; begin < tasks.size(); begin += kTaskChunk) {
        const size_t end = std::min(tasks.size(), begin + kTaskChunk);
        // A chunk in a savepoint: when it repeats a key, it is undone and inserted row by row
        // to name the task.
        RETURN_IF_ERROR(c.Exec("SAVEPOINT task_chunk"));
        Status chunk = InsertTaskChunk(c, opt.id, tasks, begin, end);
        if (chunk.ok()) {
          RETURN_IF_ERROR(c.Exec("RELEASE SAVEPOINT task_chunk"));
          continue;
        }
        if (!chunk.IsAlreadyExists()) return chunk;
        RETURN_IF_ERROR(c.Exec("ROLLBACK TO SAVEPOINT task_chunk; RELEASE SAVEPOINT task_chunk"));
        for (size_t i = begin; i < end; ++i) {
          const OptimizationTaskRecord& t = tasks[i];
          Status s = InsertTask(c, opt.id, t.index, t, /*skip_existing_key=*/false);
          if (s.IsAlreadyExists()) {
            return Status::AlreadyExists("optimization " + opt.id + ": task " + std::to_string(t.index) +
                                             " repeats an index, a params_key or a job id: " + s.message(),
                                         {{"index", t.index}, {"params_key", t.params_key}});
          }
          RETURN_IF_ERROR(s);
        }
      }
      return Status::Ok();
    });
  }

  Result<int64_t> AddTasks(const std::string& opt_id, const std::vector<OptimizationTaskRecord>& tasks) override {
    RETURN_IF_ERROR(CheckNewTasks(tasks));
    int64_t added = 0;
    RETURN_IF_ERROR(db_.InTransaction([&](Conn& c) -> Status {
      added = 0;
      RETURN_IF_ERROR(RequireOpt(c, opt_id));
      ASSIGN_OR_RETURN(int64_t next, c.QueryInt64("SELECT COALESCE(MAX(idx) + 1, 0) FROM optimization_tasks "
                                                  "WHERE optimization_id = ?",
                                                  opt_id));
      int64_t counted = 0;
      for (const auto& t : tasks) {
        Status s = InsertTask(c, opt_id, next, t, /*skip_existing_key=*/true);
        if (s.IsAlreadyExists()) {
          return Status::AlreadyExists("optimization " + opt_id + ": a new task repeats a job id: " + s.message());
        }
        RETURN_IF_ERROR(s);
        if (c.Changes() == 0) continue;  // params_key already stored
        ++next;
        ++added;
        if (!t.validation) ++counted;
      }
      return c.Execute("UPDATE optimizations SET total_tasks = total_tasks + ? WHERE id = ?", counted, opt_id);
    }));
    return added;
  }

  Result<OptimizationRecord> Get(const std::string& id) override {
    return db_.WithReader([&](Conn& c) -> Result<OptimizationRecord> {
      std::optional<OptimizationRecord> out;
      RETURN_IF_ERROR(c.Query(
          "SELECT " + std::string(kOptColumns) + " FROM optimizations WHERE id = ?",
          [&](Stmt& s) -> Status {
            ASSIGN_OR_RETURN(out, RowToOpt(s));
            return Status::Ok();
          },
          id));
      if (!out) return Status::NotFound("optimization " + id + " does not exist");
      return std::move(*out);
    });
  }

  Result<std::vector<OptimizationRecord>> List(const OptimizationQuery& query) override {
    RETURN_IF_ERROR(CheckOptimizationQuery(query));
    Where w = OptWhere(query);
    w.values.emplace_back(static_cast<int64_t>(query.limit));
    w.values.emplace_back(query.offset);
    const std::string sql = "SELECT " + std::string(kOptColumns) + " FROM optimizations" + w.sql +
                            " ORDER BY created_at_us DESC, id DESC LIMIT ? OFFSET ?";
    return db_.WithReader([&](Conn& c) -> Result<std::vector<OptimizationRecord>> {
      ASSIGN_OR_RETURN(Stmt stmt, c.Prepare(sql));
      RETURN_IF_ERROR(BindValues(stmt, w.values));
      return Collect<OptimizationRecord>(stmt, [](const Stmt& s) { return RowToOpt(s); });
    });
  }

  Result<int64_t> Count(const OptimizationQuery& query) override {
    RETURN_IF_ERROR(CheckOptimizationQuery(query));
    Where w = OptWhere(query);
    return db_.WithReader(
        [&](Conn& c) -> Result<int64_t> { return CountWhere(c, "SELECT COUNT(*) FROM optimizations" + w.sql, w); });
  }

  Result<std::vector<std::string>> ListOpenValidations() override {
    // Startup only: one scan of the optimizations table (not of their tasks).
    const std::string sql = "SELECT id FROM optimizations WHERE status NOT IN ('queued', 'running') AND " +
                            std::string(dialect_.validation_status) +
                            " IN ('pending', 'running') ORDER BY created_at_us ASC, id ASC";
    return db_.WithReader([&](Conn& c) -> Result<std::vector<std::string>> {
      ASSIGN_OR_RETURN(Stmt stmt, c.Prepare(sql));
      return Collect<std::string>(stmt, [](const Stmt& s) -> Result<std::string> { return s.ColumnText(0); });
    });
  }

  Status UpdateStatus(const std::string& id, const std::string& expected, const std::string& next,
                      const OptimizationStatusTimes& times) override {
    RETURN_IF_ERROR(CheckOptimizationStatus(expected, "expected"));
    RETURN_IF_ERROR(CheckOptimizationStatus(next, "status"));
    return db_.WithWriter([&](Conn& c) -> Status {
      RETURN_IF_ERROR(c.Execute(
          "UPDATE optimizations SET status = ?, updated_at_us = ?,"
          " started_at_us = COALESCE(?, started_at_us),"
          " ended_at_us = COALESCE(?, CASE WHEN ? THEN NULL ELSE ended_at_us END)"
          " WHERE id = ? AND status = ?",
          next, ToMicros(times.updated_at), ToMicros(times.started_at), ToMicros(times.ended_at),
          times.clear_ended_at, id, expected));
      if (c.Changes() == 1) return Status::Ok();
      std::optional<std::string> actual;
      RETURN_IF_ERROR(c.Query(
          "SELECT status FROM optimizations WHERE id = ?", [&](Stmt& s) { actual = s.ColumnText(0); }, id));
      if (!actual) return Status::NotFound("optimization " + id + " does not exist");
      return Status::FailedPrecondition("optimization " + id + " is " + *actual + ", not " + expected,
                                        {{"status", *actual}});
    });
  }

  Status UpdateSummary(const std::string& id, const Json& summary, TimePoint updated_at) override {
    const std::string text = DumpJson(summary);
    return db_.WithWriter([&](Conn& c) -> Status {
      RETURN_IF_ERROR(c.Execute("UPDATE optimizations SET summary = ?, updated_at_us = ? WHERE id = ?", text,
                                ToMicros(updated_at), id));
      if (c.Changes() == 0) return Status::NotFound("optimization " + id + " does not exist");
      return Status::Ok();
    });
  }

  Result<std::vector<OptimizationTaskRecord>> ListTasks(const std::string& opt_id,
                                                        const OptimizationTaskQuery& query) override {
    RETURN_IF_ERROR(CheckOptimizationTaskQuery(query));
    auto [sql, values] = TaskListSql(dialect_, opt_id, query);
    return db_.WithReader([&](Conn& c) -> Result<std::vector<OptimizationTaskRecord>> {
      RETURN_IF_ERROR(RequireOpt(c, opt_id));
      ASSIGN_OR_RETURN(Stmt stmt, c.Prepare(sql));
      RETURN_IF_ERROR(BindValues(stmt, values));
      return Collect<OptimizationTaskRecord>(stmt, [](const Stmt& s) { return RowToTask(s); });
    });
  }

  Result<int64_t> CountTasks(const std::string& opt_id, const OptimizationTaskQuery& query) override {
    if (query.status) RETURN_IF_ERROR(CheckOptimizationTaskStatus(*query.status, "status"));
    Where w = TaskWhere(opt_id, query);
    return db_.WithReader([&](Conn& c) -> Result<int64_t> {
      if (query.validation == false && !query.status) {
        // Every search task: the optimization row keeps their number (total_tasks).
        std::optional<int64_t> total;
        RETURN_IF_ERROR(c.Query(
            "SELECT total_tasks FROM optimizations WHERE id = ?", [&](Stmt& s) { total = s.ColumnInt64(0); },
            opt_id));
        if (!total) return Status::NotFound("optimization " + opt_id + " does not exist");
        return *total;
      }
      RETURN_IF_ERROR(RequireOpt(c, opt_id));
      return CountWhere(c, "SELECT COUNT(*) FROM optimization_tasks" + w.sql, w);
    });
  }

  Result<OptimizationTaskRecord> GetTask(const std::string& opt_id, int64_t index) override {
    return db_.WithReader([&](Conn& c) -> Result<OptimizationTaskRecord> {
      std::optional<OptimizationTaskRecord> out;
      RETURN_IF_ERROR(c.Query(
          "SELECT " + std::string(kTaskColumns) + " FROM optimization_tasks WHERE optimization_id = ? AND idx = ?",
          [&](Stmt& s) -> Status {
            ASSIGN_OR_RETURN(out, RowToTask(s));
            return Status::Ok();
          },
          opt_id, index));
      if (!out) {
        RETURN_IF_ERROR(RequireOpt(c, opt_id));
        return Status::NotFound("optimization " + opt_id + " has no task " + std::to_string(index));
      }
      return std::move(*out);
    });
  }

  Result<std::vector<OptimizationTaskRecord>> TasksToRun(const std::string& opt_id, int limit) override {
    RETURN_IF_ERROR(CheckOptimizationPaging(limit, 0));
    return db_.WithReader([&](Conn& c) -> Result<std::vector<OptimizationTaskRecord>> {
      RETURN_IF_ERROR(RequireOpt(c, opt_id));
      std::vector<OptimizationTaskRecord> out;
      RETURN_IF_ERROR(c.Query(
          "SELECT " + std::string(kTaskColumns) +
              " FROM optimization_tasks WHERE optimization_id = ? AND status = 'pending' ORDER BY idx LIMIT ?",
          [&](Stmt& s) -> Status {
            ASSIGN_OR_RETURN(OptimizationTaskRecord t, RowToTask(s));
            out.push_back(std::move(t));
            return Status::Ok();
          },
          opt_id, limit));
      return out;
    });
  }

  Status MarkTaskQueued(const std::string& opt_id, int64_t index, const std::string& job_id) override {
    if (job_id.empty()) return Status::InvalidArgument("job_id: empty", {{"field", "job_id"}});
    return db_.WithWriter([&](Conn& c) { return MarkTaskQueuedOn(c, opt_id, index, job_id); });
  }

  Status MarkTaskStatus(const std::string& opt_id, int64_t index, const std::string& expected,
                        const std::string& next, const OptimizationTaskUpdate& update) override {
    RETURN_IF_ERROR(CheckOptimizationTaskStatus(expected, "expected"));
    RETURN_IF_ERROR(CheckOptimizationTaskStatus(next, "status"));
    return db_.WithWriter([&](Conn& c) { return MarkTaskStatusOn(c, opt_id, index, expected, next, update); });
  }

  Result<std::vector<Status>> ApplyTaskWrites(const std::string& opt_id,
                                              const std::vector<OptimizationTaskWrite>& writes) override {
    std::vector<Status> out;
    out.reserve(writes.size());
    if (writes.empty()) return out;
    // One transaction. Each write is one UPDATE: a refused one (a stale CAS changes no row; a
    // job id already recorded is a constraint failure, undone for that statement alone) is
    // that write's error and the rest still commit. Any other failure (I/O, ...) rolls the
    // whole batch back and is returned.
    const bool savepoint = dialect_.savepoint_per_write;
    RETURN_IF_ERROR(db_.InTransaction([&](Conn& c) -> Status {
      out.clear();
      for (const auto& w : writes) {
        if (savepoint) RETURN_IF_ERROR(c.Exec("SAVEPOINT task_write"));
        Status s = w.kind == OptimizationTaskWrite::Kind::kQueued
                       ? MarkTaskQueuedOn(c, opt_id, w.index, w.job_id)
                       : MarkTaskStatusOn(c, opt_id, w.index, w.expected, w.next, w.update);
        const StatusCode code = s.code();
        if (!s.ok() && code != StatusCode::kFailedPrecondition && code != StatusCode::kNotFound &&
            code != StatusCode::kAlreadyExists && code != StatusCode::kInvalidArgument) {
          return s;
        }
        if (savepoint) {
          RETURN_IF_ERROR(c.Exec(s.ok() ? "RELEASE SAVEPOINT task_write"
                                        : "ROLLBACK TO SAVEPOINT task_write; RELEASE SAVEPOINT task_write"));
        }
        out.push_back(std::move(s));
      }
      return Status::Ok();
    }));
    return out;
  }

  Result<int64_t> RequeueFailed(const std::string& opt_id) override {
    return db_.WithWriter([&](Conn& c) -> Result<int64_t> {
      RETURN_IF_ERROR(RequireOpt(c, opt_id));
      RETURN_IF_ERROR(c.Execute(
          "UPDATE optimization_tasks SET status = 'pending', attempt = attempt + 1, job_id = NULL, score = NULL,"
          " metrics = '{}', ranked = 0, reason = '', started_at_us = NULL, ended_at_us = NULL"
          " WHERE optimization_id = ? AND status = 'failed'",
          opt_id));
      return static_cast<int64_t>(c.Changes());
    });
  }

  Result<std::vector<int64_t>> CancelPending(const std::string& opt_id, const std::string& reason,
                                             TimePoint ended_at) override {
    return db_.WithWriter([&](Conn& c) -> Result<std::vector<int64_t>> {
      RETURN_IF_ERROR(RequireOpt(c, opt_id));
      std::vector<int64_t> moved;
      RETURN_IF_ERROR(c.Query(
          "SELECT idx FROM optimization_tasks WHERE optimization_id = ? AND status = 'pending' ORDER BY idx",
          [&](Stmt& s) { moved.push_back(s.ColumnInt64(0)); }, opt_id));
      RETURN_IF_ERROR(c.Execute(
          "UPDATE optimization_tasks SET status = 'canceled', reason = ?, ended_at_us = ?"
          " WHERE optimization_id = ? AND status = 'pending'",
          reason, ToMicros(std::optional<TimePoint>(ended_at)), opt_id));
      return moved;
    });
  }

  Result<OptimizationTaskRef> TaskByJobId(const std::string& job_id) override {
    return db_.WithReader([&](Conn& c) -> Result<OptimizationTaskRef> {
      std::optional<OptimizationTaskRef> out;
      RETURN_IF_ERROR(c.Query(
          "SELECT optimization_id, idx FROM optimization_tasks WHERE job_id = ?",
          [&](Stmt& s) { out = OptimizationTaskRef{s.ColumnText(0), s.ColumnInt64(1)}; }, job_id));
      if (!out) return Status::NotFound("no optimization task ran job " + job_id);
      return std::move(*out);
    });
  }

  // The query plan of the statement ListTasks runs for `query`, one line per row (tests check
  // the index and score orders are index walks, not sorts).
  Result<std::vector<std::string>> ExplainListTasks(const std::string& opt_id, const OptimizationTaskQuery& query) {
    RETURN_IF_ERROR(CheckOptimizationTaskQuery(query));
    auto [sql, values] = TaskListSql(dialect_, opt_id, query);
    const int col = dialect_.explain_column;
    return db_.WithReader([&](Conn& c) -> Result<std::vector<std::string>> {
      ASSIGN_OR_RETURN(Stmt stmt, c.Prepare(std::string(dialect_.explain) + sql));
      RETURN_IF_ERROR(BindValues(stmt, values));
      return Collect<std::string>(stmt, [col](const Stmt& s) -> Result<std::string> { return s.ColumnText(col); });
    });
  }

 protected:
  SqlOptimizationStore(Db& db, const OptimizationSqlDialect& dialect) : db_(db), dialect_(dialect) {}

 private:
  // NotFound when the optimization does not exist.
  static Status RequireOpt(Conn& c, const std::string& id) {
    ASSIGN_OR_RETURN(int64_t n, c.QueryInt64("SELECT COUNT(*) FROM optimizations WHERE id = ?", id));
    if (n == 0) return Status::NotFound("optimization " + id + " does not exist");
    return Status::Ok();
  }

  static Result<int64_t> CountWhere(Conn& c, const std::string& sql, const Where& w) {
    ASSIGN_OR_RETURN(Stmt stmt, c.Prepare(sql));
    RETURN_IF_ERROR(BindValues(stmt, w.values));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Status::Internal("COUNT returned no row");
    return stmt.ColumnInt64(0);
  }

  static Status InsertTask(Conn& c, const std::string& opt_id, int64_t index, const OptimizationTaskRecord& t,
                           bool skip_existing_key) {
    static const std::string insert_sql =
        "INSERT INTO optimization_tasks (" + std::string(kTaskColumns) + ") VALUES " + std::string(kTaskRow);
    static const std::string skip_sql =
        insert_sql + " ON CONFLICT (optimization_id, validation, params_key) DO NOTHING";
    ASSIGN_OR_RETURN(Stmt stmt, c.Prepare(skip_existing_key ? skip_sql : insert_sql));
    int p = 0;
    RETURN_IF_ERROR(BindTask(stmt, p, opt_id, index, t));
    return stmt.Run();
  }

  // Tasks [begin, end) of `tasks` in one multi-row INSERT; AlreadyExists when any row repeats a key.
  static Status InsertTaskChunk(Conn& c, const std::string& opt_id, const std::vector<OptimizationTaskRecord>& tasks,
                                size_t begin, size_t end) {
    std::string sql = "INSERT INTO optimization_tasks (" + std::string(kTaskColumns) + ") VALUES ";
    for (size_t i = begin; i < end; ++i) (sql += i == begin ? "" : ",") += kTaskRow;
    ASSIGN_OR_RETURN(Stmt stmt, c.Prepare(sql));
    int p = 0;
    for (size_t i = begin; i < end; ++i) RETURN_IF_ERROR(BindTask(stmt, p, opt_id, tasks[i].index, tasks[i]));
    return stmt.Run();
  }

  // After a CAS on a task changed nothing: NotFound or FailedPrecondition with the stored state.
  static Status TaskCasFailure(Conn& c, const std::string& opt_id, int64_t index, const std::string& expected) {
    std::optional<std::string> actual;
    RETURN_IF_ERROR(c.Query(
        "SELECT status FROM optimization_tasks WHERE optimization_id = ? AND idx = ?",
        [&](Stmt& s) { actual = s.ColumnText(0); }, opt_id, index));
    if (!actual) return Status::NotFound("optimization " + opt_id + " has no task " + std::to_string(index));
    return StaleTask(opt_id, index, *actual, expected);
  }

  // MarkTaskQueued / MarkTaskStatus on a writer connection (one write each, or a batch's).
  static Status MarkTaskQueuedOn(Conn& c, const std::string& opt_id, int64_t index, const std::string& job_id) {
    if (job_id.empty()) return Status::InvalidArgument("job_id: empty", {{"field", "job_id"}});
    Status s = c.Execute(
        "UPDATE optimization_tasks SET status = 'queued', job_id = ?"
        " WHERE optimization_id = ? AND idx = ? AND status = 'pending'",
        job_id, opt_id, index);
    if (s.IsAlreadyExists()) return Status::AlreadyExists("job " + job_id + " is already recorded on a task");
    RETURN_IF_ERROR(s);
    if (c.Changes() == 1) return Status::Ok();
    return TaskCasFailure(c, opt_id, index, "pending");
  }

  static Status MarkTaskStatusOn(Conn& c, const std::string& opt_id, int64_t index, const std::string& expected,
                                 const std::string& next, const OptimizationTaskUpdate& update) {
    RETURN_IF_ERROR(CheckOptimizationTaskStatus(expected, "expected"));
    RETURN_IF_ERROR(CheckOptimizationTaskStatus(next, "status"));
    std::optional<std::string> metrics;
    if (update.metrics) metrics = DumpJson(*update.metrics);
    std::optional<int64_t> ranked;
    if (update.ranked) ranked = *update.ranked ? 1 : 0;
    // A score that is given but not finite is stored as NULL (no score), as Create does.
    const bool set_score = update.score.has_value();
    RETURN_IF_ERROR(c.Execute(
        "UPDATE optimization_tasks SET status = ?,"
        " score = CASE WHEN ? THEN ? ELSE score END,"
        " metrics = COALESCE(?, metrics), ranked = COALESCE(?, ranked), reason = COALESCE(?, reason),"
        " started_at_us = COALESCE(?, started_at_us), ended_at_us = COALESCE(?, ended_at_us)"
        " WHERE optimization_id = ? AND idx = ? AND status = ?",
        next, set_score, Finite(update.score), metrics, ranked, update.reason, ToMicros(update.started_at),
        ToMicros(update.ended_at), opt_id, index, expected));
    if (c.Changes() == 1) return Status::Ok();
    return TaskCasFailure(c, opt_id, index, expected);
  }

  Db& db_;
  const OptimizationSqlDialect& dialect_;
};

}  // namespace alphalab::optimization_sql

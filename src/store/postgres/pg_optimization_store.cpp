#include "store/postgres/pg_optimization_store.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <variant>

namespace alphalab {
namespace {

using Value = std::variant<std::string, int64_t>;

constexpr std::string_view kOptColumns =
    "id, name, project, owner_id, job_type, status, request, summary, source_id, created_at_us,"
    " started_at_us, ended_at_us, updated_at_us, total_tasks";

constexpr std::string_view kTaskColumns =
    "optimization_id, idx, params, params_key, status, job_id, score, metrics, ranked, reason, attempt,"
    " started_at_us, ended_at_us, validation";

int64_t ToMicros(TimePoint tp) {
  return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

std::optional<int64_t> ToMicros(const std::optional<TimePoint>& tp) {
  if (!tp) return std::nullopt;
  return ToMicros(*tp);
}

TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

std::optional<TimePoint> FromMicros(const std::optional<int64_t>& us) {
  if (!us) return std::nullopt;
  return FromMicros(*us);
}

Result<Json> ParseColumn(const PgStatement& stmt, int col, std::string_view what, const std::string& owner) {
  Result<Json> parsed = ParseJson(stmt.ColumnText(col));
  if (!parsed.ok()) {
    return Status::Internal(owner + ": stored " + std::string(what) + " is not valid JSON: " +
                            parsed.status().message());
  }
  return parsed;
}

Result<OptimizationRecord> RowToOpt(const PgStatement& s) {
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

Result<OptimizationTaskRecord> RowToTask(const PgStatement& s) {
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

// NaN and infinities have no SQL value; a non-finite score is stored as NULL (no score).
std::optional<double> Finite(const std::optional<double>& v) {
  if (v && !(*v == *v && *v - *v == 0)) return std::nullopt;
  return v;
}

Status BindValues(PgStatement& stmt, const std::vector<Value>& values) {
  int index = 1;
  for (const auto& v : values) {
    RETURN_IF_ERROR(std::visit([&](const auto& x) { return stmt.Bind(index, x); }, v));
    ++index;
  }
  return Status::Ok();
}

Status InsertTask(PgConnection& c, const std::string& opt_id, int64_t index, const OptimizationTaskRecord& t,
                  bool skip_existing_key) {
  static const std::string insert_sql = "INSERT INTO optimization_tasks (" + std::string(kTaskColumns) +
                                        ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  static const std::string skip_sql =
      insert_sql + " ON CONFLICT (optimization_id, validation, params_key) DO NOTHING";
  return c.Execute(skip_existing_key ? skip_sql : insert_sql, opt_id, index, DumpJson(t.params), t.params_key,
                   t.status, t.job_id, Finite(t.score), DumpJson(t.metrics), t.ranked, t.reason, t.attempt,
                   ToMicros(t.started_at), ToMicros(t.ended_at), t.validation);
}

// Tasks [begin, end) of `tasks` in one multi-row INSERT (a round trip per row would make a
// 100,000-task sweep take minutes); AlreadyExists when any row repeats a key.
Status InsertTaskChunk(PgConnection& c, const std::string& opt_id, const std::vector<OptimizationTaskRecord>& tasks,
                       size_t begin, size_t end) {
  std::string sql = "INSERT INTO optimization_tasks (" + std::string(kTaskColumns) + ") VALUES ";
  for (size_t i = begin; i < end; ++i) sql += i == begin ? "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(sql));
  int p = 0;
  for (size_t i = begin; i < end; ++i) {
    const OptimizationTaskRecord& t = tasks[i];
    RETURN_IF_ERROR(stmt.Bind(++p, opt_id));
    RETURN_IF_ERROR(stmt.Bind(++p, t.index));
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
    RETURN_IF_ERROR(stmt.Bind(++p, t.validation));
  }
  return stmt.Run();
}

constexpr size_t kTaskChunk = 1000;

// NotFound when the optimization does not exist.
Status RequireOpt(PgConnection& c, const std::string& id) {
  ASSIGN_OR_RETURN(int64_t n, c.QueryInt64("SELECT COUNT(*) FROM optimizations WHERE id = ?", id));
  if (n == 0) return Status::NotFound("optimization " + id + " does not exist");
  return Status::Ok();
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

Where OptWhere(const OptimizationQuery& q) {
  Where w;
  w.AddIn("status", q.statuses);
  w.AddIn("project", q.projects);
  if (q.owner_id) w.Add("owner_id = ?", *q.owner_id);
  if (q.source_id) w.Add("source_id = ?", *q.source_id);
  return w;
}

Where TaskWhere(const std::string& opt_id, const OptimizationTaskQuery& q) {
  Where w;
  w.Add("optimization_id = ?", opt_id);
  if (q.status) w.Add("status = ?", *q.status);
  if (q.validation) w.Add("validation = ?", static_cast<int64_t>(*q.validation ? 1 : 0));
  return w;
}

// The ListTasks statement and its bindings. Index and score orders match the indexes
// (optimization_tasks primary key, optimization_tasks_score_asc/_desc); a metric order sorts
// the optimization's rows by the extracted value.
std::pair<std::string, std::vector<Value>> TaskListSql(const std::string& opt_id, const OptimizationTaskQuery& q) {
  Where w = TaskWhere(opt_id, q);
  const std::string dir = q.sort.descending ? " DESC" : " ASC";
  std::string sql;
  std::vector<Value> values;
  if (q.sort.field == "index") {
    sql = "SELECT " + std::string(kTaskColumns) + " FROM optimization_tasks" + w.sql + " ORDER BY idx" + dir;
    values = w.values;
  } else if (q.sort.field == "score") {
    sql = "SELECT " + std::string(kTaskColumns) + " FROM optimization_tasks" + w.sql +
          " ORDER BY score IS NULL ASC, score" + dir + ", idx ASC";
    values = w.values;
  } else {
    // The metric's key as one JSON object key, so dots and spaces stay part of it ("Sharpe Ratio").
    const std::string path = q.sort.field;
    sql = "SELECT " + std::string(kTaskColumns) + " FROM (SELECT *, CASE WHEN json_typeof(metrics::json -> ?) ="
          " 'number' THEN (metrics::json ->> ?)::double precision END AS sort_value FROM optimization_tasks" +
          w.sql + ") AS t ORDER BY sort_value IS NULL ASC, sort_value" + dir + ", idx ASC";
    values = {path, path};
    values.insert(values.end(), w.values.begin(), w.values.end());
  }
  sql += " LIMIT ? OFFSET ?";
  values.emplace_back(static_cast<int64_t>(q.limit));
  values.emplace_back(q.offset);
  return {sql, values};
}

Status StaleTask(const std::string& opt_id, int64_t index, const std::string& actual, const std::string& expected) {
  return Status::FailedPrecondition(
      "task " + std::to_string(index) + " of optimization " + opt_id + " is " + actual + ", not " + expected,
      {{"status", actual}});
}

// After a CAS on a task changed nothing: NotFound or FailedPrecondition with the stored state.
Status TaskCasFailure(PgConnection& c, const std::string& opt_id, int64_t index, const std::string& expected) {
  std::optional<std::string> actual;
  RETURN_IF_ERROR(c.Query(
      "SELECT status FROM optimization_tasks WHERE optimization_id = ? AND idx = ?",
      [&](PgStatement& s) { actual = s.ColumnText(0); }, opt_id, index));
  if (!actual) return Status::NotFound("optimization " + opt_id + " has no task " + std::to_string(index));
  return StaleTask(opt_id, index, *actual, expected);
}

}  // namespace

const std::vector<std::string>& PostgresOptimizationStore::Migrations() {
  static const std::vector<std::string> migrations = {
      // 1: optimizations and their tasks.
      "CREATE TABLE optimizations ("
      "  id TEXT COLLATE \"C\" PRIMARY KEY,"
      "  name TEXT COLLATE \"C\" NOT NULL,"
      "  project TEXT COLLATE \"C\" NOT NULL,"
      "  owner_id TEXT COLLATE \"C\" NOT NULL,"
      "  job_type TEXT COLLATE \"C\" NOT NULL,"
      "  status TEXT COLLATE \"C\" NOT NULL,"
      "  request TEXT NOT NULL,"
      "  summary TEXT NOT NULL,"
      "  source_id TEXT,"
      "  created_at_us BIGINT NOT NULL,"
      "  started_at_us BIGINT,"
      "  ended_at_us BIGINT,"
      "  updated_at_us BIGINT NOT NULL,"
      "  total_tasks BIGINT NOT NULL DEFAULT 0);"
      "CREATE INDEX optimizations_newest ON optimizations (created_at_us DESC, id DESC);"
      "CREATE INDEX optimizations_status ON optimizations (status, created_at_us DESC, id DESC);"
      "CREATE INDEX optimizations_project ON optimizations (project, created_at_us DESC, id DESC);"
      "CREATE INDEX optimizations_owner ON optimizations (owner_id, created_at_us DESC, id DESC);"
      "CREATE INDEX optimizations_source ON optimizations (source_id, created_at_us DESC, id DESC)"
      "  WHERE source_id IS NOT NULL;"
      "CREATE TABLE optimization_tasks ("
      "  optimization_id TEXT COLLATE \"C\" NOT NULL REFERENCES optimizations (id) ON DELETE CASCADE,"
      "  idx BIGINT NOT NULL,"
      "  params TEXT NOT NULL,"
      "  params_key TEXT COLLATE \"C\" NOT NULL,"
      "  status TEXT COLLATE \"C\" NOT NULL,"
      "  job_id TEXT COLLATE \"C\","
      "  score DOUBLE PRECISION,"
      "  metrics TEXT NOT NULL,"
      "  ranked BIGINT NOT NULL,"
      "  reason TEXT NOT NULL,"
      "  attempt BIGINT NOT NULL,"
      "  started_at_us BIGINT,"
      "  ended_at_us BIGINT,"
      "  validation BIGINT NOT NULL,"
      "  PRIMARY KEY (optimization_id, idx));"
      "CREATE UNIQUE INDEX optimization_tasks_params_key"
      "  ON optimization_tasks (optimization_id, validation, params_key);"
      "CREATE UNIQUE INDEX optimization_tasks_job ON optimization_tasks (job_id) WHERE job_id IS NOT NULL;"
      "CREATE INDEX optimization_tasks_status ON optimization_tasks (optimization_id, status, idx);"
      "CREATE INDEX optimization_tasks_score_asc"
      "  ON optimization_tasks (optimization_id, (score IS NULL), score ASC, idx ASC);"
      "CREATE INDEX optimization_tasks_score_desc"
      "  ON optimization_tasks (optimization_id, (score IS NULL), score DESC, idx ASC);",
  };
  return migrations;
}

Result<std::unique_ptr<PostgresOptimizationStore>> PostgresOptimizationStore::Open(PgDb& db) {
  RETURN_IF_ERROR(db.Migrate("optimizations", Migrations()));
  return std::unique_ptr<PostgresOptimizationStore>(new PostgresOptimizationStore(db));
}

Status PostgresOptimizationStore::Create(const OptimizationRecord& opt,
                                       const std::vector<OptimizationTaskRecord>& tasks) {
  RETURN_IF_ERROR(CheckOptimizationStatus(opt.status, "status"));
  RETURN_IF_ERROR(CheckNewTasks(tasks));
  int64_t total = 0;
  for (const auto& t : tasks) total += t.validation ? 0 : 1;
  const std::string request = DumpJson(opt.request);
  const std::string summary = DumpJson(opt.summary);
  return db_.InTransaction([&](PgConnection& c) -> Status {
    Status inserted = c.Execute("INSERT INTO optimizations (" + std::string(kOptColumns) +
                                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                opt.id, opt.name, opt.project, opt.owner_id, opt.job_type, opt.status, request,
                                summary, opt.source_id, ToMicros(opt.created_at), ToMicros(opt.started_at),
                                ToMicros(opt.ended_at), ToMicros(opt.updated_at), total);
    if (inserted.IsAlreadyExists()) return Status::AlreadyExists("optimization " + opt.id + " already exists");
    RETURN_IF_ERROR(inserted);
    for (size_t begin = 0; begin < tasks.size(); begin += kTaskChunk) {
      const size_t end = std::min(tasks.size(), begin + kTaskChunk);
      // A chunk in a savepoint: when it repeats a key, it is undone and inserted row by row to
      // name the task (as SQLite's store does).
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

Result<int64_t> PostgresOptimizationStore::AddTasks(const std::string& opt_id,
                                                  const std::vector<OptimizationTaskRecord>& tasks) {
  RETURN_IF_ERROR(CheckNewTasks(tasks));
  int64_t added = 0;
  RETURN_IF_ERROR(db_.InTransaction([&](PgConnection& c) -> Status {
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

Result<OptimizationRecord> PostgresOptimizationStore::Get(const std::string& id) {
  return db_.WithReader([&](PgConnection& c) -> Result<OptimizationRecord> {
    std::optional<OptimizationRecord> out;
    RETURN_IF_ERROR(c.Query(
        "SELECT " + std::string(kOptColumns) + " FROM optimizations WHERE id = ?",
        [&](PgStatement& s) -> Status {
          ASSIGN_OR_RETURN(out, RowToOpt(s));
          return Status::Ok();
        },
        id));
    if (!out) return Status::NotFound("optimization " + id + " does not exist");
    return std::move(*out);
  });
}

Result<std::vector<OptimizationRecord>> PostgresOptimizationStore::List(const OptimizationQuery& query) {
  RETURN_IF_ERROR(CheckOptimizationQuery(query));
  Where w = OptWhere(query);
  w.values.emplace_back(static_cast<int64_t>(query.limit));
  w.values.emplace_back(query.offset);
  const std::string sql = "SELECT " + std::string(kOptColumns) + " FROM optimizations" + w.sql +
                          " ORDER BY created_at_us DESC, id DESC LIMIT ? OFFSET ?";
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<OptimizationRecord>> {
    ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(sql));
    RETURN_IF_ERROR(BindValues(stmt, w.values));
    std::vector<OptimizationRecord> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return out;
      ASSIGN_OR_RETURN(OptimizationRecord o, RowToOpt(stmt));
      out.push_back(std::move(o));
    }
  });
}

Result<int64_t> PostgresOptimizationStore::Count(const OptimizationQuery& query) {
  RETURN_IF_ERROR(CheckOptimizationQuery(query));
  Where w = OptWhere(query);
  const std::string sql = "SELECT COUNT(*) FROM optimizations" + w.sql;
  return db_.WithReader([&](PgConnection& c) -> Result<int64_t> {
    ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(sql));
    RETURN_IF_ERROR(BindValues(stmt, w.values));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Status::Internal("COUNT returned no row");
    return stmt.ColumnInt64(0);
  });
}

Result<std::vector<std::string>> PostgresOptimizationStore::ListOpenValidations() {
  // Startup only: one scan of the optimizations table (not of their tasks).
  static const char* kSql =
      "SELECT id FROM optimizations WHERE status NOT IN ('queued', 'running')"
      " AND (summary::json -> 'validation' ->> 'status')"
      " IN ('pending', 'running')"
      " ORDER BY created_at_us ASC, id ASC";
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<std::string>> {
    ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(kSql));
    std::vector<std::string> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return out;
      out.push_back(stmt.ColumnText(0));
    }
  });
}

Status PostgresOptimizationStore::UpdateStatus(const std::string& id, const std::string& expected,
                                             const std::string& next, const OptimizationStatusTimes& times) {
  RETURN_IF_ERROR(CheckOptimizationStatus(expected, "expected"));
  RETURN_IF_ERROR(CheckOptimizationStatus(next, "status"));
  return db_.WithWriter([&](PgConnection& c) -> Status {
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
        "SELECT status FROM optimizations WHERE id = ?", [&](PgStatement& s) { actual = s.ColumnText(0); },
        id));
    if (!actual) return Status::NotFound("optimization " + id + " does not exist");
    return Status::FailedPrecondition("optimization " + id + " is " + *actual + ", not " + expected,
                                      {{"status", *actual}});
  });
}

Status PostgresOptimizationStore::UpdateSummary(const std::string& id, const Json& summary, TimePoint updated_at) {
  const std::string text = DumpJson(summary);
  return db_.WithWriter([&](PgConnection& c) -> Status {
    RETURN_IF_ERROR(c.Execute("UPDATE optimizations SET summary = ?, updated_at_us = ? WHERE id = ?", text,
                              ToMicros(updated_at), id));
    if (c.Changes() == 0) return Status::NotFound("optimization " + id + " does not exist");
    return Status::Ok();
  });
}

Result<std::vector<OptimizationTaskRecord>> PostgresOptimizationStore::ListTasks(const std::string& opt_id,
                                                                               const OptimizationTaskQuery& query) {
  RETURN_IF_ERROR(CheckOptimizationTaskQuery(query));
  auto [sql, values] = TaskListSql(opt_id, query);
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<OptimizationTaskRecord>> {
    RETURN_IF_ERROR(RequireOpt(c, opt_id));
    ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(sql));
    RETURN_IF_ERROR(BindValues(stmt, values));
    std::vector<OptimizationTaskRecord> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return out;
      ASSIGN_OR_RETURN(OptimizationTaskRecord t, RowToTask(stmt));
      out.push_back(std::move(t));
    }
  });
}

Result<std::vector<std::string>> PostgresOptimizationStore::ExplainListTasks(const std::string& opt_id,
                                                                          const OptimizationTaskQuery& query) {
  RETURN_IF_ERROR(CheckOptimizationTaskQuery(query));
  auto [sql, values] = TaskListSql(opt_id, query);
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<std::string>> {
    ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare("EXPLAIN QUERY PLAN " + sql));
    RETURN_IF_ERROR(BindValues(stmt, values));
    std::vector<std::string> lines;
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return lines;
      lines.push_back(stmt.ColumnText(3));
    }
  });
}

Result<int64_t> PostgresOptimizationStore::CountTasks(const std::string& opt_id, const OptimizationTaskQuery& query) {
  if (query.status) RETURN_IF_ERROR(CheckOptimizationTaskStatus(*query.status, "status"));
  Where w = TaskWhere(opt_id, query);
  const std::string sql = "SELECT COUNT(*) FROM optimization_tasks" + w.sql;
  return db_.WithReader([&](PgConnection& c) -> Result<int64_t> {
    RETURN_IF_ERROR(RequireOpt(c, opt_id));
    ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(sql));
    RETURN_IF_ERROR(BindValues(stmt, w.values));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Status::Internal("COUNT returned no row");
    return stmt.ColumnInt64(0);
  });
}

Result<OptimizationTaskRecord> PostgresOptimizationStore::GetTask(const std::string& opt_id, int64_t index) {
  return db_.WithReader([&](PgConnection& c) -> Result<OptimizationTaskRecord> {
    std::optional<OptimizationTaskRecord> out;
    RETURN_IF_ERROR(c.Query(
        "SELECT " + std::string(kTaskColumns) + " FROM optimization_tasks WHERE optimization_id = ? AND idx = ?",
        [&](PgStatement& s) -> Status {
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

Result<std::vector<OptimizationTaskRecord>> PostgresOptimizationStore::TasksToRun(const std::string& opt_id,
                                                                                int limit) {
  RETURN_IF_ERROR(CheckOptimizationPaging(limit, 0));
  return db_.WithReader([&](PgConnection& c) -> Result<std::vector<OptimizationTaskRecord>> {
    RETURN_IF_ERROR(RequireOpt(c, opt_id));
    std::vector<OptimizationTaskRecord> out;
    RETURN_IF_ERROR(c.Query(
        "SELECT " + std::string(kTaskColumns) +
            " FROM optimization_tasks WHERE optimization_id = ? AND status = 'pending' ORDER BY idx LIMIT ?",
        [&](PgStatement& s) -> Status {
          ASSIGN_OR_RETURN(OptimizationTaskRecord t, RowToTask(s));
          out.push_back(std::move(t));
          return Status::Ok();
        },
        opt_id, limit));
    return out;
  });
}

namespace {

// MarkTaskQueued / MarkTaskStatus on a writer connection (one write each, or a batch's).
Status MarkTaskQueuedOn(PgConnection& c, const std::string& opt_id, int64_t index, const std::string& job_id) {
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

Status MarkTaskStatusOn(PgConnection& c, const std::string& opt_id, int64_t index, const std::string& expected,
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

}  // namespace

Status PostgresOptimizationStore::MarkTaskQueued(const std::string& opt_id, int64_t index, const std::string& job_id) {
  if (job_id.empty()) return Status::InvalidArgument("job_id: empty", {{"field", "job_id"}});
  return db_.WithWriter([&](PgConnection& c) { return MarkTaskQueuedOn(c, opt_id, index, job_id); });
}

Status PostgresOptimizationStore::MarkTaskStatus(const std::string& opt_id, int64_t index, const std::string& expected,
                                               const std::string& next, const OptimizationTaskUpdate& update) {
  RETURN_IF_ERROR(CheckOptimizationTaskStatus(expected, "expected"));
  RETURN_IF_ERROR(CheckOptimizationTaskStatus(next, "status"));
  return db_.WithWriter(
      [&](PgConnection& c) { return MarkTaskStatusOn(c, opt_id, index, expected, next, update); });
}

Result<std::vector<Status>> PostgresOptimizationStore::ApplyTaskWrites(const std::string& opt_id,
                                                                     const std::vector<OptimizationTaskWrite>& writes) {
  std::vector<Status> out;
  out.reserve(writes.size());
  if (writes.empty()) return out;
  // One transaction. Each write is one UPDATE: a refused one (a stale CAS changes no row; a
  // job id already recorded is a constraint failure, undone through its savepoint) is that write's error and the rest still commit. Any other failure (I/O, ...)
  // rolls the whole batch back and is returned.
  RETURN_IF_ERROR(db_.InTransaction([&](PgConnection& c) -> Status {
    out.clear();
    for (const auto& w : writes) {
      // A failed statement aborts a PostgreSQL transaction: each write in its own savepoint,
      // undone alone when refused (SQLite's statement rollback).
      RETURN_IF_ERROR(c.Exec("SAVEPOINT task_write"));
      Status s = w.kind == OptimizationTaskWrite::Kind::kQueued
                     ? MarkTaskQueuedOn(c, opt_id, w.index, w.job_id)
                     : MarkTaskStatusOn(c, opt_id, w.index, w.expected, w.next, w.update);
      const StatusCode code = s.code();
      if (!s.ok() && code != StatusCode::kFailedPrecondition && code != StatusCode::kNotFound &&
          code != StatusCode::kAlreadyExists && code != StatusCode::kInvalidArgument) {
        return s;
      }
      RETURN_IF_ERROR(c.Exec(s.ok() ? "RELEASE SAVEPOINT task_write"
                                    : "ROLLBACK TO SAVEPOINT task_write; RELEASE SAVEPOINT task_write"));
      out.push_back(std::move(s));
    }
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> PostgresOptimizationStore::RequeueFailed(const std::string& opt_id) {
  return db_.WithWriter([&](PgConnection& c) -> Result<int64_t> {
    RETURN_IF_ERROR(RequireOpt(c, opt_id));
    RETURN_IF_ERROR(c.Execute(
        "UPDATE optimization_tasks SET status = 'pending', attempt = attempt + 1, job_id = NULL, score = NULL,"
        " metrics = '{}', ranked = 0, reason = '', started_at_us = NULL, ended_at_us = NULL"
        " WHERE optimization_id = ? AND status = 'failed'",
        opt_id));
    return static_cast<int64_t>(c.Changes());
  });
}

Result<std::vector<int64_t>> PostgresOptimizationStore::CancelPending(const std::string& opt_id,
                                                                    const std::string& reason, TimePoint ended_at) {
  return db_.WithWriter([&](PgConnection& c) -> Result<std::vector<int64_t>> {
    RETURN_IF_ERROR(RequireOpt(c, opt_id));
    std::vector<int64_t> moved;
    RETURN_IF_ERROR(c.Query(
        "SELECT idx FROM optimization_tasks WHERE optimization_id = ? AND status = 'pending' ORDER BY idx",
        [&](PgStatement& s) { moved.push_back(s.ColumnInt64(0)); }, opt_id));
    RETURN_IF_ERROR(c.Execute(
        "UPDATE optimization_tasks SET status = 'canceled', reason = ?, ended_at_us = ?"
        " WHERE optimization_id = ? AND status = 'pending'",
        reason, ToMicros(std::optional<TimePoint>(ended_at)), opt_id));
    return moved;
  });
}

Result<OptimizationTaskRef> PostgresOptimizationStore::TaskByJobId(const std::string& job_id) {
  return db_.WithReader([&](PgConnection& c) -> Result<OptimizationTaskRef> {
    std::optional<OptimizationTaskRef> out;
    RETURN_IF_ERROR(c.Query(
        "SELECT optimization_id, idx FROM optimization_tasks WHERE job_id = ?",
        [&](PgStatement& s) { out = OptimizationTaskRef{s.ColumnText(0), s.ColumnInt64(1)}; }, job_id));
    if (!out) return Status::NotFound("no optimization task ran job " + job_id);
    return std::move(*out);
  });
}

}  // namespace alphalab

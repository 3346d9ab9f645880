// The SQL side of JobRecord shared by the SQL job stores (SQLite, PostgreSQL): the column
// list, row decoding and encoding, the JobQuery filter and order. Templates over the store's
// statement type (SqliteStatement, PgStatement: same Bind/Column* names); the few dialect
// differences are in JobSqlDialect. Internal to src/store.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "store/job_store.hpp"
#include "store/stored_job.hpp"

namespace alphalab::job_sql {

// Where the SQL dialects differ for the job queries.
struct JobSqlDialect {
  std::string find_function;  // position of a substring (> 0 when found): instr / strpos
  std::string int64_type;     // CAST target for microseconds
  std::string double_type;    // CAST target for a bound
  // An ASCII-only lower case of a column (AsciiLower): `ascii_lower_open` + column +
  // `ascii_lower_close`. SQLite's lower() folds ASCII only; PostgreSQL's folds Unicode by the
  // locale, so it translates A-Z instead.
  std::string ascii_lower_open;
  std::string ascii_lower_close;
};
inline const JobSqlDialect kSqliteJobDialect{"instr", "INTEGER", "REAL", "lower(", ")"};
inline const JobSqlDialect kPostgresJobDialect{"strpos", "BIGINT", "DOUBLE PRECISION", "translate(",
                                               ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"};


// CountJobsByProject: every owner's jobs, or one owner's (binds the owner_id).
inline constexpr std::string_view kCountByProjectSql =
    "SELECT project, COUNT(*) FROM jobs WHERE project <> '' GROUP BY project";
inline constexpr std::string_view kCountOwnByProjectSql =
    "SELECT project, COUNT(*) FROM jobs WHERE project <> '' AND owner_id = ? GROUP BY project";

// Column order shared by every SELECT and by RowToJob.
inline constexpr std::string_view kColumns =
    "job_id, job_type, status, created_at_us, started_at_us, ended_at_us, exit_code,"
    " error_message, cwd, command, args_preview, params, artifacts, artifacts_parse_error,"
    " log_path, meta_path, parent_id, source_job_id, owner_id, dry_run, executor_ref,"
    " timeout_sec, env, end_reason, max_inflight, claimed_by, project";

inline int64_t ToMicros(TimePoint tp) {
  return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

inline TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

inline std::optional<int64_t> ToMicros(const std::optional<TimePoint>& tp) {
  if (!tp) return std::nullopt;
  return ToMicros(*tp);
}

inline std::string StateText(JobState state) { return std::string(JobStateName(state)); }

template <typename Stmt>
Result<Json> ParseColumn(const Stmt& stmt, int col, std::string_view name,
                         const std::string& job_id) {
  Result<Json> parsed = ParseJson(stmt.ColumnText(col));
  if (!parsed.ok()) {
    return Status::Internal("job " + job_id + ": stored " + std::string(name) +
                            " is not valid JSON: " + parsed.status().message());
  }
  return parsed;
}

// Every column but the JSON ones (command 9, params 11, artifacts 12, env 22).
template <typename Stmt>
Result<JobRecord> RowToJobScalars(const Stmt& stmt) {
  JobRecord job;
  job.job_id = JobId(stmt.ColumnText(0));
  const std::string& id = job.job_id.str();
  job.job_type = stmt.ColumnText(1);
  const std::string status = stmt.ColumnText(2);
  std::optional<JobState> state = ParseJobState(status);
  if (!state) return Status::Internal("job " + id + ": unknown stored status '" + status + "'");
  job.status = *state;
  job.created_at = FromMicros(stmt.ColumnInt64(3));
  if (auto v = stmt.ColumnOptionalInt64(4)) job.started_at = FromMicros(*v);
  if (auto v = stmt.ColumnOptionalInt64(5)) job.ended_at = FromMicros(*v);
  if (auto v = stmt.ColumnOptionalInt64(6)) job.exit_code = static_cast<int>(*v);
  job.error_message = stmt.ColumnOptionalText(7);
  job.cwd = stmt.ColumnText(8);
  job.args_preview = stmt.ColumnText(10);
  job.artifacts_parse_error = stmt.ColumnOptionalText(13);
  job.log_path = stmt.ColumnText(14);
  job.meta_path = stmt.ColumnText(15);
  job.parent_id = stmt.ColumnOptionalText(16);
  job.source_job_id = stmt.ColumnOptionalText(17);
  job.owner_id = stmt.ColumnOptionalText(18);
  job.dry_run = stmt.ColumnInt64(19) != 0;
  job.executor_ref = stmt.ColumnOptionalText(20);
  job.timeout_sec = stmt.ColumnInt64(21);
  if (std::optional<std::string> reason = stmt.ColumnOptionalText(23)) {
    job.end_reason = ParseEndReason(*reason);
    if (!job.end_reason) return Status::Internal("job " + id + ": unknown stored end_reason '" + *reason + "'");
  }
  if (auto v = stmt.ColumnOptionalInt64(24)) job.max_inflight = static_cast<int>(*v);
  job.claimed_by = stmt.ColumnOptionalText(25);
  job.project = stmt.ColumnOptionalText(26).value_or("");
  return job;
}

template <typename Stmt>
Result<JobRecord> RowToJob(const Stmt& stmt) {
  ASSIGN_OR_RETURN(JobRecord job, RowToJobScalars(stmt));
  const std::string& id = job.job_id.str();
  ASSIGN_OR_RETURN(Json command, ParseColumn(stmt, 9, "command", id));
  if (!command.is_array()) return Status::Internal("job " + id + ": stored command is not a list");
  for (const Json& arg : command) {
    if (!arg.is_string()) return Status::Internal("job " + id + ": stored command has a non-string");
    job.command.push_back(arg.get<std::string>());
  }
  ASSIGN_OR_RETURN(job.params, ParseColumn(stmt, 11, "params", id));
  ASSIGN_OR_RETURN(job.artifacts, ParseColumn(stmt, 12, "artifacts", id));
  ASSIGN_OR_RETURN(job.env, ParseColumn(stmt, 22, "env", id));
  return job;
}

// The StoredJob of a row: the JSON columns as stored (the store wrote them with DumpJson).
template <typename Stmt>
Result<StoredJob> RowToStoredJob(const Stmt& stmt) {
  StoredJob out;
  ASSIGN_OR_RETURN(out.record, RowToJobScalars(stmt));
  out.command_json = stmt.ColumnText(9);
  out.params_json = stmt.ColumnText(11);
  out.artifacts_json = stmt.ColumnText(12);
  return out;
}

// The columns of a StoredJobView, in RowToStoredJobView's order (the detail's; not env,
// executor_ref, max_inflight, claimed_by).
inline constexpr std::string_view kDetailColumns =
    "job_id, job_type, status, created_at_us, started_at_us, ended_at_us, exit_code,"
    " error_message, cwd, command, args_preview, params, artifacts, artifacts_parse_error,"
    " log_path, meta_path, parent_id, source_job_id, owner_id, dry_run, timeout_sec, end_reason,"
    " project";

template <typename Stmt>
std::optional<std::string_view> OptionalTextView(const Stmt& stmt, int col) {
  if (stmt.ColumnIsNull(col)) return std::nullopt;
  return stmt.ColumnTextView(col);
}

// A row of kDetailColumns as views into the statement (valid until its next Step or reset).
template <typename Stmt>
Result<StoredJobView> RowToStoredJobView(const Stmt& stmt) {
  StoredJobView v;
  v.job_id = stmt.ColumnTextView(0);
  v.job_type = stmt.ColumnTextView(1);
  const std::string_view status = stmt.ColumnTextView(2);
  std::optional<JobState> state = ParseJobState(status);
  if (!state) {
    return Status::Internal("job " + std::string(v.job_id) + ": unknown stored status '" + std::string(status) + "'");
  }
  v.status = *state;
  v.created_at = FromMicros(stmt.ColumnInt64(3));
  if (auto t = stmt.ColumnOptionalInt64(4)) v.started_at = FromMicros(*t);
  if (auto t = stmt.ColumnOptionalInt64(5)) v.ended_at = FromMicros(*t);
  if (auto c = stmt.ColumnOptionalInt64(6)) v.exit_code = static_cast<int>(*c);
  v.error_message = OptionalTextView(stmt, 7);
  v.cwd = stmt.ColumnTextView(8);
  v.command_json = stmt.ColumnTextView(9);
  v.args_preview = stmt.ColumnTextView(10);
  v.params_json = stmt.ColumnTextView(11);
  v.artifacts_json = stmt.ColumnTextView(12);
  v.artifacts_parse_error = OptionalTextView(stmt, 13);
  v.log_path = stmt.ColumnTextView(14);
  v.meta_path = stmt.ColumnTextView(15);
  v.parent_id = OptionalTextView(stmt, 16);
  v.source_job_id = OptionalTextView(stmt, 17);
  v.owner_id = OptionalTextView(stmt, 18);
  v.dry_run = stmt.ColumnInt64(19) != 0;
  v.timeout_sec = stmt.ColumnInt64(20);
  if (std::optional<std::string_view> reason = OptionalTextView(stmt, 21)) {
    v.end_reason = ParseEndReason(*reason);
    if (!v.end_reason) {
      return Status::Internal("job " + std::string(v.job_id) + ": unknown stored end_reason '" + std::string(*reason) + "'");
    }
  }
  v.project = stmt.ColumnTextView(22);
  return v;
}

// One row by id on a reader connection of `db` (SqliteDb or PgDb; the statement stays
// prepared there), turned into the result R by `row` (RowToJob or RowToStoredJob; with `sql`,
// a SELECT of other columns ending in "WHERE job_id = ?").
template <typename R, typename Db, typename Row>
R ReadJobRow(Db& db, const JobId& id, Row row, const std::string* sql = nullptr) {
  static const std::string kSql = "SELECT " + std::string(kColumns) + " FROM jobs WHERE job_id = ?";
  const auto read = [&](auto& conn) -> R {
    ASSIGN_OR_RETURN(auto stmt, conn.Prepare(sql != nullptr ? *sql : kSql));
    RETURN_IF_ERROR(stmt.Bind(1, id.str()));
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return Status::NotFound("job " + id.str() + " does not exist");
    return row(stmt);
  };
  // A point read: on SQLite, the point readers (SqliteDb::WithPointReader), which a long scan
  // on the shared readers never holds (GET /api/jobs/{id} reads here on an HTTP I/O thread).
  if constexpr (requires { db.WithPointReader(read); }) {
    return db.WithPointReader(read);
  } else {
    return db.WithReader(read);
  }
}

// The detail columns of one job as a StoredJobView handed to `use` before the read ends
// (StoredJobReader::ReadStoredJob of the SQL stores).
template <typename Db>
Status ReadJobView(Db& db, const JobId& id, const std::function<void(const StoredJobView&)>& use) {
  static const std::string kSql = "SELECT " + std::string(kDetailColumns) + " FROM jobs WHERE job_id = ?";
  return ReadJobRow<Status>(
      db, id,
      [&](const auto& stmt) -> Status {
        ASSIGN_OR_RETURN(StoredJobView view, RowToStoredJobView(stmt));
        use(view);
        return Status::Ok();
      },
      &kSql);
}

// A job's column values, serialised on the caller's thread before the write is queued (the
// grouped-write closure runs on the batch leader's thread, where time is shared by everyone).
struct EncodedJob {
  std::string job_id;
  std::string job_type;
  std::string status;
  int64_t created_at_us = 0;
  std::optional<int64_t> started_at_us;
  std::optional<int64_t> ended_at_us;
  std::optional<int64_t> exit_code;
  std::optional<std::string> end_reason;
  std::optional<int64_t> max_inflight;
  std::string command;
  std::string params;
  std::string artifacts;
  std::string env;
  std::string search_text;
};

// The one column the jobs text search scans (`search_text`, written at insert and whenever an
// update changes it): job_id, job_type, args_preview and params (as stored, DumpJson) folded
// like AsciiLower and joined by kSearchSeparator. A needle with the separator in it cannot be
// answered from the joined text and falls back to the per-column test (BuildFilter).
inline constexpr char kSearchSeparator = '\x1f';
inline std::string SearchText(const JobRecord& job, const std::string& params) {
  std::string out = AsciiLower(job.job_id.str());
  for (const std::string* part : {&job.job_type, &job.args_preview, &params}) {
    out += kSearchSeparator;
    out += AsciiLower(*part);
  }
  return out;
}

inline EncodedJob Encode(const JobRecord& job) {
  EncodedJob e;
  e.job_id = job.job_id.str();
  e.job_type = job.job_type;
  e.status = StateText(job.status);
  e.created_at_us = ToMicros(job.created_at);
  e.started_at_us = ToMicros(job.started_at);
  e.ended_at_us = ToMicros(job.ended_at);
  if (job.exit_code) e.exit_code = *job.exit_code;
  if (job.end_reason) e.end_reason = std::string(EndReasonName(*job.end_reason));
  if (job.max_inflight) e.max_inflight = *job.max_inflight;
  Json command = Json::array();
  for (const std::string& arg : job.command) command.push_back(arg);
  e.command = DumpJson(command);
  e.params = DumpJson(job.params);
  e.artifacts = DumpJson(job.artifacts);
  e.env = DumpJson(job.env);
  e.search_text = SearchText(job, e.params);
  return e;
}

// Binds every column but job_id, starting at parameter `first`, in kColumns order; with
// `for_update`, also without the columns fixed at insert (job_type, created_at, parent_id)
// and claimed_by (set by the claim operations only).
template <typename Stmt>
Status BindMutable(Stmt& stmt, int first, const JobRecord& job, const EncodedJob& e,
                   bool for_update = false) {
  int i = first;
  if (!for_update) RETURN_IF_ERROR(stmt.Bind(i++, e.job_type));
  RETURN_IF_ERROR(stmt.Bind(i++, e.status));
  if (!for_update) RETURN_IF_ERROR(stmt.Bind(i++, e.created_at_us));
  RETURN_IF_ERROR(stmt.Bind(i++, e.started_at_us));
  RETURN_IF_ERROR(stmt.Bind(i++, e.ended_at_us));
  RETURN_IF_ERROR(stmt.Bind(i++, e.exit_code));
  RETURN_IF_ERROR(stmt.Bind(i++, job.error_message));
  RETURN_IF_ERROR(stmt.Bind(i++, job.cwd));
  RETURN_IF_ERROR(stmt.Bind(i++, e.command));
  RETURN_IF_ERROR(stmt.Bind(i++, job.args_preview));
  RETURN_IF_ERROR(stmt.Bind(i++, e.params));
  RETURN_IF_ERROR(stmt.Bind(i++, e.artifacts));
  RETURN_IF_ERROR(stmt.Bind(i++, job.artifacts_parse_error));
  RETURN_IF_ERROR(stmt.Bind(i++, job.log_path));
  RETURN_IF_ERROR(stmt.Bind(i++, job.meta_path));
  if (!for_update) RETURN_IF_ERROR(stmt.Bind(i++, job.parent_id));
  RETURN_IF_ERROR(stmt.Bind(i++, job.source_job_id));
  RETURN_IF_ERROR(stmt.Bind(i++, job.owner_id));
  RETURN_IF_ERROR(stmt.Bind(i++, job.dry_run));
  RETURN_IF_ERROR(stmt.Bind(i++, job.executor_ref));
  RETURN_IF_ERROR(stmt.Bind(i++, job.timeout_sec));
  RETURN_IF_ERROR(stmt.Bind(i++, e.env));
  RETURN_IF_ERROR(stmt.Bind(i++, e.end_reason));
  RETURN_IF_ERROR(stmt.Bind(i++, e.max_inflight));
  if (!for_update) RETURN_IF_ERROR(stmt.Bind(i++, job.claimed_by));
  if (!for_update) RETURN_IF_ERROR(stmt.Bind(i++, job.project));
  return Status::Ok();
}

inline Status ValidateForWrite(const JobRecord& job) {
  if (job.job_id.empty()) return Status::InvalidArgument("job store: job_id is empty");
  if (job.job_type.empty()) {
    return Status::InvalidArgument("job store: job " + job.job_id.str() + " has no job_type");
  }
  return Status::Ok();
}

// "WHERE ..." for the query's filters and the values to bind, in order.
struct Filter {
  std::string where;
  std::vector<std::string> values;
};

// A JobField as a SQL expression in seconds (JobNumericValue's values).
inline std::string JobFieldSql(JobField f) {
  switch (f) {
    case JobField::kCreatedAt: return "(created_at_us / 1e6)";
    case JobField::kStartedAt: return "(started_at_us / 1e6)";
    case JobField::kEndedAt: return "(ended_at_us / 1e6)";
    case JobField::kDurationSec: return "((ended_at_us - started_at_us) / 1e6)";
    case JobField::kExitCode: return "exit_code";
  }
  return "NULL";
}

// A bound as text SQLite reads back as the same double (17 significant digits).
inline std::string FormatBound(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

inline Filter BuildFilter(const JobQuery& query, const JobSqlDialect& dialect, bool text_in_subquery = false) {
  Filter filter;
  auto add = [&](std::string_view clause, std::string value) {
    filter.where += filter.where.empty() ? " WHERE " : " AND ";
    filter.where += clause;
    filter.values.push_back(std::move(value));
  };
  // column IN (?, ?, ...) for a non-empty list.
  auto add_in = [&](std::string_view column, const std::vector<std::string>& values) {
    if (values.empty()) return;
    std::string clause = std::string(column) + " IN (";
    for (size_t i = 0; i < values.size(); ++i) clause += i ? ",?" : "?";
    clause += ")";
    filter.where += filter.where.empty() ? " WHERE " : " AND ";
    filter.where += clause;
    for (const auto& v : values) filter.values.push_back(v);
  };
  std::vector<std::string> states;
  for (JobState st : query.statuses) states.push_back(StateText(st));
  add_in("status", states);
  add_in("job_type", query.job_types);
  if (query.parent_id) add("parent_id = ?", *query.parent_id);
  add_in("owner_id", query.owner_ids);
  add_in("project", query.projects);
  if (query.text && !query.text->empty()) {
    // JobTextMatches in SQL: ASCII-only folding, like AsciiLower; params is stored as DumpJson.
    const std::string needle = AsciiLower(*query.text);
    if (needle.find(kSearchSeparator) == std::string::npos) {
      // One column, already folded (SearchText). With `text_in_subquery` as a job_id set: the
      // subquery scans only the narrowest structure that has the column (SQLite: the covering
      // jobs_recent index) and the outer query reads the matching rows alone.
      const std::string test = dialect.find_function + "(search_text, ?) > 0";
      add(text_in_subquery ? "job_id IN (SELECT job_id FROM jobs WHERE " + test + ")" : test, needle);
    } else {
      const auto has = [&](std::string_view column) {
        return dialect.find_function + "(" + dialect.ascii_lower_open + std::string(column) + dialect.ascii_lower_close +
               ", ?) > 0";
      };
      add("(" + has("job_id") + " OR " + has("job_type") + " OR " + has("args_preview") + " OR " + has("params") + ")",
          needle);
      filter.values.push_back(needle);
      filter.values.push_back(needle);
      filter.values.push_back(needle);
    }
  }
  // Bound as text, compared as integers (created_at_us has INTEGER affinity).
  if (query.created_from) add("created_at_us >= CAST(? AS " + dialect.int64_type + ")", std::to_string(ToMicros(*query.created_from)));
  if (query.created_to) add("created_at_us < CAST(? AS " + dialect.int64_type + ")", std::to_string(ToMicros(*query.created_to)));
  // Bounds: a NULL value never passes (NULL >= x is not true).
  for (const JobBound& b : query.bounds) {
    const std::string expr = JobFieldSql(b.field);
    if (b.min) add(expr + " >= CAST(? AS " + dialect.double_type + ")", FormatBound(*b.min));
    if (b.max) add(expr + " <= CAST(? AS " + dialect.double_type + ")", FormatBound(*b.max));
  }
  return filter;
}

// The query's jobs per state in one scan (statuses ignored): "SELECT status, COUNT(*) ..." and
// its values; ReadPerState turns the rows into a map with every state present.
inline Filter PerStateCount(const JobQuery& query, const JobSqlDialect& dialect) {
  JobQuery any_state = query;
  any_state.statuses.clear();
  Filter filter = BuildFilter(any_state, dialect, /*text_in_subquery=*/true);
  filter.where = "SELECT status, COUNT(*) FROM jobs" + filter.where + " GROUP BY status";
  return filter;
}

template <typename Stmt>
Result<std::map<JobState, int64_t>> ReadPerState(Stmt& stmt) {
  std::map<JobState, int64_t> out;
  for (JobState st : kAllJobStates) out[st] = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return out;
    const std::string status = stmt.ColumnText(0);
    std::optional<JobState> state = ParseJobState(status);
    if (!state) return Status::Internal("job store: unknown stored status '" + status + "'");
    out[*state] = stmt.ColumnInt64(1);
  }
}

// ORDER BY for the query's sort keys (NULL last in both directions), then newest first.
inline std::string OrderBy(const JobQuery& query) {
  std::string out = " ORDER BY ";
  for (const JobSortKey& k : query.sort) {
    const std::string expr = JobFieldSql(k.field);
    out += "(" + expr + ") IS NULL, " + expr + (k.descending ? " DESC, " : " ASC, ");
  }
  return out + "created_at_us DESC, job_id DESC";
}

template <typename Stmt>
Result<std::vector<JobRecord>> CollectJobs(Stmt& stmt) {
  std::vector<JobRecord> jobs;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return jobs;
    ASSIGN_OR_RETURN(JobRecord job, RowToJob(stmt));
    jobs.push_back(std::move(job));
  }
}


// After a compare-and-set that changed no row, in the same transaction (seeing the state the
// UPDATE saw): NotFound for an unknown job, else FailedPrecondition naming the status it has.
template <typename Conn>
Status RefusedUpdate(Conn& conn, const std::string& job_id, const std::string& expected_text) {
  ASSIGN_OR_RETURN(auto probe, conn.Prepare("SELECT status FROM jobs WHERE job_id = ?"));
  RETURN_IF_ERROR(probe.Bind(1, job_id));
  ASSIGN_OR_RETURN(bool has_row, probe.Step());
  if (!has_row) return Status::NotFound("job " + job_id + " does not exist");
  const std::string actual = probe.ColumnText(0);
  return Status::FailedPrecondition("job " + job_id + " is " + actual + ", expected " + expected_text,
                                    Json{{"job_id", job_id}, {"status", actual}, {"expected", expected_text}});
}

}  // namespace alphalab::job_sql

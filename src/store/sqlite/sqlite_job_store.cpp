#include "store/sqlite/sqlite_job_store.hpp"

#include <chrono>
#include <string>
#include <utility>

namespace alphalab {
namespace {

// Column order shared by every SELECT and by RowToJob.
constexpr std::string_view kColumns =
    "job_id, job_type, status, created_at_us, started_at_us, ended_at_us, exit_code,"
    " error_message, cwd, command, args_preview, params, artifacts, artifacts_parse_error,"
    " log_path, meta_path, parent_id, source_job_id, owner_id, dry_run, executor_ref,"
    " timeout_sec, env";

int64_t ToMicros(TimePoint tp) {
  return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

TimePoint FromMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

std::optional<int64_t> ToMicros(const std::optional<TimePoint>& tp) {
  if (!tp) return std::nullopt;
  return ToMicros(*tp);
}

std::string StateText(JobState state) { return std::string(JobStateName(state)); }

Result<Json> ParseColumn(const SqliteStatement& stmt, int col, std::string_view name,
                         const std::string& job_id) {
  Result<Json> parsed = ParseJson(stmt.ColumnText(col));
  if (!parsed.ok()) {
    return Status::Internal("job " + job_id + ": stored " + std::string(name) +
                            " is not valid JSON: " + parsed.status().message());
  }
  return parsed;
}

Result<JobRecord> RowToJob(const SqliteStatement& stmt) {
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
  ASSIGN_OR_RETURN(Json command, ParseColumn(stmt, 9, "command", id));
  if (!command.is_array()) return Status::Internal("job " + id + ": stored command is not a list");
  for (const Json& arg : command) {
    if (!arg.is_string()) return Status::Internal("job " + id + ": stored command has a non-string");
    job.command.push_back(arg.get<std::string>());
  }
  job.args_preview = stmt.ColumnText(10);
  ASSIGN_OR_RETURN(job.params, ParseColumn(stmt, 11, "params", id));
  ASSIGN_OR_RETURN(job.artifacts, ParseColumn(stmt, 12, "artifacts", id));
  job.artifacts_parse_error = stmt.ColumnOptionalText(13);
  job.log_path = stmt.ColumnText(14);
  job.meta_path = stmt.ColumnText(15);
  job.parent_id = stmt.ColumnOptionalText(16);
  job.source_job_id = stmt.ColumnOptionalText(17);
  job.owner_id = stmt.ColumnOptionalText(18);
  job.dry_run = stmt.ColumnInt64(19) != 0;
  job.executor_ref = stmt.ColumnOptionalText(20);
  job.timeout_sec = stmt.ColumnInt64(21);
  ASSIGN_OR_RETURN(job.env, ParseColumn(stmt, 22, "env", id));
  return job;
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
  std::string command;
  std::string params;
  std::string artifacts;
  std::string env;
};

EncodedJob Encode(const JobRecord& job) {
  EncodedJob e;
  e.job_id = job.job_id.str();
  e.job_type = job.job_type;
  e.status = StateText(job.status);
  e.created_at_us = ToMicros(job.created_at);
  e.started_at_us = ToMicros(job.started_at);
  e.ended_at_us = ToMicros(job.ended_at);
  if (job.exit_code) e.exit_code = *job.exit_code;
  Json command = Json::array();
  for (const std::string& arg : job.command) command.push_back(arg);
  e.command = DumpJson(command);
  e.params = DumpJson(job.params);
  e.artifacts = DumpJson(job.artifacts);
  e.env = DumpJson(job.env);
  return e;
}

// Binds every column but job_id, starting at parameter `first`, in kColumns order; with
// `for_update`, also without the columns fixed at insert (job_type, created_at, parent_id).
Status BindMutable(SqliteStatement& stmt, int first, const JobRecord& job, const EncodedJob& e,
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
  return stmt.Bind(i++, e.env);
}

Status ValidateForWrite(const JobRecord& job) {
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

Filter BuildFilter(const JobQuery& query) {
  Filter filter;
  auto add = [&](std::string_view clause, std::string value) {
    filter.where += filter.where.empty() ? " WHERE " : " AND ";
    filter.where += clause;
    filter.values.push_back(std::move(value));
  };
  if (query.status) add("status = ?", StateText(*query.status));
  if (query.job_type) add("job_type = ?", *query.job_type);
  if (query.parent_id) add("parent_id = ?", *query.parent_id);
  if (query.owner_id) add("owner_id = ?", *query.owner_id);
  return filter;
}

Result<std::vector<JobRecord>> CollectJobs(SqliteStatement& stmt) {
  std::vector<JobRecord> jobs;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return jobs;
    ASSIGN_OR_RETURN(JobRecord job, RowToJob(stmt));
    jobs.push_back(std::move(job));
  }
}

}  // namespace

const std::vector<std::string>& SqliteJobStore::Migrations() {
  static const std::vector<std::string> kMigrations = {
      // v1: the jobs table, clustered on job_id (WITHOUT ROWID: no separate key index, so an
      // insert dirties fewer pages). Sort keys are (created_at_us, job_id) everywhere, so every
      // index that serves a listing ends with them.
      "CREATE TABLE jobs ("
      " job_id TEXT PRIMARY KEY NOT NULL,"
      " job_type TEXT NOT NULL,"
      " status TEXT NOT NULL,"
      " created_at_us INTEGER NOT NULL,"
      " started_at_us INTEGER,"
      " ended_at_us INTEGER,"
      " exit_code INTEGER,"
      " error_message TEXT,"
      " cwd TEXT NOT NULL,"
      " command TEXT NOT NULL,"
      " args_preview TEXT NOT NULL,"
      " params TEXT NOT NULL,"
      " artifacts TEXT NOT NULL,"
      " artifacts_parse_error TEXT,"
      " log_path TEXT NOT NULL,"
      " meta_path TEXT NOT NULL,"
      " parent_id TEXT,"
      " source_job_id TEXT,"
      " owner_id TEXT,"
      " dry_run INTEGER NOT NULL,"
      " executor_ref TEXT,"
      " timeout_sec INTEGER NOT NULL,"
      " env TEXT NOT NULL) WITHOUT ROWID;"
      "CREATE INDEX jobs_recent ON jobs (created_at_us DESC, job_id DESC);"
      "CREATE INDEX jobs_by_status ON jobs (status, created_at_us, job_id);"
      "CREATE INDEX jobs_by_type ON jobs (job_type, created_at_us, job_id);"
      "CREATE INDEX jobs_by_parent ON jobs (parent_id, created_at_us, job_id)"
      " WHERE parent_id IS NOT NULL;",
  };
  return kMigrations;
}

Result<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Open(SqliteDb& db) {
  RETURN_IF_ERROR(db.Migrate("jobs", Migrations()));
  return std::unique_ptr<SqliteJobStore>(new SqliteJobStore(db));
}

Status SqliteJobStore::InsertJob(const JobRecord& job) {
  RETURN_IF_ERROR(ValidateForWrite(job));
  static const std::string kSql =
      "INSERT INTO jobs (" + std::string(kColumns) +
      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const EncodedJob encoded = Encode(job);
  // One statement in the caller's savepoint of a shared group transaction (SqliteDb::
  // WriteGrouped): a duplicate id fails only this caller.
  Status status = db_.WriteGrouped([&](SqliteConnection& conn) -> Status {
    ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(kSql));
    RETURN_IF_ERROR(stmt.Bind(1, encoded.job_id));
    RETURN_IF_ERROR(BindMutable(stmt, 2, job, encoded));
    return stmt.Run();
  });
  if (status.IsAlreadyExists()) {
    return Status::AlreadyExists("job " + job.job_id.str() + " already exists");
  }
  return status;
}

Result<JobRecord> SqliteJobStore::GetJob(const JobId& id) {
  static const std::string kSql = "SELECT " + std::string(kColumns) + " FROM jobs WHERE job_id = ?";
  return db_.WithReader([&](SqliteConnection& conn) -> Result<JobRecord> {
    ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(kSql));
    RETURN_IF_ERROR(stmt.Bind(1, id.str()));
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return Status::NotFound("job " + id.str() + " does not exist");
    return RowToJob(stmt);
  });
}

Result<std::vector<JobRecord>> SqliteJobStore::ListJobs(const JobQuery& query) {
  if (query.limit < 0 || query.offset < 0) {
    return Status::InvalidArgument("job store: limit and offset must not be negative");
  }
  if (query.limit == 0) return std::vector<JobRecord>{};
  const Filter filter = BuildFilter(query);
  const std::string sql = "SELECT " + std::string(kColumns) + " FROM jobs" + filter.where +
                          " ORDER BY created_at_us DESC, job_id DESC LIMIT ? OFFSET ?";
  return db_.WithReader([&](SqliteConnection& conn) -> Result<std::vector<JobRecord>> {
    ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(sql));
    int i = 1;
    for (const std::string& value : filter.values) RETURN_IF_ERROR(stmt.Bind(i++, value));
    RETURN_IF_ERROR(stmt.Bind(i++, query.limit));
    RETURN_IF_ERROR(stmt.Bind(i++, query.offset));
    return CollectJobs(stmt);
  });
}

Result<int64_t> SqliteJobStore::CountJobs(const JobQuery& query) {
  const Filter filter = BuildFilter(query);
  const std::string sql = "SELECT COUNT(*) FROM jobs" + filter.where;
  return db_.WithReader([&](SqliteConnection& conn) -> Result<int64_t> {
    ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(sql));
    int i = 1;
    for (const std::string& value : filter.values) RETURN_IF_ERROR(stmt.Bind(i++, value));
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return Status::Internal("job store: COUNT returned no row");
    return stmt.ColumnInt64(0);
  });
}

Status SqliteJobStore::UpdateJob(const JobRecord& job, JobState expected) {
  RETURN_IF_ERROR(ValidateForWrite(job));
  // job_type, created_at and parent_id are fixed at insert (JobStore contract); leaving them
  // out of SET also means only the status index is touched by a transition.
  static const std::string kSql =
      "UPDATE jobs SET status = ?, started_at_us = ?,"
      " ended_at_us = ?, exit_code = ?, error_message = ?, cwd = ?, command = ?,"
      " args_preview = ?, params = ?, artifacts = ?, artifacts_parse_error = ?, log_path = ?,"
      " meta_path = ?, source_job_id = ?, owner_id = ?, dry_run = ?,"
      " executor_ref = ?, timeout_sec = ?, env = ? WHERE job_id = ? AND status = ?";
  const EncodedJob encoded = Encode(job);
  const std::string expected_text = StateText(expected);
  // The CAS and, when it matched nothing, the probe run in this caller's savepoint of a
  // group transaction, so the probe sees exactly the state the UPDATE saw.
  return db_.WriteGrouped([&](SqliteConnection& conn) -> Status {
    {
      ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(kSql));
      RETURN_IF_ERROR(BindMutable(stmt, 1, job, encoded, /*for_update=*/true));
      RETURN_IF_ERROR(stmt.Bind(20, encoded.job_id));
      RETURN_IF_ERROR(stmt.Bind(21, expected_text));
      RETURN_IF_ERROR(stmt.Run());
      if (conn.Changes() == 1) return Status::Ok();
    }
    // Nothing changed: tell "unknown job" from "someone else moved it".
    ASSIGN_OR_RETURN(SqliteStatement probe, conn.Prepare("SELECT status FROM jobs WHERE job_id = ?"));
    RETURN_IF_ERROR(probe.Bind(1, encoded.job_id));
    ASSIGN_OR_RETURN(bool has_row, probe.Step());
    if (!has_row) return Status::NotFound("job " + job.job_id.str() + " does not exist");
    const std::string actual = probe.ColumnText(0);
    return Status::FailedPrecondition(
        "job " + job.job_id.str() + " is " + actual + ", expected " + StateText(expected),
        Json{{"job_id", job.job_id.str()}, {"status", actual}, {"expected", StateText(expected)}});
  });
}

Result<std::vector<JobRecord>> SqliteJobStore::ListJobsInStates(const std::vector<JobState>& states,
                                                                int limit) {
  if (limit < 0) return Status::InvalidArgument("job store: limit must not be negative");
  if (states.empty() || limit == 0) return std::vector<JobRecord>{};
  std::string placeholders;
  for (size_t i = 0; i < states.size(); ++i) placeholders += i == 0 ? "?" : ", ?";
  const std::string sql = "SELECT " + std::string(kColumns) + " FROM jobs WHERE status IN (" +
                          placeholders + ") ORDER BY created_at_us ASC, job_id ASC LIMIT ?";
  return db_.WithReader([&](SqliteConnection& conn) -> Result<std::vector<JobRecord>> {
    ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(sql));
    int i = 1;
    for (JobState state : states) RETURN_IF_ERROR(stmt.Bind(i++, StateText(state)));
    RETURN_IF_ERROR(stmt.Bind(i++, limit));
    return CollectJobs(stmt);
  });
}

Result<std::map<JobState, int64_t>> SqliteJobStore::CountJobsByState() {
  return db_.WithReader([&](SqliteConnection& conn) -> Result<std::map<JobState, int64_t>> {
    std::map<JobState, int64_t> counts;
    for (JobState state : kAllJobStates) counts[state] = 0;
    Status status = conn.Query(
        "SELECT status, COUNT(*) FROM jobs GROUP BY status",
        [&](SqliteStatement& row) -> Status {
          const std::string name = row.ColumnText(0);
          std::optional<JobState> state = ParseJobState(name);
          if (!state) return Status::Internal("job store: unknown stored status '" + name + "'");
          counts[*state] = row.ColumnInt64(1);
          return Status::Ok();
        });
    RETURN_IF_ERROR(status);
    return counts;
  });
}

}  // namespace alphalab

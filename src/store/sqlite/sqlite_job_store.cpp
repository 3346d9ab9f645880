#include "store/sqlite/sqlite_job_store.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace alphalab {
namespace {

// Column order shared by every SELECT and by RowToJob.
constexpr std::string_view kColumns =
    "job_id, job_type, status, created_at_us, started_at_us, ended_at_us, exit_code,"
    " error_message, cwd, command, args_preview, params, artifacts, artifacts_parse_error,"
    " log_path, meta_path, parent_id, source_job_id, owner_id, dry_run, executor_ref,"
    " timeout_sec, env, end_reason, max_inflight, claimed_by, project";

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
  if (std::optional<std::string> reason = stmt.ColumnOptionalText(23)) {
    job.end_reason = ParseEndReason(*reason);
    if (!job.end_reason) return Status::Internal("job " + id + ": unknown stored end_reason '" + *reason + "'");
  }
  if (auto v = stmt.ColumnOptionalInt64(24)) job.max_inflight = static_cast<int>(*v);
  job.claimed_by = stmt.ColumnOptionalText(25);
  job.project = stmt.ColumnOptionalText(26).value_or("");
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
  std::optional<std::string> end_reason;
  std::optional<int64_t> max_inflight;
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
  if (job.end_reason) e.end_reason = std::string(EndReasonName(*job.end_reason));
  if (job.max_inflight) e.max_inflight = *job.max_inflight;
  Json command = Json::array();
  for (const std::string& arg : job.command) command.push_back(arg);
  e.command = DumpJson(command);
  e.params = DumpJson(job.params);
  e.artifacts = DumpJson(job.artifacts);
  e.env = DumpJson(job.env);
  return e;
}

// Binds every column but job_id, starting at parameter `first`, in kColumns order; with
// `for_update`, also without the columns fixed at insert (job_type, created_at, parent_id)
// and claimed_by (set by the claim operations only).
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
  RETURN_IF_ERROR(stmt.Bind(i++, e.env));
  RETURN_IF_ERROR(stmt.Bind(i++, e.end_reason));
  RETURN_IF_ERROR(stmt.Bind(i++, e.max_inflight));
  if (!for_update) RETURN_IF_ERROR(stmt.Bind(i++, job.claimed_by));
  if (!for_update) RETURN_IF_ERROR(stmt.Bind(i++, job.project));
  return Status::Ok();
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

// A JobField as a SQL expression in seconds (JobNumericValue's values).
std::string JobFieldSql(JobField f) {
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
std::string FormatBound(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Characters (not bytes) of UTF-8 text: the trigram index matches phrases of 3 or more.
size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// The text as one FTS5 phrase ("..." with inner quotes doubled): no operator or column syntax.
std::string FtsPhrase(std::string_view text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Filter BuildFilter(const JobQuery& query, bool use_text_index) {
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
    // JobTextMatches in SQL: lower() folds ASCII only, like AsciiLower; params is stored as DumpJson.
    const std::string needle = AsciiLower(*query.text);
    // A selective needle (UseTextIndex) narrows the rows with the trigram index first (its case
    // folding is Unicode's, a superset of ASCII's, so it never drops a match; instr() decides).
    if (use_text_index) {
      add("job_id IN (SELECT job_id FROM jobs_text WHERE jobs_text MATCH ?)", FtsPhrase(needle));
    }
    add("(instr(lower(job_id), ?) > 0 OR instr(lower(job_type), ?) > 0 OR instr(lower(args_preview), ?) > 0"
        " OR instr(lower(params), ?) > 0)",
        needle);
    filter.values.push_back(needle);
    filter.values.push_back(needle);
    filter.values.push_back(needle);
  }
  // Bound as text, compared as integers (created_at_us has INTEGER affinity).
  if (query.created_from) add("created_at_us >= CAST(? AS INTEGER)", std::to_string(ToMicros(*query.created_from)));
  if (query.created_to) add("created_at_us < CAST(? AS INTEGER)", std::to_string(ToMicros(*query.created_to)));
  // Bounds: a NULL value never passes (NULL >= x is not true).
  for (const JobBound& b : query.bounds) {
    const std::string expr = JobFieldSql(b.field);
    if (b.min) add(expr + " >= CAST(? AS REAL)", FormatBound(*b.min));
    if (b.max) add(expr + " <= CAST(? AS REAL)", FormatBound(*b.max));
  }
  return filter;
}

// Whether the text filter should go through the trigram index: a needle of 3+ characters
// (shorter ones have no trigram) that the index says is rare. A needle in thousands of rows
// is cheaper as the plain scan (newest first, a page stops early) than as thousands of
// lookups by job_id, so the index answers a bounded probe first.
constexpr int kTextIndexMaxCandidates = 2000;

Result<bool> UseTextIndex(SqliteConnection& conn, const JobQuery& query) {
  if (!query.text || Utf8Length(*query.text) < 3) return false;
  ASSIGN_OR_RETURN(int64_t candidates,
                   conn.QueryInt64("SELECT COUNT(*) FROM (SELECT 1 FROM jobs_text WHERE jobs_text MATCH ? LIMIT " +
                                       std::to_string(kTextIndexMaxCandidates) + ")",
                                   FtsPhrase(AsciiLower(*query.text))));
  return candidates < kTextIndexMaxCandidates;
}

// ORDER BY for the query's sort keys (NULL last in both directions), then newest first.
std::string OrderBy(const JobQuery& query) {
  std::string out = " ORDER BY ";
  for (const JobSortKey& k : query.sort) {
    const std::string expr = JobFieldSql(k.field);
    out += "(" + expr + ") IS NULL, " + expr + (k.descending ? " DESC, " : " ASC, ");
  }
  return out + "created_at_us DESC, job_id DESC";
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
      // v2: the typed end reason of terminal jobs, the group in-flight bound and the claim.
      // Rows that ended before v2 get the reason their stored facts imply: SUCCESS ->
      // exit_code, CANCELED -> canceled; FAILED: never started -> spawn_failed, negative
      // exit code -> signal (a timeout recorded before v2 shows as its signal), other exit
      // code -> exit_code, no exit code -> lost.
      "ALTER TABLE jobs ADD COLUMN end_reason TEXT;"
      "ALTER TABLE jobs ADD COLUMN max_inflight INTEGER;"
      "ALTER TABLE jobs ADD COLUMN claimed_by TEXT;"
      "UPDATE jobs SET end_reason = CASE"
      " WHEN status = 'SUCCESS' THEN 'exit_code'"
      " WHEN status = 'CANCELED' THEN 'canceled'"
      " WHEN started_at_us IS NULL THEN 'spawn_failed'"
      " WHEN exit_code < 0 THEN 'signal'"
      " WHEN exit_code IS NOT NULL THEN 'exit_code'"
      " ELSE 'lost' END"
      " WHERE status IN ('SUCCESS', 'FAILED', 'CANCELED');",
      // v3: the job's project (fixed at insert; "" for jobs stored before v3).
      "ALTER TABLE jobs ADD COLUMN project TEXT NOT NULL DEFAULT '';"
      "CREATE INDEX jobs_by_project ON jobs (project, created_at_us, job_id);",
      // v4: a trigram index over the searched text (JobQuery::text), kept in step by triggers.
      // A job's FTS row is found by a phrase query on its id (its own trigram index), so an
      // update that changes the text touches one row; ids under 3 characters (no trigram) fall
      // back to a scan. Status-only updates (the common case) leave the index alone.
      "CREATE VIRTUAL TABLE jobs_text USING fts5(job_id, job_type, args_preview, params,"
      " tokenize = 'trigram');"
      "INSERT INTO jobs_text (job_id, job_type, args_preview, params)"
      " SELECT job_id, job_type, args_preview, params FROM jobs;"
      "CREATE TRIGGER jobs_text_insert AFTER INSERT ON jobs BEGIN"
      " INSERT INTO jobs_text (job_id, job_type, args_preview, params)"
      " VALUES (new.job_id, new.job_type, new.args_preview, new.params);"
      " END;"
      "CREATE TRIGGER jobs_text_update AFTER UPDATE OF job_type, args_preview, params ON jobs"
      " WHEN old.job_type IS NOT new.job_type OR old.args_preview IS NOT new.args_preview"
      " OR old.params IS NOT new.params BEGIN"
      " DELETE FROM jobs_text WHERE rowid IN (SELECT rowid FROM jobs_text"
      " WHERE length(old.job_id) >= 3 AND jobs_text MATCH"
      " '{job_id}: \"' || replace(old.job_id, '\"', '\"\"') || '\"' AND job_id = old.job_id);"
      " DELETE FROM jobs_text WHERE length(old.job_id) < 3 AND job_id = old.job_id;"
      " INSERT INTO jobs_text (job_id, job_type, args_preview, params)"
      " VALUES (new.job_id, new.job_type, new.args_preview, new.params);"
      " END;",
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
      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
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
  return db_.WithReader([&](SqliteConnection& conn) -> Result<std::vector<JobRecord>> {
    ASSIGN_OR_RETURN(const bool use_text_index, UseTextIndex(conn, query));
    const Filter filter = BuildFilter(query, use_text_index);
    const std::string sql = "SELECT " + std::string(kColumns) + " FROM jobs" + filter.where +
                            OrderBy(query) + " LIMIT ? OFFSET ?";
    ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(sql));
    int i = 1;
    for (const std::string& value : filter.values) RETURN_IF_ERROR(stmt.Bind(i++, value));
    RETURN_IF_ERROR(stmt.Bind(i++, query.limit));
    RETURN_IF_ERROR(stmt.Bind(i++, query.offset));
    return CollectJobs(stmt);
  });
}

Result<int64_t> SqliteJobStore::CountJobs(const JobQuery& query) {
  return db_.WithReader([&](SqliteConnection& conn) -> Result<int64_t> {
    ASSIGN_OR_RETURN(const bool use_text_index, UseTextIndex(conn, query));
    const Filter filter = BuildFilter(query, use_text_index);
    const std::string sql = "SELECT COUNT(*) FROM jobs" + filter.where;
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
      " executor_ref = ?, timeout_sec = ?, env = ?, end_reason = ?, max_inflight = ?"
      " WHERE job_id = ? AND status = ?";
  const EncodedJob encoded = Encode(job);
  const std::string expected_text = StateText(expected);
  // The CAS and, when it matched nothing, the probe run in this caller's savepoint of a
  // group transaction, so the probe sees exactly the state the UPDATE saw.
  return db_.WriteGrouped([&](SqliteConnection& conn) -> Status {
    {
      ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(kSql));
      RETURN_IF_ERROR(BindMutable(stmt, 1, job, encoded, /*for_update=*/true));
      RETURN_IF_ERROR(stmt.Bind(22, encoded.job_id));
      RETURN_IF_ERROR(stmt.Bind(23, expected_text));
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

namespace {

// In the caller's savepoint of a write transaction: claims `job_id` for `claimer` when it is
// claimable (QUEUED, unclaimed or already the claimer's); otherwise why not
// (FailedPrecondition / NotFound). The UPDATE is the compare-and-set.
Status ClaimInTransaction(SqliteConnection& conn, const std::string& job_id, const std::string& claimer) {
  {
    ASSIGN_OR_RETURN(SqliteStatement update,
                     conn.Prepare("UPDATE jobs SET claimed_by = ? WHERE job_id = ? AND status = 'QUEUED'"
                                  " AND (claimed_by IS NULL OR claimed_by = ?)"));
    RETURN_IF_ERROR(update.Bind(1, claimer));
    RETURN_IF_ERROR(update.Bind(2, job_id));
    RETURN_IF_ERROR(update.Bind(3, claimer));
    RETURN_IF_ERROR(update.Run());
    if (conn.Changes() == 1) return Status::Ok();
  }
  // Not claimed: tell "unknown job" from "moved on" and "someone else's".
  ASSIGN_OR_RETURN(SqliteStatement probe, conn.Prepare("SELECT status, claimed_by FROM jobs WHERE job_id = ?"));
  RETURN_IF_ERROR(probe.Bind(1, job_id));
  ASSIGN_OR_RETURN(bool has_row, probe.Step());
  if (!has_row) return Status::NotFound("job " + job_id + " does not exist");
  const std::string actual = probe.ColumnText(0);
  if (actual != StateText(JobState::kQueued)) {
    return Status::FailedPrecondition("job " + job_id + " is " + actual + ", not QUEUED",
                                      Json{{"job_id", job_id}, {"status", actual}});
  }
  const std::string holder = probe.ColumnOptionalText(1).value_or("");
  return Status::FailedPrecondition("job " + job_id + " is claimed by " + holder,
                                    Json{{"job_id", job_id}, {"claimed_by", holder}});
}

}  // namespace

Status SqliteJobStore::ClaimQueued(const JobId& id, const std::string& claimer) {
  if (claimer.empty()) return Status::InvalidArgument("job store: claimer is empty");
  return db_.WriteGrouped([&](SqliteConnection& conn) { return ClaimInTransaction(conn, id.str(), claimer); });
}

Result<std::optional<JobRecord>> SqliteJobStore::ClaimNext(const std::string& claimer) {
  if (claimer.empty()) return Status::InvalidArgument("job store: claimer is empty");
  std::optional<JobRecord> claimed;
  RETURN_IF_ERROR(db_.WriteGrouped([&](SqliteConnection& conn) -> Status {
    // One writer at a time (SQLite): the oldest claimable row cannot be taken by anyone else
    // between this SELECT and the UPDATE in the same transaction. Served by jobs_by_status.
    static const std::string kNext = "SELECT " + std::string(kColumns) +
                                     " FROM jobs WHERE status = 'QUEUED' AND (claimed_by IS NULL OR claimed_by = ?)"
                                     " ORDER BY created_at_us ASC, job_id ASC LIMIT 1";
    ASSIGN_OR_RETURN(SqliteStatement next, conn.Prepare(kNext));
    RETURN_IF_ERROR(next.Bind(1, claimer));
    ASSIGN_OR_RETURN(bool has_row, next.Step());
    if (!has_row) return Status::Ok();
    ASSIGN_OR_RETURN(JobRecord job, RowToJob(next));
    RETURN_IF_ERROR(ClaimInTransaction(conn, job.job_id.str(), claimer));
    job.claimed_by = claimer;
    claimed = std::move(job);
    return Status::Ok();
  }));
  return claimed;
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

Result<std::map<std::string, int64_t>> SqliteJobStore::CountJobsByProject() {
  return db_.WithReader([&](SqliteConnection& conn) -> Result<std::map<std::string, int64_t>> {
    std::map<std::string, int64_t> counts;
    RETURN_IF_ERROR(conn.Query("SELECT project, COUNT(*) FROM jobs WHERE project <> '' GROUP BY project",
                               [&](SqliteStatement& row) -> Status {
                                 counts[row.ColumnText(0)] = row.ColumnInt64(1);
                                 return Status::Ok();
                               }));
    return counts;
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

#include "store/sqlite/sqlite_job_store.hpp"

#include "store/job_sql.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace alphalab {
using namespace job_sql;  // NOLINT: the shared job row helpers


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
      // v4: the text search's one column (job_sql::SearchText; SQLite's lower() folds ASCII
      // only, like AsciiLower), carried in jobs_recent so a search reads that index alone
      // (newest first, stopping at the page) and no index is added: an insert writes the same
      // number of b-tree entries as before.
      "ALTER TABLE jobs ADD COLUMN search_text TEXT NOT NULL DEFAULT '';"
      "UPDATE jobs SET search_text = lower(job_id) || char(31) || lower(job_type) || char(31) ||"
      " lower(args_preview) || char(31) || lower(params);"
      "DROP INDEX jobs_recent;"
      "CREATE INDEX jobs_recent ON jobs (created_at_us DESC, job_id DESC, search_text);",
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
      ", search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const EncodedJob encoded = Encode(job);
  // One statement in the caller's savepoint of a shared group transaction (SqliteDb::
  // WriteGrouped): a duplicate id fails only this caller.
  Status status = db_.WriteGrouped([&](SqliteConnection& conn) -> Status {
    ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(kSql));
    RETURN_IF_ERROR(stmt.Bind(1, encoded.job_id));
    RETURN_IF_ERROR(BindMutable(stmt, 2, job, encoded));
    RETURN_IF_ERROR(stmt.Bind(28, encoded.search_text));
    return stmt.Run();
  });
  if (status.IsAlreadyExists()) {
    return Status::AlreadyExists("job " + job.job_id.str() + " already exists");
  }
  return status;
}

Result<JobRecord> SqliteJobStore::GetJob(const JobId& id) {
  return ReadJobRow<Result<JobRecord>>(db_, id, [](const SqliteStatement& stmt) { return RowToJob(stmt); });
}

Result<StoredJob> SqliteJobStore::GetStoredJob(const JobId& id) {
  return ReadJobRow<Result<StoredJob>>(db_, id, [](const SqliteStatement& stmt) { return RowToStoredJob(stmt); });
}

Status SqliteJobStore::ReadStoredJob(const JobId& id, const std::function<void(const StoredJobView&)>& use) {
  return ReadJobView(db_, id, use);
}

Result<std::vector<JobRecord>> SqliteJobStore::ListJobs(const JobQuery& query) {
  if (query.limit < 0 || query.offset < 0) {
    return Status::InvalidArgument("job store: limit and offset must not be negative");
  }
  if (query.limit == 0) return std::vector<JobRecord>{};
  const Filter filter = BuildFilter(query, kSqliteJobDialect);
  const std::string sql = "SELECT " + std::string(kColumns) + " FROM jobs" + filter.where +
                          OrderBy(query) + " LIMIT ? OFFSET ?";
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
  const Filter filter = BuildFilter(query, kSqliteJobDialect);
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

Result<std::map<JobState, int64_t>> SqliteJobStore::CountJobsPerState(const JobQuery& query) {
  const Filter sql = PerStateCount(query, kSqliteJobDialect);
  return db_.WithReader([&](SqliteConnection& conn) -> Result<std::map<JobState, int64_t>> {
    ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(sql.where));
    int i = 1;
    for (const std::string& value : sql.values) RETURN_IF_ERROR(stmt.Bind(i++, value));
    return ReadPerState(stmt);
  });
}

namespace {

// In the caller's transaction: the compare-and-set of UpdateJob (the row replaced only while its
// status is still `expected`) and, when it matched nothing, the probe that tells "unknown job"
// from "someone else moved it" (seeing exactly the state the UPDATE saw).
Status UpdateInTransaction(SqliteConnection& conn, const JobRecord& job, const EncodedJob& encoded,
                           JobState expected) {
  // job_type, created_at and parent_id are fixed at insert (JobStore contract); leaving them
  // out of SET also means only the status index is touched by a transition.
  static const std::string kSql =
      "UPDATE jobs SET status = ?, started_at_us = ?,"
      " ended_at_us = ?, exit_code = ?, error_message = ?, cwd = ?, command = ?,"
      " args_preview = ?, params = ?, artifacts = ?, artifacts_parse_error = ?, log_path = ?,"
      " meta_path = ?, source_job_id = ?, owner_id = ?, dry_run = ?,"
      " executor_ref = ?, timeout_sec = ?, env = ?, end_reason = ?, max_inflight = ?"
      " WHERE job_id = ? AND status = ?";
  const std::string expected_text = StateText(expected);
  {
    ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(kSql));
    RETURN_IF_ERROR(BindMutable(stmt, 1, job, encoded, /*for_update=*/true));
    RETURN_IF_ERROR(stmt.Bind(22, encoded.job_id));
    RETURN_IF_ERROR(stmt.Bind(23, expected_text));
    RETURN_IF_ERROR(stmt.Run());
    if (conn.Changes() == 1) {
      // Apart from the CAS, and only when the searched text changed: search_text in the
      // UPDATE above would rewrite the row's jobs_recent entry on every status move.
      ASSIGN_OR_RETURN(SqliteStatement text,
                       conn.Prepare("UPDATE jobs SET search_text = ?1 WHERE job_id = ?2 AND search_text <> ?1"));
      RETURN_IF_ERROR(text.Bind(1, encoded.search_text));
      RETURN_IF_ERROR(text.Bind(2, encoded.job_id));
      return text.Run();
    }
  }
  return job_sql::RefusedUpdate(conn, job.job_id.str(), expected_text);
}

// A refused compare-and-set (or an unknown job) fails that update alone; anything else is an
// error of the database and fails the whole transaction.
bool RefusedUpdate(const Status& s) { return s.code() == StatusCode::kFailedPrecondition || s.IsNotFound(); }

}  // namespace

Status SqliteJobStore::UpdateJob(const JobRecord& job, JobState expected) {
  RETURN_IF_ERROR(ValidateForWrite(job));
  const EncodedJob encoded = Encode(job);
  // The CAS and its probe run in this caller's savepoint of a group transaction.
  return db_.WriteGrouped(
      [&](SqliteConnection& conn) -> Status { return UpdateInTransaction(conn, job, encoded, expected); });
}

std::vector<Status> SqliteJobStore::UpdateJobs(std::span<const JobUpdate> updates) {
  std::vector<Status> out(updates.size());
  std::vector<EncodedJob> encoded(updates.size());
  std::vector<size_t> valid;  // the updates that reach the database
  for (size_t i = 0; i < updates.size(); ++i) {
    out[i] = ValidateForWrite(*updates[i].job);
    if (!out[i].ok()) continue;
    encoded[i] = Encode(*updates[i].job);
    valid.push_back(i);
  }
  if (valid.empty()) return out;
  // Every update in one closure of a group transaction: one commit for the lot. A refused
  // compare-and-set changed nothing, so it fails its own job only.
  const Status written = db_.WriteGrouped([&](SqliteConnection& conn) -> Status {
    for (size_t i : valid) {
      out[i] = UpdateInTransaction(conn, *updates[i].job, encoded[i], updates[i].expected);
      if (!out[i].ok() && !RefusedUpdate(out[i])) return out[i];
    }
    return Status::Ok();
  });
  if (!written.ok()) {
    for (size_t i : valid) out[i] = written;  // nothing of the transaction was kept
  }
  return out;
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

Result<std::map<std::string, int64_t>> SqliteJobStore::CountJobsByProject(const std::optional<std::string>& owner_id) {
  return db_.WithReader([&](SqliteConnection& conn) -> Result<std::map<std::string, int64_t>> {
    std::map<std::string, int64_t> counts;
    auto add = [&](SqliteStatement& row) { counts[row.ColumnText(0)] = row.ColumnInt64(1); };
    RETURN_IF_ERROR(owner_id ? conn.Query(job_sql::kCountOwnByProjectSql, add, *owner_id)
                             : conn.Query(job_sql::kCountByProjectSql, add));
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

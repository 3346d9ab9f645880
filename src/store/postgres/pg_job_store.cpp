#include "store/postgres/pg_job_store.hpp"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "store/job_sql.hpp"

namespace alphalab {
using namespace job_sql;  // NOLINT: the shared job row helpers

const std::vector<std::string>& PostgresJobStore::Migrations() {
  // v1: the SQLite schema after its migrations, in one step.
  // Ids sort bytewise (COLLATE "C") as in SQLite, whatever the database's locale.
  static const std::vector<std::string> kMigrations = {
      "CREATE TABLE jobs ("
      " job_id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,"
      " job_type TEXT COLLATE \"C\" NOT NULL,"
      " status TEXT NOT NULL,"
      " created_at_us BIGINT NOT NULL,"
      " started_at_us BIGINT,"
      " ended_at_us BIGINT,"
      " exit_code BIGINT,"
      " error_message TEXT,"
      " cwd TEXT NOT NULL,"
      " command TEXT NOT NULL,"
      " args_preview TEXT NOT NULL,"
      " params TEXT NOT NULL,"
      " artifacts TEXT NOT NULL,"
      " artifacts_parse_error TEXT,"
      " log_path TEXT NOT NULL,"
      " meta_path TEXT NOT NULL,"
      " parent_id TEXT COLLATE \"C\","
      " source_job_id TEXT,"
      " owner_id TEXT,"
      " dry_run BIGINT NOT NULL,"
      " executor_ref TEXT,"
      " timeout_sec BIGINT NOT NULL,"
      " env TEXT NOT NULL,"
      " end_reason TEXT,"
      " max_inflight BIGINT,"
      " claimed_by TEXT,"
      " project TEXT COLLATE \"C\" NOT NULL DEFAULT '');"
      "CREATE INDEX jobs_recent ON jobs (created_at_us DESC, job_id DESC);"
      "CREATE INDEX jobs_by_status ON jobs (status, created_at_us, job_id);"
      "CREATE INDEX jobs_by_type ON jobs (job_type, created_at_us, job_id);"
      "CREATE INDEX jobs_by_parent ON jobs (parent_id, created_at_us, job_id) WHERE parent_id IS NOT NULL;"
      "CREATE INDEX jobs_by_project ON jobs (project, created_at_us, job_id);",
      // v2: several servers on one database: one lease per server (its claimer name), renewed
      // by its heartbeat; cancels addressed to the server that runs the job.
      "CREATE TABLE job_leases ("
      " claimer TEXT PRIMARY KEY NOT NULL,"
      " heartbeat_at_us BIGINT NOT NULL,"
      " expires_at_us BIGINT NOT NULL);"
      "CREATE TABLE job_cancel_requests ("
      " job_id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,"
      " requested_at_us BIGINT NOT NULL);"
      "CREATE INDEX jobs_by_claimer ON jobs (claimed_by) WHERE status IN ('QUEUED', 'RUNNING');",
      // v3: the text search's one column (job_sql::SearchText: ASCII-only folding, so translate,
      // not the locale's lower()); no index (set with the other columns by UpdateJob).
      "ALTER TABLE jobs ADD COLUMN search_text TEXT NOT NULL DEFAULT '';"
      "UPDATE jobs SET search_text ="
      " translate(job_id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') || chr(31) ||"
      " translate(job_type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') || chr(31) ||"
      " translate(args_preview, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') || chr(31) ||"
      " translate(params, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');",
  };
  return kMigrations;
}

Result<std::unique_ptr<PostgresJobStore>> PostgresJobStore::Open(PgDb& db) {
  RETURN_IF_ERROR(db.Migrate("jobs", Migrations()));
  return std::unique_ptr<PostgresJobStore>(new PostgresJobStore(db));
}

Status PostgresJobStore::InsertJob(const JobRecord& job) {
  RETURN_IF_ERROR(ValidateForWrite(job));
  static const std::string kSql =
      "INSERT INTO jobs (" + std::string(kColumns) +
      ", search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const EncodedJob encoded = Encode(job);
  Status status = db_.WithConnection([&](PgConnection& conn) -> Status {
    ASSIGN_OR_RETURN(PgStatement stmt, conn.Prepare(kSql));
    RETURN_IF_ERROR(stmt.Bind(1, encoded.job_id));
    RETURN_IF_ERROR(BindMutable(stmt, 2, job, encoded));
    RETURN_IF_ERROR(stmt.Bind(28, encoded.search_text));
    return stmt.Run();
  });
  if (status.IsAlreadyExists()) return Status::AlreadyExists("job " + job.job_id.str() + " already exists");
  return status;
}

Result<JobRecord> PostgresJobStore::GetJob(const JobId& id) {
  return ReadJobRow<Result<JobRecord>>(db_, id, [](const PgStatement& stmt) { return RowToJob(stmt); });
}

Result<StoredJob> PostgresJobStore::GetStoredJob(const JobId& id) {
  return ReadJobRow<Result<StoredJob>>(db_, id, [](const PgStatement& stmt) { return RowToStoredJob(stmt); });
}

Status PostgresJobStore::ReadStoredJob(const JobId& id, const std::function<void(const StoredJobView&)>& use) {
  return ReadJobView(db_, id, use);
}

Result<std::vector<JobRecord>> PostgresJobStore::ListJobs(const JobQuery& query) {
  if (query.limit < 0 || query.offset < 0) {
    return Status::InvalidArgument("job store: limit and offset must not be negative");
  }
  if (query.limit == 0) return std::vector<JobRecord>{};
  const Filter filter = BuildFilter(query, kPostgresJobDialect);
  const std::string sql = "SELECT " + std::string(kColumns) + " FROM jobs" + filter.where +
                          OrderBy(query) + " LIMIT ? OFFSET ?";
  return db_.WithReader([&](PgConnection& conn) -> Result<std::vector<JobRecord>> {
    ASSIGN_OR_RETURN(PgStatement stmt, conn.Prepare(sql));
    int i = 1;
    for (const std::string& value : filter.values) RETURN_IF_ERROR(stmt.Bind(i++, value));
    RETURN_IF_ERROR(stmt.Bind(i++, query.limit));
    RETURN_IF_ERROR(stmt.Bind(i++, query.offset));
    return CollectJobs(stmt);
  });
}

Result<int64_t> PostgresJobStore::CountJobs(const JobQuery& query) {
  const Filter filter = BuildFilter(query, kPostgresJobDialect);
  const std::string sql = "SELECT COUNT(*) FROM jobs" + filter.where;
  return db_.WithReader([&](PgConnection& conn) -> Result<int64_t> {
    ASSIGN_OR_RETURN(PgStatement stmt, conn.Prepare(sql));
    int i = 1;
    for (const std::string& value : filter.values) RETURN_IF_ERROR(stmt.Bind(i++, value));
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return Status::Internal("job store: COUNT returned no row");
    return stmt.ColumnInt64(0);
  });
}

Result<std::map<JobState, int64_t>> PostgresJobStore::CountJobsPerState(const JobQuery& query) {
  const Filter sql = PerStateCount(query, kPostgresJobDialect);
  return db_.WithReader([&](PgConnection& conn) -> Result<std::map<JobState, int64_t>> {
    ASSIGN_OR_RETURN(PgStatement stmt, conn.Prepare(sql.where));
    int i = 1;
    for (const std::string& value : sql.values) RETURN_IF_ERROR(stmt.Bind(i++, value));
    return ReadPerState(stmt);
  });
}

Status PostgresJobStore::UpdateJob(const JobRecord& job, JobState expected) {
  RETURN_IF_ERROR(ValidateForWrite(job));
  static const std::string kSql =
      "UPDATE jobs SET status = ?, started_at_us = ?,"
      " ended_at_us = ?, exit_code = ?, error_message = ?, cwd = ?, command = ?,"
      " args_preview = ?, params = ?, artifacts = ?, artifacts_parse_error = ?, log_path = ?,"
      " meta_path = ?, source_job_id = ?, owner_id = ?, dry_run = ?,"
      " executor_ref = ?, timeout_sec = ?, env = ?, end_reason = ?, max_inflight = ?, search_text = ?"
      " WHERE job_id = ? AND status = ?";
  const EncodedJob encoded = Encode(job);
  const std::string expected_text = StateText(expected);
  // One UPDATE is the compare-and-set (READ COMMITTED re-checks the WHERE after a concurrent
  // writer commits); the probe only explains a miss.
  return db_.WithConnection([&](PgConnection& conn) -> Status {
    {
      ASSIGN_OR_RETURN(PgStatement stmt, conn.Prepare(kSql));
      RETURN_IF_ERROR(BindMutable(stmt, 1, job, encoded, /*for_update=*/true));
      RETURN_IF_ERROR(stmt.Bind(22, encoded.search_text));
      RETURN_IF_ERROR(stmt.Bind(23, encoded.job_id));
      RETURN_IF_ERROR(stmt.Bind(24, expected_text));
      RETURN_IF_ERROR(stmt.Run());
      if (stmt.Changes() == 1) return Status::Ok();
    }
    return job_sql::RefusedUpdate(conn, job.job_id.str(), expected_text);
  });
}

Status PostgresJobStore::ClaimQueued(const JobId& id, const std::string& claimer) {
  if (claimer.empty()) return Status::InvalidArgument("job store: claimer is empty");
  const std::string job_id = id.str();
  return db_.WithConnection([&](PgConnection& conn) -> Status {
    {
      ASSIGN_OR_RETURN(PgStatement update,
                       conn.Prepare("UPDATE jobs SET claimed_by = ? WHERE job_id = ? AND status = 'QUEUED'"
                                    " AND (claimed_by IS NULL OR claimed_by = ?)"));
      RETURN_IF_ERROR(update.BindAll(claimer, job_id, claimer));
      RETURN_IF_ERROR(update.Run());
      if (update.Changes() == 1) return Status::Ok();
    }
    ASSIGN_OR_RETURN(PgStatement probe, conn.Prepare("SELECT status, claimed_by FROM jobs WHERE job_id = ?"));
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
  });
}

Result<std::optional<JobRecord>> PostgresJobStore::ClaimNext(const std::string& claimer) {
  if (claimer.empty()) return Status::InvalidArgument("job store: claimer is empty");
  // The oldest claimable row no other transaction holds (SKIP LOCKED: concurrent claimers
  // take different rows instead of queueing behind one), claimed in the same statement.
  static const std::string kSql =
      "UPDATE jobs SET claimed_by = ? WHERE job_id = (SELECT job_id FROM jobs"
      " WHERE status = 'QUEUED' AND (claimed_by IS NULL OR claimed_by = ?)"
      " ORDER BY created_at_us ASC, job_id ASC LIMIT 1 FOR UPDATE SKIP LOCKED)"
      " AND status = 'QUEUED' RETURNING " + std::string(kColumns);
  return db_.WithConnection([&](PgConnection& conn) -> Result<std::optional<JobRecord>> {
    ASSIGN_OR_RETURN(PgStatement stmt, conn.Prepare(kSql));
    RETURN_IF_ERROR(stmt.BindAll(claimer, claimer));
    ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return std::optional<JobRecord>();
    ASSIGN_OR_RETURN(JobRecord job, RowToJob(stmt));
    return std::optional<JobRecord>(std::move(job));
  });
}

Result<std::vector<JobRecord>> PostgresJobStore::ListJobsInStates(const std::vector<JobState>& states,
                                                                  int limit) {
  if (limit < 0) return Status::InvalidArgument("job store: limit must not be negative");
  if (states.empty() || limit == 0) return std::vector<JobRecord>{};
  std::string placeholders;
  for (size_t i = 0; i < states.size(); ++i) placeholders += i == 0 ? "?" : ", ?";
  const std::string sql = "SELECT " + std::string(kColumns) + " FROM jobs WHERE status IN (" +
                          placeholders + ") ORDER BY created_at_us ASC, job_id ASC LIMIT ?";
  return db_.WithReader([&](PgConnection& conn) -> Result<std::vector<JobRecord>> {
    ASSIGN_OR_RETURN(PgStatement stmt, conn.Prepare(sql));
    int i = 1;
    for (JobState state : states) RETURN_IF_ERROR(stmt.Bind(i++, StateText(state)));
    RETURN_IF_ERROR(stmt.Bind(i++, limit));
    return CollectJobs(stmt);
  });
}

Result<std::map<std::string, int64_t>> PostgresJobStore::CountJobsByProject(const std::optional<std::string>& owner_id) {
  return db_.WithReader([&](PgConnection& conn) -> Result<std::map<std::string, int64_t>> {
    std::map<std::string, int64_t> counts;
    auto add = [&](PgStatement& row) { counts[row.ColumnText(0)] = row.ColumnInt64(1); };
    RETURN_IF_ERROR(owner_id ? conn.Query(job_sql::kCountOwnByProjectSql, add, *owner_id)
                             : conn.Query(job_sql::kCountByProjectSql, add));
    return counts;
  });
}

Result<std::map<JobState, int64_t>> PostgresJobStore::CountJobsByState() {
  return db_.WithReader([&](PgConnection& conn) -> Result<std::map<JobState, int64_t>> {
    std::map<JobState, int64_t> counts;
    for (JobState state : kAllJobStates) counts[state] = 0;
    RETURN_IF_ERROR(conn.Query("SELECT status, COUNT(*) FROM jobs GROUP BY status", [&](PgStatement& row) -> Status {
      const std::string name = row.ColumnText(0);
      std::optional<JobState> state = ParseJobState(name);
      if (!state) return Status::Internal("job store: unknown stored status '" + name + "'");
      counts[*state] = row.ColumnInt64(1);
      return Status::Ok();
    }));
    return counts;
  });
}

Status PostgresJobStore::RenewLease(const std::string& claimer, TimePoint now, std::chrono::milliseconds ttl) {
  if (claimer.empty()) return Status::InvalidArgument("job store: claimer is empty");
  const int64_t at = ToMicros(now);
  const int64_t until = at + std::chrono::duration_cast<std::chrono::microseconds>(ttl).count();
  return db_.WithConnection([&](PgConnection& c) {
    return c.Execute("INSERT INTO job_leases (claimer, heartbeat_at_us, expires_at_us) VALUES (?, ?, ?)"
                     " ON CONFLICT (claimer) DO UPDATE SET heartbeat_at_us = excluded.heartbeat_at_us,"
                     " expires_at_us = excluded.expires_at_us",
                     claimer, at, until);
  });
}

Result<std::vector<JobRecord>> PostgresJobStore::AdoptExpired(const std::string& claimer, TimePoint now) {
  if (claimer.empty()) return Status::InvalidArgument("job store: claimer is empty");
  // Jobs whose claimer holds no lease: it expired (removed just before) or the claimer never
  // had one (a server of an older version, or one that died before its first heartbeat - a
  // server records its lease before it claims anything). Row locks make two survivors adopt
  // disjoint sets: the second re-checks a row the first changed and finds a live claimer.
  static const std::string kAdopt =
      "UPDATE jobs SET claimed_by = ? WHERE status IN ('QUEUED', 'RUNNING') AND claimed_by IS NOT NULL"
      " AND claimed_by <> ? AND NOT EXISTS (SELECT 1 FROM job_leases l WHERE l.claimer = jobs.claimed_by)"
      " RETURNING " + std::string(kColumns);
  return db_.WithConnection([&](PgConnection& c) -> Result<std::vector<JobRecord>> {
    ASSIGN_OR_RETURN(PgTransaction tx, PgTransaction::Begin(c));
    RETURN_IF_ERROR(c.Execute("DELETE FROM job_leases WHERE expires_at_us < ? AND claimer <> ?", ToMicros(now), claimer));
    ASSIGN_OR_RETURN(PgStatement stmt, c.Prepare(kAdopt));
    RETURN_IF_ERROR(stmt.BindAll(claimer, claimer));
    ASSIGN_OR_RETURN(std::vector<JobRecord> adopted, CollectJobs(stmt));
    RETURN_IF_ERROR(tx.Commit());
    std::sort(adopted.begin(), adopted.end(), [](const JobRecord& x, const JobRecord& y) {
      return std::tie(x.created_at, x.job_id) < std::tie(y.created_at, y.job_id);
    });
    return adopted;
  });
}

Status PostgresJobStore::RequestCancel(const JobId& id, TimePoint now) {
  return db_.WithConnection([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(int64_t known, c.QueryInt64("SELECT COUNT(*) FROM jobs WHERE job_id = ?", id.str()));
    if (known == 0) return Status::NotFound("job " + id.str() + " does not exist");
    // The owner polls for it (JobService's lease thread).
    return c.Execute("INSERT INTO job_cancel_requests (job_id, requested_at_us) VALUES (?, ?)"
                     " ON CONFLICT (job_id) DO NOTHING",
                     id.str(), ToMicros(now));
  });
}

Result<std::vector<JobId>> PostgresJobStore::TakeCancelRequests(const std::string& claimer) {
  return db_.WithConnection([&](PgConnection& c) -> Result<std::vector<JobId>> {
    std::vector<JobId> ids;
    RETURN_IF_ERROR(c.Query("DELETE FROM job_cancel_requests r USING jobs j WHERE r.job_id = j.job_id"
                            " AND j.claimed_by = ? AND j.status IN ('QUEUED', 'RUNNING') RETURNING r.job_id",
                            [&](PgStatement& s) { ids.emplace_back(s.ColumnText(0)); }, claimer));
    RETURN_IF_ERROR(c.Execute("DELETE FROM job_cancel_requests r USING jobs j WHERE r.job_id = j.job_id"
                              " AND j.status NOT IN ('QUEUED', 'RUNNING')"));
    return ids;
  });
}

}  // namespace alphalab

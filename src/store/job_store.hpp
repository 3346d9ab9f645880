// The durable home of job rows. One interface, implemented by SQLite (default) and
// PostgreSQL (scale-out); one shared test suite runs against every implementation.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/job_state.hpp"
#include "core/json.hpp"
#include "core/list_query.hpp"
#include "core/status.hpp"

namespace alphalab {

// Everything GET /api/jobs/{id} returns, plus what the server needs to recover.
struct JobRecord {
  JobId job_id;
  std::string job_type;  // catalog name: "train", "backtest", "eval-metrics", user types
  JobState status = JobState::kQueued;
  TimePoint created_at{};
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  std::optional<int> exit_code;
  std::optional<EndReason> end_reason;  // set on every terminal job, null before
  std::optional<std::string> error_message;
  std::string cwd;                    // working directory, workspace-relative ("." = the workspace;
                                      // rows stored before 2026-12-03 hold an absolute path)
  std::vector<std::string> command;   // argv exactly as executed
  std::string args_preview;           // short one-line form for tables
  Json params = Json::object();       // the validated request parameters
  Json artifacts = Json::object();    // {run_id?, run_dir?, bt_run_id?, bt_dir?, ...}
  std::optional<std::string> artifacts_parse_error;
  std::string log_path;               // workspace-relative: reports/jobs/runtime/<id>.log
  std::string meta_path;              // workspace-relative: reports/jobs/runtime/<id>.json
  std::optional<std::string> parent_id;      // optimization parent
  std::optional<std::string> source_job_id;  // re-run from history
  std::optional<std::string> owner_id;
  bool dry_run = false;
  // Executor bookkeeping for re-attach after a restart ("local:<pid>:<starttime>", "slurm:<id>").
  std::optional<std::string> executor_ref;
  int64_t timeout_sec = 0;            // 0 = none
  Json env = Json::object();          // extra environment for the process
  // In-flight bound of the job's group (its parent_id) given by the submitter: at most this
  // many jobs of the group run at once (jobs/job_queue.hpp). Kept so a restarted server
  // queues the group with the same bound.
  std::optional<int> max_inflight;
  // Who took the job from the queue (ClaimQueued / ClaimNext): a server's claimer name.
  // Set by the claim operations and by InsertJob; UpdateJob leaves it unchanged.
  std::optional<std::string> claimed_by;
  // The project the job belongs to ("" when none): the request's `project`, else the config
  // file's `project:`. Fixed at insert.
  std::string project;
};

// The numeric columns GET /api/jobs/recent sorts on (`sort=duration_sec_desc`) and, where
// `boundable`, bounds (`min_exit_code=`, `max_duration_sec=`). Times are Unix seconds;
// duration_sec is ended_at - started_at (null unless both are set).
enum class JobField { kCreatedAt, kStartedAt, kEndedAt, kDurationSec, kExitCode };

struct JobFieldInfo {
  JobField field;
  std::string_view name;
  bool boundable;
};

inline constexpr JobFieldInfo kJobNumericFields[] = {
    {JobField::kCreatedAt, "created_at", false},   {JobField::kStartedAt, "started_at", false},
    {JobField::kEndedAt, "ended_at", false},       {JobField::kDurationSec, "duration_sec", true},
    {JobField::kExitCode, "exit_code", true},
};

struct JobSortKey {
  JobField field;
  bool descending;
  friend bool operator==(const JobSortKey&, const JobSortKey&) = default;
};

// field >= min and/or field <= max; a NULL value never passes.
struct JobBound {
  JobField field;
  std::optional<double> min, max;
};

inline std::optional<double> JobNumericValue(const JobRecord& j, JobField f) {
  // Whole microseconds, as the stores keep them (SQL: *_us columns / 1e6).
  const auto us = [](TimePoint t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  };
  const auto secs = [&](TimePoint t) { return static_cast<double>(us(t)) / 1e6; };
  switch (f) {
    case JobField::kCreatedAt: return secs(j.created_at);
    case JobField::kStartedAt: return j.started_at ? std::optional<double>(secs(*j.started_at)) : std::nullopt;
    case JobField::kEndedAt: return j.ended_at ? std::optional<double>(secs(*j.ended_at)) : std::nullopt;
    case JobField::kDurationSec:
      if (!j.started_at || !j.ended_at) return std::nullopt;
      return static_cast<double>(us(*j.ended_at) - us(*j.started_at)) / 1e6;
    case JobField::kExitCode: return j.exit_code ? std::optional<double>(*j.exit_code) : std::nullopt;
  }
  return std::nullopt;
}

// "duration_sec_desc,exit_code_asc" -> keys (ParseSortSpec's rules and messages).
inline Result<std::vector<JobSortKey>> ParseJobSort(std::string_view spec) {
  ASSIGN_OR_RETURN(auto keys, ParseSortSpec(spec, kJobNumericFields));
  std::vector<JobSortKey> out;
  for (const auto& [field, desc] : keys) out.push_back({field, desc});
  return out;
}

// Filters: every set field must hold (AND); a vector with several values is IN, an empty one
// no filter. Order, identical in every implementation: the `sort` keys (NULL last in both
// directions), then newest first (created_at DESC, job_id DESC), which is also the default.
struct JobQuery {
  std::vector<JobState> statuses;
  std::vector<std::string> job_types;
  std::optional<std::string> parent_id;
  std::vector<std::string> owner_ids;
  std::vector<std::string> projects;
  // ASCII case-insensitive substring of job_id, job_type, args_preview or the params JSON
  // (DumpJson); empty = no filter (JobTextMatches).
  std::optional<std::string> text;
  std::optional<TimePoint> created_from;  // created_at >= created_from
  std::optional<TimePoint> created_to;    // created_at < created_to
  std::vector<JobBound> bounds;           // every one must hold
  std::vector<JobSortKey> sort;           // empty = newest first
  int limit = 100;   // 0 = no rows
  int offset = 0;    // negative limit or offset -> InvalidArgument
};

inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// JobQuery::text's rule, for stores that filter in memory (SQLite does the same in SQL).
inline bool JobTextMatches(const JobRecord& job, std::string_view text) {
  if (text.empty()) return true;
  const std::string needle = AsciiLower(text);
  for (const std::string& field : {job.job_id.str(), job.job_type, job.args_preview, DumpJson(job.params)}) {
    if (AsciiLower(field).find(needle) != std::string::npos) return true;
  }
  return false;
}

// JobQuery's filters, for stores that filter in memory (SQLite does the same in SQL).
inline bool JobMatches(const JobRecord& job, const JobQuery& q) {
  const auto in = [](const auto& set, const auto& v) {
    return set.empty() || std::find(set.begin(), set.end(), v) != set.end();
  };
  if (!in(q.statuses, job.status) || !in(q.job_types, job.job_type) || !in(q.projects, job.project)) return false;
  if (!q.owner_ids.empty() && (!job.owner_id || !in(q.owner_ids, *job.owner_id))) return false;
  if (q.parent_id && job.parent_id != q.parent_id) return false;
  if (q.text && !JobTextMatches(job, *q.text)) return false;
  if (q.created_from && job.created_at < *q.created_from) return false;
  if (q.created_to && !(job.created_at < *q.created_to)) return false;
  for (const JobBound& b : q.bounds) {
    const std::optional<double> v = JobNumericValue(job, b.field);
    if (!v || (b.min && *v < *b.min) || (b.max && *v > *b.max)) return false;
  }
  return true;
}

// JobQuery's order (sort keys, NULL last, then newest first), for stores that sort in memory.
inline bool JobBefore(const JobRecord& a, const JobRecord& b, const std::vector<JobSortKey>& sort) {
  for (const JobSortKey& k : sort) {
    const std::optional<double> va = JobNumericValue(a, k.field), vb = JobNumericValue(b, k.field);
    if (va.has_value() != vb.has_value()) return va.has_value();  // NULL last
    if (va && *va != *vb) return k.descending ? *va > *vb : *va < *vb;
  }
  return std::tie(a.created_at, a.job_id) > std::tie(b.created_at, b.job_id);
}

// Contract shared by every implementation (tests/store/job_store_conformance.hpp checks it):
// - Times keep microsecond precision (what PostgreSQL stores); finer parts are truncated.
// - JSON fields (params, artifacts, env) and command round-trip exactly.
// - Safe to call from many threads at once.
class JobStore {
 public:
  virtual ~JobStore() = default;

  // AlreadyExists when the id is taken.
  virtual Status InsertJob(const JobRecord& job) = 0;
  // NotFound with a clear message for an unknown id.
  virtual Result<JobRecord> GetJob(const JobId& id) = 0;
  virtual Result<std::vector<JobRecord>> ListJobs(const JobQuery& query) = 0;
  // Replaces the row only if its stored status is still `expected` (compare-and-set, so
  // two servers sharing one database never both move a job). FailedPrecondition otherwise.
  // job_type, created_at and parent_id are fixed at insert: changes to them are ignored.
  virtual Status UpdateJob(const JobRecord& job, JobState expected) = 0;
  // UpdateJob for several jobs at once (the ends a server records together): one result per
  // update, in order, each exactly what UpdateJob would have returned for it (a failed
  // compare-and-set fails that job alone). The SQLite store writes them in one transaction
  // (one commit for the lot); by default, UpdateJob for each.
  struct JobUpdate {
    const JobRecord* job = nullptr;
    JobState expected = JobState::kQueued;
  };
  virtual std::vector<Status> UpdateJobs(std::span<const JobUpdate> updates) {
    std::vector<Status> out;
    out.reserve(updates.size());
    for (const JobUpdate& u : updates) out.push_back(UpdateJob(*u.job, u.expected));
    return out;
  }
  // Claiming a queued job before it is started, with compare-and-set semantics, so several
  // servers sharing one database never start the same job (PostgreSQL: SELECT ... FOR UPDATE
  // SKIP LOCKED). A job is claimable by `claimer` while it is QUEUED and unclaimed or already
  // claimed by the same `claimer` (a restarted server keeps its name and takes its own queue
  // back). Claiming does not change the status: the claimer then moves it on with UpdateJob
  // (RUNNING, or a terminal state).
  // ClaimQueued: that job (the caller has its record). FailedPrecondition when it is not
  // QUEUED or another claimer holds it, NotFound for an unknown id, InvalidArgument for an
  // empty claimer. Of two claimers racing for one job exactly one wins.
  virtual Status ClaimQueued(const JobId& id, const std::string& claimer) = 0;
  // ClaimNext: the oldest claimable QUEUED job (created_at ASC, job_id ASC), claimed; nullopt
  // when there is none. Concurrent callers never get the same job.
  virtual Result<std::optional<JobRecord>> ClaimNext(const std::string& claimer) = 0;
  // Jobs in any of `states`, oldest first (created_at ASC, job_id ASC), for recovery and the
  // queue; an empty `states` gives no rows.
  virtual Result<std::vector<JobRecord>> ListJobsInStates(const std::vector<JobState>& states,
                                                          int limit) = 0;
  // Every state is present (0 when no job is in it).
  virtual Result<std::map<JobState, int64_t>> CountJobsByState() = 0;
  // Jobs per non-empty project, by name; only `owner_id`'s when set (a `user`'s view). The
  // default pages through ListJobs; stores override it with a GROUP BY.
  virtual Result<std::map<std::string, int64_t>> CountJobsByProject(const std::optional<std::string>& owner_id) {
    std::map<std::string, int64_t> out;
    JobQuery page;
    page.limit = 1000;
    if (owner_id) page.owner_ids = {*owner_id};
    while (true) {
      ASSIGN_OR_RETURN(std::vector<JobRecord> rows, ListJobs(page));
      for (const auto& j : rows) {
        if (!j.project.empty()) ++out[j.project];
      }
      if (static_cast<int>(rows.size()) < page.limit) return out;
      page.offset += page.limit;
    }
  }
  // --- Several servers on one database (PostgreSQL). A single-server store (SQLite, the
  // fakes) keeps the defaults: no leases, nothing to adopt, no cross-server cancels.
  // Each server holds one lease under its claimer name, covering every job it claimed
  // (QUEUED or RUNNING with claimed_by = claimer): RenewLease records a heartbeat at `now`
  // valid until now + ttl. A server whose lease expired (killed, cut off) is dead: one other
  // server adopts its jobs with AdoptExpired (the dead lease is removed and its QUEUED/RUNNING
  // jobs are claimed by `claimer` in one transaction, so two survivors never both adopt a
  // job) and recovers them as its startup recovery would. A cancel that reaches a server not
  // running the job is recorded with RequestCancel and carried out by the job's claimer,
  // which collects its requests with TakeCancelRequests.
  virtual bool SupportsLeases() const { return false; }
  virtual Status RenewLease(const std::string& claimer, TimePoint now, std::chrono::milliseconds ttl) {
    (void)claimer, (void)now, (void)ttl;
    return Status::Ok();
  }
  // The jobs of every server (other than `claimer`) whose lease expired before `now`, now
  // claimed by `claimer`, oldest first.
  virtual Result<std::vector<JobRecord>> AdoptExpired(const std::string& claimer, TimePoint now) {
    (void)claimer, (void)now;
    return std::vector<JobRecord>{};
  }
  // Unimplemented-style FailedPrecondition by default: only shared stores route cancels.
  virtual Status RequestCancel(const JobId& id, TimePoint now) {
    (void)now;
    return Status::FailedPrecondition("job " + id.str() + " is not managed by this server",
                                      Json{{"job_id", id.str()}});
  }
  // The cancel requests for jobs `claimer` holds, removed from the store (requests for jobs
  // that already ended are dropped).
  virtual Result<std::vector<JobId>> TakeCancelRequests(const std::string& claimer) {
    (void)claimer;
    return std::vector<JobId>{};
  }

  // The jobs matching the query's filters in each state, its `statuses` ignored (the status
  // tabs of the Jobs page; the total of a status filter is the sum over its states). Every
  // state is present. The default counts each state with CountJobs; the SQL stores answer
  // with one GROUP BY.
  virtual Result<std::map<JobState, int64_t>> CountJobsPerState(const JobQuery& query) {
    std::map<JobState, int64_t> out;
    JobQuery one = query;
    for (JobState st : kAllJobStates) {
      one.statuses = {st};
      ASSIGN_OR_RETURN(out[st], CountJobs(one));
    }
    return out;
  }

  // How many jobs match the query's filters (limit/offset ignored), for paging totals.
  // The default pages through ListJobs; stores override it with a COUNT(*).
  virtual Result<int64_t> CountJobs(const JobQuery& query) {
    JobQuery page = query;
    page.offset = 0;
    page.limit = 1000;
    int64_t total = 0;
    while (true) {
      ASSIGN_OR_RETURN(std::vector<JobRecord> rows, ListJobs(page));
      total += static_cast<int64_t>(rows.size());
      if (static_cast<int>(rows.size()) < page.limit) return total;
      page.offset += page.limit;
    }
  }
};

}  // namespace alphalab

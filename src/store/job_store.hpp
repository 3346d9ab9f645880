// The durable home of job rows. One interface, implemented by SQLite (default) and
// PostgreSQL (scale-out); one shared test suite runs against every implementation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/job_state.hpp"
#include "core/json.hpp"
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
  std::optional<std::string> error_message;
  std::string cwd;                    // absolute working directory of the process
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
};

struct JobQuery {
  std::optional<JobState> status;
  std::optional<std::string> job_type;
  std::optional<std::string> parent_id;
  std::optional<std::string> owner_id;
  int limit = 100;   // newest first (created_at DESC, job_id DESC); 0 = no rows
  int offset = 0;    // negative limit or offset -> InvalidArgument
};

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
  // Jobs in any of `states`, oldest first (created_at ASC, job_id ASC), for recovery and the
  // queue; an empty `states` gives no rows.
  virtual Result<std::vector<JobRecord>> ListJobsInStates(const std::vector<JobState>& states,
                                                          int limit) = 0;
  // Every state is present (0 when no job is in it).
  virtual Result<std::map<JobState, int64_t>> CountJobsByState() = 0;
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

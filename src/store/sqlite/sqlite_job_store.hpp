// JobStore over SQLite (the default, single-machine store). Rows live in the `jobs` table
// of the workspace database; the schema is versioned under the migration component "jobs".
// Times are stored as integer microseconds since the epoch; JSON fields as text.
#pragma once

#include <memory>

#include "store/job_store.hpp"
#include "store/stored_job.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace alphalab {

class SqliteJobStore final : public JobStore, public StoredJobReader {
 public:
  // Applies the "jobs" migrations to `db`, which must outlive the store.
  static Result<std::unique_ptr<SqliteJobStore>> Open(SqliteDb& db);

  Status InsertJob(const JobRecord& job) override;
  Result<JobRecord> GetJob(const JobId& id) override;
  Result<StoredJob> GetStoredJob(const JobId& id) override;
  Status ReadStoredJob(const JobId& id, const std::function<void(const StoredJobView&)>& use) override;
  Result<std::vector<JobRecord>> ListJobs(const JobQuery& query) override;
  Status UpdateJob(const JobRecord& job, JobState expected) override;
  std::vector<Status> UpdateJobs(std::span<const JobUpdate> updates) override;
  Status ClaimQueued(const JobId& id, const std::string& claimer) override;
  Result<std::optional<JobRecord>> ClaimNext(const std::string& claimer) override;
  Result<std::vector<JobRecord>> ListJobsInStates(const std::vector<JobState>& states,
                                                  int limit) override;
  Result<std::map<JobState, int64_t>> CountJobsByState() override;
  Result<int64_t> CountJobs(const JobQuery& query) override;
  Result<std::map<JobState, int64_t>> CountJobsPerState(const JobQuery& query) override;
  Result<std::map<std::string, int64_t>> CountJobsByProject(const std::optional<std::string>& owner_id) override;

  // The migrations of the "jobs" component (exposed for tests and docs).
  static const std::vector<std::string>& Migrations();

 private:
  explicit SqliteJobStore(SqliteDb& db) : db_(db) {}
  SqliteDb& db_;
};

}  // namespace alphalab

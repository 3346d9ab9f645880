// JobStore over PostgreSQL (scale-out: several servers share one database). Same table and
// semantics as SqliteJobStore (migration component "jobs"); claims take row locks
// (`FOR UPDATE SKIP LOCKED`), so concurrent servers never claim the same job and never wait
// for each other's claimed rows. Server leases (job_leases) and cross-server cancel requests
// (job_cancel_requests) live beside the jobs (JobStore's "several servers" methods).
#pragma once

#include <memory>

#include "store/job_store.hpp"
#include "store/stored_job.hpp"
#include "store/postgres/pg_db.hpp"

namespace alphalab {

class PostgresJobStore final : public JobStore, public StoredJobReader {
 public:
  // Applies the "jobs" migrations to `db`, which must outlive the store.
  static Result<std::unique_ptr<PostgresJobStore>> Open(PgDb& db);

  Status InsertJob(const JobRecord& job) override;
  Result<JobRecord> GetJob(const JobId& id) override;
  Result<StoredJob> GetStoredJob(const JobId& id) override;
  Status ReadStoredJob(const JobId& id, const std::function<void(const StoredJobView&)>& use) override;
  Result<std::vector<JobRecord>> ListJobs(const JobQuery& query) override;
  Status UpdateJob(const JobRecord& job, JobState expected) override;
  Status ClaimQueued(const JobId& id, const std::string& claimer) override;
  Result<std::optional<JobRecord>> ClaimNext(const std::string& claimer) override;
  Result<std::vector<JobRecord>> ListJobsInStates(const std::vector<JobState>& states,
                                                  int limit) override;
  Result<std::map<JobState, int64_t>> CountJobsByState() override;
  Result<int64_t> CountJobs(const JobQuery& query) override;
  Result<std::map<JobState, int64_t>> CountJobsPerState(const JobQuery& query) override;
  Result<std::map<std::string, int64_t>> CountJobsByProject(const std::optional<std::string>& owner_id) override;

  bool SupportsLeases() const override { return true; }
  Status RenewLease(const std::string& claimer, TimePoint now, std::chrono::milliseconds ttl) override;
  Result<std::vector<JobRecord>> AdoptExpired(const std::string& claimer, TimePoint now) override;
  Status RequestCancel(const JobId& id, TimePoint now) override;
  Result<std::vector<JobId>> TakeCancelRequests(const std::string& claimer) override;

  static const std::vector<std::string>& Migrations();

 private:
  explicit PostgresJobStore(PgDb& db) : db_(db) {}
  PgDb& db_;
};

}  // namespace alphalab

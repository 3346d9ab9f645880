// An in-memory JobStore for unit tests of other modules. Thread-safe; behaves like the real
// stores (the shared conformance suite in tests/store/ runs against it), including the
// microsecond time precision.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "store/job_store.hpp"

namespace alphalab {

class FakeJobStore final : public JobStore {
 public:
  Status InsertJob(const JobRecord& job) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Validate(job));
    auto [it, inserted] = jobs_.emplace(job.job_id.str(), Normalize(job));
    if (!inserted) return Status::AlreadyExists("job " + job.job_id.str() + " already exists");
    return Status::Ok();
  }

  Result<JobRecord> GetJob(const JobId& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(id.str());
    if (it == jobs_.end()) return Status::NotFound("job " + id.str() + " does not exist");
    return it->second;
  }

  Result<std::vector<JobRecord>> ListJobs(const JobQuery& query) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (query.limit < 0 || query.offset < 0) {
      return Status::InvalidArgument("job store: limit and offset must not be negative");
    }
    std::vector<JobRecord> matching = Matching(query);
    std::sort(matching.begin(), matching.end(),
              [&](const JobRecord& a, const JobRecord& b) { return JobBefore(a, b, query.sort); });
    std::vector<JobRecord> page;
    for (size_t i = static_cast<size_t>(query.offset);
         i < matching.size() && page.size() < static_cast<size_t>(query.limit); ++i) {
      page.push_back(std::move(matching[i]));
    }
    return page;
  }

  Result<int64_t> CountJobs(const JobQuery& query) override {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int64_t>(Matching(query).size());
  }

  Status UpdateJob(const JobRecord& job, JobState expected) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Validate(job));
    auto it = jobs_.find(job.job_id.str());
    if (it == jobs_.end()) return Status::NotFound("job " + job.job_id.str() + " does not exist");
    if (it->second.status != expected) {
      const std::string actual(JobStateName(it->second.status));
      const std::string wanted(JobStateName(expected));
      return Status::FailedPrecondition(
          "job " + job.job_id.str() + " is " + actual + ", expected " + wanted,
          Json{{"job_id", job.job_id.str()}, {"status", actual}, {"expected", wanted}});
    }
    JobRecord updated = Normalize(job);
    updated.job_type = it->second.job_type;  // fixed at insert
    updated.created_at = it->second.created_at;
    updated.parent_id = it->second.parent_id;
    updated.claimed_by = it->second.claimed_by;  // only the claim operations set it
    updated.project = it->second.project;        // fixed at insert
    it->second = std::move(updated);
    return Status::Ok();
  }

  Status ClaimQueued(const JobId& id, const std::string& claimer) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (claimer.empty()) return Status::InvalidArgument("job store: claimer is empty");
    auto it = jobs_.find(id.str());
    if (it == jobs_.end()) return Status::NotFound("job " + id.str() + " does not exist");
    JobRecord& job = it->second;
    if (job.status != JobState::kQueued) {
      const std::string actual(JobStateName(job.status));
      return Status::FailedPrecondition("job " + id.str() + " is " + actual + ", not QUEUED",
                                        Json{{"job_id", id.str()}, {"status", actual}});
    }
    if (job.claimed_by && *job.claimed_by != claimer) {
      return Status::FailedPrecondition("job " + id.str() + " is claimed by " + *job.claimed_by,
                                        Json{{"job_id", id.str()}, {"claimed_by", *job.claimed_by}});
    }
    job.claimed_by = claimer;
    return Status::Ok();
  }

  Result<std::optional<JobRecord>> ClaimNext(const std::string& claimer) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (claimer.empty()) return Status::InvalidArgument("job store: claimer is empty");
    JobRecord* best = nullptr;
    for (auto& [key, job] : jobs_) {
      if (job.status != JobState::kQueued || (job.claimed_by && *job.claimed_by != claimer)) continue;
      if (!best || std::tie(job.created_at, job.job_id) < std::tie(best->created_at, best->job_id)) {
        best = &job;
      }
    }
    if (!best) return std::optional<JobRecord>();
    best->claimed_by = claimer;
    return std::optional<JobRecord>(*best);
  }

  Result<std::vector<JobRecord>> ListJobsInStates(const std::vector<JobState>& states,
                                                  int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (limit < 0) return Status::InvalidArgument("job store: limit must not be negative");
    std::vector<JobRecord> matching;
    for (const auto& [id, job] : jobs_) {
      if (std::find(states.begin(), states.end(), job.status) != states.end()) {
        matching.push_back(job);
      }
    }
    std::sort(matching.begin(), matching.end(), [](const JobRecord& a, const JobRecord& b) {
      return std::tie(a.created_at, a.job_id) < std::tie(b.created_at, b.job_id);
    });
    if (matching.size() > static_cast<size_t>(limit)) matching.resize(static_cast<size_t>(limit));
    return matching;
  }

  Result<std::map<JobState, int64_t>> CountJobsByState() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<JobState, int64_t> counts;
    for (JobState state : kAllJobStates) counts[state] = 0;
    for (const auto& [id, job] : jobs_) ++counts[job.status];
    return counts;
  }


 private:
  static TimePoint Truncate(TimePoint tp) {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch())));
  }
  static std::optional<TimePoint> Truncate(const std::optional<TimePoint>& tp) {
    if (!tp) return std::nullopt;
    return Truncate(*tp);
  }
  static JobRecord Normalize(JobRecord job) {
    job.created_at = Truncate(job.created_at);
    job.started_at = Truncate(job.started_at);
    job.ended_at = Truncate(job.ended_at);
    return job;
  }
  static Status Validate(const JobRecord& job) {
    if (job.job_id.empty()) return Status::InvalidArgument("job store: job_id is empty");
    if (job.job_type.empty()) {
      return Status::InvalidArgument("job store: job " + job.job_id.str() + " has no job_type");
    }
    return Status::Ok();
  }
  std::vector<JobRecord> Matching(const JobQuery& query) const {
    std::vector<JobRecord> out;
    for (const auto& [id, job] : jobs_) {
      if (!JobMatches(job, query)) continue;
      out.push_back(job);
    }
    return out;
  }

  mutable std::mutex mu_;
  std::unordered_map<std::string, JobRecord> jobs_;
};

}  // namespace alphalab

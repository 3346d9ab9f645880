// JobReadCache: the newest `capacity` job records the jobs service wrote (submit and each
// transition, after the store write succeeded), so Get() and the detail JSON are served from
// memory. The detail JSON of a state that does not depend on the current time (any state but
// RUNNING) is serialized once, on first use. An entry never moves backwards (QUEUED < RUNNING
// < terminal), so a terminal state once served is never replaced by an older one; Drop()
// removes an entry when the store knows better (a failed write).
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "store/job_store.hpp"

namespace alphalab {

class JobReadCache {
 public:
  explicit JobReadCache(size_t capacity) : capacity_(capacity) {}

  void Put(const JobRecord& job);
  void Drop(const JobId& id);
  // nullopt when the job is not cached.
  std::optional<JobRecord> Get(const JobId& id) const;
  // The detail JSON (JobDetailJson, compact) of a cached job; nullopt when not cached.
  std::optional<std::string> DetailBody(const JobId& id, TimePoint now) const;

 private:
  struct Entry {
    JobRecord record;
    mutable std::once_flag body_once;  // detail JSON, serialized on first use; never for RUNNING
    mutable std::string body;
  };
  std::shared_ptr<const Entry> Find(const JobId& id) const;

  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<JobId, std::shared_ptr<const Entry>> entries_;
  std::deque<JobId> order_;  // insertion order, for eviction
};

}  // namespace alphalab

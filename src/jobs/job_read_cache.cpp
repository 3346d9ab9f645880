#include "jobs/job_read_cache.hpp"

#include "jobs/job_detail_body.hpp"
#include "jobs/job_dto.hpp"
#include "jobs/job_state_machine.hpp"

namespace alphalab {

void JobReadCache::Put(const JobRecord& job) {
  auto entry = std::make_shared<Entry>();
  entry->record = job;
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(job.job_id);
  if (!inserted && it->second && JobStateRank(it->second->record.status) > JobStateRank(job.status)) {
    return;  // never move backwards
  }
  it->second = std::move(entry);
  if (inserted) {
    order_.push_back(job.job_id);
    while (entries_.size() > capacity_ && !order_.empty()) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }
}

void JobReadCache::Drop(const JobId& id) {
  std::lock_guard lock(mu_);
  entries_.erase(id);  // its order_ entry is harmless (erasing a missing id is a no-op)
}

std::shared_ptr<const JobReadCache::Entry> JobReadCache::Find(const JobId& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second;
}

std::optional<JobRecord> JobReadCache::Get(const JobId& id) const {
  if (auto e = Find(id)) return e->record;
  return std::nullopt;
}

std::optional<std::string> JobReadCache::DetailBody(const JobId& id, TimePoint now) const {
  auto e = Find(id);
  if (!e) return std::nullopt;
  if (e->record.status == JobState::kRunning) return JobDetailBody(e->record, now);
  // Any other state's detail does not depend on `now`: serialized once, on first use.
  std::call_once(e->body_once, [&] { e->body = JobDetailBody(e->record, now); });
  return e->body;
}

}  // namespace alphalab

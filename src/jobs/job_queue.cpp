#include "jobs/job_queue.hpp"

#include <pthread.h>

#include <algorithm>

namespace alphalab {

JobQueue::JobQueue(JobQueueOptions options, TakeFn take)
    : slots_(std::max(1, options.slots)),
      starter_count_(std::max(1, options.starter_threads)),
      admit_backlog_(std::max(0, options.admit_backlog)),
      take_(std::move(take)) {
  for (int i = 0; i < starter_count_; ++i) {
    starters_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "jobs-start");
      StarterLoop();
    });
  }
}

JobQueue::~JobQueue() { Stop(); }

std::string JobQueue::GroupOf(const JobRecord& job) { return job.parent_id.value_or(""); }

void JobQueue::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  start_cv_.notify_all();
  admit_cv_.notify_all();
  for (auto& t : starters_) {
    if (t.joinable()) t.join();  // a start in progress completes first
  }
  starters_.clear();
}

void JobQueue::RefreshLocked(const std::string& key) {
  auto git = groups_.find(key);
  Group& g = git->second;
  while (!g.jobs.empty() && pending_.count(g.jobs.front().second) == 0) g.jobs.pop_front();
  std::optional<uint64_t> want;
  if (!g.jobs.empty()) {
    auto lim = key.empty() ? limits_.end() : limits_.find(key);
    if (lim == limits_.end() || g.in_flight < lim->second) want = g.jobs.front().first;
  }
  if (g.ready_seq != want) {
    if (g.ready_seq) ready_.erase({*g.ready_seq, key});
    if (want) ready_.insert({*want, key});
    g.ready_seq = want;
  }
  if (g.jobs.empty() && g.in_flight == 0) groups_.erase(git);
}

void JobQueue::AwaitAdmission() {
  if (admit_backlog_ <= 0) return;
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + kAdmitMaxWait;
  while (!stopped_ && static_cast<int>(pending_.size()) >= admit_backlog_) {
    const auto now = std::chrono::steady_clock::now();
    // Not moving (every slot is held by a running job) or waited long enough: accept.
    if (now - last_progress_ >= kAdmitStall || now >= deadline) return;
    ++admit_waiters_;
    admit_cv_.wait_until(lock, std::min(deadline, last_progress_ + kAdmitStall));
    --admit_waiters_;
  }
}

bool JobQueue::StartableLocked() const {
  return static_cast<int>(in_flight_.size()) < slots_ && !ready_.empty();
}

bool JobQueue::Push(JobRecord job) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return false;
    if (pending_.count(job.job_id) != 0 || in_flight_.count(job.job_id) != 0) return true;
    const std::string key = GroupOf(job);
    if (!key.empty() && job.max_inflight) limits_[key] = std::max(1, *job.max_inflight);
    if (pending_.empty()) last_progress_ = std::chrono::steady_clock::now();
    const JobId id = job.job_id;
    groups_[key].jobs.emplace_back(next_seq_++, id);
    pending_.emplace(id, std::move(job));
    RefreshLocked(key);
    // With every slot held (or its group at its bound) no starter could take it now: the
    // Release that frees a slot wakes one then.
    wake = StartableLocked();
  }
  if (wake) start_cv_.notify_one();
  return true;
}

std::optional<JobRecord> JobQueue::Remove(const JobId& id) {
  std::optional<JobRecord> out;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return std::nullopt;
    out = std::move(it->second);
    pending_.erase(it);
    const std::string key = GroupOf(*out);
    if (groups_.count(key) != 0) RefreshLocked(key);
  }
  idle_cv_.notify_all();
  return out;
}

void JobQueue::Hold(const JobRecord& job) {
  std::lock_guard lock(mu_);
  const std::string key = GroupOf(job);
  if (!in_flight_.emplace(job.job_id, key).second) return;
  if (!key.empty() && job.max_inflight) limits_[key] = std::max(1, *job.max_inflight);
  ++groups_[key].in_flight;
  RefreshLocked(key);
}

void JobQueue::Release(const JobId& id) {
  bool wake = false;
  bool idle = false;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) return;
    const std::string key = std::move(it->second);
    in_flight_.erase(it);
    auto git = groups_.find(key);
    if (git != groups_.end()) {
      --git->second.in_flight;
      RefreshLocked(key);
    }
    // A starter is woken only when a job may start now: most ends find nothing queued, and a
    // wake-up then cost a thread switch in and out for nothing.
    wake = StartableLocked();
    idle = in_flight_.empty() && pending_.empty();
  }
  if (idle) idle_cv_.notify_all();
  if (wake) start_cv_.notify_one();
}

bool JobQueue::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return in_flight_.empty() && pending_.empty(); });
}

size_t JobQueue::queued() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

uint64_t JobQueue::starter_wakeups() const {
  std::lock_guard lock(mu_);
  return starter_wakeups_;
}

int JobQueue::in_flight() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(in_flight_.size());
}

int JobQueue::in_flight(const std::string& group) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  return it == groups_.end() ? 0 : it->second.in_flight;
}

void JobQueue::StarterLoop() {
  for (;;) {
    std::function<void()> next;
    {
      std::unique_lock lock(mu_);
      while (!stopped_ && !StartableLocked()) {
        start_cv_.wait(lock);
        ++starter_wakeups_;
      }
      if (stopped_) return;
      const std::string key = ready_.begin()->second;
      Group& g = groups_.at(key);
      const JobId id = g.jobs.front().second;  // live: RefreshLocked keeps heads live
      g.jobs.pop_front();
      auto it = pending_.find(id);
      JobRecord job = std::move(it->second);
      pending_.erase(it);
      ++g.in_flight;
      in_flight_.emplace(id, key);
      RefreshLocked(key);
      last_progress_ = std::chrono::steady_clock::now();
      // One job left the queue, so one waiting submit may go on (with the default backlog of
      // 1); waking every waiter made the others take the lock only to wait again.
      if (admit_waiters_ > 0) admit_cv_.notify_one();
      next = take_(std::move(job));
    }
    if (next) next();
  }
}

}  // namespace alphalab

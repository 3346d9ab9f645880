// JobQueue: admission, slots and the starters of the jobs service.
//
// Jobs wait in FIFO order. Starter threads (`starter_threads`) take the oldest job that may
// start while fewer than `slots` jobs are in flight, and hand it to the owner (TakeFn, called
// under the queue's lock at the moment the job leaves the queue; what it returns runs on the
// starter thread outside the lock: the claim and the spawn). A job stays in flight until the
// owner Release()s it (it ended).
//
// Groups: jobs with the same parent_id form a group; a job submitted with max_inflight bounds
// its group (the newest bound given wins): at most that many jobs of the group are in flight
// at once. A group at its bound is skipped, so jobs of other groups (and ungrouped jobs)
// behind it start in their FIFO order; its next job starts when one of its jobs ends. Taking
// the next job costs O(log groups), however many jobs wait in a bounded group.
//
// Flow control (AwaitAdmission, before a job exists): while admit_backlog jobs are queued
// and the queue is moving (a starter took a job, or a job entered an empty queue, within
// kAdmitStall), the caller waits (at most kAdmitMaxWait), so a burst of submits cannot pile
// jobs up faster than they can be started. A queue that waits for slots held by running jobs
// does not move, and nobody waits for it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/job_store.hpp"

namespace alphalab {

struct JobQueueOptions {
  int slots = 1;            // jobs in flight at once (>= 1)
  int starter_threads = 2;  // >= 1; with 1, jobs are also started strictly in FIFO order
  int admit_backlog = 1;    // 0 = AwaitAdmission never waits
};

class JobQueue {
 public:
  // Called on a starter thread with the queue's lock held when `job` leaves the queue and
  // takes a slot; must be quick and must not call into the queue. Returns the work to run
  // next on that thread, outside the lock (may be empty).
  using TakeFn = std::function<std::function<void()>(JobRecord job)>;

  JobQueue(JobQueueOptions options, TakeFn take);
  ~JobQueue();
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // The group of a job: its parent_id ("" = no group, never bounded).
  static std::string GroupOf(const JobRecord& job);

  void AwaitAdmission();
  // Appends a job (a job already queued is not added twice). False after Stop().
  bool Push(JobRecord job);
  // Takes a job out of the queue before it was started: its record, or nullopt when it is
  // not queued (taken by a starter, or never queued).
  std::optional<JobRecord> Remove(const JobId& id);
  // A job in flight that was not taken from this queue (re-attached after a restart): it
  // holds a slot and a place in its group until Release().
  void Hold(const JobRecord& job);
  // A job in flight ended (or was never started after all): frees its slot.
  void Release(const JobId& id);
  // Stops the starters (a start in progress completes first). Queued jobs stay queued.
  void Stop();
  // Blocks until nothing is queued or in flight (true) or the timeout passed.
  bool WaitIdle(std::chrono::milliseconds timeout);

  size_t queued() const;
  int in_flight() const;
  int in_flight(const std::string& group) const;
  int slots() const { return slots_; }
  // How often a waiting starter was woken so far (whether it then took a job or not).
  uint64_t starter_wakeups() const;
  int starter_threads() const { return starter_count_; }

  static constexpr std::chrono::milliseconds kAdmitStall{50};
  static constexpr std::chrono::milliseconds kAdmitMaxWait{1000};

 private:
  struct Group {
    std::deque<std::pair<uint64_t, JobId>> jobs;  // (sequence, id), FIFO; may hold removed ids
    int in_flight = 0;
    std::optional<uint64_t> ready_seq;  // its position in ready_ (the head's sequence)
  };
  // A job may start now: a free slot and a startable group head. Call with mu_ held.
  bool StartableLocked() const;
  // Drops removed ids from the head, puts the group in ready_ (or out of it) by its head and
  // bound, and forgets it when it is empty. `key` must be in groups_.
  void RefreshLocked(const std::string& key);
  void StarterLoop();

  const int slots_;
  const int starter_count_;
  const int admit_backlog_;
  const TakeFn take_;

  mutable std::mutex mu_;
  std::condition_variable start_cv_;  // a job may start (queued, slot freed) or stop
  std::condition_variable idle_cv_;
  std::condition_variable admit_cv_;  // a starter took a job (flow control)
  std::unordered_map<JobId, JobRecord> pending_;     // queued
  std::unordered_map<std::string, Group> groups_;    // groups with queued or in-flight jobs
  std::unordered_map<std::string, int> limits_;      // group -> in-flight bound
  std::set<std::pair<uint64_t, std::string>> ready_;  // (head sequence, group) of startable groups
  std::unordered_map<JobId, std::string> in_flight_;  // job -> group
  uint64_t next_seq_ = 0;
  bool stopped_ = false;
  int admit_waiters_ = 0;
  uint64_t starter_wakeups_ = 0;
  // When the queue last moved: a starter took a job, or a job entered an empty queue.
  std::chrono::steady_clock::time_point last_progress_;
  std::vector<std::thread> starters_;
};

}  // namespace alphalab

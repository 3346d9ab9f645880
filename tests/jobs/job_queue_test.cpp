// JobQueue on its own: FIFO, slots, per-group in-flight bounds, removal and held slots.
#include "jobs/job_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace alphalab {
namespace {

using namespace std::chrono_literals;

JobRecord Job(const std::string& id, std::optional<std::string> parent = std::nullopt,
              std::optional<int> max_inflight = std::nullopt) {
  JobRecord job;
  job.job_id = JobId(id);
  job.job_type = "t";
  job.parent_id = std::move(parent);
  job.max_inflight = max_inflight;
  return job;
}

// Records what the starters take, in order.
class Taken {
 public:
  JobQueue::TakeFn Fn() {
    return [this](JobRecord job) -> std::function<void()> {
      std::lock_guard lock(mu_);
      ids_.push_back(job.job_id.str());
      cv_.notify_all();
      return nullptr;
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return ids_.size() >= n; });
  }
  std::vector<std::string> ids() {
    std::lock_guard lock(mu_);
    return ids_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> ids_;
};

TEST(JobQueueTest, StartsInFifoOrderWithinTheSlots) {
  Taken taken;
  JobQueue q({.slots = 2, .starter_threads = 1, .admit_backlog = 0}, taken.Fn());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.Push(Job("j" + std::to_string(i))));
  ASSERT_TRUE(taken.WaitFor(2));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(taken.ids(), (std::vector<std::string>{"j0", "j1"}));
  EXPECT_EQ(q.queued(), 3u);
  q.Release(JobId("j1"));
  ASSERT_TRUE(taken.WaitFor(3));
  EXPECT_EQ(taken.ids().back(), "j2");
  EXPECT_FALSE(q.WaitIdle(10ms));
  for (const char* id : {"j0", "j2"}) q.Release(JobId(id));
  ASSERT_TRUE(taken.WaitFor(5));
  for (const char* id : {"j3", "j4"}) q.Release(JobId(id));
  EXPECT_TRUE(q.WaitIdle(1s));
}

TEST(JobQueueTest, AStarterIsWokenOnlyWhenAJobMayStart) {
  // Jobs that end as soon as they start (the common case with free slots): each Push wakes one
  // starter, which takes the job; the job's end (Release) finds nothing queued and wakes
  // nobody. Waking a starter at every end cost a thread switch in and out for nothing.
  std::atomic<JobQueue*> queue{nullptr};
  std::atomic<int> ended{0};
  JobQueue q({.slots = 32, .starter_threads = 4, .admit_backlog = 0}, [&](JobRecord job) -> std::function<void()> {
    return [&, id = job.job_id] {
      queue.load()->Release(id);
      ended.fetch_add(1);
    };
  });
  queue = &q;
  std::this_thread::sleep_for(20ms);  // every starter waiting
  const uint64_t before = q.starter_wakeups();
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(q.Push(Job("w" + std::to_string(i))));
    for (int spin = 0; spin < 5000 && ended.load() <= i; ++spin) std::this_thread::sleep_for(100us);
    ASSERT_EQ(ended.load(), i + 1);
  }
  const uint64_t wakeups = q.starter_wakeups() - before;
  EXPECT_GE(wakeups, static_cast<uint64_t>(kJobs) / 2);  // the jobs were taken by woken starters
  EXPECT_LE(wakeups, static_cast<uint64_t>(kJobs) + kJobs / 10) << "ends woke starters with nothing to start";
  // With every slot held, a Push wakes nobody; the Release that frees a slot does.
  JobQueue full({.slots = 1, .starter_threads = 2, .admit_backlog = 0}, [](JobRecord) { return std::function<void()>(); });
  ASSERT_TRUE(full.Push(Job("holder")));
  for (int spin = 0; spin < 5000 && full.in_flight() == 0; ++spin) std::this_thread::sleep_for(100us);
  ASSERT_EQ(full.in_flight(), 1);
  std::this_thread::sleep_for(20ms);
  const uint64_t idle = full.starter_wakeups();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(full.Push(Job("q" + std::to_string(i))));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(full.starter_wakeups(), idle);
  EXPECT_EQ(full.queued(), 20u);
  full.Release(JobId("holder"));
  for (int spin = 0; spin < 5000 && full.queued() == 20u; ++spin) std::this_thread::sleep_for(100us);
  EXPECT_EQ(full.queued(), 19u);
  EXPECT_EQ(full.in_flight(), 1);
}

TEST(JobQueueTest, ABoundedGroupIsSkippedAndOthersStartInOrder) {
  Taken taken;
  JobQueue q({.slots = 10, .starter_threads = 2, .admit_backlog = 0}, taken.Fn());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(q.Push(Job("a" + std::to_string(i), "opt_a", 2)));
  ASSERT_TRUE(q.Push(Job("b0", "opt_b", 1)));
  ASSERT_TRUE(q.Push(Job("b1", "opt_b")));  // the group keeps its bound
  ASSERT_TRUE(q.Push(Job("free")));
  ASSERT_TRUE(taken.WaitFor(4));
  std::this_thread::sleep_for(30ms);
  std::vector<std::string> ids = taken.ids();
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a0", "a1", "b0", "free"}));
  EXPECT_EQ(q.in_flight("opt_a"), 2);
  EXPECT_EQ(q.in_flight("opt_b"), 1);
  EXPECT_EQ(q.in_flight(), 4);
  q.Release(JobId("b0"));
  ASSERT_TRUE(taken.WaitFor(5));
  EXPECT_EQ(taken.ids().back(), "b1");
  q.Release(JobId("a0"));
  ASSERT_TRUE(taken.WaitFor(6));
  EXPECT_EQ(taken.ids().back(), "a2") << "a group's own jobs start in FIFO order";
  EXPECT_EQ(q.in_flight("opt_a"), 2);
}

TEST(JobQueueTest, RemovedJobsNeverStartAndHeldJobsTakeSlots) {
  Taken taken;
  JobQueue q({.slots = 1, .starter_threads = 1, .admit_backlog = 0}, taken.Fn());
  q.Hold(Job("old", "opt_h", 1));  // re-attached after a restart
  ASSERT_TRUE(q.Push(Job("h1", "opt_h", 1)));
  ASSERT_TRUE(q.Push(Job("x1")));
  ASSERT_TRUE(q.Push(Job("x2")));
  std::this_thread::sleep_for(30ms);
  EXPECT_TRUE(taken.ids().empty()) << "the held job takes the only slot";
  std::optional<JobRecord> removed = q.Remove(JobId("h1"));
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->parent_id, "opt_h");
  EXPECT_FALSE(q.Remove(JobId("h1")).has_value());
  q.Release(JobId("old"));
  ASSERT_TRUE(taken.WaitFor(1));
  EXPECT_EQ(taken.ids(), (std::vector<std::string>{"x1"}));
  EXPECT_FALSE(q.Remove(JobId("x1")).has_value()) << "taken: no longer removable";
  q.Release(JobId("x1"));
  ASSERT_TRUE(taken.WaitFor(2));
  q.Release(JobId("x2"));
  EXPECT_TRUE(q.WaitIdle(1s));
  q.Stop();
  EXPECT_FALSE(q.Push(Job("late")));
}

}  // namespace
}  // namespace alphalab

#include "core/parallel_for.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace alphalab {
namespace {

long Tid() { return ::syscall(SYS_gettid); }

int Nice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(Tid())); }

void Pause() { std::this_thread::sleep_for(std::chrono::milliseconds(2)); }

TEST(ParallelForTest, EveryIndexExactlyOnce) {
  for (size_t workers : {0, 1, 2, 3, 8}) {
    for (size_t count : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(count);
      ParallelFor(count, workers, [&](size_t i) { ++hits[i]; });
      for (size_t i = 0; i < count; ++i) EXPECT_EQ(hits[i].load(), 1) << "workers " << workers << ", item " << i;
    }
  }
}

// The helpers are parked threads reused by every call, not threads made per call (the old
// loop started and joined a new thread per call: each call that shared its items showed a
// new thread id).
TEST(ParallelForTest, HelpersAreReusedAcrossCalls) {
  ParallelFor(2, 2, [](size_t) {});
  const size_t pool = parallel_detail::PoolThreads();
  ASSERT_GE(pool, 1u);
  std::mutex mu;
  std::set<long> helpers;
  size_t shared_calls = 0;
  const long caller = Tid();
  for (int call = 0; call < 30; ++call) {
    bool shared = false;
    ParallelFor(8, 2, [&](size_t) {
      Pause();
      std::lock_guard lock(mu);
      if (Tid() != caller) shared = true, helpers.insert(Tid());
    });
    shared_calls += shared;
  }
  EXPECT_GT(shared_calls, 0u) << "a helper never joined in 30 calls";
  EXPECT_EQ(parallel_detail::PoolThreads(), pool) << "sequential calls started new threads";
  EXPECT_LE(helpers.size(), pool) << "helpers seen: " << helpers.size() << " in " << shared_calls << " calls";
}

// Busy for about `micros` of this thread's CPU.
void Spin(int micros) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(micros);
  while (std::chrono::steady_clock::now() < until) {
  }
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A helper watches for the next call before it parks, so a call right after the previous
// one (a grid's phases, grid after grid) needs no wake (20-80 us on a VM, several percent of a
// 1.5 ms grid). Seen from the caller: right after a call the helper it joined has not parked
// yet; a few milliseconds later it has (once per call). Judged on the calls whose two threads
// really ran at once (on a loaded machine they often share one core: nothing to judge).
// Under a loaded machine (ctest -j, other processes) a helper can be preempted inside its
// watching window and park late or early whatever the code does, so the test looks at up to
// three windows of calls and passes when one of them shows the helper still watching after most
// calls. Without the watching, no call in any window shows it (the helper parks before the
// caller returns).
TEST(ParallelForTest, HelpersWatchBeforeParking) {
  ParallelFor(2, 2, [](size_t) { Spin(200); });  // the helper exists
  int judged_total = 0, parked_total = 0;
  std::string seen;
  for (int window = 0; window < 3; ++window) {
    int judged = 0, parked_later = 0;
    for (int call = 0; call < 400 && judged < 40; ++call) {
      const auto before = parallel_detail::Stats();
      const auto t0 = std::chrono::steady_clock::now();
      const double cpu0 = ProcessCpuSeconds();
      ParallelFor(20, 2, [](size_t) { Spin(25); });  // small items: both threads end within ~25 us
      const double cpu = ProcessCpuSeconds() - cpu0;
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto right_after = parallel_detail::Stats();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const auto later = parallel_detail::Stats();
      if (right_after.joins == before.joins || cpu < 1.6 * wall) continue;  // not on two cores at once
      ++judged;
      parked_later += later.parks - right_after.parks == 1;
    }
    judged_total += judged;
    parked_total += parked_later;
    seen += " " + std::to_string(parked_later) + "/" + std::to_string(judged);
    if (judged >= 10 && parked_later * 10 >= judged * 6) return;  // watching seen in this window
  }
  if (judged_total < 10) GTEST_SKIP() << "the two threads ran at once in only " << judged_total << " calls (a loaded machine)";
  if (parked_total * 10 >= judged_total * 6) return;  // the windows together show it
  ADD_FAILURE() << "calls where the helper parked only after the caller looked, per window:" << seen;
}

// ExpectParallelFor starts the helpers a pool lacks (a process's first grid: their start
// overlaps the serial part) and does nothing more when they are there.
TEST(ParallelForTest, ExpectStartsMissingHelpers) {
  std::thread fresh([] {  // a nice value no other test uses: a pool of its own, no thread yet
    ASSERT_EQ(setpriority(PRIO_PROCESS, static_cast<id_t>(Tid()), Nice() + 3), 0);
    ASSERT_EQ(parallel_detail::PoolThreads(), 0u);
    ExpectParallelFor(3);
    EXPECT_EQ(parallel_detail::PoolThreads(), 2u);
    ExpectParallelFor(3);
    EXPECT_EQ(parallel_detail::PoolThreads(), 2u);
    std::atomic<int> sum{0};
    ParallelFor(100, 3, [&](size_t i) { sum += static_cast<int>(i); });
    EXPECT_EQ(sum.load(), 4950);
    EXPECT_EQ(parallel_detail::PoolThreads(), 2u);
  });
  fresh.join();
}

// Watching is bounded: an idle pool sleeps (the server shares its cores with jobs).
TEST(ParallelForTest, IdleHelpersUseNoCpu) {
  for (int call = 0; call < 50; ++call) ParallelFor(4, 3, [](size_t) { Spin(20); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // well past the watching time
  const double cpu0 = ProcessCpuSeconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double used = ProcessCpuSeconds() - cpu0;
  EXPECT_LT(used, 0.01) << "the idle pool used " << used * 1e3 << " ms of CPU in 200 ms";
  const auto stats = parallel_detail::Stats();
  EXPECT_GT(stats.parks, 0u);
}

TEST(ParallelForTest, NestedAndConcurrentCallsComplete) {
  std::atomic<size_t> sum{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      ParallelFor(6, 2, [&](size_t i) { ParallelFor(10, 3, [&](size_t j) { sum += i * 10 + j; }); });
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(sum.load(), 4u * (59u * 60u / 2));
}

// A caller's helpers run at the caller's nice value: a sweep at nice +5 (optimize's fast
// path) gets no helper at 0, and a later grid at 0 no helper lowered to +5.
TEST(ParallelForTest, HelpersRunAtTheCallersNice) {
  auto niceties = [] {
    std::mutex mu;
    std::set<long> tids;
    std::set<int> nices;
    ParallelFor(20, 2, [&](size_t) {
      Pause();
      std::lock_guard lock(mu);
      tids.insert(Tid());
      nices.insert(Nice());
    });
    EXPECT_EQ(tids.size(), 2u) << "the helper did not join";
    return nices;
  };
  const int base = Nice();
  ASSERT_LE(base, 14);
  EXPECT_EQ(niceties(), std::set<int>{base});
  std::set<int> lowered;
  std::thread sweep([&] {
    ASSERT_EQ(setpriority(PRIO_PROCESS, static_cast<id_t>(Tid()), base + 5), 0);
    lowered = niceties();
  });
  sweep.join();
  EXPECT_EQ(lowered, std::set<int>{base + 5});
  EXPECT_EQ(niceties(), std::set<int>{base});
}

// The CPUs a thread may run on, from /proc/<self|thread-self>/[task/<tid>/]status
// (Cpus_allowed_list: "0-1,3").
std::set<int> AllowedCpus(const std::string& status_path) {
  std::ifstream in(status_path);
  std::set<int> cpus;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Cpus_allowed_list:", 0) != 0) continue;
    std::stringstream list(line.substr(18));
    for (std::string range; std::getline(list, range, ',');) {
      const size_t dash = range.find('-');
      const int lo = std::stoi(range.substr(0, dash));
      const int hi = dash == std::string::npos ? lo : std::stoi(range.substr(dash + 1));
      for (int c = lo; c <= hi; ++c) cpus.insert(c);
    }
  }
  return cpus;
}

// A parked helper may not run on its last caller's CPU (its affinity leaves that CPU out
// until it claims its next call, then is whole again), so that the wake that ends its park
// cannot stack it onto the caller's busy CPU: a kernel that packs runnable threads onto few
// vCPUs did that, and the caller then ran whole grids alone (core/parallel_for.cpp).
TEST(ParallelForTest, AParkedHelperAvoidsItsCallersCpuUntilItIsCalled) {
  const std::set<int> whole = AllowedCpus("/proc/thread-self/status");
  if (whole.size() < 2) GTEST_SKIP() << "one CPU: nothing to avoid";
  std::thread caller([&] {
    std::mutex mu;
    std::set<long> helpers;
    std::vector<std::set<int>> seen;  // the helper's allowed CPUs, read inside its items
    auto call = [&] {
      std::set<long> tids;
      ParallelFor(8, 2, [&](size_t) {
        Pause();
        const long tid = Tid();
        std::set<int> cpus = AllowedCpus("/proc/thread-self/status");
        std::lock_guard lock(mu);
        tids.insert(tid);
        if (helpers.count(tid)) seen.push_back(std::move(cpus));
      });
      tids.erase(Tid());
      return tids;
    };
    helpers = call();  // the helper starts with the caller's whole affinity (it inherits it)
    ASSERT_EQ(helpers.size(), 1u) << "the helper did not join";
    // Then the caller on one CPU, so that "its CPU" stays the same.
    const int cpu = *whole.begin();
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    ASSERT_EQ(call(), helpers);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // watched, then parked
    std::set<int> parked = AllowedCpus("/proc/self/task/" + std::to_string(*helpers.begin()) + "/status");
    std::set<int> expected = whole;
    expected.erase(cpu);
    EXPECT_EQ(parked, expected) << "parked: every CPU but its caller's (" << cpu << ")";
    seen.clear();
    EXPECT_EQ(call(), helpers) << "the same helper serves the next call";
    ASSERT_FALSE(seen.empty());
    for (const auto& s : seen) EXPECT_EQ(s, whole) << "in a call: its whole affinity back";
  });
  caller.join();
}

}  // namespace
}  // namespace alphalab

#include "core/parallel_for.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

namespace alphalab::parallel_detail {

namespace {

// The calling thread's nice value (Linux: per thread).
int ThreadNice() {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
  return errno == 0 ? nice : 0;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One step of a watching loop: tells the core (and a hyperthread sibling) that this thread waits.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Locks `mu`, trying for a moment before blocking: its holders keep it for a few
// instructions, and a blocked thread costs a kernel wake to its unlocker and a wake latency
// to itself.
void LockSoon(std::mutex& mu) {
  for (int i = 0; i < 256; ++i) {
    if (mu.try_lock()) return;
    CpuRelax();
  }
  mu.lock();
}

// Watches `flag` until it is non-zero (or zero: `nonzero` false) or `micros` have passed;
// true if it did. Politely: every few microseconds the core is offered to any other thread
// that wants it (sched_yield returns at once when none does), so that on a busy machine a
// watcher does not hold up the thread it waits for, or anyone else.
template <typename T>
bool WatchFor(const std::atomic<T>& flag, bool nonzero, int64_t micros = kSpinMicros) {
  const int64_t until = NowNs() + micros * 1000;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if ((flag.load(std::memory_order_acquire) != 0) == nonzero) return true;
      CpuRelax();
    }
    if (NowNs() >= until) return false;
    sched_yield();
  }
}

// The calling thread's affinity without `cpu` (the kernel moves it off `cpu` at once if it is
// there); `saved` receives the affinity to restore later (RestoreAffinity). False (nothing
// changed) when `cpu` is unknown or the only CPU it may use.
//
// Why: a helper stacked on its caller's CPU helps nobody, the two take turns. This VM's kernel
// packs runnable threads onto as few vCPUs as it can: it woke a parked helper onto its caller's
// busy vCPU, where it waited for the caller's slice, and a helper watching there looked
// cache-hot to the load balancer and stayed; the caller then ran whole grids alone
// (docs/benchmarks.md, session 17). So a helper about to park leaves its last caller's CPU out
// until it claims its next call, and one that joins on its caller's CPU moves off it.
bool ExcludeCpu(int cpu, cpu_set_t& saved) {
  CPU_ZERO(&saved);
  if (cpu < 0 || sched_getaffinity(0, sizeof saved, &saved) != 0 || !CPU_ISSET(cpu, &saved) || CPU_COUNT(&saved) < 2) {
    return false;
  }
  cpu_set_t others = saved;
  CPU_CLR(cpu, &others);
  return sched_setaffinity(0, sizeof others, &others) == 0;
}

void RestoreAffinity(const cpu_set_t& saved) { sched_setaffinity(0, sizeof saved, &saved); }

// Moves the calling thread off `cpu` to another CPU it may run on (none: stays), its affinity
// whole again afterwards (the thread stays where it went).
void MoveOffCpu(int cpu) {
  cpu_set_t saved;
  if (ExcludeCpu(cpu, saved)) RestoreAffinity(saved);
}

// The process's helper threads, one pool per nice value of the callers: a helper is created
// by a caller (so it inherits that caller's nice) and only ever serves callers of the same
// nice, so that a sweep at nice +5 (optimize's fast path) runs every one of its threads at
// +5 and a grid asked at nice 0 never runs on a helper lowered by a sweep (an unprivileged
// thread cannot raise its priority back). Created on first need, grown to the most helpers
// asked for at once (at most kMaxThreads), never stopped: the pools are leaked on purpose
// so that no helper outlives a destroyed pool at exit.
//
// A helper is, in turn: inside a call's items; watching (after a call, for kSpinMicros: the
// next call is taken without a wake); parked on `wake_` (a caller wakes only as many as the
// watching ones do not cover).
class Pool {
 public:
  static std::mutex& RegistryMutex() {
    static std::mutex mu;
    return mu;
  }
  static std::map<int, Pool*>& Registry() {
    static auto* pools = new std::map<int, Pool*>;
    return *pools;
  }

  static Pool& ForCaller() {
    const int nice = ThreadNice();
    std::lock_guard lock(RegistryMutex());
    Pool*& pool = Registry()[nice];
    if (!pool) pool = new Pool;
    return *pool;
  }

  size_t Threads() {
    std::lock_guard lock(mu_);
    return threads_;
  }

  void AddStats(PoolStats& out) {
    std::lock_guard lock(mu_);
    out.calls += stats_.calls;
    out.joins += stats_.joins;
    out.caught += stats_.caught;
    out.wakes += stats_.wakes;
    out.expects += stats_.expects;
    out.parks += stats_.parks;
    out.caller_parks += stats_.caller_parks;
    out.join_delay_ns += stats_.join_delay_ns;
    out.caller_ns += stats_.caller_ns;
    out.caller_items_ns += stats_.caller_items_ns;
    out.helper_items_ns += stats_.helper_items_ns;
    out.moves += moves_.load(std::memory_order_relaxed);
  }

  void Expect(size_t helpers) {
    size_t wake = 0;
    {
      LockSoon(mu_);
      std::lock_guard lock(mu_, std::adopt_lock);
      const size_t up = idle_ - parked_ + expected_;  // watching, or asked up already
      size_t missing = helpers > up ? helpers - up : 0;
      wake = std::min(missing, parked_ - expected_);
      expected_ += wake;
      stats_.wakes += wake;
      stats_.expects += wake;
      missing -= wake;
      // Too few threads yet (a process's first grid): start them now, so that their start
      // overlaps the serial part too; they watch as the ones asked up do.
      try {
        for (; missing > 0 && threads_ < kMaxThreads; --missing, ++threads_, ++idle_) {
          std::thread([this] { Loop(kExpectMicros); }).detach();
        }
      } catch (const std::system_error&) {  // no more threads now: the call makes do
      }
    }
    if (wake == 1) {
      wake_.notify_one();
    } else if (wake > 1) {
      wake_.notify_all();
    }
  }

  void Run(Batch& batch, size_t helpers) {
    size_t wake = 0;
    const int64_t entered = NowNs();
    {
      LockSoon(mu_);
      std::lock_guard lock(mu_, std::adopt_lock);
      ++stats_.calls;
      batch.posted_ns = entered;
      batch.caller_cpu = sched_getcpu();
      last_caller_cpu_.store(batch.caller_cpu, std::memory_order_relaxed);
      for (size_t h = 0; h < helpers; ++h) queue_.push_back(&batch);
      queued_.store(queue_.size(), std::memory_order_release);
      // Enough idle threads for every request in the queue (others' included).
      size_t wanted = queue_.size() > idle_ ? queue_.size() - idle_ : 0;
      try {
        for (; wanted > 0 && threads_ < kMaxThreads; --wanted, ++threads_, ++idle_) {
          std::thread([this] { Loop(kSpinMicros); }).detach();  // idle from now on: a later call counts it
        }
      } catch (const std::system_error&) {  // no more threads now: the ones there (and the caller) do it
      }
      // The watching helpers (the ones just started, the ones asked up) take requests
      // without a wake.
      const size_t up = idle_ - parked_ + expected_;
      wake = queue_.size() > up ? std::min(queue_.size() - up, parked_ - expected_) : 0;
      stats_.wakes += wake;
    }
    if (wake == 1) {
      wake_.notify_one();
    } else if (wake > 1) {
      wake_.notify_all();
    }
    int64_t drained = 0;
    try {
      batch.Drain();
      drained = NowNs();
    } catch (...) {  // fn threw on this thread: the helpers leave `batch` before it goes
      batch.next = batch.count;
      Settle(batch, entered, entered);
      throw;
    }
    Settle(batch, entered, drained);
  }

 private:
  static constexpr size_t kMaxThreads = 256;

  // Takes back the requests no helper has claimed and waits for the helpers that did:
  // watching first (a helper's last item usually ends within microseconds), then parked.
  // `entered`, `drained`: when the caller came in and ran out of items (statistics).
  void Settle(Batch& batch, int64_t entered, int64_t drained) {
    LockSoon(mu_);
    std::unique_lock lock(mu_, std::adopt_lock);
    std::erase(queue_, &batch);
    queued_.store(queue_.size(), std::memory_order_release);
    if (batch.active.load(std::memory_order_acquire) != 0) {
      lock.unlock();
      const bool done = WatchFor(batch.active, false);
      LockSoon(mu_);
      lock = std::unique_lock(mu_, std::adopt_lock);
      if (!done && batch.active.load(std::memory_order_acquire) != 0) {
        ++stats_.caller_parks;
        done_.wait(lock, [&] { return batch.active.load(std::memory_order_acquire) == 0; });
      }
    }
    stats_.caller_items_ns += static_cast<uint64_t>(drained - entered);
    stats_.caller_ns += static_cast<uint64_t>(NowNs() - entered);
  }

  // `watch`: how long a new thread watches for its first call.
  void Loop(int64_t watch) {
    LockSoon(mu_);
    std::unique_lock lock(mu_, std::adopt_lock);
    bool woken = true;  // a new thread's first call counts as a wake (no watching yet)
    cpu_set_t saved;
    bool narrowed = false;  // affinity narrowed by ExcludeCpu, to restore once claimed
    for (;;) {  // counted in idle_ from its start (by the caller that made it) until it claims
      if (queue_.empty()) {
        lock.unlock();
        if (!WatchFor(queued_, true, watch) && !narrowed) {
          narrowed = ExcludeCpu(last_caller_cpu_.load(std::memory_order_relaxed), saved);
        }
        watch = kSpinMicros;
        LockSoon(mu_);
        lock = std::unique_lock(mu_, std::adopt_lock);
        if (queue_.empty()) {
          ++stats_.parks;
          ++parked_;
          wake_.wait(lock, [&] { return !queue_.empty() || expected_ > 0; });
          --parked_;
          woken = true;
          if (expected_ > 0) {  // got up ahead of a call (or took the place of one that was)
            --expected_;
            watch = kExpectMicros;
            continue;
          }
        }
      }
      --idle_;
      Batch* batch = queue_.front();
      queue_.pop_front();
      queued_.store(queue_.size(), std::memory_order_release);
      batch->active.fetch_add(1, std::memory_order_acq_rel);
      ++stats_.joins;
      stats_.caught += woken ? 0 : 1;
      woken = false;
      stats_.join_delay_ns += static_cast<uint64_t>(std::max<int64_t>(0, NowNs() - batch->posted_ns));
      const int caller_cpu = batch->caller_cpu;
      lock.unlock();
      if (narrowed) {
        RestoreAffinity(saved);
        narrowed = false;
      }
      if (caller_cpu >= 0 && sched_getcpu() == caller_cpu) {
        ++moves_;  // statistics, read under mu_ by AddStats (a relaxed counter is enough)
        MoveOffCpu(caller_cpu);
      }
      const int64_t started = NowNs();
      batch->Drain();
      const int64_t ended = NowNs();
      LockSoon(mu_);
      lock = std::unique_lock(mu_, std::adopt_lock);
      stats_.helper_items_ns += static_cast<uint64_t>(ended - started);
      // The caller may return as soon as this reaches 0 (watching, without the lock): `batch`
      // is not touched after it.
      if (batch->active.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.notify_all();
      ++idle_;
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;  // parked helpers wait here
  std::condition_variable done_;  // callers wait here for their last helper
  std::deque<Batch*> queue_;      // one entry per helper asked for, oldest first
  std::atomic<size_t> queued_{0};  // queue_.size(), for the watching helpers
  size_t threads_ = 0, idle_ = 0;  // idle_: started, watching or parked (not inside a batch)
  size_t parked_ = 0;              // of idle_, waiting on wake_
  size_t expected_ = 0;            // of parked_, asked up by Expect and not yet up
  PoolStats stats_;
  std::atomic<uint64_t> moves_{0};  // helpers that found themselves on their caller's CPU
  std::atomic<int> last_caller_cpu_{-1};  // the CPU of the last call's caller (ExcludeCpu)
};

}  // namespace

void RunWithHelpers(Batch& batch, size_t helpers) { Pool::ForCaller().Run(batch, helpers); }

size_t PoolThreads() { return Pool::ForCaller().Threads(); }

void ExpectHelpers(size_t helpers) { Pool::ForCaller().Expect(helpers); }

PoolStats Stats() {
  PoolStats out;
  std::lock_guard lock(Pool::RegistryMutex());
  for (auto& [nice, pool] : Pool::Registry()) pool->AddStats(out);
  return out;
}

}  // namespace alphalab::parallel_detail

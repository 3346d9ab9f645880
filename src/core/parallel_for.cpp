#include "core/parallel_for.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
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

// The process's helper threads, one pool per nice value of the callers: a helper is created
// by a caller (so it inherits that caller's nice) and only ever serves callers of the same
// nice, so that a sweep at nice +5 (optimize's fast path) runs every one of its threads at
// +5 and a grid asked at nice 0 never runs on a helper lowered by a sweep (an unprivileged
// thread cannot raise its priority back). Created on first need, grown to the most helpers
// asked for at once (at most kMaxThreads), never stopped: the pools are leaked on purpose
// so that no helper outlives a destroyed pool at exit.
class Pool {
 public:
  static Pool& ForCaller() {
    static std::mutex mu;
    static auto* pools = new std::map<int, Pool*>;
    const int nice = ThreadNice();
    std::lock_guard lock(mu);
    Pool*& pool = (*pools)[nice];
    if (!pool) pool = new Pool;
    return *pool;
  }

  size_t Threads() {
    std::lock_guard lock(mu_);
    return threads_;
  }

  void Run(Batch& batch, size_t helpers) {
    {
      std::lock_guard lock(mu_);
      for (size_t h = 0; h < helpers; ++h) queue_.push_back(&batch);
      // Enough parked threads for every request in the queue (others' included).
      size_t wanted = queue_.size() > idle_ ? queue_.size() - idle_ : 0;
      try {
        for (; wanted > 0 && threads_ < kMaxThreads; --wanted, ++threads_, ++idle_) {
          std::thread([this] { Loop(); }).detach();  // idle from now on: a later call counts it
        }
      } catch (const std::system_error&) {  // no more threads now: the ones there (and the caller) do it
      }
    }
    if (helpers == 1) {
      wake_.notify_one();
    } else {
      wake_.notify_all();
    }
    try {
      batch.Drain();
    } catch (...) {  // fn threw on this thread: the helpers leave `batch` before it goes
      batch.next = batch.count;
      Settle(batch);
      throw;
    }
    Settle(batch);
  }

 private:
  static constexpr size_t kMaxThreads = 256;

  // Takes back the requests no helper has claimed and waits for the helpers that did.
  void Settle(Batch& batch) {
    std::unique_lock lock(mu_);
    std::erase(queue_, &batch);
    done_.wait(lock, [&] { return batch.active == 0; });
  }

  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {  // counted in idle_ from its start (by the caller that made it) until it claims
      wake_.wait(lock, [&] { return !queue_.empty(); });
      --idle_;
      Batch* batch = queue_.front();
      queue_.pop_front();
      ++batch->active;
      lock.unlock();
      batch->Drain();
      lock.lock();
      if (--batch->active == 0) done_.notify_all();
      ++idle_;
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;  // helpers park here
  std::condition_variable done_;  // callers wait here for their last helper
  std::deque<Batch*> queue_;      // one entry per helper asked for, oldest first
  size_t threads_ = 0, idle_ = 0;  // idle_: started or parked, not inside a batch
};

}  // namespace

void RunWithHelpers(Batch& batch, size_t helpers) { Pool::ForCaller().Run(batch, helpers); }

size_t PoolThreads() { return Pool::ForCaller().Threads(); }

}  // namespace alphalab::parallel_detail

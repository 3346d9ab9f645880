// fn(i) for every i < count on up to `workers` threads, the caller's among them: the one
// work-sharing loop of the engine's grid and the optimization fast path.
//
// The helpers come from one process-wide pool of parked threads (parallel_for.cpp), started
// on first need and reused by every later call: a 2 ms grid no longer pays thread creation,
// a new thread's first allocations (a fresh malloc arena) and the joins. Idle helpers sleep
// on a condition variable (no spinning: the server shares its cores with jobs). The caller
// works too and never waits for a helper that has not started: when the items run out it
// takes back its unclaimed requests, so a busy pool, a nested call or a forked child only
// means fewer helpers, never a stall.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>

namespace alphalab {

namespace parallel_detail {

// One ParallelFor call, shared by the caller and the helpers that join it.
struct Batch {
  size_t count = 0;
  std::atomic<size_t> next{0};
  void (*call)(const void* fn, size_t i) = nullptr;
  const void* fn = nullptr;
  size_t active = 0;  // helpers inside Drain (guarded by the pool's mutex)

  void Drain() {
    for (size_t i = next++; i < count; i = next++) call(fn, i);
  }
};

// Asks up to `helpers` pool threads to join `batch`, drains it on the calling thread, then
// returns once no helper is still inside it.
void RunWithHelpers(Batch& batch, size_t helpers);

// Threads started so far by the pool that serves the calling thread (tests).
size_t PoolThreads();

}  // namespace parallel_detail

template <typename Fn>
void ParallelFor(size_t count, size_t workers, const Fn& fn) {
  const size_t helpers = std::min(std::max<size_t>(workers, 1), count) - (count > 0 ? 1 : 0);
  if (helpers == 0) {
    for (size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  parallel_detail::Batch batch;
  batch.count = count;
  batch.call = [](const void* f, size_t i) { (*static_cast<const Fn*>(f))(i); };
  batch.fn = &fn;
  parallel_detail::RunWithHelpers(batch, helpers);
}

}  // namespace alphalab

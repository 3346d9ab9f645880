// fn(i) for every i < count on up to `workers` threads, the caller's among them: the one
// work-sharing loop of the engine's grid and the optimization fast path.
//
// The helpers come from one process-wide pool of threads (parallel_for.cpp), started on first
// need and reused by every later call: a 2 ms grid no longer pays thread creation, a new
// thread's first allocations (a fresh malloc arena) and the joins. A helper that finishes a
// call watches for the next one for a bounded time (kSpinMicros) before it parks on a
// condition variable, so the phases of a grid run back to back without a thread wake each
// (a wake is 20-80 us on a VM, several percent of a 1.5 ms grid); an idle pool sleeps (the
// server shares its cores with jobs). The caller works too and never waits for a helper that
// has not started: when the items run out it takes back its unclaimed requests, so a busy
// pool, a nested call or a forked child only means fewer helpers, never a stall. It waits for
// the helpers still inside its items the same way: watching, then parked.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace alphalab {

namespace parallel_detail {

// How long a helper watches for the next call, and a caller for its last helper, before
// parking on a condition variable (bounded: an idle pool uses no CPU).
inline constexpr int64_t kSpinMicros = 50;

// One ParallelFor call, shared by the caller and the helpers that join it.
struct Batch {
  size_t count = 0;
  std::atomic<size_t> next{0};
  void (*call)(const void* fn, size_t i) = nullptr;
  const void* fn = nullptr;
  std::atomic<size_t> active{0};  // helpers inside Drain (changed under the pool's mutex)
  int64_t posted_ns = 0;          // steady clock when the helpers were asked (statistics)
  int caller_cpu = -1;            // the CPU the caller posted from (-1: unknown)

  void Drain() {
    for (size_t i = next++; i < count; i = next++) call(fn, i);
  }
};

// Asks up to `helpers` pool threads to join `batch`, drains it on the calling thread, then
// returns once no helper is still inside it.
void RunWithHelpers(Batch& batch, size_t helpers);

// Threads started so far by the pool that serves the calling thread (tests).
size_t PoolThreads();

// How long a helper got up by ExpectParallelFor watches before parking again.
inline constexpr int64_t kExpectMicros = 200;
void ExpectHelpers(size_t helpers);

// What the pools have done since the process started (all pools; benchmarks and tests).
struct PoolStats {
  uint64_t calls = 0;         // ParallelFor calls that asked for helpers
  uint64_t joins = 0;         // helpers that joined a call
  uint64_t caught = 0;        // of them, joined while watching (no wake)
  uint64_t wakes = 0;         // condition-variable wakes of parked helpers asked by callers
  uint64_t expects = 0;       // of them, asked ahead by ExpectParallelFor
  uint64_t parks = 0;         // helpers that parked after watching in vain
  uint64_t caller_parks = 0;  // callers that parked waiting for their last helper
  uint64_t join_delay_ns = 0;  // sum over joins: from the call's post to the helper's start
  uint64_t caller_ns = 0;      // callers' time inside the calls (posting, items, waiting)
  uint64_t caller_items_ns = 0;  // of it, running items
  uint64_t helper_items_ns = 0;  // helpers' time running items
  uint64_t moves = 0;            // helpers that joined on their caller's CPU and moved off it
};
PoolStats Stats();

}  // namespace parallel_detail

// Gets up to `workers` - 1 parked helpers of the caller's pool watching (for
// kExpectMicros) because a ParallelFor call on `workers` follows within microseconds: the
// call then starts without their wake-up (20-80 us on a VM), which overlaps the caller's
// serial work instead; helpers the pool does not have yet are started now. Nothing when they
// are up already; a call that does not come only costs their watching.
inline void ExpectParallelFor(size_t workers) {
  if (workers > 1) parallel_detail::ExpectHelpers(workers - 1);
}

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

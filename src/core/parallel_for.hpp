// fn(i) for every i < count on up to `workers` threads, the caller's among them: the one
// work-sharing loop of the engine's grid and the optimization fast path.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace alphalab {

template <typename Fn>
void ParallelFor(size_t count, size_t workers, const Fn& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < count; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < std::min(workers, count); ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

}  // namespace alphalab

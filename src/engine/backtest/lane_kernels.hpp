// Equity marking of several long/flat runs over the same closes at once (a grid's
// combinations on one instrument): kLanes runs side by side, one per SIMD lane (core/simd.hpp
// chooses: kAvx2 all lanes per instruction; kGeneric the lanes one after the other through
// EquityAccumulator, the single run's own code). Every lane's bars get exactly
// EquityAccumulator::Add's operations in the same order, so each lane's sums are
// bit-identical to its run alone; the lanes only share the instruction stream (one division
// and one add per sum for four runs).
#pragma once

#include <cstddef>

#include "engine/metrics/performance.hpp"

namespace alphalab::engine {

inline constexpr size_t kLanes = 4;

// Bars before `end` (from the previous stretch's end) have this cash and position
// (shares == 0: flat, the equity is the cash).
struct LaneStretch {
  size_t end = 0;
  double cash = 0, shares = 0;
};

// Marks bars [1, n) of every lane: stretches[l] lists lane l's stretches in order, the last
// one ending at n. Bar 0 is already in sums[l] (count 1, last = peak = trough = the initial
// cash, which must be > 0). Returns false when an equity on some lane is not positive (the
// sums are then unusable: the caller marks those runs with EquityAccumulator one by one).
bool MarkLanesGeneric(const double* close, size_t n, const LaneStretch* const* stretches, EquitySums* sums);
bool MarkLanesAvx2(const double* close, size_t n, const LaneStretch* const* stretches, EquitySums* sums);

}  // namespace alphalab::engine

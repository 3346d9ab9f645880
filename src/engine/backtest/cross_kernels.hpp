// The sma_cross decision kernels of SmaCrossSeries (long_flat.hpp), one per instruction set
// (core/simd.hpp chooses: kGeneric plain C++, kAvx2 4 bars per instruction).
// A kernel classifies bars [begin, end) by d[t] = F[t] * slow - S[t] * fast (F, S the exact
// window sums in grid units) against the band +-threshold: bit j of pos[k] / neg[k] is set
// when bar begin + 64k + j has d > threshold / d < -threshold; neither bit: inside the band
// (the caller decides those bars with the old formula). Both kernels compute the same d with
// the same roundings, so they give the same bits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/simd.hpp"

namespace alphalab::engine {

struct CrossKernelArgs {
  // Window-sum mode: fast_sum[t], slow_sum[t] are the sums of the last fast / slow values.
  const double* fast_sum = nullptr;
  const double* slow_sum = nullptr;
  // Prefix mode (fast_sum == nullptr): F[t] = prefix[t + 1] - prefix[t + 1 - fast].
  const double* prefix = nullptr;
  size_t fast = 0, slow = 0;
  double fast_d = 0, slow_d = 0;  // the windows as doubles
  double threshold = 0;
};

// Fills ceil((end - begin) / 64) words of pos and neg; bits past `end` are zero.
void CrossMasksGeneric(const CrossKernelArgs& a, size_t begin, size_t end, uint64_t* pos, uint64_t* neg);
void CrossMasksAvx2(const CrossKernelArgs& a, size_t begin, size_t end, uint64_t* pos, uint64_t* neg);

}  // namespace alphalab::engine

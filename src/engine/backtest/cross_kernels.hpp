// The sma_cross decision kernels of SmaCrossSeries (long_flat.hpp), one per instruction set,
// chosen once at run time so the generic x86-64 build stays portable:
//   kGeneric: plain C++ (any CPU);
//   kAvx2:    4 bars per instruction (AVX2), used when the CPU has it.
// A kernel classifies bars [begin, end) by d[t] = F[t] * slow - S[t] * fast (F, S the exact
// window sums in grid units) against the band +-threshold: bit j of pos[k] / neg[k] is set
// when bar begin + 64k + j has d > threshold / d < -threshold; neither bit: inside the band
// (the caller decides those bars with the old formula). Both kernels compute the same d with
// the same roundings, so they give the same bits.
#pragma once

#include <cstddef>
#include <cstdint>

namespace alphalab::engine {

enum class SimdPath : uint8_t { kAuto, kGeneric, kAvx2 };

// kAuto -> what this process uses: kAvx2 when the CPU supports it, unless the environment
// variable ALPHALAB_SIMD=generic forces the portable kernel (read once). kAvx2 on a CPU
// without AVX2 -> kGeneric.
SimdPath ResolveSimd(SimdPath requested);
const char* SimdPathName(SimdPath path);

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

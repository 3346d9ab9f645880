#include "engine/backtest/cross_kernels.hpp"

#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ALPHALAB_HAVE_AVX2_KERNEL 1
#endif

namespace alphalab::engine {
namespace {

// One bar, the same arithmetic as the vector kernel: exact differences of integers, two
// rounded products, one rounded difference.
inline double Decision(const CrossKernelArgs& a, size_t t) {
  double f, s;
  if (a.fast_sum) {
    f = a.fast_sum[t];
    s = a.slow_sum[t];
  } else {
    const double pa = a.prefix[t + 1];
    f = pa - a.prefix[t + 1 - a.fast];
    s = pa - a.prefix[t + 1 - a.slow];
  }
  const double x = f * a.slow_d;
  const double y = s * a.fast_d;
  return x - y;
}

}  // namespace

void CrossMasksGeneric(const CrossKernelArgs& a, size_t begin, size_t end, uint64_t* pos, uint64_t* neg) {
  const size_t words = (end - begin + 63) / 64;
  std::memset(pos, 0, words * sizeof(uint64_t));
  std::memset(neg, 0, words * sizeof(uint64_t));
  for (size_t t = begin; t < end; ++t) {
    const double d = Decision(a, t);
    const size_t k = (t - begin) / 64, j = (t - begin) % 64;
    pos[k] |= static_cast<uint64_t>(d > a.threshold) << j;
    neg[k] |= static_cast<uint64_t>(d < -a.threshold) << j;
  }
}

#ifdef ALPHALAB_HAVE_AVX2_KERNEL
namespace {

// Decision() for bars at..at+3.
__attribute__((target("avx2"), always_inline)) inline __m256d FourDecisions(const CrossKernelArgs& a, size_t at,
                                                                            __m256d sd, __m256d fd) {
  __m256d f, s;
  if (a.fast_sum) {
    f = _mm256_loadu_pd(a.fast_sum + at);
    s = _mm256_loadu_pd(a.slow_sum + at);
  } else {
    const __m256d pa = _mm256_loadu_pd(a.prefix + at + 1);
    f = _mm256_sub_pd(pa, _mm256_loadu_pd(a.prefix + at + 1 - a.fast));
    s = _mm256_sub_pd(pa, _mm256_loadu_pd(a.prefix + at + 1 - a.slow));
  }
  return _mm256_sub_pd(_mm256_mul_pd(f, sd), _mm256_mul_pd(s, fd));
}

}  // namespace

__attribute__((target("avx2"))) void CrossMasksAvx2(const CrossKernelArgs& a, size_t begin, size_t end,
                                                     uint64_t* pos, uint64_t* neg) {
  const __m256d sd = _mm256_set1_pd(a.slow_d), fd = _mm256_set1_pd(a.fast_d);
  const __m256d hi = _mm256_set1_pd(a.threshold), lo = _mm256_set1_pd(-a.threshold);
  size_t t = begin;
  size_t k = 0;
  // Whole words: 16 groups of 4 bars.
  for (; t + 64 <= end; t += 64, ++k) {
    uint64_t p = 0, q = 0;
    for (unsigned g = 0; g < 16; ++g) {
      __m256d d;
      d = FourDecisions(a, t + 4 * g, sd, fd);
      p |= static_cast<uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(d, hi, _CMP_GT_OQ))) << (4 * g);
      q |= static_cast<uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(d, lo, _CMP_LT_OQ))) << (4 * g);
    }
    pos[k] = p;
    neg[k] = q;
  }
  if (t < end) {  // the last partial word: groups of 4, then single bars
    uint64_t p = 0, q = 0;
    unsigned j = 0;
    for (; t + 4 <= end; t += 4, j += 4) {
      __m256d d;
      d = FourDecisions(a, t, sd, fd);
      p |= static_cast<uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(d, hi, _CMP_GT_OQ))) << j;
      q |= static_cast<uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(d, lo, _CMP_LT_OQ))) << j;
    }
    for (; t < end; ++t, ++j) {
      const double d = Decision(a, t);
      p |= static_cast<uint64_t>(d > a.threshold) << j;
      q |= static_cast<uint64_t>(d < -a.threshold) << j;
    }
    pos[k] = p;
    neg[k] = q;
  }
}
#else
void CrossMasksAvx2(const CrossKernelArgs& a, size_t begin, size_t end, uint64_t* pos, uint64_t* neg) {
  CrossMasksGeneric(a, begin, end, pos, neg);
}
#endif

}  // namespace alphalab::engine

#include "engine/backtest/lane_kernels.hpp"

#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace alphalab::engine {

bool MarkLanesGeneric(const double* close, size_t n, const LaneStretch* const* stretches, EquitySums* sums) {
  // One lane after the other through EquityAccumulator, as a single run marks its bars
  // (portable compilers vectorise the 4-lane body badly: measured 7x slower than this).
  for (size_t l = 0; l < kLanes; ++l) {
    EquityAccumulator acc(sums[l]);
    size_t t = 1;
    for (const LaneStretch* s = stretches[l]; t < n; ++s) {
      if (s->end <= t) continue;
      if (s->shares == 0) {
        acc.AddConstant(s->cash, s->end - t);
      } else {
        acc.AddMarked(s->cash, s->shares, close + t, s->end - t);
      }
      t = s->end;
    }
    sums[l] = acc.sums();
  }
  return true;
}

#if defined(__x86_64__) && defined(__GNUC__)
// One value per lane (GCC/Clang vector extensions, compiled for AVX2 only: one instruction
// per operation). Element-wise IEEE arithmetic, the same roundings as the scalar code; no
// fused multiply-add (the target does not enable FMA).
typedef double Lanes __attribute__((vector_size(kLanes * sizeof(double))));
typedef int64_t LaneMask __attribute__((vector_size(kLanes * sizeof(double))));

static_assert(kLanes == 4, "the lane loops below are written for 4 lanes");

// The AVX2 kernel. Per bar and lane:
//   equity = cash + shares x close (flat lanes: shares 0, so exactly the cash),
//   r = equity / last - 1 (0 when unchanged: adds nothing, as Add's skip),
//   sums of r, r^2 and the negative r^2, then Add's peak / trough update.
// The drawdown: Add takes 1 - trough / peak each time a trough deepens; the deepest value
// of a peak-to-peak run is the largest (monotone rounding), and that run's trough is still
// current when the next peak starts. So the (trough, peak) pairs are buffered whenever some
// lane starts a new peak (other lanes' pairs there are shallower points of their own runs,
// which cannot exceed their run's deepest) and divided once per chunk, plus the open runs
// at the end.
__attribute__((target("avx2"))) bool MarkLanesAvx2(const double* close, size_t n,
                                                   const LaneStretch* const* stretches, EquitySums* sums) {
  Lanes last, sum, sum2, down2, peak, trough, max_dd, cash = {}, shares = {};
  for (size_t l = 0; l < kLanes; ++l) {
    last[l] = sums[l].last;
    sum[l] = sums[l].sum;
    sum2[l] = sums[l].sum2;
    down2[l] = sums[l].down2;
    peak[l] = sums[l].peak;
    trough[l] = sums[l].trough;
    max_dd[l] = sums[l].max_dd;
  }
  const Lanes zero = {};
  LaneMask good = ~LaneMask{};
  size_t at[kLanes] = {0, 0, 0, 0};  // each lane's current stretch
  constexpr size_t kChunk = 256;
  Lanes run_trough[kChunk], run_peak[kChunk];
  size_t t = 1;
  while (t < n) {
    // The bars until the next stretch change on any lane have constant cash and shares.
    size_t end = n;
    for (size_t l = 0; l < kLanes; ++l) {
      while (stretches[l][at[l]].end <= t) ++at[l];
      const LaneStretch& s = stretches[l][at[l]];
      cash[l] = s.cash;
      shares[l] = s.shares;
      end = s.end < end ? s.end : end;
    }
    while (t < end) {
      const size_t stop = end - t < kChunk ? end : t + kChunk;
      size_t runs = 0;
      for (; t < stop; ++t) {
        const Lanes equity = cash + shares * close[t];
        good &= equity > zero;
        const Lanes r = equity / last - 1.0;
        const Lanes r2 = r * r;
        sum += r;
        sum2 += r2;
        down2 += r < zero ? r2 : zero;
        const LaneMask new_peak = equity >= peak;
        run_trough[runs] = trough;
        run_peak[runs] = peak;
        runs += _mm256_movemask_pd(reinterpret_cast<__m256d>(new_peak)) != 0;
        peak = new_peak ? equity : peak;
        trough = new_peak ? equity : (equity < trough ? equity : trough);
        last = equity;
      }
      for (size_t k = 0; k < runs; ++k) {
        const Lanes dd = 1.0 - run_trough[k] / run_peak[k];
        max_dd = dd > max_dd ? dd : max_dd;
      }
    }
  }
  const Lanes dd = 1.0 - trough / peak;  // the open runs (0 where trough == peak)
  max_dd = dd > max_dd ? dd : max_dd;
  if (_mm256_movemask_pd(reinterpret_cast<__m256d>(good)) != 0xf) return false;
  for (size_t l = 0; l < kLanes; ++l) {
    sums[l].count = n;
    sums[l].last = last[l];
    sums[l].sum = sum[l];
    sums[l].sum2 = sum2[l];
    sums[l].down2 = down2[l];
    sums[l].peak = peak[l];
    sums[l].trough = trough[l];
    sums[l].max_dd = max_dd[l];
  }
  return true;
}

#else
bool MarkLanesAvx2(const double* close, size_t n, const LaneStretch* const* stretches, EquitySums* sums) {
  return MarkLanesGeneric(close, n, stretches, sums);
}
#endif

}  // namespace alphalab::engine

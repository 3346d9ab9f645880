// Single-instrument long/flat simulation with the backtest semantics of docs/engine.md, and the two rules that
// feed it (sma_cross, signal).
//
//   signal[t] is decided on bar t's close and filled at bar t+1's open; signal[n-1] is
//   dropped. Buy (when flat): shares = floor(cash / (open * (1 + fee))). Sell (when long):
//   everything. fee = fee_rate * traded notional, on entry and on exit. equity[t] = cash +
//   shares * close[t]. The final equity marks an open position at the last close without
//   an exit fee.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/backtest/cross_kernels.hpp"
#include "engine/backtest/result.hpp"
#include "engine/data/bars.hpp"

namespace alphalab::engine {

enum : int8_t { kSignalSell = -1, kSignalNone = 0, kSignalBuy = 1 };

struct LongFlatOptions {
  double initial_cash = 1'000'000;
  double fee_rate = 0.001;
  bool record_curves = true;   // fill dates/equity/cash/holdings and trade records
  // Warm-up: bars dated before `trade_from` are history only (the signals were computed on
  // them); the simulation, the curve and the metrics start at the first bar >= trade_from.
  int32_t trade_from = INT32_MIN;
  // The series ends before the portfolio's calendar (a delisting): a position still open
  // on its last bar is sold at that bar's close x (1 - delisting_haircut), reason delisted.
  bool delisted = false;
  double delisting_haircut = 0;
};

BacktestResult RunLongFlat(const BarSeries& bars, const int8_t* signals,
                           const LongFlatOptions& options);

// The final metrics of `count` runs on one series (a grid's combinations): out[k] is exactly
// RunLongFlat(bars, signals[k], options[k]).metrics (curves are never recorded). The fills
// are walked per run; the bars of kLanes runs are marked together, one per SIMD lane
// (lane_kernels.hpp; `simd` as in SmaCrossSeries::Signals, every path gives the same bits).
// Runs with another trade_from than the first's, or a non-positive equity, are run alone.
void RunLongFlatMetrics(const BarSeries& bars, const int8_t* const* signals, const LongFlatOptions* options,
                        size_t count, PerformanceMetrics* out, SimdPath simd = SimdPath::kAuto);

// Plain arithmetic mean of the last `window` values; NaN for t < window - 1.
// Computed from a long-double prefix sum (exact to well below a cent for prices).
std::vector<double> SimpleMovingAverage(const std::vector<double>& values, int window);
// Same, reusing a prefix sum (prefix[i] = sum of values[0..i-1]).
void SimpleMovingAverageFromPrefix(const std::vector<long double>& prefix, int window,
                                   std::vector<double>& out);
std::vector<long double> PrefixSum(const std::vector<double>& values);

// Buy on a strict up-cross (fast[t-1] < slow[t-1] and fast[t] > slow[t]), sell on a strict
// down-cross; nothing while either mean is undefined. `out` has n entries.
void SmaCrossSignals(const double* fast, const double* slow, size_t n, int8_t* out);

// sma_cross decisions without moving-average arrays, bit-for-bit the same signals as
// SmaCrossSignals(SimpleMovingAverage(close, fast), SimpleMovingAverage(close, slow)).
// Built once per close series: the closes rounded to a fixed-point grid (2^-k, chosen so
// every prefix sum is an exact integer in a double), and their prefix sums. For a bar, the
// exact-grid comparison fast - slow ~ (S_fast * slow - S_slow * fast) is decisive whenever it
// exceeds a proven bound on (grid rounding + the old long-double means' rounding); inside
// that band (ties, e.g. flat prices) the old long-double formula decides, from a prefix sum
// built on first use. Thread-safe after construction.
class SmaCrossSeries {
 public:
  explicit SmaCrossSeries(const std::vector<double>& close);
  size_t size() const { return n_; }
  // out[t] as SmaCrossSignals would give it (n entries). `close` must be the series the
  // object was built from (read only for bars inside the band). `simd` picks the decision
  // kernel (cross_kernels.hpp; kAuto: the best this CPU runs); every kernel gives the same
  // signals.
  void Signals(const std::vector<double>& close, int fast, int slow, int8_t* out,
               SimdPath simd = SimdPath::kAuto) const;
  // Keeps the window sums of `window` (grid units) so Signals reads them instead of
  // differencing the prefix (a grid shares each window across its combinations). Not
  // thread-safe; call before concurrent Signals.
  void CacheWindow(int window);
  // Bars decided by the long-double fallback so far (tests check the band is exercised).
  size_t fallback_count() const;

 private:
  // sign(old fast[t] - old slow[t])
  int8_t OldSign(const std::vector<double>& close, size_t t, int fast, int slow) const;

  size_t n_ = 0;
  bool fast_ok_ = false;         // finite values and a usable grid
  std::vector<double> grid_prefix_;  // exact integers: sum of round(close * 2^k)
  std::vector<std::vector<double>> window_sums_;  // [w]: sum of the last w grid values at t (t >= w - 1)
  double old_err_num_ = 0;       // e_old(w) = old_err_num_ / w + old_err_const_ (in grid units)
  double old_err_const_ = 0;
  double prod_err_ = 0;          // rounding of the double products, per fast*slow (grid units)
  struct Lazy {
    std::once_flag once;
    std::vector<long double> prefix;
    std::atomic<size_t> fallbacks{0};
  };
  std::unique_ptr<Lazy> lazy_;
};

// Buy when score >= cutoff, sell when score < cutoff or undefined (NaN = no opinion = flat).
void ThresholdSignals(const double* scores, size_t n, double cutoff, int8_t* out);

// Several instruments, each its own long/flat sleeve with initial_cash / k; the portfolio
// equity is the sum of the sleeves on the union calendar (a sleeve before its first bar is
// cash, after its last bar it keeps its last value). Metrics are those of the sum. A sleeve
// whose series ends before the others' is delisted on its last bar (see LongFlatOptions).
BacktestResult RunSleeves(const std::vector<const BarSeries*>& bars,
                          const std::vector<std::vector<int8_t>>& signals,
                          const LongFlatOptions& options);

}  // namespace alphalab::engine

// Single-instrument long/flat simulation with SPEC §3 semantics, and the two rules that
// feed it (sma_cross, signal).
//
//   signal[t] is decided on bar t's close and filled at bar t+1's open; signal[n-1] is
//   dropped. Buy (when flat): shares = floor(cash / (open * (1 + fee))). Sell (when long):
//   everything. fee = fee_rate * traded notional, on entry and on exit. equity[t] = cash +
//   shares * close[t]. The final equity marks an open position at the last close without
//   an exit fee.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/backtest/result.hpp"
#include "engine/data/bars.hpp"

namespace alphalab::engine {

enum : int8_t { kSignalSell = -1, kSignalNone = 0, kSignalBuy = 1 };

struct LongFlatOptions {
  double initial_cash = 1'000'000;
  double fee_rate = 0.001;
  bool record_curves = true;   // fill dates/equity/cash/holdings and trade records
};

BacktestResult RunLongFlat(const BarSeries& bars, const int8_t* signals,
                           const LongFlatOptions& options);

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

// Buy when score >= cutoff, sell when score < cutoff or undefined (NaN = no opinion = flat).
void ThresholdSignals(const double* scores, size_t n, double cutoff, int8_t* out);

// Several instruments, each its own long/flat sleeve with initial_cash / k; the portfolio
// equity is the sum of the sleeves on the union calendar (a sleeve before its first bar is
// cash, after its last bar it keeps its last value). Metrics are those of the sum.
BacktestResult RunSleeves(const std::vector<const BarSeries*>& bars,
                          const std::vector<std::vector<int8_t>>& signals,
                          const LongFlatOptions& options);

}  // namespace alphalab::engine

// Backtest performance metrics with their textbook definitions (docs/engine.md):
//   total_return = final / initial - 1
//   cagr         = (final / initial) ^ (365.25 / calendar days first->last date) - 1
//   max_drawdown = max over t of 1 - equity[t] / max(equity[0..t])  (daily close-marked)
//   daily return r_t = equity[t] / equity[t-1] - 1, t >= 1
//   volatility   = sample std (n - 1) of r * sqrt(252)
//   sharpe       = mean(r) / std(r) * sqrt(252)           risk-free rate = 0
//   sortino      = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(252)  target 0, over all days
//   win_rate     = winning closed trades / closed trades (0 when none)
//   exposure     = share of bars that end with a position
// Degenerate inputs give 0, never NaN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace alphalab::engine {

constexpr double kTradingDaysPerYear = 252.0;
constexpr double kDaysPerYear = 365.25;

double TotalReturn(double initial, double final_value);
double Cagr(double initial, double final_value, int32_t first_date, int32_t last_date);
double MaxDrawdown(const double* equity, size_t n);
// Sample mean / std / downside deviation of the simple daily returns of `equity`.
struct ReturnStats {
  double mean = 0, stdev = 0, downside = 0;
  size_t count = 0;
};
ReturnStats DailyReturnStats(const double* equity, size_t n);

// The running state of an equity curve (EquityAccumulator's, exposed for kernels that
// stream several curves at once and hand each one back as an accumulator).
struct EquitySums {
  size_t count = 0;  // bars seen
  double last = 0, sum = 0, sum2 = 0, down2 = 0, peak = 0, trough = 0, max_dd = 0;
};

// Streams an equity curve bar by bar (sums of daily returns and their squares, downside
// sum of squares, running peak and drawdown). Every engine path uses it, so a single run,
// a grid cell and the array form below give bit-identical metrics.
class EquityAccumulator {
 public:
  EquityAccumulator() = default;
  explicit EquityAccumulator(const EquitySums& sums) : s_(sums) {}
  void Add(double equity) {
    if (s_.count > 0 && equity != s_.last) {
      // Plain sums (no division chain): daily returns have |mean| << std, so the
      // one-pass variance below loses nothing measurable. An unchanged equity (flat
      // bars) is a zero return and adds nothing.
      const double r = s_.last > 0 ? equity / s_.last - 1.0 : 0.0;
      s_.sum += r;
      s_.sum2 += r * r;
      if (r < 0) s_.down2 += r * r;
    }
    if (equity >= s_.peak) {
      s_.peak = equity;
      s_.trough = equity;
    } else if (equity < s_.trough) {
      // Only a new low since the last peak can deepen the drawdown.
      s_.trough = equity;
      const double dd = s_.peak > 0 ? 1.0 - equity / s_.peak : 0.0;
      if (dd > s_.max_dd) s_.max_dd = dd;
    }
    s_.last = equity;
    ++s_.count;
  }
  // `count` bars of the same equity: bit-identical to calling Add(equity) `count` times
  // (after the first, an unchanged equity adds no return and cannot move peak or trough).
  void AddConstant(double equity, size_t count) {
    if (count == 0) return;
    Add(equity);
    s_.count += count - 1;
  }
  // Bars of a held position: equity[i] = cash + shares * close[i]. Bit-identical to Add on
  // each bar (same operations in the same order), but branch-light: the drawdown of a
  // peak-to-peak run is taken once at its deepest point (1 - x / peak is monotone in x).
  void AddMarked(double cash, double shares, const double* close, size_t count);
  ReturnStats Stats() const;
  double max_drawdown() const { return s_.max_dd; }
  double last() const { return s_.last; }
  size_t count() const { return s_.count; }
  const EquitySums& sums() const { return s_; }

 private:
  EquitySums s_;
};
double Sharpe(const ReturnStats& r);
double Sortino(const ReturnStats& r);
double Volatility(const ReturnStats& r);

struct ClosedTradeStat {
  double pnl = 0;       // net of fees
  double ret = 0;       // pnl / cost basis (incl. entry fee)
};

struct PerformanceInput {
  const double* equity = nullptr;   // close-marked, one per bar
  const int32_t* dates = nullptr;
  size_t n = 0;
  double initial_cash = 0;
  size_t bars_with_position = 0;
  const std::vector<ClosedTradeStat>* trades = nullptr;
  int64_t orders = 0;               // fills (LEAN "Total Orders")
  double total_fees = 0;
};

struct PerformanceMetrics {
  double cagr = 0, max_drawdown = 0, sharpe = 0, sortino = 0, volatility = 0;
  double total_return = 0, win_rate = 0, loss_rate = 0, exposure = 0;
  double final_equity = 0, initial_cash = 0, total_fees = 0;
  double average_win = 0, average_loss = 0;  // mean return of winning / losing trades
  double profit_loss_ratio = 0, expectancy = 0;
  int64_t trades = 0, orders = 0;
};

// Closed-trade aggregates (sums taken in trade order, as the vector form does).
struct TradeTally {
  int64_t trades = 0, wins = 0, losses = 0;
  double win_sum = 0, loss_sum = 0;  // of ClosedTradeStat::ret
  void Add(double pnl, double ret) {
    ++trades;
    if (pnl > 0) {
      ++wins;
      win_sum += ret;
    } else {
      ++losses;
      loss_sum += ret;
    }
  }
};

PerformanceMetrics ComputePerformance(const PerformanceInput& in);
// The same from an accumulator that saw the whole curve (first/last dates, bar count).
PerformanceMetrics FinishPerformance(const EquityAccumulator& acc, int32_t first_date,
                                     int32_t last_date, double initial_cash,
                                     size_t bars_with_position,
                                     const std::vector<ClosedTradeStat>* trades, int64_t orders,
                                     double total_fees);
// Same with the trades already tallied (no per-trade storage; grids use it).
PerformanceMetrics FinishPerformance(const EquityAccumulator& acc, int32_t first_date,
                                     int32_t last_date, double initial_cash,
                                     size_t bars_with_position, const TradeTally* trades,
                                     int64_t orders, double total_fees);

// LEAN's summary statistics: names and string formats of QuantConnect LEAN
// (Common/Statistics/StatisticsBuilder.cs GetSummary), in LEAN's order.
std::vector<std::pair<std::string, std::string>> LeanStatistics(const PerformanceMetrics& m);

// LEAN number formats. Decimal values keep their rounding scale ("2.200"), zero stays "0";
// double values print the shortest form ("1.97", "0").
std::string LeanDecimal(double v, int decimals);
std::string LeanDouble(double v, int decimals);

}  // namespace alphalab::engine

#include "engine/metrics/performance.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace alphalab::engine {

double TotalReturn(double initial, double final_value) {
  return initial > 0 ? final_value / initial - 1.0 : 0.0;
}

double Cagr(double initial, double final_value, int32_t first_date, int32_t last_date) {
  const double days = static_cast<double>(last_date - first_date);
  if (!(initial > 0) || days <= 0) return 0.0;
  if (!(final_value > 0)) return -1.0;
  return std::pow(final_value / initial, kDaysPerYear / days) - 1.0;
}

double MaxDrawdown(const double* equity, size_t n) {
  double peak = 0, worst = 0;
  for (size_t i = 0; i < n; ++i) {
    peak = std::max(peak, equity[i]);
    if (peak > 0) worst = std::max(worst, 1.0 - equity[i] / peak);
  }
  return worst;
}

ReturnStats DailyReturnStats(const double* equity, size_t n) {
  EquityAccumulator acc;
  for (size_t i = 0; i < n; ++i) acc.Add(equity[i]);
  return acc.Stats();
}

// GCC's straight-line vectorizer packs the independent sums into one register and
// lengthens the loop-carried chains (measured 1.5x slower); keep them scalar.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-slp-vectorize")))
#endif
void EquityAccumulator::AddMarked(double cash, double shares, const double* close, size_t count) {
  size_t i = 0;
  // The first bar after nothing was seen, or a non-positive previous equity, takes the
  // general path; the loop below assumes last_ > 0 and a positive equity throughout.
  for (; i < count && (s_.count == 0 || !(s_.last > 0)); ++i) Add(cash + shares * close[i]);
  if (i == count) return;
  double last = s_.last, sum = s_.sum, sum2 = s_.sum2, down2 = s_.down2;
  double peak = s_.peak, trough = s_.trough, max_dd = s_.max_dd;
  bool general = false;
  const size_t done = i;
  // Peak-to-peak runs end where a new peak starts; their (trough, peak) pairs are buffered
  // without a branch and turned into drawdowns per chunk (the new-peak test is random).
  constexpr size_t kChunk = 256;
  double run_trough[kChunk + 1], run_peak[kChunk + 1];
  while (i < count && !general) {
    const size_t stop = std::min(count, i + kChunk);
    size_t runs = 0;
    for (; i < stop; ++i) {
      const double holdings = shares * close[i];
      const double equity = cash + holdings;
      if (!(equity > 0)) {  // leave the rest to Add (never happens with positive prices)
        general = true;
        break;
      }
      // equity == last gives r == 0 exactly, which adds nothing: same sums as Add's skip.
      const double r = equity / last - 1.0;
      sum += r;
      sum2 += r * r;
      down2 += r < 0 ? r * r : 0.0;
      const bool new_peak = equity >= peak;
      run_trough[runs] = trough;
      run_peak[runs] = peak;
      runs += new_peak;
      peak = new_peak ? equity : peak;
      trough = new_peak ? equity : (equity < trough ? equity : trough);
      last = equity;
    }
    // Add takes 1 - trough / peak when a run reaches its trough; shallower bars of the run
    // give smaller values (monotone rounding), and a run without a dip gives 0.
    for (size_t k = 0; k < runs; ++k) {
      const double dd = 1.0 - run_trough[k] / run_peak[k];
      max_dd = dd > max_dd ? dd : max_dd;
    }
  }
  if (peak > 0 && trough < peak) {
    const double dd = 1.0 - trough / peak;
    if (dd > max_dd) max_dd = dd;
  }
  s_.count += i - done;
  s_.last = last;
  s_.sum = sum;
  s_.sum2 = sum2;
  s_.down2 = down2;
  s_.peak = peak;
  s_.trough = trough;
  s_.max_dd = max_dd;
  if (general) {
    for (; i < count; ++i) Add(cash + shares * close[i]);
  }
}

ReturnStats EquityAccumulator::Stats() const {
  ReturnStats s;
  const size_t n = s_.count > 0 ? s_.count - 1 : 0;
  s.count = n;
  if (n == 0) return s;
  const double dn = static_cast<double>(n);
  s.mean = s_.sum / dn;
  const double var = n > 1 ? (s_.sum2 - s_.sum * s_.sum / dn) / (dn - 1.0) : 0.0;
  // Cancellation noise of identical returns is not volatility.
  s.stdev = var > 1e-14 * s_.sum2 / dn ? std::sqrt(var) : 0.0;
  s.downside = std::sqrt(s_.down2 / dn);
  return s;
}

double Sharpe(const ReturnStats& r) {
  return r.stdev > 0 ? r.mean / r.stdev * std::sqrt(kTradingDaysPerYear) : 0.0;
}
double Sortino(const ReturnStats& r) {
  return r.downside > 0 ? r.mean / r.downside * std::sqrt(kTradingDaysPerYear) : 0.0;
}
double Volatility(const ReturnStats& r) { return r.stdev * std::sqrt(kTradingDaysPerYear); }

PerformanceMetrics ComputePerformance(const PerformanceInput& in) {
  EquityAccumulator acc;
  for (size_t i = 0; i < in.n; ++i) acc.Add(in.equity[i]);
  if (in.n == 0) {
    PerformanceMetrics m;
    m.initial_cash = m.final_equity = in.initial_cash;
    return m;
  }
  return FinishPerformance(acc, in.dates[0], in.dates[in.n - 1], in.initial_cash,
                           in.bars_with_position, in.trades, in.orders, in.total_fees);
}

PerformanceMetrics FinishPerformance(const EquityAccumulator& acc, int32_t first_date,
                                     int32_t last_date, double initial_cash,
                                     size_t bars_with_position,
                                     const std::vector<ClosedTradeStat>* trades, int64_t orders,
                                     double total_fees) {
  if (!trades) {
    return FinishPerformance(acc, first_date, last_date, initial_cash, bars_with_position,
                             static_cast<const TradeTally*>(nullptr), orders, total_fees);
  }
  TradeTally tally;
  for (const auto& t : *trades) tally.Add(t.pnl, t.ret);
  return FinishPerformance(acc, first_date, last_date, initial_cash, bars_with_position, &tally,
                           orders, total_fees);
}

PerformanceMetrics FinishPerformance(const EquityAccumulator& acc, int32_t first_date,
                                     int32_t last_date, double initial_cash,
                                     size_t bars_with_position, const TradeTally* trades,
                                     int64_t orders, double total_fees) {
  PerformanceMetrics m;
  m.initial_cash = initial_cash;
  m.final_equity = acc.count() ? acc.last() : initial_cash;
  m.total_return = TotalReturn(initial_cash, m.final_equity);
  m.cagr = acc.count() ? Cagr(initial_cash, m.final_equity, first_date, last_date) : 0.0;
  m.max_drawdown = acc.max_drawdown();
  const ReturnStats rs = acc.Stats();
  m.sharpe = Sharpe(rs);
  m.sortino = Sortino(rs);
  m.volatility = Volatility(rs);
  m.exposure = acc.count() ? static_cast<double>(bars_with_position) / static_cast<double>(acc.count())
                           : 0.0;
  m.orders = orders;
  m.total_fees = total_fees;
  if (trades) {
    const int64_t wins = trades->wins, losses = trades->losses;
    m.trades = trades->trades;
    if (m.trades > 0) {
      m.win_rate = static_cast<double>(wins) / static_cast<double>(m.trades);
      m.loss_rate = static_cast<double>(losses) / static_cast<double>(m.trades);
    }
    m.average_win = wins ? trades->win_sum / static_cast<double>(wins) : 0.0;
    m.average_loss = losses ? trades->loss_sum / static_cast<double>(losses) : 0.0;
    m.profit_loss_ratio = m.average_loss != 0 ? m.average_win / -m.average_loss : 0.0;
    m.expectancy = m.trades > 0 ? m.win_rate * m.profit_loss_ratio - m.loss_rate : 0.0;
  }
  return m;
}

std::string LeanDecimal(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  double r = std::round(v * scale) / scale;  // C# Math.Round(decimal) is banker's; ties are rare
  if (r == 0) return "0";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, r);
  return buf;
}

std::string LeanDouble(double v, int decimals) {
  if (!std::isfinite(v)) return "0";
  std::string s = LeanDecimal(v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::vector<std::pair<std::string, std::string>> LeanStatistics(const PerformanceMetrics& m) {
  const double net_profit = m.initial_cash > 0 ? m.final_equity / m.initial_cash - 1.0 : 0.0;
  const bool integral_start = m.initial_cash == std::floor(m.initial_cash);
  char fees[64];
  std::snprintf(fees, sizeof fees, "$%.2f", m.total_fees);
  return {
      {"Total Orders", std::to_string(m.orders)},
      {"Average Win", LeanDecimal(m.average_win * 100, 2) + "%"},
      {"Average Loss", LeanDecimal(m.average_loss * 100, 2) + "%"},
      {"Compounding Annual Return", LeanDecimal(m.cagr * 100, 3) + "%"},
      {"Drawdown", LeanDecimal(m.max_drawdown * 100, 3) + "%"},
      {"Expectancy", LeanDecimal(m.expectancy, 3)},
      {"Start Equity", integral_start ? LeanDouble(m.initial_cash, 0) : LeanDecimal(m.initial_cash, 2)},
      {"End Equity", LeanDecimal(m.final_equity, 2)},
      {"Net Profit", LeanDecimal(net_profit * 100, 3) + "%"},
      {"Sharpe Ratio", LeanDouble(m.sharpe, 3)},
      {"Sortino Ratio", LeanDouble(m.sortino, 3)},
      {"Loss Rate", LeanDecimal(m.loss_rate * 100, 0) + "%"},
      {"Win Rate", LeanDecimal(m.win_rate * 100, 0) + "%"},
      {"Profit-Loss Ratio", LeanDecimal(m.profit_loss_ratio, 2)},
      {"Annual Standard Deviation", LeanDouble(m.volatility, 3)},
      {"Annual Variance", LeanDouble(m.volatility * m.volatility, 3)},
      {"Total Fees", fees},
  };
}

}  // namespace alphalab::engine

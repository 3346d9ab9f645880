#include "engine/backtest/topn.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "core/clock.hpp"

namespace alphalab::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int Weekday(int32_t days) { return static_cast<int>((days % 7 + 10) % 7); }  // 0 = Monday
int32_t WeekStart(int32_t days) { return days - Weekday(days); }

struct Lot {
  double shares = 0;
  int32_t entry_date = 0;
  double bought_shares = 0, buy_notional = 0, buy_fees = 0;
  double sell_notional = 0, sell_fees = 0;
};

}  // namespace

Result<BacktestResult> RunTopN(const Universe& u, const std::vector<std::vector<double>>& scores,
                               const TopNParams& p, bool record, int32_t trade_from) {
  const size_t k = u.series.size();
  const size_t n = u.calendar.size();
  // First traded calendar day; the days before it are warm-up history.
  const size_t c0 = static_cast<size_t>(
      std::lower_bound(u.calendar.begin(), u.calendar.end(), trade_from) - u.calendar.begin());
  if (c0 >= n) return Status::InvalidArgument("topn: no bars on or after the start date");
  if (scores.size() != k) return Status::Internal("topn: one score series per instrument expected");
  for (size_t i = 0; i < k; ++i) {
    if (scores[i].size() != u.series[i].size()) {
      return Status::Internal("topn: score series of " + u.series[i].symbol + " has the wrong length");
    }
  }
  std::unordered_map<std::string, size_t> by_symbol;
  for (size_t i = 0; i < k; ++i) by_symbol[u.series[i].symbol] = i;
  // Roles: market index and defensive assets are not ranked.
  std::vector<uint8_t> rankable(k, 1);
  long market = -1;
  if (p.market_filter) {
    auto it = by_symbol.find(p.market_symbol);
    if (it == by_symbol.end()) {
      return Status::InvalidArgument("topn: market_filter needs market_symbol '" + p.market_symbol +
                                     "' in the loaded tickers");
    }
    market = static_cast<long>(it->second);
  }
  if (auto it = by_symbol.find(p.market_symbol); it != by_symbol.end()) rankable[it->second] = 0;
  std::vector<size_t> defensive;
  for (const auto& sym : p.risk_off_symbols) {
    auto it = by_symbol.find(sym);
    if (it == by_symbol.end()) {
      if (p.risk_off_mode == RiskOffMode::kDefensive) {
        return Status::InvalidArgument("topn: risk_off_symbols entry '" + sym +
                                       "' is not in the loaded tickers");
      }
      continue;
    }
    rankable[it->second] = 0;
    defensive.push_back(it->second);
  }
  // bar index of instrument i on calendar day c, or -1.
  std::vector<int32_t> bar(k * n, -1);
  for (size_t i = 0; i < k; ++i) {
    const auto& s = u.series[i];
    size_t c = 0;
    for (size_t j = 0; j < s.size(); ++j) {
      while (u.calendar[c] < s.date[j]) ++c;
      bar[i * n + c] = static_cast<int32_t>(j);
    }
  }
  auto bar_at = [&](size_t i, size_t c) { return bar[i * n + c]; };
  std::vector<double> market_sma;
  if (market >= 0) {
    const auto& ms = u.series[static_cast<size_t>(market)];
    market_sma.assign(ms.size(), kNaN);
    long double sum = 0;
    const size_t w = static_cast<size_t>(p.market_ma_window);
    for (size_t j = 0; j < ms.size(); ++j) {
      sum += ms.close[j];
      if (j >= w) sum -= ms.close[j - w];
      if (j + 1 >= w) market_sma[j] = static_cast<double>(sum / static_cast<long double>(w));
    }
  }
  auto is_rebalance_bar = [&](size_t c) {
    switch (p.rebalance_frequency) {
      case RebalanceFrequency::kDaily:
        return true;
      case RebalanceFrequency::kWeekly: {
        const int32_t d = u.calendar[c];
        if (Weekday(d) < p.rebalance_day) return false;
        if (c == 0) return true;
        const int32_t prev = u.calendar[c - 1];
        return WeekStart(prev) != WeekStart(d) || Weekday(prev) < p.rebalance_day;
      }
      case RebalanceFrequency::kMonthly: {
        int y, py;
        unsigned m, dd, pm, pd;
        CivilFromDays(u.calendar[c], y, m, dd);
        if (static_cast<int>(dd) < p.rebalance_day) return false;
        if (c == 0) return true;
        CivilFromDays(u.calendar[c - 1], py, pm, pd);
        return py != y || pm != m || static_cast<int>(pd) < p.rebalance_day;
      }
    }
    return false;
  };
  // Realized daily-return vol of instrument i over `w` bars ending at bar j (NaN if short).
  auto realized_vol = [&](size_t i, int32_t j, int w) {
    const auto& c = u.series[i].close;
    if (j < w) return kNaN;
    double mean = 0, m2 = 0;
    for (int s = 0; s < w; ++s) {
      const double r = c[static_cast<size_t>(j - s)] / c[static_cast<size_t>(j - s - 1)] - 1.0;
      const double delta = r - mean;
      mean += delta / (s + 1);
      m2 += delta * (r - mean);
    }
    return w > 1 ? std::sqrt(m2 / (w - 1)) : 0.0;
  };

  const double fee = FeeRate(p.fee_bps);
  double cash = p.initial_cash;
  std::vector<Lot> lots(k);
  std::vector<double> last_close(k, kNaN);
  std::vector<std::pair<size_t, double>> pending;  // target weights decided at the previous close
  bool has_pending = false;
  BacktestResult result;
  if (record) {
    result.dates.assign(u.calendar.begin() + static_cast<std::ptrdiff_t>(c0), u.calendar.end());
    result.equity.resize(n - c0);
    result.cash.resize(n - c0);
    result.holdings.resize(n - c0);
  }
  EquityAccumulator acc;
  std::vector<ClosedTradeStat> stats;
  int64_t orders = 0;
  double total_fees = 0;
  size_t bars_invested = 0;
  double hwm = 0;
  std::deque<std::pair<size_t, double>> window_max;  // (calendar index, equity), decreasing
  std::vector<size_t> order(k);
  std::vector<double> target_shares(k, 0);

  auto sell = [&](size_t i, double q, double px, int32_t day) {
    Lot& lot = lots[i];
    const double notional = q * px, f = notional * fee;
    cash += notional - f;
    total_fees += f;
    ++orders;
    lot.shares -= q;
    lot.sell_notional += notional;
    lot.sell_fees += f;
    if (lot.shares <= 0) {
      const double basis = lot.buy_notional + lot.buy_fees;
      const double pnl = lot.sell_notional - lot.sell_fees - basis;
      stats.push_back({pnl, basis > 0 ? pnl / basis : 0.0});
      if (record) {
        result.trades.push_back(Trade{u.series[i].symbol, lot.entry_date,
                                      lot.buy_notional / lot.bought_shares, day,
                                      lot.sell_notional / lot.bought_shares, lot.bought_shares, pnl,
                                      basis > 0 ? pnl / basis : 0.0, lot.buy_fees + lot.sell_fees});
      }
      lot = Lot{};
    }
  };
  auto buy = [&](size_t i, double q, double px, int32_t day) {
    Lot& lot = lots[i];
    const double notional = q * px, f = notional * fee;
    cash -= notional + f;
    total_fees += f;
    ++orders;
    if (lot.shares == 0) lot.entry_date = day;
    lot.shares += q;
    lot.bought_shares += q;
    lot.buy_notional += notional;
    lot.buy_fees += f;
  };

  // Warm-up days: only the last known closes matter (nothing is held yet).
  for (size_t c = 0; c < c0; ++c) {
    for (size_t i = 0; i < k; ++i) {
      const int32_t j = bar_at(i, c);
      if (j >= 0) last_close[i] = u.series[i].close[static_cast<size_t>(j)];
    }
  }
  for (size_t c = c0; c < n; ++c) {
    const int32_t day = u.calendar[c];
    // 1. Fill yesterday's decision at today's open.
    if (has_pending) {
      has_pending = false;
      double equity_open = cash;
      for (size_t i = 0; i < k; ++i) {
        if (lots[i].shares == 0) continue;
        const int32_t j = bar_at(i, c);
        equity_open += lots[i].shares * (j >= 0 ? u.series[i].open[static_cast<size_t>(j)] : last_close[i]);
      }
      std::fill(target_shares.begin(), target_shares.end(), 0.0);
      for (const auto& [i, w] : pending) {
        const int32_t j = bar_at(i, c);
        if (j < 0) continue;
        const double px = u.series[i].open[static_cast<size_t>(j)];
        target_shares[i] = std::floor(w * equity_open / (px * (1.0 + fee)));
      }
      // Sells first (they free cash), then buys in the order of the targets (best first).
      for (size_t i = 0; i < k; ++i) {
        if (lots[i].shares <= target_shares[i]) continue;
        const int32_t j = bar_at(i, c);
        if (j < 0) continue;  // no bar today: cannot trade, keep holding
        sell(i, lots[i].shares - target_shares[i], u.series[i].open[static_cast<size_t>(j)], day);
      }
      for (const auto& [i, w] : pending) {
        const int32_t j = bar_at(i, c);
        if (j < 0 || target_shares[i] <= lots[i].shares) continue;
        const double px = u.series[i].open[static_cast<size_t>(j)];
        double q = std::min(target_shares[i] - lots[i].shares, std::floor(cash / (px * (1.0 + fee))));
        if (q > 0 && q * px + q * px * fee > cash) q -= 1;
        if (q > 0) buy(i, q, px, day);
      }
    }
    // 2. Mark at the close.
    double holdings = 0;
    bool invested = false;
    for (size_t i = 0; i < k; ++i) {
      const int32_t j = bar_at(i, c);
      if (j >= 0) last_close[i] = u.series[i].close[static_cast<size_t>(j)];
      if (lots[i].shares > 0) {
        holdings += lots[i].shares * last_close[i];
        invested = true;
      }
    }
    const double equity = cash + holdings;
    acc.Add(equity);
    bars_invested += invested;
    if (record) {
      result.equity[c - c0] = equity;
      result.cash[c - c0] = cash;
      result.holdings[c - c0] = holdings;
    }
    hwm = std::max(hwm, equity);
    while (!window_max.empty() && window_max.back().second <= equity) window_max.pop_back();
    window_max.emplace_back(c, equity);
    while (window_max.front().first + 252 <= c) window_max.pop_front();
    // 3. Decide at this close for tomorrow's open.
    if (c + 1 >= n || !is_rebalance_bar(c + 1)) continue;
    const double dd = hwm > 0 ? 1.0 - equity / hwm : 0.0;
    const double dd52 = 1.0 - equity / window_max.front().second;
    bool risk_off = false;
    if (market >= 0) {
      const int32_t j = bar_at(static_cast<size_t>(market), c);
      if (j >= 0 && !std::isnan(market_sma[static_cast<size_t>(j)]) &&
          u.series[static_cast<size_t>(market)].close[static_cast<size_t>(j)] <
              market_sma[static_cast<size_t>(j)]) {
        risk_off = true;
      }
    }
    if (p.max_drawdown > 0 && dd >= p.max_drawdown) {
      risk_off = true;
      hwm = equity;  // trailing: re-arm from here
    }
    if (p.max_drawdown_52w > 0 && dd52 >= p.max_drawdown_52w) risk_off = true;
    double exposure = p.max_exposure;
    if (p.dynamic_exposure) {
      for (size_t t = 0; t < p.drawdown_tiers.size(); ++t) {
        if (dd >= p.drawdown_tiers[t]) exposure = p.max_exposure * p.drawdown_exposures[t];
      }
    }
    pending.clear();
    has_pending = true;
    if (risk_off) {
      if (p.risk_off_mode == RiskOffMode::kCash) continue;
      std::vector<std::pair<size_t, double>> cands;  // (instrument, key: higher is better)
      for (size_t i : defensive) {
        const int32_t j = bar_at(i, c);
        if (j < 0) continue;
        double key = 0;
        if (p.risk_off_pick == RiskOffPick::kLowestVol) {
          const double v = realized_vol(i, j, p.vol_window);
          key = std::isnan(v) ? -1e300 : -v;
        } else if (p.risk_off_pick == RiskOffPick::kHighestMomentum) {
          const auto& cl = u.series[i].close;
          key = j >= p.vol_window ? cl[static_cast<size_t>(j)] / cl[static_cast<size_t>(j - p.vol_window)] - 1.0
                                  : -1e300;
        }
        cands.emplace_back(i, key);
      }
      if (cands.empty()) continue;
      std::stable_sort(cands.begin(), cands.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      const size_t picks = p.risk_off_pick == RiskOffPick::kAll ? cands.size() : 1;
      for (size_t t = 0; t < picks; ++t) {
        pending.emplace_back(cands[t].first, exposure / static_cast<double>(picks));
      }
      continue;
    }
    // Rank the scored instruments.
    size_t m = 0;
    for (size_t i = 0; i < k; ++i) {
      if (!rankable[i]) continue;
      const int32_t j = bar_at(i, c);
      if (j < 0) continue;
      const double s = scores[i][static_cast<size_t>(j)];
      if (std::isnan(s) || s < p.min_score) continue;
      order[m++] = i;
    }
    auto score_of = [&](size_t i) { return scores[i][static_cast<size_t>(bar_at(i, c))]; };
    std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(m), [&](size_t a, size_t b) {
      const double sa = score_of(a), sb = score_of(b);
      return sa != sb ? sa > sb : a < b;
    });
    const size_t top = static_cast<size_t>(std::max(0, p.top_n));
    const size_t band = top + static_cast<size_t>(std::max(0, p.retain_top_n));
    std::vector<size_t> chosen;
    for (size_t r = 0; r < m && r < band && chosen.size() < top; ++r) {
      if (lots[order[r]].shares > 0) chosen.push_back(order[r]);  // retained holdings
    }
    for (size_t r = 0; r < m && chosen.size() < top; ++r) {
      if (std::find(chosen.begin(), chosen.end(), order[r]) == chosen.end()) chosen.push_back(order[r]);
    }
    std::stable_sort(chosen.begin(), chosen.end(), [&](size_t a, size_t b) {
      const double sa = score_of(a), sb = score_of(b);
      return sa != sb ? sa > sb : a < b;
    });
    if (chosen.empty()) continue;
    std::vector<double> w(chosen.size(), 1.0 / static_cast<double>(chosen.size()));
    if (p.weighting == Weighting::kScore) {
      double total = 0;
      for (size_t t = 0; t < chosen.size(); ++t) total += std::max(0.0, score_of(chosen[t]));
      if (total > 0) {
        for (size_t t = 0; t < chosen.size(); ++t) w[t] = std::max(0.0, score_of(chosen[t])) / total;
      }
    }
    if (p.vol_target > 0) {
      // Annualized vol of the target portfolio's daily returns over the last vol_window bars.
      const int vw = p.vol_window;
      double mean = 0, m2 = 0;
      int count = 0;
      for (int s = 0; s < vw; ++s) {
        if (c < static_cast<size_t>(s + 1)) break;
        const size_t cc = c - static_cast<size_t>(s), cp = cc - 1;
        double r = 0;
        for (size_t t = 0; t < chosen.size(); ++t) {
          const int32_t a = bar_at(chosen[t], cc), b = bar_at(chosen[t], cp);
          if (a >= 0 && b >= 0) {
            r += w[t] * (u.series[chosen[t]].close[static_cast<size_t>(a)] /
                             u.series[chosen[t]].close[static_cast<size_t>(b)] - 1.0);
          }
        }
        ++count;
        const double delta = r - mean;
        mean += delta / count;
        m2 += delta * (r - mean);
      }
      const double vol = count > 1 ? std::sqrt(m2 / (count - 1)) * std::sqrt(kTradingDaysPerYear) : 0.0;
      if (vol > p.vol_target) exposure *= p.vol_target / vol;
    }
    for (size_t t = 0; t < chosen.size(); ++t) {
      pending.emplace_back(chosen[t], std::min(w[t] * exposure, p.max_weight));
    }
  }
  for (size_t i = 0; i < k; ++i) {
    if (lots[i].shares <= 0) continue;
    const Lot& lot = lots[i];
    const double mv = lot.shares * last_close[i];
    // Partially sold lots: unrealized = value + realized proceeds - total cost.
    result.open_positions.push_back(OpenPosition{
        u.series[i].symbol, lot.entry_date, lot.buy_notional / lot.bought_shares, lot.shares,
        last_close[i], mv,
        mv + lot.sell_notional - lot.sell_fees - lot.buy_notional - lot.buy_fees});
  }
  result.metrics = FinishPerformance(acc, u.calendar[c0], u.calendar[n - 1],
                                     p.initial_cash, bars_invested, &stats, orders, total_fees);
  return result;
}

}  // namespace alphalab::engine

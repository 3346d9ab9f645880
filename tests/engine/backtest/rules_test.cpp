// Every worked example of docs/engine.md ("topn rules, with worked examples"), checked
// number for number. Keep the two in step: a changed rule changes both.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "core/clock.hpp"
#include "engine/backtest/topn.hpp"

namespace alphalab::engine {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Consecutive calendar days from Monday 2020-01-06; open(k, t) and close(k, t) per symbol;
// has(k, t) false leaves a gap.
Universe Make(const std::vector<std::string>& symbols, int days, const std::function<double(size_t, int)>& open,
              const std::function<double(size_t, int)>& close,
              const std::function<bool(size_t, int)>& has = [](size_t, int) { return true; }) {
  Universe u;
  const int32_t first = DaysFromCivil(2020, 1, 6);
  for (size_t k = 0; k < symbols.size(); ++k) {
    BarSeries s;
    s.symbol = symbols[k];
    for (int t = 0; t < days; ++t) {
      if (!has(k, t)) continue;
      const double o = open(k, t), c = close(k, t);
      s.date.push_back(first + t);
      s.open.push_back(o);
      s.close.push_back(c);
      s.high.push_back(std::max(o, c));
      s.low.push_back(std::min(o, c));
      s.adj_close.push_back(c);
      s.volume.push_back(1);
    }
    u.series.push_back(std::move(s));
  }
  u.BuildCalendar();
  return u;
}

std::vector<std::vector<double>> Scores(const Universe& u, const std::map<std::string, std::vector<double>>& rows) {
  std::vector<std::vector<double>> out;
  for (const auto& s : u.series) {
    std::vector<double> v(s.size(), kNaN);
    if (auto it = rows.find(s.symbol); it != rows.end()) {
      for (size_t t = 0; t < v.size(); ++t) v[t] = it->second[std::min(t, it->second.size() - 1)];
    }
    out.push_back(v);
  }
  return out;
}

TopNParams Daily(int top_n, double cash, double fee_bps) {
  TopNParams p;
  p.rebalance_frequency = RebalanceFrequency::kDaily;
  p.top_n = top_n;
  p.initial_cash = cash;
  p.fee_bps = fee_bps;
  p.risk_off_symbols = {};
  return p;
}

std::map<std::string, double> Held(const BacktestResult& r) {
  std::map<std::string, double> out;
  for (const auto& p : r.open_positions) out[p.symbol] = p.shares;
  return out;
}

// Example 1: target sizing, and held names resized at every rebalance.
TEST(EngineDocExamples, TargetSizingAndResizing) {
  // A opens at 10 on days 0-1 and 12 on day 2; B is 20 throughout. Equal weight, top 2.
  const auto u = Make({"A", "B"}, 3, [](size_t k, int t) { return k == 0 ? (t < 2 ? 10.0 : 12.0) : 20.0; },
                      [](size_t k, int t) { return k == 0 ? (t < 2 ? 10.0 : 12.0) : 20.0; });
  auto r = RunTopN(u, Scores(u, {{"A", {0.9}}, {"B", {0.8}}}), Daily(2, 10'000, 10)).value();
  // Day 1: A floor(0.5 x 10000 / (10 x 1.001)) = 499, B floor(5000 / 20.02) = 249.
  ASSERT_GE(r.fills.size(), 2u);
  EXPECT_EQ(r.fills[0].shares, 499);
  EXPECT_EQ(r.fills[1].shares, 249);
  EXPECT_NEAR(r.cash[1], 20.03, 1e-9);
  // Day 2: equity at the open 20.03 + 499 x 12 + 249 x 20 = 10988.03; A floor(5494.015 /
  // 12.012) = 457 (sell 42), B floor(5494.015 / 20.02) = 274 (buy 25).
  ASSERT_EQ(r.fills.size(), 4u);
  EXPECT_FALSE(r.fills[2].buy);
  EXPECT_EQ(r.fills[2].symbol, "A");
  EXPECT_EQ(r.fills[2].shares, 42);
  EXPECT_TRUE(r.fills[3].buy);
  EXPECT_EQ(r.fills[3].shares, 25);
  EXPECT_EQ(FillReasonName(r.fills[3].reason), "rebalance");
  EXPECT_EQ(Held(r), (std::map<std::string, double>{{"A", 457}, {"B", 274}}));
}

// Example 2: equal weight is 1 / (names chosen), not 1 / top_n.
TEST(EngineDocExamples, EqualWeightOverTheNamesChosen) {
  const auto u = Make({"A", "B", "C"}, 2, [](size_t, int) { return 10.0; }, [](size_t, int) { return 10.0; });
  auto p = Daily(3, 10'000, 0);
  p.min_score = 0.5;  // C (0.2) is not eligible: 2 names chosen
  auto r = RunTopN(u, Scores(u, {{"A", {0.9}}, {"B", {0.6}}, {"C", {0.2}}}), p).value();
  EXPECT_EQ(Held(r), (std::map<std::string, double>{{"A", 500}, {"B", 500}}));
}

// Example 3: the exposure chain min(w x max_exposure x tier x vol_scale, max_weight).
TEST(EngineDocExamples, ExposureChain) {
  // A and B at 10, both close at 8 on day 1 (-20%); fee 0, cash 10,000.
  const auto u = Make({"A", "B"}, 3, [](size_t, int t) { return t < 2 ? 10.0 : 8.0; },
                      [](size_t, int t) { return t < 1 ? 10.0 : 8.0; });
  const auto scores = Scores(u, {{"A", {0.9}}, {"B", {0.8}}});
  auto p = Daily(2, 10'000, 0);
  p.max_exposure = 0.8;
  p.dynamic_exposure = true;
  p.drawdown_tiers = {0.1};
  p.drawdown_exposures = {0.5};
  auto r = RunTopN(u, scores, p).value();
  // Day 0: 0.5 x 0.8 = 0.4 each -> 400 shares at 10. Day 1 close: equity 2000 + 800 x 8 =
  // 8400, drawdown 16% >= 10% -> tier 0.5: 0.5 x 0.8 x 0.5 = 0.2 -> floor(0.2 x 8400 / 8) = 210.
  EXPECT_EQ(r.fills[0].shares, 400);
  EXPECT_EQ(Held(r), (std::map<std::string, double>{{"A", 210}, {"B", 210}}));
  // max_weight caps after the multiplication: min(0.4, 0.15) = 0.15 -> 150 shares.
  p.max_weight = 0.15;
  auto capped = RunTopN(u, scores, p).value();
  EXPECT_EQ(capped.fills[0].shares, 150);
  EXPECT_NEAR(capped.cash[0 + 1], 7000, 1e-9);
}

// Example 4: defensive picks get max_exposure x tier / picks; no market SMA before
// market_ma_window bars; the market filter is off on a day the market has no bar.
TEST(EngineDocExamples, DefensivePicksAndTheMarketFilter) {
  // SYNMKT: 100, 90, 80, ... (below its 2-bar mean from day 1). A 10, SYNBOND 50, SYNGOLD 25.
  const auto u = Make({"A", "SYNMKT", "SYNBOND", "SYNGOLD"}, 4,
                      [](size_t k, int t) { return k == 0 ? 10.0 : k == 1 ? 100.0 - 10 * t : k == 2 ? 50.0 : 25.0; },
                      [](size_t k, int t) { return k == 0 ? 10.0 : k == 1 ? 100.0 - 10 * t : k == 2 ? 50.0 : 25.0; });
  auto p = Daily(1, 10'000, 0);
  p.max_exposure = 0.8;
  p.market_filter = true;
  p.market_ma_window = 2;
  p.risk_off_mode = RiskOffMode::kDefensive;
  p.risk_off_pick = RiskOffPick::kAll;
  p.risk_off_symbols = {"SYNBOND", "SYNGOLD"};
  auto r = RunTopN(u, Scores(u, {{"A", {0.9}}}), p).value();
  // Day 0: no 2-bar SMA yet -> risk-on: A 0.8 x 10000 / 10 = 800. Day 1: 90 < 95 -> risk-off:
  // day 2 sells A and buys SYNBOND floor(0.4 x 10000 / 50) = 80 and SYNGOLD 4000 / 25 = 160.
  EXPECT_EQ(r.fills[0].symbol, "A");
  EXPECT_EQ(r.fills[0].shares, 800);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(FillReasonName(r.trades[0].exit_reason), "risk_off");
  EXPECT_EQ(Held(r), (std::map<std::string, double>{{"SYNBOND", 80}, {"SYNGOLD", 160}}));
  EXPECT_NEAR(r.risk_off_share, 2.0 / 4.0, 1e-12);  // days 2 and 3 under the day-1/2 decisions
  // The market without a bar on day 1: no filter that day, A is kept and resized.
  const auto gap = Make({"A", "SYNMKT", "SYNBOND", "SYNGOLD"}, 3,
                        [](size_t k, int t) { return k == 0 ? 10.0 : k == 1 ? 100.0 - 10 * t : k == 2 ? 50.0 : 25.0; },
                        [](size_t k, int t) { return k == 0 ? 10.0 : k == 1 ? 100.0 - 10 * t : k == 2 ? 50.0 : 25.0; },
                        [](size_t k, int t) { return !(k == 1 && t == 1); });
  auto g = RunTopN(gap, Scores(gap, {{"A", {0.9}}}), p).value();
  EXPECT_TRUE(g.trades.empty());
  EXPECT_EQ(Held(g), (std::map<std::string, double>{{"A", 800}}));
  // A defensive symbol without a bar on the decision day is not a candidate: lowest_vol
  // would pick calm SYNBOND, but it has no bar on day 1, so SYNGOLD gets all 0.8.
  const auto no_bond = Make({"A", "SYNMKT", "SYNBOND", "SYNGOLD"}, 4,
                            [](size_t k, int t) { return k == 0 ? 10.0 : k == 1 ? 100.0 - 10 * t : k == 2 ? 50.0 : 25.0 + (t % 2); },
                            [](size_t k, int t) { return k == 0 ? 10.0 : k == 1 ? 100.0 - 10 * t : k == 2 ? 50.0 : 25.0 + (t % 2); },
                            [](size_t k, int t) { return !(k == 2 && t == 1); });
  p.risk_off_pick = RiskOffPick::kLowestVol;
  p.vol_window = 1;
  auto nb = RunTopN(no_bond, Scores(no_bond, {{"A", {0.9}}}), p).value();
  bool bought_gold_day2 = false;
  for (const auto& f : nb.fills) bought_gold_day2 |= f.buy && f.symbol == "SYNGOLD" && f.date == no_bond.calendar[2];
  EXPECT_TRUE(bought_gold_day2);
}

// Example 5: vol_target on the raw weights, simple returns, sample std, partial window.
TEST(EngineDocExamples, VolTargetInputs) {
  // A closes 100, 110, 99, 108.9 (+10%, -10%, +10%), opens at the previous close.
  const std::vector<double> close = {100, 110, 99, 108.9, 108.9};
  const auto u = Make({"A"}, 5, [&](size_t, int t) { return t ? close[t - 1] : 100.0; },
                      [&](size_t, int t) { return close[t]; });
  auto p = Daily(1, 10'000, 0);
  p.vol_target = 0.5;
  p.vol_window = 10;  // only 3 returns exist on day 3: a partial window
  auto r = RunTopN(u, Scores(u, {{"A", {0.9}}}), p).value();
  // Decision on day 3: returns 0.1, -0.1, 0.1 with weight 1; mean 1/30, sample std
  // sqrt((0.0667^2 + 0.1333^2 + 0.0667^2) / 2) = 0.11547; x sqrt(252) = 1.8330;
  // scale 0.5 / 1.8330 = 0.27277 -> day 4 target floor(0.27277 x equity / 108.9).
  const double rets[] = {110.0 / 100 - 1, 99.0 / 110 - 1, 108.9 / 99 - 1};
  const double mean = (rets[0] + rets[1] + rets[2]) / 3;
  double ss = 0;
  for (double x : rets) ss += (x - mean) * (x - mean);
  const double vol = std::sqrt(ss / 2) * std::sqrt(252.0);
  EXPECT_NEAR(vol, 1.8330, 1e-4);
  const double expected = std::floor(0.5 / vol * r.equity[3] / 108.9);
  EXPECT_NEAR(0.5 / vol, 0.27277, 1e-5);
  EXPECT_EQ(Held(r)["A"], expected);
}

// Example 5 (missing bars in the vol estimate): a name without a bar on either day of a
// return adds 0 to that day's portfolio return; the day still counts.
TEST(EngineDocExamples, VolEstimateMissingBarAddsZero) {
  // As VolTargetInputs, but A has no bar on day 2: the returns are +10%, 0 (day 2: no bar),
  // 0 (day 3: no bar the day before). Mean 1/30, sample std 0.057735, x sqrt(252) = 0.91652,
  // scale 0.5 / 0.91652 = 0.54554 -> day 4 target floor(0.54554 x equity / 108.9).
  const std::vector<double> close = {100, 110, 99, 108.9, 108.9};
  // B (never scored) keeps day 2 in the calendar.
  const auto u = Make({"A", "B"}, 5, [&](size_t k, int t) { return k ? 50.0 : t ? close[t - 1] : 100.0; },
                      [&](size_t k, int t) { return k ? 50.0 : close[t]; },
                      [](size_t k, int t) { return k == 1 || t != 2; });
  auto p = Daily(1, 10'000, 0);
  p.vol_target = 0.5;
  p.vol_window = 10;
  auto r = RunTopN(u, Scores(u, {{"A", {0.9}}}), p).value();
  const double rets[] = {110.0 / 100 - 1, 0, 0};
  const double mean = (rets[0] + rets[1] + rets[2]) / 3;
  double ss = 0;
  for (double x : rets) ss += (x - mean) * (x - mean);
  const double vol = std::sqrt(ss / 2) * std::sqrt(252.0);
  EXPECT_NEAR(vol, 0.91652, 1e-5);
  EXPECT_NEAR(0.5 / vol, 0.54554, 1e-5);
  // Bought 100 on day 1 (no returns yet: scale 1), kept through the gap, resized on day 4.
  EXPECT_EQ(r.fills[0].shares, 100);
  EXPECT_EQ(Held(r)["A"], std::floor(0.5 / vol * r.equity[3] / 108.9));
  EXPECT_EQ(Held(r)["A"], 54);
}

// Example 6: the rebalance day is the fill day; the decision uses the previous close.
TEST(EngineDocExamples, RebalanceDayIsTheFillDay) {
  // Weekly on Monday. Scores flip on Saturday 2020-01-11: the Monday 01-13 fill follows
  // Sunday's (= the previous bar's) close, which already ranks B first.
  const auto u = Make({"A", "B"}, 14, [](size_t, int) { return 10.0; }, [](size_t, int) { return 10.0; });
  std::vector<double> a(14, 0.9), b(14, 0.1);
  for (int t = 5; t < 14; ++t) std::swap(a[static_cast<size_t>(t)], b[static_cast<size_t>(t)]);
  auto p = Daily(1, 10'000, 0);
  p.rebalance_frequency = RebalanceFrequency::kWeekly;
  p.rebalance_day = 0;
  auto r = RunTopN(u, Scores(u, {{"A", a}, {"B", b}}), p).value();
  // First bar Monday 01-06 is not a fill (no previous close); Monday 01-13 buys B.
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(FormatDate(r.fills[0].date), "2020-01-13");
  EXPECT_EQ(r.fills[0].symbol, "B");
}

// Example 7: one high-water mark for the tiers and max_drawdown (reset when it fires).
TEST(EngineDocExamples, OneHighWaterMark) {
  // A: 10, closes at 8 on day 1, then 8.
  const auto u = Make({"A"}, 5, [](size_t, int t) { return t < 2 ? 10.0 : 8.0; },
                      [](size_t, int t) { return t < 1 ? 10.0 : 8.0; });
  auto p = Daily(1, 10'000, 0);
  p.max_drawdown = 0.15;
  p.dynamic_exposure = true;
  p.drawdown_tiers = {0.1};
  p.drawdown_exposures = {0.5};
  auto r = RunTopN(u, Scores(u, {{"A", {0.9}}}), p).value();
  // Day 1 close: 1000 x 8 = 8000, drawdown 20% >= 15% -> stop, the mark resets to 8000;
  // day 2 sells; day 2 close: drawdown 0 from the new mark -> tier 1 -> day 3 buys 1000.
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(FillReasonName(r.trades[0].exit_reason), "drawdown_stop");
  EXPECT_EQ(Held(r)["A"], 1000);
  ASSERT_EQ(r.lockout_spells.size(), 1u);
  EXPECT_EQ(r.lockout_spells[0].bars, 1u);  // day 2
}

// Example 7 (52 weeks = 252 bars): max_drawdown_52w measures from the highest equity of
// the last 252 bars (the current one included); in cash the lock-out lasts until that high
// leaves the window.
TEST(EngineDocExamples, FiftyTwoWeeksAre252Bars) {
  // A: 10 on day 0, 8 from day 1's close on. 1000 A bought on day 1 (equity 10,000 on day 0).
  const auto u = Make({"A"}, 300, [](size_t, int t) { return t < 2 ? 10.0 : 8.0; },
                      [](size_t, int t) { return t < 1 ? 10.0 : 8.0; });
  auto p = Daily(1, 10'000, 0);
  p.max_drawdown_52w = 0.15;
  auto r = RunTopN(u, Scores(u, {{"A", {0.9}}}), p).value();
  // Day 1: 8000 is 20% under the 252-bar high 10,000 -> risk-off, day 2 sells at 8. The
  // equity stays 8000; on day 252 the window is days 1..252 (high 8000): risk-on again, day
  // 253 buys 1000 at 8. The spell is days 2..252: 251 bars.
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(FillReasonName(r.trades[0].exit_reason), "drawdown_stop");
  ASSERT_EQ(r.lockout_spells.size(), 1u);
  EXPECT_EQ(r.lockout_spells[0].start, u.calendar[2]);
  EXPECT_EQ(r.lockout_spells[0].end, u.calendar[252]);
  EXPECT_EQ(r.lockout_spells[0].bars, 251u);
  EXPECT_NEAR(r.risk_off_share, 251.0 / 300.0, 1e-12);
  ASSERT_EQ(r.open_positions.size(), 1u);
  EXPECT_EQ(r.open_positions[0].entry_date, u.calendar[253]);
  EXPECT_EQ(r.open_positions[0].shares, 1000);
}

// Example 8: trade pnl and return = pnl / (entry notional + entry fee).
TEST(EngineDocExamples, TradePnlAndReturn) {
  const auto u = Make({"A", "B"}, 3, [](size_t k, int t) { return k == 0 ? (t < 2 ? 10.0 : 12.0) : 5.0; },
                      [](size_t k, int t) { return k == 0 ? (t < 2 ? 10.0 : 12.0) : 5.0; });
  auto r = RunTopN(u, Scores(u, {{"A", {0.9, 0.1}}, {"B", {0.1, 0.9}}}), Daily(1, 5'000, 10)).value();
  // Buy 499 A at 10 (fee 4.99; basis 4994.99), sell at 12 (fee 5.988): pnl 5988 - 5.988 -
  // 4994.99 = 987.022, return 987.022 / 4994.99 = 0.197602.
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_NEAR(r.trades[0].pnl, 987.022, 1e-9);
  EXPECT_NEAR(r.trades[0].ret, 0.197602, 1e-6);
  EXPECT_NEAR(r.trades[0].fees, 10.978, 1e-9);
}

// Example 9: ranking ties are broken alphabetically, whatever the ticker order.
TEST(EngineDocExamples, TiesAreAlphabetical) {
  const auto u = Make({"ZETA", "ALPHA", "MID"}, 2, [](size_t, int) { return 10.0; }, [](size_t, int) { return 10.0; });
  auto r = RunTopN(u, Scores(u, {{"ZETA", {0.5}}, {"ALPHA", {0.5}}, {"MID", {0.5}}}), Daily(2, 10'000, 0)).value();
  EXPECT_EQ(Held(r), (std::map<std::string, double>{{"ALPHA", 500}, {"MID", 500}}));
  ASSERT_EQ(r.scores.size(), 3u);
  EXPECT_EQ(r.scores[0].symbol, "ALPHA");
  EXPECT_EQ(r.scores[2].symbol, "ZETA");
  EXPECT_FALSE(r.scores[2].selected);
}

}  // namespace
}  // namespace alphalab::engine

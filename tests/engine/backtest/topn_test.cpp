#include "engine/backtest/topn.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "core/clock.hpp"
#include "engine/backtest/runner.hpp"
#include "engine/data/synth.hpp"

namespace alphalab::engine {
namespace {

// ISO weekday from the standard library (Monday = 1), independent of the engine's arithmetic.
unsigned IsoWeekday(int32_t days) {
  return std::chrono::weekday(std::chrono::sys_days(std::chrono::days(days))).iso_encoding();
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Business days from Monday 2020-01-06; price(symbol index, bar) gives open and close.
Universe MakeUniverse(const std::vector<std::string>& symbols, int days,
                      const std::function<double(size_t, int)>& price) {
  Universe u;
  const int32_t monday = DaysFromCivil(2020, 1, 6);
  for (size_t k = 0; k < symbols.size(); ++k) {
    BarSeries s;
    s.symbol = symbols[k];
    int32_t d = monday;
    for (int t = 0; t < days; ++t) {
      while (IsoWeekday(d) >= 6) ++d;
      const double p = price(k, t);
      s.date.push_back(d);
      s.open.push_back(p);
      s.close.push_back(p);
      s.high.push_back(p);
      s.low.push_back(p);
      s.adj_close.push_back(p);
      s.volume.push_back(1);
      ++d;
    }
    u.series.push_back(std::move(s));
  }
  u.BuildCalendar();
  return u;
}

TopNParams Daily() {
  TopNParams p;
  p.rebalance_frequency = RebalanceFrequency::kDaily;
  p.fee_bps = 0;
  p.initial_cash = 10'000;
  p.top_n = 2;
  p.risk_off_symbols = {};
  return p;
}

// scores[k][t] from a table: one row per instrument.
std::vector<std::vector<double>> Scores(const Universe& u, const std::map<std::string, std::vector<double>>& rows) {
  std::vector<std::vector<double>> out;
  for (const auto& s : u.series) {
    auto it = rows.find(s.symbol);
    std::vector<double> v(s.size(), kNaN);
    if (it != rows.end()) {
      for (size_t t = 0; t < v.size() && t < it->second.size(); ++t) v[t] = it->second[t];
    }
    out.push_back(v);
  }
  return out;
}

std::map<std::string, double> Holdings(const BacktestResult& r) {
  std::map<std::string, double> out;
  for (const auto& p : r.open_positions) out[p.symbol] = p.shares;
  return out;
}

TEST(TopNTest, PicksTopNEqualWeightAtNextOpen) {
  const auto u = MakeUniverse({"A", "B", "C", "D"}, 3, [](size_t k, int) { return 10.0 * (k + 1); });
  const auto scores = Scores(u, {{"A", {0.9, 0.9, 0.9}}, {"B", {0.2, 0.2, 0.2}}, {"C", {0.8, 0.8, 0.8}}, {"D", {0.5, 0.5, 0.5}}});
  auto r = RunTopN(u, scores, Daily());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Decided at the close of bar 0, bought at bar 1's open: A (price 10) and C (price 30),
  // each floor(0.5 * 10000 / price).
  auto h = Holdings(*r);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h["A"], 500);
  EXPECT_EQ(h["C"], 166);
  EXPECT_DOUBLE_EQ(r->equity[0], 10'000);  // nothing traded on the first bar
  EXPECT_DOUBLE_EQ(r->cash[1], 10'000 - 5000 - 166 * 30);
  EXPECT_EQ(r->metrics.orders, 2);  // bar 2's decision keeps the same shares: no orders
}

TEST(TopNTest, RetainBandKeepsHoldingsWhileRankBelowTopNPlusRetain) {
  const auto u = MakeUniverse({"A", "B", "C", "D"}, 4, [](size_t, int) { return 10.0; });
  // Bar 0: A > B > C > D -> hold A, B. Bar 1: C > D > B > A (B rank 2, A rank 3).
  const auto scores = Scores(u, {{"A", {0.9, 0.1, 0.1, 0.1}}, {"B", {0.8, 0.85, 0.85, 0.85}},
                                 {"C", {0.1, 0.95, 0.95, 0.95}}, {"D", {0.0, 0.9, 0.9, 0.9}}});
  auto p = Daily();
  p.retain_top_n = 1;  // band = 3: B (rank 2) stays, A (rank 3) goes, C fills
  auto kept = RunTopN(u, scores, p);
  ASSERT_TRUE(kept.ok());
  auto h = Holdings(*kept);
  EXPECT_EQ(h.count("B"), 1u);
  EXPECT_EQ(h.count("C"), 1u);
  EXPECT_EQ(h.count("D"), 0u);
  p.retain_top_n = 0;  // no band: plain top 2 = C, D
  auto plain = RunTopN(u, scores, p);
  ASSERT_TRUE(plain.ok());
  h = Holdings(*plain);
  EXPECT_EQ(h.count("C"), 1u);
  EXPECT_EQ(h.count("D"), 1u);
  EXPECT_EQ(h.count("B"), 0u);
  ASSERT_EQ(plain->trades.size(), 2u);  // A and B closed
}

TEST(TopNTest, MaxWeightCapsAndMinScoreFilters) {
  const auto u = MakeUniverse({"A", "B", "C"}, 3, [](size_t, int) { return 10.0; });
  const auto scores = Scores(u, {{"A", {0.9, 0.9, 0.9}}, {"B", {0.8, 0.8, 0.8}}, {"C", {0.3, 0.3, 0.3}}});
  auto p = Daily();
  p.top_n = 3;
  p.max_weight = 0.25;
  p.min_score = 0.5;  // C is excluded
  auto r = RunTopN(u, scores, p);
  ASSERT_TRUE(r.ok());
  auto h = Holdings(*r);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h["A"], 250);  // 25% of 10000 at 10
  EXPECT_EQ(h["B"], 250);
  EXPECT_DOUBLE_EQ(r->cash.back(), 5000);
}

TEST(TopNTest, ScoreWeightingIsProportional) {
  const auto u = MakeUniverse({"A", "B"}, 3, [](size_t, int) { return 1.0; });
  const auto scores = Scores(u, {{"A", {0.75, 0.75, 0.75}}, {"B", {0.25, 0.25, 0.25}}});
  auto p = Daily();
  p.weighting = Weighting::kScore;
  auto r = RunTopN(u, scores, p);
  ASSERT_TRUE(r.ok());
  auto h = Holdings(*r);
  EXPECT_EQ(h["A"], 7500);
  EXPECT_EQ(h["B"], 2500);
}

TEST(TopNTest, MarketFilterGoesDefensiveIntoLowestVolatility) {
  // SYNMKT rises for 10 bars then falls below its 5-bar mean; SYNBOND is calm, SYNGOLD wild.
  const auto u = MakeUniverse({"A", "SYNMKT", "SYNBOND", "SYNGOLD"}, 16, [](size_t k, int t) {
    if (k == 1) return t < 10 ? 100.0 + t : 100.0 - 3 * (t - 10);
    if (k == 2) return 50.0 + 0.01 * (t % 2);
    if (k == 3) return 20.0 + 3.0 * (t % 2);
    return 10.0;
  });
  const auto scores = Scores(u, {{"A", std::vector<double>(16, 0.9)}});
  auto p = Daily();
  p.top_n = 1;
  p.market_filter = true;
  p.market_ma_window = 5;
  p.risk_off_mode = RiskOffMode::kDefensive;
  p.risk_off_pick = RiskOffPick::kLowestVol;
  p.risk_off_symbols = {"SYNBOND", "SYNGOLD"};
  p.vol_window = 4;
  auto r = RunTopN(u, scores, p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto h = Holdings(*r);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.count("SYNBOND"), 1u);
  // A was held first and sold when the market broke down; the market index is never bought.
  ASSERT_GE(r->trades.size(), 1u);
  EXPECT_EQ(r->trades[0].symbol, "A");
  EXPECT_EQ(FormatDate(r->trades[0].exit_date), FormatDate(u.calendar[11]));  // close 100 < mean 106 on bar 10 -> open 11
  p.risk_off_mode = RiskOffMode::kCash;
  auto cash = RunTopN(u, scores, p);
  ASSERT_TRUE(cash.ok());
  EXPECT_TRUE(cash->open_positions.empty());
  p.market_symbol = "NOPE";
  EXPECT_FALSE(RunTopN(u, scores, p).ok());
}

TEST(TopNTest, WeeklyRebalanceTradesOnlyOnTheRebalanceDay) {
  const auto u = MakeUniverse({"A", "B"}, 15, [](size_t, int) { return 10.0; });
  // The leader flips every day; weekly rebalancing only follows it on Wednesdays.
  std::vector<double> a, b;
  for (int t = 0; t < 15; ++t) {
    a.push_back(t % 2 ? 0.9 : 0.1);
    b.push_back(t % 2 ? 0.1 : 0.9);
  }
  const auto scores = Scores(u, {{"A", a}, {"B", b}});
  auto p = Daily();
  p.top_n = 1;
  p.rebalance_frequency = RebalanceFrequency::kWeekly;
  p.rebalance_day = 2;  // Wednesday
  auto r = RunTopN(u, scores, p);
  ASSERT_TRUE(r.ok());
  std::set<int32_t> trade_days;
  for (const auto& t : r->trades) {
    trade_days.insert(t.entry_date);
    trade_days.insert(t.exit_date);
  }
  for (const auto& pos : r->open_positions) trade_days.insert(pos.entry_date);
  ASSERT_FALSE(trade_days.empty());
  for (int32_t d : trade_days) EXPECT_EQ(IsoWeekday(d), 3u) << FormatDate(d);
  // Mon 01-06 .. Fri 01-24: Wednesdays 01-08, 01-15, 01-22 -> 3 rebalances, each a switch.
  EXPECT_EQ(r->metrics.orders, 5);
}

TEST(TopNTest, DrawdownTiersScaleExposure) {
  // A halves after the first buy; with tiers the next rebalance invests only 50%.
  const auto u = MakeUniverse({"A", "B"}, 6, [](size_t k, int t) { return k == 0 ? (t < 2 ? 100.0 : 50.0) : 10.0; });
  const auto scores = Scores(u, {{"A", {0.9, 0.1, 0.1, 0.1, 0.1, 0.1}}, {"B", {0.1, 0.9, 0.9, 0.9, 0.9, 0.9}}});
  auto p = Daily();
  p.top_n = 1;
  p.dynamic_exposure = true;
  p.drawdown_tiers = {0.1, 0.3};
  p.drawdown_exposures = {0.8, 0.5};
  auto r = RunTopN(u, scores, p);
  ASSERT_TRUE(r.ok());
  // Bought 100 A at 100 (bar 1); bar 1 close 100 -> decision: B at full exposure
  // (no drawdown yet) -> sold A at 50 on bar 2 (equity 5000) and bought 500 B.
  // Bar 2 close: drawdown 50% -> tier 0.5 -> hold 250 B from bar 3 on.
  auto h = Holdings(*r);
  EXPECT_EQ(h["B"], 250);
}

TEST(TopNTest, NoLookAheadAndInvariantsOnSyntheticUniverse) {
  SynthOptions o;
  o.instruments = 20;
  o.years = 4;
  const auto u = MakeSyntheticUniverse(o);
  TopNParams p;
  p.top_n = 5;
  p.retain_top_n = 3;
  p.weighting = Weighting::kScore;
  p.market_filter = true;
  p.market_ma_window = 50;
  p.dynamic_exposure = true;
  p.drawdown_tiers = {0.05, 0.1};
  p.drawdown_exposures = {0.7, 0.4};
  p.max_drawdown = 0.2;
  p.risk_off_mode = RiskOffMode::kDefensive;
  p.vol_target = 0.15;
  p.max_weight = 0.3;
  p.max_exposure = 0.9;
  auto scores_of = [](const Universe& v) {
    std::vector<std::vector<double>> s;
    for (const auto& series : v.series) s.push_back(MomentumScores(series, 20));
    return s;
  };
  auto base = RunTopN(u, scores_of(u), p);
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  EXPECT_GT(base->metrics.orders, 20);
  for (size_t t = 0; t < base->equity.size(); ++t) {
    ASSERT_GE(base->cash[t], 0) << t;
    ASSERT_NEAR(base->equity[t], base->cash[t] + base->holdings[t], 1e-6) << t;
  }
  const size_t cut = 500;
  Universe perturbed = u;
  std::mt19937 rng(4);
  for (auto& s : perturbed.series) {
    for (size_t t = cut + 1; t < s.size(); ++t) {
      const double k = std::uniform_real_distribution<double>(0.6, 1.4)(rng);
      s.open[t] *= k;
      s.close[t] *= k;
      s.high[t] *= k * 1.1;
      s.low[t] *= k * 0.9;
    }
  }
  auto moved = RunTopN(perturbed, scores_of(perturbed), p);
  ASSERT_TRUE(moved.ok());
  for (size_t t = 0; t <= cut; ++t) {
    ASSERT_EQ(base->equity[t], moved->equity[t]) << t;
    ASSERT_EQ(base->cash[t], moved->cash[t]) << t;
  }
}

}  // namespace
}  // namespace alphalab::engine

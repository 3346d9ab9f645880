#include "engine/backtest/long_flat.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/clock.hpp"
#include "engine/data/csv_reader.hpp"
#include "engine/data/synth.hpp"

namespace alphalab::engine {
namespace {

const std::string kFixture = std::string(ALPHALAB_SOURCE_DIR) + "/tests/engine/backtest/data/cross_fixture.csv";

BacktestResult RunSma(const BarSeries& bars, int fast, int slow, double cash, double fee_bps,
                      std::vector<int8_t>* signals_out = nullptr) {
  auto f = SimpleMovingAverage(bars.close, fast);
  auto s = SimpleMovingAverage(bars.close, slow);
  std::vector<int8_t> sig(bars.size());
  SmaCrossSignals(f.data(), s.data(), bars.size(), sig.data());
  if (signals_out) *signals_out = sig;
  LongFlatOptions o;
  o.initial_cash = cash;
  o.fee_rate = FeeRate(fee_bps);
  return RunLongFlat(bars, sig.data(), o);
}

// Worked by hand in tests/engine/backtest/data (closes 10 10 10 13 14 15 12 9 8 9 12 14 11 9 8 8):
//  - t3: fast[2] == slow[2] == 10, so the move above is not a strict up-cross: no trade;
//  - t6: down-cross while flat: nothing;
//  - t10: up-cross (8.5 < 8.667, 10.5 > 9.667) -> buy at t11's open 12:
//         floor(1000 / (12 * 1.001)) = 83 shares, cost 996 + fee 0.996, cash 3.004;
//  - t13: down-cross (12.5 > 12.333, 10 < 11.333) -> sell at t14's open 8.5:
//         705.5 - fee 0.7055 -> cash 707.7985, pnl -292.2015.
TEST(LongFlatTest, HandWorkedFixture) {
  auto bars = LoadBarsCsv(kFixture, "FIX", "fixture", false);
  ASSERT_TRUE(bars.ok()) << bars.status().ToString();
  ASSERT_EQ(bars->size(), 16u);
  std::vector<int8_t> sig;
  const auto r = RunSma(*bars, 2, 3, 1000, 10, &sig);
  EXPECT_EQ(sig[3], kSignalNone);
  EXPECT_EQ(sig[6], kSignalSell);
  EXPECT_EQ(sig[10], kSignalBuy);
  EXPECT_EQ(sig[13], kSignalSell);
  ASSERT_EQ(r.trades.size(), 1u);
  const auto& t = r.trades[0];
  EXPECT_EQ(FormatDate(t.entry_date), "2020-01-16");
  EXPECT_EQ(FormatDate(t.exit_date), "2020-01-21");
  EXPECT_EQ(t.shares, 83);
  EXPECT_DOUBLE_EQ(t.entry_price, 12);
  EXPECT_DOUBLE_EQ(t.exit_price, 8.5);
  EXPECT_NEAR(t.fees, 0.996 + 0.7055, 1e-9);
  EXPECT_NEAR(t.pnl, -292.2015, 1e-9);
  EXPECT_NEAR(t.ret, -292.2015 / 996.996, 1e-12);
  EXPECT_NEAR(r.equity[11], 3.004 + 83 * 14, 1e-9);
  EXPECT_NEAR(r.equity[13], 3.004 + 83 * 9, 1e-9);
  EXPECT_NEAR(r.metrics.final_equity, 707.7985, 1e-9);
  EXPECT_NEAR(r.metrics.max_drawdown, 1 - 707.7985 / (3.004 + 83 * 14), 1e-12);
  EXPECT_EQ(r.metrics.orders, 2);
  EXPECT_EQ(r.metrics.trades, 1);
  EXPECT_EQ(r.metrics.win_rate, 0);
  EXPECT_NEAR(r.metrics.exposure, 3.0 / 16, 1e-12);  // long at the close of t11, t12, t13
  EXPECT_TRUE(r.open_positions.empty());
}

TEST(LongFlatTest, LastBarSignalIsDroppedAndOpenPositionMarkedWithoutExitFee) {
  BarSeries b;
  b.symbol = "T";
  for (int i = 0; i < 4; ++i) {
    b.date.push_back(100 + i);
    b.open.push_back(10 + i);
    b.close.push_back(10.5 + i);
    b.high.push_back(20);
    b.low.push_back(1);
    b.adj_close.push_back(10.5 + i);
    b.volume.push_back(0);
  }
  std::vector<int8_t> sig = {kSignalBuy, kSignalNone, kSignalNone, kSignalSell};
  LongFlatOptions o;
  o.initial_cash = 1000;
  o.fee_rate = 0.01;
  const auto r = RunLongFlat(b, sig.data(), o);
  // buy at open[1] = 11: floor(1000 / 11.11) = 90 shares, cost 990 + 9.9 fee.
  EXPECT_TRUE(r.trades.empty());
  ASSERT_EQ(r.open_positions.size(), 1u);
  EXPECT_EQ(r.open_positions[0].shares, 90);
  EXPECT_NEAR(r.metrics.final_equity, 1000 - 990 - 9.9 + 90 * 13.5, 1e-9);
  EXPECT_NEAR(r.open_positions[0].unrealized_pnl, 90 * 13.5 - 999.9, 1e-9);
  EXPECT_EQ(r.metrics.orders, 1);
  // Buying when nothing is affordable does nothing.
  o.initial_cash = 5;
  const auto poor = RunLongFlat(b, sig.data(), o);
  EXPECT_EQ(poor.metrics.orders, 0);
  EXPECT_DOUBLE_EQ(poor.metrics.final_equity, 5);
}

Universe Synthetic(int instruments, int years, uint64_t seed) {
  SynthOptions o;
  o.instruments = instruments;
  o.years = years;
  o.seed = seed;
  return MakeSyntheticUniverse(o);
}

TEST(LongFlatTest, InvariantsHoldOnEveryBar) {
  const auto u = Synthetic(3, 10, 5);
  for (const auto& bars : u.series) {
    for (auto [f, s] : {std::pair{5, 20}, std::pair{10, 50}, std::pair{3, 7}}) {
      const auto r = RunSma(bars, f, s, 100'000, 10);
      double fees = 0;
      for (const auto& t : r.trades) fees += t.fees;
      double open_fee = 0;
      for (const auto& p : r.open_positions) {
        open_fee = p.shares * p.entry_price * 0.001;
        fees += open_fee;
      }
      EXPECT_NEAR(fees, r.metrics.total_fees, 1e-6);
      double realized = 0;
      for (const auto& t : r.trades) realized += t.pnl;
      double unrealized = 0;
      for (const auto& p : r.open_positions) unrealized += p.unrealized_pnl;
      // Every dollar of P&L is accounted for by trades and the open position.
      EXPECT_NEAR(r.metrics.final_equity - 100'000, realized + unrealized, 1e-6);
      for (size_t t = 0; t < r.equity.size(); ++t) {
        ASSERT_GE(r.cash[t], 0) << t;
        ASSERT_NEAR(r.equity[t], r.cash[t] + r.holdings[t], 1e-9) << t;
      }
      EXPECT_EQ(r.metrics.orders, static_cast<int64_t>(2 * r.trades.size() + r.open_positions.size()));
    }
  }
}

// Perturbing every bar after t must not change anything at or before t.
TEST(LongFlatTest, NoLookAhead) {
  const auto u = Synthetic(1, 8, 11);
  const BarSeries& base = u.series[3];
  std::mt19937 rng(1);
  for (size_t cut : {300u, 800u, 1500u}) {
    BarSeries p = base;
    for (size_t t = cut + 1; t < p.size(); ++t) {
      const double k = std::uniform_real_distribution<double>(0.5, 1.5)(rng);
      p.open[t] *= k;
      p.close[t] *= k * 1.01;
      p.high[t] *= k * 1.02;
      p.low[t] *= k * 0.98;
    }
    for (auto [f, s] : {std::pair{5, 20}, std::pair{10, 50}}) {
      std::vector<int8_t> sa, sb;
      const auto a = RunSma(base, f, s, 1e6, 10, &sa);
      const auto b = RunSma(p, f, s, 1e6, 10, &sb);
      const auto fa = SimpleMovingAverage(base.close, f), fb = SimpleMovingAverage(p.close, f);
      for (size_t t = 0; t <= cut; ++t) {
        ASSERT_EQ(sa[t], sb[t]) << t;
        ASSERT_EQ(a.equity[t], b.equity[t]) << t;
        ASSERT_EQ(a.cash[t], b.cash[t]) << t;
        if (!std::isnan(fa[t])) {
          ASSERT_EQ(fa[t], fb[t]) << t;
        }
      }
      for (size_t i = 0; i < a.trades.size() && a.trades[i].exit_date <= base.date[cut]; ++i) {
        ASSERT_LT(i, b.trades.size());
        EXPECT_EQ(a.trades[i].pnl, b.trades[i].pnl);
        EXPECT_EQ(a.trades[i].exit_date, b.trades[i].exit_date);
      }
    }
  }
}

TEST(LongFlatTest, ThresholdSignalsAreInclusiveAndNaNMeansFlat) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double scores[] = {nan, 0.49, 0.5, 0.7, nan, 0.2};
  int8_t out[6];
  ThresholdSignals(scores, 6, 0.5, out);
  EXPECT_EQ(out[0], kSignalSell);
  EXPECT_EQ(out[1], kSignalSell);
  EXPECT_EQ(out[2], kSignalBuy);
  EXPECT_EQ(out[3], kSignalBuy);
  EXPECT_EQ(out[4], kSignalSell);
  EXPECT_EQ(out[5], kSignalSell);
}

TEST(LongFlatTest, SleevesSplitCashAndSumEquity) {
  const auto u = Synthetic(2, 5, 3);
  const BarSeries& a = u.series[3];
  const BarSeries& b = u.series[4];
  std::vector<std::vector<int8_t>> sig(2);
  for (const BarSeries* s : {&a, &b}) {
    auto f = SimpleMovingAverage(s->close, 5), sl = SimpleMovingAverage(s->close, 20);
    sig[s == &a ? 0 : 1].resize(s->size());
    SmaCrossSignals(f.data(), sl.data(), s->size(), sig[s == &a ? 0 : 1].data());
  }
  LongFlatOptions o;
  o.initial_cash = 200'000;
  o.fee_rate = 0.001;
  const auto both = RunSleeves({&a, &b}, sig, o);
  o.initial_cash = 100'000;
  const auto ra = RunLongFlat(a, sig[0].data(), o);
  const auto rb = RunLongFlat(b, sig[1].data(), o);
  EXPECT_NEAR(both.metrics.final_equity, ra.metrics.final_equity + rb.metrics.final_equity, 1e-6);
  EXPECT_EQ(both.trades.size(), ra.trades.size() + rb.trades.size());
  for (size_t t = 0; t < both.equity.size(); ++t) {
    ASSERT_NEAR(both.equity[t], ra.equity[t] + rb.equity[t], 1e-6);
  }
  EXPECT_EQ(both.metrics.orders, ra.metrics.orders + rb.metrics.orders);
}

}  // namespace
}  // namespace alphalab::engine

#include "engine/metrics/performance.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace alphalab::engine {
namespace {

// equity 100 -> 110 -> 99 -> 121: returns +10%, -10%, +22.2222%.
TEST(PerformanceTest, HandComputedCurve) {
  const double eq[] = {100, 110, 99, 121};
  const int32_t dates[] = {0, 1, 2, 730};  // 730 calendar days = 1.998631 years
  std::vector<ClosedTradeStat> trades = {{10, 0.1}, {-5, -0.05}, {20, 0.2}, {0, 0}};
  PerformanceInput in;
  in.equity = eq;
  in.dates = dates;
  in.n = 4;
  in.initial_cash = 100;
  in.bars_with_position = 3;
  in.trades = &trades;
  in.orders = 8;
  in.total_fees = 1.5;
  const auto m = ComputePerformance(in);
  const double r1 = 0.1, r2 = -0.1, r3 = 121.0 / 99.0 - 1.0;
  const double mean = (r1 + r2 + r3) / 3;
  const double sd = std::sqrt(((r1 - mean) * (r1 - mean) + (r2 - mean) * (r2 - mean) + (r3 - mean) * (r3 - mean)) / 2);
  const double down = std::sqrt((r2 * r2) / 3);
  EXPECT_NEAR(m.total_return, 0.21, 1e-12);
  EXPECT_NEAR(m.cagr, std::pow(1.21, 365.25 / 730) - 1, 1e-12);
  EXPECT_NEAR(m.max_drawdown, 0.1, 1e-12);  // 110 -> 99
  EXPECT_NEAR(m.volatility, sd * std::sqrt(252.0), 1e-12);
  EXPECT_NEAR(m.sharpe, mean / sd * std::sqrt(252.0), 1e-9);
  EXPECT_NEAR(m.sortino, mean / down * std::sqrt(252.0), 1e-9);
  EXPECT_NEAR(m.exposure, 0.75, 1e-12);
  EXPECT_EQ(m.trades, 4);
  EXPECT_NEAR(m.win_rate, 0.5, 1e-12);   // pnl 0 is not a win
  EXPECT_NEAR(m.loss_rate, 0.5, 1e-12);
  EXPECT_NEAR(m.average_win, 0.15, 1e-12);
  EXPECT_NEAR(m.average_loss, -0.025, 1e-12);
  EXPECT_NEAR(m.profit_loss_ratio, 6.0, 1e-12);
  EXPECT_NEAR(m.expectancy, 0.5 * 6.0 - 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(m.final_equity, 121);
}

TEST(PerformanceTest, DegenerateInputsGiveZeroNotNaN) {
  const double flat[] = {100, 100, 100};
  const int32_t dates[] = {5, 6, 7};
  PerformanceInput in;
  in.equity = flat;
  in.dates = dates;
  in.n = 3;
  in.initial_cash = 100;
  const auto m = ComputePerformance(in);
  EXPECT_EQ(m.sharpe, 0);
  EXPECT_EQ(m.sortino, 0);
  EXPECT_EQ(m.volatility, 0);
  EXPECT_EQ(m.cagr, 0);
  EXPECT_EQ(m.max_drawdown, 0);
  EXPECT_EQ(m.win_rate, 0);
  EXPECT_EQ(Cagr(100, 120, 10, 10), 0);  // same first and last date
  EXPECT_EQ(Cagr(100, 0, 0, 365), -1);
}

TEST(PerformanceTest, MaxDrawdownTakesTheDeepestTroughAfterAnyPeak) {
  const double eq[] = {100, 120, 90, 130, 65, 140};
  EXPECT_NEAR(MaxDrawdown(eq, 6), 0.5, 1e-12);  // 130 -> 65
}

TEST(LeanStatisticsTest, NamesAndFormatsMatchLean) {
  PerformanceMetrics m;
  m.orders = 12;
  m.average_win = 0.0345678;
  m.average_loss = -0.0123;
  m.cagr = 0.1;
  m.max_drawdown = 0.022;
  m.expectancy = 1.23456;
  m.initial_cash = 100000;
  m.final_equity = 101691.9234;
  m.sharpe = 1.97;
  m.sortino = 0;
  m.loss_rate = 0.4;
  m.win_rate = 0.6;
  m.profit_loss_ratio = 2.8104;
  m.volatility = 0.2222;
  m.total_fees = 3.444;
  const auto stats = LeanStatistics(m);
  std::map<std::string, std::string> s(stats.begin(), stats.end());
  EXPECT_EQ(stats.front().first, "Total Orders");
  EXPECT_EQ(s["Total Orders"], "12");
  EXPECT_EQ(s["Average Win"], "3.46%");
  EXPECT_EQ(s["Average Loss"], "-1.23%");
  EXPECT_EQ(s["Compounding Annual Return"], "10.000%");
  EXPECT_EQ(s["Drawdown"], "2.200%");
  EXPECT_EQ(s["Expectancy"], "1.235");
  EXPECT_EQ(s["Start Equity"], "100000");
  EXPECT_EQ(s["End Equity"], "101691.92");
  EXPECT_EQ(s["Net Profit"], "1.692%");
  EXPECT_EQ(s["Sharpe Ratio"], "1.97");
  EXPECT_EQ(s["Sortino Ratio"], "0");
  EXPECT_EQ(s["Loss Rate"], "40%");
  EXPECT_EQ(s["Win Rate"], "60%");
  EXPECT_EQ(s["Profit-Loss Ratio"], "2.81");
  EXPECT_EQ(s["Annual Standard Deviation"], "0.222");
  EXPECT_EQ(s["Annual Variance"], "0.049");
  EXPECT_EQ(s["Total Fees"], "$3.44");
  PerformanceMetrics zero;
  zero.initial_cash = 1000000;
  zero.final_equity = 1000000;
  const auto z = LeanStatistics(zero);
  std::map<std::string, std::string> zs(z.begin(), z.end());
  EXPECT_EQ(zs["Average Win"], "0%");
  EXPECT_EQ(zs["Drawdown"], "0%");
  EXPECT_EQ(zs["Net Profit"], "0%");
  EXPECT_EQ(zs["End Equity"], "1000000.00");
  EXPECT_EQ(LeanDouble(-0.0001, 3), "0");
  EXPECT_EQ(LeanDouble(-1.5, 3), "-1.5");
}

}  // namespace
}  // namespace alphalab::engine

// The fast sma_cross path (fixed-point prefix + proven band + long-double fallback, and the
// fill-to-fill simulation) must give exactly what the previous bar-by-bar implementation
// gave: the same signals on every bar, and bit-identical trades, equity curves and metrics.
// The previous implementation is copied here verbatim (Legacy*), so this test keeps
// checking the equivalence even if the engine functions change again.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <vector>

#include "core/simd.hpp"
#include "engine/backtest/long_flat.hpp"
#include "engine/backtest/runner.hpp"
#include "engine/data/csv_reader.hpp"
#include "engine/data/synth.hpp"

namespace alphalab::engine {
namespace {

// ---- previous implementation (long-double prefix sums, per-bar loop) ----
std::vector<double> LegacySma(const std::vector<double>& values, int window) {
  std::vector<long double> prefix(values.size() + 1);
  long double sum = 0;
  prefix[0] = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    sum += values[i];
    prefix[i + 1] = sum;
  }
  const size_t n = values.size();
  std::vector<double> out(n, std::numeric_limits<double>::quiet_NaN());
  if (window < 1) return out;
  const size_t w = static_cast<size_t>(window);
  const long double inv = 1.0L / static_cast<long double>(w);
  for (size_t t = w - 1; t < n; ++t) {
    out[t] = static_cast<double>((prefix[t + 1] - prefix[t + 1 - w]) * inv);
  }
  return out;
}

std::vector<int8_t> LegacySignals(const std::vector<double>& close, int fast, int slow) {
  const auto f = LegacySma(close, fast), s = LegacySma(close, slow);
  const size_t n = close.size();
  std::vector<int8_t> out(n, 0);
  for (size_t t = 1; t < n; ++t) {
    const bool up = f[t - 1] < s[t - 1] && f[t] > s[t];
    const bool down = f[t - 1] > s[t - 1] && f[t] < s[t];
    out[t] = static_cast<int8_t>(up ? 1 : (down ? -1 : 0));
  }
  return out;
}

BacktestResult LegacyRun(const BarSeries& bars, const int8_t* signals, double initial_cash,
                         double fee) {
  BacktestResult result;
  const size_t n = bars.size();
  double cash = initial_cash, shares = 0, entry_cost = 0, entry_fee = 0, entry_price = 0;
  int32_t entry_date = 0;
  int64_t orders = 0;
  double total_fees = 0;
  size_t bars_long = 0;
  std::vector<ClosedTradeStat> stats;
  EquityAccumulator acc;
  result.equity.resize(n);
  result.cash.resize(n);
  result.holdings.resize(n);
  for (size_t t = 0; t < n; ++t) {
    if (t > 0) {
      const int8_t s = signals[t - 1];
      if (s == 1 && shares == 0) {
        const double px = bars.open[t];
        double q = std::floor(cash / (px * (1.0 + fee)));
        if (q > 0 && q * px + q * px * fee > cash) q -= 1;
        if (q > 0) {
          entry_cost = q * px;
          entry_fee = entry_cost * fee;
          cash -= entry_cost + entry_fee;
          shares = q;
          entry_price = px;
          entry_date = bars.date[t];
          total_fees += entry_fee;
          ++orders;
        }
      } else if (s == -1 && shares > 0) {
        const double px = bars.open[t];
        const double proceeds = shares * px;
        const double exit_fee = proceeds * fee;
        cash += proceeds - exit_fee;
        total_fees += exit_fee;
        ++orders;
        const double basis = entry_cost + entry_fee;
        const double pnl = proceeds - exit_fee - basis;
        stats.push_back({pnl, pnl / basis});
        result.trades.push_back(Trade{bars.symbol, entry_date, entry_price, bars.date[t], px,
                                      shares, pnl, pnl / basis, entry_fee + exit_fee, FillReason::kSignal});
        shares = 0;
      }
    }
    const double holdings = shares * bars.close[t];
    const double equity = cash + holdings;
    acc.Add(equity);
    bars_long += shares > 0;
    result.equity[t] = equity;
    result.cash[t] = cash;
    result.holdings[t] = holdings;
  }
  result.metrics = FinishPerformance(acc, n ? bars.date[0] : 0, n ? bars.date[n - 1] : 0,
                                     initial_cash, bars_long, &stats, orders, total_fees);
  return result;
}
// ---- end of the previous implementation ----

void ExpectSameMetrics(const PerformanceMetrics& a, const PerformanceMetrics& b) {
  EXPECT_EQ(a.final_equity, b.final_equity);
  EXPECT_EQ(a.total_return, b.total_return);
  EXPECT_EQ(a.cagr, b.cagr);
  EXPECT_EQ(a.max_drawdown, b.max_drawdown);
  EXPECT_EQ(a.sharpe, b.sharpe);
  EXPECT_EQ(a.sortino, b.sortino);
  EXPECT_EQ(a.volatility, b.volatility);
  EXPECT_EQ(a.exposure, b.exposure);
  EXPECT_EQ(a.win_rate, b.win_rate);
  EXPECT_EQ(a.average_win, b.average_win);
  EXPECT_EQ(a.average_loss, b.average_loss);
  EXPECT_EQ(a.expectancy, b.expectancy);
  EXPECT_EQ(a.trades, b.trades);
  EXPECT_EQ(a.orders, b.orders);
  EXPECT_EQ(a.total_fees, b.total_fees);
}

// Signals for every pair; full runs (curves, trades, metrics) for a few. Returns the number
// of bars that needed the long-double fallback.
size_t CompareSeries(const BarSeries& bars, const std::vector<std::pair<int, int>>& pairs,
                     size_t full_runs) {
  const SmaCrossSeries cross(bars.close);
  SmaCrossSeries shared(bars.close);  // grid mode: window sums cached
  for (auto [f, s] : pairs) {
    shared.CacheWindow(f);
    shared.CacheWindow(s);
  }
  std::vector<int8_t> fast_sig(bars.size()), shared_sig(bars.size());
  size_t k = 0;
  for (auto [f, s] : pairs) {
    SCOPED_TRACE(bars.symbol + " sma(" + std::to_string(f) + "," + std::to_string(s) + ")");
    const auto old_sig = LegacySignals(bars.close, f, s);
    cross.Signals(bars.close, f, s, fast_sig.data());
    shared.Signals(bars.close, f, s, shared_sig.data());
    EXPECT_EQ(shared_sig, fast_sig);
    for (size_t t = 0; t < bars.size(); ++t) {
      if (fast_sig[t] != old_sig[t]) {
        ADD_FAILURE() << "signal differs at bar " << t << ": " << int(fast_sig[t]) << " vs "
                      << int(old_sig[t]);
        break;
      }
    }
    // The public function on the plain moving averages agrees too.
    const auto sf = SimpleMovingAverage(bars.close, f), ss = SimpleMovingAverage(bars.close, s);
    std::vector<int8_t> plain(bars.size());
    SmaCrossSignals(sf.data(), ss.data(), bars.size(), plain.data());
    EXPECT_EQ(plain, old_sig);
    if (k++ >= full_runs) continue;
    for (double fee_bps : {0.0, 10.0}) {
      LongFlatOptions o;
      o.initial_cash = 1'000'000;
      o.fee_rate = FeeRate(fee_bps);
      const auto fresh = RunLongFlat(bars, fast_sig.data(), o);
      const auto old = LegacyRun(bars, old_sig.data(), o.initial_cash, o.fee_rate);
      ExpectSameMetrics(fresh.metrics, old.metrics);
      EXPECT_EQ(fresh.equity, old.equity);
      EXPECT_EQ(fresh.cash, old.cash);
      EXPECT_EQ(fresh.holdings, old.holdings);
      EXPECT_EQ(fresh.trades.size(), old.trades.size());
      for (size_t i = 0; i < old.trades.size() && i < fresh.trades.size(); ++i) {
        EXPECT_EQ(fresh.trades[i].entry_date, old.trades[i].entry_date);
        EXPECT_EQ(fresh.trades[i].exit_date, old.trades[i].exit_date);
        EXPECT_EQ(fresh.trades[i].shares, old.trades[i].shares);
        EXPECT_EQ(fresh.trades[i].pnl, old.trades[i].pnl);
      }
      o.record_curves = false;
      ExpectSameMetrics(RunLongFlat(bars, fast_sig.data(), o).metrics, old.metrics);
    }
  }
  return cross.fallback_count();
}

std::vector<std::pair<int, int>> ManyPairs() {
  std::vector<std::pair<int, int>> pairs;
  for (int f : {1, 2, 3, 5, 7, 10, 20, 50}) {
    for (int s : {2, 3, 4, 10, 20, 37, 50, 100, 200}) pairs.emplace_back(f, s);
  }
  pairs.emplace_back(10, 10);  // equal windows: never a strict cross
  pairs.emplace_back(50, 10);  // fast > slow is allowed
  return pairs;
}

// The benchmark grid: fast 5..50/5 x slow 20..200/20.
std::vector<std::pair<int, int>> HundredGrid() {
  std::vector<std::pair<int, int>> pairs;
  for (int f = 5; f <= 50; f += 5) {
    for (int s = 20; s <= 200; s += 20) pairs.emplace_back(f, s);
  }
  return pairs;
}

BarSeries FromCloses(const std::string& symbol, std::vector<double> close) {
  BarSeries b;
  b.symbol = symbol;
  for (size_t i = 0; i < close.size(); ++i) {
    b.date.push_back(static_cast<int32_t>(10000 + i));
    const double open = i ? close[i - 1] : close[i];
    b.open.push_back(open);
    b.high.push_back(std::max(open, close[i]));
    b.low.push_back(std::min(open, close[i]));
    b.close.push_back(close[i]);
    b.adj_close.push_back(close[i]);
    b.volume.push_back(0);
  }
  return b;
}

TEST(FastPathTest, DemoDataMatchesPreviousImplementation) {
  const std::string demo =
      std::string(ALPHALAB_SOURCE_DIR) + "/ui/node_modules/vega-datasets/data/sp500-2000.csv";
  if (!std::filesystem::exists(demo)) GTEST_SKIP() << "vega-datasets not installed";
  auto bars = LoadBarsCsv(demo, "SPX", demo, false);
  ASSERT_TRUE(bars.ok());
  // The whole benchmark grid plus the spread of ManyPairs.
  auto pairs = ManyPairs();
  for (auto pair : HundredGrid()) pairs.push_back(pair);
  CompareSeries(*bars, pairs, 12);
}

TEST(FastPathTest, FixtureAndSyntheticMatchPreviousImplementation) {
  auto fixture = LoadBarsCsv(std::string(ALPHALAB_SOURCE_DIR) + "/tests/engine/backtest/data/cross_fixture.csv",
                             "FIX", "fixture", false);
  ASSERT_TRUE(fixture.ok());
  // Integer closes with exact ties (10 10 10): the band must send them to the old formula.
  EXPECT_GT(CompareSeries(*fixture, {{2, 3}, {1, 4}, {2, 5}, {3, 3}}, 4), 0u);
  SynthOptions o;
  o.instruments = 3;
  o.years = 10;
  o.seed = 17;
  for (const auto& s : MakeSyntheticUniverse(o).series) CompareSeries(s, ManyPairs(), 6);
}

TEST(FastPathTest, RandomSeriesMatchPreviousImplementation) {
  std::mt19937_64 rng(2026);
  size_t fallbacks = 0;
  for (int series = 0; series < 40; ++series) {
    const int kind = series % 5;
    const size_t n = 300 + rng() % 1500;
    std::vector<double> close(n);
    double px = std::uniform_real_distribution<double>(0.5, 5000)(rng);
    for (size_t t = 0; t < n; ++t) {
      const double step = std::normal_distribution<double>(0, 0.015)(rng);
      switch (kind) {
        case 0:  // full-precision doubles
          px *= std::exp(step);
          close[t] = px;
          break;
        case 1:  // cents
          px = std::max(0.01, px * std::exp(step));
          close[t] = std::round(px * 100) / 100;
          break;
        case 2:  // whole numbers with long flat runs: many exact ties
          if (rng() % 4 == 0) px = std::max(1.0, std::round(px + std::normal_distribution<double>(0, 2)(rng)));
          close[t] = std::round(std::min(px, 300.0));
          break;
        case 3:  // a few distinct levels repeated (ties between different windows)
          close[t] = 10.1 + 0.1 * static_cast<double>(rng() % 3);
          break;
        default:  // tiny prices with six decimals
          px = std::max(1e-6, px * 1e-4 * std::exp(step)) / 1e-4;
          close[t] = std::round(px * 1e-4 * 1e6) / 1e6;
          break;
      }
    }
    fallbacks += CompareSeries(FromCloses("R" + std::to_string(series), close), ManyPairs(), 3);
  }
  EXPECT_GT(fallbacks, 0u);  // ties happened and were decided by the old formula
}

TEST(FastPathTest, DegenerateSeries) {
  // Constant prices: every bar is a tie; no signal at all.
  CompareSeries(FromCloses("C", std::vector<double>(400, 10.1)), ManyPairs(), 2);
  // Short series and windows longer than the data.
  CompareSeries(FromCloses("S", {5, 6, 7, 6, 5}), {{1, 2}, {2, 3}, {3, 8}, {0, 2}}, 4);
  // A NaN close: the old formula throughout (NaN means are never a cross).
  std::vector<double> with_nan(300);
  for (size_t t = 0; t < with_nan.size(); ++t) with_nan[t] = 100 + 10 * std::sin(0.1 * static_cast<double>(t));
  with_nan[150] = std::numeric_limits<double>::quiet_NaN();
  const SmaCrossSeries cross(with_nan);
  std::vector<int8_t> sig(with_nan.size());
  for (auto [f, s] : {std::pair{3, 10}, std::pair{5, 20}}) {
    cross.Signals(with_nan, f, s, sig.data());
    EXPECT_EQ(sig, LegacySignals(with_nan, f, s));
  }
  // Closes that cross zero: a held position's equity turns negative (the general path).
  std::vector<double> through_zero(400);
  for (size_t t = 0; t < through_zero.size(); ++t) {
    through_zero[t] = 3 + 5 * std::sin(0.05 * static_cast<double>(t)) + 0.3 * std::sin(1.3 * static_cast<double>(t));
  }
  CompareSeries(FromCloses("Z", through_zero), ManyPairs(), 20);
  // Huge and tiny magnitudes.
  std::vector<double> huge(300), tiny(300);
  for (size_t t = 0; t < huge.size(); ++t) {
    huge[t] = 1e12 * (2 + std::sin(0.07 * static_cast<double>(t)));
    tiny[t] = 1e-9 * (2 + std::cos(0.05 * static_cast<double>(t)));
  }
  CompareSeries(FromCloses("H", huge), ManyPairs(), 0);
  CompareSeries(FromCloses("T", tiny), ManyPairs(), 0);
}

// ---- the SIMD kernels (core/simd.hpp): every kernel against the previous implementation ----

// The decision kernels directly: both paths, both modes (window sums cached or not), every pair.
void CompareKernels(const BarSeries& bars, const std::vector<std::pair<int, int>>& pairs) {
  const SmaCrossSeries plain(bars.close);
  SmaCrossSeries cached(bars.close);
  for (auto [f, s] : pairs) {
    cached.CacheWindow(f);
    cached.CacheWindow(s);
  }
  std::vector<int8_t> sig(bars.size());
  for (auto [f, s] : pairs) {
    SCOPED_TRACE(bars.symbol + " sma(" + std::to_string(f) + "," + std::to_string(s) + ")");
    const auto old_sig = LegacySignals(bars.close, f, s);
    for (SimdPath path : {SimdPath::kGeneric, SimdPath::kAvx2}) {
      for (const SmaCrossSeries* series : {&plain, static_cast<const SmaCrossSeries*>(&cached)}) {
        std::fill(sig.begin(), sig.end(), int8_t{7});
        series->Signals(bars.close, f, s, sig.data(), path);
        EXPECT_EQ(sig, old_sig) << SimdPathName(path) << (series == &cached ? " cached" : " prefix");
      }
    }
  }
}

// A whole grid (RunGridOnContext: shared windows, the process's SIMD path, 2 workers) against
// the previous implementation run per combination: bit-identical metrics.
void CompareGrid(const BarSeries& bars, const std::string& fast_axis, const std::string& slow_axis) {
  SCOPED_TRACE(bars.symbol + " " + fast_axis + " x " + slow_axis);
  const auto config = YAML::Load("dataset: demo\ntickers: [" + bars.symbol +
                                 "]\ninitial_cash: 1000000\nfee_bps: 10\n"
                                 "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto spec = ParseBacktestSpec(config).value();
  Universe u;
  u.series.push_back(bars);
  u.BuildCalendar();
  auto ctx = BacktestContext::FromUniverse(u, spec).value();
  const std::vector<GridAxis> axes = {ParseGridAxis(fast_axis).value(), ParseGridAxis(slow_axis).value()};
  auto cells = RunGridOnContext(ctx, config, axes, {}, 2);
  ASSERT_TRUE(cells.ok()) << cells.status().ToString();
  ASSERT_EQ(cells->size(), axes[0].values.size() * axes[1].values.size());
  for (const auto& cell : *cells) {
    const int fast = cell.params["strategy.params.fast"], slow = cell.params["strategy.params.slow"];
    SCOPED_TRACE(cell.params.dump());
    const auto old_sig = LegacySignals(bars.close, fast, slow);
    ExpectSameMetrics(cell.metrics, LegacyRun(bars, old_sig.data(), 1'000'000, FeeRate(10)).metrics);
  }
}

std::string AxisOf(const std::string& key, std::vector<int> values) {
  std::string text = "strategy.params." + key + "=";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? "," : "") + std::to_string(values[i]);
  return text;
}

TEST(SimdKernelTest, DispatchIsChosenOnceAndCanBeForced) {
  const char* env = std::getenv("ALPHALAB_SIMD");
  const bool forced = env && std::strcmp(env, "generic") == 0;
  EXPECT_EQ(ResolveSimd(SimdPath::kAuto), forced || !CpuHasAvx2() ? SimdPath::kGeneric : SimdPath::kAvx2);
  EXPECT_EQ(ResolveSimd(SimdPath::kGeneric), SimdPath::kGeneric);
  EXPECT_EQ(ResolveSimd(SimdPath::kAvx2), CpuHasAvx2() ? SimdPath::kAvx2 : SimdPath::kGeneric);
  std::printf("SIMD path of this run: %s\n", SimdPathName(ResolveSimd(SimdPath::kAuto)));
}

TEST(SimdKernelTest, DemoHundredGridEveryCombination) {
  const std::string demo =
      std::string(ALPHALAB_SOURCE_DIR) + "/ui/node_modules/vega-datasets/data/sp500-2000.csv";
  if (!std::filesystem::exists(demo)) GTEST_SKIP() << "vega-datasets not installed";
  auto bars = LoadBarsCsv(demo, "SPX", demo, false);
  ASSERT_TRUE(bars.ok());
  CompareKernels(*bars, HundredGrid());
  CompareGrid(*bars, "strategy.params.fast=5:50:5", "strategy.params.slow=20:200:20");
}

TEST(SimdKernelTest, SyntheticHundredGridEveryCombination) {
  SynthOptions o;
  o.instruments = 2;
  o.years = 20;
  o.seed = 99;
  for (const auto& s : MakeSyntheticUniverse(o).series) {
    CompareGrid(s, "strategy.params.fast=5:50:5", "strategy.params.slow=20:200:20");
  }
}

TEST(SimdKernelTest, RandomGridsOnRandomSeries) {
  std::mt19937_64 rng(1414);
  size_t fallbacks = 0;
  for (int series = 0; series < 24; ++series) {
    // Lengths around the 64-bar words and 1,024-bar blocks of the kernels.
    const size_t n = series % 3 == 0 ? 60 + rng() % 10 : series % 3 == 1 ? 1020 + rng() % 10 : 300 + rng() % 3000;
    std::vector<double> close(n);
    double px = std::uniform_real_distribution<double>(0.5, 500)(rng);
    for (size_t t = 0; t < n; ++t) {
      px = std::max(0.01, px * std::exp(std::normal_distribution<double>(0, 0.02)(rng)));
      // Odd series in whole cents with flat runs (ties for the band and the old formula).
      close[t] = series % 2 ? std::round(px * 4) / 4 : px;
    }
    const auto bars = FromCloses("Q" + std::to_string(series), close);
    std::vector<int> fast, slow;
    for (int k = 0; k < 5; ++k) fast.push_back(1 + static_cast<int>(rng() % 40));
    for (int k = 0; k < 6; ++k) slow.push_back(2 + static_cast<int>(rng() % 120));
    std::vector<std::pair<int, int>> pairs;
    for (int f : fast) {
      for (int s : slow) pairs.emplace_back(f, s);
    }
    CompareKernels(bars, pairs);
    std::sort(fast.begin(), fast.end());
    fast.erase(std::unique(fast.begin(), fast.end()), fast.end());
    std::sort(slow.begin(), slow.end());
    slow.erase(std::unique(slow.begin(), slow.end()), slow.end());
    CompareGrid(bars, AxisOf("fast", fast), AxisOf("slow", slow));
    SmaCrossSeries probe(bars.close);
    std::vector<int8_t> sig(n);
    for (auto [f, s] : pairs) probe.Signals(bars.close, f, s, sig.data(), SimdPath::kAvx2);
    fallbacks += probe.fallback_count();
  }
  EXPECT_GT(fallbacks, 0u);  // the band was exercised through the vector kernel
}

// ---- the lane kernel (lane_kernels.hpp): RunLongFlatMetrics against RunLongFlat ----

// Every pair's metrics from RunLongFlatMetrics (both paths) equal each run alone, with fees
// and cash varying across the lanes and groups that do not fill all lanes.
void CompareLanes(const BarSeries& bars, const std::vector<std::pair<int, int>>& pairs, int32_t trade_from) {
  SCOPED_TRACE(bars.symbol);
  const SmaCrossSeries cross(bars.close);
  std::vector<std::vector<int8_t>> signals;
  std::vector<const int8_t*> ptr;
  std::vector<LongFlatOptions> options;
  for (size_t k = 0; k < pairs.size(); ++k) {
    signals.emplace_back(bars.size());
    cross.Signals(bars.close, pairs[k].first, pairs[k].second, signals.back().data());
    LongFlatOptions o;
    o.initial_cash = k % 3 == 2 ? 12'345.67 : 1'000'000;
    o.fee_rate = FeeRate(k % 2 ? 0.0 : 10.0);
    o.trade_from = trade_from;
    options.push_back(o);
  }
  for (const auto& s : signals) ptr.push_back(s.data());
  for (size_t count : {pairs.size(), pairs.size() > 2 ? pairs.size() - 2 : size_t{1}}) {
    for (SimdPath path : {SimdPath::kGeneric, SimdPath::kAvx2}) {
      std::vector<PerformanceMetrics> lanes(count);
      RunLongFlatMetrics(bars, ptr.data(), options.data(), count, lanes.data(), path);
      for (size_t k = 0; k < count; ++k) {
        SCOPED_TRACE(std::string(SimdPathName(path)) + " sma(" + std::to_string(pairs[k].first) + "," +
                     std::to_string(pairs[k].second) + ") of " + std::to_string(count));
        LongFlatOptions o = options[k];
        o.record_curves = false;
        ExpectSameMetrics(lanes[k], RunLongFlat(bars, ptr[k], o).metrics);
      }
    }
  }
}

TEST(LaneKernelTest, DemoHundredGridEqualsSingleRuns) {
  const std::string demo =
      std::string(ALPHALAB_SOURCE_DIR) + "/ui/node_modules/vega-datasets/data/sp500-2000.csv";
  if (!std::filesystem::exists(demo)) GTEST_SKIP() << "vega-datasets not installed";
  auto bars = LoadBarsCsv(demo, "SPX", demo, false);
  ASSERT_TRUE(bars.ok());
  CompareLanes(*bars, HundredGrid(), INT32_MIN);
  CompareLanes(*bars, HundredGrid(), bars->date[bars->size() / 3]);  // a warm-up before trade_from
}

TEST(LaneKernelTest, SyntheticAndRandomGridsEqualSingleRuns) {
  SynthOptions o;
  o.instruments = 2;
  o.years = 20;
  o.seed = 99;
  for (const auto& s : MakeSyntheticUniverse(o).series) CompareLanes(s, HundredGrid(), INT32_MIN);
  std::mt19937_64 rng(1415);
  for (int series = 0; series < 16; ++series) {
    const size_t n = 2 + rng() % (series % 2 ? 60 : 3000);
    std::vector<double> close(n);
    double px = std::uniform_real_distribution<double>(0.5, 500)(rng);
    for (size_t t = 0; t < n; ++t) {
      px = std::max(0.01, px * std::exp(std::normal_distribution<double>(0, 0.03)(rng)));
      close[t] = series % 3 ? std::round(px * 4) / 4 : px;  // quarters: flat runs, equal equities
    }
    std::vector<std::pair<int, int>> pairs;
    const size_t count = 1 + rng() % 23;
    for (size_t k = 0; k < count; ++k) {
      pairs.emplace_back(1 + static_cast<int>(rng() % 30), 2 + static_cast<int>(rng() % 90));
    }
    CompareLanes(FromCloses("L" + std::to_string(series), close), pairs, INT32_MIN);
  }
}

TEST(LaneKernelTest, NonPositiveEquityFallsBackToSingleRuns) {
  // Closes through zero: a held position's equity turns negative; the lanes give up and
  // every run of the group is run alone (same metrics either way).
  std::vector<double> through_zero(400);
  for (size_t t = 0; t < through_zero.size(); ++t) {
    through_zero[t] = 3 + 5 * std::sin(0.05 * static_cast<double>(t)) + 0.3 * std::sin(1.3 * static_cast<double>(t));
  }
  CompareLanes(FromCloses("Z", through_zero), ManyPairs(), INT32_MIN);
}

TEST(GridTest, WindowValuesFailAsAFullParseDoes) {
  // The grid checks sma_cross windows without re-parsing the config (SmaCrossWindowOverride):
  // the errors are the full parse's, word for word.
  const auto config = YAML::Load(
      "dataset: demo\ntickers: [C]\ninitial_cash: 1000000\nstrategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  Universe u;
  u.series.push_back(FromCloses("C", std::vector<double>(300, 10.0)));
  u.BuildCalendar();
  const auto spec = ParseBacktestSpec(config).value();
  for (const char* bad : {"0", "'0'", "ten", "100001", "2.5", "[1, 2]"}) {  // '0': quoted, shown as a string
    SCOPED_TRACE(bad);
    auto ctx = BacktestContext::FromUniverse(u, spec).value();
    const std::string axis = std::string("strategy.params.fast=") + (bad[0] == '[' ? "[" + std::string(bad) + "]" : bad);
    auto cells = RunGridOnContext(ctx, config, {ParseGridAxis("strategy.params.slow=20,30").value(),
                                                ParseGridAxis(axis).value()}, {}, 1);
    ASSERT_FALSE(cells.ok());
    YAML::Node full = YAML::Clone(config);
    full["strategy"]["params"]["fast"] = YAML::Load(bad);
    const auto expect = ParseBacktestSpec(full);
    ASSERT_FALSE(expect.ok());
    EXPECT_EQ(cells.status().message(), "grid value strategy.params.fast=" + YamlToJson(YAML::Load(bad)).dump() +
                                            ": " + expect.status().message());
  }
  // A valid value next to them still runs (and equals the fresh single run: GridTest above).
  auto ctx = BacktestContext::FromUniverse(u, spec).value();
  EXPECT_TRUE(RunGridOnContext(ctx, config, {ParseGridAxis("strategy.params.fast=3,100000").value()}, {}, 1).ok());
}

}  // namespace
}  // namespace alphalab::engine

// Warm-up history: with `start` after the data's first bar, indicators, scores and the
// market filter see the bars before `start`; trading (and the curve, and the metrics)
// begins at `start`.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "core/clock.hpp"
#include "engine/backtest/long_flat.hpp"
#include "engine/backtest/runner.hpp"
#include "engine/data/config.hpp"
#include "engine/data/synth.hpp"
#include "engine/data/temp_workspace.hpp"

namespace alphalab::engine {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

YAML::Node Yaml(const std::string& text) { return ParseYamlConfig(text, "test").value(); }

Universe Synthetic(int years = 6) {
  SynthOptions o;
  o.instruments = 12;
  o.years = years;
  o.seed = 5;
  return MakeSyntheticUniverse(o);  // business days from 2005-01-03
}

// A model-like scorer: NaN for the first 252 bars (the default feature set's warm-up),
// then a deterministic function of the bars so far.
ScorerFactory LateScorer() {
  return [](const std::string&) -> Result<ScoreFn> {
    return ScoreFn([](const BarSeries& bars) -> Result<std::vector<double>> {
      std::vector<double> s(bars.size(), kNaN);
      for (size_t t = 252; t < bars.size(); ++t) s[t] = bars.close[t] / bars.close[t - 252];
      return s;
    });
  };
}

size_t IndexOf(const std::vector<int32_t>& dates, int32_t d) {
  return static_cast<size_t>(std::lower_bound(dates.begin(), dates.end(), d) - dates.begin());
}

TEST(WarmupTest, TopNWithALateStartTradesFromItsFirstWeek) {
  const auto spec = ParseBacktestSpec(Yaml("dataset: synthetic\nstart: 2008-01-01\n"
                                           "strategy: {type: topn, params: {model_path: runs/r/model.json, "
                                           "top_n: 3, rebalance_frequency: weekly}}\n"))
                        .value();
  auto ctx = BacktestContext::FromUniverse(Synthetic(), spec).value();
  ASSERT_TRUE(ctx.Prepare(spec, LateScorer()).ok());
  auto r = ctx.Run(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const int32_t start = ParseDate("2008-01-01").value();
  ASSERT_FALSE(r->dates.empty());
  EXPECT_EQ(FormatDate(r->dates.front()), "2008-01-01");  // a Tuesday, a business day
  // Without the history the scores would be NaN for 252 bars after the start; with it the
  // first weekly rebalance (Monday 2008-01-07, decided on Friday's close) buys.
  int32_t first_buy = INT32_MAX;
  for (const auto& t : r->trades) first_buy = std::min(first_buy, t.entry_date);
  for (const auto& p : r->open_positions) first_buy = std::min(first_buy, p.entry_date);
  EXPECT_EQ(FormatDate(first_buy), "2008-01-07");
  EXPECT_DOUBLE_EQ(r->equity.front(), 1'000'000);  // nothing held on the first day
  const size_t warmup = ctx.WarmupBars(spec);
  EXPECT_EQ(warmup, IndexOf(ctx.universe().calendar, start));
  EXPECT_GT(warmup, 700u);
  EXPECT_EQ(r->dates.size() + warmup, ctx.universe().calendar.size());
  const auto summary = BuildSummary(spec, ctx, *r);
  EXPECT_EQ(summary["warmup_bars"], warmup);
  EXPECT_EQ(summary["start"], "2008-01-01");
  EXPECT_EQ(summary["bars"], r->dates.size());
}

TEST(WarmupTest, MarketFilterUsesTheHistoryBeforeStart) {
  // The market falls steadily: after 200 bars it is always below its 200-bar mean. Starting
  // at bar 300, the filter is defined on the first day and keeps the portfolio in cash.
  Universe u;
  for (const char* sym : {"A", "SYNMKT"}) {
    BarSeries s;
    s.symbol = sym;
    int32_t d = DaysFromCivil(2010, 1, 4);
    for (int t = 0; t < 400; ++t, ++d) {
      const double p = std::string(sym) == "A" ? 50.0 : 300.0 - 0.5 * t;
      s.date.push_back(d);
      s.open.push_back(p);
      s.high.push_back(p);
      s.low.push_back(p);
      s.close.push_back(p);
      s.adj_close.push_back(p);
      s.volume.push_back(1);
    }
    u.series.push_back(std::move(s));
  }
  u.BuildCalendar();
  const std::string start = FormatDate(u.calendar[300]);
  const auto spec = ParseBacktestSpec(Yaml("start: " + start +
                                           "\nstrategy: {type: topn, params: {score: momentum, momentum_window: 5, "
                                           "top_n: 1, rebalance_frequency: daily, market_filter: true, "
                                           "market_ma_window: 200}}\n"))
                        .value();
  auto ctx = BacktestContext::FromUniverse(u, spec).value();
  ASSERT_TRUE(ctx.Prepare(spec, {}).ok());
  auto r = ctx.Run(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->metrics.orders, 0);
  EXPECT_EQ(r->dates.size(), 100u);
  // The same market rising instead: invested from the second day.
  for (auto& s : u.series) {
    if (s.symbol != "SYNMKT") continue;
    for (size_t t = 0; t < s.size(); ++t) s.open[t] = s.close[t] = s.high[t] = s.low[t] = 100.0 + 0.5 * t;
  }
  auto up = BacktestContext::FromUniverse(u, spec).value();
  ASSERT_TRUE(up.Prepare(spec, {}).ok());
  auto r2 = up.Run(spec);
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2->open_positions.size(), 1u);
  EXPECT_EQ(r2->open_positions[0].entry_date, u.calendar[301]);
}

// A plain sma_cross loop over the full history that only trades from bar s0 on: decisions
// on the close of bars >= s0, fills at the next open.
struct RefRun {
  std::vector<std::pair<int32_t, int32_t>> trips;  // entry, exit dates
  double final_equity = 0;
};
RefRun ReferenceCross(const BarSeries& b, size_t s0, int fast, int slow, double cash, double fee) {
  auto mean = [&](size_t t, int w) {
    double s = 0;
    for (size_t i = t + 1 - static_cast<size_t>(w); i <= t; ++i) s += b.close[i];
    return s / w;
  };
  RefRun r;
  double shares = 0;
  int32_t entry = 0;
  int action = 0;
  for (size_t t = s0; t < b.size(); ++t) {
    if (action == 1 && shares == 0) {
      const double q = std::floor(cash / (b.open[t] * (1 + fee)));
      if (q > 0) {
        cash -= q * b.open[t] * (1 + fee);
        shares = q;
        entry = b.date[t];
      }
    } else if (action == -1 && shares > 0) {
      cash += shares * b.open[t] * (1 - fee);
      shares = 0;
      r.trips.emplace_back(entry, b.date[t]);
    }
    action = 0;
    const size_t need = static_cast<size_t>(std::max(fast, slow));
    if (t >= need) {
      const double f0 = mean(t - 1, fast), s0v = mean(t - 1, slow), f1 = mean(t, fast), s1 = mean(t, slow);
      if (f0 < s0v && f1 > s1) action = 1;
      if (f0 > s0v && f1 < s1) action = -1;
    }
  }
  r.final_equity = cash + shares * b.close.back();
  return r;
}

TEST(WarmupTest, SmaCrossWindowsSeeTheHistoryBeforeStart) {
  const auto u = Synthetic(8);
  for (const char* start : {"2007-03-01", "2010-06-15"}) {
    SCOPED_TRACE(start);
    const auto spec = ParseBacktestSpec(Yaml(std::string("tickers: [SYN0003]\ninitial_cash: 100000\nfee_bps: 10\n") +
                                             "start: " + start + "\n" +
                                             "strategy: {type: sma_cross, params: {fast: 10, slow: 120}}\n"))
                          .value();
    auto ctx = BacktestContext::FromUniverse(u, spec).value();
    ASSERT_TRUE(ctx.Prepare(spec, {}).ok());
    auto r = ctx.Run(spec);
    ASSERT_TRUE(r.ok());
    const auto& bars = *u.Find("SYN0003");
    const size_t s0 = IndexOf(bars.date, *spec.start);
    const auto ref = ReferenceCross(bars, s0, 10, 120, 100000, 0.001);
    ASSERT_EQ(r->trades.size(), ref.trips.size());
    ASSERT_GE(ref.trips.size(), 2u);
    for (size_t i = 0; i < ref.trips.size(); ++i) {
      EXPECT_EQ(FormatDate(r->trades[i].entry_date), FormatDate(ref.trips[i].first)) << i;
      EXPECT_EQ(FormatDate(r->trades[i].exit_date), FormatDate(ref.trips[i].second)) << i;
    }
    EXPECT_NEAR(r->metrics.final_equity, ref.final_equity, 0.005);
    EXPECT_EQ(r->dates.front(), bars.date[s0]);
    EXPECT_EQ(r->equity.size(), bars.size() - s0);
  }
}

TEST(WarmupTest, SignalScoresAreDefinedOnTheFirstDay) {
  // score: momentum over 63 bars, cutoff below any return: long from the first decision.
  const auto u = Synthetic(4);
  const auto spec = ParseBacktestSpec(Yaml("tickers: [SYN0001, SYN0002]\nstart: 2007-01-02\n"
                                           "strategy: {type: signal, params: {score: momentum, cutoff: -10}}\n"))
                        .value();
  auto ctx = BacktestContext::FromUniverse(u, spec).value();
  ASSERT_TRUE(ctx.Prepare(spec, {}).ok());
  auto r = ctx.Run(spec);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->open_positions.size(), 2u);
  for (const auto& p : r->open_positions) EXPECT_EQ(FormatDate(p.entry_date), "2007-01-03") << p.symbol;
  EXPECT_EQ(FormatDate(r->dates.front()), "2007-01-02");
}

TEST(WarmupTest, LoadKeepsHistoryAndReportsWarmupBars) {
  testing::TempWorkspace ws;
  ASSERT_TRUE(WriteUniverseCsv(Synthetic(4), ws.root() / "data" / "synthetic").ok());
  const auto spec = ParseBacktestSpec(Yaml("dataset: synthetic\nstart: 2007-01-01\nend: 2008-06-30\n"
                                           "strategy: {type: topn, params: {score: momentum, top_n: 2, "
                                           "momentum_window: 126, market_filter: true, market_ma_window: 200}}\n"))
                        .value();
  auto ctx = BacktestContext::Load(ws.ws(), spec);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  ASSERT_TRUE(ctx->Prepare(spec, {}).ok());
  auto r = ctx->Run(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(FormatDate(ctx->universe().calendar.front()), "2005-01-03");
  EXPECT_EQ(FormatDate(r->dates.front()), "2007-01-01");
  EXPECT_EQ(FormatDate(r->dates.back()), "2008-06-30");
  EXPECT_EQ(ctx->WarmupBars(spec), 520u);  // 2005 and 2006: 104 weeks of business days
  const auto out = ws.root() / "backtests" / "bt_w";
  ASSERT_TRUE(WriteBacktestOutputs(out, spec, *ctx, *r, {}).ok());
  const auto summary = nlohmann::json::parse(ReadFile(out / "summary.json").value());
  EXPECT_EQ(summary["warmup_bars"], 520);
  EXPECT_EQ(summary["start"], "2007-01-01");
  EXPECT_GT(summary["orders"].get<int>(), 0);
  // A ticker without bars in the window is still a clear error.
  const auto late = ParseBacktestSpec(Yaml("dataset: synthetic\ntickers: [SYN0001]\nstart: 2030-01-01\n"
                                           "strategy: {type: sma_cross}\n"))
                        .value();
  auto bad = BacktestContext::Load(ws.ws(), late);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "ticker 'SYN0001' has no bars between 2030-01-01 and the end");
}

}  // namespace
}  // namespace alphalab::engine

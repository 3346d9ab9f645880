// Delistings, held names without a bar, the fills / positions / scores outputs (and their
// reconciliation with the trades and the equity curve), and scores files (scores_path).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "core/clock.hpp"
#include "engine/backtest/runner.hpp"
#include "engine/backtest/scores_file.hpp"
#include "engine/backtest/topn.hpp"
#include "engine/data/config.hpp"
#include "engine/data/qlib_reader.hpp"
#include "engine/data/synth.hpp"
#include "engine/data/temp_workspace.hpp"

namespace alphalab::engine {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

YAML::Node Yaml(const std::string& text) { return ParseYamlConfig(text, "test").value(); }

// Consecutive calendar days from 2021-03-01; bars[k] lists which day indexes symbol k has.
Universe Handmade(const std::vector<std::string>& symbols, int days, const std::function<bool(size_t, int)>& has_bar,
                  const std::function<double(size_t, int)>& price) {
  Universe u;
  const int32_t first = DaysFromCivil(2021, 3, 1);
  for (size_t k = 0; k < symbols.size(); ++k) {
    BarSeries s;
    s.symbol = symbols[k];
    for (int t = 0; t < days; ++t) {
      if (!has_bar(k, t)) continue;
      const double p = price(k, t);
      s.date.push_back(first + t);
      s.open.push_back(p);
      s.high.push_back(p * 1.01);
      s.low.push_back(p * 0.99);
      s.close.push_back(p * 1.005);
      s.adj_close.push_back(p * 1.005);
      s.volume.push_back(1000);
    }
    u.series.push_back(std::move(s));
  }
  u.BuildCalendar();
  return u;
}

std::vector<std::vector<double>> ConstantScores(const Universe& u, const std::map<std::string, double>& by_symbol) {
  std::vector<std::vector<double>> out;
  for (const auto& s : u.series) {
    auto it = by_symbol.find(s.symbol);
    out.emplace_back(s.size(), it == by_symbol.end() ? kNaN : it->second);
  }
  return out;
}

TopNParams DailyTop1() {
  TopNParams p;
  p.rebalance_frequency = RebalanceFrequency::kDaily;
  p.top_n = 1;
  p.fee_bps = 10;
  p.initial_cash = 10'000;
  p.risk_off_symbols = {};
  return p;
}

TEST(DelistingTest, TopNClosesADelistedHoldingAtItsLastClose) {
  // B ranks first but its data ends on day 9 (the others run to day 19).
  const auto u = Handmade({"A", "B", "C"}, 20, [](size_t k, int t) { return k != 1 || t <= 9; },
                          [](size_t k, int t) { return 10.0 + static_cast<double>(k) + 0.1 * t; });
  const auto scores = ConstantScores(u, {{"A", 0.5}, {"B", 0.9}, {"C", 0.1}});
  auto p = DailyTop1();
  p.delisting_haircut = 0.1;
  auto r = RunTopN(u, scores, p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->trades.size(), 1u);
  const auto& t = r->trades[0];
  EXPECT_EQ(t.symbol, "B");
  EXPECT_EQ(FillReasonName(t.exit_reason), "delisted");
  EXPECT_EQ(t.exit_date, u.Find("B")->date.back());
  const double last_close = u.Find("B")->close.back();
  // The delisting sale is a fill at that close, with the fee, and it counts in the stats.
  const Fill* sale = nullptr;
  for (const auto& f : r->fills) {
    if (!f.buy && f.symbol == "B") sale = &f;
  }
  ASSERT_NE(sale, nullptr);
  EXPECT_EQ(FillReasonName(sale->reason), "delisted");
  EXPECT_EQ(sale->date, t.exit_date);
  EXPECT_DOUBLE_EQ(sale->price, last_close * 0.9);
  EXPECT_DOUBLE_EQ(sale->fee, sale->shares * last_close * 0.9 * 0.001);
  EXPECT_EQ(r->metrics.trades, 1);
  // Day 9 ends in cash (the sale happened at its close); A is bought on day 10's open.
  EXPECT_DOUBLE_EQ(r->holdings[9], 0);
  ASSERT_EQ(r->open_positions.size(), 1u);
  EXPECT_EQ(r->open_positions[0].symbol, "A");
  EXPECT_EQ(r->open_positions[0].entry_date, u.calendar[10]);
}

TEST(DelistingTest, QlibInstrumentsEndDateDelistsAHolding) {
  // A Qlib dataset: 10 business days; both instruments have features for every day, but
  // instruments/all.txt ends SZ000001 (the stronger riser, so the one held) on 2020-01-09.
  testing::TempWorkspace ws;
  const std::vector<std::string> days = {"2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08",
                                         "2020-01-09", "2020-01-10", "2020-01-13", "2020-01-14", "2020-01-15"};
  std::string cal;
  for (const auto& d : days) cal += d + "\n";
  ws.Write("data/cn/calendars/day.txt", cal);
  ws.Write("data/cn/instruments/all.txt", "SH600000\t2020-01-02\t2020-01-15\nSZ000001\t2020-01-02\t2020-01-09\n");
  auto write = [&](const std::string& inst, double base, double step) {
    std::vector<float> open, high, low, close, vol;
    for (size_t t = 0; t < days.size(); ++t) {
      const float c = static_cast<float>(base + step * static_cast<double>(t));
      open.push_back(c);
      high.push_back(c + 1);
      low.push_back(c - 1);
      close.push_back(c);
      vol.push_back(1000);
    }
    const auto dir = ws.root() / "data/cn/features" / inst;
    ASSERT_TRUE(WriteQlibField(dir / "open.day.bin", 0, open).ok());
    ASSERT_TRUE(WriteQlibField(dir / "high.day.bin", 0, high).ok());
    ASSERT_TRUE(WriteQlibField(dir / "low.day.bin", 0, low).ok());
    ASSERT_TRUE(WriteQlibField(dir / "close.day.bin", 0, close).ok());
    ASSERT_TRUE(WriteQlibField(dir / "volume.day.bin", 0, vol).ok());
  };
  write("sh600000", 10, 0.25);
  write("sz000001", 20, 1);
  const auto spec = ParseBacktestSpec(Yaml("dataset: cn\ninitial_cash: 10000\nfee_bps: 10\n"
                                           "delisting_haircut: 0.1\n"
                                           "strategy: {type: topn, params: {score: momentum, momentum_window: 1, "
                                           "top_n: 1, rebalance_frequency: weekly}}\n"))
                        .value();
  auto ctx = BacktestContext::Load(ws.ws(), spec);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_EQ(FormatDate(ctx->universe().Find("SZ000001")->date.back()), "2020-01-09");
  ASSERT_TRUE(ctx->Prepare(spec, {}).ok());
  auto r = ctx->Run(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Weekly on Monday: SZ000001 is bought on Monday 01-06 (decided on Friday 01-03's close,
  // the first defined momentum) and sold on Thursday 01-09 at its close x 0.9: 25 -> 22.5.
  ASSERT_GE(r->trades.size(), 1u);
  const auto& t = r->trades[0];
  EXPECT_EQ(t.symbol, "SZ000001");
  EXPECT_EQ(FormatDate(t.entry_date), "2020-01-06");
  EXPECT_EQ(FormatDate(t.exit_date), "2020-01-09");
  EXPECT_EQ(FillReasonName(t.exit_reason), "delisted");
  EXPECT_DOUBLE_EQ(t.exit_price, 22.5);
  // Whole-share sizing at 01-06's open 22: floor(10000 / (22 x 1.001)) = 454 shares.
  EXPECT_EQ(t.shares, 454);
  const double basis = 454 * 22 * 1.001, proceeds = 454 * 22.5 * 0.999;
  EXPECT_NEAR(t.pnl, proceeds - basis, 1e-9);
  bool delisted_fill = false;
  for (const auto& f : r->fills) delisted_fill |= !f.buy && f.symbol == "SZ000001" && f.reason == FillReason::kDelisted;
  EXPECT_TRUE(delisted_fill);
  // The next rebalance (Monday 01-13) buys SH600000, the only name left.
  ASSERT_EQ(r->open_positions.size(), 1u);
  EXPECT_EQ(r->open_positions[0].symbol, "SH600000");
  EXPECT_EQ(FormatDate(r->open_positions[0].entry_date), "2020-01-13");
}

TEST(DelistingTest, SignalSleeveOfADelistedTickerIsClosed) {
  const auto u = Handmade({"A", "B"}, 30, [](size_t k, int t) { return k == 0 || t < 12; },
                          [](size_t, int t) { return 20.0 + t; });
  const auto spec = ParseBacktestSpec(Yaml("tickers: [A, B]\ninitial_cash: 20000\n"
                                           "strategy: {type: signal, params: {score: momentum, momentum_window: 2, "
                                           "cutoff: 0}}\n"))
                        .value();
  auto ctx = BacktestContext::FromUniverse(u, spec).value();
  ASSERT_TRUE(ctx.Prepare(spec, {}).ok());
  auto r = ctx.Run(spec);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->trades.size(), 1u);
  EXPECT_EQ(r->trades[0].symbol, "B");
  EXPECT_EQ(FillReasonName(r->trades[0].exit_reason), "delisted");
  EXPECT_EQ(r->trades[0].exit_date, u.calendar[11]);
  EXPECT_DOUBLE_EQ(r->trades[0].exit_price, u.Find("B")->close[11]);
  // After its last bar the sleeve is cash (constant), not a stale position.
  EXPECT_DOUBLE_EQ(r->holdings[20], u.Find("A")->close[20] * r->open_positions[0].shares);
}

TEST(DelistingTest, AHeldNameWithoutABarOnTheDecisionDayIsKept) {
  // A is held; it has no bar on day 5 (a gap), when B would rank first among those with a bar.
  const auto u = Handmade({"A", "B"}, 10, [](size_t k, int t) { return k == 1 || t != 5; },
                          [](size_t, int) { return 10.0; });
  std::vector<std::vector<double>> scores = ConstantScores(u, {{"A", 0.9}, {"B", 0.5}});
  auto p = DailyTop1();
  p.fee_bps = 0;  // all-in without a fee: the daily targets never resize A
  auto r = RunTopN(u, scores, p);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->trades.empty());  // never sold for being unranked on its missing day
  ASSERT_EQ(r->open_positions.size(), 1u);
  EXPECT_EQ(r->open_positions[0].symbol, "A");
  EXPECT_EQ(r->metrics.orders, 1);
}

// --- fills / positions / trades / equity reconcile ---------------------------------------

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int Col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
};

Csv ReadCsv(const std::filesystem::path& p) {
  Csv csv;
  std::stringstream in(ReadFile(p).value());
  std::string line;
  auto split = [](const std::string& l) {
    std::vector<std::string> f;
    std::stringstream ss(l);
    std::string x;
    while (std::getline(ss, x, ',')) f.push_back(x);
    if (!l.empty() && l.back() == ',') f.emplace_back();
    return f;
  };
  std::getline(in, line);
  csv.header = split(line);
  while (std::getline(in, line)) csv.rows.push_back(split(line));
  return csv;
}

double LastCloseOn(const Universe& u, const std::string& sym, int32_t day) {
  const auto& s = *u.Find(sym);
  const auto it = std::upper_bound(s.date.begin(), s.date.end(), day);
  return s.close[static_cast<size_t>(it - s.date.begin() - 1)];
}

// docs/engine.md "Outputs", trades.csv: a position still open at the last bar is an `end`
// row marked at the last close without an exit fee, and it is not counted in `trades`.
TEST(OutputsTest, APositionOpenAtTheEndIsAnEndRowOfTradesCsv) {
  Universe u;
  BarSeries s;
  s.symbol = "A";
  for (int t = 0; t < 3; ++t) {
    const double c = t == 2 ? 12.0 : 10.0;
    s.date.push_back(DaysFromCivil(2021, 3, 1) + t);
    s.open.push_back(10);
    s.high.push_back(c);
    s.low.push_back(10);
    s.close.push_back(c);
    s.adj_close.push_back(c);
    s.volume.push_back(1);
  }
  u.series.push_back(s);
  u.BuildCalendar();
  // Momentum over 1 bar is 0 >= cutoff 0 on day 1: buy at day 2's open 10,
  // floor(5000 / 10.01) = 499 shares (fee 4.99, basis 4994.99); day 2 closes at 12.
  const auto spec = ParseBacktestSpec(Yaml("tickers: [A]\ninitial_cash: 5000\nfee_bps: 10\n"
                                           "strategy: {type: signal, params: {score: momentum, momentum_window: 1, "
                                           "cutoff: 0}}\n"))
                        .value();
  auto ctx = BacktestContext::FromUniverse(u, spec).value();
  ASSERT_TRUE(ctx.Prepare(spec, {}).ok());
  auto r = ctx.Run(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->trades.empty());
  EXPECT_EQ(r->metrics.trades, 0);
  ASSERT_EQ(r->open_positions.size(), 1u);
  testing::TempWorkspace ws;
  const auto out = ws.root() / "backtests" / "bt_end";
  ASSERT_TRUE(WriteBacktestOutputs(out, spec, ctx, *r, {}).ok());
  // pnl = 499 x 12 - 4994.99 = 993.01; return = 993.01 / 4994.99 = 0.19880120; fees = the entry fee.
  EXPECT_EQ(ReadFile(out / "trades.csv").value(),
            "symbol,entry_date,entry_price,exit_date,exit_price,shares,pnl,return,fees,exit_reason\n"
            "A,2021-03-03,10.000000,2021-03-03,12.000000,499,993.0100,0.19880120,4.9900,end\n");
  const auto summary = nlohmann::json::parse(ReadFile(out / "summary.json").value());
  EXPECT_EQ(summary["trades"], 0);
  EXPECT_NEAR(summary["final_equity"].get<double>(), 5.01 + 499 * 12, 1e-9);
}

TEST(OutputsTest, FillsPositionsTradesAndEquityReconcileAtEveryBar) {
  SynthOptions o;
  o.instruments = 15;
  o.years = 5;
  o.seed = 77;
  auto u = MakeSyntheticUniverse(o);
  // Three instruments delist at different times, each after a strong run-up (so that the
  // momentum ranking holds them when they delist).
  for (auto& s : u.series) {
    size_t last = 0;
    if (s.symbol == "SYN0002") last = 400;
    if (s.symbol == "SYN0005") last = 800;
    if (s.symbol == "SYN0009") last = 1100;
    if (!last) continue;
    for (size_t t = last - 60; t <= last; ++t) {
      const double k = 1.0 + 0.02 * static_cast<double>(t - (last - 60));
      s.open[t] *= k;
      s.high[t] *= k;
      s.low[t] *= k;
      s.close[t] *= k;
      s.adj_close[t] *= k;
    }
    s.Clip(INT32_MIN, s.date[last]);
  }
  u.BuildCalendar();
  testing::TempWorkspace ws;
  ASSERT_TRUE(WriteUniverseCsv(u, ws.root() / "data" / "synthetic").ok());
  const auto spec = ParseBacktestSpec(Yaml(
                                          "dataset: synthetic\nstart: 2006-01-02\ninitial_cash: 250000\nfee_bps: 10\n"
                                          "delisting_haircut: 0.05\n"
                                          "strategy: {type: topn, params: {score: momentum, momentum_window: 40, "
                                          "top_n: 5, retain_top_n: 2, weighting: score, market_filter: true, "
                                          "market_ma_window: 100, max_drawdown: 0.12, max_drawdown_52w: 0.2, "
                                          "dynamic_exposure: true, drawdown_tiers: [0.05, 0.1], "
                                          "drawdown_exposures: [0.8, 0.5], risk_off_mode: defensive, "
                                          "vol_target: 0.2, max_weight: 0.3, rebalance_frequency: weekly}}\n"))
                        .value();
  auto ctx = BacktestContext::Load(ws.ws(), spec);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  ASSERT_TRUE(ctx->Prepare(spec, {}).ok());
  auto r = ctx->Run(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto out = ws.root() / "backtests" / "bt_r";
  ASSERT_TRUE(WriteBacktestOutputs(out, spec, *ctx, *r, {}).ok());
  const Csv equity = ReadCsv(out / "equity.csv"), fills = ReadCsv(out / "fills.csv"),
            positions = ReadCsv(out / "positions.csv"), trades = ReadCsv(out / "trades.csv");
  EXPECT_EQ(fills.header, (std::vector<std::string>{"date", "symbol", "side", "shares", "price", "fee", "reason"}));
  EXPECT_EQ(positions.header, (std::vector<std::string>{"date", "symbol", "shares", "price", "weight"}));
  EXPECT_EQ(trades.header.back(), "exit_reason");
  ASSERT_GT(fills.rows.size(), 100u);
  std::map<std::string, int> reasons;
  for (const auto& f : fills.rows) ++reasons[f[6]];
  EXPECT_GT(reasons["rebalance"], 0);
  EXPECT_GT(reasons["delisted"], 0) << "some delisted name should have been held";
  EXPECT_GT(reasons["risk_off"] + reasons["drawdown_stop"], 0);

  // Replay the fills from the initial cash: cash and cash + sum(shares x close) at every bar.
  const auto& universe = ctx->universe();
  double cash = 250000;
  std::map<std::string, double> held;
  size_t f = 0, p = 0;
  for (const auto& row : equity.rows) {
    const std::string day = row[0];
    for (; f < fills.rows.size() && fills.rows[f][0] == day; ++f) {
      const auto& x = fills.rows[f];
      const double q = std::stod(x[3]), px = std::stod(x[4]), fee = std::stod(x[5]);
      if (x[2] == "buy") {
        cash -= q * px + fee;
        held[x[1]] += q;
      } else {
        cash += q * px - fee;
        held[x[1]] -= q;
      }
      ASSERT_NEAR(fee, q * px * 0.001, 1e-9) << day;
    }
    double value = 0;
    for (const auto& [sym, q] : held) {
      ASSERT_GE(q, 0) << sym << " " << day;
      if (q > 0) value += q * LastCloseOn(universe, sym, ParseDate(day).value());
    }
    ASSERT_NEAR(cash, std::stod(row[2]), 1e-3) << day;
    ASSERT_NEAR(cash + value, std::stod(row[1]), 1e-3) << day;
    // positions.csv: a snapshot on this day lists exactly the replayed holdings and cash.
    std::map<std::string, double> snap;
    double snap_cash = kNaN, weights = 0;
    for (; p < positions.rows.size() && positions.rows[p][0] == day; ++p) {
      const auto& x = positions.rows[p];
      weights += std::stod(x[4]);
      if (x[1] == "$CASH") {
        snap_cash = std::stod(x[2]);
      } else {
        snap[x[1]] = std::stod(x[2]);
        EXPECT_DOUBLE_EQ(std::stod(x[3]), LastCloseOn(universe, x[1], ParseDate(day).value()));
      }
    }
    if (!std::isnan(snap_cash)) {
      EXPECT_NEAR(snap_cash, cash, 1e-3) << day;
      EXPECT_NEAR(weights, 1.0, 1e-9) << day;
      for (const auto& [sym, q] : held) {
        if (q > 0) {
          EXPECT_EQ(snap[sym], q) << sym << " " << day;
        }
      }
      size_t open = 0;
      for (const auto& [sym, q] : held) open += q > 0;
      EXPECT_EQ(snap.size(), open) << day;
    }
  }
  EXPECT_EQ(f, fills.rows.size());
  EXPECT_EQ(p, positions.rows.size());
  EXPECT_EQ(positions.rows.back()[0], equity.rows.back()[0]);  // a snapshot on the last day
  // trades.csv: each round trip = the buys of its symbol from entry to exit, closed by a
  // sell whose reason is the trade's exit_reason.
  // A position still open at the last bar is an `end` row: exit date = the last bar, exit
  // price = its close, shares = bought since entry, no sell on that day.
  ASSERT_GT(trades.rows.size(), 10u);
  const auto summary = nlohmann::json::parse(ReadFile(out / "summary.json").value());
  size_t closed = 0, ended = 0;
  for (const auto& t : trades.rows) {
    double bought = 0;
    std::string last_reason;
    for (const auto& x : fills.rows) {
      if (x[1] != t[0] || x[0] < t[1] || x[0] > t[3]) continue;
      if (x[2] == "buy") bought += std::stod(x[3]);
      if (x[2] == "sell" && x[0] == t[3]) last_reason = x[6];
    }
    EXPECT_EQ(bought, std::stod(t[5])) << t[0] << " " << t[1];
    if (t[9] == "end") {
      ++ended;
      EXPECT_EQ(t[3], equity.rows.back()[0]);
      EXPECT_NEAR(std::stod(t[4]), LastCloseOn(universe, t[0], ParseDate(t[3]).value()), 1e-6);
      EXPECT_EQ(held[t[0]] > 0, true) << t[0];
      bool listed = false;
      for (const auto& op : summary["open_positions"]) {
        if (op["symbol"] != t[0]) continue;
        listed = true;
        EXPECT_NEAR(std::stod(t[6]), op["unrealized_pnl"].get<double>(), 1e-4);
      }
      EXPECT_TRUE(listed) << t[0];
    } else {
      ++closed;
      EXPECT_EQ(last_reason, t[9]) << t[0] << " " << t[3];
    }
  }
  EXPECT_EQ(summary["orders"], fills.rows.size());
  EXPECT_EQ(summary["trades"], closed);
  EXPECT_EQ(summary["open_positions"].size(), ended);
  size_t still_held = 0;
  for (const auto& [sym, q] : held) still_held += q > 0;
  EXPECT_EQ(ended, still_held);
  EXPECT_GT(ended, 0u) << "the run should end holding something";
  EXPECT_GT(summary["avg_invested_share"].get<double>(), 0.0);
  EXPECT_LT(summary["avg_invested_share"].get<double>(), 1.0);
  EXPECT_GT(summary["risk_off_share"].get<double>(), 0.0);
  EXPECT_TRUE(summary["lockout_spells"].is_array());
  // scores.csv: the momentum ranking of each decision day.
  const Csv scores = ReadCsv(out / "scores.csv");
  EXPECT_EQ(scores.header, (std::vector<std::string>{"date", "symbol", "score", "rank", "selected"}));
  ASSERT_GT(scores.rows.size(), 1000u);
  EXPECT_EQ(scores.rows[0][3], "1");
}

// --- scores files --------------------------------------------------------------------------

// A deterministic "model": scores from the closes so far.
ScorerFactory TestModel() {
  return [](const std::string&) -> Result<ScoreFn> {
    return ScoreFn([](const BarSeries& bars) -> Result<std::vector<double>> {
      std::vector<double> s(bars.size(), kNaN);
      for (size_t t = 30; t < bars.size(); ++t) {
        s[t] = std::sin(bars.close[t] * 7.0) * 0.5 + bars.close[t] / bars.close[t - 30] - 1.0;
      }
      return s;
    });
  };
}

TEST(ScoresFileTest, AScoresFileGivesTheSameResultAsTheModelThatProducedIt) {
  SynthOptions o;
  o.instruments = 10;
  o.years = 4;
  testing::TempWorkspace ws;
  ASSERT_TRUE(WriteUniverseCsv(MakeSyntheticUniverse(o), ws.root() / "data" / "synthetic").ok());
  for (const std::string strategy :
       {"{type: topn, params: {model_path: runs/m/model.json, top_n: 3, weighting: score, "
        "market_filter: true, market_ma_window: 50}}",
        "{type: signal, params: {model_path: runs/m/model.json, cutoff: 0.1}}"}) {
    SCOPED_TRACE(strategy);
    const std::string head = "dataset: synthetic\nstart: 2006-03-01\nend: 2008-06-30\n" +
                             std::string(strategy.find("signal") != std::string::npos ? "tickers: [SYN0001, SYN0004]\n" : "");
    const auto model_spec = ParseBacktestSpec(Yaml(head + "strategy: " + strategy + "\n")).value();
    auto ctx = BacktestContext::Load(ws.ws(), model_spec).value();
    ASSERT_TRUE(ctx.Prepare(model_spec, TestModel()).ok());
    auto by_model = ctx.Run(model_spec).value();
    // Export every score the model gave (full precision), as a user would from another tool.
    std::string file = "symbol,date,score,extra\n";
    auto fn = TestModel()("").value();
    for (const auto& s : ctx.universe().series) {
      const auto sc = fn(s).value();
      for (size_t t = 0; t < s.size(); ++t) {
        if (std::isnan(sc[t])) continue;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", sc[t]);
        file += s.symbol + "," + FormatDate(s.date[t]) + "," + buf + ",x\n";
      }
    }
    ws.Write("preds/scores.csv", file);
    std::string file_strategy = strategy;
    file_strategy.replace(file_strategy.find("model_path: runs/m/model.json"), 29, "scores_path: preds/scores.csv");
    const auto file_spec = ParseBacktestSpec(Yaml(head + "strategy: " + file_strategy + "\n")).value();
    EXPECT_EQ(file_spec.score_source, ScoreSource::kFile);
    auto ctx2 = BacktestContext::Load(ws.ws(), file_spec).value();
    ASSERT_TRUE(ctx2.Prepare(file_spec, {}).ok());
    auto by_file = ctx2.Run(file_spec);
    ASSERT_TRUE(by_file.ok()) << by_file.status().ToString();
    ASSERT_GT(by_model.metrics.orders, 4);
    EXPECT_EQ(by_file->equity, by_model.equity);
    EXPECT_EQ(by_file->metrics.final_equity, by_model.metrics.final_equity);
    EXPECT_EQ(by_file->metrics.orders, by_model.metrics.orders);
    ASSERT_EQ(by_file->trades.size(), by_model.trades.size());
    // The run's own scores.csv, fed back as a scores file, reproduces it too.
    const auto out = ws.root() / "backtests" / "bt_s";
    ASSERT_TRUE(WriteBacktestOutputs(out, model_spec, ctx, by_model, {}).ok());
    ws.Write("preds/own.csv", ReadFile(out / "scores.csv").value());
    file_strategy.replace(file_strategy.find("preds/scores.csv"), 16, "preds/own.csv");
    const auto own_spec = ParseBacktestSpec(Yaml(head + "strategy: " + file_strategy + "\n")).value();
    auto ctx3 = BacktestContext::Load(ws.ws(), own_spec).value();
    ASSERT_TRUE(ctx3.Prepare(own_spec, {}).ok());
    EXPECT_EQ(ctx3.Run(own_spec)->equity, by_model.equity);
  }
}

std::string ScoresError(const std::string& text, std::optional<int32_t> end = std::nullopt) {
  const auto u = Handmade({"AAA", "BBB"}, 10, [](size_t k, int t) { return k == 0 || t != 4; },
                          [](size_t, int) { return 5.0; });
  ScoresFileOptions o;
  o.dataset_symbols = {"AAA", "BBB", "CCC"};
  o.end = end;
  auto r = ParseScoresCsv(text, "preds/s.csv", u, o);
  return r.ok() ? "OK" : r.status().message();
}

TEST(ScoresFileTest, BadFilesGetAClearErrorNamingTheLine) {
  EXPECT_EQ(ScoresError("date,symbol,score\n2021-03-01,AAA,0.5\n2021-03-02,aaa,1e-3\n2021-03-01,CCC,1\n"), "OK");
  EXPECT_EQ(ScoresError("datetime,instrument,score\n2021-03-01 00:00:00,BBB,0.5\n"), "OK");
  EXPECT_EQ(ScoresError("date,ticker,score\n2021-03-01,AAA,1\n"),
            "preds/s.csv:1: header has no 'symbol' column (expected date,symbol,score)");
  EXPECT_EQ(ScoresError("date,symbol,score\n2021-03-01,AAA,0.5\n2021-03-01,ZZZ,0.1\n"),
            "preds/s.csv:3: unknown symbol 'ZZZ' (not in the dataset)");
  EXPECT_EQ(ScoresError("date,symbol,score\n2021-03-01,AAA,0.5\n2021-03-02,BBB,0.1\n2021-03-01,AAA,0.7\n"),
            "preds/s.csv:4: duplicate score for AAA on 2021-03-01 (first on line 2)");
  EXPECT_EQ(ScoresError("date,symbol,score\n2021-02-28,AAA,0.5\n"), "preds/s.csv:2: AAA has no bar on 2021-02-28");
  EXPECT_EQ(ScoresError("date,symbol,score\n2021-03-05,BBB,0.5\n"), "preds/s.csv:2: BBB has no bar on 2021-03-05");
  EXPECT_EQ(ScoresError("date,symbol,score\n2021-03-01,AAA,0.5\n2021-04-01,AAA,0.5\n"),
            "preds/s.csv:3: date 2021-04-01 is after the data's last day 2021-03-10");
  EXPECT_EQ(ScoresError("date,symbol,score\n2021-03-01,AAA,0.5\n2021-04-01,AAA,0.5\n", ParseDate("2021-03-10").value()),
            "OK");  // after the backtest's end: not loaded, skipped
  EXPECT_EQ(ScoresError("date,symbol,score\n2021-03-01,AAA,high\n"), "preds/s.csv:2: bad score 'high'");
  EXPECT_EQ(ScoresError("date,symbol,score\n03/01/2021,AAA,1\n"),
            "preds/s.csv:2: bad date '03/01/2021' (expected YYYY-MM-DD)");
  EXPECT_EQ(ScoresError("date,symbol,score\n2021-03-01,AAA\n"), "preds/s.csv:2: expected at least 3 fields, got 2");
  EXPECT_EQ(ScoresError(""), "preds/s.csv: empty file (expected a date,symbol,score header)");
  EXPECT_EQ(ScoresError("date,symbol,score\n"), "preds/s.csv: no score rows");
  // Config: scores_path excludes model_path and score: momentum.
  auto spec_error = [](const std::string& params) {
    auto r = ParseBacktestSpec(Yaml("tickers: [A]\nstrategy: {type: signal, params: " + params + "}\n"));
    return r.ok() ? "OK" : r.status().message();
  };
  EXPECT_EQ(spec_error("{scores_path: p.csv}"), "OK");
  EXPECT_EQ(spec_error("{scores_path: p.csv, model_path: m.json}"),
            "config key 'strategy.params.scores_path' conflicts with strategy.params.model_path (give one)");
  EXPECT_EQ(spec_error("{scores_path: p.csv, score: momentum}"),
            "config key 'strategy.params.scores_path' conflicts with strategy.params.score: momentum");
  // A missing file is NotFound at Prepare (the CLI checks it before loading data).
  testing::TempWorkspace ws;
  SynthOptions o;
  o.instruments = 2;
  o.years = 1;
  ASSERT_TRUE(WriteUniverseCsv(MakeSyntheticUniverse(o), ws.root() / "data" / "synthetic").ok());
  const auto spec = ParseBacktestSpec(Yaml("dataset: synthetic\nstrategy: {type: topn, params: {scores_path: "
                                           "nope.csv}}\n"))
                        .value();
  auto ctx = BacktestContext::Load(ws.ws(), spec).value();
  EXPECT_EQ(ctx.Prepare(spec, {}).message(), "scores file 'nope.csv' does not exist or is outside the workspace");
  ws.Write("bad.csv", "date,symbol,score\n2005-01-03,SYN0001,0.1\n2005-01-03,TSLA,0.2\n");
  const auto bad = ParseBacktestSpec(Yaml("dataset: synthetic\nstrategy: {type: topn, params: {scores_path: "
                                          "bad.csv}}\n"))
                       .value();
  auto ctx2 = BacktestContext::Load(ws.ws(), bad).value();
  EXPECT_EQ(ctx2.Prepare(bad, {}).message(), "bad.csv:3: unknown symbol 'TSLA' (not in the dataset)");
}

}  // namespace
}  // namespace alphalab::engine

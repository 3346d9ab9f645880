#include "engine/backtest/runner.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include <malloc.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>

#include "core/clock.hpp"
#include "engine/backtest/long_flat.hpp"
#include "engine/data/config.hpp"
#include "engine/data/synth.hpp"

namespace alphalab::engine {
namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("alphalab_runner_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

YAML::Node Yaml(const std::string& text) { return ParseYamlConfig(text, "test").value(); }

std::string SpecError(const std::string& text) {
  auto r = ParseBacktestSpec(Yaml(text));
  // The parse that shares the config's nodes checks the same way (it only skips the copy).
  auto shared = ParseBacktestSpecSharing(Yaml(text));
  EXPECT_EQ(shared.ok() ? "OK" : shared.status().message(), r.ok() ? "OK" : r.status().message());
  return r.ok() ? "OK" : r.status().message();
}

TEST(BacktestSpecTest, BadConfigsAreOneLineErrors) {
  const std::string base = "dataset: demo\ntickers: [SPX]\n";
  EXPECT_EQ(SpecError(base + "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n"), "OK");
  EXPECT_EQ(SpecError(base + "strategy: {type: sma_cross, params: {fast: 10, slowww: 50}}\n"),
            "unknown config key 'strategy.params.slowww' (allowed: fast, slow, initial_cash, fee_bps)");
  EXPECT_EQ(SpecError(base + "strategy: {type: sma_cross, params: {fast: ten}}\n"),
            "config key 'strategy.params.fast' must be an integer, got 'ten'");
  EXPECT_EQ(SpecError(base + "strategy: {type: sma_cross, params: {fast: 0}}\n"),
            "config key 'strategy.params.fast' must be between 1 and 100000");
  EXPECT_EQ(SpecError(base + "bogus: 1\nstrategy: {type: sma_cross}\n").substr(0, 30),
            "unknown config key 'bogus' (al");
  EXPECT_EQ(SpecError(base + "start: 2010-01-01\nend: 2009-01-01\nstrategy: {type: sma_cross}\n"),
            "start 2010-01-01 is after end 2009-01-01");
  EXPECT_EQ(SpecError(base + "start: 2010-13-01\nstrategy: {type: sma_cross}\n"),
            "config key 'start' must be a date YYYY-MM-DD, got '2010-13-01'");
  EXPECT_EQ(SpecError(base + "strategy: {type: magic}\n"),
            "config key 'strategy.type' must be sma_cross, signal or topn, got 'magic'");
  EXPECT_EQ(SpecError(base + "strategy: {type: signal, params: {cutoff: 0.6}}\n"),
            "config key 'strategy.params.model_path' is required for strategy signal (or set "
            "strategy.params.score: momentum)");
  EXPECT_EQ(SpecError(base + "fee_bps: -1\nstrategy: {type: sma_cross}\n"),
            "config key 'fee_bps' must be between 0 and 10000");
  EXPECT_EQ(SpecError(base + "strategy: {type: topn, params: {score: momentum, weighting: best}}\n"),
            "config key 'strategy.params.weighting' must be equal or score, got 'best'");
  EXPECT_EQ(SpecError(base + "strategy: {type: topn, params: {score: momentum, dynamic_exposure: true, "
                             "drawdown_tiers: '0.1,0.2', drawdown_exposures: '0.5'}}\n"),
            "config key 'strategy.params.drawdown_exposures' must have as many entries as drawdown_tiers (2)");
  EXPECT_EQ(SpecError(base + "strategy: {type: topn, params: {score: momentum, rebalance_day: Sunday}}\n"),
            "config key 'strategy.params.rebalance_day' must be Monday..Friday for weekly, got 'Sunday'");
  // A key that is not plain text (fuzz_config found the tagged one): an error, not an exception.
  EXPECT_EQ(SpecError(base + "strategy: {type: sma_cross,!params: {fast: 10, slow: 50}}\n"),
            "config key 'strategy' has a key that is not plain text");
  EXPECT_EQ(SpecError(base + "strategy: {type: sma_cross, params: {[fast]: 10}}\n"),
            "config key 'strategy.params' has a key that is not plain text");
  EXPECT_EQ(SpecError("tickers: []\nstrategy: {type: sma_cross}\n"),
            "config key 'tickers' is required for strategy sma_cross");
}

// ParseBacktestSpecSharing gives the spec ParseBacktestSpec gives, with spec.config on the
// caller's nodes instead of a copy of them (a grid's base and checks); the copy stays
// independent of the caller's config.
TEST(BacktestSpecTest, TheSharingParseIsTheParseWithoutTheCopy) {
  const auto config = Yaml("dataset: synthetic\ntickers: [SYN0002]\nstart: 2001-02-03\ninitial_cash: 100000\n"
                           "fee_bps: 7.5\nstrategy: {type: sma_cross, params: {fast: 12, slow: 48}}\n");
  const std::string text = DumpYaml(config);
  const auto copied = ParseBacktestSpec(config).value();
  const auto shared = ParseBacktestSpecSharing(config).value();
  EXPECT_TRUE(SameData(copied, shared));
  EXPECT_EQ(shared.fast, copied.fast);
  EXPECT_EQ(shared.slow, copied.slow);
  EXPECT_EQ(shared.fee_bps, copied.fee_bps);
  EXPECT_EQ(shared.initial_cash, copied.initial_cash);
  EXPECT_EQ(DumpYaml(shared.config), text);
  EXPECT_EQ(DumpYaml(copied.config), text);
  EXPECT_TRUE(shared.config.is(config));
  EXPECT_FALSE(copied.config.is(config));
  YAML::Node changed = config;
  changed["fee_bps"] = 99;
  EXPECT_EQ(DumpYaml(copied.config), text);
  EXPECT_NE(DumpYaml(shared.config), text);
}

TEST(BacktestSpecTest, SeedFourParametersParse) {
  auto spec = ParseBacktestSpec(Yaml(
      "dataset: synthetic\nstrategy:\n  type: topn\n  params:\n    model_path: runs/r/model.json\n"
      "    top_n: '30'\n    retain_top_n: '10'\n    weighting: score\n    min_score: '0'\n"
      "    market_filter: 'True'\n    market_ma_window: '200'\n    rebalance_frequency: Weekly\n"
      "    rebalance_day: Monday\n    rebalance_time_minutes: '30'\n    dynamic_exposure: 'True'\n"
      "    drawdown_tiers: '0.08,0.12,0.15'\n    drawdown_exposures: '0.80,0.60,0.40'\n"
      "    max_drawdown: '0.15'\n    max_drawdown_52w: '0.15'\n    risk_off_mode: defensive\n"
      "    risk_off_pick: lowest_vol\n    risk_off_symbols: SHY,IEF,GLD,TLT\n    initial_cash: '30000.0'\n"
      "    fee_bps: '10.0'\n    max_exposure: 0.4\n    vol_target: 0.045\n    max_weight: 0.028\n"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const auto& t = spec->topn;
  EXPECT_EQ(t.top_n, 30);
  EXPECT_EQ(t.retain_top_n, 10);
  EXPECT_EQ(t.weighting, Weighting::kScore);
  EXPECT_EQ(t.min_score, 0);
  EXPECT_TRUE(t.market_filter);
  EXPECT_EQ(t.market_ma_window, 200);
  EXPECT_EQ(t.rebalance_frequency, RebalanceFrequency::kWeekly);
  EXPECT_EQ(t.rebalance_day, 0);
  EXPECT_EQ(t.rebalance_time_minutes, 30);
  EXPECT_TRUE(t.dynamic_exposure);
  EXPECT_EQ(t.drawdown_tiers, (std::vector<double>{0.08, 0.12, 0.15}));
  EXPECT_EQ(t.drawdown_exposures, (std::vector<double>{0.8, 0.6, 0.4}));
  EXPECT_EQ(t.max_drawdown, 0.15);
  EXPECT_EQ(t.risk_off_mode, RiskOffMode::kDefensive);
  EXPECT_EQ(t.risk_off_symbols, (std::vector<std::string>{"SHY", "IEF", "GLD", "TLT"}));
  EXPECT_EQ(spec->initial_cash, 30000);
  EXPECT_EQ(spec->fee_bps, 10);
  EXPECT_EQ(t.max_exposure, 0.4);
  EXPECT_EQ(t.vol_target, 0.045);
  EXPECT_EQ(t.max_weight, 0.028);
}

Universe Synthetic() {
  SynthOptions o;
  o.instruments = 6;
  o.years = 10;
  o.seed = 21;
  return MakeSyntheticUniverse(o);
}

TEST(GridTest, GridEqualsSingleRuns) {
  const auto config = Yaml("dataset: synthetic\ntickers: [SYN0002]\ninitial_cash: 100000\nfee_bps: 10\n"
                           "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto spec = ParseBacktestSpec(config).value();
  auto ctx = BacktestContext::FromUniverse(Synthetic(), spec).value();
  std::vector<GridAxis> axes = {ParseGridAxis("strategy.params.fast=5:50:5").value(),
                                ParseGridAxis("strategy.params.slow=20:200:20").value()};
  auto cells = RunGridOnContext(ctx, config, axes, {}, 2);
  ASSERT_TRUE(cells.ok()) << cells.status().ToString();
  ASSERT_EQ(cells->size(), 100u);
  EXPECT_EQ((*cells)[0].params["strategy.params.fast"], 5);
  EXPECT_EQ((*cells)[0].params["strategy.params.slow"], 20);
  EXPECT_EQ((*cells)[99].params["strategy.params.fast"], 50);
  EXPECT_EQ((*cells)[99].params["strategy.params.slow"], 200);
  const auto& bars = *ctx.universe().Find("SYN0002");
  for (const auto& cell : *cells) {
    // A single run from scratch, through the plain functions.
    const int fast = cell.params["strategy.params.fast"], slow = cell.params["strategy.params.slow"];
    auto f = SimpleMovingAverage(bars.close, fast), s = SimpleMovingAverage(bars.close, slow);
    std::vector<int8_t> sig(bars.size());
    SmaCrossSignals(f.data(), s.data(), bars.size(), sig.data());
    LongFlatOptions o;
    o.initial_cash = 100000;
    o.fee_rate = 0.001;
    const auto single = RunLongFlat(bars, sig.data(), o);
    EXPECT_EQ(cell.metrics.final_equity, single.metrics.final_equity) << cell.params.dump();
    EXPECT_EQ(cell.metrics.sharpe, single.metrics.sharpe);
    EXPECT_EQ(cell.metrics.max_drawdown, single.metrics.max_drawdown);
    EXPECT_EQ(cell.metrics.trades, single.metrics.trades);
  }
  // The slow path (a non-numeric axis) gives the same numbers too.
  std::vector<GridAxis> list_axes = {ParseGridAxis("strategy.params.fast=[5, 10]").value(),
                                     ParseGridAxis("strategy.type=[sma_cross]").value()};
  auto listed = RunGridOnContext(ctx, config, list_axes, {}, 1);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_TRUE(ctx.Prepare(spec, {}).ok());
  EXPECT_EQ((*listed)[1].metrics.final_equity, ctx.Run(spec)->metrics.final_equity);  // fast 10, slow 50
}

// A process that runs grid after grid over the same axes (a benchmark, a long-lived caller)
// does the same work for each and keeps no more memory: before, each check of a window
// value merged the value's YAML document into a probe map that the value then kept, so each
// grid kept its probes and copied all earlier ones (1.8 ms a grid after 100 grids, 22 ms
// after 1,600).
TEST(GridTest, RepeatedGridsKeepNoMemory) {
  const auto config = Yaml("dataset: synthetic\ntickers: [SYN0002]\ninitial_cash: 100000\nfee_bps: 10\n"
                           "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto ctx = BacktestContext::FromUniverse(Synthetic(), ParseBacktestSpec(config).value()).value();
  const std::vector<GridAxis> axes = {ParseGridAxis("strategy.params.fast=5:50:5").value(),
                                      ParseGridAxis("strategy.params.slow=[20, 40, 60, 80, 100]").value()};
  auto grid = [&] { ASSERT_TRUE(RunGridOnContext(ctx, config, axes, {}, 1).ok()); };
  grid();  // first use: thread-local buffers, caches
  grid();
  const size_t kept = mallinfo2().uordblks;
  for (int g = 0; g < 100; ++g) grid();
  const size_t after = mallinfo2().uordblks;
  EXPECT_LE(after, kept + 4096) << "100 more grids kept " << (after - kept) << " bytes";
}

TEST(GridTest, BadAxesAreRejectedBeforeWork) {
  EXPECT_FALSE(ParseGridAxis("strategy.params.fast").ok());
  EXPECT_FALSE(ParseGridAxis("strategy.params.fast=50:5:5").ok());
  EXPECT_FALSE(ParseGridAxis("strategy.params.fast=5:50:0").ok());
  const auto config = Yaml("tickers: [SYN0002]\nstrategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto ctx = BacktestContext::FromUniverse(Synthetic(), ParseBacktestSpec(config).value()).value();
  auto zero = RunGridOnContext(ctx, config, {ParseGridAxis("strategy.params.fast=0:10:5").value()}, {});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("strategy.params.fast=0"), std::string::npos) << zero.status().message();
  auto data = RunGridOnContext(ctx, config, {ParseGridAxis("tickers=[SYN0001]").value()}, {});
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().message().find("changes the data"), std::string::npos);
}

Combination Combo(const std::vector<std::string>& assignments) {
  Combination c;
  for (const auto& a : assignments) c.push_back(ParseOverride(a).value());
  return c;
}

TEST(GridTest, ExplicitCombinationsEqualSingleRuns) {
  const auto config = Yaml("dataset: synthetic\ntickers: [SYN0002]\ninitial_cash: 100000\nfee_bps: 10\n"
                           "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto base = ParseBacktestSpec(config).value();
  auto ctx = BacktestContext::FromUniverse(Synthetic(), base).value();
  // Not a Cartesian product: random-looking pairs, a repeat, a fee change, an empty combination.
  const std::vector<Combination> combos = {
      Combo({"strategy.params.fast=7", "strategy.params.slow=130"}),
      Combo({"strategy.params.fast=31", "strategy.params.slow=44"}),
      Combo({"strategy.params.fast=7", "strategy.params.slow=130"}),
      Combo({"fee_bps=30", "strategy.params.fast=12"}),
      Combo({}),
  };
  for (bool record : {false, true}) {
    SCOPED_TRACE(record ? "record_curves" : "metrics only");
    std::vector<std::optional<BacktestResult>> got(combos.size());
    std::vector<std::string> configs(combos.size());
    std::mutex mu;
    Status s = RunCombinations(ctx, config, combos, {}, RunOptions{.threads = 2, .record_curves = record},
                               [&](size_t i, const BacktestSpec& spec, Result<BacktestResult>&& r) {
                                 ASSERT_TRUE(r.ok()) << r.status().ToString();
                                 std::lock_guard lock(mu);
                                 got[i] = std::move(*r);
                                 configs[i] = DumpYaml(spec.config);
                               });
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (size_t i = 0; i < combos.size(); ++i) {
      // The same combination run alone from its own config, on a fresh context.
      YAML::Node alone = YAML::Clone(config);
      for (const auto& o : combos[i]) ASSERT_TRUE(ApplyOverride(alone, o).ok());
      auto spec = ParseBacktestSpec(alone).value();
      auto fresh = BacktestContext::FromUniverse(Synthetic(), spec).value();
      ASSERT_TRUE(fresh.Prepare(spec, {}).ok());
      auto single = fresh.Run(spec, record).value();
      ASSERT_TRUE(got[i].has_value()) << i;
      EXPECT_EQ(got[i]->metrics.final_equity, single.metrics.final_equity) << i;
      EXPECT_EQ(got[i]->metrics.sharpe, single.metrics.sharpe) << i;
      EXPECT_EQ(got[i]->metrics.trades, single.metrics.trades) << i;
      EXPECT_EQ(got[i]->metrics.total_fees, single.metrics.total_fees) << i;
      EXPECT_EQ(got[i]->equity, single.equity) << i;
      EXPECT_EQ(got[i]->fills.size(), single.fills.size()) << i;
      if (record) {
        EXPECT_FALSE(got[i]->equity.empty());
        EXPECT_EQ(configs[i], DumpYaml(spec.config)) << i;  // the spec carries its own config
      }
    }
    EXPECT_EQ(got[0]->metrics.final_equity, got[2]->metrics.final_equity);
    EXPECT_NE(got[0]->metrics.final_equity, got[1]->metrics.final_equity);
  }
}

TEST(GridTest, ExplicitCombinationsAreCheckedBeforeWork) {
  const auto config = Yaml("tickers: [SYN0002]\nstrategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto ctx = BacktestContext::FromUniverse(Synthetic(), ParseBacktestSpec(config).value()).value();
  int calls = 0;
  auto count = [&](size_t, const BacktestSpec&, Result<BacktestResult>&&) { ++calls; };
  Status bad = RunCombinations(ctx, config, {Combo({"strategy.params.fast=5"}), Combo({"strategy.params.slow=x"})},
                               {}, {}, count);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("strategy.params.slow=\"x\""), std::string::npos) << bad.message();
  Status data = RunCombinations(ctx, config, {Combo({"strategy.params.fast=5"}), Combo({"end=2005-01-01"})}, {}, {},
                                count);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.message().find("changes the data"), std::string::npos) << data.message();
  EXPECT_EQ(calls, 0);  // nothing ran
  // RunSpecs refuses specs that do not share the data.
  auto a = ParseBacktestSpec(config).value();
  auto b = ParseBacktestSpec(Yaml("tickers: [SYN0001]\nstrategy: {type: sma_cross}\n")).value();
  EXPECT_FALSE(RunSpecs(ctx, {a, b}, {}, {}, [&](size_t, Result<BacktestResult>&&) { ++calls; }).ok());
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(SameContext(a, a));
  EXPECT_FALSE(SameContext(a, b));
}

// Two and three threads give every cell of the grid exactly the one-thread numbers, in the
// same order, again and again (the grid's checks, preparation and simulations share one
// parallel call; the simulations wait for the checks' verdict).
TEST(GridTest, ThreadsGiveTheOneThreadGridToTheCent) {
  const auto config = Yaml("dataset: synthetic\ntickers: [SYN0003]\ninitial_cash: 100000\nfee_bps: 10\n"
                           "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  const auto spec = ParseBacktestSpec(config).value();
  const Universe u = Synthetic();
  const std::vector<GridAxis> axes = {ParseGridAxis("strategy.params.fast=5:50:5").value(),
                                      ParseGridAxis("strategy.params.slow=20:200:20").value(),
                                      ParseGridAxis("fee_bps=[0, 10.5]").value()};
  auto one_ctx = BacktestContext::FromUniverse(u, spec).value();
  const auto one = RunGridOnContext(one_ctx, config, axes, {}, 1).value();
  ASSERT_EQ(one.size(), 200u);
  for (int round = 0; round < 20; ++round) {
    const int threads = round % 2 ? 3 : 2;
    auto ctx = BacktestContext::FromUniverse(u, spec).value();  // fresh: Prepare runs inside the call
    const auto many = RunGridOnContext(ctx, config, axes, {}, threads).value();
    ASSERT_EQ(many.size(), one.size());
    for (size_t c = 0; c < one.size(); ++c) {
      ASSERT_EQ(many[c].params, one[c].params) << c;
      ASSERT_EQ(many[c].metrics.final_equity, one[c].metrics.final_equity) << one[c].params.dump();
      ASSERT_EQ(many[c].metrics.sharpe, one[c].metrics.sharpe) << one[c].params.dump();
      ASSERT_EQ(many[c].metrics.max_drawdown, one[c].metrics.max_drawdown) << one[c].params.dump();
      ASSERT_EQ(many[c].metrics.trades, one[c].metrics.trades) << one[c].params.dump();
      ASSERT_EQ(many[c].metrics.total_fees, one[c].metrics.total_fees) << one[c].params.dump();
    }
  }
  EXPECT_NE(one[0].metrics.final_equity, one[1].metrics.final_equity);  // the fee axis matters
}

// A grid names the problem the same explicit combinations name: the first in order of first
// use (here the second axis's first value, used before the first axis's second value), and
// runs nothing.
TEST(GridTest, AGridReportsTheFirstProblemItsCombinationsWould) {
  const auto config = Yaml("tickers: [SYN0002]\nstrategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto ctx = BacktestContext::FromUniverse(Synthetic(), ParseBacktestSpec(config).value()).value();
  const std::vector<GridAxis> axes = {ParseGridAxis("strategy.params.fast=[5, 0]").value(),
                                      ParseGridAxis("strategy.params.slow=[x, 20]").value()};
  std::vector<Combination> combos;
  for (const char* fast : {"5", "0"}) {
    for (const char* slow : {"x", "20"}) {
      combos.push_back(Combo({std::string("strategy.params.fast=") + fast, std::string("strategy.params.slow=") + slow}));
    }
  }
  int calls = 0;
  const Status listed = RunCombinations(ctx, config, combos, {}, RunOptions{.threads = 2},
                                        [&](size_t, const BacktestSpec&, Result<BacktestResult>&&) { ++calls; });
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.message().find("strategy.params.slow=\"x\""), std::string::npos) << listed.message();
  for (int threads : {1, 2}) {
    auto grid = RunGridOnContext(ctx, config, axes, {}, threads);
    ASSERT_FALSE(grid.ok());
    EXPECT_EQ(grid.status().message(), listed.message());
  }
  EXPECT_EQ(calls, 0);
}

// RunGridOnContext from the parsed base (RunGrid parses its config once) gives the grid of
// the config itself: window values, values checked by a full parse of the base config
// (fee_bps), and values that re-parse every combination (strategy.type).
TEST(GridTest, AParsedBaseGivesTheGridOfItsConfig) {
  const auto config = Yaml("dataset: synthetic\ntickers: [SYN0002]\ninitial_cash: 100000\nfee_bps: 10\n"
                           "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  const auto spec = ParseBacktestSpec(config).value();
  for (const auto& axes : {std::vector<GridAxis>{ParseGridAxis("strategy.params.fast=5:50:15").value(),
                                                 ParseGridAxis("fee_bps=[0, 25]").value()},
                           std::vector<GridAxis>{ParseGridAxis("strategy.params.slow=[30, 90]").value(),
                                                 ParseGridAxis("strategy.type=[sma_cross]").value()}}) {
    auto a = BacktestContext::FromUniverse(Synthetic(), spec).value();
    auto b = BacktestContext::FromUniverse(Synthetic(), spec).value();
    const auto from_config = RunGridOnContext(a, config, axes, {}, 2).value();
    const auto from_spec = RunGridOnContext(b, spec, axes, {}, 2).value();
    ASSERT_EQ(from_config.size(), from_spec.size());
    for (size_t c = 0; c < from_config.size(); ++c) {
      EXPECT_EQ(from_spec[c].params, from_config[c].params) << c;
      EXPECT_EQ(from_spec[c].metrics.final_equity, from_config[c].metrics.final_equity) << c;
      EXPECT_EQ(from_spec[c].metrics.total_fees, from_config[c].metrics.total_fees) << c;
    }
  }
  auto ctx = BacktestContext::FromUniverse(Synthetic(), spec).value();
  auto bad = RunGridOnContext(ctx, spec, {ParseGridAxis("strategy.params.fast=[5, 0]").value()}, {}, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("strategy.params.fast=0"), std::string::npos) << bad.status().message();
}

// Contexts made on one shared universe (the benchmark's fresh context per grid, many grids of
// a process on one loaded universe) give exactly the grids of contexts on their own copies,
// on one and two threads, while both are alive, and leave the universe as it was.
TEST(GridTest, ContextsSharingAUniverseGiveTheGridsOfSeparateCopies) {
  const std::vector<GridAxis> axes = {ParseGridAxis("strategy.params.fast=5:50:5").value(),
                                      ParseGridAxis("strategy.params.slow=20:200:20").value()};
  auto config_for = [](const std::string& ticker) {
    return Yaml("dataset: synthetic\ntickers: [" + ticker +
                "]\ninitial_cash: 100000\nfee_bps: 10\nstrategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  };
  const auto shared = std::make_shared<const Universe>(Synthetic());
  const Universe untouched = Synthetic();
  std::vector<BacktestContext> contexts;  // alive together: their caches are their own
  std::vector<std::vector<GridCell>> expected;
  for (const char* ticker : {"SYN0002", "SYN0004"}) {
    const auto spec = ParseBacktestSpec(config_for(ticker)).value();
    auto own = BacktestContext::FromUniverse(Synthetic(), spec).value();
    expected.push_back(RunGridOnContext(own, config_for(ticker), axes, {}, 1).value());
    contexts.push_back(BacktestContext::FromUniverse(shared, spec).value());
    EXPECT_EQ(&contexts.back().universe(), shared.get());  // shared, not copied
  }
  for (int round = 0; round < 4; ++round) {
    for (size_t k = 0; k < contexts.size(); ++k) {
      const auto config = config_for(k == 0 ? "SYN0002" : "SYN0004");
      const auto got = RunGridOnContext(contexts[k], config, axes, {}, round % 2 ? 2 : 1).value();
      ASSERT_EQ(got.size(), expected[k].size());
      for (size_t c = 0; c < got.size(); ++c) {
        ASSERT_EQ(got[c].params, expected[k][c].params) << c;
        ASSERT_EQ(got[c].metrics.final_equity, expected[k][c].metrics.final_equity) << got[c].params.dump();
        ASSERT_EQ(got[c].metrics.sharpe, expected[k][c].metrics.sharpe) << got[c].params.dump();
        ASSERT_EQ(got[c].metrics.trades, expected[k][c].metrics.trades) << got[c].params.dump();
      }
    }
  }
  EXPECT_NE(expected[0][0].metrics.final_equity, expected[1][0].metrics.final_equity);  // two instruments
  ASSERT_EQ(shared->series.size(), untouched.series.size());
  EXPECT_EQ(shared->calendar, untouched.calendar);
  for (size_t i = 0; i < untouched.series.size(); ++i) {
    const auto &a = shared->series[i], &b = untouched.series[i];
    EXPECT_EQ(a.symbol, b.symbol);
    EXPECT_EQ(a.date, b.date);
    EXPECT_EQ(a.open, b.open);
    EXPECT_EQ(a.close, b.close);
    EXPECT_EQ(a.volume, b.volume);
  }
  // A shared universe without its calendar gets one on the context's own copy.
  Universe bare = Synthetic();
  bare.calendar.clear();
  const auto shared_bare = std::make_shared<const Universe>(std::move(bare));
  auto ctx = BacktestContext::FromUniverse(shared_bare, ParseBacktestSpec(config_for("SYN0002")).value()).value();
  EXPECT_EQ(ctx.universe().calendar, untouched.calendar);
  EXPECT_TRUE(shared_bare->calendar.empty());
}

// A bad value anywhere, even the last combination's, fails the grid before any simulation
// (the workers that reach the simulations first wait for every check).
TEST(GridTest, ABadLastValueStopsEveryRunOnAllThreads) {
  const auto config = Yaml("tickers: [SYN0002]\nstrategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto ctx = BacktestContext::FromUniverse(Synthetic(), ParseBacktestSpec(config).value()).value();
  std::vector<Combination> combos;
  // Full parses (slow checks) first, the quickest check (a window) last and bad.
  for (int fee = 0; fee < 60; ++fee) combos.push_back(Combo({"fee_bps=" + std::to_string(fee)}));
  combos.push_back(Combo({"strategy.params.slow=x"}));
  std::atomic<int> calls{0};
  for (int round = 0; round < 20; ++round) {
    Status bad = RunCombinations(ctx, config, combos, {}, RunOptions{.threads = 2},
                                 [&](size_t, const BacktestSpec&, Result<BacktestResult>&&) { ++calls; });
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("strategy.params.slow=\"x\""), std::string::npos) << bad.message();
  }
  EXPECT_EQ(calls.load(), 0);
}

// The grid's JSON lines (`alphalab backtest --grid`) are written without building JSON
// objects, byte for byte what the objects would dump, for ordinary and awkward numbers.
TEST(GridTest, CellJsonLinesAreWhatTheJsonObjectsDump) {
  const double awkward[] = {0.0, -0.0, 1.0, -1.5, 0.1, 1e-7, 123456789.0, 1e15, 1e16, 1e21, 2.5e-300,
                            1.0 / 3, std::nan(""), std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(), 1012345.6789, 0.30000000000000004};
  std::mt19937_64 rng(14);
  for (size_t round = 0; round < 200; ++round) {
    auto pick = [&] {
      return round < std::size(awkward) ? awkward[(round + rng() % 3) % std::size(awkward)]
                                        : std::uniform_real_distribution<double>(-1e7, 1e7)(rng) *
                                              std::pow(10.0, static_cast<double>(rng() % 20) - 10);
    };
    GridCell cell;
    cell.params = {{"strategy.params.fast", static_cast<int>(rng() % 50)}, {"fee_bps", pick()}, {"name", "a\"b"}};
    PerformanceMetrics& m = cell.metrics;
    for (double* v : {&m.cagr, &m.max_drawdown, &m.sharpe, &m.sortino, &m.volatility, &m.total_return, &m.win_rate,
                      &m.exposure, &m.final_equity, &m.initial_cash, &m.total_fees}) {
      *v = pick();
    }
    m.trades = static_cast<int64_t>(rng() % 1000) - (round % 7 == 0 ? 5000 : 0);
    m.orders = static_cast<int64_t>(rng());
    std::string line;
    AppendGridCellJson(line, cell);
    EXPECT_EQ(line, (nlohmann::json{{"params", cell.params}, {"metrics", MetricsToJson(m)}}.dump()));
  }
}

// A grid's cells share one table of their parameters (GridParams): each cell's JSON line,
// dump, values and equality are those of the JSON object it stood for (built per cell before),
// for integers, decimals, strings, a key repeated by two axes (the object keeps the last
// axis's value) and a grid without axes ({}).
TEST(GridTest, CellParamsAreTheObjectsTheyStandFor) {
  const auto config = Yaml("dataset: synthetic\ntickers: [SYN0002]\ninitial_cash: 100000\nfee_bps: 10\n"
                           "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto ctx = BacktestContext::FromUniverse(Synthetic(), ParseBacktestSpec(config).value()).value();
  const std::vector<std::vector<GridAxis>> grids = {
      {ParseGridAxis("strategy.params.slow=[60, 80]").value(), ParseGridAxis("fee_bps=0.5:1.5:0.25").value(),
       ParseGridAxis("strategy.params.fast=5,7").value(), ParseGridAxis("fee_bps=[2.5, 1e1]").value()},
      {ParseGridAxis("strategy.params.fast=5,7").value(), ParseGridAxis("dataset=[synthetic]").value()},
      {},
  };
  for (const auto& axes : grids) {
    for (int threads : {1, 2}) {
      const auto cells = RunGridOnContext(ctx, config, axes, {}, threads).value();
      size_t total = 1;
      for (const auto& a : axes) total *= a.values.size();
      ASSERT_EQ(cells.size(), total);
      for (size_t c = 0; c < cells.size(); ++c) {
        nlohmann::json expected = nlohmann::json::object();  // what each cell's object was
        for (size_t a = 0, rest = c; a < axes.size(); ++a) {
          size_t below = 1;
          for (size_t b = a + 1; b < axes.size(); ++b) below *= axes[b].values.size();
          expected[axes[a].key] = YamlToJson(axes[a].values[rest / below]);
          rest %= below;
        }
        const GridCell& cell = cells[c];
        EXPECT_EQ(cell.params.dump(), expected.dump()) << c;
        EXPECT_EQ(cell.params.ToJson(), expected) << c;
        for (const auto& [key, value] : expected.items()) EXPECT_EQ(cell.params[key], value) << c << " " << key;
        EXPECT_TRUE(cell.params["absent"].is_null());
        GridParams same;
        same = expected;
        EXPECT_EQ(cell.params, same) << c;
        std::string line;
        AppendGridCellJson(line, cell);
        EXPECT_EQ(line, (nlohmann::json{{"params", expected}, {"metrics", MetricsToJson(cell.metrics)}}.dump())) << c;
      }
    }
  }
  EXPECT_EQ(RunGridOnContext(ctx, config, {}, {}, 1).value().at(0).params.dump(), "{}");
}

// A grid that the simulations side by side do not take (two instruments: one run per
// combination, through RunSpecs) has its cells' parameters filled before its runs too (the
// side work done first, without the combined parallel call), on 1 and 2 threads.
TEST(GridTest, AGridOfSeveralInstrumentsHasItsCellParameters) {
  const auto config = Yaml("dataset: synthetic\ntickers: [SYN0001, SYN0002]\ninitial_cash: 100000\nfee_bps: 10\n"
                           "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  const auto base = ParseBacktestSpec(config).value();
  auto ctx = BacktestContext::FromUniverse(Synthetic(), base).value();
  ASSERT_FALSE(ctx.RunsMetricsTogether(base));
  const std::vector<GridAxis> axes = {ParseGridAxis("strategy.params.fast=5,10").value(),
                                      ParseGridAxis("strategy.params.slow=[30, 40]").value()};
  for (int threads : {1, 2}) {
    const auto cells = RunGridOnContext(ctx, config, axes, {}, threads).value();
    ASSERT_EQ(cells.size(), 4u);
    for (size_t c = 0; c < cells.size(); ++c) {
      const int fast = c < 2 ? 5 : 10, slow = c % 2 ? 40 : 30;
      EXPECT_EQ(cells[c].params.dump(),
                (nlohmann::json{{"strategy.params.fast", fast}, {"strategy.params.slow", slow}}.dump()));
      BacktestSpec spec = base;
      spec.fast = fast;
      spec.slow = slow;
      ASSERT_TRUE(ctx.Prepare(spec, {}).ok());
      EXPECT_EQ(cells[c].metrics.final_equity, ctx.Run(spec, false)->metrics.final_equity) << c;
    }
  }
}

TEST(RunnerTest, SignalStrategyUsesInjectedScores) {
  const auto config = Yaml("tickers: [SYN0001]\ninitial_cash: 50000\nfee_bps: 5\n"
                           "strategy: {type: signal, params: {model_path: runs/x/model.json, cutoff: 0.6}}\n");
  auto spec = ParseBacktestSpec(config).value();
  auto ctx = BacktestContext::FromUniverse(Synthetic(), spec).value();
  std::vector<double> seen_scores;
  ScorerFactory factory = [&](const std::string& path) -> Result<ScoreFn> {
    EXPECT_EQ(path, "runs/x/model.json");
    return ScoreFn([&](const BarSeries& bars) -> Result<std::vector<double>> {
      std::vector<double> s(bars.size());
      for (size_t t = 0; t < s.size(); ++t) s[t] = (t / 40) % 2 ? 0.7 : 0.3;  // 40 bars on, 40 off
      seen_scores = s;
      return s;
    });
  };
  ASSERT_TRUE(ctx.Prepare(spec, factory).ok());
  auto r = ctx.Run(spec);
  ASSERT_TRUE(r.ok());
  const auto& bars = *ctx.universe().Find("SYN0001");
  std::vector<int8_t> sig(bars.size());
  ThresholdSignals(seen_scores.data(), bars.size(), 0.6, sig.data());
  LongFlatOptions o;
  o.initial_cash = 50000;
  o.fee_rate = 0.0005;
  const auto expect = RunLongFlat(bars, sig.data(), o);
  EXPECT_EQ(r->metrics.final_equity, expect.metrics.final_equity);
  EXPECT_GT(r->metrics.trades, 10);
  // First entry: the score turns 0.7 on bar 40, so the buy fills at bar 41's open.
  EXPECT_EQ(r->trades[0].entry_date, bars.date[41]);
  // A scorer failure is an error, not a silent zero.
  BacktestContext ctx2 = BacktestContext::FromUniverse(Synthetic(), spec).value();
  ScorerFactory broken = [](const std::string&) -> Result<ScoreFn> {
    return Status::InvalidArgument("model from another feature set");
  };
  EXPECT_EQ(ctx2.Prepare(spec, broken).message(), "model from another feature set");
}

TEST(RunnerTest, LoadsThroughWorkspaceAndWritesOutputs) {
  TempDir dir;
  SynthOptions o;
  o.instruments = 3;
  o.years = 3;
  ASSERT_TRUE(WriteUniverseCsv(MakeSyntheticUniverse(o), dir.path() / "data" / "synthetic").ok());
  auto ws = Workspace::Open(dir.path()).value();
  auto spec = ParseBacktestSpec(Yaml("dataset: synthetic\ntickers: [SYN0001, SYN0002]\nstart: 2006-01-01\n"
                                     "strategy: {type: sma_cross, params: {fast: 5, slow: 20}}\n")).value();
  auto ctx = BacktestContext::Load(ws, spec);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  ASSERT_TRUE(ctx->Prepare(spec, {}).ok());
  auto r = ctx->Run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FormatDate(r->dates.front()), "2006-01-02");
  const auto out = dir.path() / "backtests" / "bt_x";
  ASSERT_TRUE(WriteBacktestOutputs(out, spec, *ctx, *r, {{"bt_run_id", "bt_x"}}).ok());
  auto summary = nlohmann::json::parse(ReadFile(out / "summary.json").value());
  for (const char* k : {"cagr", "max_drawdown", "sharpe", "sortino", "volatility", "total_return", "trades",
                        "win_rate", "exposure", "final_equity"}) {
    EXPECT_TRUE(summary[k].is_number()) << k;
  }
  EXPECT_EQ(summary["bt_run_id"], "bt_x");
  EXPECT_EQ(summary["strategy"]["type"], "sma_cross");
  EXPECT_EQ(summary["strategy"]["params"]["fast"], 5);
  EXPECT_EQ(summary["tickers"], (nlohmann::json{"SYN0001", "SYN0002"}));
  EXPECT_EQ(summary["start"], "2006-01-02");
  EXPECT_EQ(summary["statistics"]["Total Orders"], std::to_string(r->metrics.orders));
  EXPECT_DOUBLE_EQ(summary["final_equity"].get<double>(), r->metrics.final_equity);
  const std::string equity = ReadFile(out / "equity.csv").value();
  EXPECT_EQ(equity.substr(0, equity.find('\n')), "date,equity,cash,holdings,drawdown,benchmark");
  EXPECT_EQ(std::count(equity.begin(), equity.end(), '\n'), static_cast<long>(r->dates.size() + 1));
  const std::string trades = ReadFile(out / "trades.csv").value();
  EXPECT_EQ(std::count(trades.begin(), trades.end(), '\n'),
            static_cast<long>(r->trades.size() + r->open_positions.size() + 1));
  size_t end_rows = 0;
  for (size_t at = trades.find(",end\n"); at != std::string::npos; at = trades.find(",end\n", at + 1)) ++end_rows;
  EXPECT_EQ(end_rows, r->open_positions.size());
  EXPECT_TRUE(std::filesystem::exists(out / "config.yaml"));
  // Unknown tickers name what exists.
  auto bad = ParseBacktestSpec(Yaml("dataset: synthetic\ntickers: [TSM]\nstrategy: {type: sma_cross}\n")).value();
  auto missing = BacktestContext::Load(ws, bad);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "unknown ticker 'TSM' in dataset 'synthetic' (available: SYN0001, SYN0002, SYN0003, SYNBOND, "
            "SYNGOLD, SYNMKT)");
}

// `tickers: all` (the example's configs/backtest/topn.yaml) is a topn portfolio over every
// instrument of the dataset, the same run as no tickers at all; the per-instrument strategies
// refuse it with a message instead of looking up an instrument called "all".
TEST(RunnerTest, TickersAllIsTheWholeUniverseForTopnOnly) {
  TempDir dir;
  SynthOptions o;
  o.instruments = 4;
  o.years = 3;
  ASSERT_TRUE(WriteUniverseCsv(MakeSyntheticUniverse(o), dir.path() / "data" / "synthetic").ok());
  auto ws = Workspace::Open(dir.path()).value();
  const std::string topn = "strategy: {type: topn, params: {score: momentum, top_n: 2}}\n";
  auto all = ParseBacktestSpec(Yaml("dataset: synthetic\ntickers: all\n" + topn));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(all->tickers.empty());
  auto none = ParseBacktestSpec(Yaml("dataset: synthetic\n" + topn)).value();
  auto run = [&](const BacktestSpec& spec) {
    auto ctx = BacktestContext::Load(ws, spec);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    if (!ctx.ok() || !ctx->Prepare(spec, {}).ok()) return std::make_pair(size_t{0}, 0.0);
    auto r = ctx->Run(spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::make_pair(ctx->universe().series.size(), r.ok() ? r->metrics.final_equity : 0.0);
  };
  const auto [n_all, equity_all] = run(*all);
  const auto [n_none, equity_none] = run(none);
  EXPECT_EQ(n_all, 7u);  // 4 instruments + SYNMKT, SYNBOND, SYNGOLD
  EXPECT_EQ(n_all, n_none);
  EXPECT_EQ(equity_all, equity_none);
  EXPECT_EQ(SpecError("tickers: [ALL]\n" + topn), "OK");
  EXPECT_EQ(SpecError("tickers: all\nstrategy: {type: sma_cross}\n"),
            "config key 'tickers': 'all' is for strategy topn; strategy sma_cross needs the instruments it "
            "trades listed");
}

}  // namespace
}  // namespace alphalab::engine

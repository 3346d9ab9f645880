// Prints engine backtest/data figures (docs/benchmarks/enginebt.md).
//   bench_engine_bt [--demo PATH/sp500-2000.csv] [--workdir DIR] [--instruments 497] [--years 20] [--quick]
// Figures: sma_cross(10,50) compute time on the demo bars, a 100-combination grid on one
// core and on all cores, synthetic universe generation/write, cold (CSV) and warm (cache)
// load of 500 instruments x 20 years, topn over that universe.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/workspace.hpp"
#include "engine/backtest/long_flat.hpp"
#include "engine/backtest/runner.hpp"
#include "engine/data/config.hpp"
#include "engine/data/csv_reader.hpp"
#include "engine/data/dataset.hpp"
#include "engine/data/synth.hpp"

using namespace alphalab;
using namespace alphalab::engine;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

template <typename Fn>
double BestOf(int reps, Fn fn) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, Seconds(t0));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string demo = std::string(ALPHALAB_SOURCE_DIR) + "/ui/node_modules/vega-datasets/data/sp500-2000.csv";
  std::string workdir = "/tmp/alphalab_bench_engine_bt";
  int instruments = 497, years = 20;
  bool quick = false;  // --quick: only the sma_cross figures (sections 1 and 2)
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--demo")) demo = argv[i + 1];
    if (!std::strcmp(argv[i], "--workdir")) workdir = argv[i + 1];
    if (!std::strcmp(argv[i], "--instruments")) instruments = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--years")) years = std::atoi(argv[i + 1]);
  }
  // 1. sma_cross(10, 50) on the demo bars.
  auto bars = LoadBarsCsv(demo, "SPX", demo, false);
  if (!bars.ok()) {
    std::fprintf(stderr, "demo data: %s\n", bars.status().message().c_str());
    return 1;
  }
  std::printf("demo bars: %zu\n", bars->size());
  LongFlatOptions o;
  o.initial_cash = 1'000'000;
  o.fee_rate = 0.001;
  o.record_curves = false;
  double sink = 0;
  const int reps = 2000;
  // The engine path (what BacktestContext::Run does for one ticker): fixed-point prefix of
  // the closes, crossing signals, simulation + metrics.
  auto engine_run = [&] {
    SmaCrossSeries cross(bars->close);
    std::vector<int8_t> sig(bars->size());
    cross.Signals(bars->close, 10, 50, sig.data());
    sink += RunLongFlat(*bars, sig.data(), o).metrics.final_equity;
  };
  const double full = BestOf(reps, engine_run);
  std::printf("sma_cross(10,50) compute (prefix + signals + simulation + metrics): %.2f us\n", full * 1e6);
  {
    std::vector<int8_t> sig(bars->size());
    const double t_build = BestOf(reps, [&] { SmaCrossSeries c(bars->close); sink += static_cast<double>(c.size()); });
    SmaCrossSeries cross(bars->close);
    const double t_sig = BestOf(reps, [&] { cross.Signals(bars->close, 10, 50, sig.data()); });
    const double t_sim = BestOf(reps, [&] { sink += RunLongFlat(*bars, sig.data(), o).metrics.final_equity; });
    std::printf("  breakdown: fixed-point prefix %.2f us, signals %.2f us, simulation+metrics %.2f us"
                " (long-double fallbacks: %zu bars)\n",
                t_build * 1e6, t_sig * 1e6, t_sim * 1e6, cross.fallback_count());
  }
  {
    // The previous path: long-double prefix sums, two moving-average arrays, signals.
    const double legacy = BestOf(reps, [&] {
      auto prefix = PrefixSum(bars->close);
      std::vector<double> fast, slow;
      SimpleMovingAverageFromPrefix(prefix, 10, fast);
      SimpleMovingAverageFromPrefix(prefix, 50, slow);
      std::vector<int8_t> sig(bars->size());
      SmaCrossSignals(fast.data(), slow.data(), bars->size(), sig.data());
      sink += RunLongFlat(*bars, sig.data(), o).metrics.final_equity;
    });
    std::printf("  same via long-double moving-average arrays (old signal path): %.2f us\n", legacy * 1e6);
  }
  o.record_curves = true;
  const double recorded = BestOf(reps, engine_run);
  std::printf("sma_cross(10,50) with equity curve + trade records: %.2f us\n", recorded * 1e6);
  o.record_curves = false;

  // 2. 100-combination grid.
  Universe u;
  u.series.push_back(*bars);
  u.BuildCalendar();
  auto config = ParseYamlConfig(
      "dataset: demo\ntickers: [SPX]\ninitial_cash: 1000000\nfee_bps: 10\n"
      "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n", "bench").value();
  auto spec = ParseBacktestSpec(config).value();
  std::vector<GridAxis> axes = {ParseGridAxis("strategy.params.fast=5:50:5").value(),
                                ParseGridAxis("strategy.params.slow=20:200:20").value()};
  {
    const double t_parse = BestOf(200, [&] { sink += ParseBacktestSpec(config)->fast; });
    std::printf("ParseBacktestSpec (one config): %.2f us\n", t_parse * 1e6);
    auto ctx = BacktestContext::FromUniverse(u, spec).value();
    (void)RunGridOnContext(ctx, config, axes, {}, 1);
    const double warm = BestOf(20, [&] { sink += RunGridOnContext(ctx, config, axes, {}, 1)->size(); });
    std::printf("grid 100 combos, 1 thread, moving averages already cached: %.3f ms\n", warm * 1e3);
  }
  for (int threads : {1, 0}) {
    const double t = BestOf(20, [&] {
      auto ctx = BacktestContext::FromUniverse(u, spec).value();  // fresh caches each time
      auto cells = RunGridOnContext(ctx, config, axes, {}, threads).value();
      sink += cells[0].metrics.final_equity;
    });
    std::printf("grid 100 combos (fast 5..50/5 x slow 20..200/20), %s: %.3f ms\n",
                threads == 1 ? "1 thread" : "all cores", t * 1e3);
  }

  if (quick) {
    std::printf("(checksum %.3f)\n", sink);
    return 0;
  }
  // 3. Synthetic 500 x 20y: generate, write, cold load, warm load, topn.
  std::filesystem::remove_all(workdir);
  std::filesystem::create_directories(workdir + "/data/big");
  auto ws = Workspace::Open(workdir).value();
  SynthOptions so;
  so.instruments = instruments;
  so.years = years;
  auto t0 = Clock::now();
  Universe big = MakeSyntheticUniverse(so);
  std::printf("synth generate %zu instruments x %zu bars: %.3f s\n", big.series.size(), big.calendar.size(),
              Seconds(t0));
  t0 = Clock::now();
  (void)WriteUniverseCsv(big, workdir + "/data/big");
  std::printf("synth write CSV: %.3f s\n", Seconds(t0));
  auto ds = ResolveDataset(ws, "big").value();
  t0 = Clock::now();
  auto cold = LoadUniverse(ws, ds, {}, std::nullopt, std::nullopt);
  std::printf("load %zu instruments cold (parse CSV, write cache): %.3f s\n", cold->series.size(), Seconds(t0));
  const double warm = BestOf(5, [&] { sink += LoadUniverse(ws, ds, {}, std::nullopt, std::nullopt)->series.size(); });
  std::printf("load %zu instruments warm (binary cache): %.3f s\n", cold->series.size(), warm);
  auto topn_config = ParseYamlConfig(
      "dataset: big\ninitial_cash: 1000000\nfee_bps: 10\n"
      "strategy: {type: topn, params: {score: momentum, momentum_window: 63, top_n: 30, retain_top_n: 10,"
      " weighting: score, min_score: 0, market_filter: true, market_ma_window: 200,"
      " rebalance_frequency: Weekly, rebalance_day: Monday, rebalance_time_minutes: 30,"
      " dynamic_exposure: true, drawdown_tiers: '0.08,0.12,0.15', drawdown_exposures: '0.80,0.60,0.40',"
      " max_drawdown: 0.15, max_drawdown_52w: 0.15, risk_off_mode: defensive, risk_off_pick: lowest_vol,"
      " risk_off_symbols: 'SYNBOND,SYNGOLD', max_exposure: 0.4, vol_target: 0.045, max_weight: 0.028}}\n",
      "bench").value();
  auto topn_spec = ParseBacktestSpec(topn_config).value();
  auto ctx = BacktestContext::FromUniverse(*cold, topn_spec).value();
  t0 = Clock::now();
  (void)ctx.Prepare(topn_spec, {});
  std::printf("topn momentum scores for %zu instruments: %.3f s\n", cold->series.size(), Seconds(t0));
  for (const char* freq : {"weekly", "daily"}) {
    topn_spec.topn.rebalance_frequency =
        std::string(freq) == "daily" ? RebalanceFrequency::kDaily : RebalanceFrequency::kWeekly;
    BacktestResult r;
    const double t = BestOf(3, [&] { r = ctx.Run(topn_spec, true).value(); });
    std::printf("topn (seed 004 parameters, %s rebalance) over %zu x %zu: %.3f s  (orders %lld, cagr %.4f, mdd %.4f)\n",
                freq, cold->series.size(), cold->calendar.size(), t,
                static_cast<long long>(r.metrics.orders), r.metrics.cagr, r.metrics.max_drawdown);
    // The same without curves and records (what a grid cell runs).
    const double bare = BestOf(3, [&] { sink += ctx.Run(topn_spec, false)->metrics.final_equity; });
    std::printf("  same without curves / records: %.3f s\n", bare);
  }
  std::printf("(checksum %.3f)\n", sink);
  return 0;
}

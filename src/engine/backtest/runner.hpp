// Runs backtests from a parsed spec: data loaded once into a context, indicators and scores
// cached per (instrument, window) / (model), single runs and grids (many parameter
// combinations on all cores, identical results to single runs), and the output folder.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "core/status.hpp"
#include "core/workspace.hpp"
#include "engine/backtest/long_flat.hpp"
#include "engine/backtest/result.hpp"
#include "engine/backtest/spec.hpp"
#include "engine/data/bars.hpp"
#include "engine/data/config.hpp"
#include "engine/data/dataset.hpp"

namespace alphalab::engine {

// Per-bar scores of one instrument (P(label = 1), NaN where undefined). Must be thread-safe.
using ScoreFn = std::function<Result<std::vector<double>>(const BarSeries&)>;
// Opens a model by its workspace-relative path (cmd_backtest wires engine/model's ModelScorer;
// tests pass hand-made score functions).
using ScorerFactory = std::function<Result<ScoreFn>(const std::string& model_path)>;

// Momentum score: close[t] / close[t - window] - 1 (NaN for t < window).
std::vector<double> MomentumScores(const BarSeries& bars, int window);

class BacktestContext {
 public:
  // Resolves the dataset and loads exactly the instruments the spec needs (tickers; for
  // topn also the market symbol and defensive symbols it uses; all when tickers is empty),
  // with all their history up to `end`: bars before `start` are warm-up only.
  static Result<BacktestContext> Load(const Workspace& ws, const BacktestSpec& spec);
  // Wraps an already loaded universe (tests, benchmarks); bars before spec.start are
  // warm-up history, as with Load.
  static Result<BacktestContext> FromUniverse(Universe universe, const BacktestSpec& spec);
  // The same on a universe shared with other contexts (read only, never modified: each
  // context keeps its own caches), e.g. one loaded universe under many fresh grids.
  static Result<BacktestContext> FromUniverse(std::shared_ptr<const Universe> universe, const BacktestSpec& spec);

  // Computes and caches what `spec` needs (moving averages, scores). Not thread-safe.
  Status Prepare(const BacktestSpec& spec, const ScorerFactory& scorers);
  // Prepare also keeps each sma_cross window's sums, shared by the combinations (off by
  // default; RunSpecs leaves it off: no faster than reading the prefix, and serial).
  void ShareWindows(bool on) { share_windows_ = on; }
  // One backtest from the caches; thread-safe once Prepare ran for this spec.
  Result<BacktestResult> Run(const BacktestSpec& spec, bool record_curves = true) const;
  // Grids: specs[k]'s metrics (out[k] = Run(specs[k], false)->metrics) for specs that
  // RunsMetricsTogether (sma_cross on one instrument): the simulations of kLanes specs at
  // once, one per SIMD lane (RunLongFlatMetrics). Thread-safe once Prepare ran for them.
  bool RunsMetricsTogether(const BacktestSpec& spec) const;
  Status RunMetrics(const BacktestSpec* specs, size_t count, PerformanceMetrics* out) const;

  // Calendar days before spec.start: history the indicators, features and the market
  // filter see before the first traded day (0 without a start date).
  size_t WarmupBars(const BacktestSpec& spec) const;

  const Universe& universe() const { return *universe_; }
  const DatasetRef& dataset() const { return dataset_; }
  // The instruments traded by sma_cross / signal (in ticker order).
  const std::vector<size_t>& traded() const { return traded_; }

 private:
  static std::string ScoreKey(const BacktestSpec& spec);
  Result<BacktestResult> Simulate(const BacktestSpec& spec, bool record_curves) const;
  Status SelectTraded(const BacktestSpec& spec);

  std::shared_ptr<const Universe> universe_;  // immutable: shared by the contexts made from it
  DatasetRef dataset_;
  std::vector<size_t> traded_;
  // Per instrument (built for the traded ones): sma_cross decisions for any window pair.
  std::vector<std::shared_ptr<SmaCrossSeries>> cross_;
  bool share_windows_ = false;
  std::map<std::string, std::vector<std::vector<double>>> scores_;  // score key -> per instrument
  // Scores files: the workspace root they resolve against (empty: as given) and the
  // dataset's instruments (a file may score instruments this backtest did not load).
  std::filesystem::path root_;
  std::vector<std::string> dataset_symbols_;
};

// Holdings snapshots from the fills: after the fills of every day that has any, and on the
// last day; each instrument held (alphabetical) at its last close on/before that day, and a
// kCashSymbol row with the cash. Weights are of the close-marked equity.
std::vector<PositionRow> PositionsFromFills(const Universe& universe, const BacktestResult& result);

// One grid dimension: `strategy.params.fast=5:50:5` (inclusive range), `key=1,2,3`, or
// `key=[a, b]`.
struct GridAxis {
  std::vector<std::string> path;
  std::string key;
  std::vector<YAML::Node> values;
};
Result<GridAxis> ParseGridAxis(std::string_view text);

// One grid cell's parameters: the JSON object {"strategy.params.fast": 5, ...} of each
// axis's key and the cell's value on that axis (keys sorted as nlohmann's objects keep them;
// a key repeated by two axes has its last axis's value). The cells of a grid share one
// table of the keys, the values shown and their JSON texts, and each holds only its place
// in the grid: a JSON object per cell was five allocations on the worker that ran the cell,
// freed by the caller after the grid (on two threads, half of them into the other thread's
// malloc arena, from the other core's cache). Also holds any JSON object given to it
// (hand-made cells).
class GridParams {
 public:
  struct Table;  // runner.cpp
  GridParams() = default;
  GridParams(std::shared_ptr<const Table> table, size_t index) : table_(std::move(table)), index_(index) {}
  GridParams& operator=(nlohmann::json object) {  // `cell.params = {{"fee_bps", 10}}`
    table_.reset();
    object_ = std::move(object);
    return *this;
  }

  nlohmann::json ToJson() const;
  // ToJson().dump(), without building the object for a grid's cells.
  std::string dump() const;
  void AppendDump(std::string& out) const;
  // The value of `key` (null when it is not there).
  const nlohmann::json& operator[](std::string_view key) const;

  friend bool operator==(const GridParams& a, const GridParams& b) { return a.ToJson() == b.ToJson(); }
  friend std::ostream& operator<<(std::ostream& out, const GridParams& p) { return out << p.dump(); }
  friend void to_json(nlohmann::json& j, const GridParams& p) { j = p.ToJson(); }

 private:
  std::shared_ptr<const Table> table_;  // null: object_ holds the parameters
  size_t index_ = 0;                    // the cell's combination number in the grid
  nlohmann::json object_;
};

struct GridCell {
  GridParams params;  // {"strategy.params.fast": 5, ...}
  PerformanceMetrics metrics;
};

// Runs on an existing context (grids, the optimization fast path).
struct RunOptions {
  int threads = 0;             // <= 0: all cores
  bool record_curves = false;  // true: full results (curves, fills, positions) for the outputs
};
// Called once per run, from the worker threads (concurrently, in no particular order):
// `index` is the run's position in the list, `result` the run's result or why it failed
// (its Prepare or its simulation).
using RunCallback = std::function<void(size_t index, Result<BacktestResult>&& result)>;

// The one execution path of every grid: prepares each spec on `context` (in list order;
// one fixed-point prefix per instrument serves every sma_cross pair), then runs them on
// `threads` workers (sma_cross on one instrument without curves: kLanes specs per task,
// BacktestContext::RunMetrics); each result goes to
// `on_result` as it is ready, so nothing has to hold all of them. Every spec must select the
// data the context was loaded for (SameData with the first; InvalidArgument before any
// work otherwise). A run that fails is reported through `on_result`, not returned.
Status RunSpecs(BacktestContext& context, const std::vector<BacktestSpec>& specs,
                const ScorerFactory& scorers, const RunOptions& options, const RunCallback& on_result);

// True when the two specs load exactly the same context (SameData and the same instruments
// to load: a topn market symbol or defensive symbols only count when they are used).
bool SameContext(const BacktestSpec& a, const BacktestSpec& b);

// One explicit combination: overrides applied in order on top of a base config.
using Combination = std::vector<ConfigOverride>;

// Grid mode over an explicit list of combinations (a Cartesian grid, random samples, a
// retry of some of them...). Every combination is parsed and checked before any work (the
// first problem is the error, naming the value or the combination); combinations may not
// change the data (dataset, tickers, dates, strategy type, model). Each distinct override is
// validated once with a full parse (sma_cross windows with the parser's own rule alone,
// SmaCrossWindowOverride); when every override is a numeric strategy parameter and
// no curves are recorded, the values are set straight on the parsed base (no re-parse per
// combination). `on_result` gets the spec each combination resolved to.
using CombinationCallback =
    std::function<void(size_t index, const BacktestSpec& spec, Result<BacktestResult>&& result)>;
Status RunCombinations(BacktestContext& context, const YAML::Node& base_config,
                       const std::vector<Combination>& combinations, const ScorerFactory& scorers,
                       const RunOptions& options, const CombinationCallback& on_result);

// Evaluates every combination (cartesian product, first axis outermost) of `axes` applied
// to `base_config`: a wrapper that enumerates the axes into RunCombinations. threads <= 0:
// all cores. The first failing combination (in grid order) is the error.
Result<std::vector<GridCell>> RunGrid(const Workspace& ws, const YAML::Node& base_config,
                                      const std::vector<GridAxis>& axes,
                                      const ScorerFactory& scorers, int threads = 0);
// Same on an existing context (benchmarks, tests).
Result<std::vector<GridCell>> RunGridOnContext(BacktestContext& context, const YAML::Node& base_config,
                                               const std::vector<GridAxis>& axes,
                                               const ScorerFactory& scorers, int threads = 0);
// Same with the base config already parsed (`base.config` is the base config): RunGrid
// parses it once for the data and the grid.
Result<std::vector<GridCell>> RunGridOnContext(BacktestContext& context, const BacktestSpec& base,
                                               const std::vector<GridAxis>& axes,
                                               const ScorerFactory& scorers, int threads = 0);

nlohmann::json MetricsToJson(const PerformanceMetrics& m);
// Appends exactly nlohmann::json{{"params", cell.params}, {"metrics", MetricsToJson(cell.metrics)}}.dump()
// (keys in the same order, the same number text: nlohmann's own double formatting), without
// building the JSON objects (`alphalab backtest --grid` writes one such line per combination:
// building and dumping them cost 40% of a 100-combination grid's instructions).
void AppendGridCellJson(std::string& out, const GridCell& cell);

// Writes summary.json, equity.csv, trades.csv, fills.csv, positions.csv, config.yaml and,
// for model-driven strategies (signal, topn), scores.csv into `out_dir` (created).
// `summary_extra` is merged into summary.json (bt_run_id, created_at, config_path, ...).
// `summary_out` (optional) receives summary.json's content, `summary_text` (optional) its
// exact text. The folder is opened once (O_NOFOLLOW: a symlink at `out_dir` is refused) and
// every file is created relative to it (openat, O_NOFOLLOW), without a path walk per file.
Status WriteBacktestOutputs(const std::filesystem::path& out_dir, const BacktestSpec& spec,
                            const BacktestContext& context, const BacktestResult& result,
                            const nlohmann::json& summary_extra, nlohmann::json* summary_out = nullptr,
                            std::string* summary_text = nullptr);
// The same into the folder `name` (a plain name, created) of the open folder `parent_fd` (the
// workspace's backtests/, opened confined once per batch: engine/backtest/job_config.hpp);
// `shown_dir` names the folder in error messages.
Status WriteBacktestOutputsAt(int parent_fd, const std::string& name, const std::filesystem::path& shown_dir,
                              const BacktestSpec& spec, const BacktestContext& context, const BacktestResult& result,
                              const nlohmann::json& summary_extra, nlohmann::json* summary_out = nullptr,
                              std::string* summary_text = nullptr);
nlohmann::json BuildSummary(const BacktestSpec& spec, const BacktestContext& context,
                            const BacktestResult& result);

}  // namespace alphalab::engine

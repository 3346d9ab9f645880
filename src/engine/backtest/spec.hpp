// A backtest config (configs/backtest/*.yaml after --set overrides) parsed and checked:
// every unknown key, wrong type or impossible value is a one-line InvalidArgument before
// any data is read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/status.hpp"
#include "engine/backtest/topn.hpp"

namespace alphalab::engine {

enum class StrategyType { kSmaCross, kSignal, kTopN };
std::string_view StrategyTypeName(StrategyType type);

// Where per-bar scores for `signal` / `topn` come from: a trained model (model_path), the
// momentum rule (score: momentum), or a CSV file of date,symbol,score (scores_path).
enum class ScoreSource { kModel, kMomentum, kFile };

struct BacktestSpec {
  std::string dataset = "demo";
  std::vector<std::string> tickers;      // empty: every instrument (topn only)
  std::optional<int32_t> start, end;
  double initial_cash = 1'000'000;
  double fee_bps = 10;
  StrategyType type = StrategyType::kSmaCross;
  int fast = 10, slow = 50;              // sma_cross
  double cutoff = 0.5;                   // signal: long while score >= cutoff
  ScoreSource score_source = ScoreSource::kModel;
  int momentum_window = 63;              // score_source momentum: close[t] / close[t-w] - 1
  std::string model_path;                // as written in the config (workspace-relative)
  std::string scores_path;               // score source kFile (workspace-relative)
  double delisting_haircut = 0;          // fraction off the last close when an instrument delists
  TopNParams topn;                       // topn (its initial_cash / fee_bps mirror the above)
  YAML::Node config;                     // the resolved config (after overrides)
};

Result<BacktestSpec> ParseBacktestSpec(const YAML::Node& config);
// The same with spec.config sharing `config`'s nodes instead of a copy of them (cloning a
// small config is ~45% of the parse's instructions and most of its allocations): for a
// spec that does not outlive `config`, or a `config` that is a private copy already (a
// grid's base and checks), whose nodes nobody changes while the spec is used.
Result<BacktestSpec> ParseBacktestSpecSharing(const YAML::Node& config);

// A grid's value for `key` = strategy.params.fast or .slow of an sma_cross `base`: the window
// ParseBacktestSpec would give (or its error) for the base config with that one value set,
// checked by the same function without re-parsing the rest (nothing else depends on these
// two keys). nullopt for any other key or strategy (IsSmaCrossWindowKey false): those need
// the full parse.
bool IsSmaCrossWindowKey(const BacktestSpec& base, std::string_view key);
std::optional<Result<int>> SmaCrossWindowOverride(const BacktestSpec& base, std::string_view key,
                                                  const YAML::Node& value);

// The keys that select data and scores; grid axes must not change them.
bool SameData(const BacktestSpec& a, const BacktestSpec& b);

}  // namespace alphalab::engine

// The training config (docs/engine_training.md), validated completely before any work starts.
//
//   dataset: demo                        # a dataset name (alphalab.yaml datasets: or data/<name>/)
//   tickers: [SPX]                       # or "all" / [all]: every instrument of the dataset
//   label: {horizon_days: 20, threshold: 0.05}
//   split: {train_end: 2014-12-31, valid_end: 2016-12-31, gap_days: 20}
//   model: {type: xgboost, params: {max_depth: 4, eta: 0.1, num_round: 200}}
//   mode: base                           # base | finetune
//   project: default                     # registry grouping
//   scope: per_ticker                    # per_ticker (one model per ticker) | pooled (one model)
//   finetune: {base_run: run_..., start: 2015-01-01}   # mode: finetune only
//   decision_threshold: 0.5              # proba >= this -> predicted positive
//   feature_set: default                 # the only built-in set
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/status.hpp"
#include "engine/features/feature_set.hpp"
#include "engine/features/labels.hpp"
#include "engine/model/params.hpp"

namespace alphalab::engine {

enum class TrainScope { kPerTicker, kPooled };
std::string_view TrainScopeName(TrainScope s);

struct TrainConfig {
  std::string dataset;
  std::vector<std::string> tickers;  // empty = every instrument of the dataset
  int horizon_days = 20;
  double threshold = 0.0;
  SplitRule split;
  XgbParams params;
  std::string mode = "base";
  std::string project = "default";
  TrainScope scope = TrainScope::kPerTicker;
  std::string finetune_base_run;                // mode finetune
  std::optional<int32_t> finetune_start;        // mode finetune: first training date
  double decision_threshold = 0.5;
  FeatureSet feature_set;
};

// Parses and checks a resolved config (file + overrides). Every error is one line naming
// the key: unknown key, wrong type, bad date, train_end >= valid_end, bad mode/scope, ...
Result<TrainConfig> ParseTrainConfig(const YAML::Node& root);

}  // namespace alphalab::engine

// `alphalab train`: config -> validated inputs -> XGBoost model(s) -> runs/<run_id>/.
//
// Flow: load YAML + overrides -> ParseTrainConfig -> resolve dataset, load tickers -> build
// labeled rows and check every split is non-empty (all before any training) -> train one
// model per ticker (scope per_ticker) or one over all tickers (pooled); mode finetune loads
// the base run's model and keeps boosting on train rows dated >= finetune.start -> reload
// each saved JSON model and predict the valid and test splits with it (so eval-metrics,
// which reloads the same file, reproduces the numbers exactly) -> write everything into
// runs/.<run_id>.tmp and rename it to runs/<run_id> (a finished run appears at once and
// is never rewritten).
#pragma once

#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"
#include "engine/data/bars.hpp"
#include "engine/features/dataset_rows.hpp"
#include "engine/model/train_config.hpp"
#include "engine/model/xgb.hpp"

namespace alphalab::engine {

struct TrainRequest {
  std::string config_path;              // user-supplied: workspace-relative or absolute
  std::vector<std::string> overrides;   // "a.b=c"
};

// Wall-clock profile of one run (steady clock), for progress lines and the benchmark.
struct TrainProfile {
  double total_s = 0;     // whole RunTraining
  double load_s = 0;      // config + dataset loading
  double features_s = 0;  // features, labels, splits
  double xgboost_s = 0;   // inside XGBoost: matrices, boosting, save/load, prediction
  // The same split in process CPU time (all threads), which a busy machine distorts less.
  double total_cpu_s = 0;
  double xgboost_cpu_s = 0;
  size_t train_rows = 0;  // rows of every model's training matrix
};

struct TrainOutcome {
  std::string run_id;
  std::filesystem::path run_dir;        // absolute
  Json metrics;                         // the metrics.json written
  TrainProfile profile;
};

// What RunTraining checks before it reads any data (the config file inside the workspace, its
// overrides, every key and value, the dataset and its instruments, a finetune's base run), and
// nothing else: the jobs service calls it at submit, so a request that cannot run is a 400
// instead of a job that fails (src/app/engine_job_check.hpp).
Status CheckTrainRequest(const Workspace& ws, const TrainRequest& request);

// `progress` receives readable one-line progress messages.
Result<TrainOutcome> RunTraining(const Workspace& ws, const TrainRequest& request, const Clock& clock,
                                 std::ostream& progress);

// ---- pieces shared with eval-metrics and the benchmark ---------------------------------

// Rows of one split gathered from several labeled series into a dense matrix.
struct SplitRows {
  std::vector<float> values;  // row-major
  std::vector<float> labels;
  size_t rows = 0;
  size_t cols = 0;
};
// `min_date` (inclusive) restricts rows by date (finetune window); nullopt = no limit.
SplitRows GatherRows(const std::vector<const LabeledSeries*>& series, Split split,
                     std::optional<int32_t> min_date = std::nullopt);

struct TrainedModel {
  std::string json;          // the XGBoost JSON model as saved
  int rounds = 0;            // boosted rounds in the saved model (base rounds included)
  int best_iteration = -1;   // 0-based round kept by early stopping (-1: no early stopping)
  double valid_logloss = 0;  // of the saved model on the valid rows (NaN without valid rows)
  // XGBoost's eval log: the logloss on the train and valid rows after each boosted round
  // (round first_round + i is entry i; first_round > 0 when continuing a base model); every
  // round that was boosted, also the ones early stopping later dropped. Empty without valid rows.
  int first_round = 0;
  std::vector<double> train_logloss;
  std::vector<double> valid_logloss_per_round;
};
// Trains (or, with `base_model_json`, continues) a binary:logistic booster.
Result<TrainedModel> TrainBooster(const XgbParams& params, const SplitRows& train, const SplitRows& valid,
                                  const std::string& base_model_json, const std::string& name,
                                  std::ostream& progress);

// Test-split predictions of one ticker.
struct TickerPredictions {
  std::vector<size_t> bars;        // bar indices (valid and test rows, time order)
  std::vector<Split> splits;
  std::vector<int8_t> labels;
  std::vector<float> proba;
};
// `xgboost_seconds`, when given, accumulates the time spent inside XGBoost.
Result<TickerPredictions> PredictSeries(const Booster& booster, const LabeledSeries& series,
                                        double* xgboost_seconds = nullptr);

// Classification metrics of the test rows at `decision_threshold` (the fields of docs/engine_training.md).
Json TestMetricsJson(const TickerPredictions& p, double decision_threshold);

// sha256 over the bars of every series (per-series sha256 of symbol and raw columns,
// then sha256 of the concatenated hex digests).
std::string DataFingerprint(const Universe& universe);

}  // namespace alphalab::engine

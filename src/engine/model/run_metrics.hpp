// metrics.json (and metrics_eval_<mode>.json): THE contract the registry reads.
//
// {
//   "run_id", "project", "mode", "status": "success", "start_time", "end_time" (ISO 8601 UTC),
//   "label_horizon_days", "label_threshold", "dataset", "config_path", "resolved_config_path",
//   "scope", "decision_threshold", "feature_set": {name, version, features},
//   "per_ticker": {"<TICKER>": {precision, recall, f1, accuracy, buy_rate, positive_rate, lift,
//                  tp, fp, tn, fn, support, valid_logloss, label_horizon_days, label_threshold,
//                  model_path}},
//   "split": {rule, gap_bars, train_end, valid_end, [finetune_start],
//             train|valid|test: {rows, start, end}, per_ticker: {T: {train_rows, valid_rows, test_rows}}},
//   "training": {<model file>: {rounds, best_iteration}}        (metrics.json only)
//   "evaluated_at", "model_override", "data_fingerprint_match"   (metrics_eval_<mode>.json only)
// }
// Metrics are on the test split at decision_threshold; zero denominators give 0 (never NaN).
#pragma once

#include <string>
#include <vector>

#include "core/json.hpp"
#include "engine/features/dataset_rows.hpp"
#include "engine/model/run_files.hpp"
#include "engine/model/train_config.hpp"

namespace alphalab::engine {

// Confusion-matrix metrics (engine/metrics/classification.hpp) as JSON.
Json ClassificationMetricsJson(const std::vector<int>& labels, const std::vector<int>& predictions);

// One per_ticker entry: the metrics plus label_horizon_days, label_threshold, model_path.
Json TickerMetricsEntry(Json metrics, const TrainConfig& c, const std::string& model_path);

// Row counts and date ranges of the three splits.
Json SplitSummaryJson(const std::vector<LabeledSeries>& labeled, const TrainConfig& c);

// The whole file (without "training").
Json RunMetricsJson(const RunManifest& m, const TrainConfig& c, Json split, Json per_ticker);

}  // namespace alphalab::engine

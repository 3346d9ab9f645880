// What a backtest takes from the training run of its model (docs/engine.md, "Backtests of a
// trained model"): the run folder of a model file (runs/<run_id>/model*.json) names the dataset,
// the tickers that model serves, the feature set (manifest.json) and the train / valid split
// (metrics.json `split`). A backtest given a model by the request (`--model`, the jobs API's
// `model_path`) defaults to that dataset, those tickers and the model's test period, unless the
// request itself says otherwise; its summary records how many traded bars the model had seen.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"
#include "engine/features/feature_set.hpp"

namespace alphalab::engine {

struct ModelRunInfo {
  std::string run_id;
  std::string model_path;            // workspace-relative, as the manifest lists it
  std::string dataset;
  std::vector<std::string> tickers;  // the tickers whose model is this file (manifest `models`)
  FeatureSet feature_set;
  std::optional<int32_t> train_end, valid_end;  // metrics.json split (absent: no split recorded)
  int gap_bars = 0;
  // First day of the test period: the day after valid_end (the gap bars are already dropped
  // before the boundary, so the first bar after valid_end is the first test bar).
  std::optional<int32_t> TestStart() const;
};

// Reads the run folder of `model_path` (the file's parent): manifest.json must list the file.
// NotFound for a missing file or a folder without manifest.json; FailedPrecondition when the
// manifest does not list the model.
Result<ModelRunInfo> ReadModelRunInfo(const Workspace& ws, const std::string& model_path);

// What the backtest request itself set (flags and --set overrides); defaults never replace these.
struct BacktestRequestKeys {
  std::string model;                   // --model / model_path; empty: no defaults are applied
  bool tickers = false;                // --ticker / --tickers given
  bool start = false, end = false;     // --start / --end given
  std::vector<std::string> overrides;  // --set k=v (a key dataset, ticker(s), start or end counts)
};

// With a model from the request, sets in `config` (the config file after flags and overrides):
// `dataset` to the model's dataset, `tickers` to the tickers the model serves, `start` to the
// model's test start and removes `end` (the test period runs to the data's last bar) — each
// only when the request did not set it. Without a model: no change.
Status ApplyModelDefaults(const Workspace& ws, const BacktestRequestKeys& request, YAML::Node& config);

// The summary.json fields about the model's periods: model_train_end, model_valid_end,
// model_test_start (YYYY-MM-DD or null) and in_sample_overlap_days = traded bars dated on or
// before model_valid_end (bars the model was trained or validated on; null without a split).
// Every field is null without a model or when its run cannot be read.
Json ModelPeriodSummary(const Workspace& ws, const std::string& model_path, std::span<const int32_t> traded_dates);
// The same from an already read run (tests).
Json ModelPeriodSummary(const ModelRunInfo& info, std::span<const int32_t> traded_dates);

}  // namespace alphalab::engine

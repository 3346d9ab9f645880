// The files of a training run folder runs/<run_id>/ and their JSON shapes.
//
//   config.yaml        resolved config (file + --set overrides)
//   manifest.json      RunManifest below
//   metrics.json       MetricsFile: the contract the registry reads
//   model.json | model_<TICKER>.json   XGBoost JSON model(s) (pooled | per_ticker)
//   predictions.csv    date,ticker,split,label,proba,pred for the valid and test splits
//   training_log.json  per model file: the eval log (train/valid logloss per round) and the
//                      feature importance (gain, weight) of the saved model
//   metrics_eval_<mode>.json  written later by `alphalab eval-metrics` (never metrics.json)
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "engine/features/feature_set.hpp"

namespace alphalab::engine {

inline constexpr const char* kAlphalabVersion = "0.1.0";

struct RunManifest {
  std::string run_id;
  std::string created_at;  // ISO 8601 UTC
  std::string start_time;
  std::string end_time;
  std::string status;      // "success" (only finished runs get a folder)
  std::string project;
  std::string mode;        // base | finetune
  std::string scope;       // per_ticker | pooled
  std::string dataset;
  std::vector<std::string> tickers;
  FeatureSet feature_set;
  std::map<std::string, std::string> models;  // ticker -> workspace-relative model path
  std::vector<std::string> files;             // names inside the run folder
  std::string data_fingerprint;               // sha256 over the input bars (DataFingerprint)
  std::string alphalab_version;
  std::string config_path;                    // the config file given to `train` (workspace-relative)
  std::string resolved_config_path;           // runs/<id>/config.yaml
  std::string base_run;                       // finetune only

  Json ToJson() const;
  static Result<RunManifest> FromJson(const Json& j);
};

// Reads and validates <run_dir>/manifest.json.
Result<RunManifest> ReadRunManifest(const std::filesystem::path& run_dir);

// Model file name for a ticker ("model_<TICKER>.json"; characters outside [A-Za-z0-9._-]
// become '_') or the pooled model ("model.json").
std::string PerTickerModelFileName(const std::string& ticker);
inline constexpr const char* kPooledModelFileName = "model.json";
inline constexpr const char* kTrainingLogFileName = "training_log.json";

}  // namespace alphalab::engine

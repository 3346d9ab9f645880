// ModelScorer: turns a trained model (runs/<run_id>/model*.json) into P(label = 1) per bar.
// Used by the backtest strategies `signal` and `topn`. It reads the run's manifest.json to
// learn which feature set the model was trained on and refuses a model whose feature set
// (name, version, ordered feature names) differs from the one this build computes.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "core/workspace.hpp"
#include "engine/data/bars.hpp"
#include "engine/features/feature_set.hpp"

namespace alphalab::engine {

class Booster;  // engine/model/xgb.hpp; the scorer hides XGBoost from its callers

class ModelScorer {
 public:
  // `model_path` is user-supplied (relative to the workspace root or absolute) and must stay
  // inside the workspace. The run folder is the model file's parent; its manifest.json must
  // list the model and name a feature set equal to `expected` (default: DefaultFeatureSet()).
  static Result<ModelScorer> Load(const Workspace& workspace, const std::filesystem::path& model_path);
  static Result<ModelScorer> Load(const Workspace& workspace, const std::filesystem::path& model_path,
                                  const FeatureSet& expected);

  // P(label = 1) for every bar of `series` (same length as the series); NaN where a feature
  // is undefined (warm-up). Bar t's score uses only bars <= t. Thread-safe.
  Result<std::vector<double>> Score(const BarSeries& series) const;

  const FeatureSet& feature_set() const { return feature_set_; }
  const std::string& run_id() const { return run_id_; }
  const std::filesystem::path& model_path() const { return model_path_; }

 private:
  ModelScorer(std::shared_ptr<const Booster> booster, FeatureSet feature_set, std::string run_id,
              std::filesystem::path model_path);

  std::shared_ptr<const Booster> booster_;
  FeatureSet feature_set_;
  std::string run_id_;
  std::filesystem::path model_path_;
};

}  // namespace alphalab::engine

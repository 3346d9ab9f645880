#include "engine/model/scorer.hpp"

#include <cmath>
#include <limits>

#include "engine/features/dataset_rows.hpp"
#include "engine/model/run_files.hpp"
#include "engine/model/xgb.hpp"

namespace alphalab::engine {

ModelScorer::ModelScorer(std::shared_ptr<const Booster> booster, FeatureSet feature_set, std::string run_id,
                         std::filesystem::path model_path)
    : booster_(std::move(booster)),
      feature_set_(std::move(feature_set)),
      run_id_(std::move(run_id)),
      model_path_(std::move(model_path)) {}

Result<ModelScorer> ModelScorer::Load(const Workspace& workspace, const std::filesystem::path& model_path) {
  return Load(workspace, model_path, DefaultFeatureSet());
}

Result<ModelScorer> ModelScorer::Load(const Workspace& workspace, const std::filesystem::path& model_path,
                                      const FeatureSet& expected) {
  ASSIGN_OR_RETURN(const auto resolved, workspace.Resolve(model_path.string(), PathMust::kExist));
  const std::string relative = workspace.Relative(resolved);
  auto manifest = ReadRunManifest(resolved.parent_path());
  if (!manifest.ok()) {
    return Status::FailedPrecondition("model " + relative + ": " + manifest.status().message() +
                                      "; a model must stay in the run folder that trained it");
  }
  bool listed = false;
  for (const auto& [ticker, path] : manifest->models) listed = listed || path == relative;
  if (!listed) {
    return Status::FailedPrecondition("model " + relative + " is not listed in the manifest of run " +
                                      manifest->run_id);
  }
  if (!(manifest->feature_set == expected)) {
    return Status::FailedPrecondition("model " + relative + " was trained on feature set '" +
                                      manifest->feature_set.Label() + "' (" +
                                      std::to_string(manifest->feature_set.features.size()) +
                                      " features) but this scorer computes '" + expected.Label() + "' (" +
                                      std::to_string(expected.features.size()) + " features); retrain the model");
  }
  ASSIGN_OR_RETURN(Booster booster, Booster::LoadFile(resolved.string()));
  ASSIGN_OR_RETURN(const size_t n_features, booster.NumFeatures());
  if (n_features != expected.features.size()) {
    return Status::FailedPrecondition("model " + relative + " expects " + std::to_string(n_features) +
                                      " features but its manifest lists " +
                                      std::to_string(expected.features.size()));
  }
  // One prediction now, so XGBoost finishes its lazy configuration before the booster is
  // shared between threads (Score is called concurrently by backtests).
  const std::vector<float> probe(n_features, std::numeric_limits<float>::quiet_NaN());
  ASSIGN_OR_RETURN(const auto warmup, booster.PredictDense(probe, 1, n_features));
  (void)warmup;
  return ModelScorer(std::make_shared<const Booster>(std::move(booster)), expected, manifest->run_id, resolved);
}

Result<std::vector<double>> ModelScorer::Score(const BarSeries& series) const {
  ASSIGN_OR_RETURN(const FeatureMatrix features, ComputeFeatures(feature_set_, ViewOf(series)));
  const size_t cols = features.cols();
  std::vector<size_t> rows;
  std::vector<float> dense;
  rows.reserve(features.rows());
  dense.reserve(features.rows() * cols);
  for (size_t t = 0; t < features.rows(); ++t) {
    if (!features.RowComplete(t)) continue;
    rows.push_back(t);
    dense.insert(dense.end(), features.row(t), features.row(t) + cols);
  }
  std::vector<double> scores(series.size(), std::numeric_limits<double>::quiet_NaN());
  if (rows.empty()) return scores;
  ASSIGN_OR_RETURN(const std::vector<float> proba, booster_->PredictDense(dense, rows.size(), cols));
  for (size_t i = 0; i < rows.size(); ++i) scores[rows[i]] = proba[i];
  return scores;
}

}  // namespace alphalab::engine

// The one place alphalab talks to XGBoost: a small RAII wrapper over the C API
// (xgboost/c_api.h). Every call is checked; a failure becomes a Status carrying
// XGBGetLastError(). Handles are owned and freed exactly once; objects are move-only.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.hpp"

namespace alphalab::engine {

// A training/validation matrix: dense row-major floats, NaN = missing, plus labels.
class DMatrix {
 public:
  static Result<DMatrix> FromDense(std::span<const float> values, size_t rows, size_t cols, int nthread = 0);
  DMatrix(DMatrix&& other) noexcept;
  DMatrix& operator=(DMatrix&& other) noexcept;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix();

  Status SetLabels(std::span<const float> labels);
  size_t rows() const { return rows_; }
  void* handle() const { return handle_; }

 private:
  DMatrix(void* handle, size_t rows) : handle_(handle), rows_(rows) {}
  void* handle_ = nullptr;
  size_t rows_ = 0;
};

class Booster {
 public:
  // A new booster whose prediction cache covers `cache` (training and evaluation matrices).
  static Result<Booster> Create(std::span<const DMatrix* const> cache);
  // Loads a model saved by SaveJson / a JSON model file written by XGBoost.
  static Result<Booster> FromJson(std::string_view model_json);
  static Result<Booster> LoadFile(const std::string& path);

  Booster(Booster&& other) noexcept;
  Booster& operator=(Booster&& other) noexcept;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster();

  // Replaces the model with a saved JSON model (keeps the prediction cache; used to
  // continue boosting from a base run).
  Status LoadJson(std::string_view model_json);
  Status SetParam(std::string_view name, std::string_view value);
  // One boosting round on `train`; `iteration` is the 0-based round number.
  Status UpdateOneIter(int iteration, const DMatrix& train);
  // XGBoost's evaluation string for one round, e.g. "[3]\tvalid-logloss:0.5123".
  Result<std::string> EvalOneIter(int iteration, std::span<const DMatrix* const> sets,
                                  std::span<const std::string> names);
  Result<int> BoostedRounds() const;
  Result<size_t> NumFeatures() const;
  // Rounds [begin, end) as a new booster (used to keep the best round after early stopping).
  Result<Booster> Slice(int begin, int end) const;
  Result<std::string> SaveJson() const;
  // Per-feature importance of a tree model (XGBoosterFeatureScore): `importance_type` is
  // weight | gain | cover | total_gain | total_cover; `feature_names` names the columns in
  // matrix order. Features the trees never split on are absent from the answer.
  Result<std::vector<std::pair<std::string, double>>> FeatureScore(std::string_view importance_type,
                                                                   std::span<const std::string> feature_names) const;
  // Output of the model's objective (P(label = 1) for binary:logistic) for each row of a
  // dense row-major matrix (NaN = missing). Safe to call concurrently on one booster.
  Result<std::vector<float>> PredictDense(std::span<const float> values, size_t rows, size_t cols) const;

 private:
  explicit Booster(void* handle) : handle_(handle) {}
  void* handle_ = nullptr;
};

// Value of a named metric in an EvalOneIter string ("[3]\tvalid-logloss:0.51" -> 0.51).
Result<double> ParseEvalMetric(std::string_view eval, std::string_view name);

}  // namespace alphalab::engine

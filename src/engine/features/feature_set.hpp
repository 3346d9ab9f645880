// Features: the per-bar inputs of the model, computed strictly from bars <= t.
//
// A FeatureSet is identified by name + version + the ordered feature names. The identity is
// recorded in every run manifest; a scorer refuses a model trained on another feature set.
// Bump the version whenever a definition changes, even if the names stay the same.
//
// Default feature set "default" v1 (t = current bar, c = close, o = open, h = high,
// l = low, v = volume; windows count bars, and include bar t):
//   ret_K          K in {1,5,10,20,60}: c[t] / c[t-K] - 1
//   sma_ratio_K    K in {5,10,20,50,200}: c[t] / mean(c[t-K+1..t]) - 1
//   vol_K          K in {10,20,60}: sample std-dev of the last K daily log returns ln(c[i]/c[i-1])
//   rsi_14         Wilder's RSI over 14 changes (first average = simple mean of the first 14
//                  changes, then avg = (avg*13 + x)/14); 100 when the average loss is 0
//   volume_z_20    (v[t] - mean(v[t-19..t])) / sample std-dev(v[t-19..t]); 0 when std-dev is 0
//   hl_range       (h[t] - l[t]) / c[t]
//   gap            o[t] / c[t-1] - 1
//   close_open     c[t] / o[t] - 1
//   dist_high_252  c[t] / max(h[t-251..t]) - 1  (distance from the 52-week high, <= 0)
//   dist_low_252   c[t] / min(l[t-251..t]) - 1  (distance from the 52-week low, >= 0)
// A value is NaN while its window is not full (warm-up) or when an input is not finite. A row
// is usable for training/scoring only when every feature is finite (FeatureMatrix::RowComplete);
// with the default set that is from bar 252 on (index 251 for dist_high_252).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab::engine {

struct FeatureSet {
  std::string name;
  int version = 0;
  std::vector<std::string> features;  // column order of the feature matrix

  Json ToJson() const;  // {"name", "version", "features": [...]}
  static Result<FeatureSet> FromJson(const Json& j);
  std::string Label() const { return name + " v" + std::to_string(version); }
  friend bool operator==(const FeatureSet&, const FeatureSet&) = default;
};

// The feature set this build computes by default.
const FeatureSet& DefaultFeatureSet();

// Column views over one instrument's daily bars (all the same length, time-ordered).
struct OhlcvView {
  std::span<const double> open, high, low, close, volume;
  size_t size() const { return close.size(); }
};

// Row-major float matrix (XGBoost's dense layout): rows = bars, cols = features, NaN = missing.
class FeatureMatrix {
 public:
  FeatureMatrix() = default;
  FeatureMatrix(size_t rows, size_t cols);

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  float& at(size_t r, size_t c) { return values_[r * cols_ + c]; }
  float at(size_t r, size_t c) const { return values_[r * cols_ + c]; }
  const float* row(size_t r) const { return values_.data() + r * cols_; }
  const std::vector<float>& values() const { return values_; }
  // True when every feature of row r is finite.
  bool RowComplete(size_t r) const;

 private:
  size_t rows_ = 0;
  size_t cols_ = 0;
  std::vector<float> values_;
};

// Computes `set` over `bars`. Errors: unknown feature name, columns of different lengths.
Result<FeatureMatrix> ComputeFeatures(const FeatureSet& set, const OhlcvView& bars);

// Bars before the first complete row on clean data (251 for the default set).
size_t WarmupBars(const FeatureSet& set);

// Names this build knows how to compute (for error messages and docs).
std::vector<std::string> KnownFeatureNames();

}  // namespace alphalab::engine

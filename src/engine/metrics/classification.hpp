// Binary classification metrics on a test split (docs/engine_training.md): precision, recall, f1, accuracy,
// buy_rate (predicted-positive share), positive_rate (actual-positive share),
// lift = precision / positive_rate, tp, fp, tn, fn, support.
//
// Zero division never yields NaN: a ratio whose denominator is 0 is 0 — precision with no
// predicted positives, recall with no actual positives, f1 when precision + recall = 0,
// lift when positive_rate = 0, and every rate when support = 0.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace alphalab::engine {

struct ClassificationMetrics {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0, support = 0;
  double precision = 0, recall = 0, f1 = 0, accuracy = 0;
  double buy_rate = 0, positive_rate = 0, lift = 0;

  nlohmann::json ToJson() const;
};

// From the four counts.
ClassificationMetrics ClassificationFromCounts(int64_t tp, int64_t fp, int64_t tn, int64_t fn);
// labels and predictions are 0/1 (non-zero counts as 1); sizes must match (extra ignored).
ClassificationMetrics ComputeClassification(const std::vector<int>& labels,
                                            const std::vector<int>& predictions);
// Predicted positive when probability >= cutoff; NaN probabilities and NaN labels (< 0)
// are skipped (not counted in support).
ClassificationMetrics ComputeClassificationFromScores(const std::vector<double>& labels,
                                                      const std::vector<double>& probabilities,
                                                      double cutoff);

}  // namespace alphalab::engine

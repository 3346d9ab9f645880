#include "engine/metrics/classification.hpp"

#include <algorithm>
#include <cmath>

namespace alphalab::engine {
namespace {
double Ratio(double num, double den) { return den > 0 ? num / den : 0.0; }
}  // namespace

ClassificationMetrics ClassificationFromCounts(int64_t tp, int64_t fp, int64_t tn, int64_t fn) {
  ClassificationMetrics m;
  m.tp = tp;
  m.fp = fp;
  m.tn = tn;
  m.fn = fn;
  m.support = tp + fp + tn + fn;
  const double n = static_cast<double>(m.support);
  m.precision = Ratio(static_cast<double>(tp), static_cast<double>(tp + fp));
  m.recall = Ratio(static_cast<double>(tp), static_cast<double>(tp + fn));
  m.f1 = Ratio(2.0 * m.precision * m.recall, m.precision + m.recall);
  m.accuracy = Ratio(static_cast<double>(tp + tn), n);
  m.buy_rate = Ratio(static_cast<double>(tp + fp), n);
  m.positive_rate = Ratio(static_cast<double>(tp + fn), n);
  m.lift = Ratio(m.precision, m.positive_rate);
  return m;
}

ClassificationMetrics ComputeClassification(const std::vector<int>& labels,
                                            const std::vector<int>& predictions) {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  const size_t n = std::min(labels.size(), predictions.size());
  for (size_t i = 0; i < n; ++i) {
    const bool y = labels[i] != 0, p = predictions[i] != 0;
    tp += y && p;
    fp += !y && p;
    tn += !y && !p;
    fn += y && !p;
  }
  return ClassificationFromCounts(tp, fp, tn, fn);
}

ClassificationMetrics ComputeClassificationFromScores(const std::vector<double>& labels,
                                                      const std::vector<double>& probabilities,
                                                      double cutoff) {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  const size_t n = std::min(labels.size(), probabilities.size());
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(labels[i]) || labels[i] < 0 || std::isnan(probabilities[i])) continue;
    const bool y = labels[i] > 0.5, p = probabilities[i] >= cutoff;
    tp += y && p;
    fp += !y && p;
    tn += !y && !p;
    fn += y && !p;
  }
  return ClassificationFromCounts(tp, fp, tn, fn);
}

nlohmann::json ClassificationMetrics::ToJson() const {
  return {{"precision", precision}, {"recall", recall},   {"f1", f1},
          {"accuracy", accuracy},   {"buy_rate", buy_rate}, {"positive_rate", positive_rate},
          {"lift", lift},           {"tp", tp},           {"fp", fp},
          {"tn", tn},               {"fn", fn},           {"support", support}};
}

}  // namespace alphalab::engine

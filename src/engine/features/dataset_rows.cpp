#include "engine/features/dataset_rows.hpp"

#include <algorithm>

namespace alphalab::engine {

OhlcvView ViewOf(const BarSeries& series) {
  return OhlcvView{series.open, series.high, series.low, series.close, series.volume};
}

size_t LabeledSeries::Count(Split s) const {
  return static_cast<size_t>(std::count(splits.begin(), splits.end(), s));
}

Result<LabeledSeries> BuildLabeledSeries(const BarSeries& series, const FeatureSet& set, int horizon_days,
                                         double threshold, const SplitRule& rule) {
  LabeledSeries out;
  out.bars = &series;
  auto features = ComputeFeatures(set, ViewOf(series));
  if (!features.ok()) return features.status().WithContext(series.symbol);
  out.features = std::move(features).value();
  out.labels = MakeLabels(series.close, horizon_days, threshold);
  out.splits = AssignSplits(series.date, rule);
  for (size_t t = 0; t < series.size(); ++t) {
    if (out.splits[t] == Split::kNone) continue;
    if (out.labels[t] == kNoLabel || !out.features.RowComplete(t)) out.splits[t] = Split::kNone;
  }
  return out;
}

}  // namespace alphalab::engine

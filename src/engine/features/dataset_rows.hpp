// One instrument turned into model rows: the feature matrix over every bar, the label of
// every bar and the split each usable bar belongs to (engine/features/labels.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.hpp"
#include "engine/data/bars.hpp"
#include "engine/features/feature_set.hpp"
#include "engine/features/labels.hpp"

namespace alphalab::engine {

// Views the OHLCV columns of `series` (features use the unadjusted close, like backtests).
OhlcvView ViewOf(const BarSeries& series);

struct LabeledSeries {
  const BarSeries* bars = nullptr;  // not owned
  FeatureMatrix features;           // one row per bar
  std::vector<int8_t> labels;       // kNoLabel where undefined
  // Split of each bar after every drop: warm-up (incomplete features), undefined label and
  // the purge gap before each boundary are Split::kNone.
  std::vector<Split> splits;

  size_t Count(Split s) const;
};

Result<LabeledSeries> BuildLabeledSeries(const BarSeries& series, const FeatureSet& set, int horizon_days,
                                         double threshold, const SplitRule& rule);

}  // namespace alphalab::engine

#include "engine/features/labels.hpp"

#include <algorithm>
#include <cmath>

namespace alphalab::engine {

std::vector<int8_t> MakeLabels(std::span<const double> close, int horizon_days, double threshold) {
  const size_t n = close.size();
  std::vector<int8_t> labels(n, kNoLabel);
  if (horizon_days <= 0) return labels;
  const size_t h = static_cast<size_t>(horizon_days);
  for (size_t t = 0; t + h < n; ++t) {
    const double a = close[t], b = close[t + h];
    if (!std::isfinite(a) || !std::isfinite(b) || a <= 0) continue;
    labels[t] = (b / a - 1.0 >= threshold) ? 1 : 0;
  }
  return labels;
}

std::string_view SplitName(Split s) {
  switch (s) {
    case Split::kTrain: return "train";
    case Split::kValid: return "valid";
    case Split::kTest: return "test";
    case Split::kNone: break;
  }
  return "none";
}

std::vector<Split> AssignSplits(std::span<const int32_t> dates, const SplitRule& rule) {
  const size_t n = dates.size();
  const size_t b1 = static_cast<size_t>(std::upper_bound(dates.begin(), dates.end(), rule.train_end) - dates.begin());
  const size_t b2 = static_cast<size_t>(std::upper_bound(dates.begin(), dates.end(), rule.valid_end) - dates.begin());
  const size_t g = static_cast<size_t>(std::max(rule.Gap(), 0));
  std::vector<Split> out(n, Split::kNone);
  for (size_t t = 0; t < n; ++t) {
    if (t < b1) {
      if (t + g < b1) out[t] = Split::kTrain;
    } else if (t < b2) {
      if (t + g < b2) out[t] = Split::kValid;
    } else {
      out[t] = Split::kTest;
    }
  }
  return out;
}

}  // namespace alphalab::engine

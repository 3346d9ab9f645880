// Labels and time-ordered splits.
//
// Label at bar t (horizon h, threshold x):  close[t+h] / close[t] - 1 >= x  -> 1, else 0.
// Undefined (kNoLabel) for the last h bars and wherever a close is not finite/positive.
//
// Splits (per instrument, on its own bar index; g = max(gap_days, horizon_days) bars):
//   B1 = first bar with date > train_end, B2 = first bar with date > valid_end
//   train: t <  B1 - g                 (dates <= train_end, label window ends before B1)
//   valid: B1 <= t < B2 - g            (train_end < date <= valid_end)
//   test : t >= B2                     (date > valid_end), and label defined
// So the g bars just before each boundary are dropped ("purged"); since g >= h, a training
// label (which reads close[t+h], t+h < B1) never looks into the validation period, and a
// validation label never looks into the test period. Rows whose features are incomplete
// (warm-up) or whose label is undefined are dropped from every split.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace alphalab::engine {

inline constexpr int8_t kNoLabel = -1;

std::vector<int8_t> MakeLabels(std::span<const double> close, int horizon_days, double threshold);

enum class Split : int8_t { kNone = 0, kTrain, kValid, kTest };
std::string_view SplitName(Split s);

struct SplitRule {
  int32_t train_end = 0;  // days since epoch (inclusive)
  int32_t valid_end = 0;  // days since epoch (inclusive)
  int gap_days = 0;       // bars
  int horizon_days = 1;   // bars
  int Gap() const { return gap_days > horizon_days ? gap_days : horizon_days; }
};

// Assigns each bar of one instrument (dates ascending, days since epoch) to a split by
// date and gap only (feature/label availability is applied by the caller).
std::vector<Split> AssignSplits(std::span<const int32_t> dates, const SplitRule& rule);

}  // namespace alphalab::engine

#include "engine/features/labels.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/clock.hpp"
#include "engine/features/dataset_rows.hpp"

namespace alphalab::engine {
namespace {

TEST(LabelsTest, ForwardReturnAgainstThresholdByHand) {
  const std::vector<double> close{100, 101, 103, 102, 110, 99};
  // h = 2: t=0: 103/100-1 = 0.03 -> 1 (>= 0.03); t=1: 102/101-1 = 0.0099 -> 0;
  //        t=2: 110/103-1 = 0.068 -> 1; t=3: 99/102-1 < 0 -> 0; t=4,5 undefined.
  const auto y = MakeLabels(close, 2, 0.03);
  EXPECT_EQ(y, (std::vector<int8_t>{1, 0, 1, 0, kNoLabel, kNoLabel}));
  // threshold 0: a flat move counts as positive (>=).
  const auto flat = MakeLabels(std::vector<double>{10, 10, 9}, 1, 0.0);
  EXPECT_EQ(flat, (std::vector<int8_t>{1, 0, kNoLabel}));
  // Non-finite close -> undefined.
  const auto nan = MakeLabels(std::vector<double>{10, std::nan(""), 12, 13}, 1, 0.0);
  EXPECT_EQ(nan, (std::vector<int8_t>{kNoLabel, kNoLabel, 1, kNoLabel}));
}

std::vector<int32_t> Days(int32_t start, int n) {
  std::vector<int32_t> d;
  for (int i = 0; i < n; ++i) d.push_back(start + i);
  return d;
}

TEST(SplitsTest, BoundariesAndGapByHand) {
  // 20 consecutive days from day 100; train_end = 107 (B1 = 8), valid_end = 113 (B2 = 14), gap 2.
  const auto dates = Days(100, 20);
  SplitRule rule{107, 113, 2, 1};
  const auto s = AssignSplits(dates, rule);
  using S = Split;
  const std::vector<Split> expected{S::kTrain, S::kTrain, S::kTrain, S::kTrain, S::kTrain, S::kTrain,  // 0..5
                                    S::kNone,  S::kNone,                                               // 6,7 purged
                                    S::kValid, S::kValid, S::kValid, S::kValid,                        // 8..11
                                    S::kNone,  S::kNone,                                               // 12,13 purged
                                    S::kTest,  S::kTest,  S::kTest,  S::kTest, S::kTest, S::kTest};    // 14..19
  EXPECT_EQ(s, expected);
}

TEST(SplitsTest, GapIsAtLeastTheHorizon) {
  const auto dates = Days(0, 30);
  SplitRule rule{9, 19, 0, 3};  // gap_days 0 but horizon 3 -> 3 bars purged
  EXPECT_EQ(rule.Gap(), 3);
  const auto s = AssignSplits(dates, rule);
  EXPECT_EQ(s[6], Split::kTrain);
  EXPECT_EQ(s[7], Split::kNone);
  EXPECT_EQ(s[9], Split::kNone);
  EXPECT_EQ(s[10], Split::kValid);
  EXPECT_EQ(s[16], Split::kValid);
  EXPECT_EQ(s[17], Split::kNone);
  EXPECT_EQ(s[20], Split::kTest);
}

// The property the gap exists for: a label of one split never reads a close of the next.
TEST(SplitsTest, LabelsNeverReachIntoTheNextSplit) {
  for (int horizon : {1, 5, 20}) {
    for (int gap : {0, 3, 30}) {
      const auto dates = Days(1000, 300);
      SplitRule rule{1099, 1199, gap, horizon};
      const auto s = AssignSplits(dates, rule);
      for (size_t t = 0; t < s.size(); ++t) {
        const size_t reads = t + static_cast<size_t>(horizon);
        if (s[t] == Split::kTrain) {
          EXPECT_LE(dates[std::min(reads, s.size() - 1)], 1099) << t;
        }
        if (s[t] == Split::kValid) {
          EXPECT_GT(dates[t], 1099);
          EXPECT_LE(dates[std::min(reads, s.size() - 1)], 1199) << t;
        }
        if (s[t] == Split::kTest) {
          EXPECT_GT(dates[t], 1199);
        }
      }
      // Exactly max(gap, horizon) bars are dropped before each boundary.
      const int g = std::max(gap, horizon);
      EXPECT_EQ(std::count(s.begin(), s.begin() + 100, Split::kNone), g);
      EXPECT_EQ(std::count(s.begin() + 100, s.begin() + 200, Split::kNone), g);
    }
  }
}

TEST(SplitsTest, DatesWithHolesUseBarsNotCalendarDays) {
  // Weekdays only: the gap counts bars.
  std::vector<int32_t> dates;
  for (int32_t d = DaysFromCivil(2020, 1, 6); dates.size() < 40; ++d) {
    int y;
    unsigned m, dd;
    CivilFromDays(d, y, m, dd);
    const int weekday = static_cast<int>((d + 4) % 7);  // 1970-01-01 was a Thursday (4)
    if (weekday != 0 && weekday != 6) dates.push_back(d);
  }
  SplitRule rule{DaysFromCivil(2020, 1, 17), DaysFromCivil(2020, 1, 31), 2, 2};
  const auto s = AssignSplits(dates, rule);
  // Jan 6..17 = 10 bars (B1 = 10); Jan 20..31 = 10 bars (B2 = 20).
  EXPECT_EQ(s[7], Split::kTrain);
  EXPECT_EQ(s[8], Split::kNone);
  EXPECT_EQ(s[9], Split::kNone);
  EXPECT_EQ(s[10], Split::kValid);
  EXPECT_EQ(s[17], Split::kValid);
  EXPECT_EQ(s[18], Split::kNone);
  EXPECT_EQ(s[20], Split::kTest);
}

TEST(LabeledSeriesTest, DropsWarmupAndUndefinedLabels) {
  BarSeries bars;
  bars.symbol = "TEST";
  for (int i = 0; i < 400; ++i) {
    bars.date.push_back(10000 + i);
    const double c = 100 + 10 * std::sin(i / 7.0) + i * 0.05;
    bars.open.push_back(c);
    bars.high.push_back(c * 1.01);
    bars.low.push_back(c * 0.99);
    bars.close.push_back(c);
    bars.adj_close.push_back(c);
    bars.volume.push_back(1000 + (i % 13) * 10);
  }
  SplitRule rule{10299, 10349, 5, 5};
  auto ls = BuildLabeledSeries(bars, DefaultFeatureSet(), 5, 0.0, rule);
  ASSERT_TRUE(ls.ok());
  // Train starts after the 251-bar warm-up and ends 5 bars before B1 = 300.
  EXPECT_EQ(ls->splits[250], Split::kNone);
  EXPECT_EQ(ls->splits[251], Split::kTrain);
  EXPECT_EQ(ls->Count(Split::kTrain), 295u - 251u);
  EXPECT_EQ(ls->Count(Split::kValid), 45u);
  // Test: 350..399 minus the last 5 bars without a label.
  EXPECT_EQ(ls->Count(Split::kTest), 45u);
  EXPECT_EQ(ls->splits[394], Split::kTest);
  EXPECT_EQ(ls->splits[395], Split::kNone);
}

}  // namespace
}  // namespace alphalab::engine

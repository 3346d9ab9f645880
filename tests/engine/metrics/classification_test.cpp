#include "engine/metrics/classification.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace alphalab::engine {
namespace {

// labels 1 1 1 0 0 0 0 0 0 0, predictions 1 1 0 1 0 0 0 0 0 0 -> tp 2, fn 1, fp 1, tn 6.
TEST(ClassificationTest, HandComputedConfusionMatrix) {
  const auto m = ComputeClassification({1, 1, 1, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 0, 1, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(m.tp, 2);
  EXPECT_EQ(m.fn, 1);
  EXPECT_EQ(m.fp, 1);
  EXPECT_EQ(m.tn, 6);
  EXPECT_EQ(m.support, 10);
  EXPECT_DOUBLE_EQ(m.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.f1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.8);
  EXPECT_DOUBLE_EQ(m.buy_rate, 0.3);
  EXPECT_DOUBLE_EQ(m.positive_rate, 0.3);
  EXPECT_DOUBLE_EQ(m.lift, (2.0 / 3) / 0.3);
  const auto j = m.ToJson();
  EXPECT_EQ(j["tp"], 2);
  EXPECT_EQ(j["support"], 10);
}

TEST(ClassificationTest, ZeroDivisionIsZero) {
  const auto none = ComputeClassification({1, 0, 1}, {0, 0, 0});  // no predicted positives
  EXPECT_EQ(none.precision, 0);
  EXPECT_EQ(none.recall, 0);
  EXPECT_EQ(none.f1, 0);
  EXPECT_EQ(none.buy_rate, 0);
  EXPECT_NEAR(none.accuracy, 1.0 / 3, 1e-15);
  const auto no_pos = ComputeClassification({0, 0}, {1, 0});  // no actual positives
  EXPECT_EQ(no_pos.recall, 0);
  EXPECT_EQ(no_pos.positive_rate, 0);
  EXPECT_EQ(no_pos.lift, 0);
  const auto empty = ComputeClassification({}, {});
  EXPECT_EQ(empty.support, 0);
  EXPECT_EQ(empty.accuracy, 0);
  EXPECT_FALSE(std::isnan(empty.lift));
}

TEST(ClassificationTest, ScoresUseCutoffInclusiveAndSkipNaN) {
  const auto m = ComputeClassificationFromScores({1, 0, 1, NAN, 0}, {0.5, 0.49, 0.2, 0.9, NAN}, 0.5);
  EXPECT_EQ(m.support, 3);
  EXPECT_EQ(m.tp, 1);  // 0.5 >= 0.5
  EXPECT_EQ(m.tn, 1);
  EXPECT_EQ(m.fn, 1);
  EXPECT_EQ(m.fp, 0);
}

}  // namespace
}  // namespace alphalab::engine

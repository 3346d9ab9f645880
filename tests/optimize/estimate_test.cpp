// The creation estimate: tasks x median / slots, never 0, nullopt without history.
#include "optimize/estimate.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

TEST(EstimateTest, MedianTimesTasksOverSlots) {
  auto e = EstimateDuration(100, {3.0, 1.0, 2.0, 100.0, 2.5}, 4, "history");
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->median_task_seconds, 2.5);
  EXPECT_DOUBLE_EQ(e->seconds, 100 * 2.5 / 4);
  EXPECT_EQ(e->samples, 5u);
  EXPECT_EQ(e->basis, "history");
  auto even = EstimateDuration(10, {1.0, 3.0}, 1, "history");
  EXPECT_DOUBLE_EQ(even->median_task_seconds, 2.0);
  EXPECT_DOUBLE_EQ(even->seconds, 20.0);
  Json j = e->ToJson();
  EXPECT_EQ(j["basis"], "history");
  EXPECT_EQ(j["tasks"], 100);
  EXPECT_EQ(j["slots"], 4);
}

TEST(EstimateTest, NeverZero) {
  auto zero = EstimateDuration(50, {0.0, 0.0}, 8, "calibration");
  ASSERT_TRUE(zero.has_value());
  EXPECT_GT(zero->seconds, 0.0);
  EXPECT_DOUBLE_EQ(zero->median_task_seconds, kMinTaskSeconds);
  auto no_tasks = EstimateDuration(0, {2.0}, 1, "history");
  EXPECT_GT(no_tasks->seconds, 0.0);
  auto no_slots = EstimateDuration(4, {1.0}, 0, "history");
  EXPECT_EQ(no_slots->slots, 1);
  EXPECT_DOUBLE_EQ(no_slots->seconds, 4.0);
}

TEST(EstimateTest, NoUsableHistoryAsksForCalibration) {
  EXPECT_FALSE(EstimateDuration(10, {}, 2, "history").has_value());
  EXPECT_FALSE(EstimateDuration(10, {-1.0, std::nan(""), INFINITY}, 2, "history").has_value());
  auto mixed = EstimateDuration(10, {-1.0, 4.0}, 2, "history");
  ASSERT_TRUE(mixed.has_value());
  EXPECT_EQ(mixed->samples, 1u);
  EXPECT_DOUBLE_EQ(mixed->seconds, 20.0);
}

}  // namespace
}  // namespace alphalab::optimize

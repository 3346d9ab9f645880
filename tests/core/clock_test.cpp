#include "core/clock.hpp"

#include <gtest/gtest.h>

namespace alphalab {
namespace {

TEST(DateTest, RoundTripsKnownDates) {
  EXPECT_EQ(*ParseDate("1970-01-01"), 0);
  EXPECT_EQ(*ParseDate("2000-01-03"), 10959);
  EXPECT_EQ(*ParseDate("2020-02-29"), 18321);
  EXPECT_EQ(FormatDate(18321), "2020-02-29");
  for (int32_t d = -1000; d < 30000; d += 37) {
    EXPECT_EQ(*ParseDate(FormatDate(d)), d);
  }
}

TEST(DateTest, RejectsImpossibleAndMalformedDates) {
  for (const char* bad : {"2021-02-29", "2020-13-01", "2020-00-10", "2020-01-32", "2020-1-01",
                          "20200101", "", "2020-01-01x", "abcd-ef-gh", "1900-02-29"}) {
    EXPECT_FALSE(ParseDate(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseDate("2000-02-29").ok());
}

TEST(Iso8601Test, FormatsUtcWithMilliseconds) {
  const TimePoint tp{std::chrono::milliseconds(1'700'000'000'123)};
  EXPECT_EQ(FormatIso8601(tp), "2023-11-14T22:13:20.123Z");
  auto back = ParseIso8601("2023-11-14T22:13:20.123Z");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, tp);
  EXPECT_TRUE(ParseIso8601("2023-11-14T22:13:20Z").ok());
  EXPECT_FALSE(ParseIso8601("2023-11-14 nonsense").ok());
  EXPECT_FALSE(ParseIso8601("2023-11-14T25:00:00Z").ok());
}

TEST(FakeClockTest, AdvancesOnlyWhenTold) {
  FakeClock clock(TimePoint{std::chrono::seconds(100)});
  const TimePoint t0 = clock.Now();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_DOUBLE_EQ(SecondsBetween(t0, clock.Now()), 1.5);
}

}  // namespace
}  // namespace alphalab

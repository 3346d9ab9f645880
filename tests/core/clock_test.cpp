#include "core/clock.hpp"

#include <cstdio>
#include <string>

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

// The digit-writing formatter against printf over the whole range a TimePoint holds (int64
// nanoseconds: 1677..2262), both sides of 1970.
TEST(Iso8601Test, FormatMatchesPrintfEverywhere) {
  auto reference = [](TimePoint tp) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
    const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    const int64_t sod = secs - days * 86400;
    int y;
    unsigned mo, d;
    CivilFromDays(static_cast<int32_t>(days), y, mo, d);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, mo, d, static_cast<int>(sod / 3600),
                  static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60), static_cast<int>(ms - secs * 1000));
    return std::string(buf);
  };
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // Up to 290 years either side of 1970, in milliseconds.
    const int64_t ms = static_cast<int64_t>(x % 18'300'000'000'000ull) - 9'150'000'000'000;
    const TimePoint tp{std::chrono::milliseconds(ms)};
    ASSERT_EQ(FormatIso8601(tp), reference(tp)) << ms;
  }
  for (int64_t ms : {int64_t{0}, int64_t{-1}, int64_t{999}, int64_t{-1000}, int64_t{951782399999},
                     int64_t{951782400000}, int64_t{4102444800000}, int64_t{-2208988800001}}) {
    const TimePoint tp{std::chrono::milliseconds(ms)};
    EXPECT_EQ(FormatIso8601(tp), reference(tp)) << ms;
  }
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

#include "engine/data/synth.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

namespace alphalab::engine {
namespace {

TEST(SynthTest, DeterministicForASeedAndDifferentAcrossSeeds) {
  SynthOptions o;
  o.instruments = 5;
  o.years = 2;
  o.seed = 7;
  const auto a = MakeSyntheticUniverse(o);
  const auto b = MakeSyntheticUniverse(o);
  o.seed = 8;
  const auto c = MakeSyntheticUniverse(o);
  ASSERT_EQ(a.series.size(), 8u);  // 5 + SYNMKT + SYNBOND + SYNGOLD
  for (size_t i = 0; i < a.series.size(); ++i) {
    EXPECT_EQ(a.series[i].close, b.series[i].close);
    EXPECT_EQ(a.series[i].volume, b.series[i].volume);
  }
  EXPECT_NE(a.series[3].close, c.series[3].close);
}

TEST(SynthTest, NamesDefensiveSymbolsBusinessDaysAndValidBars) {
  SynthOptions o;
  o.instruments = 3;
  o.years = 3;
  o.symbols = {"TSM"};
  const auto u = MakeSyntheticUniverse(o);
  for (const char* s : {"SYNMKT", "SYNBOND", "SYNGOLD", "TSM", "SYN0002", "SYN0003"}) {
    EXPECT_NE(u.Find(s), nullptr) << s;
  }
  EXPECT_EQ(u.Find("SYN0001"), nullptr);  // replaced by the explicit name
  for (const auto& s : u.series) {
    ASSERT_EQ(s.size(), u.calendar.size());
    for (size_t t = 0; t < s.size(); ++t) {
      const unsigned iso = std::chrono::weekday(std::chrono::sys_days(std::chrono::days(s.date[t]))).iso_encoding();
      ASSERT_LE(iso, 5u) << s.date[t];
      ASSERT_GT(s.low[t], 0);
      ASSERT_LE(s.low[t], std::min(s.open[t], s.close[t]));
      ASSERT_GE(s.high[t], std::max(s.open[t], s.close[t]));
      if (t) {
        ASSERT_GT(s.date[t], s.date[t - 1]);
      }
    }
  }
  // About 261 business days a year.
  EXPECT_NEAR(static_cast<double>(u.calendar.size()), 3 * 260.9, 3);
  // The bond is calmer than the market.
  auto vol = [](const BarSeries& s) {
    double sum = 0, sum2 = 0;
    for (size_t t = 1; t < s.size(); ++t) {
      const double r = std::log(s.close[t] / s.close[t - 1]);
      sum += r;
      sum2 += r * r;
    }
    const double n = static_cast<double>(s.size() - 1);
    return std::sqrt(sum2 / n - (sum / n) * (sum / n));
  };
  EXPECT_LT(vol(*u.Find("SYNBOND")), vol(*u.Find("SYNMKT")));
}

}  // namespace
}  // namespace alphalab::engine

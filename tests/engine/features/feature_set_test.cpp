#include "engine/features/feature_set.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/features/dataset_rows.hpp"

namespace alphalab::engine {
namespace {

struct Bars {
  std::vector<double> open, high, low, close, volume;
  OhlcvView View() const { return {open, high, low, close, volume}; }
};

// A random walk with consistent OHLC and positive volume.
Bars RandomBars(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> step(0.0005, 0.012);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Bars b;
  double c = 100;
  for (size_t i = 0; i < n; ++i) {
    const double o = c * (1 + 0.002 * (u(rng) - 0.5));
    c = o * std::exp(step(rng));
    b.open.push_back(o);
    b.close.push_back(c);
    b.high.push_back(std::max(o, c) * (1 + 0.01 * u(rng)));
    b.low.push_back(std::min(o, c) * (1 - 0.01 * u(rng)));
    b.volume.push_back(1e6 * (0.5 + u(rng)));
  }
  return b;
}

size_t Col(const std::string& name) {
  const auto& f = DefaultFeatureSet().features;
  return static_cast<size_t>(std::find(f.begin(), f.end(), name) - f.begin());
}

TEST(FeatureSetTest, DefaultSetIsNamedVersionedAndComputable) {
  const FeatureSet& set = DefaultFeatureSet();
  EXPECT_EQ(set.name, "default");
  EXPECT_EQ(set.version, 1);
  EXPECT_EQ(set.features.size(), 20u);
  const auto known = KnownFeatureNames();
  for (const auto& f : set.features) EXPECT_NE(std::find(known.begin(), known.end(), f), known.end()) << f;
  auto round = FeatureSet::FromJson(set.ToJson());
  ASSERT_TRUE(round.ok()) << round.status().ToString();
  EXPECT_EQ(*round, set);
}

TEST(FeatureSetTest, UnknownFeatureIsAnError) {
  Bars b = RandomBars(30, 1);
  FeatureSet set{"custom", 1, {"ret_1", "moon_phase"}};
  auto m = ComputeFeatures(set, b.View());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("moon_phase"), std::string::npos);
}

TEST(FeatureSetTest, ValuesMatchHandComputation) {
  const Bars b = RandomBars(300, 7);
  auto m = ComputeFeatures(DefaultFeatureSet(), b.View());
  ASSERT_TRUE(m.ok());
  const size_t t = 280;
  EXPECT_NEAR(m->at(t, Col("ret_1")), b.close[t] / b.close[t - 1] - 1, 1e-6);
  EXPECT_NEAR(m->at(t, Col("ret_60")), b.close[t] / b.close[t - 60] - 1, 1e-6);
  double sum = 0;
  for (size_t i = t - 49; i <= t; ++i) sum += b.close[i];
  EXPECT_NEAR(m->at(t, Col("sma_ratio_50")), b.close[t] / (sum / 50) - 1, 1e-6);
  // vol_10: sample std-dev of 10 log returns.
  std::vector<double> r;
  for (size_t i = t - 9; i <= t; ++i) r.push_back(std::log(b.close[i] / b.close[i - 1]));
  double mean = 0;
  for (double x : r) mean += x / 10;
  double ss = 0;
  for (double x : r) ss += (x - mean) * (x - mean);
  EXPECT_NEAR(m->at(t, Col("vol_10")), std::sqrt(ss / 9), 1e-7);
  double hi = 0;
  for (size_t i = t - 251; i <= t; ++i) hi = std::max(hi, b.high[i]);
  EXPECT_NEAR(m->at(t, Col("dist_high_252")), b.close[t] / hi - 1, 1e-6);
  EXPECT_NEAR(m->at(t, Col("hl_range")), (b.high[t] - b.low[t]) / b.close[t], 1e-6);
  EXPECT_NEAR(m->at(t, Col("gap")), b.open[t] / b.close[t - 1] - 1, 1e-6);
  // Warm-up: NaN before the window is full, a value once it is.
  EXPECT_TRUE(std::isnan(m->at(59, Col("ret_60"))));
  EXPECT_FALSE(std::isnan(m->at(60, Col("ret_60"))));
  EXPECT_TRUE(std::isnan(m->at(198, Col("sma_ratio_200"))));
  EXPECT_FALSE(std::isnan(m->at(199, Col("sma_ratio_200"))));
  EXPECT_TRUE(std::isnan(m->at(250, Col("dist_high_252"))));
  EXPECT_FALSE(m->RowComplete(250));
  EXPECT_TRUE(m->RowComplete(251));
  EXPECT_EQ(WarmupBars(DefaultFeatureSet()), 251u);
}

TEST(FeatureSetTest, RsiWilderByHand) {
  // 15 closes: gains of 1 on even steps, losses of 0.5 on odd ones, then one more gain of 2.
  Bars b;
  double c = 50;
  for (int i = 0; i < 17; ++i) {
    if (i > 0) c += (i % 2 == 1) ? 1.0 : -0.5;
    b.close.push_back(c);
  }
  b.close.back() = b.close[15] + 2.0;  // change 16 is +2
  b.open = b.high = b.low = b.volume = b.close;
  FeatureSet set{"t", 1, {"rsi_14"}};
  auto m = ComputeFeatures(set, b.View());
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(std::isnan(m->at(13, 0)));
  // First 14 changes: 7 gains of 1, 7 losses of 0.5 -> avg gain 0.5, avg loss 0.25.
  double g = 0.5, l = 0.25;
  EXPECT_NEAR(m->at(14, 0), 100 - 100 / (1 + g / l), 1e-4);
  // Change 15 is a gain of 1 (odd step).
  g = (g * 13 + 1.0) / 14;
  l = (l * 13 + 0.0) / 14;
  EXPECT_NEAR(m->at(15, 0), 100 - 100 / (1 + g / l), 1e-4);
  g = (g * 13 + 2.0) / 14;
  l = (l * 13) / 14;
  EXPECT_NEAR(m->at(16, 0), 100 - 100 / (1 + g / l), 1e-4);
}

TEST(FeatureSetTest, VolumeZScoreIsZeroForConstantVolume) {
  Bars b = RandomBars(40, 3);
  std::fill(b.volume.begin(), b.volume.end(), 5.0);
  FeatureSet set{"t", 1, {"volume_z_20"}};
  auto m = ComputeFeatures(set, b.View());
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(std::isnan(m->at(18, 0)));
  EXPECT_EQ(m->at(19, 0), 0.0f);
}

// docs/engine.md worked example: volume_z_20 divides by the sample standard deviation.
TEST(FeatureSetTest, VolumeZScoreUsesTheSampleStdDev) {
  Bars b = RandomBars(20, 4);
  for (size_t t = 0; t < 20; ++t) b.volume[t] = static_cast<double>(t + 1);  // 1..20
  FeatureSet set{"t", 1, {"volume_z_20"}};
  auto m = ComputeFeatures(set, b.View());
  ASSERT_TRUE(m.ok());
  // mean 10.5, sum of squared deviations 665: (20 - 10.5) / sqrt(665 / 19) = 1.60579
  // (the population std-dev, sqrt(665 / 20), would give 1.64751).
  EXPECT_NEAR(m->at(19, 0), 1.60579, 1e-5);
}

// No look-ahead: changing any bar after t changes no feature at or before t.
TEST(FeatureSetTest, NoLookAhead) {
  const Bars base = RandomBars(700, 11);
  auto reference = ComputeFeatures(DefaultFeatureSet(), base.View());
  ASSERT_TRUE(reference.ok());
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0.5, 2.0);
  for (size_t t : {0u, 1u, 20u, 251u, 252u, 400u, 698u}) {
    Bars b = base;
    for (size_t i = t + 1; i < b.close.size(); ++i) {
      const double k = u(rng);
      b.open[i] *= k;
      b.close[i] *= u(rng);
      b.high[i] = std::max({b.high[i] * k, b.open[i], b.close[i]});
      b.low[i] = std::min({b.low[i] / k, b.open[i], b.close[i]});
      b.volume[i] *= u(rng) * 3;
    }
    auto perturbed = ComputeFeatures(DefaultFeatureSet(), b.View());
    ASSERT_TRUE(perturbed.ok());
    for (size_t r = 0; r <= t; ++r) {
      for (size_t c = 0; c < reference->cols(); ++c) {
        const float a = reference->at(r, c), p = perturbed->at(r, c);
        ASSERT_TRUE((std::isnan(a) && std::isnan(p)) || a == p)
            << "feature " << DefaultFeatureSet().features[c] << " at bar " << r << " changed when bars after " << t
            << " changed";
      }
    }
    // And the perturbation is visible after t (the test can fail).
    if (t + 1 < base.close.size()) {
      EXPECT_NE(reference->at(t + 1, Col("ret_1")), perturbed->at(t + 1, Col("ret_1")));
    }
  }
}

TEST(FeatureSetTest, NonFiniteInputRestartsWindows) {
  Bars b = RandomBars(120, 9);
  b.close[50] = std::nan("");
  FeatureSet set{"t", 1, {"ret_1", "sma_ratio_5"}};
  auto m = ComputeFeatures(set, b.View());
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(std::isnan(m->at(50, 0)));
  EXPECT_TRUE(std::isnan(m->at(51, 0)));
  EXPECT_FALSE(std::isnan(m->at(52, 0)));
  EXPECT_TRUE(std::isnan(m->at(54, 1)));   // window 51..54 is only 4 bars
  EXPECT_FALSE(std::isnan(m->at(55, 1)));  // 51..55
}

}  // namespace
}  // namespace alphalab::engine

// Slow (writes 500 CSV files): labelled `slow`.
#include <gtest/gtest.h>

#include <chrono>

#include "engine/data/dataset.hpp"
#include "engine/data/synth.hpp"
#include "engine/data/temp_workspace.hpp"
#include "sanitizers/slowdown.hpp"

namespace alphalab::engine {
namespace {

TEST(LoadSpeedTest, LoadsFiveHundredInstrumentsTwentyYearsWellUnderASecond) {
  testing::TempWorkspace tmp;
  SynthOptions o;
  o.instruments = 497;  // + SYNMKT, SYNBOND, SYNGOLD = 500
  o.years = 20;
  ASSERT_TRUE(WriteUniverseCsv(MakeSyntheticUniverse(o), tmp.root() / "data" / "big").ok());
  auto ds = ResolveDataset(tmp.ws(), "big");
  ASSERT_TRUE(ds.ok());
  auto cold = LoadUniverse(tmp.ws(), *ds, {}, std::nullopt, std::nullopt);  // parses, fills cache
  ASSERT_TRUE(cold.ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto warm = LoadUniverse(tmp.ws(), *ds, {}, std::nullopt, std::nullopt);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(warm.ok());
  EXPECT_EQ(warm->series.size(), 500u);
  EXPECT_EQ(warm->series[10].close, cold->series[10].close);
  EXPECT_LT(secs, 1.0 * ::alphalab::testing::kSanitizerSlowdown);  // ASan: 1.8 s
}

}  // namespace
}  // namespace alphalab::engine

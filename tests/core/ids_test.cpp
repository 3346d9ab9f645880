#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <unordered_set>

namespace alphalab {
namespace {

TEST(IdsTest, JobIdHasTheSpecifiedShape) {
  const TimePoint tp{std::chrono::seconds(1'700'000'000)};  // 2023-11-14 22:13:20 UTC
  const JobId id = NewJobId(tp);
  EXPECT_TRUE(std::regex_match(id.str(), std::regex("job_20231114_221320__[0-9a-f]{8}"))) << id.str();
}

TEST(IdsTest, IdsInTheSameSecondAreUnique) {
  const TimePoint tp{std::chrono::seconds(1'700'000'000)};
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 20000; ++i) {
    EXPECT_TRUE(seen.insert(NewJobId(tp).str()).second);
  }
}

TEST(IdsTest, SafeIdentifiers) {
  EXPECT_TRUE(IsSafeIdentifier("job_20231114_221320__abcd1234"));
  EXPECT_TRUE(IsSafeIdentifier("run-1.2"));
  for (const char* bad : {"", ".", "..", "a/b", "../x", "a b", "a\\b", "a%2e", "x\n"}) {
    EXPECT_FALSE(IsSafeIdentifier(bad)) << bad;
  }
  EXPECT_FALSE(IsSafeIdentifier(std::string(129, 'a')));
}

TEST(IdsTest, Sha256MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace alphalab

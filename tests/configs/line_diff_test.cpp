// configs/line_diff.hpp: unified diffs that `patch` would accept, fast on 1 MB files.
#include "configs/line_diff.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace alphalab::configs {
namespace {

TEST(LineDiffTest, EqualTextsHaveNoDiff) { EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "a", "b"), ""); }

TEST(LineDiffTest, OneChangedLineWithContext) {
  const std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const std::string b = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
  UnifiedDiffStats stats;
  const std::string d = UnifiedDiff(a, b, "a/x", "b/x", 3, &stats);
  EXPECT_EQ(d, "--- a/x\n+++ b/x\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n");
  EXPECT_EQ(stats.added, 1);
  EXPECT_EQ(stats.removed, 1);
}

TEST(LineDiffTest, InsertsDeletesAndSeparateHunks) {
  std::string a, b;
  for (int i = 0; i < 40; ++i) a += std::to_string(i) + "\n";
  b = a;
  b.insert(0, "new first\n");
  b.erase(b.find("30\n"), 3);
  UnifiedDiffStats stats;
  const std::string d = UnifiedDiff(a, b, "a", "b", 3, &stats);
  EXPECT_EQ(stats.added, 1);
  EXPECT_EQ(stats.removed, 1);
  EXPECT_NE(d.find("@@ -1,3 +1,4 @@\n+new first\n 0\n 1\n 2\n"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ -28,7 +29,6 @@\n 27\n 28\n 29\n-30\n 31\n"), std::string::npos) << d;
}

TEST(LineDiffTest, MissingFinalNewlineIsShown) {
  const std::string d = UnifiedDiff("a\nb", "a\nc", "x", "y");
  EXPECT_NE(d.find("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"), std::string::npos) << d;
}

TEST(LineDiffTest, TwoOneMegabyteTemplatesDiffInUnder50ms) {
  std::string a;
  int i = 0;
  while (a.size() < (1u << 20)) {
    a += "    key_" + std::to_string(i) + ": value " + std::to_string(i * 7) + "\n";
    ++i;
  }
  std::string b = a;
  for (size_t pos = 1000; pos < b.size(); pos += 40000) b[pos] = 'X';
  const auto start = std::chrono::steady_clock::now();
  UnifiedDiffStats stats;
  const std::string d = UnifiedDiff(a, b, "a", "b", 3, &stats);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(stats.added, 20);
  EXPECT_EQ(stats.added, stats.removed);
  EXPECT_LT(ms, 50.0);
}

TEST(LineDiffTest, CompletelyDifferentFilesStayFast) {
  std::string a, b;
  for (int i = 0; i < 30000; ++i) {
    a += "a" + std::to_string(i) + "\n";
    b += "b" + std::to_string(i) + "\n";
  }
  const auto start = std::chrono::steady_clock::now();
  UnifiedDiffStats stats;
  UnifiedDiff(a, b, "a", "b", 3, &stats);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(stats.added, 30000);
  EXPECT_EQ(stats.removed, 30000);
  EXPECT_LT(ms, 500.0);
}

}  // namespace
}  // namespace alphalab::configs

#include "core/text.hpp"

#include <gtest/gtest.h>

namespace alphalab {
namespace {

using List = std::vector<std::string>;

TEST(SplitCommaListTest, TrimsItemsAndDropsEmptyOnes) {
  EXPECT_EQ(SplitCommaList("A,B"), (List{"A", "B"}));
  EXPECT_EQ(SplitCommaList(" A ,\tB\t, ,,C "), (List{"A", "B", "C"}));
  EXPECT_EQ(SplitCommaList("x y, z"), (List{"x y", "z"}));  // inner spaces stay
  EXPECT_EQ(SplitCommaList("A,A"), (List{"A", "A"}));       // order and duplicates kept
  EXPECT_EQ(SplitCommaList(""), List{});
  EXPECT_EQ(SplitCommaList(" , ,"), List{});
  EXPECT_EQ(SplitCommaList("only"), (List{"only"}));
}

}  // namespace
}  // namespace alphalab

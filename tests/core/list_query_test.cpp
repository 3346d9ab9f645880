// The list convention's one parser (core/list_query.hpp): comma lists (IN), numeric bounds, sort.
#include "core/list_query.hpp"

#include <gtest/gtest.h>

namespace alphalab {
namespace {

TEST(ListQueryTest, InListSplitsTrimsDropsDuplicatesAndNamesTheParameter) {
  EXPECT_EQ(ParseInList("status", std::nullopt).value(), std::vector<std::string>{});
  EXPECT_EQ(ParseInList("status", std::string()).value(), std::vector<std::string>{});
  EXPECT_EQ(ParseInList("status", std::string("FAILED")).value(), std::vector<std::string>{"FAILED"});
  EXPECT_EQ(ParseInList("status", std::string(" FAILED, CANCELED ,FAILED")).value(),
            (std::vector<std::string>{"FAILED", "CANCELED"}));
  auto empty = ParseInList("job_type", std::string(" , ,"));
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(empty.status().IsInvalidArgument());
  EXPECT_EQ(empty.status().details()["parameter"], "job_type");
  std::string many;
  for (int i = 0; i <= 1000; ++i) many += "v" + std::to_string(i) + ",";
  auto too_many = ParseInList("project", many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().details()["parameter"], "project");
}

TEST(ListQueryTest, FiniteNumberRefusesTextAndInfinities) {
  EXPECT_FALSE(ParseFiniteNumber("min_x", std::nullopt).value().has_value());
  EXPECT_DOUBLE_EQ(*ParseFiniteNumber("min_x", std::string("-1.5e2")).value(), -150.0);
  for (const char* bad : {"abc", "1x", "inf", "nan", "1e999"}) {
    auto r = ParseFiniteNumber("max_duration_sec", std::string(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().details()["parameter"], "max_duration_sec") << bad;
  }
}

struct Field {
  int field;
  std::string_view name;
};
constexpr Field kFields[] = {{0, "exit_code"}, {1, "duration_sec"}};

TEST(ListQueryTest, SortSpecNamesTheUnknownFieldAndListsTheSortableOnes) {
  auto keys = ParseSortSpec("duration_sec_desc,exit_code_asc", kFields);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<std::pair<int, bool>>{{1, true}, {0, false}}));
  auto unknown = ParseSortSpec("bogus_desc", kFields);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown sort field 'bogus' (sortable: exit_code, duration_sec)"),
            std::string::npos)
      << unknown.status().message();
  EXPECT_EQ(unknown.status().details()["parameter"], "sort");
  for (const char* bad : {"exit_code", "exit_code_up", "", "exit_code_asc,", "exit_code_asc,exit_code_desc"}) {
    EXPECT_FALSE(ParseSortSpec(bad, kFields).ok()) << bad;
  }
}

}  // namespace
}  // namespace alphalab

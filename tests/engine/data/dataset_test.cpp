#include "engine/data/dataset.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "core/clock.hpp"
#include "engine/data/temp_workspace.hpp"
#include "engine/data/synth.hpp"

namespace alphalab::engine {
namespace {

const char* kHeader = "date,open,high,low,close,adjclose,volume\n";

TEST(DatasetTest, ResolvesDeclaredAndFallbackDatasets) {
  testing::TempWorkspace tmp;
  tmp.Write("alphalab.yaml", "datasets:\n  demo:\n    format: csv\n    path: data/demo\n");
  tmp.Write("data/demo/SPX.csv", std::string(kHeader) + "2020-01-02,1,2,1,1.5,1.5,1\n");
  tmp.Write("data/other/AAA.csv", std::string(kHeader) + "2020-01-02,1,2,1,1.5,1.5,1\n");
  auto demo = ResolveDataset(tmp.ws(), "demo");
  ASSERT_TRUE(demo.ok()) << demo.status().ToString();
  EXPECT_EQ(demo->format, "csv");
  EXPECT_EQ(demo->path, tmp.root() / "data" / "demo");
  auto other = ResolveDataset(tmp.ws(), "other");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->path, tmp.root() / "data" / "other");
  auto none = ResolveDataset(tmp.ws(), "nope");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "unknown dataset 'nope' (known: demo, other)");
}

TEST(DatasetTest, DatasetPathOutsideWorkspaceIsRefused) {
  testing::TempWorkspace tmp;
  tmp.Write("alphalab.yaml", "datasets:\n  evil:\n    path: /etc\n");
  auto r = ResolveDataset(tmp.ws(), "evil");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("outside the workspace"), std::string::npos);
}

TEST(DatasetTest, LoadsClipsAndListsUnknownTickers) {
  testing::TempWorkspace tmp;
  tmp.Write("data/d/AAA.csv", std::string(kHeader) + "2020-01-02,1,2,1,1.5,1.5,1\n2020-01-03,1,2,1,1.5,1.5,1\n"
                                                     "2020-01-06,1,2,1,1.5,1.5,1\n");
  tmp.Write("data/d/BBB.csv", std::string(kHeader) + "2020-01-03,1,2,1,1.5,1.5,1\n2020-01-07,1,2,1,1.5,1.5,1\n");
  auto ds = ResolveDataset(tmp.ws(), "d");
  ASSERT_TRUE(ds.ok());
  auto u = LoadUniverse(tmp.ws(), *ds, {}, ParseDate("2020-01-03").value(), std::nullopt);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  ASSERT_EQ(u->series.size(), 2u);
  EXPECT_EQ(u->Find("AAA")->size(), 2u);
  EXPECT_EQ(u->calendar.size(), 3u);  // 01-03, 01-06, 01-07
  auto lower = LoadUniverse(tmp.ws(), *ds, {"bbb"}, std::nullopt, std::nullopt);
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(lower->series[0].symbol, "BBB");
  auto unknown = LoadUniverse(tmp.ws(), *ds, {"TSM"}, std::nullopt, std::nullopt);
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(unknown.status().IsNotFound());
  EXPECT_EQ(unknown.status().message(), "unknown ticker 'TSM' in dataset 'd' (available: AAA, BBB)");
  auto empty = LoadUniverse(tmp.ws(), *ds, {"AAA"}, ParseDate("2021-01-01").value(), std::nullopt);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "ticker 'AAA' has no bars between 2021-01-01 and the end");
  auto reversed = LoadUniverse(tmp.ws(), *ds, {"AAA"}, ParseDate("2021-01-01").value(),
                               ParseDate("2020-01-01").value());
  ASSERT_FALSE(reversed.ok());
  EXPECT_EQ(reversed.status().message(), "start 2021-01-01 is after end 2020-01-01");
}

TEST(DatasetTest, ValidateReportsEveryBrokenFile) {
  testing::TempWorkspace tmp;
  tmp.Write("data/v/OK.csv", std::string(kHeader) + "2020-01-02,1,2,1,1.5,1.5,1\n");
  tmp.Write("data/v/DUP.csv", std::string(kHeader) + "2020-01-02,1,2,1,1.5,1.5,1\n2020-01-02,1,2,1,1.5,1.5,1\n");
  tmp.Write("data/v/NEG.csv", std::string(kHeader) + "2020-01-02,1,2,1,-1.5,1.5,1\n");
  auto ds = ResolveDataset(tmp.ws(), "v");
  ASSERT_TRUE(ds.ok());
  auto problems = ValidateDataset(tmp.ws(), *ds);
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 2u);
  EXPECT_EQ((*problems)[0], "data/v/DUP.csv:3: duplicate date 2020-01-02");
  EXPECT_EQ((*problems)[1], "data/v/NEG.csv:2: non-positive close -1.5 on 2020-01-02");
}

}  // namespace
}  // namespace alphalab::engine

namespace alphalab::engine {
namespace {

BarSeries Dated(std::string symbol, std::vector<int32_t> dates) {
  BarSeries s;
  s.symbol = std::move(symbol);
  s.date = std::move(dates);
  return s;
}

// The calendar is the ascending union of the series' dates: one series as it is (no sort),
// several merged, and even a series built out of order comes out sorted.
TEST(UniverseTest, CalendarIsTheAscendingUnionOfTheDates) {
  Universe one;
  one.series.push_back(Dated("A", {3, 5, 9, 12}));
  one.BuildCalendar();
  EXPECT_EQ(one.calendar, (std::vector<int32_t>{3, 5, 9, 12}));
  Universe two;
  two.series.push_back(Dated("A", {3, 5, 9, 12}));
  two.series.push_back(Dated("B", {1, 5, 10, 12, 20}));
  two.BuildCalendar();
  EXPECT_EQ(two.calendar, (std::vector<int32_t>{1, 3, 5, 9, 10, 12, 20}));
  Universe odd;
  odd.series.push_back(Dated("C", {7, 2, 7, 4}));
  odd.BuildCalendar();
  EXPECT_EQ(odd.calendar, (std::vector<int32_t>{2, 4, 7}));
  two.series.pop_back();  // rebuilt from scratch
  two.BuildCalendar();
  EXPECT_EQ(two.calendar, one.calendar);
}

}  // namespace
}  // namespace alphalab::engine

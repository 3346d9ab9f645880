#include "engine/data/csv_reader.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "core/clock.hpp"
#include "engine/data/temp_workspace.hpp"

namespace alphalab::engine {
namespace {

TEST(CsvReaderTest, ParsesYahooHeader) {
  auto r = ParseBarsCsv(
      "Date,Open,High,Low,Close,Adj Close,Volume\n"
      "2020-01-02,10,11,9,10.5,10.4,100\n"
      "2020-01-03,10.5,12,10,11.5,11.4,200\n",
      "AAA", "AAA.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(r->symbol, "AAA");
  EXPECT_EQ(FormatDate(r->date[0]), "2020-01-02");
  EXPECT_DOUBLE_EQ(r->open[1], 10.5);
  EXPECT_DOUBLE_EQ(r->high[1], 12);
  EXPECT_DOUBLE_EQ(r->low[1], 10);
  EXPECT_DOUBLE_EQ(r->close[1], 11.5);
  EXPECT_DOUBLE_EQ(r->adj_close[1], 11.4);
  EXPECT_DOUBLE_EQ(r->volume[1], 200);
}

TEST(CsvReaderTest, ParsesStooqStyleAnyCaseAndColumnOrderWithCrLf) {
  auto r = ParseBarsCsv(
      "VOLUME,close,DATE,low,High,open\r\n"
      "5,2.5,2001-03-05,2,3,2.2\r\n",
      "X", "X.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->open[0], 2.2);
  EXPECT_DOUBLE_EQ(r->close[0], 2.5);
  EXPECT_DOUBLE_EQ(r->adj_close[0], 2.5);  // no adj close column -> close
  EXPECT_DOUBLE_EQ(r->volume[0], 5);
}

TEST(CsvReaderTest, VegaHeaderParses) {
  auto r = ParseBarsCsv(
      "date,open,high,low,close,adjclose,volume\n"
      "2000-01-03,1469.250000,1478.000000,1438.359985,1455.219971,1455.219971,931800000\n",
      "SPX", "SPX.csv");
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->close[0], 1455.219971);
}

void ExpectError(const std::string& text, const std::string& message) {
  auto r = ParseBarsCsv(text, "S", "data/x/S.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), message);
}

TEST(CsvReaderTest, ValidationMessagesNameFileLineAndProblem) {
  const std::string h = "date,open,high,low,close,adjclose,volume\n";
  ExpectError(h + "2020-01-03,1,2,1,1,1,0\n2020-01-02,1,2,1,1,1,0\n",
              "data/x/S.csv:3: dates not ascending: 2020-01-02 comes after 2020-01-03");
  ExpectError(h + "2020-01-03,1,2,1,1,1,0\n2020-01-03,1,2,1,1,1,0\n",
              "data/x/S.csv:3: duplicate date 2020-01-03");
  ExpectError(h + "2020-01-03,1,2,1,0,1,0\n", "data/x/S.csv:2: non-positive close 0 on 2020-01-03");
  ExpectError(h + "2020-01-03,-1,2,1,1,1,0\n", "data/x/S.csv:2: non-positive open -1 on 2020-01-03");
  ExpectError(h + "2020-01-03,1,1,2,1,1,0\n", "data/x/S.csv:2: high 1 < low 2 on 2020-01-03");
  ExpectError(h + "2020-02-30,1,2,1,1,1,0\n",
              "data/x/S.csv:2: bad date '2020-02-30' (expected YYYY-MM-DD)");
  ExpectError(h + "2020-01-03,1,2,1,abc,1,0\n", "data/x/S.csv:2: bad close value 'abc'");
  ExpectError(h + "2020-01-03,1,2\n", "data/x/S.csv:2: expected 7 fields, got 3");
  ExpectError("date,open,high,close\n2020-01-03,1,2,1\n",
              "data/x/S.csv:1: header has no 'low' column (expected Date,Open,High,Low,Close[,Adj "
              "Close][,Volume])");
  ExpectError(h, "data/x/S.csv: no data rows");
  ExpectError("", "data/x/S.csv: empty file (no header)");
}

TEST(CsvReaderTest, MissingFileIsNotFound) {
  auto r = LoadBarsCsv("/nonexistent/dir/ZZZ.csv", "ZZZ", "data/demo/ZZZ.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "data/demo/ZZZ.csv: missing file");
}

TEST(CsvReaderTest, BinaryCacheRoundTripsAndIsInvalidatedByChanges) {
  testing::TempWorkspace tmp;
  tmp.Write("d/A.csv", "date,open,high,low,close,adjclose,volume\n2020-01-02,1.25,2,1,1.5,1.5,7\n");
  const auto file = tmp.root() / "d" / "A.csv";
  auto first = LoadBarsCsv(file, "A", "d/A.csv");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(std::filesystem::exists(tmp.root() / "d" / ".cache" / "A.bin"));
  auto second = LoadBarsCsv(file, "A", "d/A.csv");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->date, first->date);
  EXPECT_EQ(second->open, first->open);
  EXPECT_EQ(second->volume, first->volume);
  // Change the file (different size and mtime): the cache must not be used.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  tmp.Write("d/A.csv", "date,open,high,low,close,adjclose,volume\n2020-01-02,1.25,2,1,1.5,1.5,7\n"
                       "2020-01-03,1.5,2,1,1.75,1.75,8\n");
  auto third = LoadBarsCsv(file, "A", "d/A.csv");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->size(), 2u);
  EXPECT_DOUBLE_EQ(third->close[1], 1.75);
  // A broken file is reported even though an older cache exists.
  tmp.Write("d/A.csv", "date,open,high,low,close,adjclose,volume\n2020-01-02,1.25,2,1,0,1.5,7\n");
  EXPECT_FALSE(LoadBarsCsv(file, "A", "d/A.csv").ok());
}

TEST(CsvReaderTest, FormatThenParseRoundTrips) {
  BarSeries s;
  s.symbol = "R";
  s.date = {100, 101};
  s.open = {1.5, 2.25};
  s.high = {2, 3};
  s.low = {1, 2};
  s.close = {1.75, 2.5};
  s.adj_close = {1.75, 2.5};
  s.volume = {10, 20};
  auto r = ParseBarsCsv(FormatBarsCsv(s), "R", "R.csv");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->date, s.date);
  EXPECT_EQ(r->open, s.open);
  EXPECT_EQ(r->close, s.close);
}

}  // namespace
}  // namespace alphalab::engine

#include "engine/data/qlib_reader.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "core/clock.hpp"
#include "engine/data/temp_workspace.hpp"
#include "engine/data/dataset.hpp"

namespace alphalab::engine {
namespace {

// calendar: 6 business days; SH600000 spans days 1..4, SZ000001 spans 0..5.
void WriteQlib(const testing::TempWorkspace& tmp, bool with_gap = false) {
  tmp.Write("q/calendars/day.txt",
            "2020-01-02\n2020-01-03\n2020-01-06\n2020-01-07\n2020-01-08\n2020-01-09\n");
  tmp.Write("q/instruments/all.txt",
            "SH600000\t2020-01-03\t2020-01-08\nSZ000001\t2020-01-02\t2020-01-09\n");
  auto write = [&](const std::string& inst, uint32_t start, std::vector<float> close) {
    const auto dir = tmp.root() / "q" / "features" / inst;
    std::vector<float> open, high, low, vol;
    for (float c : close) {
      open.push_back(c - 0.5f);
      high.push_back(c + 1);
      low.push_back(c - 1);
      vol.push_back(1000);
    }
    ASSERT_TRUE(WriteQlibField(dir / "open.day.bin", start, open).ok());
    ASSERT_TRUE(WriteQlibField(dir / "high.day.bin", start, high).ok());
    ASSERT_TRUE(WriteQlibField(dir / "low.day.bin", start, low).ok());
    ASSERT_TRUE(WriteQlibField(dir / "close.day.bin", start, close).ok());
    ASSERT_TRUE(WriteQlibField(dir / "volume.day.bin", start, vol).ok());
  };
  write("sh600000", 1, {10, 11, with_gap ? NAN : 12.0f, 13});
  write("sz000001", 0, {5, 5.5f, 6, 6.5f, 7, 7.5f});
}

TEST(QlibReaderTest, ReadsLayoutWithStartIndex) {
  testing::TempWorkspace tmp;
  WriteQlib(tmp);
  auto idx = OpenQlibIndex(tmp.root() / "q");
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  EXPECT_EQ(idx->calendar.size(), 6u);
  auto s = LoadQlibInstrument(*idx, "sh600000");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->symbol, "SH600000");
  ASSERT_EQ(s->size(), 4u);
  EXPECT_EQ(FormatDate(s->date.front()), "2020-01-03");  // calendar[1]
  EXPECT_EQ(FormatDate(s->date.back()), "2020-01-08");
  EXPECT_DOUBLE_EQ(s->close[2], 12);
  EXPECT_DOUBLE_EQ(s->open[2], 11.5);
  EXPECT_DOUBLE_EQ(s->high[0], 11);
}

TEST(QlibReaderTest, ReportsGapsMissingFeaturesAndUnknownInstruments) {
  testing::TempWorkspace tmp;
  WriteQlib(tmp, /*with_gap=*/true);
  auto idx = OpenQlibIndex(tmp.root() / "q");
  ASSERT_TRUE(idx.ok());
  auto gap = LoadQlibInstrument(*idx, "SH600000");
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.status().message().find("1 calendar day(s) without data inside the instrument's span, "
                                        "first on 2020-01-07"),
            std::string::npos)
      << gap.status().message();
  auto unknown = LoadQlibInstrument(*idx, "SH999999");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("instrument SH999999 is not in the index"), std::string::npos);
  // Listed but without features.
  tmp.Write("q/instruments/csi.txt", "SH600001\t2020-01-02\t2020-01-09\n");
  idx = OpenQlibIndex(tmp.root() / "q");
  auto missing = LoadQlibInstrument(*idx, "SH600001");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("is listed in instruments/csi.txt but"), std::string::npos)
      << missing.status().message();
  // Span past the end of the calendar.
  ASSERT_TRUE(WriteQlibField(tmp.root() / "q/features/sz000001/close.day.bin", 3, {1, 2, 3, 4}).ok());
  auto past = LoadQlibInstrument(*idx, "SZ000001");
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.status().message().find("runs past the calendar (6 days)"), std::string::npos)
      << past.status().message();
}

TEST(QlibReaderTest, TheInstrumentsFileEndDateEndsTheSeries) {
  // SZ000001's features run to the calendar's last day (2020-01-09), its all.txt line ends on
  // 2020-01-07: the series ends there (a delisting); NaN padding after the end is not a gap.
  testing::TempWorkspace tmp;
  WriteQlib(tmp);
  tmp.Write("q/instruments/all.txt",
            "SH600000\t2020-01-03\t2020-01-08\nSZ000001\t2020-01-02\t2020-01-07\n");
  auto idx = OpenQlibIndex(tmp.root() / "q");
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  EXPECT_EQ(FormatDate(idx->spans.at("SZ000001").second), "2020-01-07");
  auto s = LoadQlibInstrument(*idx, "SZ000001");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->size(), 4u);
  EXPECT_EQ(FormatDate(s->date.back()), "2020-01-07");
  EXPECT_DOUBLE_EQ(s->close.back(), 6.5);
  // NaN after the listed end: accepted (outside the span).
  const auto dir = tmp.root() / "q" / "features" / "sz000001";
  for (const char* f : {"open", "high", "low", "close", "volume"}) {
    ASSERT_TRUE(WriteQlibField(dir / (std::string(f) + ".day.bin"), 0, {5, 5.5f, 6, 6.5f, NAN, NAN}).ok());
  }
  s = LoadQlibInstrument(*idx, "SZ000001");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->size(), 4u);
  // The start date clips the front the same way.
  tmp.Write("q/instruments/all.txt",
            "SH600000\t2020-01-06\t2020-01-08\nSZ000001\t2020-01-02\t2020-01-07\n");
  idx = OpenQlibIndex(tmp.root() / "q");
  auto a = LoadQlibInstrument(*idx, "SH600000");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(FormatDate(a->date.front()), "2020-01-06");
  EXPECT_EQ(a->size(), 3u);
  // An index file lists membership periods: the span is their union (first file wins).
  tmp.Write("q/instruments/all.txt", "SZ000001\t2020-01-02\t2020-01-09\n");
  tmp.Write("q/instruments/csi.txt", "SH600000\t2020-01-03\t2020-01-06\nSH600000\t2020-01-07\t2020-01-08\n");
  idx = OpenQlibIndex(tmp.root() / "q");
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  EXPECT_EQ(FormatDate(idx->spans.at("SH600000").first), "2020-01-03");
  EXPECT_EQ(FormatDate(idx->spans.at("SH600000").second), "2020-01-08");
  // A malformed line names the file and the line.
  tmp.Write("q/instruments/all.txt", "SZ000001\t2020-01-02\t2020-01-09\nSH600000\t2020-01-08\t2020-01-03\n");
  auto bad = OpenQlibIndex(tmp.root() / "q");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("instruments/all.txt:2: expected SYMBOL<TAB>start<TAB>end"),
            std::string::npos)
      << bad.status().message();
}

// Found by fuzz_qlib: a name with a NUL byte turned "features/<name>/open.day.bin" into the
// features folder itself, which fopen opened and whose "size" asked for a huge allocation.
TEST(QlibReaderTest, InstrumentNamesThatAreNotPlainNamesAreRefused) {
  testing::TempWorkspace tmp;
  WriteQlib(tmp);
  for (const std::string& bad : {std::string("AB\0CD", 5), std::string("../q"), std::string(".."), std::string("a\\b")}) {
    tmp.Write("q/instruments/all.txt", "SZ000001\t2020-01-02\t2020-01-09\n" + bad + "\t2020-01-02\t2020-01-09\n");
    auto idx = OpenQlibIndex(tmp.root() / "q");
    ASSERT_FALSE(idx.ok());
    EXPECT_EQ(idx.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(idx.status().message().find("bad instrument name"), std::string::npos) << idx.status().message();
  }
  // A field "file" that is a folder is not read.
  tmp.Write("q/instruments/all.txt", "SZ000001\t2020-01-02\t2020-01-09\n");
  std::filesystem::remove(tmp.root() / "q/features/sz000001/close.day.bin");
  std::filesystem::create_directories(tmp.root() / "q/features/sz000001/close.day.bin");
  auto idx = OpenQlibIndex(tmp.root() / "q");
  ASSERT_TRUE(idx.ok());
  EXPECT_FALSE(LoadQlibInstrument(*idx, "SZ000001").ok());
}

// Found by fuzz_qlib: a start index of 8.3e34 was cast to size_t (undefined) before the
// calendar check.
TEST(QlibReaderTest, AStartIndexBeyondTheCalendarIsRefusedBeforeAnyCast) {
  testing::TempWorkspace tmp;
  WriteQlib(tmp);
  for (const float start : {8.30767e34f, std::numeric_limits<float>::infinity(), 1e9f}) {
    const float data[] = {start, 5.0f, 5.5f};
    std::ofstream(tmp.root() / "q/features/sz000001/open.day.bin", std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), sizeof data);
    auto idx = OpenQlibIndex(tmp.root() / "q");
    ASSERT_TRUE(idx.ok()) << idx.status().ToString();
    auto s = LoadQlibInstrument(*idx, "SZ000001");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("bad start index"), std::string::npos) << s.status().message();
  }
}

TEST(QlibReaderTest, LoadUniverseAndValidateThroughDataset) {
  testing::TempWorkspace tmp;
  WriteQlib(tmp);
  tmp.Write("alphalab.yaml", "datasets:\n  cn:\n    format: qlib\n    path: q\n");
  auto ds = ResolveDataset(tmp.ws(), "cn");
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->format, "qlib");
  auto u = LoadUniverse(tmp.ws(), *ds, {"sz000001", "SH600000"}, std::nullopt, std::nullopt);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->calendar.size(), 6u);
  EXPECT_EQ(u->Find("SZ000001")->size(), 6u);
  auto problems = ValidateDataset(tmp.ws(), *ds);
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty());
  // A features folder nobody lists.
  ASSERT_TRUE(WriteQlibField(tmp.root() / "q/features/sh688888/close.day.bin", 0, {1}).ok());
  problems = ValidateDataset(tmp.ws(), *ds);
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_EQ((*problems)[0], "features/sh688888/ has no entry in instruments/*.txt (instrument not in the index)");
  auto bad = LoadUniverse(tmp.ws(), *ds, {"SH600009"}, std::nullopt, std::nullopt);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown ticker 'SH600009' in dataset 'cn' (available: SH600000, SZ000001)");
}

}  // namespace
}  // namespace alphalab::engine

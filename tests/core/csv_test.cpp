#include "core/csv.hpp"

#include <gtest/gtest.h>

namespace alphalab {
namespace {

std::vector<std::vector<std::string>> Fields(std::string_view text) {
  auto r = ParseCsvRecords(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::vector<std::string>> out;
  if (r.ok()) {
    for (auto& rec : *r) out.push_back(rec.fields);
  }
  return out;
}

TEST(CsvTest, QuotesCommasLineBreaksAndEmptyFields) {
  using V = std::vector<std::vector<std::string>>;
  EXPECT_EQ(Fields("a,b\n1,2\n"), (V{{"a", "b"}, {"1", "2"}}));
  EXPECT_EQ(Fields("a,b\r\n1,\r\n"), (V{{"a", "b"}, {"1", ""}}));
  EXPECT_EQ(Fields("\"x,y\",\"say \"\"hi\"\"\"\n"), (V{{"x,y", "say \"hi\""}}));
  EXPECT_EQ(Fields("\"two\nlines\",z"), (V{{"two\nlines", "z"}}));
  EXPECT_EQ(Fields("a\n\n\nb\n"), (V{{"a"}, {"b"}}));  // empty lines skipped
  EXPECT_EQ(Fields("\xEF\xBB\xBFIC,0.1\n"), (V{{"IC", "0.1"}}));  // byte order mark dropped
  EXPECT_EQ(Fields("\"\"\n"), (V{{""}}));
  EXPECT_EQ(Fields("\"a\"b,c"), (V{{"ab", "c"}}));  // after the closing quote: kept as is
  EXPECT_TRUE(Fields("").empty());
}

TEST(CsvTest, RecordsKnowTheirLineAndAnOpenQuoteIsAnError) {
  auto r = ParseCsvRecords("h\n\n\"a\nb\"\nc\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].line, 1u);
  EXPECT_EQ((*r)[1].line, 3u);
  EXPECT_EQ((*r)[2].line, 5u);
  auto open = ParseCsvRecords("x,0\n\"IC,0.1\n");
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().message(), "line 2 has an unterminated quote");
}

}  // namespace
}  // namespace alphalab

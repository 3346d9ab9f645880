// The export archive: entries round-trip through a real zip, bytes are reproducible, bad
// entry names are refused, and ExportEntries carries the three content files.
#include "optimize/export_zip.hpp"

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

TEST(ExportZipTest, RoundTripAndReproducible) {
  std::string big(200000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  const std::vector<ZipEntry> entries = {{"manifest.jsonl", "{\"task_id\":\"job_1\"}\n"},
                                         {"report.md", "# Report\n"},
                                         {"artifacts/bt_1/summary.json", big},
                                         {"empty.txt", ""}};
  auto zip = BuildZip(entries);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  EXPECT_EQ(zip->substr(0, 4), std::string("PK\x03\x04", 4));
  EXPECT_LT(zip->size(), big.size());  // deflated
  auto back = ReadZip(*zip);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ((*back)[i].name, entries[i].name);
    EXPECT_EQ((*back)[i].data, entries[i].data);
  }
  auto again = BuildZip(entries);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *zip);
  auto none = BuildZip({});  // libzip writes no file for an empty archive
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.status().IsInvalidArgument());
}

TEST(ExportZipTest, BadNamesAreRefused) {
  for (const char* name : {"", "/etc/passwd", "../x", "a/../b", "a//b", "a/./b", "a\\b", "dir/"}) {
    auto zip = BuildZip({{name, "x"}});
    ASSERT_FALSE(zip.ok()) << name;
    EXPECT_TRUE(zip.status().IsInvalidArgument()) << name;
  }
  auto dup = BuildZip({{"a.txt", "1"}, {"a.txt", "2"}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("appears twice"), std::string::npos);
}

TEST(ExportZipTest, NotAZip) {
  auto r = ReadZip("this is not a zip file");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
}

TEST(ExportZipTest, ExportEntriesHoldTheContentFiles) {
  ExportInput in;
  in.optimization_id = "opt_1";
  in.status = "succeeded";
  in.objective = Objective{"cagr", Direction::kMax};
  TaskRecord t;
  t.task_id = "job_1";
  t.index = 0;
  t.status = TaskState::kSucceeded;
  t.score = 0.1;
  in.tasks.push_back(t);
  in.summary.total = 1;
  in.summary.finished = 1;
  in.summary.best_score = 0.1;
  in.summary.top_n.push_back(TopEntry{"job_1", 0, 0.1, Json::object(), "bt_1"});
  auto entries = ExportEntries(in);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "manifest.jsonl");
  EXPECT_EQ(entries[0].data, BuildManifestJsonl(in.tasks));
  EXPECT_EQ(entries[1].name, "top_n.json");
  EXPECT_EQ(Json::parse(entries[1].data), BuildTopNJson(in));
  EXPECT_EQ(entries[2].name, "report.md");
  EXPECT_EQ(entries[2].data, BuildReportMarkdown(in));
  auto zip = BuildZip(entries);
  ASSERT_TRUE(zip.ok());
  auto back = ReadZip(*zip);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].data, entries[0].data);
}

}  // namespace
}  // namespace alphalab::optimize

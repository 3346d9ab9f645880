#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "jobs/log_reader.hpp"

namespace alphalab {
namespace {

namespace fs = std::filesystem;
const std::string kFffd = "\xEF\xBF\xBD";

class LogReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("logreader_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Write(const std::string& content) {
    fs::path p = dir_ / "job.log";
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path dir_;
};

TEST_F(LogReaderTest, SearchFindsLinesByOffsetCaseInsensitiveAndPages) {
  // Line i is "line <i> ok" or, every 7th, "line <i> ERROR x"; offsets computed here.
  std::string text;
  std::vector<std::pair<int64_t, std::string>> expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string line = "line " + std::to_string(i) + (i % 7 == 0 ? " ERROR x" : " ok");
    if (i % 7 == 0) expected.emplace_back(static_cast<int64_t>(text.size()), line);
    text += line + "\n";
  }
  text += "tail error without newline";
  expected.emplace_back(static_cast<int64_t>(text.size()) - 26, "tail error without newline");
  auto p = Write(text);
  // All at once.
  auto all = SearchLog(dir_, p, "error", 0, 1000);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->matches.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(all->matches[i].offset, expected[i].first);
    EXPECT_EQ(all->matches[i].line, expected[i].second);
  }
  EXPECT_TRUE(all->complete);
  EXPECT_EQ(all->next_offset, static_cast<int64_t>(text.size()));
  // Paged by limit: continuing from next_offset gives the same matches, none twice.
  std::vector<int64_t> paged;
  int64_t offset = 0;
  for (int calls = 0; calls < 100; ++calls) {
    auto page = SearchLog(dir_, p, "ErRoR", offset, 10);
    ASSERT_TRUE(page.ok());
    for (const auto& m : page->matches) paged.push_back(m.offset);
    offset = page->next_offset;
    if (page->complete) break;
  }
  ASSERT_EQ(paged.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(paged[i], expected[i].first);
  // Paged by the scan budget (64 bytes a call): the same again.
  paged.clear();
  offset = 0;
  for (int calls = 0; calls < 10000; ++calls) {
    auto page = SearchLog(dir_, p, "error", offset, 1000, 64);
    ASSERT_TRUE(page.ok());
    ASSERT_GT(page->next_offset, offset) << "every call moves on";
    for (const auto& m : page->matches) paged.push_back(m.offset);
    offset = page->next_offset;
    if (page->complete) break;
  }
  ASSERT_EQ(paged.size(), expected.size());
  EXPECT_EQ(paged.back(), expected.back().first);
  // Nothing found; bad input.
  auto none = SearchLog(dir_, p, "no such text", 0, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->matches.empty());
  EXPECT_TRUE(none->complete);
  EXPECT_TRUE(SearchLog(dir_, p, "", 0, 10).status().IsInvalidArgument());
  EXPECT_TRUE(SearchLog(dir_, p, "x", -1, 10).status().IsInvalidArgument());
  EXPECT_TRUE(SearchLog(dir_, dir_ / "missing.log", "x", 0, 10).status().IsNotFound());
}

TEST_F(LogReaderTest, SearchIsConfinedLikeTheLogReader) {
  const fs::path outside = fs::temp_directory_path() / ("logsearch_secret_" + std::to_string(::getpid()));
  std::ofstream(outside) << "secret password\n";
  fs::create_directories(dir_ / "logs");
  fs::create_symlink(outside, dir_ / "logs" / "job.log");
  auto r = SearchLog(dir_ / "logs", dir_ / "logs" / "job.log", "secret", 0, 10);
  EXPECT_FALSE(r.ok());
  fs::remove(outside);
}

TEST_F(LogReaderTest, WholeFileWhenSmallerThanTail) {
  auto p = Write("hello\nworld\n");
  auto c = ReadLogChunk(p, 0, 20000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->content, "hello\nworld\n");
  EXPECT_EQ(c->next_offset, 12);
  EXPECT_FALSE(c->is_truncated);
}

TEST_F(LogReaderTest, TailOfBiggerFile) {
  std::string s;
  for (int i = 0; i < 1000; ++i) s += "line " + std::to_string(i) + "\n";
  auto p = Write(s);
  auto c = ReadLogChunk(p, 0, 100);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->content, s.substr(s.size() - 100));
  EXPECT_EQ(c->next_offset, static_cast<int64_t>(s.size()));
  EXPECT_TRUE(c->is_truncated);
}

TEST_F(LogReaderTest, OffsetReadsToEofNotTruncated) {
  auto p = Write("0123456789");
  auto c = ReadLogChunk(p, 4, 2);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->content, "456789");
  EXPECT_EQ(c->next_offset, 10);
  EXPECT_FALSE(c->is_truncated);
}

TEST_F(LogReaderTest, OffsetPastEofIsEmptyAtEof) {
  auto p = Write("abc");
  auto c = ReadLogChunk(p, 50, 20000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->content, "");
  EXPECT_EQ(c->next_offset, 3);
  auto at = ReadLogChunk(p, 3, 20000);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->content, "");
  EXPECT_EQ(at->next_offset, 3);
}

TEST_F(LogReaderTest, NegativeAndMissing) {
  auto p = Write("abc");
  EXPECT_EQ(ReadLogChunk(p, -1, 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadLogChunk(p, 0, -5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadLogChunk(dir_ / "nope.log", 0, 10).status().code(), StatusCode::kNotFound);
}

TEST_F(LogReaderTest, CapSplitsResponsesAndFollowerCatchesUp) {
  std::string s;
  std::mt19937 rng(7);
  while (s.size() < 3000) s += "x" + std::to_string(rng() % 1000) + "\n";
  auto p = Write(s);
  std::string got;
  int64_t off = 0;
  int steps = 0;
  // offset 0 with a huge tail reads from the start, capped; then offsets step forward.
  auto first = ReadLogChunk(p, 0, 1 << 30, false, 1000);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->next_offset, 1000);
  EXPECT_FALSE(first->is_truncated);
  got += first->content;
  off = first->next_offset;
  while (off < static_cast<int64_t>(s.size())) {
    auto c = ReadLogChunk(p, off, 20000, false, 1000);
    ASSERT_TRUE(c.ok());
    ASSERT_GT(c->next_offset, off);
    EXPECT_LE(c->content.size(), 1000u);
    got += c->content;
    off = c->next_offset;
    ++steps;
  }
  EXPECT_EQ(got, s);
  EXPECT_EQ(steps, static_cast<int>((s.size() - 1000 + 999) / 1000));
}

TEST_F(LogReaderTest, WholeFileAboveTheCapComesInSteps) {
  // offset 0 and file <= tail means "the whole file", but one response carries at most the
  // cap: the first cap bytes, not truncated, next_offset < EOF so the client comes back.
  std::string s(5000, 'a');
  s += "END";
  auto p = Write(s);
  auto c = ReadLogChunk(p, 0, 100000, false, 1000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->content, std::string(1000, 'a'));
  EXPECT_FALSE(c->is_truncated);
  EXPECT_EQ(c->next_offset, 1000);
}

TEST_F(LogReaderTest, TailLargerThanCapReturnsLastCapBytes) {
  std::string s(5000, 'a');
  s += "END";
  auto p = Write(s);
  auto c = ReadLogChunk(p, 0, 2000, false, 1000);  // file > tail > cap
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->content.size(), 1000u);
  EXPECT_EQ(c->content.substr(997), "END");
  EXPECT_TRUE(c->is_truncated);
  EXPECT_EQ(c->next_offset, static_cast<int64_t>(s.size()));
}

TEST_F(LogReaderTest, InvalidUtf8IsReplaced) {
  // "ok " + invalid byte FF + " " + truncated 3-byte seq (E2 82) + "x" + valid euro sign.
  auto p = Write(std::string("ok \xFF \xE2\x82x \xE2\x82\xAC"));
  auto c = ReadLogChunk(p, 0, 20000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->content, "ok " + kFffd + " " + kFffd + "x \xE2\x82\xAC");
}

TEST_F(LogReaderTest, TailStartingInsideACharacterReplacesTheFragment) {
  // "中" is E4 B8 AD. A tail of 4 bytes of "a中b" starts on B8 (inside the character).
  auto p = Write("aa\xE4\xB8\xAD" "b");
  auto c = ReadLogChunk(p, 0, 3);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->is_truncated);
  // B8 AD b: two orphan continuation bytes, each replaced (not silently dropped).
  EXPECT_EQ(c->content, kFffd + kFffd + "b");
  EXPECT_EQ(c->next_offset, 6);
}

TEST_F(LogReaderTest, IncompleteCharacterAtCapCutIsHeldBack) {
  std::string s = "abc\xE4\xB8\xAD" "def";  // 中 at bytes 3..5
  auto p = Write(s);
  auto c = ReadLogChunk(p, 1, 20000, false, 4);  // bytes 1..4: "bc" + E4 B8
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->content, "bc");
  EXPECT_EQ(c->next_offset, 3);
  auto rest = ReadLogChunk(p, c->next_offset, 20000);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->content, "\xE4\xB8\xAD" "def");
}

TEST_F(LogReaderTest, IncompleteCharacterAtEofHeldWhileWriterRuns) {
  auto p = Write("hi \xE4\xB8");
  auto running = ReadLogChunk(p, 1, 20000, /*hold_incomplete_tail=*/true);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->content, "i ");
  EXPECT_EQ(running->next_offset, 3);
  auto finished = ReadLogChunk(p, 1, 20000, /*hold_incomplete_tail=*/false);
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ(finished->content, "i " + kFffd);
  EXPECT_EQ(finished->next_offset, 5);
}

TEST_F(LogReaderTest, SanitizeMatchesMaximalSubpartPractice) {
  // Overlong encoding C0 AF: two invalid bytes -> two replacements.
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), kFffd + kFffd);
  // Surrogate ED A0 80: ED then A0 is invalid (ED allows 80..9F) -> 3 replacements.
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  // 4-byte sequence cut after 2 valid bytes then ASCII: one replacement for the prefix.
  EXPECT_EQ(SanitizeUtf8("\xF0\x9F" "A"), kFffd + "A");
  EXPECT_EQ(SanitizeUtf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
}

TEST_F(LogReaderTest, SparseMultiGigabyteTailIsFast) {
  fs::path p = dir_ / "big.log";
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  const int64_t size = int64_t{4} << 30;  // 4 GiB, sparse
  ASSERT_EQ(::ftruncate(fd, size - 6), 0);
  ASSERT_EQ(::pwrite(fd, "last\n", 5, size - 6), 5);
  ASSERT_EQ(::pwrite(fd, "\n", 1, size - 1), 1);
  ::close(fd);
  const auto t0 = std::chrono::steady_clock::now();
  auto c = ReadLogChunk(p, 0, 20000);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->next_offset, size);
  EXPECT_TRUE(c->is_truncated);
  EXPECT_EQ(c->content.size(), 20000u);
  EXPECT_EQ(c->content.substr(c->content.size() - 6), "last\n\n");
  EXPECT_LT(ms, 50.0) << "tail of a 4 GiB file took " << ms << " ms";
  // Reading from an offset near the end is just as cheap.
  auto near = ReadLogChunk(p, size - 3, 20000);
  ASSERT_TRUE(near.ok());
  EXPECT_EQ(near->content, "t\n\n");
}

}  // namespace
}  // namespace alphalab

// FileReplacer on the real file system: contents, inode reuse (nothing freed), reader safety.
#include "core/file_replacer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace alphalab {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ino_t Inode(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

class FileReplacerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/alphalab_replacer_XXXXXX";
    base_ = fs::path(mkdtemp(tmpl));
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_;
};

TEST_F(FileReplacerTest, WritesNewFilesAndReplacesExistingOnes) {
  FileReplacer replacer(base_ / ".scratch");
  const fs::path target = base_ / "job.json";
  ASSERT_TRUE(replacer.Write(target, "first").ok());
  EXPECT_EQ(ReadAll(target), "first");
  EXPECT_EQ(replacer.spares(), 0u);  // the scratch file became the target
  ASSERT_TRUE(replacer.Write(target, "second, longer").ok());
  EXPECT_EQ(ReadAll(target), "second, longer");
  ASSERT_TRUE(replacer.Write(target, "3").ok());
  EXPECT_EQ(ReadAll(target), "3");
  EXPECT_EQ(replacer.spares(), 2u);  // the two replaced versions, kept, not freed
  // Only the target and the spares exist: no temporary file is left behind.
  size_t in_scratch = 0;
  for (const auto& e : fs::directory_iterator(base_ / ".scratch")) in_scratch += e.is_regular_file();
  EXPECT_EQ(in_scratch, 2u);
}

TEST_F(FileReplacerTest, ReplacementsCycleThroughTheSameInodesOnceTheDelayPassed) {
  FileReplacer replacer(base_ / ".scratch", FileReplacerOptions{0ms, 64});
  const fs::path target = base_ / "job.json";
  ASSERT_TRUE(replacer.Write(target, "v0").ok());
  ASSERT_TRUE(replacer.Write(target, "v1").ok());
  std::set<ino_t> seen;
  for (int i = 2; i < 50; ++i) {
    ASSERT_TRUE(replacer.Write(target, "v" + std::to_string(i)).ok());
    seen.insert(Inode(target));
    EXPECT_EQ(ReadAll(target), "v" + std::to_string(i));
  }
  // With immediate reuse two inodes serve every version: no allocation, nothing freed.
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(replacer.spares(), 1u);
}

TEST_F(FileReplacerTest, SparesAreNotReusedBeforeTheDelayAndAreCapped) {
  const fs::path target = base_ / "job.json";
  {
    FileReplacer replacer(base_ / ".scratch_a", FileReplacerOptions{10s, 100});
    std::set<ino_t> inodes;
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(replacer.Write(target, std::string(100 + i, 'x')).ok());
      inodes.insert(Inode(target));
    }
    EXPECT_EQ(inodes.size(), 6u);      // a fresh file each time while the spares are too young
    EXPECT_EQ(replacer.spares(), 5u);
  }
  FileReplacer capped(base_ / ".scratch_b", FileReplacerOptions{10s, 3});
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(capped.Write(target, std::to_string(i)).ok());
  EXPECT_EQ(capped.spares(), 3u);  // the oldest were deleted
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(base_ / ".scratch_b")) files += e.is_regular_file();
  EXPECT_EQ(files, 3u);
  EXPECT_EQ(ReadAll(target), "5");
}

TEST_F(FileReplacerTest, ManyTargetsFromSeveralThreads) {
  FileReplacer replacer(base_ / ".scratch", FileReplacerOptions{0ms, 1000});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 50; ++i) {
          const fs::path target = base_ / ("t" + std::to_string(t) + "_" + std::to_string(i));
          EXPECT_TRUE(replacer.Write(target, std::to_string(round) + ":" + target.filename().string()).ok());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 50; ++i) {
      const std::string name = "t" + std::to_string(t) + "_" + std::to_string(i);
      EXPECT_EQ(ReadAll(base_ / name), "2:" + name);
    }
  }
}

TEST_F(FileReplacerTest, ReadersSeeWholeVersionsOnly) {
  FileReplacer replacer(base_ / ".scratch");  // default reuse delay
  const fs::path target = base_ / "job.json";
  const std::string a(5000, 'a'), b(300, 'b');
  ASSERT_TRUE(replacer.Write(target, a).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, torn{0};
  std::thread reader([&] {
    while (!stop) {
      const std::string got = ReadAll(target);
      if (got != a && got != b) ++torn;
      ++reads;
    }
  });
  // At least 400 rewrites, and on until the reader has read 100 times while they went on: on a
  // loaded machine (a sanitized run) the reader thread may not be scheduled at all during the
  // first 400, which checked nothing (reads 0).
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (int i = 0; i < 400 || (reads < 100 && std::chrono::steady_clock::now() < deadline); ++i) {
    ASSERT_TRUE(replacer.Write(target, i % 2 ? a : b).ok());
  }
  stop = true;
  reader.join();
  EXPECT_GE(reads.load(), 100);
  EXPECT_EQ(torn.load(), 0);
}

TEST_F(FileReplacerTest, LeftoverSparesOfAnEarlierProcessAreReused) {
  fs::create_directories(base_ / ".scratch");
  std::ofstream(base_ / ".scratch" / "old_spare") << "stale";
  const ino_t old = Inode(base_ / ".scratch" / "old_spare");
  FileReplacer replacer(base_ / ".scratch");
  EXPECT_EQ(replacer.spares(), 1u);
  ASSERT_TRUE(replacer.Write(base_ / "new.json", "first").ok());  // new file: no spare needed
  EXPECT_NE(Inode(base_ / "new.json"), old);
  EXPECT_EQ(replacer.spares(), 1u);
  ASSERT_TRUE(replacer.Write(base_ / "new.json", "fresh").ok());  // replacement: the old spare
  EXPECT_EQ(Inode(base_ / "new.json"), old);
  EXPECT_EQ(ReadAll(base_ / "new.json"), "fresh");
}

TEST_F(FileReplacerTest, MissingTargetFolderIsAnError) {
  FileReplacer replacer(base_ / ".scratch");
  Status s = replacer.Write(base_ / "no" / "such" / "dir" / "x.json", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("x.json"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace alphalab

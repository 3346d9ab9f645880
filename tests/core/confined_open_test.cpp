// OpenConfined: the hostile corpus (symlinks to /etc/passwd and out of the root at every
// position) is refused by both the openat2 path and the component walk; symlinks that stay
// inside the root keep working.
#include "core/confined_open.hpp"

#include <unistd.h>

#include <fstream>
#include <random>

#include <gtest/gtest.h>

namespace alphalab {
namespace {

namespace fs = std::filesystem;

class ConfinedOpenTest : public ::testing::TestWithParam<ConfinedMethod> {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("alphalab_confined_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(std::random_device{}()));
    root_ = base_ / "ws";
    fs::create_directories(root_ / "runs" / "r1");
    fs::create_directories(base_ / "outside");
    std::ofstream(root_ / "runs" / "r1" / "config.yaml") << "inside: true\n";
    std::ofstream(base_ / "outside" / "secret.txt") << "secret\n";
    // Inside the root: relative, absolute and '..' links.
    fs::create_symlink("config.yaml", root_ / "runs" / "r1" / "rel.yaml");
    fs::create_symlink(root_ / "runs" / "r1" / "config.yaml", root_ / "runs" / "r1" / "abs.yaml");
    fs::create_directories(root_ / "runs" / "r2");
    fs::create_symlink("../r1/config.yaml", root_ / "runs" / "r2" / "config.yaml");
    fs::create_directory_symlink("r1", root_ / "runs" / "r1_alias");
    fs::create_directory_symlink(root_ / "runs" / "r1", root_ / "runs" / "r1_abs_alias");
    // Hostile: every way out.
    fs::create_directories(root_ / "runs" / "evil");
    fs::create_symlink("/etc/passwd", root_ / "runs" / "evil" / "config.yaml");
    fs::create_symlink("../../../outside/secret.txt", root_ / "runs" / "evil" / "trades.csv");
    fs::create_symlink(base_ / "outside" / "secret.txt", root_ / "runs" / "evil" / "summary.json");
    fs::create_directory_symlink("/etc", root_ / "runs" / "etc_dir");
    fs::create_directory_symlink(base_ / "outside", root_ / "runs" / "out_dir");
    fs::create_directory_symlink("..", root_ / "runs" / "evil" / "up");  // runs/evil/up -> runs
    fs::create_directory_symlink("../..", root_ / "runs" / "evil" / "up2");  // -> root (fine)
    fs::create_directory_symlink("../../..", root_ / "runs" / "evil" / "up3");  // -> base (outside)
    fs::create_symlink("loop_b", root_ / "runs" / "loop_a");
    fs::create_symlink("loop_a", root_ / "runs" / "loop_b");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  Result<std::string> Read(const fs::path& p) { return ReadFileConfined(root_, p, 1 << 20, GetParam()); }

  fs::path base_;
  fs::path root_;
};

TEST_P(ConfinedOpenTest, SymlinksInsideTheRootKeepWorking) {
  for (const char* p : {"runs/r1/config.yaml", "runs/r1/rel.yaml", "runs/r1/abs.yaml", "runs/r2/config.yaml",
                        "runs/r1_alias/config.yaml", "runs/r1_abs_alias/config.yaml",
                        "runs/evil/up/r1/config.yaml", "runs/evil/up2/runs/r1/config.yaml",
                        "runs/./r1/../r1/config.yaml"}) {
    auto r = Read(p);
    ASSERT_TRUE(r.ok()) << p << ": " << r.status().ToString();
    EXPECT_EQ(*r, "inside: true\n") << p;
    auto abs = Read(root_ / p);
    ASSERT_TRUE(abs.ok()) << p << ": " << abs.status().ToString();
  }
  EXPECT_TRUE(IsDirectoryConfined(root_, root_ / "runs" / "r1_alias"));
}

TEST_P(ConfinedOpenTest, EveryWayOutIsRefused) {
  for (const char* p : {"runs/evil/config.yaml", "runs/evil/trades.csv", "runs/evil/summary.json",
                        "runs/etc_dir/passwd", "runs/out_dir/secret.txt", "runs/evil/up3/outside/secret.txt",
                        "../outside/secret.txt", "runs/../../outside/secret.txt"}) {
    auto r = Read(p);
    ASSERT_FALSE(r.ok()) << p << " was read: " << *r;
    EXPECT_TRUE(r.status().code() == StatusCode::kPermissionDenied) << p << ": " << r.status().ToString();
    EXPECT_EQ(r.status().message().find("/etc/passwd"), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find(base_.string()), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(Read("/etc/passwd").ok());
  EXPECT_FALSE(Read(base_ / "outside" / "secret.txt").ok());
  EXPECT_FALSE(IsDirectoryConfined(root_, root_ / "runs" / "out_dir"));
  EXPECT_FALSE(IsDirectoryConfined(root_, root_ / "runs" / "etc_dir"));
}

TEST_P(ConfinedOpenTest, MissingLoopsAndNonFiles) {
  EXPECT_TRUE(Read("runs/r1/nope.yaml").status().IsNotFound());
  EXPECT_FALSE(Read("runs/loop_a").ok());
  EXPECT_TRUE(Read("runs/r1").status().IsNotFound());  // a directory is not a regular file
  std::ofstream(root_ / "big.bin") << std::string(2 << 20, 'x');
  EXPECT_EQ(Read("big.bin").status().code(), StatusCode::kResourceExhausted);
}

INSTANTIATE_TEST_SUITE_P(Methods, ConfinedOpenTest,
                         ::testing::Values(ConfinedMethod::kAuto, ConfinedMethod::kWalkOnly),
                         [](const auto& info) { return info.param == ConfinedMethod::kAuto ? "Openat2" : "Walk"; });

}  // namespace
}  // namespace alphalab

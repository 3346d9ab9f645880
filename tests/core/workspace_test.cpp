#include "core/workspace.hpp"
#include "core/message_paths.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace alphalab {
namespace {

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/alphalab_ws_XXXXXX";
    base_ = fs::path(mkdtemp(tmpl));
    fs::create_directories(base_ / "ws" / "configs" / "backtest");
    fs::create_directories(base_ / "ws2");
    fs::create_directories(base_ / "outside");
    std::ofstream(base_ / "ws" / "configs" / "base.yaml") << "a: 1\n";
    std::ofstream(base_ / "outside" / "secret.txt") << "secret\n";
    std::ofstream(base_ / "ws2" / "x.yaml") << "x\n";
    fs::create_directory_symlink(base_ / "outside", base_ / "ws" / "escape_dir");
    fs::create_symlink(base_ / "outside" / "secret.txt", base_ / "ws" / "escape_file.yaml");
    fs::create_symlink(base_ / "ws" / "configs" / "base.yaml", base_ / "ws" / "inner_link.yaml");
    ws_ = std::make_unique<Workspace>(*Workspace::Open(base_ / "ws"));
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(WorkspaceTest, WithoutRootMakesWorkspacePathsRelative) {
  const std::string root = ws_->root().string();
  const fs::path& r = ws_->root();
  EXPECT_EQ(WithoutRoot("cannot write " + root + "/runs/.r.tmp/x: No space left on device", r),
            "cannot write runs/.r.tmp/x: No space left on device");
  EXPECT_EQ(WithoutRoot("in '" + root + "' and " + root + "/a and " + root + "/b", r), "in '.' and a and b");
  // A sibling folder that only starts like the root is not the workspace.
  EXPECT_EQ(WithoutRoot(root + "2/x", r), root + "2/x");
  EXPECT_EQ(WithoutRoot("no paths here", r), "no paths here");
}

TEST_F(WorkspaceTest, AcceptsPathsInside) {
  auto r = ws_->Resolve("configs/base.yaml", PathMust::kExist);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ws_->root() / "configs" / "base.yaml");
  EXPECT_EQ(ws_->Relative(*r), "configs/base.yaml");
  EXPECT_TRUE(ws_->Resolve("./configs/../configs/base.yaml", PathMust::kExist).ok());
  EXPECT_TRUE(ws_->Resolve((ws_->root() / "configs/base.yaml").string(), PathMust::kExist).ok());
  EXPECT_TRUE(ws_->Resolve("inner_link.yaml", PathMust::kExist).ok());  // symlink staying inside
  EXPECT_TRUE(ws_->Resolve("runs/new_run", PathMust::kAny).ok());      // need not exist
  EXPECT_TRUE(ws_->Resolve("100%.yaml").ok());                          // '%' alone is fine
}

// ResolvedPaths answers as Workspace::Resolve does, walking each (path, must) once per batch:
// a second answer comes from memory (even once the file is gone: the batch's view), a refusal
// is the same refusal and is not remembered (the path is walked again once it can resolve).
TEST_F(WorkspaceTest, ResolvedPathsRememberTheBatchsAnswers) {
  ResolvedPaths paths;
  auto first = paths.Resolve(*ws_, "configs/base.yaml", PathMust::kExist);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, *ws_->Resolve("configs/base.yaml", PathMust::kExist));
  fs::remove(base_ / "ws" / "configs" / "base.yaml");
  EXPECT_FALSE(ws_->Resolve("configs/base.yaml", PathMust::kExist).ok());
  auto again = paths.Resolve(*ws_, "configs/base.yaml", PathMust::kExist);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  // Another `must` is another question.
  EXPECT_TRUE(paths.Resolve(*ws_, "configs/base.yaml", PathMust::kAny).ok());
  // Refusals: the same as Workspace::Resolve's, and not remembered.
  for (const char* hostile : {"escape_file.yaml", "../outside/secret.txt"}) {
    auto r = paths.Resolve(*ws_, hostile, PathMust::kExist);
    ASSERT_FALSE(r.ok()) << hostile;
    EXPECT_EQ(r.status().code(), ws_->Resolve(hostile, PathMust::kExist).status().code()) << hostile;
  }
  EXPECT_FALSE(paths.Resolve(*ws_, "configs/later.yaml", PathMust::kExist).ok());
  std::ofstream(base_ / "ws" / "configs" / "later.yaml") << "b: 2\n";
  auto later = paths.Resolve(*ws_, "configs/later.yaml", PathMust::kExist);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(*later, ws_->root() / "configs" / "later.yaml");
}

TEST_F(WorkspaceTest, RefusesHostilePaths) {
  const std::string ws2 = (base_ / "ws2" / "x.yaml").string();
  const std::vector<std::string> hostile = {
      "",
      "../outside/secret.txt",
      "configs/../../outside/secret.txt",
      "/etc/passwd",
      ws2,  // sibling directory sharing the prefix "ws"
      "escape_dir/secret.txt",
      "escape_file.yaml",
      "escape_dir",
      std::string("configs/base.yaml\0../../x", 25),
      "configs/%2e%2e/%2e%2e/outside/secret.txt",
      "%2E%2E%2Fsecret",
      "..%2fsecret",
      "configs\\..\\..\\outside",
      "~/secret",
      "configs/\nbase.yaml",
      "..",
      "./../ws/../outside/secret.txt",
  };
  for (const auto& p : hostile) {
    auto r = ws_->Resolve(p, PathMust::kAny);
    EXPECT_FALSE(r.ok()) << "accepted: " << p;
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalidArgument()) << p << " -> " << r.status().ToString();
      EXPECT_FALSE(r.status().message().empty());
    }
  }
}

TEST_F(WorkspaceTest, ExistenceChecks) {
  EXPECT_TRUE(ws_->Resolve("configs/missing.yaml", PathMust::kExist).status().IsNotFound());
  EXPECT_TRUE(ws_->Resolve("configs/base.yaml", PathMust::kBeNew).status().IsAlreadyExists());
}

TEST_F(WorkspaceTest, OpenRefusesMissingRoot) {
  EXPECT_TRUE(Workspace::Open(base_ / "nope").status().IsNotFound());
  EXPECT_FALSE(Workspace::Open(base_ / "ws" / "configs" / "base.yaml").ok());
}

TEST(IsWithinTest, ComparesComponentsNotPrefixes) {
  EXPECT_TRUE(IsWithin("/a/ws", "/a/ws"));
  EXPECT_TRUE(IsWithin("/a/ws", "/a/ws/x/y"));
  EXPECT_FALSE(IsWithin("/a/ws", "/a/ws2"));
  EXPECT_FALSE(IsWithin("/a/ws", "/a"));
}

TEST_F(WorkspaceTest, AtomicWriteReplacesWholeFile) {
  const fs::path p = ws_->root() / "reports" / "x.json";
  ASSERT_TRUE(WriteFileAtomic(p, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(p, "second version").ok());
  EXPECT_EQ(*ReadFile(p), "second version");
  int leftovers = 0;
  for (const auto& e : fs::directory_iterator(p.parent_path())) leftovers += e.path() != p;
  EXPECT_EQ(leftovers, 0);
}

}  // namespace
}  // namespace alphalab

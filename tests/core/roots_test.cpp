// Extra roots declared in alphalab.yaml (core/roots.hpp): resolved once at start, every read and
// write beneath one confined exactly as workspace paths are.
#include "core/roots.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/confined_open.hpp"
#include "store/temp_dir.hpp"

namespace alphalab {
namespace {

namespace fs = std::filesystem;

void Put(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << s;
}

class RootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = tmp_.path() / "ws";
    outside_ = tmp_.path() / "outside";
    fs::create_directories(ws_ / "tools" / "agent");
    Put(outside_ / "secret.txt", "top secret");
    Put(ws_ / "tools" / "agent" / "conf.yaml", "a: 1\n");
  }
  testing::TempDir tmp_;
  fs::path ws_, outside_;
};

TEST_F(RootsTest, ResolvesRelativeAndAbsoluteRoots) {
  auto roots = ConfinedRoots::Resolve(ws_, {{"agent", "tools/agent", 3}, {"out", outside_.string(), 4}});
  ASSERT_TRUE(roots.ok()) << roots.status().ToString();
  EXPECT_EQ(*roots->Find("agent"), fs::canonical(ws_ / "tools" / "agent"));
  EXPECT_EQ(*roots->Find("workspace"), fs::canonical(ws_));
  EXPECT_EQ(*roots->Read("agent", "conf.yaml"), "a: 1\n");
  EXPECT_EQ(*roots->Read("out", "secret.txt"), "top secret");
  EXPECT_EQ(roots->Find("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(RootsTest, AMissingRootIsAnErrorNamingItsKeyAndLine) {
  auto roots = ConfinedRoots::Resolve(ws_, {{"rdagent", "tools/missing", 42}}, "alphalab.yaml");
  ASSERT_FALSE(roots.ok());
  EXPECT_EQ(roots.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(roots.status().message().find("alphalab.yaml:42: roots.rdagent:"), std::string::npos)
      << roots.status().message();
  Put(ws_ / "plainfile", "x");
  auto file_root = ConfinedRoots::Resolve(ws_, {{"f", "plainfile", 7}});
  ASSERT_FALSE(file_root.ok());
  EXPECT_NE(file_root.status().message().find("roots.f"), std::string::npos);
}

TEST_F(RootsTest, ASymlinkInsideARootPointingOutsideIsRefused) {
  fs::create_symlink(outside_ / "secret.txt", ws_ / "tools" / "agent" / "leak.txt");
  fs::create_symlink(outside_, ws_ / "tools" / "agent" / "leakdir");
  auto roots = ConfinedRoots::Resolve(ws_, {{"agent", "tools/agent", 1}});
  ASSERT_TRUE(roots.ok());
  EXPECT_EQ(roots->Read("agent", "leak.txt").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roots->Read("agent", "leakdir/secret.txt").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roots->WriteAtomic("agent", "leak.txt", "pwned").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roots->WriteNew("agent", "leakdir/new.txt", "pwned").code(), StatusCode::kPermissionDenied);
  std::ifstream in(outside_ / "secret.txt");
  std::string s((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(s, "top secret");
  EXPECT_FALSE(fs::exists(outside_ / "new.txt"));
}

TEST_F(RootsTest, DotDotIsRefused) {
  auto roots = ConfinedRoots::Resolve(ws_, {{"agent", "tools/agent", 1}});
  ASSERT_TRUE(roots.ok());
  EXPECT_EQ(roots->Read("agent", "../../../outside/secret.txt").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roots->Read("agent", "../agent/../../x").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roots->WriteAtomic("agent", "../escape.txt", "x").code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(fs::exists(ws_ / "tools" / "escape.txt"));
}

TEST_F(RootsTest, ARootThatIsASymlinkIsResolvedOnce) {
  fs::create_directories(tmp_.path() / "real_a");
  fs::create_directories(tmp_.path() / "real_b");
  Put(tmp_.path() / "real_a" / "f.txt", "from a");
  Put(tmp_.path() / "real_b" / "f.txt", "from b");
  fs::create_directory_symlink(tmp_.path() / "real_a", ws_ / "link");
  auto roots = ConfinedRoots::Resolve(ws_, {{"linked", "link", 1}});
  ASSERT_TRUE(roots.ok());
  EXPECT_EQ(*roots->Find("linked"), fs::canonical(tmp_.path() / "real_a"));
  // Re-pointing the link later does not move the root.
  fs::remove(ws_ / "link");
  fs::create_directory_symlink(tmp_.path() / "real_b", ws_ / "link");
  EXPECT_EQ(*roots->Read("linked", "f.txt"), "from a");
}

TEST_F(RootsTest, SymlinksThatStayInsideKeepWorkingForWrites) {
  auto roots = ConfinedRoots::Resolve(ws_, {{"agent", "tools/agent", 1}});
  ASSERT_TRUE(roots.ok());
  fs::create_symlink("conf.yaml", ws_ / "tools" / "agent" / "alias.yaml");
  ASSERT_TRUE(roots->WriteAtomic("agent", "alias.yaml", "a: 2\n").ok());
  EXPECT_TRUE(fs::is_symlink(ws_ / "tools" / "agent" / "alias.yaml"));
  EXPECT_EQ(*roots->Read("agent", "conf.yaml"), "a: 2\n");
}

TEST_F(RootsTest, WriteNewNeverOverwrites) {
  auto roots = ConfinedRoots::Resolve(ws_, {});
  ASSERT_TRUE(roots.ok());
  ASSERT_TRUE(roots->WriteNew("workspace", "history/20260101/a.txt", "one").ok());
  EXPECT_EQ(roots->WriteNew("workspace", "history/20260101/a.txt", "two").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*roots->Read("workspace", "history/20260101/a.txt"), "one");
}

}  // namespace
}  // namespace alphalab

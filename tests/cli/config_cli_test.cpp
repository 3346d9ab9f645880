// `alphalab config check` through the real binary: exit codes and the one-line error.
#include <fstream>

#include <gtest/gtest.h>

#include "flows/flow_support.hpp"

namespace alphalab::flows {
namespace {

class ConfigCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cfgcli_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(std::random_device{}()));
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  CmdResult Check(const fs::path& ws) { return RunAlphalab({"config", "check", "--workspace", ws.string()}, root_, 60s); }

  fs::path root_;
};

TEST_F(ConfigCli, TheExampleWorkspaceIsOk) {
  const CmdResult r = Check(fs::path(ALPHALAB_SOURCE_DIR) / "examples" / "workspace");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out.rfind("OK: ", 0), 0u) << Describe(r);
  EXPECT_NE(r.out.find("2 job types"), std::string::npos) << Describe(r);
  EXPECT_TRUE(r.err.empty()) << Describe(r);
}

TEST_F(ConfigCli, NoFileIsOkWithDefaults) {
  const CmdResult r = Check(root_);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("default"), std::string::npos) << Describe(r);
}

TEST_F(ConfigCli, ABadValueExitsOneNamingFileLineAndKey) {
  std::ofstream(root_ / "alphalab.yaml") << "server:\n  port: 8000\nexecutor:\n  type: slurm\n  time_limit: 2h\n";
  const CmdResult r = Check(root_);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(r.out.empty()) << Describe(r);
  EXPECT_EQ(r.err, "alphalab config check: " + (root_ / "alphalab.yaml").string() +
                       ":5: executor.time_limit: '2h' is not a Slurm time (MIN, MIN:SEC, H:M:S, D-H, D-H:M, "
                       "D-H:M:S, UNLIMITED)\n")
      << Describe(r);
}

TEST_F(ConfigCli, ACatalogProblemInJobTypesIsAnErrorToo) {
  std::ofstream(root_ / "alphalab.yaml") << "job_types:\n  t:\n    argv: [x]\n    params: {p: {type: color}}\n";
  const CmdResult r = Check(root_);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find(":4: job_types.t.params.p.type: unknown type 'color'"), std::string::npos) << Describe(r);
}

TEST_F(ConfigCli, ServeRefusesTheSameFileWithTheSameError) {
  std::ofstream(root_ / "alphalab.yaml") << "server:\n  prot: 8000\n";
  const CmdResult r = RunAlphalab({"serve", "--workspace", root_.string(), "--port", "0"}, root_, 60s);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("alphalab serve: " + (root_ / "alphalab.yaml").string() + ":2: server.prot: unknown key"),
            std::string::npos)
      << Describe(r);
}

}  // namespace
}  // namespace alphalab::flows

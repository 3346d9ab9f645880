// The composition root builds a real server (SQLite stores, the local executor, every
// service) from a workspace config; its route list is the API's, in the registration order.
#include "app/composition_root.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "http/router.hpp"

namespace alphalab::app {
namespace {

namespace fs = std::filesystem;

class CompositionRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("approot_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(std::random_device{}()));
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<std::unique_ptr<Server>> Build(const std::string& yaml, ServeFlags flags = {}) {
    std::ofstream(root_ / "alphalab.yaml") << yaml;
    auto ws = Workspace::Open(root_);
    if (!ws.ok()) return ws.status();
    ws_ = std::make_unique<Workspace>(*ws);
    ASSIGN_OR_RETURN(WorkspaceConfig config, LoadWorkspaceConfig(*ws_));
    flags.workspace = root_.string();
    flags.ui_dir = "";
    return Server::Build(*ws_, config, flags);
  }

  fs::path root_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(CompositionRootTest, RegistersEveryRouteGroupInOneList) {
  auto server = Build("storage:\n  db: sqlite:state/alphalab.db\nexecutor:\n  slots: 1\n");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  using Route = std::pair<std::string, std::string>;
  const std::vector<Route> expected = {
      {"GET", "/api/health"},
      {"GET", "/metrics"},
      {"POST", "/api/jobs/train"},
      {"POST", "/api/jobs/backtest"},
      {"POST", "/api/jobs/eval-metrics"},
      {"POST", "/api/jobs"},
      {"GET", "/api/jobs/recent"},
      {"GET", "/api/jobs/{job_id}"},
      {"GET", "/api/jobs/{job_id}/log/search"},
      {"GET", "/api/jobs/{job_id}/log"},
      {"GET", "/api/jobs/{job_id}/artifacts"},
      {"GET", "/api/jobs/{job_id}/artifacts/{path}"},
      {"GET", "/api/jobs/{job_id}/results"},
      {"GET", "/api/jobs/{job_id}/log/stream"},
      {"POST", "/api/jobs/{job_id}/cancel"},
      {"GET", "/api/job-types"},
      {"GET", "/api/rdagent/tasks"},
      {"POST", "/api/rdagent/tasks"},
      {"GET", "/api/rdagent/tasks/{task_id}"},
      {"POST", "/api/rdagent/tasks/{task_id}/cancel"},
      {"GET", "/api/rdagent/tasks/{task_id}/logs"},
      {"GET", "/api/rdagent/tasks/{task_id}/artifacts"},
      {"GET", "/api/datasets"},
      {"POST", "/api/datasets/upload-instruments"},
      {"GET", "/api/rdagent/datasets"},
      {"POST", "/api/rdagent/datasets/upload-instruments"},
      {"POST", "/api/datasets"},
      {"POST", "/api/datasets/{name}/default"},
      {"DELETE", "/api/datasets/{name}"},
      {"GET", "/api/datasets/{name}/validation"},
      {"GET", "/api/registry/models"},
      {"GET", "/api/registry/compare"},
      {"GET", "/api/registry/tickers"},
      {"POST", "/api/registry/index"},
      {"GET", "/api/runs"},
      {"GET", "/api/runs/{run_id}"},
      {"GET", "/api/runs/{run_id}/files/{name}"},
      {"GET", "/api/backtests"},
      {"GET", "/api/backtests/{bt_run_id}"},
      {"GET", "/api/backtests/{bt_run_id}/files/{name}"},
      {"GET", "/api/dashboard"},
      {"POST", "/api/v1/optimizations"},
      {"POST", "/api/v1/optimizations/estimate"},
      {"GET", "/api/v1/optimizations"},
      {"GET", "/api/v1/optimizations/{optimization_id}"},
      {"GET", "/api/v1/optimizations/{optimization_id}/report"},
      {"GET", "/api/v1/optimizations/{optimization_id}/status"},
      {"GET", "/api/v1/optimizations/{optimization_id}/tasks"},
      {"POST", "/api/v1/optimizations/{optimization_id}/cancel"},
      {"POST", "/api/v1/optimizations/{optimization_id}/retry-failed"},
      {"POST", "/api/v1/optimizations/{optimization_id}/extend"},
      {"GET", "/api/v1/optimizations/{optimization_id}/export"},
      {"GET", "/api/projects"},
      {"GET", "/api/configs"},
      {"GET", "/api/configs/file"},
      {"PUT", "/api/configs/file"},
      {"GET", "/api/configs/history"},
      {"GET", "/api/configs/diff"},
      {"POST", "/api/configs/rollback"},
      {"POST", "/api/configs/check"},
      {"GET", "/api/rdagent/env"},
      {"PUT", "/api/rdagent/env"},
      {"GET", "/api/rdagent/templates"},
      {"GET", "/api/rdagent/templates/history"},
      {"POST", "/api/rdagent/templates/rollback"},
      {"GET", "/api/session"},
      {"POST", "/api/session"},
      {"DELETE", "/api/session"},
      {"GET", "/api/tokens"},
      {"POST", "/api/tokens"},
      {"DELETE", "/api/tokens/{token_id}"},
      {"GET", "/api/openapi.json"},
  };
  EXPECT_EQ((*server)->router().ListRoutes(), expected);
  // storage.db decided where the database went.
  EXPECT_TRUE(fs::exists(root_ / "state" / "alphalab.db"));
}

TEST_F(CompositionRootTest, TheDbFlagWinsOverTheConfigAndIsParsedTheSameWay) {
  ServeFlags flags;
  flags.db = "sqlite:flag.db";
  auto server = Build("storage:\n  db: sqlite:config.db\n", flags);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_TRUE(fs::exists(root_ / "flag.db"));
  EXPECT_FALSE(fs::exists(root_ / "config.db"));
  server->reset();
  flags.db = "postgresql://u@h";
  auto refused = Build("", flags);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--db: database URL 'postgresql://...@h...': needs a database name"),
            std::string::npos)
      << refused.status().message();
  // A well-formed URL of a server that is not there: the build stops with the reason.
  flags.db = "postgresql://u:pw@127.0.0.1:1/db";
  auto unreachable = Build("", flags);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(unreachable.status().message().find("cannot connect"), std::string::npos) << unreachable.status().message();
}

TEST_F(CompositionRootTest, ADeclaredRootThatDoesNotExistStopsTheBuildWithItsLine) {
  auto server = Build("roots:\n  rdagent: tools/missing\n");
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("alphalab.yaml:2: roots.rdagent: 'tools/missing' does not exist"),
            std::string::npos)
      << server.status().message();
}

TEST_F(CompositionRootTest, UserJobTypesTheCatalogRefusesStopTheBuildWithFileLineAndKey) {
  auto server = Build("job_types:\n  t:\n    argv: [x, '{nope}']\n");
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("alphalab.yaml:3: job_types.t.argv[1]: uses {nope}"), std::string::npos)
      << server.status().message();
}

}  // namespace
}  // namespace alphalab::app

namespace alphalab::app {
namespace {

TEST(CheckBindIsSafeTest, ANetworkAddressNeedsTokensOrInsecure) {
  WorkspaceConfig none;
  WorkspaceConfig token;
  token.auth.mode = AuthMode::kToken;
  for (const char* loopback : {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) {
    EXPECT_TRUE(CheckBindIsSafe(loopback, none, false).ok()) << loopback;
  }
  for (const char* network : {"0.0.0.0", "192.168.1.5", "::", "lab.example.org"}) {
    const Status refused = CheckBindIsSafe(network, none, false);
    EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << network;
    EXPECT_NE(refused.message().find("--insecure"), std::string::npos);
    EXPECT_TRUE(CheckBindIsSafe(network, none, true).ok()) << network;
    EXPECT_TRUE(CheckBindIsSafe(network, token, false).ok()) << network;
  }
}

}  // namespace
}  // namespace alphalab::app

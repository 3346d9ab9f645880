// engine/backtest/job_config.hpp: where a single run's backtests/<bt_run_id>/ may be written.
#include "engine/backtest/job_config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/clock.hpp"
#include "engine/data/config.hpp"
#include "engine/data/synth.hpp"
#include "engine/data/temp_workspace.hpp"

namespace alphalab::engine {
namespace {

YAML::Node Yaml(const std::string& text) { return ParseYamlConfig(text, "test").value(); }

// A backtest folder is written through descriptors (engine/backtest/job_config.hpp): backtests/
// opened beneath the workspace once, each task folder and file created relative to it with
// O_NOFOLLOW. A symlink leading outside, at backtests/, at a task folder or at a file name, is
// refused and nothing is written through it; a backtests/ symlink that stays inside works.
TEST(JobConfigTest, BacktestFoldersRefuseSymlinksLeadingOutside) {
  testing::TempWorkspace dir, outside;
  SynthOptions o;
  o.instruments = 2;
  o.years = 2;
  ASSERT_TRUE(WriteUniverseCsv(MakeSyntheticUniverse(o), dir.root() / "data" / "synthetic").ok());
  const Workspace& ws = dir.ws();
  PreparedBacktest run;
  run.config_path = dir.root() / "base.yaml";
  run.spec = ParseBacktestSpec(Yaml("dataset: synthetic\ntickers: [SYN0001]\n"
                                    "strategy: {type: sma_cross, params: {fast: 5, slow: 20}}\n")).value();
  auto ctx = BacktestContext::Load(ws, run.spec);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  ASSERT_TRUE(ctx->Prepare(run.spec, {}).ok());
  auto r = ctx->Run(run.spec);
  ASSERT_TRUE(r.ok());
  auto write = [&](const std::string& id, int backtests_fd = -1) {
    return WriteSingleRun(ws, run, *ctx, *r, id, SystemClock::Instance().Now(), "", "", nullptr, backtests_fd);
  };
  auto empty = [](const std::filesystem::path& p) { return std::filesystem::is_empty(p); };
  // backtests/ itself a symlink outside: refused, nothing written there.
  std::filesystem::create_directory_symlink(outside.root(), dir.root() / "backtests");
  auto refused = write("bt_a");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("outside"), std::string::npos) << refused.status().ToString();
  EXPECT_TRUE(empty(outside.root()));
  EXPECT_FALSE(OpenBacktestsFolder(ws).ok());
  // A backtests/ symlink that stays inside the workspace keeps working.
  std::filesystem::remove(dir.root() / "backtests");
  std::filesystem::create_directories(dir.root() / "kept" / "bt");
  std::filesystem::create_directory_symlink(dir.root() / "kept" / "bt", dir.root() / "backtests");
  ASSERT_TRUE(write("bt_in").ok());
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.root() / "kept" / "bt" / "bt_in" / "summary.json"));
  std::filesystem::remove(dir.root() / "backtests");
  std::filesystem::create_directories(dir.root() / "backtests");
  auto folder = OpenBacktestsFolder(ws);
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  // A task folder planted as a symlink outside: refused, with the folder's own descriptor too.
  std::filesystem::create_directory_symlink(outside.root(), dir.root() / "backtests" / "bt_b");
  auto planted = write("bt_b", folder->get());
  ASSERT_FALSE(planted.ok());
  EXPECT_NE(planted.status().message().find("symlink"), std::string::npos) << planted.status().ToString();
  EXPECT_FALSE(write("bt_b").ok());
  EXPECT_TRUE(empty(outside.root()));
  // A file name planted as a symlink in an existing folder: refused, the target untouched.
  std::filesystem::create_directories(dir.root() / "backtests" / "bt_c");
  { std::ofstream(outside.root() / "target") << "keep"; }
  std::filesystem::create_symlink(outside.root() / "target", dir.root() / "backtests" / "bt_c" / "equity.csv");
  EXPECT_FALSE(write("bt_c", folder->get()).ok());
  EXPECT_EQ(ReadFile(outside.root() / "target").value(), "keep");
  // The same folder writer, given its folder by path (WriteBacktestOutputs), refuses a symlink too.
  EXPECT_FALSE(WriteBacktestOutputs(dir.root() / "backtests" / "bt_b", run.spec, *ctx, *r, {}).ok());
  // And a clean task folder through the batch's descriptor is complete.
  auto ok = write("bt_d", folder->get());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  for (const char* f : {"summary.json", "equity.csv", "trades.csv", "fills.csv", "positions.csv", "config.yaml"}) {
    EXPECT_TRUE(std::filesystem::is_regular_file(dir.root() / "backtests" / "bt_d" / f)) << f;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.root() / "backtests" / "bt_d" / "summary.json.tmp"));
}

}  // namespace
}  // namespace alphalab::engine

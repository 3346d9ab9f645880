// A user's own script as a job, over HTTP on the example workspace's own declaration
// (examples/workspace/alphalab.yaml `my-experiment`, scripts/run_experiment.py, the config center
// tool `experiment`): the config is edited through the config center, a job runs the script with
// python3 on the saved (historical) version in its own work folder ("{work_dir}"), the live file
// stays as edited, the parsed results come from GET /api/jobs/{id}/results, the files are listed and
// downloaded, and the copy of the config is served with its secret masked.
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "core/ids.hpp"
#include "server_harness.hpp"

namespace alphalab::testing {
namespace {

constexpr const char* kConfig = "experiment:configs/experiment/sma_experiment.yaml";
constexpr const char* kConfigFile = "configs/experiment/sma_experiment.yaml";

class UserScriptApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path example = fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace";
    for (const char* dir : {"scripts", "tools"}) {
      fs::copy(example / dir, ws_.root() / dir, fs::copy_options::recursive);
    }
    fs::copy_file(example / "alphalab.yaml", ws_.root() / "alphalab.yaml", fs::copy_options::overwrite_existing);
    server_ = std::make_unique<ServerProcess>(ws_.root());
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override { server_->Stop(); }
  http::ClientResponse Put(const std::string& target, const Json& body) {
    auto r = server_->client().Request("PUT", target, DumpJson(body));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : http::ClientResponse{};
  }
  std::string Submit(const Json& params) {
    auto r = server_->Post("/api/jobs", Json{{"job_type", "my-experiment"}, {"params", params}});
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = r.JsonBody();
    return j.ok() ? j->value("job_id", "") : "";
  }
  TempWorkspace ws_;
  std::unique_ptr<ServerProcess> server_;
};

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST_F(UserScriptApiTest, RunsTheExampleScriptOnAHistoricalConfigVersionWithParsedResultsAndDownloads) {
  const std::string original = *ReadFile(ws_.root() / kConfigFile);
  const std::string secret = "demo-token-not-a-secret";
  ASSERT_NE(original.find(secret), std::string::npos);
  const std::string encoded = "/api/configs/file?path=experiment%3Aconfigs%2Fexperiment%2Fsma_experiment.yaml";

  // The config center shows the file with its token masked; an edit keeps the token (sent back
  // masked) and backs up the version it replaces.
  const Json before = server_->GetJson(encoded);
  EXPECT_EQ(before["content"].get<std::string>().find(secret), std::string::npos);
  EXPECT_NE(before["content"].get<std::string>().find("api_token: \"********\""), std::string::npos);
  const std::string v0_sha = before["sha256"];
  EXPECT_EQ(v0_sha, Sha256Hex(original));
  const std::string edited = Replace(before["content"], "fast_window: 10", "fast_window: 15");
  auto put = Put("/api/configs/file", Json{{"path", kConfig}, {"content", edited}, {"base_sha256", v0_sha},
                                          {"note", "faster signal"}});
  ASSERT_EQ(put.status, 200) << put.body;
  const int64_t v0_id = (*put.JsonBody())["history_id"];
  const std::string live = *ReadFile(ws_.root() / kConfigFile);
  EXPECT_NE(live.find("fast_window: 15"), std::string::npos);
  EXPECT_NE(live.find(secret), std::string::npos);  // the stored token was kept

  // A job on the saved version (fast_window 10): the script reads the job's own copy.
  const std::string id = Submit(Json{{"source_history_id", std::to_string(v0_id)}});
  ASSERT_FALSE(id.empty());
  const Json done = server_->WaitTerminal(id, 60s);
  ASSERT_EQ(done["status"], "SUCCESS") << done.dump() << "\n" << server_->Get("/api/jobs/" + id + "/log").body;
  const fs::path work = ws_.root() / "reports/jobs/runtime" / id / "work";
  const std::string copy = (work / kConfigFile).string();
  EXPECT_EQ(done["command"], Json({"python3", "-m", "scripts.run_experiment", "--config", copy, "--out",
                                   work.string()}));
  EXPECT_EQ(done["cwd"], "reports/jobs/runtime/" + id + "/work");  // workspace-relative
  EXPECT_EQ(done["artifacts"]["work_dir"], "reports/jobs/runtime/" + id + "/work");
  EXPECT_EQ(done["artifacts"]["run_id"], "sma-crossover-" + id);
  EXPECT_EQ(done["artifacts"][std::string("config_sha256:") + kConfig], v0_sha);  // the version it ran on
  EXPECT_EQ(*ReadFile(ws_.root() / kConfigFile), live);                            // the live file untouched

  // Parsed by the type's alphalab_summary parser from {work_dir}/summary.json.
  const Json results = server_->GetJson("/api/jobs/" + id + "/results");
  EXPECT_EQ(results["parser"], "alphalab_summary");
  EXPECT_EQ(results["paths"], Json({"reports/jobs/runtime/" + id + "/work/summary.json"}));
  EXPECT_EQ(results["metrics"]["fast_window"], 10);
  EXPECT_EQ(results["metrics"]["slow_window"], 40);
  EXPECT_TRUE(results["metrics"]["sharpe"].is_number()) << results.dump();
  EXPECT_GT(results["metrics"]["trades"].get<double>(), 0);
  EXPECT_EQ(results["strings"]["config_sha256"], v0_sha);  // the script hashed exactly the saved bytes

  // Its files: listed, downloaded; the config copy masked, the results as written.
  std::set<std::string> paths;
  const Json listing = server_->GetJson("/api/jobs/" + id + "/artifacts");
  for (const Json& a : listing["items"]) paths.insert(a["path"].get<std::string>());
  EXPECT_TRUE(paths.count("job.log") && paths.count("work/summary.json") && paths.count("work/equity.csv") &&
              paths.count(std::string("work/") + kConfigFile))
      << Json(paths).dump();
  auto summary = server_->Get("/api/jobs/" + id + "/artifacts/work/summary.json");
  ASSERT_EQ(summary.status, 200);
  EXPECT_EQ(summary.body, *ReadFile(work / "summary.json"));
  auto yaml = server_->Get("/api/jobs/" + id + "/artifacts/work/" + kConfigFile);
  ASSERT_EQ(yaml.status, 200);
  EXPECT_EQ(yaml.body.find(secret), std::string::npos) << yaml.body;
  EXPECT_NE(yaml.body.find("api_token: \"********\""), std::string::npos) << yaml.body;
  EXPECT_NE(yaml.body.find("fast_window: 10"), std::string::npos);
  EXPECT_NE(ReadFile(copy)->find(secret), std::string::npos);  // the process had the real value

  // The live version with a param and an override: fast 15 from the edit, slow 30 from --set.
  const std::string id2 = Submit(Json{{"seed", 3}, {"overrides", {"strategy.slow_window=30"}}});
  ASSERT_EQ(server_->WaitTerminal(id2, 60s)["status"], "SUCCESS");
  const Json r2 = server_->GetJson("/api/jobs/" + id2 + "/results");
  EXPECT_EQ(r2["metrics"]["fast_window"], 15);
  EXPECT_EQ(r2["metrics"]["slow_window"], 30);
  EXPECT_EQ(r2["strings"]["config_sha256"], Sha256Hex(live));

  // Refusals: an unknown version (400, nothing queued), a bad id, a type without results.
  auto unknown = server_->Post("/api/jobs", Json{{"job_type", "my-experiment"}, {"params", {{"source_history_id", "999999"}}}});
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("source_history_id"), std::string::npos);
  EXPECT_EQ(server_->Get("/api/jobs/bad%20id/results").status, 400);
  EXPECT_EQ(server_->Get("/api/jobs/job_20000101_000000__00000000/results").status, 404);
}

// A script that fails: the job fails and GET .../results says why with a 409 (not yet, or never,
// readable), the log shows the script's error.
TEST_F(UserScriptApiTest, AFailingScriptFailsAndHasNoResults) {
  const std::string id = Submit(Json{{"overrides", {"strategy.fast_window=50"}}});  // fast >= slow
  ASSERT_FALSE(id.empty());
  const Json done = server_->WaitTerminal(id, 60s);
  EXPECT_EQ(done["status"], "FAILED") << done.dump();
  auto r = server_->Get("/api/jobs/" + id + "/results");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("FAILED"), std::string::npos);
  const Json log = server_->GetJson("/api/jobs/" + id + "/log?offset=0");
  EXPECT_NE(log["content"].get<std::string>().find("must be at least 1 and below slow_window"), std::string::npos)
      << log.dump();
}

}  // namespace
}  // namespace alphalab::testing

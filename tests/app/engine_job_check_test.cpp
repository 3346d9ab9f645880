// The built-in engine job types judged at submit (app/engine_job_check.hpp): a config that
// cannot run is a 400 over real HTTP with nothing stored or started, a good one passes —
// also a one-click model backtest on a dataset other than the config's (the model brings
// its dataset) — and the check refuses exactly what the commands refuse before reading data.
#include "app/engine_job_check.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "app/composition_root.hpp"
#include "core/clock.hpp"
#include "engine/data/synth.hpp"
#include "engine/model/trainer.hpp"
#include "http/http_client.hpp"

namespace alphalab {
namespace {

namespace fs = std::filesystem;

const char* kTrain = R"(dataset: synth
tickers: [SYN0001]
label: {horizon_days: 5, threshold: 0.01}
split: {train_end: 2008-12-31, valid_end: 2009-12-31, gap_days: 5}
model: {type: xgboost, params: {max_depth: 2, eta: 0.3, num_round: 5, nthread: 1}}
)";

// The demo dataset is not in this workspace: a model backtest works only if the model's
// own dataset (synth) replaces the config's.
const char* kBacktest = R"(dataset: demo
tickers: [SPX]
initial_cash: 100000
fee_bps: 5
strategy: {type: sma_cross, params: {fast: 10, slow: 50}}
)";

class EngineJobCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("enginecheck_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "configs");
    engine::SynthOptions opt;
    opt.instruments = 2;
    opt.years = 6;
    ASSERT_TRUE(engine::WriteUniverseCsv(engine::MakeSyntheticUniverse(opt), root_ / "data" / "synth").ok());
    std::ofstream(root_ / "configs" / "train.yaml") << kTrain;
    std::ofstream(root_ / "configs" / "bt.yaml") << kBacktest;
    auto ws = Workspace::Open(root_);
    ASSERT_TRUE(ws.ok());
    ws_ = std::make_unique<Workspace>(*ws);
  }
  void TearDown() override { fs::remove_all(root_); }

  static Json Params(const std::string& config, std::vector<std::string> overrides = {}) {
    Json p{{"config_path", config}};
    if (!overrides.empty()) p["overrides"] = overrides;
    return p;
  }
  // A trained model's file, workspace-relative.
  std::string TrainModel() {
    std::ostringstream progress;
    auto run = engine::RunTraining(*ws_, engine::TrainRequest{"configs/train.yaml", {}}, SystemClock::Instance(),
                                   progress);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? "runs/" + run->run_id + "/model_SYN0001.json" : "";
  }

  fs::path root_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(EngineJobCheckTest, TrainConfigsAreJudgedAsTheCommandJudgesThem) {
  EngineJobCheck check(*ws_);
  EXPECT_TRUE(check.Check("train", Params("configs/train.yaml")).ok());
  EXPECT_TRUE(check.Check("train", Params("configs/train.yaml", {"model.params.num_round=100000"})).ok());

  Status st = check.Check("train", Params("configs/train.yaml", {"model.params.num_round=400000"}));
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("'num_round' = 400000 is outside [1, 100000]"), std::string::npos) << st.message();
  EXPECT_EQ(st.details()["parameter"], "overrides");
  EXPECT_EQ(st.details()["job_type"], "train");
  EXPECT_EQ(st.message().find(root_.string()), std::string::npos) << "workspace-relative: " << st.message();

  st = check.Check("train", Params("configs/train.yaml", {"dataset=nosuch"}));
  ASSERT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("unknown dataset 'nosuch'"), std::string::npos) << st.message();
  EXPECT_EQ(st.details()["parameter"], "overrides");

  st = check.Check("train", Params("configs/train.yaml", {"nokey=1"}));
  ASSERT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("unknown config key 'nokey'"), std::string::npos) << st.message();

  st = check.Check("train", Params("configs/train.yaml", {"mode=finetune", "finetune.base_run=run_none", "finetune.start=2008-06-02"}));
  ASSERT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("finetune.base_run run_none"), std::string::npos) << st.message();

  // A config file that is not there or is not YAML: the file's fault.
  std::ofstream(root_ / "configs" / "broken.yaml") << "dataset: [unclosed\n";
  st = check.Check("train", Params("configs/broken.yaml"));
  ASSERT_TRUE(st.IsInvalidArgument());
  EXPECT_EQ(st.details()["parameter"], "config_path");
}

TEST_F(EngineJobCheckTest, BacktestConfigsAndModelsAreJudgedBeforeAnyDataIsRead) {
  EngineJobCheck check(*ws_);
  // The config's dataset (demo) is not here: a plain backtest of it cannot run ...
  Status st = check.Check("backtest", Params("configs/bt.yaml"));
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("unknown dataset 'demo'"), std::string::npos) << st.message();
  // ... one on a dataset that is, can; and a model brings its own dataset and tickers.
  EXPECT_TRUE(check.Check("backtest", Params("configs/bt.yaml", {"dataset=synth", "tickers=[SYN0001]"})).ok());
  Json with_model = Params("configs/bt.yaml");
  with_model["model_path"] = TrainModel();
  st = check.Check("backtest", with_model);
  EXPECT_TRUE(st.ok()) << st.ToString();

  st = check.Check("backtest", Params("configs/bt.yaml", {"dataset=synth", "fee_bps=-5"}));
  ASSERT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("'fee_bps' must be between 0 and 10000"), std::string::npos) << st.message();
  EXPECT_EQ(st.details()["parameter"], "overrides");

  // A file that is not a model.
  Json not_model = Params("configs/bt.yaml");
  not_model["model_path"] = "configs/train.yaml";
  st = check.Check("backtest", not_model);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();

  // Types it does not know, and params the catalog judges, pass.
  EXPECT_TRUE(check.Check("eval-metrics", Params("configs/broken-or-not.yaml")).ok());
  EXPECT_TRUE(check.Check("train", Json::object()).ok());
}

// Over real HTTP through the composition root: a refused config is a 400 in the ApiError
// envelope, and no job row or file exists afterwards; a good one passes.
TEST_F(EngineJobCheckTest, ARefusedConfigIsA400AndNothingIsStored) {
  std::ofstream(root_ / "alphalab.yaml") << "executor:\n  slots: 1\n";
  auto config = LoadWorkspaceConfig(*ws_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  app::ServeFlags flags;
  flags.workspace = root_.string();
  flags.ui_dir = "";
  flags.port = 0;
  auto server = app::Server::Build(*ws_, *config, flags);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  auto made = http::HttpClient::Create("http://127.0.0.1:" + std::to_string((*server)->port()));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  http::HttpClient& client = **made;

  auto refused = client.PostJson("/api/jobs/train", Params("configs/train.yaml", {"model.params.num_round=400000"}));
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 400) << refused->body;
  auto body = refused->JsonBody();
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["error"]["code"], "INVALID_ARGUMENT") << refused->body;
  EXPECT_NE(refused->ErrorMessage().find("outside [1, 100000]"), std::string::npos) << refused->body;
  // The same through the generic endpoint, and as a dry run.
  auto generic = client.PostJson("/api/jobs", Json{{"job_type", "backtest"},
                                                   {"params", Params("configs/bt.yaml")},
                                                   {"dry_run", true}});
  ASSERT_TRUE(generic.ok());
  EXPECT_EQ(generic->status, 400) << generic->body;
  auto recent = client.Get("/api/jobs/recent");
  ASSERT_TRUE(recent.ok());
  auto listed = recent->JsonBody();
  ASSERT_TRUE(listed.ok()) << recent->body;
  EXPECT_TRUE((*listed)["items"].empty()) << "a refused submit stored a job: " << recent->body;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "reports", fs::directory_options::skip_permission_denied)) {
    EXPECT_EQ(e.path().filename().string().rfind("job_", 0), std::string::npos) << "a refused submit left " << e.path();
  }

  // A good config passes the check (a dry run: nothing is spawned; in this test the server's
  // `alphalab` is the test binary).
  auto good = client.PostJson("/api/jobs", Json{{"job_type", "train"},
                                                {"params", Params("configs/train.yaml", {"model.params.num_round=3"})},
                                                {"dry_run", true}});
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status / 100, 2) << good->body;
  auto good_body = good->JsonBody();
  ASSERT_TRUE(good_body.ok());
  EXPECT_EQ((*good_body)["status"], "SUCCESS") << good->body;

  // Naming a parent does not skip the check (only an optimization's own submits do).
  auto with_parent = client.PostJson(
      "/api/jobs", Json{{"job_type", "train"},
                        {"params", Params("configs/train.yaml", {"model.params.num_round=400000"})},
                        {"parent_id", (*good_body)["job_id"]},
                        {"dry_run", true}});
  ASSERT_TRUE(with_parent.ok());
  EXPECT_EQ(with_parent->status, 400) << with_parent->body;
  (*server)->Stop();
}

}  // namespace
}  // namespace alphalab

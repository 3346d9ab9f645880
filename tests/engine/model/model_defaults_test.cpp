// What a backtest takes from its model's run (engine/model/model_defaults.hpp), on hand-written
// run folders: a pooled model serves every ticker of the run, the request's own keys win, and
// the in-sample overlap is the traded bars dated on or before valid_end.
#include "engine/model/model_defaults.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "engine/data/config.hpp"

namespace alphalab::engine {
namespace {

namespace fs = std::filesystem;

class ModelDefaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("engineml_defaults_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    auto ws = Workspace::Open(root_);
    ASSERT_TRUE(ws.ok());
    ws_.emplace(*ws);
  }
  void TearDown() override { fs::remove_all(root_); }

  // runs/<id>/ with manifest.json (models: ticker -> file) and, when split is given, metrics.json.
  void Run(const std::string& id, const Json& models, const std::vector<std::string>& tickers, const Json& split) {
    const fs::path dir = root_ / "runs" / id;
    fs::create_directories(dir);
    for (const auto& [t, path] : models.items()) std::ofstream(root_ / path.get<std::string>()) << "{}";
    Json m{{"run_id", id}, {"status", "success"}, {"mode", "base"}, {"dataset", "synthetic"}, {"tickers", tickers},
           {"feature_set", DefaultFeatureSet().ToJson()}, {"models", models}, {"files", Json::array()}};
    std::ofstream(dir / "manifest.json") << m.dump();
    if (!split.is_null()) std::ofstream(dir / "metrics.json") << Json{{"run_id", id}, {"split", split}}.dump();
  }

  YAML::Node Config() {
    return *ParseYamlConfig("dataset: demo\ntickers: [SPX]\nstart: 2000-01-01\nend: 2020-12-31\n", "base.yaml");
  }

  fs::path root_;
  std::optional<Workspace> ws_;
};

// The request keys for a model path (everything else not given by the request).
BacktestRequestKeys Req(const std::string& model) {
  BacktestRequestKeys r;
  r.model = model;
  return r;
}

const Json kSplit = {{"train_end", "2007-06-30"}, {"valid_end", "2008-06-30"}, {"gap_bars", 20}};

TEST_F(ModelDefaultsTest, PooledModelServesEveryTickerOfTheRunInRunOrder) {
  Run("run_p", {{"ZED", "runs/run_p/model.json"}, {"ABC", "runs/run_p/model.json"}}, {"ZED", "ABC"}, kSplit);
  auto info = ReadModelRunInfo(*ws_, "runs/run_p/model.json");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->tickers, (std::vector<std::string>{"ZED", "ABC"}));
  EXPECT_EQ(info->dataset, "synthetic");
  EXPECT_EQ(FormatDate(*info->TestStart()), "2008-07-01");
  YAML::Node c = Config();
  ASSERT_TRUE(ApplyModelDefaults(*ws_, Req("runs/run_p/model.json"), c).ok());
  EXPECT_EQ(c["dataset"].as<std::string>(), "synthetic");
  EXPECT_EQ(c["tickers"].as<std::vector<std::string>>(), (std::vector<std::string>{"ZED", "ABC"}));
  EXPECT_EQ(c["start"].as<std::string>(), "2008-07-01");
  EXPECT_FALSE(c["end"].IsDefined()) << "the test period runs to the data's last bar";
}

TEST_F(ModelDefaultsTest, TheRequestsOwnKeysWin) {
  Run("run_t", {{"AAA", "runs/run_t/model_AAA.json"}, {"BBB", "runs/run_t/model_BBB.json"}}, {"AAA", "BBB"}, kSplit);
  YAML::Node c = Config();
  BacktestRequestKeys own = Req("runs/run_t/model_BBB.json");
  own.end = true;
  own.overrides = {"dataset=other", "start=2006-01-02"};
  ASSERT_TRUE(ApplyModelDefaults(*ws_, own, c).ok());
  EXPECT_EQ(c["dataset"].as<std::string>(), "demo");  // --set dataset=... was applied before and is kept
  EXPECT_EQ(c["tickers"].as<std::vector<std::string>>(), (std::vector<std::string>{"BBB"}));
  EXPECT_EQ(c["start"].as<std::string>(), "2000-01-01");
  EXPECT_EQ(c["end"].as<std::string>(), "2020-12-31");
  YAML::Node t = Config();
  BacktestRequestKeys with_tickers = Req("runs/run_t/model_AAA.json");
  with_tickers.tickers = true;
  ASSERT_TRUE(ApplyModelDefaults(*ws_, with_tickers, t).ok());
  EXPECT_EQ(t["tickers"].as<std::vector<std::string>>(), (std::vector<std::string>{"SPX"}));
  EXPECT_EQ(t["dataset"].as<std::string>(), "synthetic");
  YAML::Node none = Config();
  ASSERT_TRUE(ApplyModelDefaults(*ws_, BacktestRequestKeys(), none).ok());
  EXPECT_EQ(none["dataset"].as<std::string>(), "demo");
}

TEST_F(ModelDefaultsTest, WithoutASplitOnlyDatasetAndTickers) {
  Run("run_n", {{"AAA", "runs/run_n/model_AAA.json"}}, {"AAA"}, nullptr);
  YAML::Node c = Config();
  ASSERT_TRUE(ApplyModelDefaults(*ws_, Req("runs/run_n/model_AAA.json"), c).ok());
  EXPECT_EQ(c["dataset"].as<std::string>(), "synthetic");
  EXPECT_EQ(c["start"].as<std::string>(), "2000-01-01");
  const Json s = ModelPeriodSummary(*ws_, "runs/run_n/model_AAA.json", std::vector<int32_t>{1, 2});
  EXPECT_TRUE(s["model_valid_end"].is_null());
  EXPECT_TRUE(s["in_sample_overlap_days"].is_null());
}

TEST_F(ModelDefaultsTest, OverlapCountsTradedBarsOnOrBeforeValidEnd) {
  Run("run_o", {{"AAA", "runs/run_o/model_AAA.json"}}, {"AAA"}, kSplit);
  std::vector<int32_t> dates;
  for (const char* d : {"2008-06-27", "2008-06-30", "2008-07-01", "2008-07-02"}) dates.push_back(*ParseDate(d));
  const Json s = ModelPeriodSummary(*ws_, "runs/run_o/model_AAA.json", dates);
  EXPECT_EQ(s["in_sample_overlap_days"], 2);  // 06-27 and 06-30 (valid_end itself is in sample)
  EXPECT_EQ(s["model_train_end"], "2007-06-30");
  EXPECT_EQ(s["model_valid_end"], "2008-06-30");
  EXPECT_EQ(s["model_test_start"], "2008-07-01");
  EXPECT_EQ(ModelPeriodSummary(*ws_, "runs/run_o/model_AAA.json", std::vector<int32_t>(dates.begin() + 2, dates.end()))["in_sample_overlap_days"], 0);
  const Json none = ModelPeriodSummary(*ws_, "", dates);
  for (const char* k : {"model_train_end", "model_valid_end", "model_test_start", "in_sample_overlap_days"}) {
    EXPECT_TRUE(none[k].is_null()) << k;
  }
}

TEST_F(ModelDefaultsTest, MissingUnlistedOrOutsideModelsAreClearErrors) {
  Run("run_u", {{"AAA", "runs/run_u/model_AAA.json"}}, {"AAA"}, kSplit);
  std::ofstream(root_ / "runs/run_u/stray.json") << "{}";
  YAML::Node c = Config();
  auto missing = ApplyModelDefaults(*ws_, Req("runs/none/model.json"), c);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "model file 'runs/none/model.json' does not exist or is outside the workspace");
  auto stray = ApplyModelDefaults(*ws_, Req("runs/run_u/stray.json"), c);
  EXPECT_EQ(stray.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stray.message().find("not listed in the manifest of run run_u"), std::string::npos) << stray.message();
  EXPECT_EQ(ApplyModelDefaults(*ws_, Req("/etc/hostname"), c).code(), StatusCode::kNotFound);
  EXPECT_EQ(c["dataset"].as<std::string>(), "demo") << "nothing changed on an error";
}

}  // namespace
}  // namespace alphalab::engine

#include "engine/model/train_config.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace alphalab::engine {
namespace {

const char* kBase = R"(
dataset: demo
tickers: [SPX]
label: {horizon_days: 20, threshold: 0.05}
split: {train_end: 2014-12-31, valid_end: 2016-12-31, gap_days: 20}
model: {type: xgboost, params: {max_depth: 4, eta: 0.1, num_round: 200}}
mode: base
)";

Result<TrainConfig> ParseWith(const std::vector<std::string>& overrides, const char* text = kBase) {
  YAML::Node root = YAML::Load(text);
  RETURN_IF_ERROR(ApplyOverrides(root, overrides));
  return ParseTrainConfig(root);
}

TEST(TrainConfigTest, TheSpecExampleParses) {
  auto c = ParseWith({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->dataset, "demo");
  EXPECT_EQ(c->tickers, std::vector<std::string>{"SPX"});
  EXPECT_EQ(c->horizon_days, 20);
  EXPECT_DOUBLE_EQ(c->threshold, 0.05);
  EXPECT_EQ(c->split.train_end, *ParseDate("2014-12-31"));
  EXPECT_EQ(c->split.valid_end, *ParseDate("2016-12-31"));
  EXPECT_EQ(c->split.Gap(), 20);
  EXPECT_EQ(c->params.Get("max_depth"), 4);
  EXPECT_EQ(c->mode, "base");
  EXPECT_EQ(c->project, "default");
  EXPECT_EQ(c->scope, TrainScope::kPerTicker);
  EXPECT_DOUBLE_EQ(c->decision_threshold, 0.5);
  EXPECT_EQ(c->feature_set, DefaultFeatureSet());
}

TEST(TrainConfigTest, OverridesApply) {
  auto c = ParseWith({"label.horizon_days=5", "scope=pooled", "project=alpha", "tickers=[A, B]",
                      "model.params.eta=0.3"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->horizon_days, 5);
  EXPECT_EQ(c->split.Gap(), 20);  // gap_days 20 > horizon 5
  EXPECT_EQ(c->scope, TrainScope::kPooled);
  EXPECT_EQ(c->project, "alpha");
  EXPECT_EQ(c->tickers, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(c->params.Get("eta"), 0.3);
  auto all = ParseWith({"tickers=all"});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->tickers.empty());
}

struct BadCase {
  std::vector<std::string> overrides;
  std::string must_mention;
};

TEST(TrainConfigTest, EveryBadConfigIsOneClearLine) {
  const std::vector<BadCase> cases{
      {{"colour=blue"}, "colour"},
      {{"label.horizon=5"}, "label.horizon"},
      {{"label.horizon_days=abc"}, "label.horizon_days"},
      {{"label.horizon_days=0"}, "label.horizon_days"},
      {{"label.threshold=[1]"}, "label.threshold"},
      {{"split.train_end=2014-13-01"}, "split.train_end"},
      {{"split.train_end=2017-01-01"}, "train_end"},
      {{"split.valid_end=2014-12-31"}, "valid_end"},
      {{"split.gap_days=-1"}, "split.gap_days"},
      {{"model.type=lightgbm"}, "model.type"},
      {{"model.params.max_depth=100"}, "max_depth"},
      {{"model.params.learning_rate=0.1"}, "learning_rate"},
      {{"mode=transfer"}, "mode"},
      {{"scope=global"}, "scope"},
      {{"mode=finetune"}, "finetune"},
      {{"mode=finetune", "finetune.base_run=../x", "finetune.start=2010-01-01"}, "base_run"},
      {{"mode=finetune", "finetune.base_run=run_1", "finetune.start=2015-06-01"}, "finetune.start"},
      {{"finetune.base_run=run_1"}, "finetune"},
      {{"decision_threshold=1.5"}, "decision_threshold"},
      {{"feature_set=alpha158"}, "alpha158"},
      {{"tickers=[]"}, "tickers"},
      {{"tickers=[A, A]"}, "twice"},
      {{"project=a/b"}, "project"},
      {{"dataset=[a]"}, "dataset"},
  };
  for (const auto& bad : cases) {
    auto c = ParseWith(bad.overrides);
    ASSERT_FALSE(c.ok()) << bad.overrides.front();
    const std::string& msg = c.status().message();
    EXPECT_TRUE(c.status().IsInvalidArgument()) << msg;
    EXPECT_NE(msg.find(bad.must_mention), std::string::npos) << bad.overrides.front() << " -> " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_FALSE(ParseWith({}, "dataset: demo\n").ok());  // label, split, model missing
  EXPECT_FALSE(ParseWith({}, "[1, 2]").ok());
}

TEST(TrainConfigTest, FinetuneNeedsBaseRunAndStart) {
  auto c = ParseWith({"mode=finetune", "finetune.base_run=run_20260101_000000__abcd1234", "finetune.start=2010-01-01"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->finetune_base_run, "run_20260101_000000__abcd1234");
  EXPECT_EQ(*c->finetune_start, *ParseDate("2010-01-01"));
}

}  // namespace
}  // namespace alphalab::engine

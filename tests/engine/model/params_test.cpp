#include "engine/model/params.hpp"

#include <gtest/gtest.h>

namespace alphalab::engine {
namespace {

ConfigMap Params(const std::string& yaml) { return ConfigMap(YAML::Load(yaml), "model.params"); }

TEST(XgbParamsTest, DefaultsComeFromTheDeclarations) {
  const XgbParams p;
  for (const ModelParamSpec& s : XgbParamSpecs()) {
    EXPECT_EQ(p.Get(s.name), s.default_value) << s.name;
    EXPECT_FALSE(s.description.empty()) << s.name;
  }
  EXPECT_EQ(p.num_round(), 200);
  EXPECT_EQ(p.BoosterParams().at("objective"), "binary:logistic");
  EXPECT_EQ(p.BoosterParams().count("num_round"), 0u);  // a loop parameter, not a booster one
}

TEST(XgbParamsTest, ReadsConfiguredValues) {
  auto p = XgbParams::FromConfig(Params("{max_depth: 3, eta: 0.05, num_round: 40, subsample: 0.8, seed: 7}"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->Get("max_depth"), 3);
  EXPECT_EQ(p->Get("eta"), 0.05);
  EXPECT_EQ(p->num_round(), 40);
  EXPECT_EQ(p->BoosterParams().at("subsample"), "0.80000000000000004");
  EXPECT_EQ(p->ToJson()["seed"], 7);
}

TEST(XgbParamsTest, UnknownOrOutOfRangeParametersAreClearErrors) {
  auto unknown = XgbParams::FromConfig(Params("{max_dept: 3}"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("model.params.max_dept"), std::string::npos) << unknown.status().message();

  auto eta = XgbParams::FromConfig(Params("{eta: 0}"));
  ASSERT_FALSE(eta.ok());
  EXPECT_NE(eta.status().message().find("model.params.eta"), std::string::npos);
  EXPECT_NE(eta.status().message().find("(0, 1]"), std::string::npos) << eta.status().message();

  EXPECT_FALSE(XgbParams::FromConfig(Params("{subsample: 1.5}")).ok());
  EXPECT_FALSE(XgbParams::FromConfig(Params("{max_depth: 0}")).ok());
  EXPECT_FALSE(XgbParams::FromConfig(Params("{max_depth: 2.5}")).ok());
  EXPECT_FALSE(XgbParams::FromConfig(Params("{num_round: abc}")).ok());
  EXPECT_FALSE(XgbParams::FromConfig(Params("{lambda: -1}")).ok());
  EXPECT_FALSE(XgbParams::FromConfig(Params("[1, 2]")).ok());
  XgbParams p;
  EXPECT_TRUE(p.Set("nthread", 2).ok());
  EXPECT_TRUE(p.Set("colsample_bytree", 0.0).IsInvalidArgument());
}

}  // namespace
}  // namespace alphalab::engine

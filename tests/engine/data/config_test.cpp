#include "engine/data/config.hpp"

#include <gtest/gtest.h>

namespace alphalab::engine {
namespace {

TEST(ConfigTest, OverridesParseValuesAsYaml) {
  auto root = ParseYamlConfig("strategy: {type: sma_cross, params: {fast: 10}}\n", "t.yaml").value();
  ASSERT_TRUE(ApplyOverrides(root, {"strategy.params.fast=5", "strategy.params.flag=true",
                                    "tickers=[SPX, AAPL]", "start=2001-01-01", "new.deep.key=hello",
                                    "strategy.params.ratio=0.25"})
                  .ok());
  EXPECT_EQ(root["strategy"]["params"]["fast"].as<int>(), 5);
  EXPECT_TRUE(root["strategy"]["params"]["flag"].as<bool>());
  EXPECT_EQ(root["tickers"].size(), 2u);
  EXPECT_EQ(root["tickers"][1].as<std::string>(), "AAPL");
  EXPECT_EQ(root["start"].as<std::string>(), "2001-01-01");
  EXPECT_EQ(root["new"]["deep"]["key"].as<std::string>(), "hello");
  EXPECT_EQ(root["strategy"]["type"].as<std::string>(), "sma_cross");
  const auto json = YamlToJson(root);
  EXPECT_EQ(json["strategy"]["params"]["fast"], 5);
  EXPECT_EQ(json["strategy"]["params"]["ratio"], 0.25);
  EXPECT_EQ(json["strategy"]["params"]["flag"], true);
  EXPECT_EQ(json["tickers"][0], "SPX");
}

TEST(ConfigTest, MalformedOverridesAreRejected) {
  EXPECT_EQ(ParseOverride("novalue").status().message(), "override 'novalue' must look like key=value");
  EXPECT_EQ(ParseOverride("=5").status().message(), "override '=5' has an empty key");
  EXPECT_EQ(ParseOverride("a..b=5").status().message(), "override key 'a..b' has an empty segment");
  EXPECT_FALSE(ParseOverride("a=[1, 2").ok());
  auto root = ParseYamlConfig("a: 5\n", "t").value();
  auto s = ApplyOverrides(root, {"a.b=1"});
  EXPECT_EQ(s.message(), "config key 'a' is not a mapping, cannot set 'a.b'");
}

TEST(ConfigTest, TypedAccessExplainsWhatIsWrong) {
  auto root = ParseYamlConfig("p: {fast: abc, ok: 7, f: 1.5, b: maybe, l: [1, x], s: 'SHY,IEF'}\n", "t").value();
  ConfigMap p(root["p"], "strategy.params");
  EXPECT_EQ(p.Int("fast").status().message(), "config key 'strategy.params.fast' must be an integer, got 'abc'");
  EXPECT_EQ(p.Int("ok").value(), 7);
  EXPECT_EQ(p.Int("f").status().message(), "config key 'strategy.params.f' must be an integer, got '1.5'");
  EXPECT_EQ(p.Double("f").value(), 1.5);
  EXPECT_EQ(p.Bool("b").status().message(), "config key 'strategy.params.b' must be true or false, got 'maybe'");
  EXPECT_EQ(p.Int("missing").status().message(), "config key 'strategy.params.missing' is required");
  EXPECT_EQ(p.Int("missing", 3).value(), 3);
  EXPECT_EQ(p.DoubleList("l").status().message(),
            "config key 'strategy.params.l' must be a list of numbers, got 'x'");
  EXPECT_EQ(p.StringList("s").value(), (std::vector<std::string>{"SHY", "IEF"}));
  EXPECT_EQ(p.CheckKnownKeys({"fast", "ok"}).message(),
            "unknown config key 'strategy.params.f' (allowed: fast, ok)");
}

TEST(ConfigTest, BadYamlAndNonMappingRoots) {
  EXPECT_FALSE(ParseYamlConfig("a: [1, 2\n", "x.yaml").ok());
  EXPECT_EQ(ParseYamlConfig("- 1\n- 2\n", "x.yaml").status().message(), "x.yaml: the top level must be a mapping");
}

}  // namespace
}  // namespace alphalab::engine

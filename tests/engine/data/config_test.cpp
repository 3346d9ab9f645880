#include "engine/data/config.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

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

// YamlToJson's shortcut for plain decimals gives exactly what yaml-cpp's own decoders give,
// for plain decimals and for every look-alike left to them (octal and hex with automatic base,
// '+', overflow, spaces, floats, booleans, quoted).
TEST(ConfigTest, ScalarsConvertAsYamlCppDecodesThem) {
  // The oracle: yaml-cpp's own decoders, in YamlToJson's order.
  auto reference = [](const YAML::Node& node) -> nlohmann::json {
    if (node.Tag() == "!") return node.Scalar();
    if (int64_t i = 0; YAML::convert<int64_t>::decode(node, i)) return i;
    if (double d = 0; YAML::convert<double>::decode(node, d) && std::isfinite(d)) return d;
    if (bool b = false; YAML::convert<bool>::decode(node, b)) return b;
    return node.Scalar();
  };
  const char* texts[] = {"0", "5", "-5", "-0", "120", "-120", "007", "010", "-010", "0x1F", "+5", "5a", "-", "",
                         " 5", "5 ", "123456789012345678", "-123456789012345678", "1234567890123456789",
                         "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                         "99999999999999999999", "1e3", "2.5", "-0.0", "true", "yes", "null", "'5'"};
  for (const char* text : texts) {
    std::vector<YAML::Node> nodes = {YAML::Node(std::string(text))};  // as a grid range builds its values
    try {
      const YAML::Node loaded = YAML::Load(text);  // as parsed from a config or a list axis
      if (loaded.IsScalar()) nodes.push_back(loaded);
    } catch (const YAML::Exception&) {
    }
    for (const auto& node : nodes) {
      const auto got = YamlToJson(node), want = reference(node);
      EXPECT_EQ(got.type(), want.type()) << "'" << text << "' tag " << node.Tag();
      EXPECT_EQ(got.dump(), want.dump()) << "'" << text << "' tag " << node.Tag();
    }
  }
  // ConfigMap's Int and Double take the same shortcut, with the same results and errors.
  for (const char* text : texts) {
    YAML::Node map(YAML::NodeType::Map);
    map["k"] = std::string(text);
    const YAML::Node value = map["k"];
    const ConfigMap config(map, "p");
    int64_t i = 0;
    double d = 0;
    const bool is_int = YAML::convert<int64_t>::decode(value, i);
    const bool is_double = YAML::convert<double>::decode(value, d) && std::isfinite(d);
    const auto got_int = config.Int("k", std::nullopt);
    const auto got_double = config.Double("k", std::nullopt);
    if (is_int) {
      ASSERT_TRUE(got_int.ok()) << text;
      EXPECT_EQ(*got_int, i) << text;
    } else if (is_double && d == std::floor(d) && std::fabs(d) < 9e15) {
      ASSERT_TRUE(got_int.ok()) << text;
      EXPECT_EQ(*got_int, static_cast<int64_t>(d)) << text;
    } else {
      EXPECT_FALSE(got_int.ok()) << text;
    }
    ASSERT_EQ(got_double.ok(), is_double) << text;
    if (is_double) {
      EXPECT_EQ(*got_double, d) << text;
      EXPECT_EQ(std::signbit(*got_double), std::signbit(d)) << text;
    }
  }
  EXPECT_EQ(YamlToJson(YAML::Node(std::string("010"))), 8);  // yaml-cpp reads it as octal, as before
  EXPECT_EQ(YamlToJson(YAML::Node(std::string("-120"))), -120);
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

// DumpYamlCached writes exactly DumpYaml's bytes: every example config, with awkward scalar
// values (quoting, flow collections, empty and null values, keys that look like values)
// substituted again and again into the same shapes, so that the cached shapes and scalars are
// reused; and what it cannot template (tags, aliases, multi-line, long scalars) falls back.
TEST(ConfigTest, CachedYamlDumpIsByteEqualToTheEmitter) {
  std::vector<std::string> docs;
  for (const char* dir : {"backtest", "train", "experiment", "sweeps"}) {
    const auto folder = std::filesystem::path(ALPHALAB_SOURCE_DIR) / "examples" / "workspace" / "configs" / dir;
    for (const auto& e : std::filesystem::directory_iterator(folder)) {
      std::ifstream in(e.path());
      docs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  ASSERT_GE(docs.size(), 4u);
  docs.push_back("a: {b: [1, 2, {c: d}], e: []}\nf: {}\ng: ~\nh:\n  - [x, y]\n  - {k: v}\n  -\n");
  docs.push_back("'yes': no\n'1': 2\nlist: [a, 'b c', \"d,e\"]\n");
  docs.push_back("tagged: !custom 5\n");                 // a tag: falls back
  docs.push_back("a: &x 5\nb: *x\n");                   // an alias: falls back
  docs.push_back("s: \"two\\nlines\"\n");               // emitted on one line, quoted
  docs.push_back("long: " + std::string(300, 'x') + "\n");  // too long to cache: falls back
  docs.push_back("plain scalar document\n");
  const std::vector<std::string> values = {
      "5", "-3", "0.25", "1e-7", "yes", "no", "true", "null", "~", "", " lead", "trail ", "a: b", "a #b", "#c",
      "[x]", "{y}", "-", "- z", "?", ":", "'q'", "\"dq\"", "a,b", "x]", "multi\nline", "tab\tin", "ü", "@at",
      "`tick", "%pct", "&amp", "*star", "!bang", "|pipe", ">gt", "zqzslot0zqz", std::string(300, 'y')};
  size_t checked = 0;
  for (int round = 0; round < 2; ++round) {
    for (const std::string& doc : docs) {
      const YAML::Node root = YAML::Load(doc);
      EXPECT_EQ(DumpYamlCached(root), DumpYaml(root)) << doc;
      // Every scalar value replaced by each awkward value in turn (one shape, many values).
      std::function<void(YAML::Node)> each_scalar;
      std::vector<YAML::Node> scalars;
      each_scalar = [&](YAML::Node n) {
        if (n.IsScalar()) scalars.push_back(n);
        if (n.IsSequence()) for (YAML::Node item : n) each_scalar(item);
        if (n.IsMap()) for (auto kv : n) each_scalar(kv.second);
      };
      YAML::Node copy = YAML::Clone(root);
      each_scalar(copy);
      for (size_t k = 0; k < values.size(); ++k) {
        for (size_t j = 0; j < scalars.size(); ++j) scalars[j] = values[(k + j) % values.size()];
        ASSERT_EQ(DumpYamlCached(copy), DumpYaml(copy)) << doc << " with values from " << k;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 400u);
}

}  // namespace
}  // namespace alphalab::engine

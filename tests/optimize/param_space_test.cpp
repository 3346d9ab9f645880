// param_space parsing: ranges (inclusive, 0.1 steps, ints stay ints), lists, continuous
// ranges, the models slot, and every error naming its field.
#include "optimize/param_space.hpp"

#include <gtest/gtest.h>

#include "core/override_key.hpp"

namespace alphalab::optimize {
namespace {

Json J(const char* text) { return Json::parse(text); }

std::string FieldOf(const Status& s) { return s.details().is_object() ? s.details().value("field", "") : ""; }

TEST(OverrideKeyTest, SameRuleAsSet) {
  auto parts = SplitOverrideKey("strategy.params.fast");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(*parts, (std::vector<std::string>{"strategy", "params", "fast"}));
  EXPECT_TRUE(ValidateOverrideKey("model.params.max_depth_2").ok());
  EXPECT_TRUE(ValidateOverrideKey("_a.0.b").ok());  // later segments may start with a digit
  for (const char* bad : {"", ".a", "a.", "a..b", "a b", "a=b", "a/b", "a.$x", "ü", "-a", "9a", "a.max-depth",
                          "--config"}) {
    EXPECT_FALSE(ValidateOverrideKey(bad).ok()) << bad;
  }
}

TEST(ExpandRangeTest, IntegersStayIntegersAndMaxIsInclusive) {
  auto v = ExpandRange(5, 50, 5, "f", 1000);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 10u);
  EXPECT_TRUE((*v)[0].is_number_integer());
  EXPECT_EQ((*v)[0].get<int64_t>(), 5);
  EXPECT_EQ(v->back().get<int64_t>(), 50);
  auto uneven = ExpandRange(0, 10, 3, "f", 1000);  // 0 3 6 9: max not on the lattice
  ASSERT_TRUE(uneven.ok());
  EXPECT_EQ(uneven->size(), 4u);
  EXPECT_EQ(uneven->back().get<int64_t>(), 9);
  auto wide = ExpandRange(int64_t{-9'000'000'000'000'000'000}, int64_t{9'000'000'000'000'000'000},
                          int64_t{9'000'000'000'000'000'000}, "f", 1000);
  ASSERT_TRUE(wide.ok());
  ASSERT_EQ(wide->size(), 3u);
  EXPECT_EQ((*wide)[2].get<int64_t>(), int64_t{9'000'000'000'000'000'000});
  auto single = ExpandRange(7, 7, 1, "f", 1000);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->size(), 1u);
}

TEST(ExpandRangeTest, TenthStepsAreExactAndInclusive) {
  auto v = ExpandRange(0.1, 1.0, 0.1, "f", 1000);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 10u);  // (1.0-0.1)/0.1 = 8.999999999999998 without the epsilon
  const double expected[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_TRUE((*v)[i].is_number_float());
    EXPECT_EQ((*v)[i].get<double>(), expected[i]) << i;  // exact, e.g. 0.3 not 0.30000000000000004
  }
  auto mixed = ExpandRange(0, 1, 0.25, "f", 1000);  // float step: floats
  ASSERT_TRUE(mixed.ok());
  ASSERT_EQ(mixed->size(), 5u);
  EXPECT_EQ((*mixed)[4].get<double>(), 1.0);
  auto small = ExpandRange(0.0001, 0.0005, 0.0001, "f", 1000);
  ASSERT_TRUE(small.ok());
  ASSERT_EQ(small->size(), 5u);
  EXPECT_EQ((*small)[2].get<double>(), 0.0003);
  auto neg = ExpandRange(-0.3, 0.3, 0.1, "f", 1000);
  ASSERT_TRUE(neg.ok());
  ASSERT_EQ(neg->size(), 7u);
  EXPECT_EQ((*neg)[3].get<double>(), 0.0);
  EXPECT_EQ((*neg)[6].get<double>(), 0.3);
}

TEST(ExpandRangeTest, Errors) {
  auto zero = ExpandRange(1, 5, 0, "param_space.k", 1000);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(FieldOf(zero.status()), "param_space.k.step");
  EXPECT_EQ(FieldOf(ExpandRange(1, 5, -1, "param_space.k", 1000).status()), "param_space.k.step");
  auto inverted = ExpandRange(5, 1, 1, "param_space.k", 1000);
  ASSERT_FALSE(inverted.ok());
  EXPECT_EQ(FieldOf(inverted.status()), "param_space.k");
  EXPECT_NE(inverted.status().message().find("min must not be greater than max"), std::string::npos);
  EXPECT_EQ(FieldOf(ExpandRange("a", 5, 1, "param_space.k", 1000).status()), "param_space.k.min");
  auto huge = ExpandRange(0, 1e12, 1, "param_space.k", 1000);  // refused before materialising
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("more than 1000 values"), std::string::npos);
  EXPECT_TRUE(ExpandRange(1, 1000, 1, "k", 1000).ok());
  EXPECT_FALSE(ExpandRange(1, 1001, 1, "k", 1000).ok());
}

TEST(ParamSpaceTest, AxesInKeyOrder) {
  auto s = ParseParamSpace(J(R"({"strategy.params.slow": [20, 40, 60],
                                 "strategy.params.fast": {"min": 5, "max": 50, "step": 5},
                                 "fee_bps": {"min": 0.5, "max": 1.5}})"),
                           1'000'000);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->axes.size(), 3u);
  EXPECT_EQ(s->axes[0].key, "fee_bps");
  EXPECT_EQ(s->axes[0].kind, AxisKind::kContinuous);
  EXPECT_FALSE(s->axes[0].integer);
  EXPECT_EQ(s->axes[1].key, "strategy.params.fast");
  EXPECT_EQ(s->axes[1].kind, AxisKind::kRange);
  EXPECT_EQ(s->axes[2].kind, AxisKind::kList);
  EXPECT_EQ(s->LatticeSize(), 30u);
  EXPECT_TRUE(s->HasContinuous());
}

TEST(ParamSpaceTest, LatticeSizeSaturates) {
  ParamSpace s;
  for (int i = 0; i < 8; ++i) {
    ParamAxis a;
    a.key = "k" + std::to_string(i);
    a.values.assign(1000, Json(1));
    s.axes.push_back(a);
  }
  EXPECT_EQ(s.LatticeSize(), std::numeric_limits<uint64_t>::max());
}

TEST(ParamSpaceTest, ListValues) {
  auto s = ParseParamSpace(J(R"({"tickers": [["SPX"], ["SPX", "AAPL"]], "strategy.type": ["sma_cross", "signal"],
                                 "model_path": [null, "m.json"], "flag": [true, false]})"),
                           100);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->LatticeSize(), 16u);
}

TEST(ParamSpaceTest, ErrorsNameTheField) {
  struct Case {
    const char* doc;
    const char* field;
    const char* needle;
  };
  const Case cases[] = {
      {R"([1, 2])", "param_space", "must be an object"},
      {R"({})", "param_space", "at least one parameter"},
      {R"({"a..b": [1]})", "param_space.a..b", "empty segment"},
      {R"({"a b": [1]})", "param_space.a b", "may only hold"},
      {R"({"k": []})", "param_space.k", "empty"},
      {R"({"k": [1, 2, 1]})", "param_space.k[2]", "duplicate value"},
      {R"({"k": [1, {"x": 1}]})", "param_space.k[1]", "a value must be"},
      {R"({"k": [[[1]]]})", "param_space.k[0]", "a value must be"},
      {R"({"k": 5})", "param_space.k", "must be a list of values or a {min, max[, step]} range"},
      {R"({"k": {"min": 1, "max": 5, "step": 0}})", "param_space.k.step", "greater than 0"},
      {R"({"k": {"min": 1, "max": 5, "step": -2}})", "param_space.k.step", "greater than 0"},
      {R"({"k": {"min": 5, "max": 1, "step": 1}})", "param_space.k", "min must not be greater than max"},
      {R"({"k": {"min": 5, "max": 1}})", "param_space.k", "min must not be greater than max"},
      {R"({"k": {"max": 1, "step": 1}})", "param_space.k.min", "missing"},
      {R"({"k": {"min": 1}})", "param_space.k.max", "missing"},
      {R"({"k": {"min": "1", "max": 2}})", "param_space.k.min", "must be a number"},
      {R"({"k": {"min": 1, "max": 2, "stp": 1}})", "param_space.k.stp", "unknown field"},
      {R"({"k": {"models": 5}})", "param_space.k.models", "must be an object"},
      {R"({"k": {"models": {}, "min": 1}})", "param_space.k", "only the 'models' field"},
  };
  for (const auto& c : cases) {
    auto s = ParseParamSpace(J(c.doc), 1000);
    ASSERT_FALSE(s.ok()) << c.doc;
    EXPECT_TRUE(s.status().IsInvalidArgument()) << c.doc;
    EXPECT_EQ(FieldOf(s.status()), c.field) << c.doc << " -> " << s.status().message();
    EXPECT_EQ(s.status().message().rfind(std::string(c.field) + ": ", 0), 0u) << s.status().message();
    EXPECT_NE(s.status().message().find(c.needle), std::string::npos) << s.status().message();
  }
}

}  // namespace
}  // namespace alphalab::optimize

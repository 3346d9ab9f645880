// Grid and random expansion: order, no duplicates, reproducible seeds, extension with only
// new combinations, and the task maximum checked before anything is materialised.
#include "optimize/sampler.hpp"

#include <chrono>
#include <set>

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

Json J(const char* text) { return Json::parse(text); }
std::string FieldOf(const Status& s) { return s.details().is_object() ? s.details().value("field", "") : ""; }

ParamSpace Space(const char* text, uint64_t max = kDefaultMaxTasks) {
  auto s = ParseParamSpace(J(text), max);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : ParamSpace{};
}

SamplerSpec Random(uint64_t n, uint64_t seed) { return SamplerSpec{SamplerType::kRandom, n, seed}; }

std::set<std::string> Keys(const std::vector<TaskParams>& tasks) {
  std::set<std::string> keys;
  for (const auto& t : tasks) keys.insert(CanonicalParamsKey(t.params));
  return keys;
}

TEST(SplitMix64Test, ReferenceVectors) {
  // The published splitmix64.c outputs for seeds 0 and 1234567.
  SplitMix64 a(0);
  EXPECT_EQ(a.Next(), 0xe220a8397b1dcdafull);
  EXPECT_EQ(a.Next(), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(a.Next(), 0x06c45d188009454full);
  SplitMix64 b(1234567);
  EXPECT_EQ(b.Next(), 6457827717110365317ull);
  EXPECT_EQ(b.Next(), 3203168211198807973ull);
  EXPECT_EQ(b.Next(), 9817491932198370423ull);
}

TEST(SplitMix64Test, BelowAndUnitStayInRangeAndSpread) {
  SplitMix64 rng(42);
  int buckets[10] = {};
  for (int i = 0; i < 20000; ++i) {
    const uint64_t v = rng.Below(10);
    ASSERT_LT(v, 10u);
    ++buckets[v];
  }
  for (int b : buckets) {
    EXPECT_GT(b, 1700);
    EXPECT_LT(b, 2300);
  }
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.Unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
  EXPECT_EQ(rng.Below(1), 0u);
}

TEST(SamplerParseTest, Forms) {
  EXPECT_EQ(ParseSampler(Json()).value().type, SamplerType::kGrid);
  EXPECT_EQ(ParseSampler(Json("grid")).value().type, SamplerType::kGrid);
  EXPECT_EQ(ParseSampler(J(R"({"type": "grid"})")).value().type, SamplerType::kGrid);
  auto r = ParseSampler(J(R"({"type": "random", "n": 7, "seed": 3})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, SamplerType::kRandom);
  EXPECT_EQ(r->n, 7u);
  EXPECT_EQ(r->seed, 3u);
  EXPECT_EQ(ParseSampler(SamplerToJson(*r)).value().seed, 3u);
  struct Case {
    const char* doc;
    const char* field;
  };
  for (const Case& c : {Case{R"("bayes")", "sampler"}, Case{R"(5)", "sampler"}, Case{R"({"type": "tpe"})", "sampler.type"},
                        Case{R"({})", "sampler.type"}, Case{R"({"type": "random"})", "sampler.n"},
                        Case{R"({"type": "random", "n": 0})", "sampler.n"},
                        Case{R"({"type": "random", "n": 2.5})", "sampler.n"},
                        Case{R"({"type": "random", "n": 2, "seed": -1})", "sampler.seed"},
                        Case{R"({"type": "random", "n": 2, "sed": 1})", "sampler.sed"},
                        Case{R"({"type": "grid", "n": 2})", "sampler.n"}, Case{R"("random")", "sampler.n"}}) {
    auto s = ParseSampler(J(c.doc));
    ASSERT_FALSE(s.ok()) << c.doc;
    EXPECT_EQ(FieldOf(s.status()), c.field) << c.doc << ": " << s.status().message();
  }
}

TEST(CanonicalKeyTest, NumbersByValue) {
  EXPECT_EQ(CanonicalParamsKey(J(R"({"a": 5, "b": "x"})")), CanonicalParamsKey(J(R"({"b": "x", "a": 5.0})")));
  EXPECT_NE(CanonicalParamsKey(J(R"({"a": 5})")), CanonicalParamsKey(J(R"({"a": "5"})")));
  EXPECT_NE(CanonicalParamsKey(J(R"({"a": 0.1})")), CanonicalParamsKey(J(R"({"a": 0.10000000000000002})")));
}

TEST(GridTest, CartesianProductLastKeyFastest) {
  auto space = Space(R"({"strategy.params.fast": {"min": 5, "max": 15, "step": 5},
                         "strategy.params.slow": [20, 40]})");
  auto tasks = Expand(space, SamplerSpec{}, {});
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  ASSERT_EQ(tasks->size(), 6u);
  const int expected[6][2] = {{5, 20}, {5, 40}, {10, 20}, {10, 40}, {15, 20}, {15, 40}};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ((*tasks)[i].index, static_cast<int64_t>(i));
    EXPECT_EQ((*tasks)[i].params.at("strategy.params.fast").get<int>(), expected[i][0]);
    EXPECT_EQ((*tasks)[i].params.at("strategy.params.slow").get<int>(), expected[i][1]);
    EXPECT_EQ((*tasks)[i].params.size(), 2u);
  }
  EXPECT_EQ(Keys(*tasks).size(), 6u);
}

TEST(GridTest, IssueExampleHas100DistinctTasks) {
  auto space = Space(R"({"strategy.params.fast": {"min": 5, "max": 50, "step": 5},
                         "strategy.params.slow": [20, 40, 60, 80, 100, 120, 140, 160, 180, 200]})");
  auto tasks = Expand(space, SamplerSpec{}, {});
  ASSERT_TRUE(tasks.ok());
  EXPECT_EQ(tasks->size(), 100u);
  EXPECT_EQ(Keys(*tasks).size(), 100u);
  EXPECT_EQ(tasks->back().params.at("strategy.params.fast").get<int>(), 50);
  EXPECT_EQ(tasks->back().params.at("strategy.params.slow").get<int>(), 200);
}

TEST(GridTest, ContinuousAxisNeedsRandom) {
  auto space = Space(R"({"a": [1, 2], "b": {"min": 0, "max": 1}})");
  auto tasks = Expand(space, SamplerSpec{}, {});
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(FieldOf(tasks.status()), "param_space.b");
  EXPECT_NE(tasks.status().message().find("random sampler"), std::string::npos);
}

TEST(GridTest, MaximumCheckedBeforeMaterialising) {
  // 10^5 x 10^5 x 10^5 lattice points: refused at once, nothing enumerated.
  auto space = Space(R"({"a": {"min": 1, "max": 100000, "step": 1}, "b": {"min": 1, "max": 100000, "step": 1},
                         "c": {"min": 1, "max": 100000, "step": 1}})");
  const auto start = std::chrono::steady_clock::now();
  auto tasks = Expand(space, SamplerSpec{}, {});
  ASSERT_FALSE(tasks.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(FieldOf(tasks.status()), "param_space");
  EXPECT_NE(tasks.status().message().find("more than the maximum of 1000000"), std::string::npos);
  ExpandOptions small;
  small.max_tasks = 5;
  auto six = Expand(Space(R"({"a": [1, 2, 3], "b": [1, 2]})"), SamplerSpec{}, small);
  ASSERT_FALSE(six.ok());
  EXPECT_NE(six.status().message().find("6 tasks"), std::string::npos);
  small.max_tasks = 6;
  EXPECT_TRUE(Expand(Space(R"({"a": [1, 2, 3], "b": [1, 2]})"), SamplerSpec{}, small).ok());
}

TEST(GridTest, ExtensionAddsOnlyNewCombinations) {
  auto first = Expand(Space(R"({"fast": [5, 10], "slow": [20, 40]})"), SamplerSpec{}, {});
  ASSERT_TRUE(first.ok());
  ExpandOptions ext;
  for (const auto& t : *first) ext.existing.push_back(t.params);
  ext.first_index = 4;
  auto wider = Space(R"({"fast": [5, 10, 15], "slow": [20, 40, 60]})");
  auto count = CountNewTasks(wider, SamplerSpec{}, ext);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 5u);
  auto added = Expand(wider, SamplerSpec{}, ext);
  ASSERT_TRUE(added.ok());
  ASSERT_EQ(added->size(), 5u);
  std::set<std::string> old_keys = Keys(*first);
  for (size_t i = 0; i < added->size(); ++i) {
    EXPECT_EQ((*added)[i].index, static_cast<int64_t>(4 + i));
    EXPECT_FALSE(old_keys.count(CanonicalParamsKey((*added)[i].params)));
  }
  std::set<std::string> all = Keys(*first);
  for (const auto& t : *added) all.insert(CanonicalParamsKey(t.params));
  EXPECT_EQ(all, Keys(Expand(wider, SamplerSpec{}, {}).value()));
  // the same grid again adds nothing
  ExpandOptions again;
  for (const auto& t : *first) again.existing.push_back(t.params);
  for (const auto& t : *added) again.existing.push_back(t.params);
  auto none = Expand(wider, SamplerSpec{}, again);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // existing float 10.0 matches the grid's integer 10
  ExpandOptions floats;
  floats.existing.push_back(J(R"({"fast": 10.0, "slow": 20})"));
  EXPECT_EQ(CountNewTasks(wider, SamplerSpec{}, floats).value(), 8u);
}

TEST(GridTest, ExtensionCountsExistingAgainstMaximum) {
  ExpandOptions ext;
  for (int i = 0; i < 8; ++i) ext.existing.push_back(Json{{"x", 100 + i}});
  ext.max_tasks = 10;
  auto r = Expand(Space(R"({"x": [1, 2, 3]})"), SamplerSpec{}, ext);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("8 existing + 3 new"), std::string::npos) << r.status().message();
}

TEST(RandomTest, LatticeWithoutReplacementAndReproducible) {
  auto space = Space(R"({"fast": {"min": 5, "max": 50, "step": 5}, "slow": {"min": 20, "max": 200, "step": 20}})");
  auto a = Expand(space, Random(30, 7), {});
  auto b = Expand(space, Random(30, 7), {});
  auto c = Expand(space, Random(30, 8), {});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_EQ(a->size(), 30u);
  EXPECT_EQ(Keys(*a).size(), 30u);  // no duplicates
  for (size_t i = 0; i < 30; ++i) {
    EXPECT_EQ((*a)[i].params, (*b)[i].params);
    EXPECT_EQ((*a)[i].index, static_cast<int64_t>(i));
    const int fast = (*a)[i].params.at("fast").get<int>();
    const int slow = (*a)[i].params.at("slow").get<int>();
    EXPECT_TRUE(fast % 5 == 0 && fast >= 5 && fast <= 50);
    EXPECT_TRUE(slow % 20 == 0 && slow >= 20 && slow <= 200);
  }
  EXPECT_NE(Keys(*a), Keys(*c));
  // the whole lattice: a permutation of the grid
  auto all = Expand(space, Random(100, 1), {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Keys(*all), Keys(Expand(space, SamplerSpec{}, {}).value()));
  auto too_many = Expand(space, Random(101, 1), {});
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(FieldOf(too_many.status()), "sampler.n");
  EXPECT_NE(too_many.status().message().find("only 100 new combinations remain"), std::string::npos);
}

TEST(RandomTest, FixedSeedGivesFixedTasks) {
  // Pinned: SplitMix64 + the sparse Fisher-Yates shuffle are fully specified, so seed 7
  // gives these lattice positions on every platform (a change here breaks reproducibility).
  auto space = Space(R"({"x": {"min": 0, "max": 99, "step": 1}})");
  auto tasks = Expand(space, Random(5, 7), {});
  ASSERT_TRUE(tasks.ok());
  SplitMix64 rng(7);
  std::vector<uint64_t> perm(100);
  for (uint64_t i = 0; i < 100; ++i) perm[i] = i;
  for (size_t i = 0; i < 5; ++i) {
    const uint64_t j = i + rng.Below(100 - i);
    std::swap(perm[i], perm[j]);
    EXPECT_EQ((*tasks)[i].params.at("x").get<uint64_t>(), perm[i]) << i;
  }
}

TEST(RandomTest, ExtensionWithSameSeedContinuesTheSequence) {
  auto space = Space(R"({"a": {"min": 1, "max": 20, "step": 1}, "b": [0.1, 0.2, 0.3]})");
  auto ten = Expand(space, Random(10, 99), {});
  auto five = Expand(space, Random(5, 99), {});
  ASSERT_TRUE(ten.ok() && five.ok());
  ExpandOptions ext;
  for (const auto& t : *five) ext.existing.push_back(t.params);
  ext.first_index = 5;
  auto more = Expand(space, Random(5, 99), ext);
  ASSERT_TRUE(more.ok());
  ASSERT_EQ(more->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*more)[i].params, (*ten)[5 + i].params);
    EXPECT_EQ((*more)[i].index, static_cast<int64_t>(5 + i));
  }
  // another seed: still only new combinations
  auto other = Expand(space, Random(40, 5), ext);
  ASSERT_TRUE(other.ok());
  auto old_keys = Keys(*five);
  for (const auto& t : *other) EXPECT_FALSE(old_keys.count(CanonicalParamsKey(t.params)));
  EXPECT_EQ(Keys(*other).size(), 40u);
  // 60 lattice points, 5 existing: 56 cannot be drawn
  auto over = Expand(space, Random(56, 5), ext);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("only 55 new combinations remain"), std::string::npos);
}

TEST(RandomTest, ContinuousAxesUniformInBounds) {
  auto space = Space(R"({"cutoff": {"min": 0.4, "max": 0.6}, "window": {"min": 10, "max": 12}, "kind": ["a", "b"]})");
  auto a = Expand(space, Random(200, 3), {});
  auto b = Expand(space, Random(200, 3), {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Keys(*a).size(), 200u);
  std::set<int64_t> windows;
  double lo = 1, hi = 0;
  for (size_t i = 0; i < a->size(); ++i) {
    const auto& p = (*a)[i].params;
    EXPECT_EQ(p, (*b)[i].params);
    const double cutoff = p.at("cutoff").get<double>();
    EXPECT_GE(cutoff, 0.4);
    EXPECT_LE(cutoff, 0.6);
    lo = std::min(lo, cutoff);
    hi = std::max(hi, cutoff);
    ASSERT_TRUE(p.at("window").is_number_integer());
    windows.insert(p.at("window").get<int64_t>());
  }
  EXPECT_EQ(windows, (std::set<int64_t>{10, 11, 12}));  // integer bounds: integers, max included
  EXPECT_LT(lo, 0.42);
  EXPECT_GT(hi, 0.58);
}

TEST(RandomTest, TooFewDistinctCombinationsIsAnError) {
  auto space = Space(R"({"w": {"min": 1, "max": 3}})");  // 3 integers only
  auto r = Expand(space, Random(4, 1), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(FieldOf(r.status()), "sampler.n");
  EXPECT_NE(r.status().message().find("only 3 distinct"), std::string::npos) << r.status().message();
}

TEST(RandomTest, MaximumCheckedBeforeMaterialising) {
  ExpandOptions opts;
  opts.max_tasks = 100;
  auto r = Expand(Space(R"({"x": {"min": 0, "max": 1}})"), Random(101, 1), opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(FieldOf(r.status()), "sampler.n");
  EXPECT_NE(r.status().message().find("maximum of 100"), std::string::npos);
  // a lattice too large to index still samples
  auto huge = Space(R"({"a": {"min": 1, "max": 100000, "step": 1}, "b": {"min": 1, "max": 100000, "step": 1},
                        "c": {"min": 1, "max": 100000, "step": 1}, "d": {"min": 1, "max": 100000, "step": 1}})");
  auto s = Expand(huge, Random(50, 2), {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Keys(*s).size(), 50u);
}

}  // namespace
}  // namespace alphalab::optimize

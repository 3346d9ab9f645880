// Early stop: patience in completion order, min_tasks, target, both directions, and the
// mode/direction check.
#include "optimize/early_stop.hpp"

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

std::string FieldOf(const Status& s) { return s.details().is_object() ? s.details().value("field", "") : ""; }

EarlyStopPolicy Policy(Direction mode, std::optional<int64_t> patience, int64_t min_tasks, std::optional<double> target) {
  EarlyStopPolicy p;
  p.mode = mode;
  p.patience = patience;
  p.min_tasks = min_tasks;
  p.target = target;
  return p;
}

// Feeds scores in order; returns the 1-based position at which a stop was returned (0 = never).
int StopsAt(EarlyStopTracker& t, const std::vector<std::optional<double>>& scores) {
  for (size_t i = 0; i < scores.size(); ++i) {
    if (t.OnTaskFinished(scores[i]) != StopReason::kNone) return static_cast<int>(i + 1);
  }
  return 0;
}

TEST(EarlyStopTest, PatienceCountsFinishedTasksWithoutImprovement) {
  EarlyStopTracker t(Policy(Direction::kMax, 3, 0, std::nullopt));
  // 1 improves, 2 improves, then 3 without improvement (equal is not better) -> stop at 5
  EXPECT_EQ(StopsAt(t, {1.0, 2.0, 2.0, 1.5, 0.5, 9.0}), 5);
  EXPECT_EQ(t.stopped(), StopReason::kPatience);
  EXPECT_EQ(*t.best(), 2.0);
  EXPECT_EQ(t.OnTaskFinished(100.0), StopReason::kPatience);  // sticky
  EXPECT_EQ(*t.best(), 2.0);
}

TEST(EarlyStopTest, ImprovementResetsPatience) {
  EarlyStopTracker t(Policy(Direction::kMax, 2, 0, std::nullopt));
  EXPECT_EQ(StopsAt(t, {1.0, 0.5, 3.0, 2.0, 4.0, 1.0, 1.0}), 7);
}

TEST(EarlyStopTest, UnrankedTasksCountAsNoImprovement) {
  EarlyStopTracker t(Policy(Direction::kMax, 2, 0, std::nullopt));
  EXPECT_EQ(StopsAt(t, {std::nullopt, std::nullopt}), 2);
  EXPECT_FALSE(t.best().has_value());
}

TEST(EarlyStopTest, MinTasksDelaysBothRules) {
  EarlyStopTracker patience(Policy(Direction::kMax, 1, 5, std::nullopt));
  EXPECT_EQ(StopsAt(patience, {5.0, 1.0, 1.0, 1.0, 1.0, 1.0}), 5);
  EarlyStopTracker target(Policy(Direction::kMax, std::nullopt, 4, 10.0));
  EXPECT_EQ(StopsAt(target, {11.0, 1.0, 1.0, 1.0, 1.0}), 4);  // reached at 1, applies from 4
  EXPECT_EQ(target.stopped(), StopReason::kTarget);
}

TEST(EarlyStopTest, TargetInBothDirections) {
  EarlyStopTracker max(Policy(Direction::kMax, std::nullopt, 0, 1.5));
  EXPECT_EQ(StopsAt(max, {1.0, 1.4, 1.5, 2.0}), 3);
  EXPECT_EQ(max.stopped(), StopReason::kTarget);
  EarlyStopTracker min(Policy(Direction::kMin, std::nullopt, 0, 0.1));
  EXPECT_EQ(StopsAt(min, {0.5, 0.3, 0.2, 0.09, 0.01}), 4);
  EarlyStopTracker never(Policy(Direction::kMin, std::nullopt, 0, 0.1));
  EXPECT_EQ(StopsAt(never, {0.5, 0.3, 0.2}), 0);
}

TEST(EarlyStopTest, MinModePatience) {
  EarlyStopTracker t(Policy(Direction::kMin, 2, 0, std::nullopt));
  EXPECT_EQ(StopsAt(t, {0.5, 0.4, 0.6, 0.3, 0.3, 0.35}), 6);
  EXPECT_EQ(*t.best(), 0.3);
}

TEST(EarlyStopTest, TargetCheckedBeforePatience) {
  EarlyStopTracker t(Policy(Direction::kMax, 1, 0, 5.0));
  EXPECT_EQ(t.OnTaskFinished(6.0), StopReason::kTarget);
}

TEST(EarlyStopTest, DisabledPolicyNeverStops) {
  EarlyStopTracker t(EarlyStopPolicy{});
  std::vector<std::optional<double>> scores(1000, 1.0);
  EXPECT_EQ(StopsAt(t, scores), 0);
  EXPECT_EQ(t.finished(), 1000);
}

TEST(EarlyStopParseTest, DefaultsAndRoundTrip) {
  auto p = ParseEarlyStopPolicy(Json(), Direction::kMin);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->mode, Direction::kMin);
  EXPECT_FALSE(p->enabled());
  auto q = ParseEarlyStopPolicy(Json::parse(R"({"patience": 20, "min_tasks": 10, "target": null})"), Direction::kMax);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->mode, Direction::kMax);  // mode defaults to the objective direction
  EXPECT_EQ(*q->patience, 20);
  EXPECT_EQ(q->min_tasks, 10);
  EXPECT_FALSE(q->target.has_value());
  auto back = ParseEarlyStopPolicy(EarlyStopPolicyToJson(*q), Direction::kMax);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back->patience, 20);
  EXPECT_EQ(back->min_tasks, 10);
}

TEST(EarlyStopParseTest, Errors) {
  struct Case {
    const char* doc;
    const char* field;
    const char* needle;
  };
  for (const Case& c : {Case{R"({"mode": "min"})", "early_stop_policy.mode", "objective direction is 'max'"},
                        Case{R"({"mode": "up"})", "early_stop_policy.mode", "\"max\" or \"min\""},
                        Case{R"({"patience": 0})", "early_stop_policy.patience", ">= 1"},
                        Case{R"({"patience": 1.5})", "early_stop_policy.patience", ">= 1"},
                        Case{R"({"min_tasks": -1})", "early_stop_policy.min_tasks", ">= 0"},
                        Case{R"({"target": "high"})", "early_stop_policy.target", "number"},
                        Case{R"({"patiense": 3})", "early_stop_policy.patiense", "unknown field"},
                        Case{R"([1])", "early_stop_policy", "must be an object"}}) {
    auto r = ParseEarlyStopPolicy(Json::parse(c.doc), Direction::kMax);
    ASSERT_FALSE(r.ok()) << c.doc;
    EXPECT_EQ(FieldOf(r.status()), c.field) << c.doc;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace alphalab::optimize

namespace alphalab::optimize {
namespace {

TEST(EarlyStopRestartTest, CountsAfreshButKeepsTheBest) {
  EarlyStopPolicy p;
  p.patience = 2;
  EarlyStopTracker t(p);
  ASSERT_EQ(t.OnTaskFinished(5.0), StopReason::kNone);
  ASSERT_EQ(t.OnTaskFinished(1.0), StopReason::kNone);
  ASSERT_EQ(t.OnTaskFinished(1.0), StopReason::kPatience);
  t.Restart();
  EXPECT_EQ(t.stopped(), StopReason::kNone);
  EXPECT_EQ(t.finished(), 0);
  EXPECT_EQ(*t.best(), 5.0);
  EXPECT_EQ(t.OnTaskFinished(4.0), StopReason::kNone);      // below the kept best: no improvement
  EXPECT_EQ(t.OnTaskFinished(4.5), StopReason::kPatience);  // second one without improvement
}

TEST(EarlyStopRestartTest, TargetMustBeReachedAgainAfterRestart) {
  EarlyStopPolicy p;
  p.target = 10.0;
  p.min_tasks = 2;
  EarlyStopTracker t(p);
  ASSERT_EQ(t.OnTaskFinished(12.0), StopReason::kNone);  // reached, but min_tasks is 2
  ASSERT_EQ(t.OnTaskFinished(3.0), StopReason::kTarget);
  t.Restart();
  EXPECT_EQ(t.OnTaskFinished(3.0), StopReason::kNone);
  EXPECT_EQ(t.OnTaskFinished(3.0), StopReason::kNone);
  EXPECT_EQ(t.OnTaskFinished(10.0), StopReason::kTarget);
}

}  // namespace
}  // namespace alphalab::optimize

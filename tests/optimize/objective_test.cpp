// Constraint parsing and evaluation, objective in both directions.
#include "optimize/objective.hpp"

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

TEST(ConstraintParseTest, Operators) {
  struct Case {
    const char* text;
    const char* metric;
    CompareOp op;
    double rhs;
  };
  const Case cases[] = {
      {"max_drawdown <= 0.35", "max_drawdown", CompareOp::kLe, 0.35},
      {"max_drawdown<0.35", "max_drawdown", CompareOp::kLt, 0.35},
      {"  sharpe >= 1  ", "sharpe", CompareOp::kGe, 1.0},
      {"trades > 10", "trades", CompareOp::kGt, 10},
      {"trades == 0", "trades", CompareOp::kEq, 0},
      {"trades != 0", "trades", CompareOp::kNe, 0},
      {"cagr >= -0.05", "cagr", CompareOp::kGe, -0.05},
      {"volatility <= 1e-1", "volatility", CompareOp::kLe, 0.1},
      {"\"Sharpe Ratio\" >= 1", "Sharpe Ratio", CompareOp::kGe, 1.0},
      {"\"Drawdown\" <= 25%", "Drawdown", CompareOp::kLe, 0.25},
      {"1day.excess_return_with_cost.max_drawdown >= -0.1", "1day.excess_return_with_cost.max_drawdown",
       CompareOp::kGe, -0.1},
      {"\"a \\\"quoted\\\" \\\\ name\" < 2", "a \"quoted\" \\ name", CompareOp::kLt, 2},
  };
  for (const auto& c : cases) {
    auto r = ParseConstraint(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().message();
    EXPECT_EQ(r->metric, c.metric) << c.text;
    EXPECT_EQ(r->op, c.op) << c.text;
    EXPECT_DOUBLE_EQ(r->rhs, c.rhs) << c.text;
    EXPECT_EQ(r->text, c.text);
  }
}

TEST(ConstraintParseTest, Errors) {
  struct Case {
    const char* text;
    const char* needle;
  };
  const Case cases[] = {
      {"", "is empty"},
      {"   ", "is empty"},
      {"max_drawdown", "no comparison operator"},
      {"max_drawdown 0.35", "no comparison operator"},
      {"max_drawdown =< 0.35", "no comparison operator"},
      {"max_drawdown = 0.35", "no comparison operator"},
      {"max_drawdown <=", "no number"},
      {"max_drawdown <= abc", "not a finite number"},
      {"max_drawdown <= 0.35 extra", "not a finite number"},
      {"max_drawdown <= +1", "not a finite number"},
      {"max_drawdown <= nan", "not a finite number"},
      {"<= 0.35", "must start with a metric name"},
      {"Sharpe Ratio >= 1", "no comparison operator"},
      {"\"Sharpe Ratio >= 1", "not closed"},
      {"\"\" >= 1", "empty"},
      {"\"a\\nb\" >= 1", "may be escaped"},
      {"0.35 >= max_drawdown", "not a finite number"},
      {"-x >= 1", "must start with a metric name"},
  };
  for (const auto& c : cases) {
    auto r = ParseConstraint(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << c.text << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(std::string("'") + c.text + "'"), std::string::npos);
  }
}

TEST(ConstraintTest, HoldsForEveryOperator) {
  auto c = [](const char* t) { return ParseConstraint(t).value(); };
  EXPECT_TRUE(c("x <= 1").Holds(1));
  EXPECT_FALSE(c("x <= 1").Holds(1.0001));
  EXPECT_FALSE(c("x < 1").Holds(1));
  EXPECT_TRUE(c("x < 1").Holds(0.999));
  EXPECT_TRUE(c("x >= 1").Holds(1));
  EXPECT_FALSE(c("x >= 1").Holds(0.999));
  EXPECT_FALSE(c("x > 1").Holds(1));
  EXPECT_TRUE(c("x > 1").Holds(1.5));
  EXPECT_TRUE(c("x == 3").Holds(3));
  EXPECT_FALSE(c("x == 3").Holds(3.0000001));
  EXPECT_TRUE(c("x != 3").Holds(2));
  EXPECT_FALSE(c("x != 3").Holds(3));
}

TEST(EvaluateTest, RankedViolatedAndMissing) {
  const Objective obj{"final_equity", Direction::kMax};
  const std::vector<Constraint> cons = {ParseConstraint("max_drawdown <= 0.35").value(),
                                        ParseConstraint("\"Sharpe Ratio\" >= 0.5").value()};
  auto ok = Evaluate(obj, cons, {{"final_equity", 150000}, {"max_drawdown", 0.2}, {"Sharpe Ratio", 0.9}});
  EXPECT_TRUE(ok.ranked());
  EXPECT_DOUBLE_EQ(*ok.score, 150000);
  EXPECT_TRUE(ok.reason.empty());

  auto violated = Evaluate(obj, cons, {{"final_equity", 150000}, {"max_drawdown", 0.41}, {"Sharpe Ratio", 0.9}});
  EXPECT_FALSE(violated.ranked());
  EXPECT_TRUE(violated.violated);
  EXPECT_EQ(violated.reason, "constraint 'max_drawdown <= 0.35' violated (max_drawdown = 0.41)");

  auto no_objective = Evaluate(obj, cons, {{"max_drawdown", 0.2}, {"Sharpe Ratio", 0.9}});
  EXPECT_FALSE(no_objective.ranked());
  EXPECT_FALSE(no_objective.violated);
  EXPECT_NE(no_objective.reason.find("objective metric 'final_equity' is not in the task's results"), std::string::npos);

  auto no_constraint_metric = Evaluate(obj, cons, {{"final_equity", 1}, {"max_drawdown", 0.2}});
  EXPECT_FALSE(no_constraint_metric.ranked());
  EXPECT_FALSE(no_constraint_metric.violated);
  EXPECT_NE(no_constraint_metric.reason.find("metric 'Sharpe Ratio' is not in the task's results"), std::string::npos);

  auto no_constraints = Evaluate(obj, {}, {{"final_equity", 7}});
  EXPECT_DOUBLE_EQ(*no_constraints.score, 7);
}

TEST(DirectionTest, BothDirections) {
  EXPECT_TRUE(Better(Direction::kMax, 2, 1));
  EXPECT_FALSE(Better(Direction::kMax, 1, 2));
  EXPECT_FALSE(Better(Direction::kMax, 1, 1));
  EXPECT_TRUE(Better(Direction::kMin, 1, 2));
  EXPECT_FALSE(Better(Direction::kMin, 2, 1));
  EXPECT_FALSE(Better(Direction::kMin, 1, 1));
  EXPECT_TRUE(Reaches(Direction::kMax, 5, 5));
  EXPECT_FALSE(Reaches(Direction::kMax, 4.9, 5));
  EXPECT_TRUE(Reaches(Direction::kMin, 0.1, 0.1));
  EXPECT_FALSE(Reaches(Direction::kMin, 0.2, 0.1));
  EXPECT_EQ(ParseDirection("max"), Direction::kMax);
  EXPECT_EQ(ParseDirection("min"), Direction::kMin);
  EXPECT_FALSE(ParseDirection("MAX").has_value());
  EXPECT_EQ(DirectionName(Direction::kMin), "min");
}

}  // namespace
}  // namespace alphalab::optimize

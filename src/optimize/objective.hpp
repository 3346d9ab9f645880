// Objective (a metric and a direction) and constraints ("max_drawdown <= 0.35") evaluated
// against the metric map a result parser produced (jobs/result_parsers.hpp).
//
// Constraint grammar (docs/optimizations.md):
//   constraint := ws lhs ws op ws number ['%'] ws
//   lhs        := name | '"' quoted '"'      name: [A-Za-z0-9_][A-Za-z0-9_.-]*; quoted: any text,
//                                            with \" and \\ escapes (LEAN names: "Sharpe Ratio")
//   op         := '<=' | '<' | '>=' | '>' | '==' | '!='
//   number     := a finite decimal number ("0.35", "-1", "1e-3"); a trailing '%' divides by 100
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace alphalab::optimize {

enum class Direction { kMax, kMin };
std::string_view DirectionName(Direction d);  // "max" | "min"
std::optional<Direction> ParseDirection(std::string_view name);

// True when `a` is strictly better than `b` in direction `d`.
inline bool Better(Direction d, double a, double b) { return d == Direction::kMax ? a > b : a < b; }
// True when `score` reaches `target` (>= for max, <= for min).
inline bool Reaches(Direction d, double score, double target) {
  return d == Direction::kMax ? score >= target : score <= target;
}

struct Objective {
  std::string metric;
  Direction direction = Direction::kMax;
};

enum class CompareOp { kLe, kLt, kGe, kGt, kEq, kNe };
std::string_view CompareOpText(CompareOp op);  // "<=", ...

struct Constraint {
  std::string metric;
  CompareOp op = CompareOp::kLe;
  double rhs = 0;
  std::string text;  // as written, for reasons and the report

  bool Holds(double value) const;
};

// InvalidArgument with a message that names what is wrong and where.
Result<Constraint> ParseConstraint(std::string_view text);

using MetricMap = std::map<std::string, double>;

// The outcome for one finished task: ranked with a score, or not ranked with a reason
// (its objective metric is missing, or a constraint's metric is missing, or a constraint
// is violated). Constraints are checked in order; the first problem is the reason.
struct Evaluation {
  std::optional<double> score;  // set iff ranked
  bool violated = false;        // a constraint did not hold (vs. a metric was missing)
  std::string reason;           // empty iff ranked

  bool ranked() const { return score.has_value(); }
};

Evaluation Evaluate(const Objective& objective, const std::vector<Constraint>& constraints,
                    const MetricMap& metrics);

}  // namespace alphalab::optimize

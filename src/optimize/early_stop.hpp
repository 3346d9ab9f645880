// Early stop: {mode, patience, min_tasks, target}, fed finished tasks in completion order.
//
// - Only tasks that finished (succeeded) count; failed and canceled tasks do not.
// - A finished task improves when it is ranked and its score is strictly better than the
//   best so far (in `mode`); the first ranked score is an improvement.
// - patience P: stop when P finished tasks in a row did not improve.
// - target T: stop as soon as the best score reaches T (>= for max, <= for min).
// - After Restart (extend / retry-failed) the counts start afresh; the best score is kept.
// - min_tasks M: neither rule applies before M tasks have finished.
// - mode must equal the objective's direction (ParseEarlyStopPolicy checks it).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"
#include "optimize/objective.hpp"

namespace alphalab::optimize {

struct EarlyStopPolicy {
  Direction mode = Direction::kMax;
  std::optional<int64_t> patience;  // >= 1, or none
  int64_t min_tasks = 0;
  std::optional<double> target;

  bool enabled() const { return patience.has_value() || target.has_value(); }
};

// Absent or null -> a disabled policy in the objective's direction. `mode` defaults to the
// objective's direction; a different mode is an error on "early_stop_policy.mode".
Result<EarlyStopPolicy> ParseEarlyStopPolicy(const Json& j, Direction objective_direction);
Json EarlyStopPolicyToJson(const EarlyStopPolicy& p);

enum class StopReason { kNone, kPatience, kTarget };
std::string_view StopReasonName(StopReason r);  // "none" | "patience" | "target"

class EarlyStopTracker {
 public:
  explicit EarlyStopTracker(EarlyStopPolicy policy) : policy_(policy) {}

  // One finished task; `score` is set when the task is ranked. Returns the reason to stop
  // (kNone to go on). Once a stop was returned, later calls return it again.
  StopReason OnTaskFinished(std::optional<double> score);

  int64_t finished() const { return finished_; }
  int64_t since_improvement() const { return since_improvement_; }
  std::optional<double> best() const { return best_; }
  StopReason stopped() const { return stopped_; }

  // After an extension or retry: counting starts afresh (finished, patience, target) while
  // the best score is kept, so an improvement still means beating every earlier task.
  void Restart();

 private:
  EarlyStopPolicy policy_;
  int64_t finished_ = 0;
  int64_t since_improvement_ = 0;
  std::optional<double> best_;
  StopReason stopped_ = StopReason::kNone;
  bool target_hit_ = false;  // a score since the (re)start reached the target
};

}  // namespace alphalab::optimize

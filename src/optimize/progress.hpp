// OptimizationProgress: the pure, thread-free bookkeeping of one optimization. It takes task
// events in completion order (the caller serialises them), evaluates each finished task's
// metrics against the objective and constraints, updates the incremental Summary, feeds the
// early-stop policy and moves the optimization through its transition table. It decides;
// the caller acts (cancel queued tasks, stop running ones, persist the state).
//
// After early stop or cancel the state stays terminal; tasks that the caller then stops are
// reported as canceled and counted so, and a task that still finished in the meantime counts
// as finished (the counts stay true to the tasks), but the early-stop decision is final.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "optimize/early_stop.hpp"
#include "optimize/objective.hpp"
#include "optimize/optimization_state.hpp"
#include "optimize/summary.hpp"

namespace alphalab::optimize {

struct ProgressUpdate {
  std::optional<OptimizationState> new_state;  // set when the optimization changed state
  StopReason stop = StopReason::kNone;         // set with new_state == kEarlyStopped
  std::optional<Evaluation> evaluation;        // for a succeeded task: ranked or why not
};

class OptimizationProgress {
 public:
  OptimizationProgress(Objective objective, std::vector<Constraint> constraints, EarlyStopPolicy policy,
                       size_t top_n, OptimizationState initial = OptimizationState::kQueued);

  // A new queued task (initial enumeration, extension).
  Status AddTask(const std::string& task_id, int64_t index, Json params);

  Result<ProgressUpdate> TaskStarted(const std::string& task_id);
  Result<ProgressUpdate> TaskSucceeded(const std::string& task_id, const MetricMap& metrics,
                                       std::string result_summary_id);
  Result<ProgressUpdate> TaskFailed(const std::string& task_id);
  Result<ProgressUpdate> TaskCanceled(const std::string& task_id);
  Status TaskRequeued(const std::string& task_id);  // retry-failed

  // A user cancel: queued/running -> canceled; an ended optimization stays as it is.
  Result<ProgressUpdate> Cancel();
  // Extend / retry-failed on an ended optimization (add or requeue the tasks first, then
  // Reopen): back to queued; the early-stop counts start afresh, the best score is kept.
  Result<ProgressUpdate> Reopen();

  OptimizationState state() const { return state_; }
  StopReason stop_reason() const { return stop_reason_; }
  const SummaryTracker& summary() const { return summary_; }

 private:
  Result<ProgressUpdate> Apply(OptimizationEvent event, ProgressUpdate update);
  Result<ProgressUpdate> AfterTaskEnded(ProgressUpdate update, bool finished, std::optional<double> score);

  Objective objective_;
  std::vector<Constraint> constraints_;
  EarlyStopTracker early_stop_;
  SummaryTracker summary_;
  OptimizationState state_;
  StopReason stop_reason_ = StopReason::kNone;
};

}  // namespace alphalab::optimize

#include "optimize/progress.hpp"

namespace alphalab::optimize {

OptimizationProgress::OptimizationProgress(Objective objective, std::vector<Constraint> constraints,
                                           EarlyStopPolicy policy, size_t top_n, OptimizationState initial)
    : objective_(std::move(objective)),
      constraints_(std::move(constraints)),
      early_stop_(policy),
      summary_(objective_.direction, top_n),
      state_(initial) {}

Status OptimizationProgress::AddTask(const std::string& task_id, int64_t index, Json params) {
  return summary_.AddTask(task_id, index, std::move(params));
}

Result<ProgressUpdate> OptimizationProgress::Apply(OptimizationEvent event, ProgressUpdate update) {
  ASSIGN_OR_RETURN(const OptimizationState next, Transition(state_, event));
  if (next != state_) {
    state_ = next;
    update.new_state = next;
  }
  return update;
}

Result<ProgressUpdate> OptimizationProgress::TaskStarted(const std::string& task_id) {
  RETURN_IF_ERROR(summary_.Started(task_id));
  if (IsTerminal(state_)) return ProgressUpdate{};
  return Apply(OptimizationEvent::kTaskStarted, ProgressUpdate{});
}

Result<ProgressUpdate> OptimizationProgress::AfterTaskEnded(ProgressUpdate update, bool finished,
                                                            std::optional<double> score) {
  if (IsTerminal(state_)) return update;
  if (finished) {
    const StopReason stop = early_stop_.OnTaskFinished(score);
    if (stop != StopReason::kNone && state_ == OptimizationState::kRunning) {
      stop_reason_ = stop;
      update.stop = stop;
      return Apply(OptimizationEvent::kEarlyStopped, std::move(update));
    }
  }
  if (summary_.AllEnded()) {
    return Apply(EndEvent(summary_.count(TaskState::kSucceeded)), std::move(update));
  }
  return update;
}

Result<ProgressUpdate> OptimizationProgress::TaskSucceeded(const std::string& task_id, const MetricMap& metrics,
                                                           std::string result_summary_id) {
  const auto before = summary_.StateOf(task_id);
  Evaluation evaluation = Evaluate(objective_, constraints_, metrics);
  RETURN_IF_ERROR(summary_.Succeeded(task_id, evaluation.score, std::move(result_summary_id)));
  ProgressUpdate update;
  update.evaluation = evaluation;
  if (before != TaskState::kRunning) return update;  // a repeated report was absorbed
  return AfterTaskEnded(std::move(update), /*finished=*/true, evaluation.score);
}

Result<ProgressUpdate> OptimizationProgress::TaskFailed(const std::string& task_id) {
  const auto before = summary_.StateOf(task_id);
  RETURN_IF_ERROR(summary_.Failed(task_id));
  if (before != TaskState::kQueued && before != TaskState::kRunning) return ProgressUpdate{};
  return AfterTaskEnded(ProgressUpdate{}, /*finished=*/false, std::nullopt);
}

Result<ProgressUpdate> OptimizationProgress::TaskCanceled(const std::string& task_id) {
  const auto before = summary_.StateOf(task_id);
  RETURN_IF_ERROR(summary_.Canceled(task_id));
  if (before != TaskState::kQueued && before != TaskState::kRunning) return ProgressUpdate{};
  return AfterTaskEnded(ProgressUpdate{}, /*finished=*/false, std::nullopt);
}

Status OptimizationProgress::TaskRequeued(const std::string& task_id) { return summary_.Requeued(task_id); }

Result<ProgressUpdate> OptimizationProgress::Cancel() {
  return Apply(OptimizationEvent::kCanceled, ProgressUpdate{});
}

Result<ProgressUpdate> OptimizationProgress::Reopen() {
  ASSIGN_OR_RETURN(ProgressUpdate update, Apply(OptimizationEvent::kReopened, ProgressUpdate{}));
  if (update.new_state) {
    early_stop_.Restart();
    stop_reason_ = StopReason::kNone;
  }
  return update;
}

}  // namespace alphalab::optimize

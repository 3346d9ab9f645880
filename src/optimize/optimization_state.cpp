#include "optimize/optimization_state.hpp"

#include <string>

#include "core/json.hpp"

namespace alphalab::optimize {

std::string_view OptimizationStateName(OptimizationState s) {
  switch (s) {
    case OptimizationState::kQueued: return "queued";
    case OptimizationState::kRunning: return "running";
    case OptimizationState::kSucceeded: return "succeeded";
    case OptimizationState::kFailed: return "failed";
    case OptimizationState::kEarlyStopped: return "early-stopped";
    case OptimizationState::kCanceled: return "canceled";
  }
  return "unknown";
}

std::optional<OptimizationState> ParseOptimizationState(std::string_view name) {
  for (auto s : kAllOptimizationStates) {
    if (OptimizationStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view OptimizationEventName(OptimizationEvent e) {
  switch (e) {
    case OptimizationEvent::kTaskStarted: return "TaskStarted";
    case OptimizationEvent::kAllTasksEnded: return "AllTasksEnded";
    case OptimizationEvent::kAllTasksFailed: return "AllTasksFailed";
    case OptimizationEvent::kEarlyStopped: return "EarlyStopped";
    case OptimizationEvent::kCanceled: return "Canceled";
    case OptimizationEvent::kReopened: return "Reopened";
  }
  return "Unknown";
}

bool IsTerminal(OptimizationState s) {
  return s == OptimizationState::kSucceeded || s == OptimizationState::kFailed ||
         s == OptimizationState::kEarlyStopped || s == OptimizationState::kCanceled;
}

Result<OptimizationState> Transition(OptimizationState state, OptimizationEvent event) {
  using S = OptimizationState;
  using E = OptimizationEvent;
  switch (state) {
    case S::kQueued:
      switch (event) {
        case E::kTaskStarted: return S::kRunning;
        case E::kAllTasksEnded: return S::kSucceeded;
        case E::kAllTasksFailed: return S::kFailed;
        case E::kCanceled: return S::kCanceled;
        default: break;
      }
      break;
    case S::kRunning:
      switch (event) {
        case E::kTaskStarted: return S::kRunning;
        case E::kAllTasksEnded: return S::kSucceeded;
        case E::kAllTasksFailed: return S::kFailed;
        case E::kEarlyStopped: return S::kEarlyStopped;
        case E::kCanceled: return S::kCanceled;
        default: break;
      }
      break;
    case S::kSucceeded:
    case S::kFailed:
    case S::kEarlyStopped:
    case S::kCanceled:
      return event == E::kReopened ? S::kQueued : state;  // terminal states absorb the rest
  }
  return Status::InvalidStateTransition(
      "optimization state " + std::string(OptimizationStateName(state)) + " does not accept " +
          std::string(OptimizationEventName(event)),
      Json{{"state", std::string(OptimizationStateName(state))}, {"event", std::string(OptimizationEventName(event))}});
}

}  // namespace alphalab::optimize

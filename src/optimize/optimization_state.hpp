// The ONE optimization state transition table (docs/optimizations.md draws it).
//
//   queued --TaskStarted--> running --AllTasksEnded--> succeeded   (at least one task finished)
//     |                       |-------AllTasksFailed--> failed     (every task failed / could not start)
//     |                       |-------EarlyStopped----> early-stopped
//     |                       '-------Canceled--------> canceled
//     |--Canceled--> canceled
//     |--AllTasksFailed--> failed   (no task could be started)
//     '--AllTasksEnded--> succeeded (an extension that added no runnable task)
//   running --TaskStarted--> running
//
// Terminal states (succeeded, failed, early-stopped, canceled) absorb every event (same
// state, OK) except Reopened: extend or retry-failed put an ended optimization back to
// queued. Every other pair is InvalidStateTransition.
#pragma once

#include <optional>
#include <string_view>

#include "core/status.hpp"

namespace alphalab::optimize {

enum class OptimizationState { kQueued, kRunning, kSucceeded, kFailed, kEarlyStopped, kCanceled };

inline constexpr OptimizationState kAllOptimizationStates[] = {
    OptimizationState::kQueued, OptimizationState::kRunning,      OptimizationState::kSucceeded,
    OptimizationState::kFailed, OptimizationState::kEarlyStopped, OptimizationState::kCanceled};

enum class OptimizationEvent {
  kTaskStarted,     // a task began running
  kAllTasksEnded,   // no task queued or running, at least one finished
  kAllTasksFailed,  // no task queued or running, none finished
  kEarlyStopped,    // the early-stop policy fired
  kCanceled,        // a user canceled
  kReopened,        // extend / retry-failed added queued tasks
};

inline constexpr OptimizationEvent kAllOptimizationEvents[] = {
    OptimizationEvent::kTaskStarted,  OptimizationEvent::kAllTasksEnded, OptimizationEvent::kAllTasksFailed,
    OptimizationEvent::kEarlyStopped, OptimizationEvent::kCanceled,      OptimizationEvent::kReopened};

// Wire names: "queued", "running", "succeeded", "failed", "early-stopped", "canceled".
std::string_view OptimizationStateName(OptimizationState s);
std::optional<OptimizationState> ParseOptimizationState(std::string_view name);
std::string_view OptimizationEventName(OptimizationEvent e);
bool IsTerminal(OptimizationState s);

Result<OptimizationState> Transition(OptimizationState state, OptimizationEvent event);

// The event that ends an optimization whose tasks all ended: AllTasksEnded when at least
// one finished, else AllTasksFailed.
inline OptimizationEvent EndEvent(int64_t finished) {
  return finished > 0 ? OptimizationEvent::kAllTasksEnded : OptimizationEvent::kAllTasksFailed;
}

}  // namespace alphalab::optimize

#include "core/job_state.hpp"

namespace alphalab {

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued: return "QUEUED";
    case JobState::kRunning: return "RUNNING";
    case JobState::kSuccess: return "SUCCESS";
    case JobState::kFailed: return "FAILED";
    case JobState::kCanceled: return "CANCELED";
  }
  return "UNKNOWN";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (JobState s : kAllJobStates) {
    if (JobStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view EndReasonName(EndReason reason) {
  switch (reason) {
    case EndReason::kExitCode: return "exit_code";
    case EndReason::kSignal: return "signal";
    case EndReason::kTimeout: return "timeout";
    case EndReason::kCanceled: return "canceled";
    case EndReason::kSpawnFailed: return "spawn_failed";
    case EndReason::kLost: return "lost";
    case EndReason::kOutOfMemory: return "out_of_memory";
    case EndReason::kNodeFail: return "node_fail";
    case EndReason::kPreempted: return "preempted";
  }
  return "unknown";
}

std::optional<EndReason> ParseEndReason(std::string_view name) {
  for (EndReason r : kAllEndReasons) {
    if (EndReasonName(r) == name) return r;
  }
  return std::nullopt;
}

}  // namespace alphalab

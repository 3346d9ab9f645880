// Job states shared by the store (persisted as text) and the jobs state machine.
#pragma once

#include <optional>
#include <string_view>

namespace alphalab {

enum class JobState { kQueued, kRunning, kSuccess, kFailed, kCanceled };

inline constexpr JobState kAllJobStates[] = {JobState::kQueued, JobState::kRunning,
                                             JobState::kSuccess, JobState::kFailed,
                                             JobState::kCanceled};

// "QUEUED", "RUNNING", "SUCCESS", "FAILED", "CANCELED" (wire names, docs/job_states.md).
std::string_view JobStateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);
inline bool IsTerminal(JobState s) {
  return s == JobState::kSuccess || s == JobState::kFailed || s == JobState::kCanceled;
}

}  // namespace alphalab

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

// Why a job ended: set on every terminal job (null while it is QUEUED or RUNNING), stored
// with it and returned by the API as `end_reason`. Decided from typed facts (how the process
// ended, what the service did), never from message text (jobs/job_outcome.hpp).
enum class EndReason {
  kExitCode,     // the process exited on its own; exit_code says how (0 = SUCCESS)
  kSignal,       // killed by a signal nobody here sent (exit_code = -signal)
  kTimeout,      // the job type's timeout expired and the job was stopped
  kCanceled,     // a user canceled it (queued or running)
  kSpawnFailed,  // it could not be started or recorded (missing program, bad cwd, log write)
  kLost,         // RUNNING, but its process vanished with no exit record anywhere
  // Cluster executors (not produced by the local executor).
  kOutOfMemory,
  kNodeFail,
  kPreempted,
};

inline constexpr EndReason kAllEndReasons[] = {
    EndReason::kExitCode,    EndReason::kSignal,   EndReason::kTimeout,
    EndReason::kCanceled,    EndReason::kSpawnFailed, EndReason::kLost,
    EndReason::kOutOfMemory, EndReason::kNodeFail, EndReason::kPreempted};

// "exit_code", "signal", "timeout", "canceled", "spawn_failed", "lost", "out_of_memory",
// "node_fail", "preempted" (wire and database names).
std::string_view EndReasonName(EndReason reason);
std::optional<EndReason> ParseEndReason(std::string_view name);

}  // namespace alphalab

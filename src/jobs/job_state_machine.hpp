// The ONE job state transition table (docs/job_states.md draws it).
//
//   QUEUED --JobStarted--> RUNNING --JobSucceeded--> SUCCESS
//     |                      |------JobFailed / JobTimedOut / JobLost--> FAILED
//     |                      '------JobCanceled--> CANCELED
//     |--JobCanceled--> CANCELED      (canceled before it ever ran)
//     '--JobFailed----> FAILED        (the process could not be spawned)
//   RUNNING --JobReattached--> RUNNING  (a restarted server found the process alive)
//
// Terminal states (SUCCESS, FAILED, CANCELED) absorb every later event: Transition returns
// the same state and OK ("we never come back from an ended status"), so a late exit report
// after a cancel, or a duplicate callback, cannot rewrite history. Every other pair is
// InvalidStateTransition.
#pragma once

#include <string_view>

#include "core/job_state.hpp"
#include "core/status.hpp"

namespace alphalab {

enum class JobEvent {
  kJobStarted,     // the executor spawned the process (or a dry run began)
  kJobSucceeded,   // exit code 0 (or a dry run finished)
  kJobFailed,      // non-zero exit, a signal, or the spawn failed
  kJobTimedOut,    // the type's timeout expired and the process was stopped
  kJobCanceled,    // a user canceled it
  kJobLost,        // after a restart the process was gone and no exit record was left
  kJobReattached,  // after a restart the process was found alive
};

inline constexpr JobEvent kAllJobEvents[] = {
    JobEvent::kJobStarted,  JobEvent::kJobSucceeded, JobEvent::kJobFailed,
    JobEvent::kJobTimedOut, JobEvent::kJobCanceled,  JobEvent::kJobLost,
    JobEvent::kJobReattached};

std::string_view JobEventName(JobEvent event);

Result<JobState> Transition(JobState state, JobEvent event);

// Order of progress: QUEUED 0 < RUNNING 1 < terminal 2. A copy of a job (cache entry, meta
// file version) never moves to a lower rank.
inline int JobStateRank(JobState s) { return IsTerminal(s) ? 2 : s == JobState::kRunning ? 1 : 0; }

}  // namespace alphalab

#include "jobs/job_state_machine.hpp"

#include <string>

#include "core/json.hpp"

namespace alphalab {

std::string_view JobEventName(JobEvent event) {
  switch (event) {
    case JobEvent::kJobStarted: return "JobStarted";
    case JobEvent::kJobSucceeded: return "JobSucceeded";
    case JobEvent::kJobFailed: return "JobFailed";
    case JobEvent::kJobTimedOut: return "JobTimedOut";
    case JobEvent::kJobCanceled: return "JobCanceled";
    case JobEvent::kJobLost: return "JobLost";
    case JobEvent::kJobReattached: return "JobReattached";
  }
  return "Unknown";
}

Result<JobState> Transition(JobState state, JobEvent event) {
  using S = JobState;
  using E = JobEvent;
  if (IsTerminal(state)) return state;  // terminal states absorb later events
  switch (state) {
    case S::kQueued:
      switch (event) {
        case E::kJobStarted: return S::kRunning;
        case E::kJobCanceled: return S::kCanceled;
        case E::kJobFailed: return S::kFailed;  // spawn failed: it never ran
        default: break;
      }
      break;
    case S::kRunning:
      switch (event) {
        case E::kJobSucceeded: return S::kSuccess;
        case E::kJobFailed:
        case E::kJobTimedOut:
        case E::kJobLost: return S::kFailed;
        case E::kJobCanceled: return S::kCanceled;
        case E::kJobReattached: return S::kRunning;  // same process, new server
        default: break;
      }
      break;
    default:
      break;
  }
  return Status::InvalidStateTransition(
      "job state " + std::string(JobStateName(state)) + " does not accept " +
          std::string(JobEventName(event)),
      Json{{"state", std::string(JobStateName(state))}, {"event", std::string(JobEventName(event))}});
}

}  // namespace alphalab

// The outcome step: how a job ended -> what is recorded. A pure function of its inputs (the
// job record, how it ended, its type's artifact rules and the tail of its log): no threads,
// no files, no clock; JobService::EndJob applies the result for every way a job ends.
//
//   end                          event          status    end_reason    exit_code
//   exited, code 0 (no error)    JobSucceeded   SUCCESS   exit_code     0
//   exited, code N != 0          JobFailed      FAILED    exit_code     N
//   killed by signal S           JobFailed      FAILED    signal        -S
//   timeout expired              JobTimedOut    FAILED    timeout       -S when a signal stopped it
//   canceled while running       JobCanceled    CANCELED  canceled      -S / N when known
//   canceled while queued        JobCanceled    CANCELED  canceled      null
//   could not start / record     JobFailed      FAILED    spawn_failed  null
//   no exit status anywhere      JobLost        FAILED    lost          null
//   the cluster ended it         JobFailed      FAILED    out_of_memory / node_fail / preempted
//     (ProcessExit::cluster_reason)                                     -S / N when known
//   dry run completed            JobSucceeded   SUCCESS   exit_code     0
//   exited 0, disk full, a       JobFailed      FAILED    exit_code     0
//     required artifact missing
//
// "No exit status anywhere" is a typed fact: the executor reported an end with neither an exit
// code nor a signal (its process and every exit record are gone), or after a restart the
// executor could not re-attach the process at all.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/job_result.hpp"
#include "core/job_state.hpp"
#include "core/json.hpp"
#include "exec/executor.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_state_machine.hpp"
#include "store/job_store.hpp"

namespace alphalab {

// How a job came to its end, as the service learned it.
struct JobEnd {
  enum class Kind {
    kExited,          // the executor reported the process's end (`exit`)
    kCanceledQueued,  // canceled before it was started
    kSpawnFailed,     // it could not be started or recorded (`cause`)
    kLost,            // after a restart the executor could not re-attach it (`cause`: detail)
    kDryRun,          // a dry run completed (nothing was executed)
  };
  Kind kind = Kind::kExited;
  ProcessExit exit;        // kExited
  bool reattached = false;  // kExited: the process was re-attached after a server restart
  std::string cause;       // kSpawnFailed: why; kLost: the executor's detail (may be empty)
  // kExited: the file system of the job's log or of the workspace's runs/backtests had no
  // space (or no inodes) left when it ended. A failure then says "no space left on device"
  // first, and a process that exited 0 without reporting a required artifact failed (what it
  // wrote, or the log line naming it, was lost to the full disk) instead of succeeding.
  bool disk_full = false;

  static JobEnd Exited(ProcessExit exit, bool reattached = false) {
    JobEnd e;
    e.kind = Kind::kExited;
    e.exit = std::move(exit);
    e.reattached = reattached;
    return e;
  }
  static JobEnd CanceledQueued() { return Of(Kind::kCanceledQueued, ""); }
  static JobEnd SpawnFailed(std::string cause) { return Of(Kind::kSpawnFailed, std::move(cause)); }
  static JobEnd Lost(std::string detail = "") { return Of(Kind::kLost, std::move(detail)); }
  static JobEnd DryRun() { return Of(Kind::kDryRun, ""); }

 private:
  static JobEnd Of(Kind kind, std::string cause) {
    JobEnd e;
    e.kind = kind;
    e.cause = std::move(cause);
    return e;
  }
};

// What the end means for the job's record.
struct JobOutcome {
  JobEvent event = JobEvent::kJobFailed;  // fed to Transition(); a dry run starts first
  EndReason end_reason = EndReason::kExitCode;
  std::optional<int> exit_code;
  Json artifacts = Json::object();
  std::optional<std::string> artifacts_parse_error;
  std::optional<std::string> error_message;
};

// Artifacts keys holding a cluster executor's own state and reason for the job (Slurm:
// "PENDING"/"Priority" while queued there, "TIMEOUT"/"None" at the end); absent for local jobs.
inline constexpr std::string_view kExecutorStateKey = "executor_state";
inline constexpr std::string_view kExecutorReasonKey = "executor_reason";

// Message of a job whose process was gone after a restart (the start of error_message).
inline constexpr std::string_view kLostMessage = "server restarted and the process was gone";

// The start of error_message when the disk was full as the job ended (JobEnd::disk_full).
inline constexpr std::string_view kDiskFullMessage = "no space left on device (the workspace's disk is full)";

// Whether DecideOutcome reads the log: only when something is taken from it (artifacts of a
// process that ran, or the error summary of a failure).
bool OutcomeNeedsLog(const JobEnd& end, const JobTypeSpec* spec);

// `spec` is the job's type (nullptr when it is no longer in the catalog); `log_tail` the end
// of its log (empty when OutcomeNeedsLog said no). `result`: the job's result file as read
// (core/job_result.hpp) when its type writes one (spec->result_kind), else nullptr; such a
// type takes its artifacts from it (JobResult::Artifacts), never from the log.
JobOutcome DecideOutcome(const JobRecord& job, const JobTypeSpec* spec, const JobEnd& end,
                         std::string_view log_tail, const Result<JobResult>* result = nullptr);

// Whether a full disk (JobEnd::disk_full) could change `outcome`, decided for an exited process
// without it: a failure (its message names the disk first), or a success that misses
// artifacts its type requires (it fails instead). Anything else ends the same either way, so
// the file systems need not be looked at (JobService::EndJobs).
bool FullDiskCouldChange(const JobOutcome& outcome, const JobTypeSpec* spec);

// Artifacts from log text: for each rule, the last line matching it (first capture group).
Json ParseArtifacts(const JobTypeSpec& spec, std::string_view log_text);
// The last meaningful lines of a log: blank lines skipped; from the last "Traceback" (or the
// last line mentioning Error/Exception/FATAL/panic) to the end when there is one, else the
// last 5 lines; at most 20 lines / 2000 bytes.
std::string SummarizeError(std::string_view log_text);

}  // namespace alphalab

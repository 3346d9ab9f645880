// Pure text <-> data for the Slurm executor (unit-tested with fixtures): the batch script of a
// job, the executor reference, and what squeue / scontrol / the jobcomp file say about jobs,
// mapped onto a ProcessExit with our typed end reasons.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "exec/executor.hpp"

namespace alphalab {

// One job as Slurm reports it.
struct SlurmJobInfo {
  std::string job_id;      // "123" (an array task: its own id; see array_job_id/array_task_id)
  std::string state;       // PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, ...
  std::string reason;      // PENDING/failure reason ("Priority", "Resources", "None", ...)
  std::optional<int> exit_code;  // the batch script's exit code, when known
  std::optional<int> signal;     // the signal that ended it, when one did
};

// `'a'\''b'`: one argument for /bin/sh, whatever it contains.
std::string ShellQuote(std::string_view arg);
// "#!/bin/sh\nexec 'argv0' 'argv1' ...\n": the whole batch script of a job (no user text
// outside single quotes).
std::string BatchScript(const std::vector<std::string>& argv);

// "slurm:<jobid>" <-> the Slurm job id (digits).
std::string FormatSlurmRef(std::string_view slurm_job_id);
Result<std::string> ParseSlurmRef(std::string_view ref);

// `sbatch --parsable` prints "<jobid>" or "<jobid>;<cluster>".
Result<std::string> ParseSbatchOutput(std::string_view out);

// The squeue columns the executor asks for, and their parser: one line per job,
// "JobID|State|Reason|exit_code|" (exit_code: the raw wait status, e.g. 768 = exit 3).
inline constexpr std::string_view kSqueueFormat = "JobID:|,State:|,Reason:|,exit_code:|";
std::vector<SlurmJobInfo> ParseSqueue(std::string_view text);

// `scontrol show job -o` (one line per job, Key=Value words): JobId, JobState, Reason,
// ExitCode=<code>:<signal>.
std::vector<SlurmJobInfo> ParseScontrolJobs(std::string_view text);

// jobcomp/filetxt lines ("JobId=7 ... JobState=TIMEOUT ... ExitCode=0:15 ..."), same fields.
std::vector<SlurmJobInfo> ParseJobcomp(std::string_view text);

// `scontrol show config`: the value of one key ("JobCompLoc"), nullopt when absent.
std::optional<std::string> ScontrolConfigValue(std::string_view text, std::string_view key);

// Whether Slurm is done with the job (no further state comes).
bool IsSlurmTerminal(std::string_view state);

// How a finished job ended, in our terms: COMPLETED/FAILED -> exit code or signal;
// CANCELLED -> canceled; TIMEOUT/DEADLINE -> timed_out; OUT_OF_MEMORY -> out_of_memory;
// NODE_FAIL/BOOT_FAIL -> node_fail; PREEMPTED -> preempted; anything else -> failed with
// Slurm's state in the error. executor_state/executor_reason keep Slurm's own words.
ProcessExit MapSlurmEnd(const JobId& job_id, const SlurmJobInfo& info);

}  // namespace alphalab

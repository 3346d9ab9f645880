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
  std::string job_id;      // "123", or "<array job id>_<task index>" for a job array's task
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

// A job array's task (SlurmExecutor::SubmitBatch). Its batch script `<log_path>.sbatch` sends
// both streams to the job's log (appended), enters its working folder, exports the variables
// of its own environment that the array does not share (`env`; the shared ones come through
// sbatch's environment) and execs its argv; every value single-quoted.
std::string ArrayTaskScript(const std::vector<std::string>& argv, const std::string& cwd,
                            const std::string& log_path, const std::map<std::string, std::string>& env);
// The script the whole array runs: task N takes line N+1 of `index_path` ("<job_id>\t<task
// script>") and runs that task script. The index file is the only input; no user text here.
std::string ArrayWrapperScript(const std::string& index_path);
// Task indices (sorted, distinct) -> Slurm's range syntax "[0-3,5,7-8]".
std::string SlurmIndexRanges(const std::vector<int>& indices);

// "slurm:<jobid>" or "slurm:<arrayid>_<index>" <-> the Slurm id.
std::string FormatSlurmRef(std::string_view slurm_job_id);
Result<std::string> ParseSlurmRef(std::string_view ref);

// `sbatch --parsable` prints "<jobid>" or "<jobid>;<cluster>".
Result<std::string> ParseSbatchOutput(std::string_view out);

// The squeue columns the executor asks for (with -r: one line per array task), and their
// parser: "JobArrayID|State|Reason|exit_code|" (JobArrayID: "123", or "123_4" for an array's
// task, pending ones included; exit_code: the raw wait status, e.g. 768 = exit 3).
inline constexpr std::string_view kSqueueFormat = "JobArrayID:|,State:|,Reason:|,exit_code:|";
std::vector<SlurmJobInfo> ParseSqueue(std::string_view text);

// `scontrol show job -o` (one line per job, Key=Value words): JobId, JobState, Reason,
// ExitCode=<code>:<signal>.
std::vector<SlurmJobInfo> ParseScontrolJobs(std::string_view text);

// jobcomp/filetxt lines ("JobId=7 ... JobState=TIMEOUT ... ExitCode=0:15 ..."), same fields;
// an array task's record (ArrayJobId=5 ArrayTaskId=3) is job "5_3" (also in scontrol's).
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

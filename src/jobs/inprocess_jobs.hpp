// Jobs that run inside the server instead of as a process (the optimization fast path,
// optimize/builtin_backtest_runner.hpp), recorded so that nothing tells them apart from the
// same job run as a process, apart from ids and timestamps:
//   - CreateInProcess: the catalog validates the parameters and builds the argv exactly as
//     for Submit; the record (id, command, cwd, log/meta paths, parent, owner) is the one
//     Submit would have made (JobService::NewRecord). Nothing is written yet.
//   - WriteInProcessLog: the log file holds what the process would have printed (its
//     stdout and stderr; the process supervisor adds nothing of its own).
//   - FinishInProcess: the job "exited" with a code; the terminal fields come from the same
//     outcome step as a process's end (DecideOutcome: status, end_reason exit_code, exit
//     code, artifacts from the result file the engine wrote (core/job_result.hpp) or by the
//     type's rules from the log text, error summary).
//   - JobService::RecordFinished: meta file, row, cache, log events, metrics, listeners.
// A job whose parameters the catalog refuses cannot be made into a command: FailedToStart
// ends it FAILED with end_reason spawn_failed and the catalog's message (a Submit would have
// answered 400 instead).
#pragma once

#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/job_result.hpp"
#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_service.hpp"
#include "store/job_store.hpp"

namespace alphalab {

// `paths` (optional): the batch's remembered path resolutions (JobCatalog::Resolve).
Result<JobRecord> CreateInProcess(const JobService& service, const JobCatalog& catalog, std::string_view job_type,
                                  const Json& params, const SubmitOptions& options, TimePoint now,
                                  ResolvedPaths* paths = nullptr);

// A record for parameters the catalog refused (`why`), ended FAILED / spawn_failed at `now`.
JobRecord FailedToStart(const JobService& service, std::string_view job_type, const Json& params,
                        const SubmitOptions& options, const Status& why, TimePoint now);

// Writes `output` as the job's whole log file (reports/jobs/runtime/<job_id>.log).
Status WriteInProcessLog(const Workspace& workspace, const JobRecord& job, std::string_view output);

// Ends `job` (created by CreateInProcess) as a process that printed `output` and exited with
// `exit_code`: started at `started`, ended at `ended`. `written_result`, when given, is the
// result file the job has just written (engine::WriteSingleRun), taken instead of reading it
// back: the outcome reads only its kind and id, which the file holds as written.
void FinishInProcess(JobRecord& job, const JobCatalog& catalog, std::string_view output, int exit_code,
                     TimePoint started, TimePoint ended, const JobResult* written_result = nullptr);

}  // namespace alphalab

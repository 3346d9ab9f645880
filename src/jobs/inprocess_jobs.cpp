#include "jobs/inprocess_jobs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "jobs/job_outcome.hpp"
#include "jobs/job_results.hpp"
#include "jobs/job_state_machine.hpp"

namespace alphalab {

Result<JobRecord> CreateInProcess(const JobService& service, const JobCatalog& catalog, std::string_view job_type,
                                  const Json& params, const SubmitOptions& options, TimePoint now, ResolvedPaths* paths) {
  if (options.dry_run) return Status::InvalidArgument("a dry run does not run in process");
  ASSIGN_OR_RETURN(ResolvedJob resolved, catalog.Resolve(job_type, params, paths));
  return service.NewRecord(std::move(resolved), options, now);
}

JobRecord FailedToStart(const JobService& service, std::string_view job_type, const Json& params,
                        const SubmitOptions& options, const Status& why, TimePoint now) {
  ResolvedJob resolved;
  resolved.job_type = std::string(job_type);
  resolved.params = params.is_object() ? params : Json::object();
  JobRecord job = service.NewRecord(std::move(resolved), options, now);
  const JobOutcome outcome = DecideOutcome(job, nullptr, JobEnd::SpawnFailed(why.message()), "");
  if (auto next = Transition(job.status, outcome.event); next.ok()) job.status = *next;
  job.ended_at = now;
  job.end_reason = outcome.end_reason;
  job.error_message = outcome.error_message;
  return job;
}

Status WriteInProcessLog(const Workspace& workspace, const JobRecord& job, std::string_view output) {
  const auto path = workspace.root() / job.log_path;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("cannot write " + job.log_path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < output.size()) {
    const ssize_t n = ::write(fd, output.data() + done, output.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status::Internal("cannot write " + job.log_path + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Status::Internal("cannot write " + job.log_path + ": " + std::strerror(errno));
  return Status::Ok();
}

void FinishInProcess(JobRecord& job, const JobCatalog& catalog, std::string_view output, int exit_code,
                     TimePoint started, TimePoint ended, const JobResult* written_result) {
  ProcessExit exit;
  exit.job_id = job.job_id;
  exit.exit_code = exit_code;
  const JobTypeSpec* spec = catalog.Find(job.job_type);
  std::optional<Result<JobResult>> result;
  if (written_result && spec && spec->result_kind) {
    result = *written_result;
  } else {
    result = ReadResultFileOf(catalog.workspace(), spec, job);
  }
  const JobOutcome outcome = DecideOutcome(job, spec, JobEnd::Exited(exit), output, result ? &*result : nullptr);
  if (auto running = Transition(job.status, JobEvent::kJobStarted); running.ok()) job.status = *running;
  job.started_at = started;
  if (auto next = Transition(job.status, outcome.event); next.ok()) job.status = *next;
  job.ended_at = ended;
  job.end_reason = outcome.end_reason;
  job.exit_code = outcome.exit_code;
  job.artifacts = outcome.artifacts;
  job.artifacts_parse_error = outcome.artifacts_parse_error;
  job.error_message = outcome.error_message;
}

}  // namespace alphalab

// Pieces of the jobs API that other route groups reuse for views over ordinary jobs (the
// RD-Agent tasks of rdagent_handlers.cpp are jobs of one type): defined in job_handlers.cpp.
#pragma once

#include "core/audit_log.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/workspace.hpp"
#include "http/router.hpp"
#include "jobs/job_service.hpp"

namespace alphalab::http {

// The {job_id} (or `name`) path parameter: 400 when it is not an identifier.
Result<JobId> JobIdParam(const HttpRequest& req, const char* name = "job_id");
// The job `req` names, once the caller may see it (403 for a user on another owner's job).
Result<JobRecord> VisibleJob(JobService& jobs, const HttpRequest& req, const JobId& id);
// POST .../cancel: the job once the caller may see it (a refusal audited as denied), canceled,
// the outcome audited as `job.cancel`.
Result<JobRecord> CancelVisibleJob(JobService& jobs, AuditLog* audit, const HttpRequest& req, const JobId& id);
// A submit of `type` whose body holds the params, `dry_run` and `project` (POST /api/jobs/train).
// The reply is the job's detail (JobDetailJson's bytes, written without a Json tree).
Result<HttpResponse> SubmitTyped(JobService& jobs, const Clock& clock, AuditLog* audit, std::string_view type,
                                 const HttpRequest& req);
// GET .../log?offset=&tail= (JobLog).
Result<Json> JobLogJson(const Workspace& ws, JobService& jobs, const HttpRequest& req, const JobId& id);
// GET .../artifacts?offset=&limit= (JobArtifactPage).
Result<Json> JobArtifactsJson(const Workspace& ws, JobService& jobs, const HttpRequest& req, const JobId& id);
// GET .../artifacts/{path}: the file, as an attachment.
Result<HttpResponse> JobArtifactResponse(const Workspace& ws, JobService& jobs, const HttpRequest& req,
                                         const JobId& id);

}  // namespace alphalab::http

// RD-Agent tasks (docs/rdagent.md): views over ordinary jobs of the type `rdagent-fin-quant`.
//   GET  /api/rdagent/tasks                  jobs of that type, newest first (paged)
//   POST /api/rdagent/tasks                  submit one (body: its params, dry_run, project)
//   GET  /api/rdagent/tasks/{task_id}        the job, its loop progress, per-loop metrics and,
//                                            once it succeeded, the qlib_res metrics summary
//   POST /api/rdagent/tasks/{task_id}/cancel
//   GET  /api/rdagent/tasks/{task_id}/logs   offset polling as GET /api/jobs/{id}/log;
//                                            Accept: text/event-stream -> the SSE log stream
//   GET  /api/rdagent/tasks/{task_id}/artifacts   as GET /api/jobs/{id}/artifacts
#include <algorithm>

#include "http/auth.hpp"
#include "http/job_views.hpp"
#include "http/log_follow.hpp"
#include "http/routes.hpp"
#include "jobs/agent_progress.hpp"
#include "jobs/job_artifacts.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_dto.hpp"
#include "jobs/job_results.hpp"
#include "jobs/log_reader.hpp"

namespace alphalab::http {

namespace {

constexpr int64_t kProgressScanBytes = 4 << 20;  // loop lines are looked for in the last 4 MiB

// The task `req` names: a visible job of the RD-Agent type, else 404.
Result<JobRecord> VisibleTask(JobService& jobs, const HttpRequest& req, JobId* out_id = nullptr) {
  ASSIGN_OR_RETURN(JobId id, JobIdParam(req, "task_id"));
  ASSIGN_OR_RETURN(JobRecord rec, VisibleJob(jobs, req, id));
  if (rec.job_type != kRdagentJobType) {
    return Status::NotFound("job " + id.str() + " is not an RD-Agent task (its type is " + rec.job_type + ")",
                            Json{{"task_id", id.str()}, {"job_type", rec.job_type}});
  }
  if (out_id) *out_id = id;
  return rec;
}

Json TaskJson(const Workspace& ws, JobService& jobs, const JobCatalog& catalog, const JobRecord& rec, TimePoint now) {
  const LoopProgress progress = ParseLoopProgress(ReadFileTail(jobs.LogPath(rec), kProgressScanBytes));
  Json loops = Json::array();
  for (LoopResult& r : ReadLoopResults(JobWorkDir(ws, rec.job_id))) {
    loops.push_back(Json{{"path", "work/" + r.path}, {"metrics", r.parsed.metrics}});
  }
  Json metrics = nullptr;
  Json metrics_error = nullptr;
  if (rec.status == JobState::kSuccess) {
    if (const JobTypeSpec* spec = catalog.Find(rec.job_type); spec && HasReadableResults(*spec)) {
      auto m = ReadJobMetrics(ws, *spec, rec);
      if (m.ok()) {
        metrics = m->parsed.metrics;
      } else {
        metrics_error = m.status().message();
      }
    }
  }
  return Json{{"task_id", rec.job_id.str()},
              {"job", JobDetailJson(rec, now)},
              {"progress", LoopProgressJson(progress)},
              {"loop_results", std::move(loops)},
              {"metrics", std::move(metrics)},
              {"metrics_error", std::move(metrics_error)}};
}

}  // namespace

void RegisterRdagentRoutes(Router& router, const Workspace& ws, JobService& jobs, const JobCatalog& catalog,
                           const Clock& clock, AuditLog* audit) {
  router.Get("/api/rdagent/tasks", [&jobs, &clock](const HttpRequest& req) -> Result<Json> {
    JobQuery q;
    q.job_types = {std::string(kRdagentJobType)};
    if (auto mine = OwnerFilter(req)) q.owner_ids = {*mine};  // a user sees their own tasks only
    ASSIGN_OR_RETURN(int64_t limit, req.query.GetInt("limit", 50, 0, 1000));
    ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0, 1000000000));
    q.limit = static_cast<int>(limit);
    q.offset = static_cast<int>(offset);
    ASSIGN_OR_RETURN(std::vector<JobRecord> rows, jobs.List(q));
    ASSIGN_OR_RETURN(int64_t total, jobs.Count(q));
    const TimePoint now = clock.Now();
    Json items = Json::array();
    for (const JobRecord& r : rows) items.push_back(JobDetailJson(r, now));
    return Json{{"items", std::move(items)}, {"total", total}, {"limit", limit}, {"offset", offset}};
  });
  router.AddRaw(HttpMethod::kPost, "/api/rdagent/tasks",
                [&jobs, &clock, audit](const HttpRequest& req) -> Result<HttpResponse> {
    return SubmitTyped(jobs, clock, audit, kRdagentJobType, req);
  });
  router.Get("/api/rdagent/tasks/{task_id}", [&ws, &jobs, &catalog, &clock](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(JobRecord rec, VisibleTask(jobs, req));
    return TaskJson(ws, jobs, catalog, rec, clock.Now());
  });
  router.Post("/api/rdagent/tasks/{task_id}/cancel", [&jobs, &clock, audit](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {}));
    JobId id("");
    RETURN_IF_ERROR(VisibleTask(jobs, req, &id).status());
    ASSIGN_OR_RETURN(JobRecord rec, CancelVisibleJob(jobs, audit, req, id));
    return JobDetailJson(rec, clock.Now());
  });
  auto followers = std::make_shared<LogFollowers>(ws.root(), [&jobs](const JobId& id) -> Result<FollowedJob> {
    ASSIGN_OR_RETURN(JobRecord job, jobs.Get(id));
    FollowedJob out;
    out.terminal = IsTerminal(job.status);
    out.status = std::string(JobStateName(job.status));
    out.exit_code = job.exit_code ? Json(*job.exit_code) : Json();
    return out;
  });
  router.GetRaw("/api/rdagent/tasks/{task_id}/logs",
                [&ws, &jobs, followers](const HttpRequest& req) -> Result<HttpResponse> {
                  JobId id("");
                  ASSIGN_OR_RETURN(JobRecord rec, VisibleTask(jobs, req, &id));
                  const std::string accept = req.Header("accept").value_or("");
                  if (accept.find("text/event-stream") != std::string::npos) {
                    ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0));
                    HttpResponse res;
                    res.content_type = "text/event-stream";
                    res.headers.emplace_back("X-Accel-Buffering", "no");
                    res.body = "retry: 2000\n\n";
                    res.stream = followers->Follow(id, jobs.LogPath(rec), offset);
                    return res;
                  }
                  ASSIGN_OR_RETURN(Json body, JobLogJson(ws, jobs, req, id));
                  return HttpResponse::FromJson(body);
                });
  router.Get("/api/rdagent/tasks/{task_id}/artifacts", [&ws, &jobs](const HttpRequest& req) -> Result<Json> {
    JobId id("");
    ASSIGN_OR_RETURN(JobRecord rec, VisibleTask(jobs, req, &id));
    ASSIGN_OR_RETURN(Json page, JobArtifactsJson(ws, jobs, req, id));
    return page;
  });
}

}  // namespace alphalab::http

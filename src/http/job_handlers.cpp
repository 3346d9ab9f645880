// Jobs API (docs/api.md, jobs): submit (train / backtest / eval-metrics / any catalog type), recent,
// detail, log by offset, log stream (SSE), artifacts, parsed results, cancel, job types.
#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/audit_log.hpp"
#include "core/ids.hpp"
#include "core/list_query.hpp"
#include "http/auth.hpp"
#include "http/job_views.hpp"
#include "http/log_follow.hpp"
#include "http/routes.hpp"
#include "jobs/job_artifacts.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_detail_body.hpp"
#include "jobs/job_dto.hpp"
#include "jobs/job_results.hpp"
#include "jobs/job_service.hpp"
#include "jobs/log_reader.hpp"

namespace alphalab::http {

Result<JobId> JobIdParam(const HttpRequest& req, const char* name) {
  const std::string_view id = req.Param(name);
  if (!IsSafeIdentifier(id)) {
    const std::string shown(id.substr(0, 100));
    return Status::InvalidArgument("'" + shown + "' is not a valid job id", Json{{"job_id", shown}});
  }
  return JobId(std::string(id));
}

// The job `req` names, once the caller may see it (403 for a user on another owner's job).
Result<JobRecord> VisibleJob(JobService& jobs, const HttpRequest& req, const JobId& id) {
  ASSIGN_OR_RETURN(JobRecord rec, jobs.Get(id));
  RETURN_IF_ERROR(CheckOwner(req, rec.owner_id, "job " + id.str()));
  return rec;
}

static void AuditSubmit(AuditLog* audit, const HttpRequest& req, const Result<JobRecord>& rec, std::string_view type) {
  if (!audit) return;
  AuditEvent e = AuditFor(req, "job.submit", rec.ok() ? rec->job_id.str() : "");
  e.details = Json{{"job_type", std::string(type)}};
  if (rec.ok()) {
    e.details["dry_run"] = rec->dry_run;
  } else {
    e.outcome = "failed";
    e.details["error"] = rec.status().message().substr(0, 300);
  }
  audit->Record(e);
}

Result<JobRecord> CancelVisibleJob(JobService& jobs, AuditLog* audit, const HttpRequest& req, const JobId& id) {
  if (Status visible = VisibleJob(jobs, req, id).status(); !visible.ok()) {
    if (audit && visible.code() == StatusCode::kPermissionDenied) {
      AuditEvent e = AuditFor(req, "job.cancel", id.str());
      e.outcome = "denied";
      audit->Record(e);
    }
    return visible;
  }
  Result<JobRecord> rec = jobs.Cancel(id);
  if (audit) {
    AuditEvent e = AuditFor(req, "job.cancel", id.str());
    if (!rec.ok()) {
      e.outcome = "failed";
      e.details = Json{{"error", rec.status().message().substr(0, 300)}};
    }
    audit->Record(e);
  }
  return rec;
}

// The reply to a submit: the job's detail (JobDetailResponse), written straight from the record.
HttpResponse SubmittedJob(const JobRecord& rec, TimePoint now) {
  HttpResponse res;
  res.body = JobDetailBody(rec, now);
  return res;
}

Result<HttpResponse> SubmitTyped(JobService& jobs, const Clock& clock, AuditLog* audit, std::string_view type,
                                 const HttpRequest& req) {
  ASSIGN_OR_RETURN(Json body, req.JsonBody());
  SubmitOptions opts;
  opts.owner_id = OwnerId(req);
  // The typed routes take the params and the `dry_run` option side by side in one body;
  // `project` is the job's, not a parameter of its command.
  Result<std::optional<bool>> dry_run = TakeDryRun(body);
  if (dry_run.ok()) opts.dry_run = dry_run->value_or(false);
  if (dry_run.ok() && body.is_object() && body.contains("project")) {
    ASSIGN_OR_RETURN(opts.project, GetOptionalString(body, "project"));
    body.erase("project");
  }
  Result<JobRecord> rec = dry_run.ok() ? jobs.Submit(type, body, opts) : Result<JobRecord>(dry_run.status());
  AuditSubmit(audit, req, rec, type);
  if (!rec.ok()) return rec.status();
  return SubmittedJob(*rec, clock.Now());
}

Result<Json> JobLogJson(const Workspace& ws, JobService& jobs, const HttpRequest& req, const JobId& id) {
  ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0));
  ASSIGN_OR_RETURN(int64_t tail, req.query.GetInt("tail", kDefaultLogTail, 0));
  ASSIGN_OR_RETURN(JobRecord rec, VisibleJob(jobs, req, id));
  auto chunk = ReadLogChunk(ws.root(), jobs.LogPath(rec), offset, tail, !IsTerminal(rec.status));
  if (!chunk.ok()) {
    if (chunk.status().IsNotFound() && (!IsTerminal(rec.status) || !rec.started_at)) {
      // Not started yet, or ended without ever starting (canceled while queued): the executor
      // creates the log when it spawns, so there is nothing to show.
      return Json{{"job_id", id.str()}, {"content", ""}, {"next_offset", 0},
                  {"is_truncated", false}, {"log_path", rec.log_path}};
    }
    if (chunk.status().IsNotFound()) {
      return Status::NotFound("log of job " + id.str() + " does not exist (" + rec.log_path + ")",
                              Json{{"job_id", id.str()}, {"log_path", rec.log_path}});
    }
    return chunk.status();
  }
  return Json{{"job_id", id.str()},
              {"content", std::move(chunk->content)},
              {"next_offset", chunk->next_offset},
              {"is_truncated", chunk->is_truncated},
              {"log_path", rec.log_path}};
}

Result<Json> JobArtifactsJson(const Workspace& ws, JobService& jobs, const HttpRequest& req, const JobId& id) {
  ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0));
  ASSIGN_OR_RETURN(int64_t limit, req.query.GetInt("limit", 1000, 1, 10000));
  ASSIGN_OR_RETURN(JobRecord rec, VisibleJob(jobs, req, id));
  // One cache for the process (keyed by the job folder's absolute path), shared by
  // /api/jobs/{id}/artifacts and /api/rdagent/tasks/{id}/artifacts.
  static ArtifactListCache cache;
  ASSIGN_OR_RETURN(ArtifactPage page, cache.List(ws, rec, offset, limit));
  Json items = Json::array();
  for (const ArtifactEntry& e : page.items) {
    items.push_back(Json{{"path", e.path},
                         {"size", e.size},
                         {"mtime", FormatIso8601(TimePoint(std::chrono::milliseconds(e.mtime_ms)))},
                         {"content_type", ArtifactContentType(e.path)}});
  }
  return Json{{"job_id", id.str()}, {"items", std::move(items)}, {"total", page.total},
              {"limit", limit},      {"offset", offset}};
}

Result<HttpResponse> JobArtifactResponse(const Workspace& ws, JobService& jobs, const HttpRequest& req,
                                         const JobId& id) {
  const std::string path(req.Param("path"));
  RETURN_IF_ERROR(CheckArtifactPath(path));
  ASSIGN_OR_RETURN(JobRecord rec, VisibleJob(jobs, req, id));
  ASSIGN_OR_RETURN(std::string body, ReadJobArtifact(ws, rec, path));
  HttpResponse res = HttpResponse::Text(std::move(body), ArtifactContentType(path));
  std::string name = std::filesystem::path(path).filename().string();
  for (char& c : name) {
    if (c == '"' || static_cast<unsigned char>(c) < 0x20) c = '_';
  }
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return res;
}

namespace {

// ?from= / ?to= of GET /api/jobs/recent: "YYYY-MM-DD" (a UTC day: from its start; `to` through
// its end) or an ISO-8601 UTC time (`to` exclusive).
Result<std::optional<TimePoint>> TimeBound(const HttpRequest& req, const char* name, bool end_of_day) {
  auto v = req.query.Get(name);
  if (!v || v->empty()) return std::optional<TimePoint>{};
  const auto bad = [&] {
    return Status::InvalidArgument(std::string(name) + " must be a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM:SSZ; got '" +
                                       v->substr(0, 50) + "'",
                                   Json{{"parameter", name}});
  };
  if (v->size() == 10) {
    auto days = ParseDate(*v);
    if (!days.ok()) return bad();
    // Beyond what a TimePoint holds (about 1677..2262 in nanoseconds): the far end of time.
    if (*days > 106000) return std::optional<TimePoint>(TimePoint::max());
    if (*days < -106000) return std::optional<TimePoint>(TimePoint::min());
    const TimePoint day{std::chrono::duration_cast<TimePoint::duration>(std::chrono::hours(24) * *days)};
    return std::optional<TimePoint>(end_of_day ? day + std::chrono::hours(24) : day);
  }
  auto t = ParseIso8601(*v);
  if (!t.ok()) return bad();
  return std::optional<TimePoint>(*t);
}

}  // namespace

void RegisterJobRoutes(Router& router, const Workspace& ws, JobService& jobs, const JobCatalog& catalog,
                       const Clock& clock, AuditLog* audit) {
  const std::filesystem::path root = ws.root();
  for (const char* type : {"train", "backtest", "eval-metrics"}) {
    router.AddRaw(HttpMethod::kPost, std::string("/api/jobs/") + type,
                  [&jobs, &clock, audit, type](const HttpRequest& req) {
                    return SubmitTyped(jobs, clock, audit, type, req);
                  });
  }

  // The reply is written without a Json tree (SubmittedJob); the bytes are JobDetailJson's.
  router.AddRaw(HttpMethod::kPost, "/api/jobs", [&jobs, &clock, audit](const HttpRequest& req)
                                                    -> Result<HttpResponse> {
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {"job_type", "params", "dry_run", "source_job_id", "parent_id", "project"}));
    ASSIGN_OR_RETURN(std::string type, GetString(body, "job_type"));
    Json params = body.contains("params") && !body["params"].is_null() ? body["params"] : Json::object();
    if (!params.is_object()) return Status::InvalidArgument("field 'params' must be an object");
    ASSIGN_OR_RETURN(std::optional<bool> dry_run, GetOptionalBool(body, "dry_run"));
    // Older clients put dry_run among the params; the top-level field wins.
    ASSIGN_OR_RETURN(std::optional<bool> legacy_dry_run, TakeDryRun(params, "params.dry_run"));
    SubmitOptions opts;
    opts.dry_run = dry_run.value_or(legacy_dry_run.value_or(false));
    opts.owner_id = OwnerId(req);
    ASSIGN_OR_RETURN(opts.source_job_id, GetOptionalString(body, "source_job_id"));
    ASSIGN_OR_RETURN(opts.parent_id, GetOptionalString(body, "parent_id"));
    ASSIGN_OR_RETURN(opts.project, GetOptionalString(body, "project"));
    for (const auto* link : {&opts.source_job_id, &opts.parent_id}) {
      if (*link && !IsSafeIdentifier(**link)) return Status::InvalidArgument("'" + **link + "' is not a valid job id");
    }
    if (opts.source_job_id) {
      auto src = VisibleJob(jobs, req, JobId(*opts.source_job_id));
      if (!src.ok()) return src.status().WithContext("source_job_id");
    }
    if (opts.parent_id) {  // a user may not attach jobs to another owner's group
      auto parent = jobs.Get(JobId(*opts.parent_id));
      if (parent.ok()) RETURN_IF_ERROR(CheckOwner(req, parent->owner_id, "job " + *opts.parent_id));
    }
    Result<JobRecord> rec = jobs.Submit(type, params, opts);
    AuditSubmit(audit, req, rec, type);
    if (!rec.ok()) return rec.status();
    return SubmittedJob(*rec, clock.Now());
  });

  router.Get("/api/jobs/recent", [&jobs, &clock](const HttpRequest& req) -> Result<Json> {
    JobQuery q;
    // The list convention (core/list_query.hpp): a comma list is IN on every equality filter.
    ASSIGN_OR_RETURN(std::vector<std::string> statuses, ParseInList("status", req.query.Get("status")));
    for (const std::string& s : statuses) {
      std::string upper = s;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto st = ParseJobState(upper);
      if (!st) {
        return Status::InvalidArgument("status must be one of QUEUED, RUNNING, SUCCESS, FAILED, CANCELED; got '" +
                                           s.substr(0, 50) + "'",
                                       Json{{"parameter", "status"}});
      }
      if (std::find(q.statuses.begin(), q.statuses.end(), *st) == q.statuses.end()) q.statuses.push_back(*st);
    }
    ASSIGN_OR_RETURN(q.job_types, ParseInList("job_type", req.query.Get("job_type")));
    ASSIGN_OR_RETURN(q.owner_ids, ParseInList("owner_id", req.query.Get("owner_id")));
    ASSIGN_OR_RETURN(q.projects, ParseInList("project", req.query.Get("project")));
    if (auto mine = OwnerFilter(req)) {  // a user sees their own jobs only
      for (const std::string& owner : q.owner_ids) {
        if (owner != *mine) {
          return Status::PermissionDenied("a user token lists its own jobs only (owner_id=" + *mine + ")");
        }
      }
      q.owner_ids = {*mine};
    }
    // min_<field> / max_<field> on the boundable numeric fields, sort on any of them.
    for (const JobFieldInfo& info : kJobNumericFields) {
      if (!info.boundable) continue;
      JobBound bound{info.field, std::nullopt, std::nullopt};
      const std::string min_name = "min_" + std::string(info.name), max_name = "max_" + std::string(info.name);
      ASSIGN_OR_RETURN(bound.min, ParseFiniteNumber(min_name, req.query.Get(min_name)));
      ASSIGN_OR_RETURN(bound.max, ParseFiniteNumber(max_name, req.query.Get(max_name)));
      if (bound.min || bound.max) q.bounds.push_back(bound);
    }
    if (auto sort = req.query.Get("sort"); sort && !sort->empty()) {
      ASSIGN_OR_RETURN(q.sort, ParseJobSort(*sort));
    }
    if (auto text = req.query.Get("q"); text && !text->empty()) {
      if (text->size() > 200) {
        return Status::InvalidArgument("q must be at most 200 characters", Json{{"parameter", "q"}});
      }
      q.text = *text;
    }
    ASSIGN_OR_RETURN(q.created_from, TimeBound(req, "from", false));
    ASSIGN_OR_RETURN(q.created_to, TimeBound(req, "to", true));
    ASSIGN_OR_RETURN(int64_t limit, req.query.GetInt("limit", 100, 0, 1000));
    ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0, 1000000000));
    q.limit = static_cast<int>(limit);
    q.offset = static_cast<int>(offset);
    // Per status, with every filter but the status one (the tabs of the Jobs page), in one
    // query; the total is their sum over the statuses asked for (all when none). Counted first:
    // a page past the total (a search nothing matches) needs no listing scan.
    ASSIGN_OR_RETURN(auto per_state, jobs.CountPerState(q));
    Json counts = Json::object();
    int64_t total = 0;
    for (const auto& [st, n] : per_state) {
      counts[std::string(JobStateName(st))] = n;
      if (q.statuses.empty() || std::find(q.statuses.begin(), q.statuses.end(), st) != q.statuses.end()) total += n;
    }
    std::vector<JobRecord> rows;
    if (q.offset < total) {
      ASSIGN_OR_RETURN(rows, jobs.List(q));
    }
    const TimePoint now = clock.Now();
    Json items = Json::array();
    for (const JobRecord& r : rows) items.push_back(JobDetailJson(r, now));
    return Json{{"items", std::move(items)}, {"total", total}, {"limit", limit}, {"offset", offset},
                {"status_counts", std::move(counts)}};
  });

  // The hot read: the body comes pre-serialized from the job service's cache when it can.
  router.GetRaw("/api/jobs/{job_id}", [&jobs, &clock](const HttpRequest& req) -> Result<HttpResponse> {
    ASSIGN_OR_RETURN(JobId id, JobIdParam(req));
    if (OwnerFilter(req)) RETURN_IF_ERROR(VisibleJob(jobs, req, id).status());  // users: their own only
    HttpResponse res;
    ASSIGN_OR_RETURN(res.body, jobs.DetailBody(id, clock.Now()));
    return res;
  });
  // Answered on the I/O thread (no hop to the handler pool): the cache lookup holds a lock only
  // for a map find, and a miss is a WAL snapshot read that never waits for the write lock.
  router.SetInline("/api/jobs/{job_id}");

  router.Get("/api/jobs/{job_id}/log/search", [&jobs, root](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(JobId id, JobIdParam(req));
    auto q = req.query.Get("q");
    if (!q || q->empty() || q->size() > 200) {
      return Status::InvalidArgument("q must be 1 to 200 characters", Json{{"parameter", "q"}});
    }
    ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0));
    ASSIGN_OR_RETURN(int64_t limit, req.query.GetInt("limit", 100, 1, 1000));
    ASSIGN_OR_RETURN(JobRecord rec, VisibleJob(jobs, req, id));
    auto found = SearchLog(root, jobs.LogPath(rec), *q, offset, static_cast<int>(limit));
    if (!found.ok()) {
      if (found.status().IsNotFound() && (!IsTerminal(rec.status) || !rec.started_at)) {
        return Json{{"job_id", id.str()}, {"q", *q}, {"matches", Json::array()}, {"next_offset", 0},
                    {"complete", true}, {"file_size", 0}};
      }
      if (found.status().IsNotFound()) {
        return Status::NotFound("log of job " + id.str() + " does not exist (" + rec.log_path + ")",
                                Json{{"job_id", id.str()}, {"log_path", rec.log_path}});
      }
      return found.status();
    }
    Json matches = Json::array();
    for (auto& m : found->matches) matches.push_back(Json{{"offset", m.offset}, {"line", std::move(m.line)}});
    return Json{{"job_id", id.str()},          {"q", *q},
                {"matches", std::move(matches)}, {"next_offset", found->next_offset},
                {"complete", found->complete},   {"file_size", found->file_size}};
  });

  router.Get("/api/jobs/{job_id}/log", [&ws, &jobs](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(JobId id, JobIdParam(req));
    return JobLogJson(ws, jobs, req, id);
  });

  // Files of every job (jobs/job_artifacts.hpp): its folder reports/jobs/runtime/<id>/ and its log.
  router.Get("/api/jobs/{job_id}/artifacts", [&ws, &jobs](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(JobId id, JobIdParam(req));
    return JobArtifactsJson(ws, jobs, req, id);
  });
  router.GetRaw("/api/jobs/{job_id}/artifacts/{path}", [&ws, &jobs](const HttpRequest& req) -> Result<HttpResponse> {
    ASSIGN_OR_RETURN(JobId id, JobIdParam(req));
    return JobArtifactResponse(ws, jobs, req, id);
  });
  router.SetRestCapture("/api/jobs/{job_id}/artifacts/{path}");

  // The numeric results of a succeeded job, read by its type's parser (jobs/job_results.hpp): a
  // user type's `results:` (any job type, e.g. a user's own script), a built-in backtest's summary.
  router.Get("/api/jobs/{job_id}/results", [&ws, &jobs, &catalog](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(JobId id, JobIdParam(req));
    ASSIGN_OR_RETURN(JobRecord rec, VisibleJob(jobs, req, id));
    const JobTypeSpec* spec = catalog.Find(rec.job_type);
    const Json where{{"job_id", id.str()}, {"job_type", rec.job_type}, {"status", std::string(JobStateName(rec.status))}};
    if (!spec || !HasReadableResults(*spec)) {
      return Status::FailedPrecondition("job type '" + rec.job_type + "' declares no results (alphalab.yaml job_types: results:)", where);
    }
    if (rec.status != JobState::kSuccess) {
      return Status::FailedPrecondition("job " + id.str() + " is " + std::string(JobStateName(rec.status)) +
                                            ": results are read once it has succeeded", where);
    }
    ASSIGN_OR_RETURN(JobMetrics m, ReadJobMetrics(ws, *spec, rec));
    const ResultParserKind parser = spec->results ? spec->results->parser : ResultParserKind::kAlphalabSummary;
    return Json{{"job_id", id.str()},
                {"job_type", rec.job_type},
                {"parser", std::string(ResultParserName(parser))},
                {"paths", m.result_paths},
                {"metrics", m.parsed.metrics},
                {"strings", m.parsed.strings}};
  });

  // Log followers (SSE): one registry for every stream of this router; each followed log is
  // opened once and read once per change for all its followers, on the registry's own thread
  // (http/log_follow.hpp). The handler below runs once per connection (auth, owner check).
  auto followers = std::make_shared<LogFollowers>(root, [&jobs](const JobId& id) -> Result<FollowedJob> {
    ASSIGN_OR_RETURN(JobRecord job, jobs.Get(id));
    FollowedJob out;
    out.terminal = IsTerminal(job.status);
    out.status = std::string(JobStateName(job.status));
    out.exit_code = job.exit_code ? Json(*job.exit_code) : Json();
    return out;
  });
  router.GetRaw("/api/jobs/{job_id}/log/stream", [&jobs, followers](const HttpRequest& req) -> Result<HttpResponse> {
    ASSIGN_OR_RETURN(JobId id, JobIdParam(req));
    ASSIGN_OR_RETURN(int64_t offset, req.query.GetInt("offset", 0, 0));
    ASSIGN_OR_RETURN(JobRecord rec, VisibleJob(jobs, req, id));
    HttpResponse res;
    res.content_type = "text/event-stream";
    res.headers.emplace_back("X-Accel-Buffering", "no");
    res.body = "retry: 2000\n\n";
    res.stream = followers->Follow(id, jobs.LogPath(rec), offset);
    return res;
  });

  router.Post("/api/jobs/{job_id}/cancel", [&jobs, &clock, audit](const HttpRequest& req) -> Result<Json> {
    ASSIGN_OR_RETURN(JobId id, JobIdParam(req));
    ASSIGN_OR_RETURN(Json body, req.JsonBody());
    RETURN_IF_ERROR(CheckKnownKeys(body, {}));  // the body carries no fields (empty or {})
    ASSIGN_OR_RETURN(JobRecord rec, CancelVisibleJob(jobs, audit, req, id));
    return JobDetailJson(rec, clock.Now());
  });

  router.Get("/api/job-types", [&catalog](const HttpRequest&) -> Result<Json> { return catalog.ToJson(); });
}

}  // namespace alphalab::http

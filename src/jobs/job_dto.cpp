#include "jobs/job_dto.hpp"

#include <cmath>

namespace alphalab {

namespace {
template <typename T>
Json OrNull(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}
Json TimeOrNull(const std::optional<TimePoint>& t) {
  return t ? Json(FormatIso8601(*t)) : Json(nullptr);
}
}  // namespace

Json JobDetailJson(const JobRecord& job, TimePoint now) {
  Json duration = nullptr;
  if (job.started_at) {
    const TimePoint end = job.ended_at.value_or(now);
    duration = std::round(SecondsBetween(*job.started_at, end) * 1000.0) / 1000.0;
  }
  return Json{
      {"job_id", job.job_id.str()},
      {"job_type", job.job_type},
      {"status", std::string(JobStateName(job.status))},
      {"created_at", FormatIso8601(job.created_at)},
      {"started_at", TimeOrNull(job.started_at)},
      {"ended_at", TimeOrNull(job.ended_at)},
      {"duration_sec", duration},
      {"exit_code", OrNull(job.exit_code)},
      {"end_reason", job.end_reason ? Json(std::string(EndReasonName(*job.end_reason))) : Json(nullptr)},
      {"error_message", OrNull(job.error_message)},
      {"cwd", job.cwd},
      {"command", job.command},
      {"args_preview", job.args_preview},
      {"artifacts", job.artifacts.is_object() ? job.artifacts : Json::object()},
      {"artifacts_parse_error", OrNull(job.artifacts_parse_error)},
      {"runtime", {{"meta_path", job.meta_path}, {"log_path", job.log_path}}},
      {"parent_id", OrNull(job.parent_id)},
      {"source_job_id", OrNull(job.source_job_id)},
      {"owner_id", OrNull(job.owner_id)},
      {"project", job.project},
      {"params", job.params.is_object() ? job.params : Json::object()},
      {"dry_run", job.dry_run},
      {"timeout_sec", job.timeout_sec},
  };
}

}  // namespace alphalab

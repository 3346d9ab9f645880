// GET /api/health and GET /metrics (Prometheus text format).
#include <chrono>

#include "http/routes.hpp"
#include "jobs/job_service.hpp"
#include "jobs/metrics.hpp"

namespace alphalab::http {

void RegisterHealthRoutes(Router& router, JobService& jobs, const Clock& clock, Metrics& metrics) {
  const auto started = std::chrono::steady_clock::now();
  // Open without auth (docs/security.md): nothing here names a file or folder of the server.
  router.Get("/api/health", [&jobs, &clock, started](const HttpRequest&) -> Result<Json> {
    const double uptime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return Json{{"status", "ok"},
                {"version", "0.1.0"},
                {"executor_slots", jobs.capacity()},
                {"time", FormatIso8601(clock.Now())},
                {"uptime_sec", uptime}};
  });
  router.GetRaw("/metrics", [&metrics](const HttpRequest&) -> Result<HttpResponse> {
    return HttpResponse::Text(metrics.RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
  // Neither touches the database or a file: answered on the I/O thread, so they stay fast
  // while handlers wait on a locked database.
  router.SetInline("/api/health");
  router.SetInline("/metrics");
}

}  // namespace alphalab::http

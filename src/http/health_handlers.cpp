// GET /api/health and GET /metrics (Prometheus text format).
#include <chrono>

#include "http/route_modules.hpp"
#include "jobs/job_service.hpp"
#include "jobs/metrics.hpp"

namespace alphalab::http {

namespace {

void RegisterHealthRoutes(Router& router, ServerContext& ctx) {
  const auto started = std::chrono::steady_clock::now();
  router.Get("/api/health", [&ctx, started](const HttpRequest&) -> Result<Json> {
    const double uptime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return Json{{"status", "ok"},
                {"version", "0.1.0"},
                {"workspace", ctx.workspace.root().string()},
                {"executor_slots", ctx.jobs.capacity()},
                {"time", FormatIso8601(ctx.clock.Now())},
                {"uptime_sec", uptime}};
  });
  router.GetRaw("/metrics", [&ctx](const HttpRequest&) -> Result<HttpResponse> {
    return HttpResponse::Text(ctx.metrics.RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
  // Neither touches the database or a file: answered on the I/O thread, so they stay fast
  // while handlers wait on a locked database.
  router.SetInline("/api/health");
  router.SetInline("/metrics");
}

}  // namespace

ALPHALAB_REGISTER_ROUTES(10, RegisterHealthRoutes);

}  // namespace alphalab::http

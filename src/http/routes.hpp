// The route groups of the API. Each function registers one resource's routes on a Router and
// is given exactly the services it uses; the composition root (src/app/composition_root.cpp)
// calls them in one explicit list. Handlers never build services or read configuration.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/workspace.hpp"
#include "http/router.hpp"

namespace alphalab {
class AuditLog;
class JobCatalog;
class JobService;
class Metrics;
class RegistryService;
namespace optimize {
class OptimizationService;
}
namespace datasets {
class DatasetService;
}
namespace configs {
class ConfigService;
}
class RegistryStore;
class OptimizationStore;
}  // namespace alphalab

namespace alphalab::http {

// GET /api/health (public: shows no path of the server), GET /metrics (Prometheus text).
void RegisterHealthRoutes(Router& router, JobService& jobs, const Clock& clock, Metrics& metrics);
// Jobs: submit (typed and generic), recent, detail, log, log stream (SSE), cancel, job types.
// Owners (http/auth.hpp): submits store the caller as owner_id; a `user` lists, reads, streams
// and cancels only their own jobs (403). Submits and cancels go to `audit` (may be null).
void RegisterJobRoutes(Router& router, const Workspace& ws, JobService& jobs, const JobCatalog& catalog,
                       const Clock& clock, AuditLog* audit = nullptr);
// Job artifacts (GET /api/jobs/{job_id}/artifacts[/{path}]) are part of the jobs group above.
// RD-Agent tasks: views over jobs of the type kRdagentJobType (declared in alphalab.yaml):
// GET/POST /api/rdagent/tasks, GET /api/rdagent/tasks/{task_id}, POST .../cancel, GET .../logs
// (offset polling; Accept: text/event-stream -> SSE), GET .../artifacts. docs/rdagent.md.
inline constexpr std::string_view kRdagentJobType = "rdagent-fin-quant";
void RegisterRdagentRoutes(Router& router, const Workspace& ws, JobService& jobs, const JobCatalog& catalog,
                           const Clock& clock, AuditLog* audit = nullptr);
// Datasets: GET/POST /api/datasets, POST /api/datasets/upload-instruments,
// POST /api/datasets/{name}/default, DELETE /api/datasets/{name},
// GET /api/datasets/{name}/validation; the views GET /api/rdagent/datasets and
// POST /api/rdagent/datasets/upload-instruments (docs/datasets.md).
void RegisterDatasetRoutes(Router& router, datasets::DatasetService& service, AuditLog* audit);
// /api/registry/models|compare|tickers, POST /api/registry/index.
void RegisterRegistryRoutes(Router& router, RegistryService& service);
// /api/runs, /api/runs/{run_id}, /api/backtests[/{bt_run_id}[/files/{name}]], /api/dashboard.
void RegisterResultsRoutes(Router& router, RegistryService& service);
// /api/v1/optimizations[/estimate | /{optimization_id}[/status|/tasks|/cancel|/retry-failed|/extend|/export]].
// With auth.mode token a user sees and changes only their own optimizations (http/auth.hpp);
// submits and cancels go to the audit log when `audit` is given.
void RegisterOptimizationRoutes(Router& router, optimize::OptimizationService& service, AuditLog* audit = nullptr);
// GET /api/projects: every project named by a job, a registry run or an optimization, by name,
// with {jobs, runs, successful_runs, optimizations} counts.
void RegisterProjectRoutes(Router& router, JobService& jobs, RegistryStore& registry, OptimizationStore& optimizations);
// The config center (docs/configs.md): /api/configs, /api/configs/file (GET, PUT),
// /api/configs/history, /api/configs/diff, /api/configs/rollback, /api/configs/check, and the
// views /api/rdagent/env (GET, PUT), /api/rdagent/templates[/history|/rollback]. Writes and
// rollbacks need an admin (auth on) and go to `audit` (may be null).
void RegisterConfigRoutes(Router& router, configs::ConfigService& service, AuditLog* audit = nullptr);
// The web UI's files with the client-side routing fallback (nothing when ui_dir is empty or
// not a directory). Registered last: it is the router's fallback.
void RegisterStaticRoutes(Router& router, const std::string& ui_dir);

}  // namespace alphalab::http

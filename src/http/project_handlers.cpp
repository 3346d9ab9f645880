// GET /api/projects (docs/api.md, "Projects"): the projects named by jobs (Job.project), registry
// runs (metrics.json's project) and optimizations, with their counts, by name. With auth on a
// `user` counts only its own jobs and optimizations (what its lists show); runs are shared.
#include <map>

#include "http/auth.hpp"
#include "http/routes.hpp"
#include "jobs/job_service.hpp"
#include "store/optimization_store.hpp"
#include "store/registry_store.hpp"

namespace alphalab::http {

namespace {

struct ProjectCounts {
  int64_t jobs = 0;
  int64_t runs = 0;
  int64_t successful_runs = 0;
  int64_t optimizations = 0;
};

Result<Json> ProjectsJson(JobService& jobs, RegistryStore& registry, OptimizationStore& optimizations,
                          const std::optional<std::string>& owner) {
  std::map<std::string, ProjectCounts> projects;
  ASSIGN_OR_RETURN(auto job_counts, jobs.CountByProject(owner));
  for (const auto& [name, n] : job_counts) projects[name].jobs = n;
  RunQuery rq;
  rq.limit = kMaxRegistryLimit;
  for (rq.offset = 0;; rq.offset += rq.limit) {
    ASSIGN_OR_RETURN(RunPage page, registry.ListRuns(rq));
    for (const auto& r : page.items) {
      if (r.project.empty()) continue;
      auto& p = projects[r.project];
      ++p.runs;
      if (r.status == "success") ++p.successful_runs;
    }
    if (static_cast<int>(page.items.size()) < rq.limit) break;
  }
  OptimizationQuery oq;
  oq.limit = kMaxOptimizationPageLimit;
  oq.owner_id = owner;
  for (oq.offset = 0;; oq.offset += oq.limit) {
    ASSIGN_OR_RETURN(std::vector<OptimizationRecord> rows, optimizations.List(oq));
    for (const auto& o : rows) {
      if (!o.project.empty()) ++projects[o.project].optimizations;
    }
    if (static_cast<int>(rows.size()) < oq.limit) break;
  }
  Json items = Json::array();
  for (const auto& [name, c] : projects) {
    items.push_back(Json{{"name", name},
                         {"jobs", c.jobs},
                         {"runs", c.runs},
                         {"successful_runs", c.successful_runs},
                         {"optimizations", c.optimizations}});
  }
  return Json{{"items", std::move(items)}};
}

}  // namespace

void RegisterProjectRoutes(Router& router, JobService& jobs, RegistryStore& registry, OptimizationStore& optimizations) {
  router.Get("/api/projects", [&jobs, &registry, &optimizations](const HttpRequest& req) -> Result<Json> {
    return ProjectsJson(jobs, registry, optimizations, OwnerFilter(req));
  });
}

}  // namespace alphalab::http

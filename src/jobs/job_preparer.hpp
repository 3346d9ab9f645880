// The seam through which a job of a type with `tool:` (config/workspace_config.hpp) gets its
// tool's settings before it starts: the config center (src/configs) implements it, the job
// service calls it; jobs never include configs (dependencies point one way).
//
//   submit -> catalog validates params -> JobPreparer::Check (dry run and real submit: a bad
//   setting, e.g. templates that disagree, is a 400 before anything is queued)
//   start  -> JobService creates the job's work folder -> JobPreparer::Prepare (env from the
//   tool's .env, template copies written into work_dir, the hashes used) -> the process starts
//   with cwd = work_dir and the extra env
//
// A Prepare failure ends the job as failed before any process runs, with the reason in its log.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab {

struct JobTypeDecl;

struct PreparedJob {
  std::string job_id;
  std::string type;                   // the job type's name
  std::string tool;                   // its `tool:`
  Json params;                        // the validated params (source_history_id, n_epochs, ...)
  std::filesystem::path work_dir;     // reports/jobs/runtime/<job_id>/work/, created, empty
  // Filled by Prepare:
  std::map<std::string, std::string> env;  // added to the job's environment (the .env's keys)
  Json config_hashes = Json::object();     // {managed path: sha256 of the version used}
};

class JobPreparer {
 public:
  virtual ~JobPreparer() = default;
  // Everything that can be known before queueing (the tool exists, source_history_id names a
  // version of this tool, the templates agree). InvalidArgument / NotFound name the param.
  virtual Status Check(const JobTypeDecl& type, const Json& params) const = 0;
  // Writes the tool's files for this job into job.work_dir and fills job.env / job.config_hashes.
  virtual Status Prepare(const JobTypeDecl& type, PreparedJob& job) = 0;
};

}  // namespace alphalab

// The config center's side of jobs/job_preparer.hpp: a job of a type with `tool:` gets its
// tool's `.env` as environment and its own copy of the tool's writable YAML files (docs/rdagent.md).
//
//   Check:   the tool is declared; `source_history_id` (when given) is a history entry of one of
//            the tool's files; the templates agree (market, provider_uri, segments).
//   Prepare: every `env` file parsed (dotenv grammar) into job.env; every writable `yaml` file
//            copied to job.work_dir/<its path> -- the version of `source_history_id` for that
//            file, else the live one -- with the params n_epochs / batch_size / n_jobs written
//            into task.model.kwargs where the template has that key; job.config_hashes gets
//            {"<tool>:<path>": sha256 of the version used}. The live files are never written.
#pragma once

#include "configs/config_service.hpp"
#include "jobs/job_preparer.hpp"

namespace alphalab::configs {

class ToolJobPreparer final : public JobPreparer {
 public:
  explicit ToolJobPreparer(ConfigService& service) : service_(service) {}
  Status Check(const JobTypeDecl& type, const Json& params) const override;
  Status Prepare(const JobTypeDecl& type, PreparedJob& job) override;

 private:
  ConfigService& service_;
};

// Sets `key: value` for each {key, value} on the lines of task.model.kwargs (indentation kept,
// the rest of each line replaced); keys the template does not have are not added. Returns the
// keys set.
std::vector<std::string> SetModelKwargs(std::string& yaml_text, const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace alphalab::configs

#include "app/engine_job_check.hpp"

#include <string>
#include <vector>

#include "core/message_paths.hpp"
#include "engine/backtest/job_config.hpp"
#include "engine/data/dataset.hpp"
#include "engine/model/trainer.hpp"

namespace alphalab {

namespace {

// The params' overrides as the job's argv carries them (the same reading for both types).
std::vector<std::string> Overrides(const Json& params) { return engine::FlagsFromJobParams(params).overrides; }

// A 400 whatever the engine's code (a missing model file is the request's fault, not a
// missing API resource), with workspace-relative paths, as the job's own error line would be;
// details.parameter as the catalog's errors: "overrides" when the message names the key or
// the value of one of them (`dataset=nosuch`: "unknown dataset 'nosuch'"), else "config_path".
Status Refused(const Workspace& ws, std::string_view job_type, const Json& params, const Status& why) {
  const std::string message = WithoutRoot(why.message(), ws.root());
  std::string parameter = "config_path";
  for (const std::string& o : Overrides(params)) {
    const size_t eq = o.find('=');
    const std::string key = o.substr(0, eq), value = eq == std::string::npos ? "" : o.substr(eq + 1);
    for (const std::string& named : {key, value}) {
      if (!named.empty() && message.find("'" + named + "'") != std::string::npos) parameter = "overrides";
    }
  }
  return Status::InvalidArgument(std::string(job_type) + " config: " + message,
                                 Json{{"job_type", job_type}, {"parameter", parameter}});
}

}  // namespace

Status EngineJobCheck::Check(std::string_view job_type, const Json& params) const {
  if (!params.is_object() || !params.contains("config_path") || !params["config_path"].is_string()) {
    return Status::Ok();  // the catalog judges the params themselves
  }
  if (job_type == "train") {
    const Status st =
        engine::CheckTrainRequest(ws_, engine::TrainRequest{params["config_path"].get<std::string>(), Overrides(params)});
    return st.ok() ? st : Refused(ws_, job_type, params, st);
  }
  if (job_type == "backtest") {
    engine::ModelCache models(ws_);
    auto run = engine::PrepareBacktest(ws_, engine::FlagsFromJobParams(params), models);
    if (!run.ok()) return Refused(ws_, job_type, params, run.status());
    auto dataset = engine::ResolveDataset(ws_, run->spec.dataset);
    if (!dataset.ok()) return Refused(ws_, job_type, params, dataset.status());
  }
  return Status::Ok();
}

}  // namespace alphalab

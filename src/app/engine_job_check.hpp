// EngineJobCheck: the built-in engine job types judged at submit (jobs/job_submit_check.hpp).
// A `train` or `backtest` job whose config cannot run is a 400 naming the problem, before
// anything is written or queued, instead of a job that starts and fails: the config file,
// its overrides, every key and value (e.g. model.params.num_round out of range), the dataset,
// a finetune's base run, a backtest's model file. Exactly the checks the commands make before
// they read any data (engine::CheckTrainRequest, engine::PrepareBacktest), so submit and run
// never disagree. Types it does not know pass.
#pragma once

#include "core/workspace.hpp"
#include "jobs/job_submit_check.hpp"

namespace alphalab {

class EngineJobCheck final : public JobSubmitCheck {
 public:
  explicit EngineJobCheck(const Workspace& ws) : ws_(ws) {}
  Status Check(std::string_view job_type, const Json& params) const override;

 private:
  const Workspace& ws_;
};

}  // namespace alphalab

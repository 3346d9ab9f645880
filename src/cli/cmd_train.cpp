// `alphalab train --config configs/base.yaml [--set k=v]... [--workspace DIR]`
// Trains XGBoost model(s) and writes runs/<run_id>/ (engine/model/trainer.hpp).
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/clock.hpp"
#include "core/job_result.hpp"
#include "core/message_paths.hpp"
#include "core/workspace.hpp"
#include "engine/model/trainer.hpp"

namespace alphalab::cli {
namespace {

struct TrainOptions {
  std::string workspace = ".";
  std::string config;
  std::vector<std::string> overrides;
};

int RunTrain(const TrainOptions& o) {
  auto ws = Workspace::Open(o.workspace);
  if (!ws.ok()) {
    std::cerr << "error: " << ws.status().message() << std::endl;
    return 2;
  }
  auto outcome = engine::RunTraining(*ws, engine::TrainRequest{o.config, o.overrides}, SystemClock::Instance(),
                                     std::cout);
  if (!outcome.ok()) {
    // Workspace-relative paths: this line ends up in the job's error message.
    std::cerr << "error: " << WithoutRoot(outcome.status().message(), ws->root()) << std::endl;
    return outcome.status().IsInvalidArgument() || outcome.status().IsNotFound() ? 2 : 1;
  }
  if (const std::string job_id = JobIdFromEnvironment(); !job_id.empty()) {
    std::map<std::string, double> headline;
    for (const auto& [k, v] : outcome->metrics.items()) {
      if (v.is_number() && std::isfinite(v.get<double>())) headline[k] = v.get<double>();
    }
    if (auto s = WriteJobResult(ws->root(), JobResult::Run(job_id, outcome->run_id, std::move(headline))); !s.ok()) {
      std::cerr << "error: " << WithoutRoot(s.message(), ws->root()) << std::endl;
      return 1;
    }
  }
  errno = 0;
  std::cout << "run_id: " << outcome->run_id << "\n"
            << "run_dir: runs/" << outcome->run_id << std::endl;
  if (!std::cout) {
    // The run was written but the log (stdout) could not take its id, e.g. a full disk: a job
    // that cannot report its run has failed.
    const int err = errno;
    std::cerr << "error: wrote runs/" << outcome->run_id << " but could not print its id: "
              << (err != 0 ? std::strerror(err) : "write error") << std::endl;
    return 1;
  }
  return 0;
}

void SetupTrainCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand("train", "train XGBoost model(s) from a YAML config into runs/<run_id>/");
  cmd->add_option("--config", options->config, "training config (YAML), inside the workspace")->required();
  cmd->add_option("--set", options->overrides, "override a dotted key: --set label.horizon_days=10 (repeatable)");
  cmd->add_option("--workspace", options->workspace, "workspace directory (default: .)");
  cmd->callback([options, &exit_code] { exit_code = RunTrain(*options); });
}

}  // namespace

ALPHALAB_REGISTER_COMMAND(30, SetupTrainCommand);

}  // namespace alphalab::cli

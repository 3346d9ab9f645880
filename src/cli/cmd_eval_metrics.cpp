// `alphalab eval-metrics --run-dir runs/<id> [--mode base|finetune] [--model PATH] [--workspace DIR]`
// Recomputes a run's test metrics from its saved model(s) (engine/model/evaluate.hpp).
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "core/clock.hpp"
#include "core/job_result.hpp"
#include "core/workspace.hpp"
#include "engine/model/evaluate.hpp"

namespace alphalab::cli {
namespace {

struct EvalOptions {
  std::string workspace = ".";
  std::string run_dir;
  std::string mode;
  std::string model;
};

int RunEval(const EvalOptions& o) {
  auto ws = Workspace::Open(o.workspace);
  if (!ws.ok()) {
    std::cerr << "error: " << ws.status().message() << std::endl;
    return 2;
  }
  engine::EvalRequest request;
  request.run_dir = o.run_dir;
  if (!o.mode.empty()) request.mode = o.mode;
  if (!o.model.empty()) request.model_path = o.model;
  auto outcome = engine::RunEvalMetrics(*ws, request, SystemClock::Instance(), std::cout);
  if (!outcome.ok()) {
    std::cerr << "error: " << outcome.status().message() << std::endl;
    return outcome.status().IsInvalidArgument() || outcome.status().IsNotFound() ? 2 : 1;
  }
  if (const std::string job_id = JobIdFromEnvironment(); !job_id.empty()) {
    std::map<std::string, double> headline;
    for (const auto& [k, v] : outcome->metrics.items()) {
      if (v.is_number() && std::isfinite(v.get<double>())) headline[k] = v.get<double>();
    }
    const JobResult r = JobResult::Evaluation(job_id, outcome->run_id, ws->Relative(outcome->output), std::move(headline));
    if (auto s = WriteJobResult(ws->root(), r); !s.ok()) {
      std::cerr << "error: " << s.message() << std::endl;
      return 1;
    }
  }
  std::cout << "run_id: " << outcome->run_id << "\n"
            << "metrics_path: " << ws->Relative(outcome->output) << std::endl;
  return 0;
}

void SetupEvalMetricsCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval-metrics", "recompute a training run's test metrics from its saved model");
  cmd->add_option("--run-dir", options->run_dir, "run folder, e.g. runs/run_20260101_000000__abcd1234")->required();
  cmd->add_option("--mode", options->mode, "base | finetune (default: the run's mode)");
  cmd->add_option("--model", options->model, "evaluate this model file for every ticker instead of the run's");
  cmd->add_option("--workspace", options->workspace, "workspace directory (default: .)");
  cmd->callback([options, &exit_code] { exit_code = RunEval(*options); });
}

}  // namespace

ALPHALAB_REGISTER_COMMAND(32, SetupEvalMetricsCommand);

}  // namespace alphalab::cli

// `alphalab eval-metrics`: reload a finished run's model(s) and data, recompute the test
// metrics and write runs/<id>/metrics_eval_<mode>.json (same schema as metrics.json plus
// "evaluated_at", "model_override" and "data_fingerprint_match"; metrics.json itself is
// never rewritten). With unchanged data and models the numbers equal metrics.json exactly:
// training predicted with the saved JSON model reloaded, the same path used here.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"

namespace alphalab::engine {

struct EvalRequest {
  std::string run_dir;                    // "runs/<id>" (workspace-relative or absolute)
  std::optional<std::string> mode;        // base | finetune; default: the run's mode
  std::optional<std::string> model_path;  // one model for every ticker instead of the run's
};

struct EvalOutcome {
  std::string run_id;
  std::filesystem::path output;  // absolute path of metrics_eval_<mode>.json
  Json metrics;
};

Result<EvalOutcome> RunEvalMetrics(const Workspace& ws, const EvalRequest& request, const Clock& clock,
                                   std::ostream& progress);

}  // namespace alphalab::engine

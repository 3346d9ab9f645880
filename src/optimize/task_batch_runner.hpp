// TaskBatchRunner: the seam between the optimization service and the fast path.
//
// The service (optimize/optimization_service.*) runs an optimization's tasks either as
// ordinary jobs through JobService::Submit (one process per task, at most max_inflight at
// once) or, when a TaskBatchRunner accepts the job type and base parameters, through the
// runner: tasks run in batches inside the server (built-in backtests through the engine's
// grid mode, data loaded once, all cores busy). Either way each task is an ordinary job: a
// row in the jobs table whose parent_id is the optimization id, with its log, result file and
// output folder the same as if it had run alone (apart from ids and timestamps).
//
// The composition root picks the concrete runner; tests use a fake.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"
#include "jobs/result_parsers.hpp"
#include "store/job_store.hpp"

namespace alphalab::optimize {

// One task handed to the runner: `params` are the job's full parameters (the optimization's
// base_params with the task's param_space values appended to `overrides` as "key=value"), as
// JobService::Submit would take them.
struct BatchTask {
  int64_t index = 0;
  Json params = Json::object();
};

// How one task ended. `job` is the terminal job record as stored (SUCCESS / FAILED), with
// parent_id set to the optimization id. `result` holds the parsed result file of a SUCCESS
// job (alphalab_summary of backtests/<bt_run_id>/summary.json) or why it could not be read.
struct BatchTaskResult {
  int64_t index = 0;
  JobRecord job;
  Result<ParsedResult> result = Status::Internal("not run");
  std::string result_summary_id;  // bt_run_id of a backtest ("" when there is none)
};

class TaskBatchRunner {
 public:
  virtual ~TaskBatchRunner() = default;

  // True when every task of an optimization with this job type and these base parameters
  // can run through the runner (a built-in backtest, not a dry run). Cheap; no I/O.
  virtual bool Accepts(std::string_view job_type, const Json& base_params) const = 0;

  // Runs `tasks` (in the given order) as jobs of optimization `optimization_id`, calling
  // `on_done` once per task as it ends, in the order of `tasks`, from the calling thread.
  // Before starting each batch it asks `should_stop`; once true, the remaining tasks are
  // not started (no job row is created for them) and are not reported. Returns an error
  // only when the runner itself could not work (the data could not be loaded, ...): then no
  // task after the last reported one was started; a task that fails is reported through
  // `on_done` with a FAILED job, not as an error here.
  virtual Status Run(const std::string& optimization_id, std::optional<std::string> owner_id, const std::string& project,
                     std::span<const BatchTask> tasks,
                     const std::function<void(BatchTaskResult&&)>& on_done,
                     const std::function<bool()>& should_stop) = 0;
};

}  // namespace alphalab::optimize

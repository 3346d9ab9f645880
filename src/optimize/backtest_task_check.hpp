// Creation-time check of a built-in backtest optimization: every param_space key must be a
// config key the backtest knows. The first task's job parameters (base_params with the task's
// overrides) are resolved the way `alphalab backtest` does (config file, --set overrides,
// ParseBacktestSpec), so an unknown key is a 400 before anything exists instead of a sweep
// whose every task fails; so is a value the base sets (its config file or base_params.overrides)
// that the engine refuses, since every task would fail on it. A value a task sets is not judged
// here: it fails its own task when it runs (other tasks of the sweep may be fine).
#pragma once

#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"

namespace alphalab::optimize {

// `job_params`: the normalized backtest parameters of one task (config_path, overrides, ...);
// `task_keys`: the param_space keys. InvalidArgument on `param_space.<key>` for an unknown
// task key, on `base_params.overrides` for an unknown or malformed base override or a refused
// value it sets, on `base_params.config_path` for a refused value of the config file; Ok
// otherwise.
Status CheckBacktestTaskKeys(const Workspace& ws, const Json& job_params, const std::vector<std::string>& task_keys);

}  // namespace alphalab::optimize

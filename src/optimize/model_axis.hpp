// The models dimension of an optimization (docs/optimizations.md, "Models dimension"):
//   {"strategy.params.model_path": {"models": {"project": "p18", "status": "success",
//                                              "ticker": "SYN0001", "mode": "base",
//                                              "min_precision": 0.5, "max_buy_rate": 0.4}}}
// expands to one task per distinct model file of the registry rows the filter keeps: rows are
// deduplicated by model path, so a pooled run (one model.json, one row per ticker) counts once
// and a per-ticker run gives one model per ticker file. The value is the workspace-relative
// model path; the task's model_run_id is the run that wrote it.
#pragma once

#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "optimize/param_space.hpp"
#include "store/registry_store.hpp"

namespace alphalab::optimize {

// Filter keys: project, status (default "success"; "any" keeps every status), ticker, mode
// (strings) and min_<field> / max_<field> (numbers) for every numeric registry field
// (precision, lift, support, ...). An unknown key or a value of the wrong type is a 400 naming
// "<field>.<key>". The models come sorted by path.
Result<std::vector<ModelChoice>> ResolveRegistryModels(RegistryStore& registry, const Json& filter,
                                                       const std::string& field);

// A ModelResolver over the registry (borrowed; must outlive the resolver).
ModelResolver RegistryModelResolver(RegistryStore& registry);

}  // namespace alphalab::optimize

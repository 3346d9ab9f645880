// The `param_space` of an optimization request: one axis per override key.
//
//   {"strategy.params.fast": {"min": 5, "max": 50, "step": 5},   range, max inclusive
//    "strategy.params.slow": [20, 40, 60],                        list of values
//    "strategy.params.cutoff": {"min": 0.4, "max": 0.6},          continuous (random sampler only)
//    "strategy.params.model_path": {"models": {...}}}             models dimension (a registry filter)
//
// Keys follow the `--set` key rule (core/override_key.hpp). Axes are kept in key order
// (byte-wise ascending), which fixes the grid's enumeration order. Every error is an
// InvalidArgument whose message starts with the field ("param_space.<key>.step: ...") and
// whose details carry {"field": "param_space.<key>[.sub]"}.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab::optimize {

enum class AxisKind {
  kList,        // explicit values
  kRange,       // {min, max, step}: a lattice, values materialised
  kContinuous,  // {min, max}: drawn uniformly by the random sampler
  kModels,      // {"models": filter}: one value per registry model, resolved by the service
};

// One model file a models dimension expands to: its workspace-relative path (the task's
// value) and the id of the training run that wrote it.
struct ModelChoice {
  std::string path;
  std::string run_id;
};

struct ParamAxis {
  std::string key;
  AxisKind kind = AxisKind::kList;
  std::vector<Json> values;  // kList / kRange: the lattice values, in order
  double min = 0;            // kContinuous
  double max = 0;
  bool integer = false;      // kContinuous: both bounds are integers -> draws integers in [min, max]
  Json models_filter;        // kModels (and a resolved models axis): the filter as given
  // A models dimension once resolved (ResolveModelAxes): kind becomes kList, `values` the model
  // paths, and this flag stays set so the service passes the value as the job's model_path.
  bool from_models = false;
  std::vector<ModelChoice> models;  // resolved: one per value, same order
};

struct ParamSpace {
  std::vector<ParamAxis> axes;  // sorted by key

  bool HasContinuous() const;
  // Number of lattice points (product of the discrete axes' sizes), saturating at UINT64_MAX.
  // Continuous axes do not count.
  uint64_t LatticeSize() const;
  // The key of the models dimension ("" when there is none; at most one is allowed).
  std::string ModelsKey() const;
  // The run id of a resolved models axis value (nullopt when the key is not the models axis
  // or the value is unknown).
  std::optional<std::string> ModelRunId(const std::string& key, const Json& value) const;
};

// Turns every kModels axis into a list of model paths with `resolve(filter, field)` (field =
// "param_space.<key>.models"). Zero models is a 400 naming the field.
using ModelResolver = std::function<Result<std::vector<ModelChoice>>(const Json& filter, const std::string& field)>;
Status ResolveModelAxes(ParamSpace& space, const ModelResolver& resolve);

// Values of a range, max inclusive: count = floor((max - min) / step + 1e-9) + 1; value i is
// min + i*step, rounded to the decimals of min and step (0.1 steps give 0.3, not
// 0.30000000000000004); integer min/max/step give integers. `max_values` bounds the count
// (checked before anything is materialised).
Result<std::vector<Json>> ExpandRange(const Json& min, const Json& max, const Json& step,
                                      const std::string& field, uint64_t max_values);

// `max_values_per_axis` bounds each range (the request's task maximum).
Result<ParamSpace> ParseParamSpace(const Json& j, uint64_t max_values_per_axis);

// The InvalidArgument every request-validation error uses: message "<field>: <why>",
// details {"field": field}.
Status FieldError(const std::string& field, const std::string& why);

}  // namespace alphalab::optimize

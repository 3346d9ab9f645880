// Samplers: turn a ParamSpace into the list of task parameter sets, each with its index.
//
//   grid    the Cartesian product of the discrete axes, in key order with the LAST key
//           varying fastest (nested loops); index = position among the new tasks.
//   random  {"n": N, "seed": S}: N distinct lattice points drawn without replacement
//           (a sparse Fisher-Yates shuffle of the lattice positions), continuous axes drawn
//           uniformly; SplitMix64 with seed S, so a seed gives the same tasks on every
//           platform and library.
//
// Extension: given the param sets of existing tasks, only combinations not among them are
// produced and their indices continue at `first_index`. A grid extended with a wider axis
// adds exactly the new lattice points; a random sampler asked again with the same seed
// continues its sequence past the points it already drew.
//
// The task maximum is checked against (existing + new) before anything is materialised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "optimize/param_space.hpp"

namespace alphalab::optimize {

inline constexpr uint64_t kDefaultMaxTasks = 1'000'000;

enum class SamplerType { kGrid, kRandom };

struct SamplerSpec {
  SamplerType type = SamplerType::kGrid;
  uint64_t n = 0;     // random: samples to draw
  uint64_t seed = 0;  // random
};

// "grid", {"type": "grid"} or {"type": "random", "n": N, "seed": S} (seed defaults to 0);
// errors name "sampler.<field>".
Result<SamplerSpec> ParseSampler(const Json& j);
Json SamplerToJson(const SamplerSpec& s);

// SplitMix64 (Steele, Lea, Flood 2014): 64-bit state, pure integer arithmetic.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  uint64_t Below(uint64_t bound);  // uniform in [0, bound), bound > 0 (rejection, no modulo bias)
  double Unit();                   // uniform in [0, 1) with 53 random bits

 private:
  uint64_t state_;
};

// Canonical text of a parameter set (numbers compared by value: 5 and 5.0 are the same).
std::string CanonicalParamsKey(const Json& params);

struct TaskParams {
  int64_t index = 0;
  Json params;  // {"override.key": value, ...}
};

struct ExpandOptions {
  uint64_t max_tasks = kDefaultMaxTasks;  // bound on existing + new
  std::vector<Json> existing;             // param sets of tasks already enumerated
  int64_t first_index = 0;                // index of the first new task
};

// How many tasks Expand would add (no materialisation); errors name the field.
Result<uint64_t> CountNewTasks(const ParamSpace& space, const SamplerSpec& sampler, const ExpandOptions& options);

Result<std::vector<TaskParams>> Expand(const ParamSpace& space, const SamplerSpec& sampler,
                                       const ExpandOptions& options);

}  // namespace alphalab::optimize

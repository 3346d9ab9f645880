// The estimate returned when an optimization is created: tasks x median task time / slots.
// The durations come from the last ended tasks of the same job type ("history"), or, when
// there is none, from one calibration task the caller runs ("calibration"). Never 0: a
// median below 1 ms counts as 1 ms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace alphalab::optimize {

inline constexpr double kMinTaskSeconds = 0.001;

struct Estimate {
  uint64_t tasks = 0;
  int64_t slots = 1;              // tasks running at once: min(max_inflight, executor slots)
  double median_task_seconds = 0;
  double seconds = 0;             // tasks * median_task_seconds / slots
  std::string basis;              // "history" | "calibration"
  size_t samples = 0;             // durations the median was taken over

  Json ToJson() const;  // {tasks, slots, median_task_seconds, seconds, basis, samples}
};

// nullopt when no usable duration is given (negative and non-finite ones are dropped):
// the caller runs a calibration task and calls again with its duration.
std::optional<Estimate> EstimateDuration(uint64_t tasks, std::vector<double> durations, int64_t slots,
                                         std::string basis);

}  // namespace alphalab::optimize

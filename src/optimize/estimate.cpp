#include "optimize/estimate.hpp"

#include <algorithm>
#include <cmath>

namespace alphalab::optimize {

Json Estimate::ToJson() const {
  return Json{{"tasks", tasks},   {"slots", slots}, {"median_task_seconds", median_task_seconds},
              {"seconds", seconds}, {"basis", basis}, {"samples", samples}};
}

std::optional<Estimate> EstimateDuration(uint64_t tasks, std::vector<double> durations, int64_t slots,
                                         std::string basis) {
  durations.erase(std::remove_if(durations.begin(), durations.end(),
                                 [](double d) { return !std::isfinite(d) || d < 0; }),
                  durations.end());
  if (durations.empty()) return std::nullopt;
  std::sort(durations.begin(), durations.end());
  const size_t n = durations.size();
  const double median = n % 2 ? durations[n / 2] : (durations[n / 2 - 1] + durations[n / 2]) / 2.0;
  Estimate e;
  e.tasks = tasks;
  e.slots = std::max<int64_t>(1, slots);
  e.median_task_seconds = std::max(median, kMinTaskSeconds);
  e.seconds = static_cast<double>(std::max<uint64_t>(tasks, 1)) * e.median_task_seconds / static_cast<double>(e.slots);
  e.basis = std::move(basis);
  e.samples = n;
  return e;
}

}  // namespace alphalab::optimize

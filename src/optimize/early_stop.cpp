#include "optimize/early_stop.hpp"

#include <cmath>
#include <string>

#include "optimize/param_space.hpp"

namespace alphalab::optimize {

Result<EarlyStopPolicy> ParseEarlyStopPolicy(const Json& j, Direction objective_direction) {
  EarlyStopPolicy p;
  p.mode = objective_direction;
  if (j.is_null()) return p;
  const std::string root = "early_stop_policy";
  if (!j.is_object()) return FieldError(root, std::string("must be an object, got ") + j.type_name());
  for (const auto& [k, _] : j.items()) {
    if (k != "mode" && k != "patience" && k != "min_tasks" && k != "target") {
      return FieldError(root + "." + k, "unknown field (mode, patience, min_tasks, target)");
    }
  }
  if (j.contains("mode") && !j["mode"].is_null()) {
    const Json& m = j["mode"];
    auto mode = m.is_string() ? ParseDirection(m.get<std::string>()) : std::nullopt;
    if (!mode) return FieldError(root + ".mode", "must be \"max\" or \"min\"");
    if (*mode != objective_direction) {
      return FieldError(root + ".mode", "is '" + std::string(DirectionName(*mode)) +
                                            "' but the objective direction is '" +
                                            std::string(DirectionName(objective_direction)) + "'");
    }
    p.mode = *mode;
  }
  if (j.contains("patience") && !j["patience"].is_null()) {
    if (!j["patience"].is_number_integer() || j["patience"].get<int64_t>() < 1) {
      return FieldError(root + ".patience", "must be an integer >= 1 (or null for no patience rule)");
    }
    p.patience = j["patience"].get<int64_t>();
  }
  if (j.contains("min_tasks") && !j["min_tasks"].is_null()) {
    if (!j["min_tasks"].is_number_integer() || j["min_tasks"].get<int64_t>() < 0) {
      return FieldError(root + ".min_tasks", "must be an integer >= 0");
    }
    p.min_tasks = j["min_tasks"].get<int64_t>();
  }
  if (j.contains("target") && !j["target"].is_null()) {
    if (!j["target"].is_number()) return FieldError(root + ".target", "must be a number or null");
    p.target = j["target"].get<double>();
  }
  return p;
}

Json EarlyStopPolicyToJson(const EarlyStopPolicy& p) {
  return Json{{"mode", std::string(DirectionName(p.mode))},
              {"patience", p.patience ? Json(*p.patience) : Json(nullptr)},
              {"min_tasks", p.min_tasks},
              {"target", p.target ? Json(*p.target) : Json(nullptr)}};
}

std::string_view StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kNone: return "none";
    case StopReason::kPatience: return "patience";
    case StopReason::kTarget: return "target";
  }
  return "none";
}

StopReason EarlyStopTracker::OnTaskFinished(std::optional<double> score) {
  if (stopped_ != StopReason::kNone) return stopped_;
  ++finished_;
  if (score && policy_.target && Reaches(policy_.mode, *score, *policy_.target)) target_hit_ = true;
  if (score && (!best_ || Better(policy_.mode, *score, *best_))) {
    best_ = score;
    since_improvement_ = 0;
  } else {
    ++since_improvement_;
  }
  if (finished_ < policy_.min_tasks) return StopReason::kNone;
  if (target_hit_) {
    stopped_ = StopReason::kTarget;
  } else if (policy_.patience && since_improvement_ >= *policy_.patience) {
    stopped_ = StopReason::kPatience;
  }
  return stopped_;
}

}  // namespace alphalab::optimize

namespace alphalab::optimize {

void EarlyStopTracker::Restart() {
  finished_ = 0;
  since_improvement_ = 0;
  stopped_ = StopReason::kNone;
  target_hit_ = false;
}

}  // namespace alphalab::optimize

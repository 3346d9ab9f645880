#include "optimize/request.hpp"

#include <array>
#include <cctype>

#include "core/ids.hpp"

namespace alphalab::optimize {

namespace {

constexpr std::array<std::string_view, 13> kFields = {
    "name",          "project",           "job_type",     "base_params", "param_space",
    "sampler",       "objective",         "constraints",  "early_stop_policy",
    "max_inflight",  "top_n",             "validation",   "source_job_id"};

const Json* Find(const Json& doc, std::string_view key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> OptionalString(const Json& doc, const std::string& field, size_t max_len) {
  const Json* v = Find(doc, field);
  if (!v) return std::string();
  if (!v->is_string()) return FieldError(field, std::string("must be a string, got ") + v->type_name());
  std::string s = v->get<std::string>();
  if (s.size() > max_len) return FieldError(field, "is longer than " + std::to_string(max_len) + " characters");
  return s;
}

Result<std::optional<int64_t>> OptionalPositiveInt(const Json& doc, const std::string& field, int64_t max) {
  const Json* v = Find(doc, field);
  if (!v) return std::optional<int64_t>();
  if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > max) {
    return FieldError(field, "must be an integer from 1 to " + std::to_string(max));
  }
  return std::optional<int64_t>(v->get<int64_t>());
}

}  // namespace

bool IsIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  const int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  const int m = (s[5] - '0') * 10 + (s[6] - '0');
  const int d = (s[8] - '0') * 10 + (s[9] - '0');
  if (m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

Result<OptimizationRequest> ParseOptimizationRequest(const Json& doc, const RequestLimits& limits) {
  if (!doc.is_object()) return FieldError("request", std::string("must be a JSON object, got ") + doc.type_name());
  for (const auto& [key, _] : doc.items()) {
    bool known = false;
    for (auto f : kFields) known = known || f == key;
    if (!known) return FieldError(key, "unknown field");
  }
  OptimizationRequest r;
  ASSIGN_OR_RETURN(r.name, OptionalString(doc, "name", 200));
  ASSIGN_OR_RETURN(r.project, OptionalString(doc, "project", 128));
  if (!r.project.empty() && !IsSafeIdentifier(r.project)) {
    return FieldError("project", "may only hold letters, digits, '_', '.' and '-'");
  }

  ASSIGN_OR_RETURN(r.job_type, OptionalString(doc, "job_type", 128));
  if (r.job_type.empty()) return FieldError("job_type", "missing required field");
  if (!IsSafeIdentifier(r.job_type)) return FieldError("job_type", "is not a valid job type name");
  if (limits.known_job_types && !limits.known_job_types->count(r.job_type)) {
    return FieldError("job_type", "unknown job type '" + r.job_type + "'");
  }

  if (const Json* bp = Find(doc, "base_params")) {
    if (!bp->is_object()) return FieldError("base_params", std::string("must be an object, got ") + bp->type_name());
    r.base_params = *bp;
  }

  // objective first: the early-stop mode is checked against its direction
  const Json* obj = Find(doc, "objective");
  if (!obj) return FieldError("objective", "missing required field");
  if (!obj->is_object()) return FieldError("objective", std::string("must be an object, got ") + obj->type_name());
  for (const auto& [k, _] : obj->items()) {
    if (k != "metric" && k != "direction") return FieldError("objective." + k, "unknown field (metric, direction)");
  }
  const Json* metric = Find(*obj, "metric");
  if (!metric || !metric->is_string() || metric->get<std::string>().empty()) {
    return FieldError("objective.metric", "must be a non-empty string (a numeric result field)");
  }
  r.objective.metric = metric->get<std::string>();
  auto metric_known = [&](const std::string& m) {
    if (limits.known_metrics) return limits.known_metrics->count(m) > 0;
    return !limits.is_known_metric || limits.is_known_metric(r.job_type, m);
  };
  if (!metric_known(r.objective.metric)) {
    return FieldError("objective.metric", "unknown metric '" + r.objective.metric + "' for job type '" +
                                              r.job_type + "'");
  }
  if (const Json* dir = Find(*obj, "direction")) {
    auto d = dir->is_string() ? ParseDirection(dir->get<std::string>()) : std::nullopt;
    if (!d) return FieldError("objective.direction", "must be \"max\" or \"min\"");
    r.objective.direction = *d;
  } else {
    return FieldError("objective.direction", "missing required field (\"max\" or \"min\")");
  }

  if (const Json* cs = Find(doc, "constraints")) {
    if (!cs->is_array()) return FieldError("constraints", std::string("must be a list of strings, got ") + cs->type_name());
    for (size_t i = 0; i < cs->size(); ++i) {
      const std::string field = "constraints[" + std::to_string(i) + "]";
      if (!(*cs)[i].is_string()) return FieldError(field, "must be a string like \"max_drawdown <= 0.35\"");
      auto c = ParseConstraint((*cs)[i].get<std::string>());
      if (!c.ok()) return FieldError(field, c.status().message());
      if (!metric_known(c->metric)) {
        return FieldError(field, "unknown metric '" + c->metric + "' for job type '" + r.job_type + "'");
      }
      r.constraints.push_back(std::move(*c));
    }
  }

  ASSIGN_OR_RETURN(r.early_stop, ParseEarlyStopPolicy(doc.value("early_stop_policy", Json()), r.objective.direction));
  ASSIGN_OR_RETURN(r.max_inflight, OptionalPositiveInt(doc, "max_inflight", limits.max_inflight));
  ASSIGN_OR_RETURN(auto top_n, OptionalPositiveInt(doc, "top_n", limits.max_top_n));
  if (top_n) r.top_n = *top_n;

  if (const Json* v = Find(doc, "validation")) {
    if (!v->is_object()) return FieldError("validation", std::string("must be an object, got ") + v->type_name());
    for (const auto& [k, _] : v->items()) {
      if (k != "holdout_start") return FieldError("validation." + k, "unknown field (holdout_start)");
    }
    if (const Json* h = Find(*v, "holdout_start")) {
      if (!h->is_string() || !IsIsoDate(h->get<std::string>())) {
        return FieldError("validation.holdout_start", "must be a date YYYY-MM-DD");
      }
      r.holdout_start = h->get<std::string>();
    }
  }

  if (const Json* s = Find(doc, "source_job_id")) {
    if (!s->is_string() || s->get<std::string>().rfind("opt_", 0) != 0 || !IsSafeIdentifier(s->get<std::string>())) {
      return FieldError("source_job_id", "must be an optimization id (opt_...)");
    }
    r.source_job_id = s->get<std::string>();
  }

  ASSIGN_OR_RETURN(r.sampler, ParseSampler(doc.value("sampler", Json())));
  const Json* ps = Find(doc, "param_space");
  if (!ps) return FieldError("param_space", "missing required field");
  ASSIGN_OR_RETURN(r.param_space, ParseParamSpace(*ps, limits.max_tasks));
  r.param_space_json = *ps;
  // A models dimension: one per request, backtests only; resolved here to model paths.
  int models_axes = 0;
  bool unresolved = false;
  for (const auto& axis : r.param_space.axes) {
    if (axis.kind != AxisKind::kModels) continue;
    const std::string field = "param_space." + axis.key + ".models";
    if (++models_axes > 1) return FieldError(field, "only one models dimension is allowed per optimization");
    if (r.job_type != "backtest") {
      return FieldError(field, "a models dimension backtests models: job_type must be 'backtest'");
    }
  }
  if (models_axes > 0) {
    if (limits.resolve_models) {
      RETURN_IF_ERROR(ResolveModelAxes(r.param_space, limits.resolve_models));
    } else if (limits.allow_unresolved_models) {
      unresolved = true;
    } else {
      return FieldError("param_space." + r.param_space.ModelsKey() + ".models",
                        "the models dimension needs the model registry, which is not available here");
    }
  }
  if (unresolved) return r;  // a stored request: its tasks exist already
  ExpandOptions count_options;
  count_options.max_tasks = limits.max_tasks;
  ASSIGN_OR_RETURN(r.task_count, CountNewTasks(r.param_space, r.sampler, count_options));
  return r;
}

Json OptimizationRequest::ToJson() const {
  Json constraints_json = Json::array();
  for (const auto& c : constraints) constraints_json.push_back(c.text);
  return Json{{"name", name},
              {"project", project},
              {"job_type", job_type},
              {"base_params", base_params},
              {"param_space", param_space_json},
              {"sampler", SamplerToJson(sampler)},
              {"objective", Json{{"metric", objective.metric}, {"direction", std::string(DirectionName(objective.direction))}}},
              {"constraints", std::move(constraints_json)},
              {"early_stop_policy", EarlyStopPolicyToJson(early_stop)},
              {"max_inflight", max_inflight ? Json(*max_inflight) : Json(nullptr)},
              {"top_n", top_n},
              {"validation", holdout_start ? Json{{"holdout_start", *holdout_start}} : Json(nullptr)},
              {"source_job_id", source_job_id ? Json(*source_job_id) : Json(nullptr)}};
}

bool IsRerunRequest(const Json& doc) { return doc.is_object() && Find(doc, "source_job_id") != nullptr; }

Result<Json> MergeRerunRequest(const Json& source_document, const Json& overrides) {
  if (!overrides.is_object()) {
    return FieldError("request", std::string("must be a JSON object, got ") + overrides.type_name());
  }
  const Json* id = Find(overrides, "source_job_id");
  if (!id || !id->is_string()) return FieldError("source_job_id", "must be an optimization id (opt_...)");
  if (!source_document.is_object()) {
    return Status::Internal("the stored request of " + id->get<std::string>() + " is not a JSON object");
  }
  Json merged = source_document;
  for (const auto& [key, value] : overrides.items()) {
    if (value.is_null()) continue;
    merged[key] = value;
  }
  merged["source_job_id"] = *id;
  return merged;
}

}  // namespace alphalab::optimize

#include "optimize/param_space.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <system_error>

#include "core/override_key.hpp"

namespace alphalab::optimize {

namespace {

// Decimal places in the shortest round-trip form of `v` ("0.1" -> 1, "1e-05" -> 5, "5" -> 0).
int DecimalPlaces(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return 17;
  std::string_view s(buf, static_cast<size_t>(end - buf));
  int exponent = 0;
  if (auto e = s.find_first_of("eE"); e != std::string_view::npos) {
    std::from_chars(s.data() + e + 1 + (s[e + 1] == '+' ? 1 : 0), s.data() + s.size(), exponent);
    s = s.substr(0, e);
  }
  int decimals = 0;
  if (auto dot = s.find('.'); dot != std::string_view::npos) decimals = static_cast<int>(s.size() - dot - 1);
  return std::max(0, decimals - exponent);
}

double RoundTo(double v, int decimals) {
  if (decimals > 15) return v;
  const double scale = std::pow(10.0, decimals);
  const double r = std::round(v * scale) / scale;
  return std::isfinite(r) ? r : v;
}

bool IsValue(const Json& v) {
  if (v.is_object() || v.is_discarded() || v.is_binary()) return false;
  if (v.is_array()) {
    for (const auto& e : v) {
      if (!IsValue(e) || e.is_array()) return false;
    }
  }
  return true;
}

}  // namespace

Status FieldError(const std::string& field, const std::string& why) {
  return Status::InvalidArgument(field + ": " + why, Json{{"field", field}});
}

bool ParamSpace::HasContinuous() const {
  for (const auto& a : axes) {
    if (a.kind == AxisKind::kContinuous) return true;
  }
  return false;
}

uint64_t ParamSpace::LatticeSize() const {
  uint64_t n = 1;
  for (const auto& a : axes) {
    if (a.kind != AxisKind::kList && a.kind != AxisKind::kRange) continue;
    const uint64_t k = a.values.size();
    if (k != 0 && n > std::numeric_limits<uint64_t>::max() / k) return std::numeric_limits<uint64_t>::max();
    n *= k;
  }
  return n;
}

std::string ParamSpace::ModelsKey() const {
  for (const auto& a : axes) {
    if (a.kind == AxisKind::kModels || a.from_models) return a.key;
  }
  return "";
}

std::optional<std::string> ParamSpace::ModelRunId(const std::string& key, const Json& value) const {
  if (!value.is_string()) return std::nullopt;
  for (const auto& a : axes) {
    if (a.key != key || !a.from_models) continue;
    for (const auto& m : a.models) {
      if (m.path == value.get_ref<const std::string&>()) return m.run_id;
    }
  }
  return std::nullopt;
}

Status ResolveModelAxes(ParamSpace& space, const ModelResolver& resolve) {
  for (auto& a : space.axes) {
    if (a.kind != AxisKind::kModels) continue;
    const std::string field = "param_space." + a.key + ".models";
    ASSIGN_OR_RETURN(std::vector<ModelChoice> models, resolve(a.models_filter, field));
    if (models.empty()) return FieldError(field, "no trained model matches the filter " + a.models_filter.dump());
    a.kind = AxisKind::kList;
    a.from_models = true;
    a.values.clear();
    for (const auto& m : models) a.values.emplace_back(m.path);
    a.models = std::move(models);
  }
  return Status::Ok();
}

Result<std::vector<Json>> ExpandRange(const Json& min, const Json& max, const Json& step,
                                      const std::string& field, uint64_t max_values) {
  for (const auto& [name, v] : {std::pair<const char*, const Json*>{"min", &min}, {"max", &max}, {"step", &step}}) {
    if (!v->is_number()) {
      return FieldError(field + "." + name, std::string("must be a number, got ") + v->type_name());
    }
  }
  const double lo = min.get<double>();
  const double hi = max.get<double>();
  const double st = step.get<double>();
  if (!(st > 0)) return FieldError(field + ".step", "must be greater than 0");
  if (lo > hi) return FieldError(field, "min must not be greater than max");
  const double span = (hi - lo) / st + 1e-9;
  if (!std::isfinite(span) || span >= static_cast<double>(max_values)) {
    return FieldError(field, "the range has more than " + std::to_string(max_values) + " values");
  }
  const uint64_t count = static_cast<uint64_t>(std::floor(span)) + 1;
  const bool integers = min.is_number_integer() && max.is_number_integer() && step.is_number_integer();
  std::vector<Json> out;
  out.reserve(count);
  if (integers) {
    // unsigned arithmetic wraps instead of overflowing; every value lies in [min, max]
    const auto a = static_cast<uint64_t>(min.get<int64_t>());
    const auto s = static_cast<uint64_t>(step.get<int64_t>());
    for (uint64_t i = 0; i < count; ++i) out.emplace_back(static_cast<int64_t>(a + i * s));
    return out;
  }
  const int decimals = std::max(DecimalPlaces(lo), DecimalPlaces(st));
  for (uint64_t i = 0; i < count; ++i) {
    double v = RoundTo(lo + static_cast<double>(i) * st, decimals);
    if (v > hi) v = hi;  // the last value never passes max through rounding
    out.emplace_back(v);
  }
  return out;
}

Result<ParamSpace> ParseParamSpace(const Json& j, uint64_t max_values_per_axis) {
  const std::string root = "param_space";
  if (!j.is_object()) return FieldError(root, std::string("must be an object, got ") + j.type_name());
  if (j.empty()) return FieldError(root, "must name at least one parameter");
  ParamSpace space;
  for (const auto& [key, spec] : j.items()) {  // nlohmann objects iterate in key order
    const std::string field = root + "." + key;
    if (auto st = ValidateOverrideKey(key); !st.ok()) return FieldError(field, st.message());
    ParamAxis axis;
    axis.key = key;
    if (spec.is_array()) {
      if (spec.empty()) return FieldError(field, "the list of values is empty");
      std::set<std::string> seen;
      for (size_t i = 0; i < spec.size(); ++i) {
        const Json& v = spec[i];
        if (!IsValue(v)) {
          return FieldError(field + "[" + std::to_string(i) + "]",
                            "a value must be a number, string, boolean, null or a flat list");
        }
        if (!seen.insert(v.dump()).second) {
          return FieldError(field + "[" + std::to_string(i) + "]", "duplicate value " + v.dump());
        }
      }
      axis.kind = AxisKind::kList;
      axis.values = spec.get<std::vector<Json>>();
    } else if (spec.is_object()) {
      if (spec.contains("models")) {
        if (spec.size() != 1) return FieldError(field, "a models dimension takes only the 'models' field");
        if (!spec["models"].is_object()) return FieldError(field + ".models", "must be an object (a model filter)");
        axis.kind = AxisKind::kModels;
        axis.models_filter = spec["models"];
        space.axes.push_back(std::move(axis));
        continue;
      }
      for (const auto& [name, _] : spec.items()) {
        if (name != "min" && name != "max" && name != "step") {
          return FieldError(field + "." + name, "unknown field (a range takes min, max and step)");
        }
      }
      if (!spec.contains("min")) return FieldError(field + ".min", "missing required field");
      if (!spec.contains("max")) return FieldError(field + ".max", "missing required field");
      if (spec.contains("step") && !spec["step"].is_null()) {
        ASSIGN_OR_RETURN(axis.values, ExpandRange(spec["min"], spec["max"], spec["step"], field, max_values_per_axis));
        axis.kind = AxisKind::kRange;
      } else {
        for (const char* name : {"min", "max"}) {
          if (!spec[name].is_number()) {
            return FieldError(field + "." + name, std::string("must be a number, got ") + spec[name].type_name());
          }
        }
        axis.kind = AxisKind::kContinuous;
        axis.min = spec["min"].get<double>();
        axis.max = spec["max"].get<double>();
        axis.integer = spec["min"].is_number_integer() && spec["max"].is_number_integer();
        if (axis.min > axis.max) return FieldError(field, "min must not be greater than max");
      }
    } else {
      return FieldError(field, std::string("must be a list of values or a {min, max[, step]} range, got ") +
                                   spec.type_name());
    }
    space.axes.push_back(std::move(axis));
  }
  return space;
}

}  // namespace alphalab::optimize

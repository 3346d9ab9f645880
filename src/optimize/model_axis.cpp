#include "optimize/model_axis.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace alphalab::optimize {

namespace {

struct Bound {
  RegistryField field;
  bool is_min;
  double value;
};

}  // namespace

Result<std::vector<ModelChoice>> ResolveRegistryModels(RegistryStore& registry, const Json& filter,
                                                       const std::string& field) {
  if (!filter.is_object()) return FieldError(field, "must be an object (a model filter)");
  std::optional<std::string> project, ticker, mode;
  std::string status = "success";
  std::vector<Bound> bounds;
  for (const auto& [key, value] : filter.items()) {
    const std::string f = field + "." + key;
    if (key == "project" || key == "status" || key == "ticker" || key == "mode") {
      if (!value.is_string() || value.get<std::string>().empty()) return FieldError(f, "must be a non-empty string");
      const std::string v = value.get<std::string>();
      if (key == "project") project = v;
      if (key == "status") status = v;
      if (key == "ticker") ticker = v;
      if (key == "mode") mode = v;
      continue;
    }
    const bool is_min = key.rfind("min_", 0) == 0;
    const bool is_max = key.rfind("max_", 0) == 0;
    const auto metric = (is_min || is_max) ? ParseRegistryField(std::string_view(key).substr(4)) : std::nullopt;
    if (!metric) {
      std::string allowed = "project, status, ticker, mode, min_<metric>, max_<metric> with metric one of ";
      bool first = true;
      for (const auto& info : kRegistryNumericFields) {
        allowed += (first ? "" : ", ") + std::string(info.name);
        first = false;
      }
      return FieldError(f, "unknown model filter key (" + allowed + ")");
    }
    if (!value.is_number()) return FieldError(f, std::string("must be a number, got ") + value.type_name());
    bounds.push_back({*metric, is_min, value.get<double>()});
  }
  // path -> run id; the first row of a path names its run (a path lives in one run folder).
  std::map<std::string, std::string> models;
  Status st = registry.ScanModels([&](const RegistryRow& row) -> Status {
    if (row.model_final_path.empty()) return Status::Ok();
    if (project && row.project != *project) return Status::Ok();
    if (status != "any" && row.status != status) return Status::Ok();
    if (ticker && row.ticker != *ticker) return Status::Ok();
    if (mode && row.mode != *mode) return Status::Ok();
    for (const Bound& b : bounds) {
      const auto v = NumericValue(row, b.field);
      if (!v || (b.is_min ? *v < b.value : *v > b.value)) return Status::Ok();
    }
    models.emplace(row.model_final_path, row.run_id);
    return Status::Ok();
  });
  RETURN_IF_ERROR(st);
  std::vector<ModelChoice> out;
  out.reserve(models.size());
  for (auto& [path, run] : models) out.push_back(ModelChoice{path, run});
  return out;
}

ModelResolver RegistryModelResolver(RegistryStore& registry) {
  return [&registry](const Json& filter, const std::string& field) {
    return ResolveRegistryModels(registry, filter, field);
  };
}

}  // namespace alphalab::optimize

#include "optimize/backtest_task_check.hpp"

#include <string_view>

#include "engine/backtest/spec.hpp"
#include "engine/data/config.hpp"
#include "optimize/param_space.hpp"

namespace alphalab::optimize {

namespace {

constexpr std::string_view kUnknownKey = "unknown config key '";

// The key an "unknown config key 'a.b.c' (allowed: ...)" message names, or "".
std::string UnknownKeyOf(const std::string& message) {
  if (message.rfind(kUnknownKey, 0) != 0) return "";
  const size_t end = message.find('\'', kUnknownKey.size());
  return end == std::string::npos ? "" : message.substr(kUnknownKey.size(), end - kUnknownKey.size());
}

}  // namespace

Status CheckBacktestTaskKeys(const Workspace& ws, const Json& job_params, const std::vector<std::string>& task_keys) {
  if (!job_params.is_object() || !job_params.contains("config_path") || !job_params["config_path"].is_string()) {
    return Status::Ok();  // the job catalog reports it
  }
  auto path = ws.Resolve(job_params["config_path"].get<std::string>(), PathMust::kExist);
  if (!path.ok()) return Status::Ok();  // the job catalog reports it
  auto config = engine::LoadYamlConfig(*path);
  if (!config.ok()) return FieldError("base_params.config_path", config.status().message());
  std::vector<std::string> overrides;
  if (job_params.contains("overrides") && job_params["overrides"].is_array()) {
    for (const Json& o : job_params["overrides"]) {
      if (o.is_string()) overrides.push_back(o.get<std::string>());
    }
  }
  for (const std::string& o : overrides) {
    auto parsed = engine::ParseOverride(o);
    Status st = parsed.ok() ? engine::ApplyOverride(*config, *parsed) : parsed.status();
    if (!st.ok()) {
      const std::string key = o.substr(0, o.find('='));
      for (const std::string& k : task_keys) {
        if (k == key) return FieldError("param_space." + k, st.message());
      }
      return FieldError("base_params.overrides", st.message());
    }
  }
  auto spec = engine::ParseBacktestSpec(*config);
  if (spec.ok()) return Status::Ok();
  const std::string unknown = UnknownKeyOf(spec.status().message());
  if (unknown.empty()) return Status::Ok();  // a value: judged when the task runs
  for (const std::string& k : task_keys) {
    if (k == unknown || k.rfind(unknown + ".", 0) == 0) {
      return FieldError("param_space." + k, "is not a backtest config key: " + spec.status().message());
    }
  }
  return FieldError("base_params.overrides", spec.status().message());
}

}  // namespace alphalab::optimize

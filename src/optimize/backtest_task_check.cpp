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

// The key a value error names: "config key 'a.b' must be ..." -> "a.b"; "" when none.
std::string ConfigKeyOf(const std::string& message) {
  constexpr std::string_view kKey = "config key '";
  const size_t at = message.find(kKey);
  if (at == std::string::npos) return "";
  const size_t from = at + kKey.size(), end = message.find('\'', from);
  return end == std::string::npos ? "" : message.substr(from, end - from);
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
  if (unknown.empty()) {
    // A value. One a task sets is judged when that task runs (other tasks may be fine); one
    // the base sets (its config file or base_params.overrides) would fail every task: a 400.
    // Not judged here when the job's own flags change the config: a model_path (from
    // base_params or a models dimension) makes a topn or signal strategy whole and brings its
    // dataset, tickers and period; tickers, start and end replace the config's.
    if (job_params.contains("model_path")) return Status::Ok();
    const std::string key = ConfigKeyOf(spec.status().message());
    if (key.empty()) return Status::Ok();
    for (const char* flag : {"tickers", "start", "end"}) {
      if (key == flag && job_params.contains(flag)) return Status::Ok();
    }
    for (const std::string& k : task_keys) {
      if (k == key || k.rfind(key + ".", 0) == 0 || key.rfind(k + ".", 0) == 0) return Status::Ok();
    }
    for (const std::string& o : overrides) {
      const std::string set = o.substr(0, o.find('='));
      if (set == key || key.rfind(set + ".", 0) == 0) {
        return FieldError("base_params.overrides", "fails every task: " + spec.status().message());
      }
    }
    return FieldError("base_params.config_path", "fails every task: " + spec.status().message());
  }
  for (const std::string& k : task_keys) {
    if (k == unknown || k.rfind(unknown + ".", 0) == 0) {
      return FieldError("param_space." + k, "is not a backtest config key: " + spec.status().message());
    }
  }
  return FieldError("base_params.overrides", spec.status().message());
}

}  // namespace alphalab::optimize

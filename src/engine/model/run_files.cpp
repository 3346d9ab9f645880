#include "engine/model/run_files.hpp"

#include "core/workspace.hpp"

namespace alphalab::engine {

Json RunManifest::ToJson() const {
  Json j{{"run_id", run_id},
         {"created_at", created_at},
         {"start_time", start_time},
         {"end_time", end_time},
         {"status", status},
         {"project", project},
         {"mode", mode},
         {"scope", scope},
         {"dataset", dataset},
         {"tickers", tickers},
         {"feature_set", feature_set.ToJson()},
         {"models", models},
         {"files", files},
         {"data_fingerprint", data_fingerprint},
         {"alphalab_version", alphalab_version},
         {"config_path", config_path},
         {"resolved_config_path", resolved_config_path}};
  if (!base_run.empty()) j["base_run"] = base_run;
  return j;
}

Result<RunManifest> RunManifest::FromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("manifest.json is not a JSON object");
  RunManifest m;
  ASSIGN_OR_RETURN(m.run_id, GetString(j, "run_id"));
  ASSIGN_OR_RETURN(m.status, GetString(j, "status"));
  ASSIGN_OR_RETURN(m.mode, GetString(j, "mode"));
  ASSIGN_OR_RETURN(m.dataset, GetString(j, "dataset"));
  ASSIGN_OR_RETURN(m.tickers, GetStringList(j, "tickers"));
  auto fs_it = j.find("feature_set");
  if (fs_it == j.end()) return Status::InvalidArgument("manifest.json has no feature_set");
  auto fs = FeatureSet::FromJson(*fs_it);
  if (!fs.ok()) return fs.status().WithContext("manifest.json feature_set");
  m.feature_set = std::move(fs).value();
  auto models = j.find("models");
  if (models == j.end() || !models->is_object()) return Status::InvalidArgument("manifest.json has no models map");
  for (const auto& [ticker, path] : models->items()) {
    if (!path.is_string()) return Status::InvalidArgument("manifest.json models." + ticker + " is not a string");
    m.models[ticker] = path.get<std::string>();
  }
  ASSIGN_OR_RETURN(m.files, GetStringList(j, "files"));
  ASSIGN_OR_RETURN(auto opt, GetOptionalString(j, "created_at"));
  m.created_at = opt.value_or("");
  ASSIGN_OR_RETURN(opt, GetOptionalString(j, "start_time"));
  m.start_time = opt.value_or("");
  ASSIGN_OR_RETURN(opt, GetOptionalString(j, "end_time"));
  m.end_time = opt.value_or("");
  ASSIGN_OR_RETURN(opt, GetOptionalString(j, "project"));
  m.project = opt.value_or("default");
  ASSIGN_OR_RETURN(opt, GetOptionalString(j, "scope"));
  m.scope = opt.value_or("per_ticker");
  ASSIGN_OR_RETURN(opt, GetOptionalString(j, "data_fingerprint"));
  m.data_fingerprint = opt.value_or("");
  ASSIGN_OR_RETURN(opt, GetOptionalString(j, "alphalab_version"));
  m.alphalab_version = opt.value_or("");
  ASSIGN_OR_RETURN(opt, GetOptionalString(j, "config_path"));
  m.config_path = opt.value_or("");
  ASSIGN_OR_RETURN(opt, GetOptionalString(j, "resolved_config_path"));
  m.resolved_config_path = opt.value_or("");
  ASSIGN_OR_RETURN(opt, GetOptionalString(j, "base_run"));
  m.base_run = opt.value_or("");
  return m;
}

Result<RunManifest> ReadRunManifest(const std::filesystem::path& run_dir) {
  const auto path = run_dir / "manifest.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("no manifest.json in " + run_dir.string() + " (not a finished training run)");
  }
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  auto j = ParseJson(text);
  if (!j.ok()) return Status::InvalidArgument(path.string() + " is not valid JSON");
  auto m = RunManifest::FromJson(*j);
  if (!m.ok()) return m.status().WithContext(path.string());
  return m;
}

std::string PerTickerModelFileName(const std::string& ticker) {
  std::string safe = ticker;
  for (char& c : safe) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return "model_" + safe + ".json";
}

}  // namespace alphalab::engine

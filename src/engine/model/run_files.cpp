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
  ASSIGN_OR_RETURN(m.created_at, GetStringOr(j, "created_at", ""));
  ASSIGN_OR_RETURN(m.start_time, GetStringOr(j, "start_time", ""));
  ASSIGN_OR_RETURN(m.end_time, GetStringOr(j, "end_time", ""));
  ASSIGN_OR_RETURN(m.project, GetStringOr(j, "project", "default"));
  ASSIGN_OR_RETURN(m.scope, GetStringOr(j, "scope", "per_ticker"));
  ASSIGN_OR_RETURN(m.data_fingerprint, GetStringOr(j, "data_fingerprint", ""));
  ASSIGN_OR_RETURN(m.alphalab_version, GetStringOr(j, "alphalab_version", ""));
  ASSIGN_OR_RETURN(m.config_path, GetStringOr(j, "config_path", ""));
  ASSIGN_OR_RETURN(m.resolved_config_path, GetStringOr(j, "resolved_config_path", ""));
  ASSIGN_OR_RETURN(m.base_run, GetStringOr(j, "base_run", ""));
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

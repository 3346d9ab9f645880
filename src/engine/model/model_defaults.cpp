#include "engine/model/model_defaults.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "engine/data/config.hpp"
#include "engine/model/run_files.hpp"

namespace alphalab::engine {

std::optional<int32_t> ModelRunInfo::TestStart() const {
  if (!valid_end) return std::nullopt;
  return *valid_end + 1;
}

namespace {

// metrics.json split.<key> as a date; nullopt when the file, the split or the key is absent.
Result<std::optional<int32_t>> SplitDate(const Json& split, const char* key, const std::string& where) {
  auto it = split.find(key);
  if (it == split.end() || it->is_null()) return std::optional<int32_t>();
  if (!it->is_string()) return Status::InvalidArgument(where + ": split." + key + " is not a date string");
  auto d = ParseDate(it->get<std::string>());
  if (!d.ok()) return Status::InvalidArgument(where + ": split." + key + ": " + d.status().message());
  return std::optional<int32_t>(*d);
}

bool RequestSets(const BacktestRequestKeys& r, std::initializer_list<const char*> keys) {
  for (const std::string& o : r.overrides) {
    auto parsed = ParseOverride(o);
    if (!parsed.ok() || parsed->path.empty()) continue;
    for (const char* k : keys) {
      if (parsed->path.front() == k) return true;
    }
  }
  return false;
}

Json DateOrNull(const std::optional<int32_t>& d) { return d ? Json(FormatDate(*d)) : Json(nullptr); }

}  // namespace

Result<ModelRunInfo> ReadModelRunInfo(const Workspace& ws, const std::string& model_path) {
  auto resolved = ws.Resolve(model_path, PathMust::kExist);
  if (!resolved.ok()) {
    return Status::NotFound("model file '" + model_path + "' does not exist or is outside the workspace");
  }
  ModelRunInfo info;
  info.model_path = ws.Relative(*resolved);
  const auto run_dir = resolved->parent_path();
  auto read = ReadRunManifest(run_dir);
  if (!read.ok()) {
    return Status::FailedPrecondition("model " + info.model_path + ": " + read.status().message() +
                                      "; a model must stay in the run folder that trained it");
  }
  const RunManifest& manifest = *read;
  info.run_id = manifest.run_id;
  info.dataset = manifest.dataset;
  info.feature_set = manifest.feature_set;
  for (const auto& [ticker, path] : manifest.models) {
    if (path == info.model_path) info.tickers.push_back(ticker);
  }
  if (info.tickers.empty()) {
    return Status::FailedPrecondition("model " + info.model_path + " is not listed in the manifest of run " +
                                      manifest.run_id);
  }
  // Keep the run's ticker order (manifest `tickers`), not the map's alphabetical one.
  std::vector<std::string> ordered;
  for (const auto& t : manifest.tickers) {
    if (std::find(info.tickers.begin(), info.tickers.end(), t) != info.tickers.end()) ordered.push_back(t);
  }
  if (ordered.size() == info.tickers.size()) info.tickers = std::move(ordered);

  const auto metrics_path = run_dir / "metrics.json";
  std::error_code ec;
  if (std::filesystem::exists(metrics_path, ec)) {
    const std::string where = ws.Relative(metrics_path);
    ASSIGN_OR_RETURN(const std::string text, ReadFile(metrics_path));
    auto j = ParseJson(text);
    if (!j.ok() || !j->is_object()) return Status::InvalidArgument(where + " is not a JSON object");
    auto split = j->find("split");
    if (split != j->end() && split->is_object()) {
      ASSIGN_OR_RETURN(info.train_end, SplitDate(*split, "train_end", where));
      ASSIGN_OR_RETURN(info.valid_end, SplitDate(*split, "valid_end", where));
      auto gap = split->find("gap_bars");
      if (gap != split->end() && gap->is_number_integer()) info.gap_bars = gap->get<int>();
    }
  }
  return info;
}

Status ApplyModelDefaults(const Workspace& ws, const BacktestRequestKeys& request, YAML::Node& config) {
  if (request.model.empty()) return Status::Ok();
  auto info = ReadModelRunInfo(ws, request.model);
  if (!info.ok()) return info.status();
  if (!RequestSets(request, {"dataset"})) config["dataset"] = info->dataset;
  if (!request.tickers && !RequestSets(request, {"tickers", "ticker"})) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& t : info->tickers) list.push_back(t);
    config["tickers"] = list;
    if (config["ticker"]) config.remove("ticker");
  }
  const auto test_start = info->TestStart();
  if (test_start) {
    if (!request.start && !RequestSets(request, {"start"})) config["start"] = FormatDate(*test_start);
    if (!request.end && !RequestSets(request, {"end"}) && config["end"]) config.remove("end");
  }
  return Status::Ok();
}

Json ModelPeriodSummary(const ModelRunInfo& info, std::span<const int32_t> traded_dates) {
  Json overlap = nullptr;
  if (info.valid_end) {
    const int32_t valid_end = *info.valid_end;
    overlap = static_cast<int64_t>(
        std::count_if(traded_dates.begin(), traded_dates.end(), [valid_end](int32_t d) { return d <= valid_end; }));
  }
  return Json{{"model_train_end", DateOrNull(info.train_end)},
              {"model_valid_end", DateOrNull(info.valid_end)},
              {"model_test_start", DateOrNull(info.TestStart())},
              {"in_sample_overlap_days", overlap}};
}

Json ModelPeriodSummary(const Workspace& ws, const std::string& model_path, std::span<const int32_t> traded_dates) {
  ModelRunInfo none;
  if (model_path.empty()) return ModelPeriodSummary(none, traded_dates);
  auto info = ReadModelRunInfo(ws, model_path);
  return ModelPeriodSummary(info.ok() ? *info : none, traded_dates);
}

}  // namespace alphalab::engine

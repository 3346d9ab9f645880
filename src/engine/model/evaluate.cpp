#include "engine/model/evaluate.hpp"

#include <map>
#include <memory>

#include "engine/data/config.hpp"
#include "engine/data/dataset.hpp"
#include "engine/model/run_files.hpp"
#include "engine/model/run_metrics.hpp"
#include "engine/model/trainer.hpp"

namespace alphalab::engine {

namespace fs = std::filesystem;

namespace {

// Loads a model and checks it fits `set` (and, when it sits in a run folder, that the run
// was trained on the same feature set).
Result<std::shared_ptr<Booster>> LoadCheckedModel(const fs::path& path, const std::string& shown,
                                                  const FeatureSet& set) {
  auto manifest = ReadRunManifest(path.parent_path());
  if (manifest.ok() && !(manifest->feature_set == set)) {
    return Status::FailedPrecondition("model " + shown + " was trained on feature set '" +
                                      manifest->feature_set.Label() + "', the run uses '" + set.Label() + "'");
  }
  ASSIGN_OR_RETURN(Booster booster, Booster::LoadFile(path.string()));
  ASSIGN_OR_RETURN(const size_t n, booster.NumFeatures());
  if (n != set.features.size()) {
    return Status::FailedPrecondition("model " + shown + " expects " + std::to_string(n) + " features, feature set '" +
                                      set.Label() + "' has " + std::to_string(set.features.size()));
  }
  return std::make_shared<Booster>(std::move(booster));
}

}  // namespace

Result<EvalOutcome> RunEvalMetrics(const Workspace& ws, const EvalRequest& request, const Clock& clock,
                                   std::ostream& progress) {
  ASSIGN_OR_RETURN(const fs::path run_dir, ws.Resolve(request.run_dir, PathMust::kExist));
  if (!fs::is_directory(run_dir)) return Status::InvalidArgument("--run-dir " + request.run_dir + " is not a directory");
  ASSIGN_OR_RETURN(const RunManifest manifest, ReadRunManifest(run_dir));
  const std::string mode = request.mode.value_or(manifest.mode);
  if (mode != "base" && mode != "finetune") {
    return Status::InvalidArgument("--mode must be 'base' or 'finetune', got '" + mode + "'");
  }
  // A run holds the model(s) of its own mode only: evaluating a base run "as finetune" would
  // file metrics for a model that was never fine-tuned. Another model must be named with --model.
  if (mode != manifest.mode && !request.model_path) {
    return Status::InvalidArgument("run " + manifest.run_id + " is a '" + manifest.mode +
                                   "' run and has no '" + mode + "' model; use --mode " +
                                   manifest.mode + " or name one with --model");
  }
  if (!(manifest.feature_set == DefaultFeatureSet())) {
    return Status::FailedPrecondition("run " + manifest.run_id + " was trained on feature set '" +
                                      manifest.feature_set.Label() + "'; this alphalab computes '" +
                                      DefaultFeatureSet().Label() + "'");
  }
  ASSIGN_OR_RETURN(const YAML::Node config, LoadYamlConfig(run_dir / "config.yaml"));
  auto parsed = ParseTrainConfig(config);
  if (!parsed.ok()) return parsed.status().WithContext(ws.Relative(run_dir / "config.yaml"));
  const TrainConfig& c = *parsed;

  // Models: the run's own (per ticker / pooled), or one override for every ticker.
  std::map<std::string, std::shared_ptr<Booster>> boosters;  // by model path
  std::map<std::string, std::string> model_of;               // ticker -> model path shown
  std::optional<std::string> override_rel;
  if (request.model_path) {
    ASSIGN_OR_RETURN(const fs::path p, ws.Resolve(*request.model_path, PathMust::kExist));
    override_rel = ws.Relative(p);
    ASSIGN_OR_RETURN(boosters[*override_rel], LoadCheckedModel(p, *override_rel, manifest.feature_set));
    for (const auto& t : manifest.tickers) model_of[t] = *override_rel;
  } else {
    for (const auto& t : manifest.tickers) {
      auto it = manifest.models.find(t);
      if (it == manifest.models.end()) return Status::FailedPrecondition("run manifest has no model for " + t);
      model_of[t] = it->second;
      if (boosters.count(it->second)) continue;
      ASSIGN_OR_RETURN(const fs::path p, ws.Resolve(it->second, PathMust::kExist));
      ASSIGN_OR_RETURN(boosters[it->second], LoadCheckedModel(p, it->second, manifest.feature_set));
    }
  }

  ASSIGN_OR_RETURN(const DatasetRef ds, ResolveDataset(ws, c.dataset));
  progress << "[eval] loading " << manifest.tickers.size() << " instrument(s) from dataset " << c.dataset << std::endl;
  ASSIGN_OR_RETURN(const Universe universe, LoadUniverse(ws, ds, manifest.tickers));
  const bool same_data = DataFingerprint(universe) == manifest.data_fingerprint;
  if (!same_data) progress << "[eval] warning: the dataset changed since training (data_fingerprint differs)" << std::endl;

  std::vector<LabeledSeries> labeled;
  Json per_ticker = Json::object();
  for (const BarSeries& s : universe.series) {
    ASSIGN_OR_RETURN(LabeledSeries ls, BuildLabeledSeries(s, manifest.feature_set, c.horizon_days, c.threshold, c.split));
    const std::string& path = model_of[s.symbol];
    ASSIGN_OR_RETURN(const TickerPredictions pred, PredictSeries(*boosters[path], ls));
    per_ticker[s.symbol] = TickerMetricsEntry(TestMetricsJson(pred, c.decision_threshold), c, path);
    progress << "[eval] " << s.symbol << ": test precision=" << per_ticker[s.symbol]["precision"].dump()
             << " support=" << per_ticker[s.symbol]["support"].dump() << std::endl;
    labeled.push_back(std::move(ls));
  }
  RunManifest shown = manifest;
  shown.mode = mode;
  Json metrics = RunMetricsJson(shown, c, SplitSummaryJson(labeled, c), per_ticker);
  metrics["evaluated_at"] = FormatIso8601(clock.Now());
  metrics["model_override"] = override_rel ? Json(*override_rel) : Json(nullptr);
  metrics["data_fingerprint_match"] = same_data;
  const fs::path out = run_dir / ("metrics_eval_" + mode + ".json");
  RETURN_IF_ERROR(WriteFileAtomic(out, DumpJson(metrics, 2) + "\n"));
  progress << "[eval] wrote " << ws.Relative(out) << std::endl;
  return EvalOutcome{manifest.run_id, out, std::move(metrics)};
}

}  // namespace alphalab::engine

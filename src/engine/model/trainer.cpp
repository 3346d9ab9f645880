#include "engine/model/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "core/ids.hpp"
#include "engine/data/config.hpp"
#include "engine/data/dataset.hpp"
#include "engine/metrics/classification.hpp"
#include "engine/model/run_files.hpp"
#include "engine/model/run_metrics.hpp"

namespace alphalab::engine {

namespace fs = std::filesystem;

namespace {
double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}
double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

// ---- shared pieces -----------------------------------------------------------------------

SplitRows GatherRows(const std::vector<const LabeledSeries*>& series, Split split, std::optional<int32_t> min_date) {
  SplitRows out;
  out.cols = series.empty() ? 0 : series.front()->features.cols();
  size_t total = 0;
  for (const LabeledSeries* s : series) total += s->Count(split);
  out.values.reserve(total * out.cols);
  out.labels.reserve(total);
  for (const LabeledSeries* s : series) {
    for (size_t t = 0; t < s->splits.size(); ++t) {
      if (s->splits[t] != split) continue;
      if (min_date && s->bars->date[t] < *min_date) continue;
      out.values.insert(out.values.end(), s->features.row(t), s->features.row(t) + out.cols);
      out.labels.push_back(static_cast<float>(s->labels[t]));
    }
  }
  out.rows = out.labels.size();
  return out;
}

Result<TrainedModel> TrainBooster(const XgbParams& params, const SplitRows& train, const SplitRows& valid,
                                  const std::string& base_model_json, const std::string& name,
                                  std::ostream& progress) {
  const int nthread = params.nthread();
  ASSIGN_OR_RETURN(DMatrix dtrain, DMatrix::FromDense(train.values, train.rows, train.cols, nthread));
  RETURN_IF_ERROR(dtrain.SetLabels(train.labels));
  std::optional<DMatrix> dvalid;
  if (valid.rows > 0) {
    ASSIGN_OR_RETURN(DMatrix m, DMatrix::FromDense(valid.values, valid.rows, valid.cols, nthread));
    RETURN_IF_ERROR(m.SetLabels(valid.labels));
    dvalid.emplace(std::move(m));
  }
  std::vector<const DMatrix*> cache{&dtrain};
  if (dvalid) cache.push_back(&*dvalid);
  ASSIGN_OR_RETURN(Booster booster, Booster::Create(cache));
  if (!base_model_json.empty()) RETURN_IF_ERROR(booster.LoadJson(base_model_json));
  for (const auto& [key, value] : params.BoosterParams()) RETURN_IF_ERROR(booster.SetParam(key, value));

  int start = 0;
  if (!base_model_json.empty()) {
    ASSIGN_OR_RETURN(start, booster.BoostedRounds());
  }
  const int num_round = params.num_round();
  const int patience = params.early_stopping_rounds();
  // Both splits every round: the eval log (training/validation curve) of the run folder.
  const std::vector<const DMatrix*> eval_sets{&dtrain, dvalid ? &*dvalid : nullptr};
  const std::vector<std::string> eval_names{"train", "valid"};
  TrainedModel out;
  out.first_round = start;
  double best = std::numeric_limits<double>::infinity();
  int best_round = -1;
  int done = 0;
  for (int i = 0; i < num_round; ++i) {
    RETURN_IF_ERROR(booster.UpdateOneIter(start + i, dtrain));
    done = i + 1;
    const bool report = done % 50 == 0 || done == num_round;
    if (dvalid) {
      ASSIGN_OR_RETURN(const std::string eval, booster.EvalOneIter(start + i, eval_sets, eval_names));
      ASSIGN_OR_RETURN(const double train_logloss, ParseEvalMetric(eval, "train-logloss"));
      ASSIGN_OR_RETURN(const double logloss, ParseEvalMetric(eval, "valid-logloss"));
      out.train_logloss.push_back(train_logloss);
      out.valid_logloss_per_round.push_back(logloss);
      if (report) {
        progress << "[train] " << name << ": round " << done << "/" << num_round << " valid-logloss=" << logloss
                 << std::endl;
      }
      if (patience > 0) {
        if (logloss < best) {
          best = logloss;
          best_round = i;
        } else if (i - best_round >= patience) {
          progress << "[train] " << name << ": early stop at round " << done << ", best round " << best_round + 1
                   << " valid-logloss=" << best << std::endl;
          break;
        }
      }
    }
  }
  int keep = start + done;
  if (patience > 0 && best_round >= 0) {
    keep = start + best_round + 1;
    out.best_iteration = best_round;
  }
  ASSIGN_OR_RETURN(const int total, booster.BoostedRounds());
  if (keep < total) {
    ASSIGN_OR_RETURN(Booster sliced, booster.Slice(0, keep));
    ASSIGN_OR_RETURN(out.json, sliced.SaveJson());
  } else {
    ASSIGN_OR_RETURN(out.json, booster.SaveJson());
  }
  out.rounds = keep;
  return out;
}

Result<TickerPredictions> PredictSeries(const Booster& booster, const LabeledSeries& series,
                                        double* xgboost_seconds) {
  TickerPredictions p;
  std::vector<float> dense;
  const size_t cols = series.features.cols();
  for (size_t t = 0; t < series.splits.size(); ++t) {
    const Split s = series.splits[t];
    if (s != Split::kValid && s != Split::kTest) continue;
    p.bars.push_back(t);
    p.splits.push_back(s);
    p.labels.push_back(series.labels[t]);
    dense.insert(dense.end(), series.features.row(t), series.features.row(t) + cols);
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(p.proba, booster.PredictDense(dense, p.bars.size(), cols));
  if (xgboost_seconds != nullptr) *xgboost_seconds += Seconds(t0);
  return p;
}

Json TestMetricsJson(const TickerPredictions& p, double decision_threshold) {
  std::vector<int> y, pred;
  double logloss = 0;
  size_t n_valid = 0;
  for (size_t i = 0; i < p.bars.size(); ++i) {
    if (p.splits[i] == Split::kValid) {
      const double q = std::clamp(static_cast<double>(p.proba[i]), 1e-15, 1.0 - 1e-15);
      logloss -= p.labels[i] == 1 ? std::log(q) : std::log(1.0 - q);
      ++n_valid;
      continue;
    }
    y.push_back(p.labels[i]);
    pred.push_back(p.proba[i] >= decision_threshold ? 1 : 0);
  }
  Json j = ClassificationMetricsJson(y, pred);
  j["valid_logloss"] = n_valid > 0 ? Json(logloss / static_cast<double>(n_valid)) : Json(nullptr);
  return j;
}

std::string DataFingerprint(const Universe& universe) {
  std::string digests;
  for (const BarSeries& s : universe.series) {
    std::string bytes = s.symbol;
    bytes.push_back('\n');
    auto append = [&bytes](const auto& v) {
      bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0]));
    };
    append(s.date);
    append(s.open);
    append(s.high);
    append(s.low);
    append(s.close);
    append(s.adj_close);
    append(s.volume);
    digests += Sha256Hex(bytes);
  }
  return Sha256Hex(digests);
}

// ---- the train command --------------------------------------------------------------------

namespace {

struct Prepared {
  YAML::Node resolved;
  TrainConfig cfg;
  std::string config_rel;
  Universe universe;
  std::vector<LabeledSeries> labeled;  // universe order
  std::string base_run;
  std::map<std::string, std::string> base_models;  // ticker (or "" for pooled) -> JSON model
};

// Everything a run's request decides before any data is read: the config file (inside the
// workspace) with its overrides, every key checked, the dataset found, its tickers listed, and
// for a finetune the base run's manifest (finished, same feature set and scope). RunTraining's
// first step and, at submit, CheckTrainRequest's whole work, so both judge a request alike.
struct ResolvedRequest {
  std::string config_rel;
  YAML::Node resolved;
  TrainConfig cfg;
  DatasetRef ds;
  std::vector<std::string> tickers;
  std::optional<RunManifest> base;  // mode finetune
};

Result<ResolvedRequest> ResolveRequest(const Workspace& ws, const TrainRequest& request) {
  ResolvedRequest r;
  ASSIGN_OR_RETURN(const fs::path config_path, ws.Resolve(request.config_path, PathMust::kExist));
  r.config_rel = ws.Relative(config_path);
  ASSIGN_OR_RETURN(r.resolved, LoadYamlConfig(config_path));
  RETURN_IF_ERROR(ApplyOverrides(r.resolved, request.overrides));
  auto cfg = ParseTrainConfig(r.resolved);
  if (!cfg.ok()) return cfg.status().WithContext(r.config_rel);
  r.cfg = std::move(cfg).value();
  const TrainConfig& c = r.cfg;

  ASSIGN_OR_RETURN(r.ds, ResolveDataset(ws, c.dataset));
  r.tickers = c.tickers;
  if (r.tickers.empty()) {
    ASSIGN_OR_RETURN(r.tickers, ListSymbols(r.ds));
    if (r.tickers.empty()) return Status::InvalidArgument("dataset '" + c.dataset + "' has no instruments");
  }

  // Finetune: the base run must be a finished run on the same feature set and scope.
  if (c.mode == "finetune") {
    const fs::path base_dir = ws.RunsDir() / c.finetune_base_run;
    auto base = ReadRunManifest(base_dir);
    if (!base.ok()) return base.status().WithContext("finetune.base_run " + c.finetune_base_run);
    if (base->status != "success") {
      return Status::FailedPrecondition("finetune.base_run " + c.finetune_base_run + " has status " + base->status);
    }
    if (!(base->feature_set == c.feature_set)) {
      return Status::FailedPrecondition("finetune.base_run " + c.finetune_base_run + " was trained on feature set '" +
                                        base->feature_set.Label() + "', this config uses '" +
                                        c.feature_set.Label() + "'");
    }
    if (base->scope != TrainScopeName(c.scope)) {
      return Status::FailedPrecondition("finetune.base_run " + c.finetune_base_run + " has scope " + base->scope +
                                        ", this config has scope " + std::string(TrainScopeName(c.scope)));
    }
    r.base = std::move(base).value();
  }
  return r;
}

Result<Prepared> Prepare(const Workspace& ws, const TrainRequest& request, std::ostream& progress,
                         TrainProfile& profile) {
  const auto t_load = std::chrono::steady_clock::now();
  Prepared p;
  ASSIGN_OR_RETURN(ResolvedRequest r, ResolveRequest(ws, request));
  p.config_rel = std::move(r.config_rel);
  p.resolved = std::move(r.resolved);
  p.cfg = std::move(r.cfg);
  const TrainConfig& c = p.cfg;
  const DatasetRef& ds = r.ds;
  const std::vector<std::string>& tickers = r.tickers;

  if (r.base) {
    const RunManifest* base = &*r.base;
    auto load_model = [&](const std::string& key, const std::string& ticker) -> Status {
      auto it = base->models.find(ticker);
      if (it == base->models.end()) {
        return Status::FailedPrecondition("finetune.base_run " + c.finetune_base_run + " has no model for " + ticker);
      }
      ASSIGN_OR_RETURN(const fs::path model_path, ws.Resolve(it->second, PathMust::kExist));
      ASSIGN_OR_RETURN(p.base_models[key], ReadFile(model_path));
      return Status::Ok();
    };
    if (c.scope == TrainScope::kPooled) {
      if (base->models.empty()) return Status::FailedPrecondition("finetune.base_run has no models");
      RETURN_IF_ERROR(load_model("", base->models.begin()->first));
    } else {
      for (const auto& t : tickers) RETURN_IF_ERROR(load_model(t, t));
    }
    p.base_run = c.finetune_base_run;
  }

  progress << "[train] loading " << tickers.size() << " instrument(s) from dataset " << c.dataset << std::endl;
  ASSIGN_OR_RETURN(p.universe, LoadUniverse(ws, ds, tickers));
  profile.load_s = Seconds(t_load);
  const auto t_features = std::chrono::steady_clock::now();
  p.labeled.reserve(p.universe.series.size());
  for (const BarSeries& s : p.universe.series) {
    ASSIGN_OR_RETURN(LabeledSeries ls, BuildLabeledSeries(s, c.feature_set, c.horizon_days, c.threshold, c.split));
    const size_t n_train = c.finetune_start ? GatherRows({&ls}, Split::kTrain, c.finetune_start).rows
                                            : ls.Count(Split::kTrain);
    const size_t n_valid = ls.Count(Split::kValid), n_test = ls.Count(Split::kTest);
    const std::string range =
        s.size() == 0 ? "no bars" : "bars " + FormatDate(s.date.front()) + ".." + FormatDate(s.date.back());
    if (n_train == 0 || n_valid == 0 || n_test == 0) {
      const char* which = n_train == 0 ? "train" : n_valid == 0 ? "valid" : "test";
      return Status::InvalidArgument(
          "ticker " + s.symbol + ": the " + which + " split is empty (" + range + "; train_end " +
          FormatDate(c.split.train_end) + ", valid_end " + FormatDate(c.split.valid_end) + ", gap " +
          std::to_string(c.split.Gap()) + " bars, " + std::to_string(WarmupBars(c.feature_set)) + " warm-up bars" +
          (c.finetune_start ? ", finetune.start " + FormatDate(*c.finetune_start) : std::string()) + ")");
    }
    progress << "[train] " << s.symbol << ": " << range << ", rows train=" << n_train << " valid=" << n_valid
             << " test=" << n_test << std::endl;
    p.labeled.push_back(std::move(ls));
  }
  profile.features_s = Seconds(t_features);
  return p;
}

std::string FormatProba(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  return buf;
}

}  // namespace

namespace {

// One trained booster and the file it is saved as; `reloaded` is the saved JSON loaded
// back, so predictions use exactly the file.
struct Model {
  std::string file;
  TrainedModel trained;
  std::shared_ptr<Booster> reloaded;
};

struct TrainedModels {
  std::vector<Model> models;
  std::map<std::string, size_t> model_of;  // ticker -> index into models
};

// Trains one booster on `group` (train rows, early stopping on the valid rows).
Result<Model> TrainOne(const TrainConfig& c, const std::vector<const LabeledSeries*>& group, const std::string& name,
                       const std::string& file, const std::string& base_json, std::ostream& progress,
                       TrainProfile& profile) {
  const SplitRows train = GatherRows(group, Split::kTrain, c.finetune_start);
  const SplitRows valid = GatherRows(group, Split::kValid);
  progress << "[train] " << name << ": training on " << train.rows << " rows x " << train.cols << " features ("
           << c.params.num_round() << " rounds" << (base_json.empty() ? "" : ", continuing the base model") << ")"
           << std::endl;
  profile.train_rows += train.rows;
  const auto t_xgb = std::chrono::steady_clock::now();
  const double cpu_xgb = ProcessCpuSeconds();
  auto trained = TrainBooster(c.params, train, valid, base_json, name, progress);
  if (!trained.ok()) return trained.status().WithContext(name);
  ASSIGN_OR_RETURN(Booster reloaded, Booster::FromJson(trained->json));
  profile.xgboost_s += Seconds(t_xgb);
  profile.xgboost_cpu_s += ProcessCpuSeconds() - cpu_xgb;
  return Model{file, std::move(trained).value(), std::make_shared<Booster>(std::move(reloaded))};
}

// One model per ticker, or one pooled model.
Result<TrainedModels> TrainModels(Prepared& p, std::ostream& progress, TrainProfile& profile) {
  const TrainConfig& c = p.cfg;
  TrainedModels out;
  if (c.scope == TrainScope::kPooled) {
    std::vector<const LabeledSeries*> all;
    for (const auto& ls : p.labeled) all.push_back(&ls);
    ASSIGN_OR_RETURN(Model m, TrainOne(c, all, "pooled", kPooledModelFileName,
                                       p.base_run.empty() ? "" : p.base_models[""], progress, profile));
    out.models.push_back(std::move(m));
    for (const auto& ls : p.labeled) out.model_of[ls.bars->symbol] = 0;
    return out;
  }
  for (const auto& ls : p.labeled) {
    const std::string& t = ls.bars->symbol;
    ASSIGN_OR_RETURN(Model m, TrainOne(c, {&ls}, t, PerTickerModelFileName(t),
                                       p.base_run.empty() ? "" : p.base_models[t], progress, profile));
    out.models.push_back(std::move(m));
    out.model_of[t] = out.models.size() - 1;
  }
  return out;
}

struct Evaluation {
  std::string predictions;  // predictions.csv
  Json per_ticker = Json::object();
  std::map<std::string, std::string> model_paths;  // ticker -> runs/<id>/<file>
};

// Predicts the valid + test rows with the reloaded models; test metrics per ticker.
Result<Evaluation> Evaluate(const Prepared& p, const TrainedModels& trained, const std::string& run_rel,
                            std::ostream& progress, TrainProfile& profile) {
  const TrainConfig& c = p.cfg;
  Evaluation e;
  e.predictions = "date,ticker,split,label,proba,pred\n";
  for (const auto& ls : p.labeled) {
    const std::string& t = ls.bars->symbol;
    const Model& m = trained.models[trained.model_of.at(t)];
    ASSIGN_OR_RETURN(const TickerPredictions pred, PredictSeries(*m.reloaded, ls, &profile.xgboost_s));
    for (size_t i = 0; i < pred.bars.size(); ++i) {
      e.predictions += FormatDate(ls.bars->date[pred.bars[i]]) + "," + t + "," +
                       std::string(SplitName(pred.splits[i])) + "," + std::to_string(pred.labels[i]) + "," +
                       FormatProba(pred.proba[i]) + "," + (pred.proba[i] >= c.decision_threshold ? "1" : "0") + "\n";
    }
    e.model_paths[t] = run_rel + "/" + m.file;
    e.per_ticker[t] = TickerMetricsEntry(TestMetricsJson(pred, c.decision_threshold), c, e.model_paths[t]);
    progress << "[train] " << t << ": test precision=" << e.per_ticker[t]["precision"].dump()
             << " recall=" << e.per_ticker[t]["recall"].dump() << " lift=" << e.per_ticker[t]["lift"].dump()
             << " support=" << e.per_ticker[t]["support"].dump() << std::endl;
  }
  return e;
}

RunManifest BuildManifest(const Prepared& p, const std::string& run_id, TimePoint started, TimePoint finished,
                          const std::map<std::string, std::string>& model_paths) {
  const TrainConfig& c = p.cfg;
  const std::string run_rel = "runs/" + run_id;
  RunManifest manifest;
  manifest.run_id = run_id;
  manifest.created_at = FormatIso8601(finished);
  manifest.start_time = FormatIso8601(started);
  manifest.end_time = FormatIso8601(finished);
  manifest.status = "success";
  manifest.project = c.project;
  manifest.mode = c.mode;
  manifest.scope = std::string(TrainScopeName(c.scope));
  manifest.dataset = c.dataset;
  for (const auto& ls : p.labeled) manifest.tickers.push_back(ls.bars->symbol);
  manifest.feature_set = c.feature_set;
  manifest.models = model_paths;
  manifest.data_fingerprint = DataFingerprint(p.universe);
  manifest.alphalab_version = kAlphalabVersion;
  manifest.config_path = p.config_rel;
  manifest.resolved_config_path = run_rel + "/config.yaml";
  manifest.base_run = p.base_run;
  return manifest;
}

// training_log.json: per model file, the eval log (logloss on the train and valid rows after
// each round) and the feature importance of the saved model (docs/engine_training.md).
Result<Json> TrainingLogJson(const Prepared& p, const TrainedModels& trained) {
  const std::vector<std::string>& names = p.cfg.feature_set.features;
  Json models = Json::object();
  for (size_t k = 0; k < trained.models.size(); ++k) {
    const Model& m = trained.models[k];
    Json tickers = Json::array();
    for (const auto& [ticker, index] : trained.model_of) {
      if (index == k) tickers.push_back(ticker);
    }
    ASSIGN_OR_RETURN(const auto gain, m.reloaded->FeatureScore("gain", names));
    ASSIGN_OR_RETURN(const auto weight, m.reloaded->FeatureScore("weight", names));
    std::map<std::string, std::pair<double, double>> scores;  // feature -> (gain, weight)
    for (const auto& name : names) scores[name] = {0.0, 0.0};
    for (const auto& [name, v] : gain) scores[name].first = v;
    for (const auto& [name, v] : weight) scores[name].second = v;
    std::vector<std::pair<std::string, std::pair<double, double>>> rows(scores.begin(), scores.end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.second.first != b.second.first ? a.second.first > b.second.first : a.first < b.first;
    });
    Json importance = Json::array();
    for (const auto& [name, gw] : rows) {
      importance.push_back({{"feature", name}, {"gain", gw.first}, {"weight", gw.second}});
    }
    const TrainedModel& t = m.trained;
    models[m.file] = Json{{"tickers", tickers},
                          {"first_round", t.first_round},
                          {"rounds", t.rounds},
                          {"best_iteration", t.best_iteration},
                          {"eval_log", {{"train", t.train_logloss}, {"valid", t.valid_logloss_per_round}}},
                          {"feature_importance", importance}};
  }
  return Json{{"metric", "logloss"}, {"importance_type", "gain"}, {"models", models}};
}

// Writes the files into runs/.<id>.tmp, then renames it: the run appears complete or not
// at all (the temporary folder is removed on an error).
Status WriteRunFolder(const Workspace& ws, const std::string& run_id,
                      const std::vector<std::pair<std::string, std::string>>& files) {
  const fs::path final_dir = ws.RunsDir() / run_id;
  const fs::path tmp_dir = ws.RunsDir() / ("." + run_id + ".tmp");
  std::error_code ec;
  fs::create_directories(tmp_dir, ec);
  if (ec) return Status::Internal("cannot create " + tmp_dir.string() + ": " + ec.message());
  auto cleanup_on_error = [&](Status st) {
    std::error_code ignored;
    fs::remove_all(tmp_dir, ignored);
    return st;
  };
  for (const auto& [name, content] : files) {
    const Status st = WriteFileAtomic(tmp_dir / name, content);
    if (!st.ok()) return cleanup_on_error(st);
  }
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) {
    return cleanup_on_error(
        Status::Internal("cannot rename " + tmp_dir.string() + " to " + final_dir.string() + ": " + ec.message()));
  }
  return Status::Ok();
}

}  // namespace

Status CheckTrainRequest(const Workspace& ws, const TrainRequest& request) {
  return ResolveRequest(ws, request).status();
}

Result<TrainOutcome> RunTraining(const Workspace& ws, const TrainRequest& request, const Clock& clock,
                                 std::ostream& progress) {
  const TimePoint started = clock.Now();
  const auto t_start = std::chrono::steady_clock::now();
  const double cpu_start = ProcessCpuSeconds();
  TrainProfile profile;
  ASSIGN_OR_RETURN(Prepared p, Prepare(ws, request, progress, profile));
  const std::string run_id = MakeTimestampedId("run", started);
  const std::string run_rel = "runs/" + run_id;
  ASSIGN_OR_RETURN(TrainedModels trained, TrainModels(p, progress, profile));
  ASSIGN_OR_RETURN(Evaluation eval, Evaluate(p, trained, run_rel, progress, profile));
  RunManifest manifest = BuildManifest(p, run_id, started, clock.Now(), eval.model_paths);
  Json training = Json::object();
  for (const auto& m : trained.models) {
    training[m.file] = Json{{"rounds", m.trained.rounds}, {"best_iteration", m.trained.best_iteration}};
  }
  Json metrics = RunMetricsJson(manifest, p.cfg, SplitSummaryJson(p.labeled, p.cfg), eval.per_ticker);
  metrics["training"] = training;

  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back("config.yaml", DumpYaml(p.resolved));
  for (const auto& m : trained.models) files.emplace_back(m.file, m.trained.json);
  files.emplace_back("predictions.csv", std::move(eval.predictions));
  ASSIGN_OR_RETURN(const Json training_log, TrainingLogJson(p, trained));
  files.emplace_back(kTrainingLogFileName, DumpJson(training_log) + "\n");
  files.emplace_back("metrics.json", DumpJson(metrics, 2) + "\n");
  for (const auto& [name, content] : files) manifest.files.push_back(name);
  manifest.files.push_back("manifest.json");
  files.emplace_back("manifest.json", DumpJson(manifest.ToJson(), 2) + "\n");
  RETURN_IF_ERROR(WriteRunFolder(ws, run_id, files));
  profile.total_s = Seconds(t_start);
  profile.total_cpu_s = ProcessCpuSeconds() - cpu_start;
  progress << "[train] wrote " << run_rel << " (" << files.size() << " files) in " << profile.total_s
           << " s (xgboost " << profile.xgboost_s << " s, data " << profile.load_s << " s, features "
           << profile.features_s << " s)" << std::endl;
  return TrainOutcome{run_id, ws.RunsDir() / run_id, std::move(metrics), profile};
}

}  // namespace alphalab::engine

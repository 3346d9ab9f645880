// End to end: a synthetic universe written by the test -> RunTraining -> runs/<id>/ ->
// eval-metrics and ModelScorer on the same files.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/clock.hpp"
#include "core/workspace.hpp"
#include "engine/data/dataset.hpp"
#include "engine/data/synth.hpp"
#include "engine/model/evaluate.hpp"
#include "engine/model/run_metrics.hpp"
#include "engine/model/scorer.hpp"
#include "engine/model/trainer.hpp"

namespace alphalab::engine {
namespace {

namespace fs = std::filesystem;

const char* kConfig = R"(dataset: synth
tickers: [SYN0001, SYN0002]
label: {horizon_days: 5, threshold: 0.01}
split: {train_end: 2008-12-31, valid_end: 2009-12-31, gap_days: 5}
model: {type: xgboost, params: {max_depth: 3, eta: 0.2, num_round: 30, nthread: 1}}
mode: base
project: testproj
)";

class TrainRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("engineml_train_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "configs");
    SynthOptions opt;
    opt.instruments = 3;
    opt.years = 6;
    opt.seed = 7;
    ASSERT_TRUE(WriteUniverseCsv(MakeSyntheticUniverse(opt), root_ / "data" / "synth").ok());
    std::ofstream(root_ / "configs" / "train.yaml") << kConfig;
    auto ws = Workspace::Open(root_);
    ASSERT_TRUE(ws.ok());
    ws_.emplace(*ws);
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<TrainOutcome> Train(const std::vector<std::string>& overrides = {}) {
    std::ostringstream progress;
    auto r = RunTraining(*ws_, TrainRequest{"configs/train.yaml", overrides}, SystemClock::Instance(), progress);
    log_ = progress.str();
    return r;
  }

  Json ReadJson(const fs::path& p) {
    auto text = ReadFile(p);
    EXPECT_TRUE(text.ok()) << p;
    return Json::parse(text.value_or("{}"));
  }

  std::vector<std::string> RunsEntries() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ / "runs", ec)) out.push_back(e.path().filename().string());
    return out;
  }

  fs::path root_;
  std::optional<Workspace> ws_;
  std::string log_;
};

struct PredRow {
  std::string date, ticker, split;
  int label, pred;
  double proba;
};

std::vector<PredRow> ReadPredictions(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "date,ticker,split,label,proba,pred");
  std::vector<PredRow> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    PredRow r;
    std::string label, proba, pred;
    std::getline(ss, r.date, ',');
    std::getline(ss, r.ticker, ',');
    std::getline(ss, r.split, ',');
    std::getline(ss, label, ',');
    std::getline(ss, proba, ',');
    std::getline(ss, pred, ',');
    r.label = std::stoi(label);
    r.proba = std::stod(proba);
    r.pred = std::stoi(pred);
    rows.push_back(r);
  }
  return rows;
}

TEST_F(TrainRunTest, PerTickerRunWritesEveryFileAndField) {
  auto out = Train({"split.gap_days=7"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const fs::path dir = root_ / "runs" / out->run_id;
  EXPECT_EQ(out->run_dir, dir);
  EXPECT_EQ(out->run_id.rfind("run_", 0), 0u);
  // Only the finished folder: the .tmp staging folder is gone.
  EXPECT_EQ(RunsEntries(), std::vector<std::string>{out->run_id});
  for (const char* f : {"config.yaml", "metrics.json", "manifest.json", "predictions.csv", "model_SYN0001.json",
                        "model_SYN0002.json", "training_log.json"}) {
    EXPECT_TRUE(fs::is_regular_file(dir / f)) << f;
  }

  const Json m = ReadJson(dir / "metrics.json");
  EXPECT_EQ(m["run_id"], out->run_id);
  EXPECT_EQ(m["project"], "testproj");
  EXPECT_EQ(m["mode"], "base");
  EXPECT_EQ(m["status"], "success");
  EXPECT_TRUE(ParseIso8601(m["start_time"].get<std::string>()).ok());
  EXPECT_TRUE(ParseIso8601(m["end_time"].get<std::string>()).ok());
  EXPECT_EQ(m["label_horizon_days"], 5);
  EXPECT_EQ(m["label_threshold"], 0.01);
  EXPECT_EQ(m["dataset"], "synth");
  EXPECT_EQ(m["config_path"], "configs/train.yaml");
  EXPECT_EQ(m["split"]["gap_bars"], 7);
  EXPECT_EQ(m["split"]["train_end"], "2008-12-31");

  // Per ticker: every field, and a confusion matrix recomputed by hand from predictions.csv.
  const auto preds = ReadPredictions(dir / "predictions.csv");
  ASSERT_EQ(m["per_ticker"].size(), 2u);
  for (const std::string t : {"SYN0001", "SYN0002"}) {
    const Json& e = m["per_ticker"][t];
    for (const char* k : {"precision", "recall", "f1", "accuracy", "buy_rate", "positive_rate", "lift", "tp", "fp", "tn",
                          "fn", "support", "label_horizon_days", "label_threshold", "model_path"}) {
      EXPECT_TRUE(e.contains(k)) << t << " " << k;
    }
    EXPECT_EQ(e["model_path"], "runs/" + out->run_id + "/model_" + t + ".json");
    EXPECT_TRUE(fs::is_regular_file(root_ / e["model_path"].get<std::string>()));
    int64_t tp = 0, fp = 0, tn = 0, fn = 0, valid = 0;
    std::string last_valid, first_test;
    for (const auto& r : preds) {
      if (r.ticker != t) continue;
      EXPECT_EQ(r.pred, r.proba >= 0.5 ? 1 : 0);
      if (r.split == "valid") {
        ++valid;
        last_valid = r.date;
        continue;
      }
      ASSERT_EQ(r.split, "test");
      if (first_test.empty()) first_test = r.date;
      tp += r.label == 1 && r.pred == 1;
      fp += r.label == 0 && r.pred == 1;
      tn += r.label == 0 && r.pred == 0;
      fn += r.label == 1 && r.pred == 0;
    }
    EXPECT_LE(last_valid, "2009-12-31");
    EXPECT_GT(first_test, "2009-12-31");
    EXPECT_EQ(e["tp"], tp);
    EXPECT_EQ(e["fp"], fp);
    EXPECT_EQ(e["tn"], tn);
    EXPECT_EQ(e["fn"], fn);
    const int64_t n = tp + fp + tn + fn;
    EXPECT_EQ(e["support"], n);
    EXPECT_EQ(m["split"]["per_ticker"][t]["test_rows"], n);
    EXPECT_EQ(m["split"]["per_ticker"][t]["valid_rows"], valid);
    EXPECT_GT(n, 100);
    EXPECT_DOUBLE_EQ(e["precision"].get<double>(), tp + fp ? double(tp) / double(tp + fp) : 0.0);
    EXPECT_DOUBLE_EQ(e["recall"].get<double>(), tp + fn ? double(tp) / double(tp + fn) : 0.0);
    EXPECT_DOUBLE_EQ(e["accuracy"].get<double>(), double(tp + tn) / double(n));
    EXPECT_DOUBLE_EQ(e["buy_rate"].get<double>(), double(tp + fp) / double(n));
    EXPECT_DOUBLE_EQ(e["positive_rate"].get<double>(), double(tp + fn) / double(n));
  }

  const Json man = ReadJson(dir / "manifest.json");
  EXPECT_EQ(man["run_id"], out->run_id);
  EXPECT_EQ(man["status"], "success");
  EXPECT_EQ(man["project"], "testproj");
  EXPECT_EQ(man["mode"], "base");
  EXPECT_EQ(man["dataset"], "synth");
  EXPECT_EQ(man["tickers"], Json({"SYN0001", "SYN0002"}));
  EXPECT_EQ(man["feature_set"], DefaultFeatureSet().ToJson());
  EXPECT_EQ(man["models"]["SYN0002"], "runs/" + out->run_id + "/model_SYN0002.json");
  EXPECT_EQ(man["data_fingerprint"].get<std::string>().size(), 64u);
  EXPECT_EQ(man["alphalab_version"], "0.1.0");
  EXPECT_EQ(man["config_path"], "configs/train.yaml");
  for (const auto& f : man["files"]) EXPECT_TRUE(fs::is_regular_file(dir / f.get<std::string>())) << f;
  EXPECT_EQ(man["files"].size(), 7u);

  // The resolved config carries the override.
  const std::string config = ReadFile(dir / "config.yaml").value_or("");
  EXPECT_NE(config.find("gap_days: 7"), std::string::npos) << config;
}

TEST_F(TrainRunTest, EvalMetricsReproducesStoredMetricsExactly) {
  auto out = Train();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const fs::path dir = root_ / "runs" / out->run_id;
  const std::string before = ReadFile(dir / "metrics.json").value_or("");
  std::ostringstream progress;
  auto eval = RunEvalMetrics(*ws_, EvalRequest{"runs/" + out->run_id, std::nullopt, std::nullopt},
                             SystemClock::Instance(), progress);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_EQ(eval->run_id, out->run_id);
  EXPECT_EQ(eval->output, dir / "metrics_eval_base.json");
  const Json stored = ReadJson(dir / "metrics.json");
  const Json again = ReadJson(dir / "metrics_eval_base.json");
  EXPECT_EQ(again["per_ticker"], stored["per_ticker"]);
  EXPECT_EQ(again["split"], stored["split"]);
  for (const char* k : {"run_id", "project", "mode", "status", "start_time", "end_time", "label_horizon_days",
                        "label_threshold", "dataset", "config_path"}) {
    EXPECT_EQ(again[k], stored[k]) << k;
  }
  EXPECT_TRUE(ParseIso8601(again["evaluated_at"].get<std::string>()).ok());
  EXPECT_EQ(again["data_fingerprint_match"], true);
  EXPECT_EQ(ReadFile(dir / "metrics.json").value_or(""), before);  // never rewritten

  // --mode finetune labels the file; --model evaluates another model for every ticker.
  auto ft = RunEvalMetrics(*ws_,
                           EvalRequest{"runs/" + out->run_id, "finetune",
                                       "runs/" + out->run_id + "/model_SYN0001.json"},
                           SystemClock::Instance(), progress);
  ASSERT_TRUE(ft.ok()) << ft.status().ToString();
  const Json f = ReadJson(dir / "metrics_eval_finetune.json");
  EXPECT_EQ(f["mode"], "finetune");
  EXPECT_EQ(f["per_ticker"]["SYN0001"], stored["per_ticker"]["SYN0001"]);
  EXPECT_EQ(f["per_ticker"]["SYN0002"]["model_path"], "runs/" + out->run_id + "/model_SYN0001.json");

  // A base run has no finetune model: evaluating it "as finetune" without --model is refused
  // (it would file registry rows for a model that was never fine-tuned).
  fs::remove(dir / "metrics_eval_finetune.json");
  auto phantom = RunEvalMetrics(*ws_, EvalRequest{"runs/" + out->run_id, "finetune", std::nullopt},
                                SystemClock::Instance(), progress);
  ASSERT_FALSE(phantom.ok());
  EXPECT_TRUE(phantom.status().IsInvalidArgument()) << phantom.status().ToString();
  EXPECT_NE(phantom.status().message().find("has no 'finetune' model"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "metrics_eval_finetune.json"));

  EXPECT_FALSE(RunEvalMetrics(*ws_, EvalRequest{"runs/" + out->run_id, "bogus", std::nullopt},
                              SystemClock::Instance(), progress)
                   .ok());
  EXPECT_TRUE(RunEvalMetrics(*ws_, EvalRequest{"runs/nope", std::nullopt, std::nullopt}, SystemClock::Instance(),
                             progress)
                  .status()
                  .IsNotFound());
  EXPECT_FALSE(RunEvalMetrics(*ws_, EvalRequest{"../..", std::nullopt, std::nullopt}, SystemClock::Instance(),
                              progress)
                   .ok());
}

TEST_F(TrainRunTest, ScorerMatchesStoredPredictionsAndRefusesOtherFeatureSets) {
  auto out = Train();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::string model = "runs/" + out->run_id + "/model_SYN0002.json";
  auto scorer = ModelScorer::Load(*ws_, model);
  ASSERT_TRUE(scorer.ok()) << scorer.status().ToString();
  EXPECT_EQ(scorer->run_id(), out->run_id);
  auto ds = ResolveDataset(*ws_, "synth");
  ASSERT_TRUE(ds.ok());
  auto u = LoadUniverse(*ws_, *ds, {"SYN0002"});
  ASSERT_TRUE(u.ok());
  const BarSeries& s = u->series[0];
  auto scores = scorer->Score(s);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  ASSERT_EQ(scores->size(), s.size());
  EXPECT_TRUE(std::isnan((*scores)[250]));
  EXPECT_FALSE(std::isnan((*scores)[251]));
  std::map<std::string, double> by_date;
  for (size_t i = 0; i < s.size(); ++i) by_date[FormatDate(s.date[i])] = (*scores)[i];
  size_t checked = 0;
  for (const auto& r : ReadPredictions(root_ / "runs" / out->run_id / "predictions.csv")) {
    if (r.ticker != "SYN0002") continue;
    EXPECT_EQ(static_cast<float>(by_date.at(r.date)), static_cast<float>(r.proba)) << r.date;
    ++checked;
  }
  EXPECT_GT(checked, 200u);

  // No look-ahead in the signal: scoring the series cut after bar t gives the same scores up to t.
  for (size_t t : {size_t{300}, s.size() / 2, s.size() - 2}) {
    BarSeries cut = s;
    cut.Clip(cut.date.front(), cut.date[t]);
    ASSERT_EQ(cut.size(), t + 1);
    auto cut_scores = scorer->Score(cut);
    ASSERT_TRUE(cut_scores.ok());
    for (size_t i = 0; i <= t; ++i) {
      ASSERT_TRUE((std::isnan((*cut_scores)[i]) && std::isnan((*scores)[i])) || (*cut_scores)[i] == (*scores)[i])
          << "bar " << i << " changed when bars after " << t << " were removed";
    }
  }

  // Score is safe to call from several threads on one scorer, with identical results.
  std::vector<std::vector<double>> parallel(4);
  std::vector<std::thread> threads;
  for (auto& out : parallel) {
    threads.emplace_back([&scorer, &s, &out] { out = scorer->Score(s).value_or({}); });
  }
  for (auto& th : threads) th.join();
  for (const auto& out : parallel) {
    ASSERT_EQ(out.size(), scores->size());
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_TRUE((std::isnan(out[i]) && std::isnan((*scores)[i])) || out[i] == (*scores)[i]) << i;
    }
  }

  // A run whose manifest names another feature set is refused with a clear message.
  const fs::path other = root_ / "runs" / "run_other";
  fs::copy(root_ / "runs" / out->run_id, other);
  Json man = ReadJson(other / "manifest.json");
  man["feature_set"]["version"] = 2;
  man["models"]["SYN0002"] = "runs/run_other/model_SYN0002.json";
  std::ofstream(other / "manifest.json") << man.dump(2);
  auto refused = ModelScorer::Load(*ws_, "runs/run_other/model_SYN0002.json");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("feature set 'default v2'"), std::string::npos)
      << refused.status().message();
  // ... and so is a scorer expecting a different set than the run's.
  FeatureSet narrower{"default", 1, {"ret_1", "ret_5"}};
  EXPECT_FALSE(ModelScorer::Load(*ws_, model, narrower).ok());
  // A model file outside a run folder has no manifest: refused.
  fs::create_directories(root_ / "loose");
  fs::copy_file(root_ / model, root_ / "loose" / "model.json");
  EXPECT_FALSE(ModelScorer::Load(*ws_, "loose/model.json").ok());
  EXPECT_FALSE(ModelScorer::Load(*ws_, "/etc/passwd").ok());
}

TEST_F(TrainRunTest, PooledRunAndFinetuneContinueBoosting) {
  auto base = Train({"scope=pooled", "tickers=all"});
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  const Json bm = ReadJson(base->run_dir / "metrics.json");
  // tickers: all -> every instrument of the synthetic universe, one shared model.
  EXPECT_GE(bm["per_ticker"].size(), 5u);
  for (const auto& [t, e] : bm["per_ticker"].items()) {
    EXPECT_EQ(e["model_path"], "runs/" + base->run_id + "/model.json") << t;
  }
  EXPECT_EQ(bm["training"]["model.json"]["rounds"], 30);

  auto ft = Train({"scope=pooled", "tickers=[SYN0001, SYN0003]", "mode=finetune", "finetune.base_run=" + base->run_id,
                   "finetune.start=2008-01-01", "model.params.num_round=10"});
  ASSERT_TRUE(ft.ok()) << ft.status().ToString();
  const Json fm = ReadJson(ft->run_dir / "metrics.json");
  EXPECT_EQ(fm["mode"], "finetune");
  EXPECT_EQ(fm["training"]["model.json"]["rounds"], 40);  // 30 base rounds + 10 more
  EXPECT_EQ(fm["split"]["finetune_start"], "2008-01-01");
  EXPECT_GE(fm["split"]["train"]["start"].get<std::string>(), "2008-01-01");
  EXPECT_EQ(ReadJson(ft->run_dir / "manifest.json")["base_run"], base->run_id);
  EXPECT_NE(log_.find("continuing the base model"), std::string::npos) << log_;
  // The pooled model serves both tickers; its eval log starts after the 30 base rounds.
  const Json ftlog = ReadJson(ft->run_dir / "training_log.json")["models"]["model.json"];
  EXPECT_EQ(ftlog["tickers"], Json({"SYN0001", "SYN0003"}));
  EXPECT_EQ(ftlog["first_round"], 30);
  EXPECT_EQ(ftlog["eval_log"]["valid"].size(), 10u);

  // The base run's scope must match.
  auto mismatch = Train({"mode=finetune", "finetune.base_run=" + base->run_id, "finetune.start=2008-01-01"});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("scope"), std::string::npos) << mismatch.status().message();
  auto missing = Train({"mode=finetune", "finetune.base_run=run_missing", "finetune.start=2008-01-01"});
  EXPECT_FALSE(missing.ok());
}

TEST_F(TrainRunTest, EarlyStoppingKeepsTheBestRound) {
  auto out = Train({"model.params.num_round=300", "model.params.early_stopping_rounds=5", "model.params.eta=0.5",
                    "tickers=[SYN0001]"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Json m = ReadJson(out->run_dir / "metrics.json");
  const int rounds = m["training"]["model_SYN0001.json"]["rounds"];
  const int best = m["training"]["model_SYN0001.json"]["best_iteration"];
  EXPECT_EQ(rounds, best + 1);
  EXPECT_LT(rounds, 300);
  EXPECT_NE(log_.find("early stop"), std::string::npos) << log_;
  // The eval log keeps every boosted round, also the ones dropped after the best; the best is its minimum.
  const Json log = ReadJson(out->run_dir / "training_log.json");
  const auto valid = log["models"]["model_SYN0001.json"]["eval_log"]["valid"].get<std::vector<double>>();
  EXPECT_EQ(log["models"]["model_SYN0001.json"]["best_iteration"], best);
  ASSERT_GT(valid.size(), static_cast<size_t>(rounds));
  EXPECT_EQ(std::min_element(valid.begin(), valid.end()) - valid.begin(), best);
}

// Internal (split) nodes of every tree of an XGBoost JSON model: the sum of the "weight" importance.
int64_t SplitNodes(const Json& model) {
  int64_t n = 0;
  for (const Json& tree : model["learner"]["gradient_booster"]["model"]["trees"]) {
    for (const Json& left : tree["left_children"]) n += left.get<int64_t>() != -1;
  }
  return n;
}

TEST_F(TrainRunTest, TrainingLogHoldsTheEvalCurveAndFeatureImportance) {
  auto out = Train();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Json log = ReadJson(out->run_dir / "training_log.json");
  EXPECT_EQ(log["metric"], "logloss");
  ASSERT_EQ(log["models"].size(), 2u);
  const auto preds = ReadPredictions(out->run_dir / "predictions.csv");
  for (const std::string t : {"SYN0001", "SYN0002"}) {
    const Json& e = log["models"]["model_" + t + ".json"];
    EXPECT_EQ(e["tickers"], Json({t}));
    EXPECT_EQ(e["first_round"], 0);
    EXPECT_EQ(e["rounds"], 30);
    const auto train = e["eval_log"]["train"].get<std::vector<double>>();
    const auto valid = e["eval_log"]["valid"].get<std::vector<double>>();
    ASSERT_EQ(train.size(), 30u);
    ASSERT_EQ(valid.size(), 30u);
    // Boosting fits the train rows: the train logloss falls below ln 2 and keeps falling.
    EXPECT_LT(train.back(), train.front());
    EXPECT_LT(train.front(), std::log(2.0));
    // The last round's valid logloss is the saved model's logloss over predictions.csv's valid rows.
    double sum = 0;
    int n = 0;
    for (const auto& r : preds) {
      if (r.ticker != t || r.split != "valid") continue;
      const double q = std::clamp(r.proba, 1e-15, 1.0 - 1e-15);
      sum -= r.label == 1 ? std::log(q) : std::log(1.0 - q);
      ++n;
    }
    ASSERT_GT(n, 0);
    EXPECT_NEAR(valid.back(), sum / n, 1e-4) << t;

    // Importance: every feature of the set once, by gain (highest first); the weights count
    // the split nodes of the saved model.
    const Json& imp = e["feature_importance"];
    ASSERT_EQ(imp.size(), DefaultFeatureSet().features.size());
    std::set<std::string> seen;
    double weights = 0;
    for (size_t i = 0; i < imp.size(); ++i) {
      seen.insert(imp[i]["feature"].get<std::string>());
      weights += imp[i]["weight"].get<double>();
      if (i > 0) {
        EXPECT_GE(imp[i - 1]["gain"].get<double>(), imp[i]["gain"].get<double>());
      }
    }
    EXPECT_EQ(seen, std::set<std::string>(DefaultFeatureSet().features.begin(), DefaultFeatureSet().features.end()));
    EXPECT_GT(imp[0]["gain"].get<double>(), 0.0);
    const Json model = ReadJson(out->run_dir / ("model_" + t + ".json"));
    EXPECT_EQ(static_cast<int64_t>(weights), SplitNodes(model)) << t;
  }
}

TEST_F(TrainRunTest, BadInputsFailBeforeAnyWorkAndLeaveNoRun) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"tickers=[SYN0001, NOPE]"}, "NOPE"},
      {{"dataset=missing"}, "missing"},
      {{"split.valid_end=2012-12-31", "split.train_end=2011-12-31"}, "valid split is empty"},
      {{"split.train_end=2005-06-30"}, "train split is empty"},
      {{"model.params.eta=7"}, "eta"},
      {{"no_such_key=1"}, "no_such_key"},
      {{"label.threshold"}, "label.threshold"},
  };
  for (const auto& [overrides, mention] : cases) {
    auto r = Train(overrides);
    ASSERT_FALSE(r.ok()) << overrides.front();
    EXPECT_NE(r.status().message().find(mention), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
  }
  std::ostringstream progress;
  EXPECT_FALSE(RunTraining(*ws_, TrainRequest{"configs/none.yaml", {}}, SystemClock::Instance(), progress).ok());
  EXPECT_FALSE(RunTraining(*ws_, TrainRequest{"../../etc/passwd", {}}, SystemClock::Instance(), progress).ok());
  EXPECT_TRUE(RunsEntries().empty());
}

TEST(TestMetricsJsonTest, HandComputedConfusionMatrix) {
  TickerPredictions p;
  // valid rows are ignored by the test metrics; test rows: labels/probas chosen by hand.
  const std::vector<std::pair<int, float>> test{{1, 0.9f}, {1, 0.6f}, {0, 0.7f}, {0, 0.2f}, {1, 0.1f},
                                                {0, 0.5f}, {0, 0.3f}, {0, 0.4f}, {1, 0.55f}, {0, 0.05f}};
  p.bars.push_back(0);
  p.splits.push_back(Split::kValid);
  p.labels.push_back(1);
  p.proba.push_back(0.99f);
  for (size_t i = 0; i < test.size(); ++i) {
    p.bars.push_back(i + 1);
    p.splits.push_back(Split::kTest);
    p.labels.push_back(static_cast<int8_t>(test[i].first));
    p.proba.push_back(test[i].second);
  }
  // At 0.5: predicted positive = {0.9, 0.6, 0.7, 0.5, 0.55} -> tp 3 (0.9, 0.6, 0.55), fp 2 (0.7, 0.5);
  // negatives predicted: tn 4 (0.2, 0.3, 0.4, 0.05), fn 1 (0.1).
  const Json m = TestMetricsJson(p, 0.5);
  EXPECT_EQ(m["tp"], 3);
  EXPECT_EQ(m["fp"], 2);
  EXPECT_EQ(m["tn"], 4);
  EXPECT_EQ(m["fn"], 1);
  EXPECT_EQ(m["support"], 10);
  EXPECT_DOUBLE_EQ(m["precision"].get<double>(), 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(m["recall"].get<double>(), 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(m["f1"].get<double>(), 2 * 0.6 * 0.75 / (0.6 + 0.75));
  EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), 7.0 / 10.0);
  EXPECT_DOUBLE_EQ(m["buy_rate"].get<double>(), 5.0 / 10.0);
  EXPECT_DOUBLE_EQ(m["positive_rate"].get<double>(), 4.0 / 10.0);
  EXPECT_DOUBLE_EQ(m["lift"].get<double>(), 0.6 / 0.4);
  EXPECT_NEAR(m["valid_logloss"].get<double>(), -std::log(0.99), 1e-6);
  // A higher decision threshold moves 0.5 and 0.55 to the negative side.
  const Json strict = TestMetricsJson(p, 0.56);
  EXPECT_EQ(strict["tp"], 2);
  EXPECT_EQ(strict["fp"], 1);
}

// The real S&P 500 demo data, when the UI dependencies are installed.
TEST_F(TrainRunTest, DemoDataTrainsWithTheSpecConfig) {
  const fs::path demo = fs::path(ALPHALAB_SOURCE_DIR) / "ui/node_modules/vega-datasets/data/sp500-2000.csv";
  if (!fs::exists(demo)) GTEST_SKIP() << "demo CSV not installed: " << demo;
  fs::create_directories(root_ / "data" / "demo");
  fs::copy_file(demo, root_ / "data" / "demo" / "SPX.csv");
  std::ofstream(root_ / "configs" / "base.yaml") << R"(dataset: demo
tickers: [SPX]
label: {horizon_days: 20, threshold: 0.05}
split: {train_end: 2014-12-31, valid_end: 2016-12-31, gap_days: 20}
model: {type: xgboost, params: {max_depth: 4, eta: 0.1, num_round: 200}}
mode: base
)";
  std::ostringstream progress;
  auto out = RunTraining(*ws_, TrainRequest{"configs/base.yaml", {"model.params.num_round=50", "model.params.nthread=1"}},
                         SystemClock::Instance(), progress);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Json m = ReadJson(out->run_dir / "metrics.json");
  EXPECT_EQ(m["split"]["test"]["start"], "2017-01-03");
  EXPECT_GT(m["per_ticker"]["SPX"]["support"].get<int>(), 700);
  auto eval = RunEvalMetrics(*ws_, EvalRequest{"runs/" + out->run_id, std::nullopt, std::nullopt},
                             SystemClock::Instance(), progress);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_EQ(eval->metrics["per_ticker"], m["per_ticker"]);
}

}  // namespace
}  // namespace alphalab::engine

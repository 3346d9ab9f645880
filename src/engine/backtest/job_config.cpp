#include "engine/backtest/job_config.hpp"

#include <cstdio>
#include <tuple>

#include "core/ids.hpp"
#include "core/job_result.hpp"
#include "core/text.hpp"
#include "engine/data/config.hpp"
#include "engine/model/model_defaults.hpp"
#include "engine/model/scorer.hpp"

namespace alphalab::engine {

BacktestRunFlags FlagsFromJobParams(const nlohmann::json& params) {
  BacktestRunFlags f;
  auto str = [&](const char* key) {
    auto it = params.find(key);
    return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  f.config = str("config_path");
  if (auto it = params.find("tickers"); it != params.end() && it->is_array()) {
    for (const auto& t : *it) {
      if (!t.is_string()) continue;
      f.tickers += (f.tickers.empty() ? "" : ",") + t.get<std::string>();
    }
  }
  f.start = str("start");
  f.end = str("end");
  f.model = str("model_path");
  if (auto it = params.find("overrides"); it != params.end() && it->is_array()) {
    for (const auto& kv : *it) {
      if (kv.is_string()) f.overrides.push_back(kv.get<std::string>());
    }
  }
  return f;
}

Status ApplyBacktestFlags(const BacktestRunFlags& o, YAML::Node& config) {
  RETURN_IF_ERROR(ApplyOverrides(config, o.overrides));
  if (!o.ticker.empty() && !o.tickers.empty()) {
    return Status::InvalidArgument("give --ticker or --tickers, not both");
  }
  if (!o.ticker.empty() || !o.tickers.empty()) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const std::string& t : SplitCommaList(o.ticker.empty() ? o.tickers : o.ticker)) list.push_back(t);
    if (list.size() == 0) return Status::InvalidArgument("--tickers is empty");
    config["tickers"] = list;
    if (config["ticker"]) config.remove("ticker");
  }
  for (const auto& [flag, key, value] :
       {std::tuple<const char*, const char*, const std::string*>{"--start", "start", &o.start},
        {"--end", "end", &o.end}}) {
    if (value->empty()) continue;
    if (!ParseDate(*value).ok()) {
      return Status::InvalidArgument(std::string(flag) + " must be a date YYYY-MM-DD, got '" + *value + "'");
    }
    config[key] = *value;
  }
  if (!o.model.empty()) {
    YAML::Node strategy = config["strategy"];
    if (!strategy.IsMap()) {
      config["strategy"] = YAML::Node(YAML::NodeType::Map);
      strategy = config["strategy"];
    }
    const std::string type = strategy["type"] && strategy["type"].IsScalar() ? strategy["type"].Scalar() : "";
    if (type.empty() || type == "sma_cross") {
      // A model turns the rule baseline into the model strategy (documented in docs/engine.md).
      strategy["type"] = "signal";
      YAML::Node params(YAML::NodeType::Map);
      params["model_path"] = o.model;
      params["cutoff"] = 0.5;
      strategy["params"] = params;
    } else {
      if (!strategy["params"].IsMap()) strategy["params"] = YAML::Node(YAML::NodeType::Map);
      strategy["params"]["model_path"] = o.model;
    }
  }
  return Status::Ok();
}

ScorerFactory ModelCache::Factory() {
  return [this](const std::string& model_path) -> Result<ScoreFn> {
    std::lock_guard lock(mu_);
    if (auto it = loaded_.find(model_path); it != loaded_.end()) return it->second.first;
    auto scorer = ModelScorer::Load(ws_, model_path);
    if (!scorer.ok()) return scorer.status();
    std::string run_id = scorer->run_id();
    auto shared = std::make_shared<ModelScorer>(std::move(*scorer));
    ScoreFn fn = [shared](const BarSeries& bars) { return shared->Score(bars); };
    loaded_.emplace(model_path, std::make_pair(fn, std::move(run_id)));
    return fn;
  };
}

std::string ModelCache::RunId(const std::string& model_path) const {
  std::lock_guard lock(mu_);
  auto it = loaded_.find(model_path);
  return it == loaded_.end() ? std::string() : it->second.second;
}

Result<YAML::Node> ConfigFileCache::Load(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);  // the cached node is only read (cloned) under the lock
  auto it = files_.find(path);
  if (it == files_.end()) {
    ASSIGN_OR_RETURN(YAML::Node node, LoadYamlConfig(path));
    it = files_.emplace(path, node).first;
  }
  return YAML::Clone(it->second);
}

Result<std::filesystem::path> ConfigFileCache::Resolve(const Workspace& ws, const std::string& user_path,
                                                       PathMust must) {
  return paths_.Resolve(ws, user_path, must);
}

Result<PreparedBacktest> PrepareBacktest(const Workspace& ws, const BacktestRunFlags& flags, ModelCache& models,
                                         ConfigFileCache* files) {
  PreparedBacktest run;
  auto resolve = [&](const std::string& path) {
    return files ? files->Resolve(ws, path, PathMust::kExist) : ws.Resolve(path, PathMust::kExist);
  };
  auto config_path = resolve(flags.config);
  if (!config_path.ok()) return config_path.status().WithContext("--config " + flags.config);
  run.config_path = *config_path;
  auto config = files ? files->Load(*config_path) : LoadYamlConfig(*config_path);
  if (!config.ok()) return config.status();
  RETURN_IF_ERROR(ApplyBacktestFlags(flags, *config));
  // A model from the request brings its dataset, tickers and test period (model_defaults.hpp).
  RETURN_IF_ERROR(ApplyModelDefaults(ws,
                                     {flags.model, !flags.ticker.empty() || !flags.tickers.empty(),
                                      !flags.start.empty(), !flags.end.empty(), flags.overrides},
                                     *config));
  ASSIGN_OR_RETURN(run.spec, ParseBacktestSpec(*config));
  const BacktestSpec& spec = run.spec;
  if (!spec.model_path.empty()) {
    auto model = resolve(spec.model_path);
    if (!model.ok()) {
      return Status::NotFound("model file '" + spec.model_path + "' does not exist or is outside the workspace");
    }
  }
  if (!spec.scores_path.empty()) {
    auto scores = resolve(spec.scores_path);
    if (!scores.ok()) {
      return Status::NotFound("scores file '" + spec.scores_path + "' does not exist or is outside the workspace");
    }
  }
  if (!spec.model_path.empty()) {
    // Open the model (and check its feature set) before any data is read.
    auto early = models.Factory()(spec.model_path);
    if (!early.ok()) return early.status();
  }
  return run;
}

namespace {

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", v * 100);
  return buf;
}

}  // namespace

std::string SummaryLines(const nlohmann::json& s) {
  char buf[256];
  const double invested = s.value("avg_invested_share", 0.0);
  std::snprintf(buf, sizeof buf,
                "summary: CAGR %s, max drawdown %s, Sharpe %.2f, trades %lld, final equity %.2f, invested %s\n",
                Percent(s.value("cagr", 0.0)).c_str(), Percent(s.value("max_drawdown", 0.0)).c_str(),
                s.value("sharpe", 0.0), static_cast<long long>(s.value("trades", int64_t{0})),
                s.value("final_equity", 0.0), Percent(invested).c_str());
  std::string out = buf;
  if (s.value("bars", size_t{0}) > 0 && invested < 0.5) {
    out += "note: the portfolio was only " + Percent(invested) +
           " invested on average (under 50%): max_exposure, drawdown tiers, vol_target, max_weight and "
           "risk-off periods multiply\n";
  }
  return out;
}

Result<std::string> WriteSingleRun(const Workspace& ws, const PreparedBacktest& run, const BacktestContext& context,
                                   const BacktestResult& result, const std::string& bt_run_id, TimePoint created_at,
                                   const std::string& model_run_id, const std::string& job_id,
                                   std::string* summary_json, int backtests_fd, nlohmann::json* summary_out,
                                   JobResult* job_result) {
  const BacktestSpec& spec = run.spec;
  nlohmann::json extra = {
      {"bt_run_id", bt_run_id},
      {"created_at", FormatIso8601(created_at)},
      {"config_path", ws.Relative(run.config_path)},
      {"model_path", spec.model_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(spec.model_path)},
      {"model_run_id", model_run_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(model_run_id)},
      // the alphalab job that ran it (ALPHALAB_JOB_ID), so the Backtest detail links its job; null from a shell
      {"job_id", job_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(job_id)}};
  extra.update(ModelPeriodSummary(ws, spec.model_path, result.dates));
  nlohmann::json summary;
  UniqueFd opened;
  if (backtests_fd < 0) {
    ASSIGN_OR_RETURN(opened, OpenBacktestsFolder(ws));
    backtests_fd = opened.get();
  }
  RETURN_IF_ERROR(WriteBacktestOutputsAt(backtests_fd, bt_run_id, ws.BacktestsDir() / bt_run_id, spec, context,
                                         result, extra, &summary, summary_json));
  if (!job_id.empty()) {
    std::map<std::string, double> headline;
    for (const char* key : kHeadlineMetrics) {
      auto it = summary.find(key);
      if (it != summary.end() && it->is_number()) headline[key] = it->get<double>();
    }
    JobResult written = JobResult::Backtest(job_id, bt_run_id, std::move(headline));
    RETURN_IF_ERROR(WriteJobResult(ws.root(), written));
    if (job_result) *job_result = std::move(written);
  }
  std::string printed = "bt_run_id: " + bt_run_id + "\n" + "out_dir: backtests/" + bt_run_id + "\n" + SummaryLines(summary);
  if (summary_out) *summary_out = std::move(summary);
  return printed;
}

Result<UniqueFd> OpenBacktestsFolder(const Workspace& ws) { return MakeDirsConfined(ws.root(), "backtests"); }

std::string FailureText(const Status& s) { return "error: " + s.message() + "\n"; }

int FailureExitCode(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound ? 2 : 1;
}

}  // namespace alphalab::engine

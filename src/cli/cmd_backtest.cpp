// `alphalab backtest --config configs/backtest/base.yaml [--ticker T|--tickers A,B] [--start D]
//   [--end D] [--model PATH] [--set k=v]... [--grid key=a:b:s]... [--out-jsonl FILE]
//   [--threads N] [--workspace DIR]`
// Single run: writes backtests/<bt_run_id>/, prints `bt_run_id:` / `out_dir:` and a short
// summary (CAGR, max drawdown, Sharpe, trades, final equity, invested share; one more line
// when the portfolio averaged under 50% invested).
// Grid (--grid given): evaluates every combination in this process and prints one JSON line
// per combination (or writes them to --out-jsonl). Every config problem is reported before
// any data is read.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/workspace.hpp"
#include "engine/backtest/runner.hpp"
#include "engine/backtest/spec.hpp"
#include "engine/data/config.hpp"
#include "engine/model/model_defaults.hpp"
#include "engine/model/scorer.hpp"

namespace alphalab::cli {
namespace {

struct BacktestOptions {
  std::string workspace = ".";
  std::string config;
  std::string ticker, tickers, start, end, model;
  std::vector<std::string> overrides;
  std::vector<std::string> grid;
  std::string out_jsonl;
  int threads = 0;
};

int Fail(const Status& s) {
  std::cerr << "error: " << s.message() << std::endl;
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound ? 2 : 1;
}

// Applies the command-line flags on top of the YAML (flags win over --set).
Status ApplyFlags(const BacktestOptions& o, YAML::Node& config) {
  RETURN_IF_ERROR(engine::ApplyOverrides(config, o.overrides));
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

struct ModelInfo {
  std::string run_id;
  std::map<std::string, engine::ScoreFn> loaded;  // model path -> scorer (loaded once)
};

engine::ScorerFactory MakeScorerFactory(const Workspace& ws, std::shared_ptr<ModelInfo> info) {
  return [&ws, info](const std::string& model_path) -> Result<engine::ScoreFn> {
    if (auto it = info->loaded.find(model_path); it != info->loaded.end()) return it->second;
    auto scorer = engine::ModelScorer::Load(ws, model_path);
    if (!scorer.ok()) return scorer.status();
    info->run_id = scorer->run_id();
    auto shared = std::make_shared<engine::ModelScorer>(std::move(*scorer));
    engine::ScoreFn fn = [shared](const engine::BarSeries& bars) { return shared->Score(bars); };
    info->loaded.emplace(model_path, fn);
    return fn;
  };
}

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", v * 100);
  return buf;
}

// The lines printed after a single backtest (summary.json fields).
std::string SummaryLines(const nlohmann::json& s) {
  char buf[256];
  const double invested = s.value("avg_invested_share", 0.0);
  std::snprintf(buf, sizeof buf, "summary: CAGR %s, max drawdown %s, Sharpe %.2f, trades %lld, final equity %.2f, invested %s\n",
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

int RunBacktestCommand(const BacktestOptions& o) {
  auto ws_result = Workspace::Open(o.workspace);
  if (!ws_result.ok()) return Fail(ws_result.status());
  const Workspace& ws = *ws_result;
  auto config_path = ws.Resolve(o.config, PathMust::kExist);
  if (!config_path.ok()) return Fail(config_path.status().WithContext("--config " + o.config));
  auto config = engine::LoadYamlConfig(*config_path);
  if (!config.ok()) return Fail(config.status());
  if (auto s = ApplyFlags(o, *config); !s.ok()) return Fail(s);
  if (auto s = engine::ApplyModelDefaults(ws, {o.model, !o.ticker.empty() || !o.tickers.empty(), !o.start.empty(), !o.end.empty(), o.overrides}, *config); !s.ok()) return Fail(s);
  auto spec = engine::ParseBacktestSpec(*config);
  if (!spec.ok()) return Fail(spec.status());
  if (!spec->model_path.empty()) {
    auto model = ws.Resolve(spec->model_path, PathMust::kExist);
    if (!model.ok()) {
      return Fail(Status::NotFound("model file '" + spec->model_path +
                                   "' does not exist or is outside the workspace"));
    }
  }
  if (!spec->scores_path.empty()) {
    auto scores = ws.Resolve(spec->scores_path, PathMust::kExist);
    if (!scores.ok()) {
      return Fail(Status::NotFound("scores file '" + spec->scores_path +
                                   "' does not exist or is outside the workspace"));
    }
  }
  auto info = std::make_shared<ModelInfo>();
  const auto scorers = MakeScorerFactory(ws, info);
  if (!spec->model_path.empty()) {
    // Open the model (and check its feature set) before any data is read.
    if (auto early = scorers(spec->model_path); !early.ok()) return Fail(early.status());
  }

  if (!o.grid.empty()) {
    std::vector<engine::GridAxis> axes;
    for (const auto& g : o.grid) {
      auto axis = engine::ParseGridAxis(g);
      if (!axis.ok()) return Fail(axis.status());
      axes.push_back(std::move(*axis));
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto cells = engine::RunGrid(ws, *config, axes, scorers, o.threads);
    if (!cells.ok()) return Fail(cells.status());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string lines;
    for (const auto& c : *cells) {
      lines += nlohmann::json{{"params", c.params}, {"metrics", engine::MetricsToJson(c.metrics)}}.dump();
      lines += '\n';
    }
    if (o.out_jsonl.empty()) {
      std::cout << lines;
    } else {
      auto out = ws.Resolve(o.out_jsonl, PathMust::kAny);
      if (!out.ok()) return Fail(out.status().WithContext("--out-jsonl"));
      if (auto s = WriteFileAtomic(*out, lines); !s.ok()) return Fail(s);
      std::cout << "grid_results: " << ws.Relative(*out) << "\n";
    }
    std::cerr << "grid: " << cells->size() << " combinations in " << secs << " s" << std::endl;
    return 0;
  }

  auto context = engine::BacktestContext::Load(ws, *spec);
  if (!context.ok()) return Fail(context.status());
  if (auto s = context->Prepare(*spec, scorers); !s.ok()) return Fail(s);
  auto result = context->Run(*spec, true);
  if (!result.ok()) return Fail(result.status());
  const auto now = SystemClock::Instance().Now();
  const std::string id = MakeTimestampedId("bt", now);
  nlohmann::json extra = {{"bt_run_id", id},
                          {"created_at", FormatIso8601(now)},
                          {"config_path", ws.Relative(*config_path)},
                          {"model_path", spec->model_path.empty() ? nlohmann::json(nullptr)
                                                                  : nlohmann::json(spec->model_path)},
                          {"model_run_id", info->run_id.empty() ? nlohmann::json(nullptr)
                                                                : nlohmann::json(info->run_id)}};
  extra.update(engine::ModelPeriodSummary(ws, spec->model_path, result->dates));
  const auto out_dir = ws.BacktestsDir() / id;
  if (auto s = engine::WriteBacktestOutputs(out_dir, *spec, *context, *result, extra); !s.ok()) {
    return Fail(s);
  }
  std::cout << "bt_run_id: " << id << "\n"
            << "out_dir: backtests/" << id << "\n"
            << SummaryLines(engine::BuildSummary(*spec, *context, *result)) << std::flush;
  return 0;
}

void SetupBacktestCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<BacktestOptions>();
  CLI::App* cmd = app.add_subcommand("backtest", "backtest a strategy from a YAML config into backtests/<bt_run_id>/");
  cmd->add_option("--config", options->config, "backtest config (YAML), inside the workspace")->required();
  cmd->add_option("--ticker", options->ticker, "one ticker (replaces tickers)");
  cmd->add_option("--tickers", options->tickers, "comma-separated tickers (replaces tickers)");
  cmd->add_option("--start", options->start, "first date YYYY-MM-DD");
  cmd->add_option("--end", options->end, "last date YYYY-MM-DD");
  cmd->add_option("--model", options->model,
                  "model file (sets strategy.params.model_path; sma_cross becomes signal, cutoff 0.5); dataset, "
                  "tickers and dates not given here come from the model's run (its test period)");
  cmd->add_option("--set", options->overrides, "override a dotted key: --set strategy.params.fast=5 (repeatable)");
  cmd->add_option("--grid", options->grid,
                  "grid axis: key=start:stop:step | key=a,b,c (repeatable; runs every combination)");
  cmd->add_option("--out-jsonl", options->out_jsonl, "grid: write one JSON line per combination here");
  cmd->add_option("--threads", options->threads, "grid: worker threads (default: all cores)");
  cmd->add_option("--workspace", options->workspace, "workspace directory (default: .)");
  cmd->callback([options, &exit_code] { exit_code = RunBacktestCommand(*options); });
}

}  // namespace

ALPHALAB_REGISTER_COMMAND(40, SetupBacktestCommand);

}  // namespace alphalab::cli

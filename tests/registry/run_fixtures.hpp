// Writers for run and backtest folders in the on-disk format the engine produces
// (src/engine/model/run_metrics.cpp, src/engine/backtest): used where a test needs many or
// deliberately broken folders. Integration tests use real engine output instead.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace alphalab::testing {

inline void WriteText(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

struct TickerMetrics {
  double precision = 0.6;
  double recall = 0.5;
  double lift = 1.2;
  double buy_rate = 0.2;
  double positive_rate = 0.5;
  int64_t tp = 30, fp = 20, tn = 40, fn = 10, support = 100;
};

inline Json TickerJson(const std::string& run_id, const std::string& ticker, const TickerMetrics& m) {
  return Json{{"precision", m.precision},
              {"recall", m.recall},
              {"f1", 2 * m.precision * m.recall / (m.precision + m.recall)},
              {"accuracy", 0.7},
              {"buy_rate", m.buy_rate},
              {"positive_rate", m.positive_rate},
              {"lift", m.lift},
              {"tp", m.tp},
              {"fp", m.fp},
              {"tn", m.tn},
              {"fn", m.fn},
              {"support", m.support},
              {"label_horizon_days", 20},
              {"label_threshold", 0.05},
              {"model_path", "runs/" + run_id + "/model_" + ticker + ".json"}};
}

inline Json MetricsJson(const std::string& run_id, const std::string& mode,
                        const std::map<std::string, TickerMetrics>& tickers,
                        const std::string& start_time = "2026-11-20T10:00:00.000Z") {
  Json per = Json::object();
  for (const auto& [t, m] : tickers) per[t] = TickerJson(run_id, t, m);
  return Json{{"run_id", run_id},
              {"project", "demo"},
              {"mode", mode},
              {"status", "success"},
              {"start_time", start_time},
              {"end_time", "2026-11-20T10:01:00.000Z"},
              {"label_horizon_days", 20},
              {"label_threshold", 0.05},
              {"dataset", "synthetic"},
              {"config_path", "configs/base.yaml"},
              {"per_ticker", per},
              {"split", {{"train_end", "2014-12-31"}}}};
}

// A complete run folder: metrics.json, manifest.json, config.yaml, model files.
inline void WriteRun(const std::filesystem::path& ws, const std::string& run_id,
                     const std::map<std::string, TickerMetrics>& tickers, const std::string& mode = "base",
                     const std::string& start_time = "2026-11-20T10:00:00.000Z") {
  const auto dir = ws / "runs" / run_id;
  WriteText(dir / "metrics.json", MetricsJson(run_id, mode, tickers, start_time).dump(2));
  Json models = Json::object();
  std::vector<std::string> names;
  for (const auto& [t, m] : tickers) {
    models[t] = "runs/" + run_id + "/model_" + t + ".json";
    names.push_back(t);
    WriteText(dir / ("model_" + t + ".json"), "{}");
  }
  WriteText(dir / "manifest.json",
            Json{{"run_id", run_id}, {"status", "success"}, {"mode", mode}, {"tickers", names}, {"models", models}}.dump(2));
  WriteText(dir / "config.yaml", "dataset: synthetic\ntickers: [" + (names.empty() ? "" : names[0]) +
                                      "]\nlabel: {horizon_days: 20, threshold: 0.05}\nmode: " + mode + "\n");
}

inline void WriteBacktest(const std::filesystem::path& ws, const std::string& id, const std::string& strategy,
                          const std::vector<std::string>& tickers, const std::string& model_path = "",
                          const std::string& created_at = "2026-11-20T11:00:00.000Z", int equity_points = 10) {
  const auto dir = ws / "backtests" / id;
  Json s{{"bt_run_id", id},
         {"created_at", created_at},
         {"strategy", {{"type", strategy}, {"params", model_path.empty() ? Json{{"fast", 10}, {"slow", 50}}
                                                                         : Json{{"model_path", model_path}, {"cutoff", 0.5}}}}},
         {"dataset", "synthetic"},
         {"tickers", tickers},
         {"start", "2015-01-02"},
         {"end", "2020-12-31"},
         {"config_path", "configs/backtest/base.yaml"},
         {"cagr", 0.071},
         {"max_drawdown", 0.12},
         {"sharpe", 0.9},
         {"sortino", 1.1},
         {"volatility", 0.15},
         {"total_return", 0.5},
         {"trades", 7},
         {"win_rate", 0.57},
         {"exposure", 0.6},
         {"final_equity", 1500000.0},
         {"initial_cash", 1000000.0},
         {"open_position", false},
         {"statistics", {{"Compounding Annual Return", "7.1%"}, {"Drawdown", "12.0%"}}}};
  if (!model_path.empty()) s["model_path"] = model_path;
  WriteText(dir / "summary.json", s.dump(2));
  std::string equity = "date,equity,cash,holdings,drawdown\n";
  double peak = 0;
  for (int i = 0; i < equity_points; ++i) {
    // A wave with a deep trough at 60% of the way and the peak at 30%.
    double e = 1000000 + 1000.0 * i;
    if (i == equity_points * 3 / 10) e = 2000000;
    if (i == equity_points * 6 / 10) e = 500000;
    peak = std::max(peak, e);
    char line[160];
    std::snprintf(line, sizeof line, "2015-01-%02d,%.2f,%.2f,%.2f,%.6f\n", 1 + i % 28, e, e / 2, e / 2, e / peak - 1);
    equity += line;
  }
  WriteText(dir / "equity.csv", equity);
  WriteText(dir / "trades.csv",
            "symbol,entry_date,entry_price,exit_date,exit_price,shares,pnl,return,fees\n"
            "SYNA,2015-01-05,10.5,2015-02-05,11.5,100,95.5,0.095,4.5\n"
            "SYNA,2015-03-05,12,,,50,,,0.6\n");
  WriteText(dir / "config.yaml", "strategy: {type: " + strategy + "}\n");
}

}  // namespace alphalab::testing

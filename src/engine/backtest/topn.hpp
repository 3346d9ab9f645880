// `topn`: a cross-sectional long-only portfolio on per-instrument scores (docs/engine.md, "topn").
// Same fill semantics as every strategy: targets are decided on the close of bar t from
// data up to t and traded at the open of t+1 in whole shares with the fee on both sides.
// docs/engine.md describes every parameter; the short version:
//   rebalance: daily | weekly (first bar of the week on/after rebalance_day, Monday..Friday)
//              | monthly (first bar of the month on/after day rebalance_day, 1..28)
//   selection: instruments with a score >= min_score ranked by score (ties alphabetical);
//              held names stay while their rank < top_n + retain_top_n, new names fill up
//              to top_n
//   weights:   equal (1 / names chosen) | score (proportional to positive scores); each
//              name's target weight is min(w x max_exposure x tier x vol_scale, max_weight),
//              multiplied in that order (the excess over max_weight stays in cash):
//              tier = drawdown_exposures[i] of the deepest drawdown tier reached
//              (dynamic_exposure), vol_scale = min(1, vol_target / est. annualized vol of
//              the target portfolio over vol_window bars)
//   risk-off:  market_filter (market close < its market_ma_window SMA), drawdown from the
//              high-water mark >= max_drawdown (the mark then resets to current equity), or
//              drawdown from the 252-bar high >= max_drawdown_52w -> risk_off_mode:
//              cash (flat) | defensive (risk_off_symbols, picked by risk_off_pick:
//              lowest_vol | highest_momentum | all), each pick max_exposure x tier / picks
//   delisting: a held instrument is sold at the close of its last bar (the series ends
//              before the calendar does) at close x (1 - delisting_haircut)
//   gaps:      a held name without a bar on a decision day is kept as it is (it takes a
//              slot of top_n); a name without a bar on the fill day is not traded that day
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "engine/backtest/result.hpp"
#include "engine/data/bars.hpp"

namespace alphalab::engine {

enum class RebalanceFrequency { kDaily, kWeekly, kMonthly };
enum class Weighting { kEqual, kScore };
enum class RiskOffMode { kCash, kDefensive };
enum class RiskOffPick { kLowestVol, kHighestMomentum, kAll };

struct TopNParams {
  int top_n = 10;
  int retain_top_n = 0;
  Weighting weighting = Weighting::kEqual;
  double min_score = -1e300;           // "none"
  bool market_filter = false;
  int market_ma_window = 200;
  std::string market_symbol = "SYNMKT";
  RebalanceFrequency rebalance_frequency = RebalanceFrequency::kWeekly;
  int rebalance_day = 0;               // weekly: 0 = Monday .. 4 = Friday; monthly: 1..28
  int rebalance_time_minutes = 0;      // recorded only (daily bars)
  bool dynamic_exposure = false;
  std::vector<double> drawdown_tiers, drawdown_exposures;
  double max_drawdown = 0;             // 0 = off
  double max_drawdown_52w = 0;         // 0 = off
  RiskOffMode risk_off_mode = RiskOffMode::kCash;
  RiskOffPick risk_off_pick = RiskOffPick::kLowestVol;
  std::vector<std::string> risk_off_symbols{"SYNBOND", "SYNGOLD"};
  double max_exposure = 1.0;
  double vol_target = 0;               // annualized; 0 = off
  int vol_window = 63;
  double max_weight = 1.0;
  double initial_cash = 1'000'000;
  double fee_bps = 10;
  double delisting_haircut = 0;        // fraction taken off the last close of a delisted name
};

// `scores[k]` is aligned with `universe.series[k]` (one per bar, NaN = no score). The
// market symbol and the risk-off symbols take part only in their roles, never in the
// ranking. Returns InvalidArgument when a symbol the parameters need is not loaded.
// Warm-up: calendar days before `trade_from` are history only (market SMA, volatility and
// momentum look-backs, scores); the first decision is taken on the close of the first day
// >= trade_from and the curve and metrics start there.
Result<BacktestResult> RunTopN(const Universe& universe, const std::vector<std::vector<double>>& scores,
                               const TopNParams& params, bool record_curves = true,
                               int32_t trade_from = INT32_MIN);

}  // namespace alphalab::engine

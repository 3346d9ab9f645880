// What a backtest produces: the close-marked equity curve, closed round trips, the open
// position(s) at the end, and the metrics computed from them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/metrics/performance.hpp"

namespace alphalab::engine {

// Why an order was placed (fills.csv `reason`, trades.csv `exit_reason` of the closing fill):
// signal (sma_cross / signal), rebalance (topn targets), risk_off (market filter),
// drawdown_stop (max_drawdown / max_drawdown_52w), delisted (the instrument's last bar).
// kEnd is never a fill: it is the trades.csv exit_reason of a position still open at the
// last bar (marked at the last close, no exit fee; not counted in `trades`).
enum class FillReason : uint8_t { kSignal, kRebalance, kRiskOff, kDrawdownStop, kDelisted, kEnd };

// One closed round trip: from a flat position to flat again. With partial resizing (topn)
// entry_price / exit_price are share-weighted averages and `shares` the shares bought.
struct Trade {
  std::string symbol;
  int32_t entry_date = 0;
  double entry_price = 0;
  int32_t exit_date = 0;
  double exit_price = 0;
  double shares = 0;
  double pnl = 0;     // exit proceeds - exit fee - (entry cost + entry fee)
  double ret = 0;     // pnl / (entry cost + entry fee)
  double fees = 0;    // entry + exit fees
  FillReason exit_reason = FillReason::kSignal;  // reason of the fill that closed it
};

// One order as filled.
struct Fill {
  int32_t date = 0;
  std::string symbol;
  bool buy = true;
  double shares = 0;
  double price = 0;
  double fee = 0;
  FillReason reason = FillReason::kSignal;
};

// A holding at a day's close (positions.csv); `symbol` kCashSymbol is the cash line.
struct PositionRow {
  int32_t date = 0;
  std::string symbol;
  double shares = 0;
  double price = 0;
  double weight = 0;  // shares x price / equity at that close
};
inline constexpr std::string_view kCashSymbol = "$CASH";

// One instrument's score at a decision close (scores.csv). rank: 1 = best among the ranked
// names of that day (ties alphabetical); selected: part of the targets decided that day.
struct ScoreRow {
  int32_t date = 0;
  std::string symbol;
  double score = 0;
  int rank = 0;
  bool selected = false;
};

// Consecutive bars spent risk-off because of a drawdown stop (a lock-out).
struct Spell {
  int32_t start = 0, end = 0;
  size_t bars = 0;
};

// A position still held on the last bar (marked at the last close, no exit fee).
struct OpenPosition {
  std::string symbol;
  int32_t entry_date = 0;
  double entry_price = 0;   // share-weighted average
  double shares = 0;
  double last_close = 0;
  double market_value = 0;
  double unrealized_pnl = 0;  // market value - (entry cost + entry fees)
  // For its trades.csv row (exit_reason end): the shares bought since entry (topn resizes
  // may have sold some), entry notional + entry fees, and every fee paid so far.
  double bought_shares = 0;
  double cost_basis = 0;
  double fees = 0;
};

struct BacktestResult {
  // One row per bar of the backtest calendar (empty when curves were not requested).
  std::vector<int32_t> dates;
  std::vector<double> equity, cash, holdings;
  std::vector<Trade> trades;
  std::vector<OpenPosition> open_positions;
  PerformanceMetrics metrics;
  // Recorded with the curves: every order, scores at each decision (model-driven
  // strategies), snapshots of the holdings (filled in by the runner from the fills).
  std::vector<Fill> fills;
  std::vector<ScoreRow> scores;
  std::vector<PositionRow> positions;
  // topn: share of the traded bars under a risk-off decision, and the drawdown-stop spells.
  double risk_off_share = 0;
  std::vector<Spell> lockout_spells;
};

// Fee rate from basis points (10 bps -> 0.001).
inline double FeeRate(double fee_bps) { return fee_bps / 10000.0; }

inline std::string_view FillReasonName(FillReason reason) {
  switch (reason) {
    case FillReason::kSignal: return "signal";
    case FillReason::kRebalance: return "rebalance";
    case FillReason::kRiskOff: return "risk_off";
    case FillReason::kDrawdownStop: return "drawdown_stop";
    case FillReason::kDelisted: return "delisted";
    case FillReason::kEnd: return "end";
  }
  return "?";
}

}  // namespace alphalab::engine

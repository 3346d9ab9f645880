// What a backtest produces: the close-marked equity curve, closed round trips, the open
// position(s) at the end, and the metrics computed from them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/metrics/performance.hpp"

namespace alphalab::engine {

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
};

struct BacktestResult {
  // One row per bar of the backtest calendar (empty when curves were not requested).
  std::vector<int32_t> dates;
  std::vector<double> equity, cash, holdings;
  std::vector<Trade> trades;
  std::vector<OpenPosition> open_positions;
  PerformanceMetrics metrics;
};

// Fee rate from basis points (10 bps -> 0.001).
inline double FeeRate(double fee_bps) { return fee_bps / 10000.0; }

}  // namespace alphalab::engine

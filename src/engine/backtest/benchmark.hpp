// The buy-and-hold benchmark of a backtest, drawn over its equity curve: the same starting
// equity put into the instruments the strategy trades, over exactly the backtest's bars.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/bars.hpp"

namespace alphalab::engine {

struct Benchmark {
  // "buy_and_hold" (one instrument) or "equal_weight" (an equal share of each).
  std::string kind;
  std::vector<std::string> symbols;
  std::vector<double> values;  // one per date: the benchmark's equity at that close
  double total_return = 0;     // values.back() / initial_cash - 1
};

// Same entry convention as the strategies (docs/engine.md): nothing is known before the first
// bar's close, so each instrument is bought at the open of the second bar (or its first bar
// after that), frictionless and in fractional shares, with initial_cash / symbols.size();
// before that its share is cash. It is then marked at its last close on or before each date
// (a delisted instrument keeps its last close). Empty `values` when there are fewer than
// two dates or no symbol is found in `universe`.
Benchmark BuyAndHold(const Universe& universe, const std::vector<std::string>& symbols,
                     const std::vector<int32_t>& dates, double initial_cash);

}  // namespace alphalab::engine

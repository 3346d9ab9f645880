#include "engine/backtest/benchmark.hpp"

#include <algorithm>

namespace alphalab::engine {

Benchmark BuyAndHold(const Universe& universe, const std::vector<std::string>& symbols,
                     const std::vector<int32_t>& dates, double initial_cash) {
  Benchmark b;
  std::vector<const BarSeries*> series;
  for (const std::string& s : symbols) {
    if (const BarSeries* found = universe.Find(s)) {
      series.push_back(found);
      b.symbols.push_back(found->symbol);
    }
  }
  b.kind = b.symbols.size() == 1 ? "buy_and_hold" : "equal_weight";
  if (dates.size() < 2 || series.empty()) return b;
  const double share = initial_cash / static_cast<double>(series.size());
  b.values.assign(dates.size(), 0.0);
  for (const BarSeries* s : series) {
    // The entry bar: the first on or after the second date.
    const auto first = std::lower_bound(s->date.begin(), s->date.end(), dates[1]);
    const size_t entry = static_cast<size_t>(first - s->date.begin());
    const double shares = entry < s->size() ? share / s->open[entry] : 0.0;
    size_t j = entry;  // the next bar not yet passed
    double value = share;
    for (size_t t = 0; t < dates.size(); ++t) {
      while (j < s->size() && s->date[j] <= dates[t]) ++j;
      if (shares > 0 && j > entry) value = shares * s->close[j - 1];
      b.values[t] += value;
    }
  }
  b.total_return = b.values.back() / initial_cash - 1.0;
  return b;
}

}  // namespace alphalab::engine

#include "engine/data/bars.hpp"

#include <algorithm>

namespace alphalab::engine {

void BarSeries::Reserve(size_t n) {
  date.reserve(n);
  for (auto* col : {&open, &high, &low, &close, &adj_close, &volume}) col->reserve(n);
}

void BarSeries::Clear() {
  date.clear();
  for (auto* col : {&open, &high, &low, &close, &adj_close, &volume}) col->clear();
}

void BarSeries::Clip(int32_t start, int32_t end) {
  const auto first = std::lower_bound(date.begin(), date.end(), start) - date.begin();
  const auto last = std::upper_bound(date.begin(), date.end(), end) - date.begin();
  const auto lo = static_cast<size_t>(first);
  const auto hi = static_cast<size_t>(std::max(first, last));
  auto cut = [&](auto& col) {
    col.erase(col.begin() + static_cast<std::ptrdiff_t>(hi), col.end());
    col.erase(col.begin(), col.begin() + static_cast<std::ptrdiff_t>(lo));
  };
  cut(date);
  for (auto* col : {&open, &high, &low, &close, &adj_close, &volume}) cut(*col);
}

const BarSeries* Universe::Find(std::string_view symbol) const {
  for (const auto& s : series) {
    if (s.symbol == symbol) return &s;
  }
  return nullptr;
}

std::vector<std::string> Universe::Symbols() const {
  std::vector<std::string> out;
  out.reserve(series.size());
  for (const auto& s : series) out.push_back(s.symbol);
  return out;
}

void Universe::BuildCalendar() {
  calendar.clear();
  for (const auto& s : series) calendar.insert(calendar.end(), s.date.begin(), s.date.end());
  // One instrument (every sma_cross grid) has its ascending dates already: no sort (it was
  // 3% of a 100-combination grid loaded from a workspace, twice).
  if (!std::is_sorted(calendar.begin(), calendar.end())) std::sort(calendar.begin(), calendar.end());
  calendar.erase(std::unique(calendar.begin(), calendar.end()), calendar.end());
}

}  // namespace alphalab::engine

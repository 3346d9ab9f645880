// Daily bars in columnar form: one BarSeries per instrument, a Universe for many.
// Dates are days since 1970-01-01 (core/clock.hpp ParseDate / FormatDate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace alphalab::engine {

// One instrument; dates strictly ascending (no duplicates); all columns the same length.
// adj_close equals close when the source has no adjusted close.
struct BarSeries {
  std::string symbol;
  std::vector<int32_t> date;
  std::vector<double> open, high, low, close, adj_close, volume;

  size_t size() const { return date.size(); }
  void Reserve(size_t n);
  void Clear();
  // Keeps only bars with start <= date <= end.
  void Clip(int32_t start, int32_t end);
};

struct Universe {
  std::vector<BarSeries> series;   // in the order requested (or sorted by symbol)
  std::vector<int32_t> calendar;   // union of every series' dates, ascending

  const BarSeries* Find(std::string_view symbol) const;
  std::vector<std::string> Symbols() const;
  // Rebuilds `calendar` from the series.
  void BuildCalendar();
};

}  // namespace alphalab::engine

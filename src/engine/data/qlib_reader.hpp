// A Qlib data directory: calendars/day.txt, instruments/*.txt ("SYMBOL<TAB>start<TAB>end"),
// features/<symbol lowercase>/<field>.day.bin (little-endian float32; the first value is
// the series' start index into the calendar, then one value per calendar day).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "engine/data/bars.hpp"

namespace alphalab::engine {

struct QlibIndex {
  std::filesystem::path root;
  std::vector<int32_t> calendar;
  // Upper-cased symbol -> the instruments file that lists it (first one wins; all.txt first).
  std::map<std::string, std::string> instruments;
};

Result<QlibIndex> OpenQlibIndex(const std::filesystem::path& root);

// Reads open/high/low/close/volume for one instrument. Prices are Qlib's (adjusted)
// prices; adj_close = close. Errors: instrument not in the index, missing feature folder
// or field file, a span past the calendar, field lengths that disagree, NaN inside the
// span (a gap vs the calendar), non-positive prices, high < low.
Result<BarSeries> LoadQlibInstrument(const QlibIndex& index, const std::string& symbol);

// Writes one instrument in Qlib layout (used by tests and `data synth --format qlib`).
Status WriteQlibField(const std::filesystem::path& file, uint32_t start_index,
                      const std::vector<float>& values);

}  // namespace alphalab::engine

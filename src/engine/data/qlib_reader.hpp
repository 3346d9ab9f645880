// A Qlib data directory: calendars/day.txt, instruments/*.txt ("SYMBOL<TAB>start<TAB>end"),
// features/<symbol lowercase>/<field>.day.bin (little-endian float32; the first value is
// the series' start index into the calendar, then one value per calendar day).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/status.hpp"
#include "engine/data/bars.hpp"

namespace alphalab::engine {

struct QlibIndex {
  std::filesystem::path root;
  std::vector<int32_t> calendar;
  // Upper-cased symbol -> the instruments file that lists it (first one wins; all.txt first).
  std::map<std::string, std::string> instruments;
  // Upper-cased symbol -> its listed span [start, end] (days since 1970-01-01) from that file:
  // the earliest start and the latest end of its lines there (an index file such as
  // csi300.txt lists one line per membership period). all.txt holds the listing span, so
  // its end date is the delisting date when it is before the calendar's last day.
  std::map<std::string, std::pair<int32_t, int32_t>> spans;
};

Result<QlibIndex> OpenQlibIndex(const std::filesystem::path& root);

// Reads open/high/low/close/volume for one instrument. Prices are Qlib's (adjusted)
// prices; adj_close = close. Only the bars inside the instrument's listed span (QlibIndex::
// spans) are kept: a feature file running past the instruments file's end date (or holding
// NaN padding there) ends at that date, so the instrument delists on it. Errors: instrument not in the index, missing feature folder
// or field file, a span past the calendar, field lengths that disagree, NaN inside the
// span (a gap vs the calendar), non-positive prices, high < low.
Result<BarSeries> LoadQlibInstrument(const QlibIndex& index, const std::string& symbol);

// Writes one instrument in Qlib layout (used by tests and `data synth --format qlib`).
Status WriteQlibField(const std::filesystem::path& file, uint32_t start_index,
                      const std::vector<float>& values);

}  // namespace alphalab::engine

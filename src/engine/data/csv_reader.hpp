// One instrument per CSV file: Yahoo (Date,Open,High,Low,Close,Adj Close,Volume) and
// Stooq / vega-datasets (date,open,high,low,close,adjclose,volume) headers, any case.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "engine/data/bars.hpp"

namespace alphalab::engine {

// Parses CSV text. `display_name` prefixes every error ("data/demo/SPX.csv:12: ...").
// Validation: known header, parseable dates (YYYY-MM-DD) and numbers, strictly ascending
// dates (duplicates and disorder reported with both dates), prices > 0, high >= low,
// volume >= 0. Adj close defaults to close, volume to 0 when the column is absent.
Result<BarSeries> ParseBarsCsv(std::string_view text, std::string symbol,
                               std::string_view display_name);

// Reads <file>; uses/refreshes a binary cache in <file's dir>/.cache/<stem>.bin keyed by
// the CSV's size and mtime (a cache that cannot be written is silently skipped).
Result<BarSeries> LoadBarsCsv(const std::filesystem::path& file, std::string symbol,
                              std::string_view display_name, bool use_cache = true);

// Writes a series as date,open,high,low,close,adjclose,volume.
std::string FormatBarsCsv(const BarSeries& s);

// The field parsers of the reader, shared by the engine's other CSV inputs (scores files):
// a YYYY-MM-DD date (quotes and a time suffix ignored) as days since 1970-01-01, and a
// finite number (surrounding spaces and quotes ignored).
bool ParseCsvDate(std::string_view field, int32_t& days);
bool ParseCsvNumber(std::string_view field, double& value);
// Splits one CSV line (no quoting) into at most `max_fields` fields; returns the count.
int SplitCsvLine(std::string_view line, std::string_view* fields, int max_fields);

// The line loop of the engine's CSV inputs: for every non-empty line of `text` (LF or CRLF;
// `line_no` counts every line from 1, empty ones included) calls fn(line_no, n) with the line
// split into `fields` (n of them, at most `max_fields`). Stops at, and returns, the first error
// fn returns.
template <typename Fn>
Status ForEachCsvLine(std::string_view text, std::string_view* fields, int max_fields, Fn&& fn) {
  size_t pos = 0;
  uint32_t line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    RETURN_IF_ERROR(fn(line_no, SplitCsvLine(line, fields, max_fields)));
  }
  return Status::Ok();
}

}  // namespace alphalab::engine

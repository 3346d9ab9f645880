// The CSV parser for files alphalab reads but does not write itself (a run's or backtest's
// CSV shown by the API, Qlib's qlib_res.csv). The engine's bar and scores files go through
// engine/data/csv_reader.hpp instead: a faster splitter without quoting, for its own formats.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace alphalab {

struct CsvRecord {
  size_t line = 0;  // 1-based line the record starts on
  std::vector<std::string> fields;
};

// RFC 4180: fields separated by ',', records by LF or CRLF; a field that starts with '"' is
// quoted (a comma or line break inside it is data, "" is one quote); characters after its
// closing quote are kept as they are. Empty lines are skipped; a UTF-8 byte order mark is
// dropped. A quote left open at the end is an InvalidArgument naming its record's line.
Result<std::vector<CsvRecord>> ParseCsvRecords(std::string_view text);

}  // namespace alphalab

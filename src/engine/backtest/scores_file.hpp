// Bring-your-own scores (strategy.params.scores_path): a CSV of `date,symbol,score` rows, e.g.
// a Qlib / RD-Agent prediction exported from pred.pkl. Header names match in any case and
// order (`datetime` and `instrument` are accepted for date and symbol; other columns are
// ignored). A row's score is the score of that bar's close, used like a model's: decided on
// bar t's close, filled at bar t + 1's open.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "engine/data/bars.hpp"

namespace alphalab::engine {

struct ScoresFileOptions {
  // Every instrument of the dataset: a row for one of them that is not loaded is skipped;
  // a symbol outside this list is an error. Empty: the universe's symbols.
  std::vector<std::string> dataset_symbols;
  // The backtest's end date: rows dated after it are skipped (the data was loaded up to it).
  std::optional<int32_t> end;
};

// One score vector per `universe.series` (aligned with its bars; NaN where the file has no
// row). Errors are InvalidArgument naming `display_name` and the line: a missing column, a
// bad date or score, an unknown symbol, a date the symbol has no bar on (before its first
// bar, after its last, a gap or a holiday), a date after the data's last day, a duplicate
// (date, symbol) row (naming both lines), a file without rows.
Result<std::vector<std::vector<double>>> ParseScoresCsv(std::string_view text, std::string_view display_name,
                                                        const Universe& universe,
                                                        const ScoresFileOptions& options = {});

}  // namespace alphalab::engine

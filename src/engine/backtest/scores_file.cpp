#include "engine/backtest/scores_file.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <unordered_map>

#include "core/clock.hpp"
#include "engine/data/csv_reader.hpp"

namespace alphalab::engine {
namespace {

std::string Canon(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '\r' || c == '\xEF' || c == '\xBB' || c == '\xBF') continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

constexpr long kNotLoaded = -1;

}  // namespace

Result<std::vector<std::vector<double>>> ParseScoresCsv(std::string_view text, std::string_view display_name,
                                                        const Universe& u, const ScoresFileOptions& o) {
  const std::string where(display_name);
  // Symbol -> series index (exact, then case-insensitive); kNotLoaded for dataset symbols
  // this backtest did not load.
  std::unordered_map<std::string, long> exact, folded;
  for (const auto& sym : o.dataset_symbols) {
    exact.emplace(sym, kNotLoaded);
    folded.emplace(Canon(sym), kNotLoaded);
  }
  for (size_t i = 0; i < u.series.size(); ++i) {
    exact[u.series[i].symbol] = static_cast<long>(i);
    folded[Canon(u.series[i].symbol)] = static_cast<long>(i);
  }
  const int32_t last_day = u.calendar.empty() ? INT32_MIN : u.calendar.back();
  std::vector<std::vector<double>> scores(u.series.size());
  std::vector<std::vector<uint32_t>> line_of(u.series.size());
  for (size_t i = 0; i < u.series.size(); ++i) {
    scores[i].assign(u.series[i].size(), std::numeric_limits<double>::quiet_NaN());
    line_of[i].assign(u.series[i].size(), 0);
  }
  int col_date = -1, col_symbol = -1, col_score = -1, ncols = 0;
  bool header_done = false;
  size_t rows = 0;
  std::string_view fields[64];
  RETURN_IF_ERROR(ForEachCsvLine(text, fields, 64, [&](uint32_t line_no, int n) -> Status {
    auto at = [&] { return where + ":" + std::to_string(line_no) + ": "; };
    if (!header_done) {
      for (int i = 0; i < n; ++i) {
        const std::string name = Canon(fields[i]);
        if ((name == "DATE" || name == "DATETIME") && col_date < 0) col_date = i;
        if ((name == "SYMBOL" || name == "INSTRUMENT") && col_symbol < 0) col_symbol = i;
        if (name == "SCORE" && col_score < 0) col_score = i;
      }
      for (const auto& [col, name] : {std::pair{col_date, "date"}, {col_symbol, "symbol"}, {col_score, "score"}}) {
        if (col < 0) {
          return Status::InvalidArgument(at() + "header has no '" + name + "' column (expected date,symbol,score)");
        }
      }
      ncols = std::max({col_date, col_symbol, col_score}) + 1;
      header_done = true;
      return Status::Ok();
    }
    if (n < ncols) {
      return Status::InvalidArgument(at() + "expected at least " + std::to_string(ncols) + " fields, got " +
                                     std::to_string(n));
    }
    int32_t day;
    if (!ParseCsvDate(fields[col_date], day)) {
      return Status::InvalidArgument(at() + "bad date '" + std::string(fields[col_date]) + "' (expected YYYY-MM-DD)");
    }
    double score;
    if (!ParseCsvNumber(fields[col_score], score)) {
      return Status::InvalidArgument(at() + "bad score '" + std::string(fields[col_score]) + "'");
    }
    std::string symbol(fields[col_symbol]);
    while (!symbol.empty() && (symbol.front() == ' ' || symbol.front() == '"')) symbol.erase(symbol.begin());
    while (!symbol.empty() && (symbol.back() == ' ' || symbol.back() == '"')) symbol.pop_back();
    long index = kNotLoaded;
    if (auto e = exact.find(symbol); e != exact.end()) {
      index = e->second;
    } else if (auto f = folded.find(Canon(symbol)); f != folded.end()) {
      index = f->second;
    } else {
      return Status::InvalidArgument(at() + "unknown symbol '" + symbol + "' (not in the dataset)");
    }
    ++rows;
    if (o.end && day > *o.end) return Status::Ok();  // after the backtest's end: not loaded
    if (day > last_day) {
      return Status::InvalidArgument(at() + "date " + FormatDate(day) + " is after the data's last day " +
                                     FormatDate(last_day));
    }
    if (index == kNotLoaded) return Status::Ok();
    const size_t i = static_cast<size_t>(index);
    const auto& dates = u.series[i].date;
    const auto bar = std::lower_bound(dates.begin(), dates.end(), day);
    if (bar == dates.end() || *bar != day) {
      return Status::InvalidArgument(at() + u.series[i].symbol + " has no bar on " + FormatDate(day));
    }
    const size_t j = static_cast<size_t>(bar - dates.begin());
    if (line_of[i][j]) {
      return Status::InvalidArgument(at() + "duplicate score for " + u.series[i].symbol + " on " + FormatDate(day) +
                                     " (first on line " + std::to_string(line_of[i][j]) + ")");
    }
    line_of[i][j] = line_no;
    scores[i][j] = score;
    return Status::Ok();
  }));
  if (!header_done) return Status::InvalidArgument(where + ": empty file (expected a date,symbol,score header)");
  if (rows == 0) return Status::InvalidArgument(where + ": no score rows");
  return scores;
}

}  // namespace alphalab::engine

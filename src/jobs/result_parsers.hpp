// Named result parsers: turn the result file of a job into a flat map of numeric metrics
// (non-numeric fields are kept aside as strings). Optimizations rank tasks and constraints
// read metrics through exactly these (docs/optimizations.md, "Result parsers").
//
//   alphalab_summary  an alphalab backtest summary.json: every numeric top-level key
//                     (cagr, max_drawdown, sharpe, final_equity, ...), plus the LEAN-named
//                     entries of its `statistics` object read like lean_summary.
//   lean_summary      a LEAN `*-summary.json`: the `statistics` object under LEAN's names
//                     ("Sharpe Ratio", "Drawdown", ...); percentages become fractions
//                     ("20.0%" -> 0.2), money strings become numbers ("$1,234.56");
//                     `runtimeStatistics` entries are kept as "runtimeStatistics.<name>".
//   qlib_res          Qlib / RD-Agent qlib_res.csv: first column the metric name ("IC",
//                     "1day.excess_return_with_cost.annualized_return", ...), second its value.
//
// Malformed input is an InvalidArgument Status naming the parser and the problem; nothing throws.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab {

enum class ResultParserKind { kAlphalabSummary, kLeanSummary, kQlibRes };

inline constexpr ResultParserKind kAllResultParsers[] = {
    ResultParserKind::kAlphalabSummary, ResultParserKind::kLeanSummary, ResultParserKind::kQlibRes};

std::string_view ResultParserName(ResultParserKind kind);  // "alphalab_summary", ...
std::optional<ResultParserKind> ParseResultParserName(std::string_view name);

struct ParsedResult {
  std::map<std::string, double> metrics;       // finite numbers only
  std::map<std::string, std::string> strings;  // fields that are not numbers (ids, names, "")
};

Result<ParsedResult> ParseAlphalabSummary(std::string_view text);
// ParseAlphalabSummary of a summary already held as a JSON object (the optimization fast path
// has the tree it dumped to summary.json): the same result as parsing the dumped text; a NaN
// or infinite number, written to the file as null, is skipped as null is.
Result<ParsedResult> ParseAlphalabSummaryJson(const Json& root);
Result<ParsedResult> ParseLeanSummary(std::string_view text);
Result<ParsedResult> ParseQlibRes(std::string_view text);
Result<ParsedResult> ParseResultText(ResultParserKind kind, std::string_view text);

// Reads the file (at most kMaxResultFileBytes) and parses it; errors name the path.
inline constexpr uintmax_t kMaxResultFileBytes = 64ull << 20;
Result<ParsedResult> ParseResultFile(ResultParserKind kind, const std::filesystem::path& path);

// The metric names a parser always yields for a well-formed file, when that set is closed:
// alphalab_summary -> the numeric summary.json fields and the LEAN-named statistics the
// engine writes; lean_summary and qlib_res -> nullopt (algorithms and Qlib recorders add
// their own names). Request validation uses it to refuse an unknown objective metric.
std::optional<std::set<std::string>> KnownMetricNames(ResultParserKind kind);

// Whether `name` can be a numeric metric of a well-formed file of this parser: the closed set
// above for alphalab_summary; for lean_summary LEAN's statistic names (kLeanStatisticNames) and
// any "runtimeStatistics.<name>" (algorithms add their own runtime statistics); for qlib_res
// "IC", "ICIR", "Rank IC", "Rank ICIR" and Qlib's portfolio-analysis names
// "<freq>.<excess_return_without_cost|excess_return_with_cost>.<mean|std|annualized_return|
// information_ratio|max_drawdown>" and "<freq>.<pa|pos|ffr>" (freq like "1day", "5min").
// Request validation refuses an objective or constraint metric for which this is false.
bool IsKnownMetricName(ResultParserKind kind, std::string_view name);

// The `statistics` names of a LEAN backtest summary (LEAN's StatisticsBuilder).
extern const std::set<std::string, std::less<>> kLeanStatisticNames;

// One LEAN statistic string as a number: "1.2" -> 1.2, "10.0%" / "63.11 %" -> fraction,
// "$1,234.56" / "-$47.70" / "$-47.70" -> money, "1,151" -> 1151. Anything else (an asset
// name, a hash, "", "NaN") -> nullopt.
std::optional<double> ParseLeanNumber(std::string_view text);

}  // namespace alphalab

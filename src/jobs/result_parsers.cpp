#include "jobs/result_parsers.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "core/csv.hpp"
#include "core/json.hpp"
#include "core/text.hpp"

namespace alphalab {

namespace {

// The whole of `s` as a finite double (no leading '+', no spaces), else nullopt.
std::optional<double> ParsePlainNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

Status ParseError(std::string_view parser, std::string message) {
  return Status::InvalidArgument(std::string(parser) + ": " + message,
                                 Json{{"parser", std::string(parser)}});
}

Result<Json> ParseJsonObject(std::string_view parser, std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return ParseError(parser, "the file is not valid JSON");
  if (!j.is_object()) {
    return ParseError(parser, std::string("the top level must be a JSON object, got ") + j.type_name());
  }
  return j;
}

// One LEAN statistics object into `out` (keys prefixed by `prefix`); numbers as numbers,
// numeric strings via ParseLeanNumber, the rest aside as strings.
Status ReadLeanStatistics(std::string_view parser, const Json& stats, std::string_view field,
                          const std::string& prefix, bool overwrite, ParsedResult& out) {
  if (!stats.is_object()) {
    return ParseError(parser, "'" + std::string(field) + "' must be an object, got " + stats.type_name());
  }
  for (const auto& [name, value] : stats.items()) {
    const std::string key = prefix + name;
    if (!overwrite && (out.metrics.count(key) || out.strings.count(key))) continue;
    if (value.is_number()) {
      const double d = value.get<double>();
      if (std::isfinite(d)) {
        out.metrics[key] = d;
        continue;
      }
    }
    if (value.is_string()) {
      const auto& s = value.get_ref<const std::string&>();
      if (auto d = ParseLeanNumber(s)) {
        out.metrics[key] = *d;
      } else {
        out.strings[key] = s;
      }
      continue;
    }
    if (value.is_null() || value.is_number()) {  // a NaN or infinite number is written as null
      out.strings[key] = "";
      continue;
    }
    return ParseError(parser, "'" + std::string(field) + "." + name +
                                  "' must be a string or a number, got " + value.type_name());
  }
  return Status::Ok();
}

}  // namespace

std::string_view ResultParserName(ResultParserKind kind) {
  switch (kind) {
    case ResultParserKind::kAlphalabSummary: return "alphalab_summary";
    case ResultParserKind::kLeanSummary: return "lean_summary";
    case ResultParserKind::kQlibRes: return "qlib_res";
  }
  return "unknown";
}

std::optional<ResultParserKind> ParseResultParserName(std::string_view name) {
  for (auto kind : kAllResultParsers) {
    if (ResultParserName(kind) == name) return kind;
  }
  return std::nullopt;
}

std::optional<std::set<std::string>> KnownMetricNames(ResultParserKind kind) {
  if (kind != ResultParserKind::kAlphalabSummary) return std::nullopt;
  return std::set<std::string>{
      // numeric top-level fields of summary.json (docs/engine.md)
      "cagr", "max_drawdown", "sharpe", "sortino", "volatility", "total_return", "trades", "win_rate", "exposure",
      "final_equity", "initial_cash", "orders", "total_fees", "bars", "fee_bps",
      // its LEAN-named statistics
      "Total Orders", "Average Win", "Average Loss", "Compounding Annual Return", "Drawdown", "Expectancy",
      "Start Equity", "End Equity", "Net Profit", "Sharpe Ratio", "Sortino Ratio", "Loss Rate", "Win Rate",
      "Profit-Loss Ratio", "Annual Standard Deviation", "Annual Variance", "Total Fees"};
}

const std::set<std::string, std::less<>> kLeanStatisticNames = {
    "Total Orders", "Average Win", "Average Loss", "Compounding Annual Return", "Drawdown", "Expectancy",
    "Start Equity", "End Equity", "Net Profit", "Sharpe Ratio", "Sortino Ratio", "Probabilistic Sharpe Ratio",
    "Loss Rate", "Win Rate", "Profit-Loss Ratio", "Alpha", "Beta", "Annual Standard Deviation", "Annual Variance",
    "Information Ratio", "Tracking Error", "Treynor Ratio", "Total Fees", "Estimated Strategy Capacity",
    "Lowest Capacity Asset", "Portfolio Turnover", "Drawdown Recovery",
    // before LEAN 2.5 (2023): "Total Trades" where "Total Orders" is now
    "Total Trades"};

namespace {

bool IsQlibFrequency(std::string_view f) {
  size_t i = 0;
  while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) ++i;
  if (i == f.size()) return false;
  for (; i < f.size(); ++i) {
    if (!std::islower(static_cast<unsigned char>(f[i]))) return false;
  }
  return true;
}

bool IsQlibMetricName(std::string_view name) {
  if (name == "IC" || name == "ICIR" || name == "Rank IC" || name == "Rank ICIR") return true;
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos || !IsQlibFrequency(name.substr(0, dot))) return false;
  const std::string_view rest = name.substr(dot + 1);
  if (rest == "pa" || rest == "pos" || rest == "ffr") return true;
  const size_t dot2 = rest.find('.');
  if (dot2 == std::string_view::npos) return false;
  const std::string_view series = rest.substr(0, dot2);
  const std::string_view stat = rest.substr(dot2 + 1);
  if (series != "excess_return_without_cost" && series != "excess_return_with_cost") return false;
  return stat == "mean" || stat == "std" || stat == "annualized_return" || stat == "information_ratio" ||
         stat == "max_drawdown";
}

}  // namespace

bool IsKnownMetricName(ResultParserKind kind, std::string_view name) {
  switch (kind) {
    case ResultParserKind::kAlphalabSummary: return KnownMetricNames(kind)->count(std::string(name)) > 0;
    case ResultParserKind::kLeanSummary: {
      constexpr std::string_view kRuntime = "runtimeStatistics.";
      if (name.substr(0, kRuntime.size()) == kRuntime) return name.size() > kRuntime.size();
      return kLeanStatisticNames.count(name) > 0;
    }
    case ResultParserKind::kQlibRes: return IsQlibMetricName(name);
  }
  return false;
}

std::optional<double> ParseLeanNumber(std::string_view text) {
  std::string_view s = Trim(text);
  if (s.empty()) return std::nullopt;
  bool negative = false;
  bool percent = false;
  bool money = false;
  if (s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (!s.empty() && s.front() == '$') {
    money = true;
    s.remove_prefix(1);
    if (!negative && !s.empty() && s.front() == '-') {
      negative = true;
      s.remove_prefix(1);
    }
  }
  if (!s.empty() && s.back() == '%') {
    if (money) return std::nullopt;
    percent = true;
    s.remove_suffix(1);
    s = Trim(s);
  }
  if (s.empty()) return std::nullopt;
  // Thousands separators: a ',' must sit between digits, with exactly three digits after it
  // up to the next ',' or '.' (or the end).
  std::string digits;
  digits.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ',') {
      if (i == 0 || !std::isdigit(static_cast<unsigned char>(s[i - 1]))) return std::nullopt;
      size_t run = 0;
      size_t j = i + 1;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
        ++run;
        ++j;
      }
      if (run != 3 || (j < s.size() && s[j] != ',' && s[j] != '.')) return std::nullopt;
      if (digits.find('.') != std::string::npos) return std::nullopt;
      continue;
    }
    if (c == '+' || c == '-') {
      if (i == 0) return std::nullopt;  // a second sign
      const char prev = s[i - 1];
      if (prev != 'e' && prev != 'E') return std::nullopt;
    }
    digits += c;
  }
  auto v = ParsePlainNumber(digits);
  if (!v) return std::nullopt;
  double out = negative ? -*v : *v;
  if (percent) out /= 100.0;
  return out;
}

Result<ParsedResult> ParseAlphalabSummary(std::string_view text) {
  ASSIGN_OR_RETURN(Json root, ParseJsonObject("alphalab_summary", text));
  return ParseAlphalabSummaryJson(root);
}

Result<ParsedResult> ParseAlphalabSummaryJson(const Json& root) {
  constexpr std::string_view kParser = "alphalab_summary";
  if (!root.is_object()) {
    return ParseError(kParser, std::string("the top level must be a JSON object, got ") + root.type_name());
  }
  ParsedResult out;
  for (const auto& [key, value] : root.items()) {
    if (value.is_number()) {
      const double d = value.get<double>();
      if (std::isfinite(d)) out.metrics[key] = d;
    } else if (value.is_string()) {
      out.strings[key] = value.get<std::string>();
    }
    // booleans, null, objects and lists (open_position, strategy, tickers) are not metrics
  }
  if (out.metrics.empty()) return ParseError(kParser, "the summary has no numeric top-level field");
  auto stats = root.find("statistics");
  if (stats != root.end() && !stats->is_null()) {
    RETURN_IF_ERROR(ReadLeanStatistics(kParser, *stats, "statistics", "", /*overwrite=*/false, out));
  }
  return out;
}

Result<ParsedResult> ParseLeanSummary(std::string_view text) {
  constexpr std::string_view kParser = "lean_summary";
  ASSIGN_OR_RETURN(Json root, ParseJsonObject(kParser, text));
  auto stats = root.find("statistics");
  if (stats == root.end() || stats->is_null()) {
    return ParseError(kParser, "the file has no 'statistics' object (is it a LEAN *-summary.json?)");
  }
  ParsedResult out;
  RETURN_IF_ERROR(ReadLeanStatistics(kParser, *stats, "statistics", "", /*overwrite=*/true, out));
  if (out.metrics.empty()) return ParseError(kParser, "'statistics' holds no numeric value");
  auto runtime = root.find("runtimeStatistics");
  if (runtime != root.end() && !runtime->is_null()) {
    RETURN_IF_ERROR(ReadLeanStatistics(kParser, *runtime, "runtimeStatistics", "runtimeStatistics.",
                                       /*overwrite=*/true, out));
  }
  return out;
}

Result<ParsedResult> ParseQlibRes(std::string_view text) {
  constexpr std::string_view kParser = "qlib_res";
  ParsedResult out;
  size_t data_rows = 0;
  bool first_content_line = true;
  auto records = ParseCsvRecords(text);
  if (!records.ok()) return ParseError(kParser, records.status().message());
  for (CsvRecord& record : *records) {
    const size_t line_no = record.line;
    std::vector<std::string>& fields = record.fields;
    if (fields.size() == 1 && Trim(fields[0]).empty()) continue;  // a blank line
    if (fields.size() != 2) {
      return ParseError(kParser, "line " + std::to_string(line_no) + " has " + std::to_string(fields.size()) +
                                     " columns, expected 2 (metric name, value)");
    }
    const std::string name(Trim(fields[0]));
    const std::string_view value = Trim(fields[1]);
    const auto number = ParsePlainNumber(value);
    if (first_content_line) {
      first_content_line = false;
      // pandas writes a header row: ",0" for an unnamed Series, or "<index>,<name>".
      if (name.empty() || !number) continue;
    }
    if (name.empty()) {
      return ParseError(kParser, "line " + std::to_string(line_no) + " has an empty metric name");
    }
    if (out.metrics.count(name) || out.strings.count(name)) {
      return ParseError(kParser, "metric '" + name + "' appears twice (line " + std::to_string(line_no) + ")");
    }
    ++data_rows;
    if (number) {
      out.metrics[name] = *number;
    } else {
      // pandas writes NaN as an empty cell; "nan"/"inf" and text are kept aside too.
      out.strings[name] = std::string(value);
    }
  }
  if (data_rows == 0) return ParseError(kParser, "the file holds no metric rows");
  if (out.metrics.empty()) return ParseError(kParser, "no metric has a numeric value");
  return out;
}

Result<ParsedResult> ParseResultText(ResultParserKind kind, std::string_view text) {
  switch (kind) {
    case ResultParserKind::kAlphalabSummary: return ParseAlphalabSummary(text);
    case ResultParserKind::kLeanSummary: return ParseLeanSummary(text);
    case ResultParserKind::kQlibRes: return ParseQlibRes(text);
  }
  return Status::Internal("unknown result parser");
}

Result<ParsedResult> ParseResultFile(ResultParserKind kind, const std::filesystem::path& path) {
  const std::string parser(ResultParserName(kind));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return Status::NotFound(parser + ": cannot read result file " + path.string() + ": " + ec.message(),
                            Json{{"parser", parser}, {"path", path.string()}});
  }
  if (size > kMaxResultFileBytes) {
    return Status::InvalidArgument(parser + ": result file " + path.string() + " is larger than " +
                                       std::to_string(kMaxResultFileBytes >> 20) + " MiB",
                                   Json{{"parser", parser}, {"path", path.string()}});
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(parser + ": cannot open result file " + path.string(),
                            Json{{"parser", parser}, {"path", path.string()}});
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  auto parsed = ParseResultText(kind, buf.str());
  if (!parsed.ok()) return parsed.status().WithContext(path.string());
  return parsed;
}

}  // namespace alphalab

// Named result parsers on real-format fixtures (tests/fixtures/results/README.md) and on
// malformed inputs, which must come back as InvalidArgument values, never exceptions.
#include "jobs/result_parsers.hpp"

#include "jobs/agent_progress.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace alphalab {
namespace {

const std::filesystem::path kFixtures = std::filesystem::path(ALPHALAB_SOURCE_DIR) / "tests/fixtures/results";

ParsedResult MustParseFile(ResultParserKind kind, const std::string& name) {
  auto r = ParseResultFile(kind, kFixtures / name);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ParsedResult{};
}

TEST(ResultParserNamesTest, RoundTrip) {
  for (auto kind : kAllResultParsers) {
    auto back = ParseResultParserName(ResultParserName(kind));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, kind);
  }
  EXPECT_FALSE(ParseResultParserName("lean").has_value());
  EXPECT_FALSE(ParseResultParserName("").has_value());
}

TEST(LeanNumberTest, Styles) {
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("1.2"), 1.2);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("10.0%"), 0.10);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("-3.5%"), -0.035);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("63.11 %"), 0.6311);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("$1,234.56"), 1234.56);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("-$47.70"), -47.70);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("$-42.50"), -42.50);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("$19000000.00"), 19000000.0);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("1,151"), 1151);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("1,234,567.5"), 1234567.5);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber(" 0 "), 0.0);
  EXPECT_DOUBLE_EQ(*ParseLeanNumber("1e-5"), 1e-5);
  for (const char* bad : {"", "%", "$", "abc", "SPY R735QTJ8XC9X", "e69482c60db804dcf33813bd6968e2a3",
                          "1,15", "12,3456", ",123", "1.5,000", "NaN", "inf", "--1", "+1", "$5%",
                          "1-2", "1.2.3"}) {
    EXPECT_FALSE(ParseLeanNumber(bad).has_value()) << bad;
  }
}

TEST(AlphalabSummaryParserTest, ReadsEveryNumericTopLevelKey) {
  auto r = MustParseFile(ResultParserKind::kAlphalabSummary, "alphalab-summary.json");
  for (const char* key : {"cagr", "max_drawdown", "sharpe", "sortino", "volatility", "total_return", "trades",
                          "win_rate", "exposure", "final_equity", "initial_cash", "orders", "total_fees",
                          "bars", "fee_bps"}) {
    EXPECT_TRUE(r.metrics.count(key)) << key;
  }
  EXPECT_DOUBLE_EQ(r.metrics.at("final_equity"), 156430.12);
  EXPECT_DOUBLE_EQ(r.metrics.at("max_drawdown"), 0.2512345);
  EXPECT_DOUBLE_EQ(r.metrics.at("trades"), 37);
  // nested objects and lists are not metrics; strings are kept aside; null is dropped
  EXPECT_FALSE(r.metrics.count("open_position"));
  EXPECT_FALSE(r.metrics.count("strategy"));
  EXPECT_EQ(r.strings.at("bt_run_id"), "bt_20261130_101203__5c1e9a0f");
  EXPECT_EQ(r.strings.at("dataset"), "demo");
  EXPECT_FALSE(r.strings.count("model_path"));
  // the LEAN-named statistics are read too, percentages as fractions
  EXPECT_DOUBLE_EQ(r.metrics.at("Drawdown"), 0.25123);
  EXPECT_DOUBLE_EQ(r.metrics.at("Sharpe Ratio"), 0.412);
  EXPECT_DOUBLE_EQ(r.metrics.at("Total Fees"), 311.27);
}

TEST(AlphalabSummaryParserTest, KnownMetricNamesMatchTheSummary) {
  auto known = KnownMetricNames(ResultParserKind::kAlphalabSummary);
  ASSERT_TRUE(known.has_value());
  auto r = MustParseFile(ResultParserKind::kAlphalabSummary, "alphalab-summary.json");
  std::set<std::string> parsed;
  for (const auto& [name, _] : r.metrics) parsed.insert(name);
  EXPECT_EQ(parsed, *known);
  EXPECT_FALSE(KnownMetricNames(ResultParserKind::kLeanSummary).has_value());
  EXPECT_FALSE(KnownMetricNames(ResultParserKind::kQlibRes).has_value());
}

TEST(AlphalabSummaryParserTest, TopLevelKeysWinOverStatistics) {
  auto r = ParseAlphalabSummary(R"({"sharpe": 1.5, "statistics": {"sharpe": "9", "Drawdown": "10%"}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->metrics.at("sharpe"), 1.5);
  EXPECT_DOUBLE_EQ(r->metrics.at("Drawdown"), 0.1);
}

TEST(AlphalabSummaryParserTest, Malformed) {
  struct Case {
    const char* text;
    const char* needle;
  };
  for (const Case& c : {Case{"", "not valid JSON"}, Case{"{\"cagr\": 0.1", "not valid JSON"},
                        Case{"[1, 2]", "must be a JSON object"}, Case{"{\"dataset\": \"demo\"}", "no numeric"},
                        Case{"{\"cagr\": 0.1, \"statistics\": [1]}", "'statistics' must be an object"},
                        Case{"{\"cagr\": 0.1, \"statistics\": {\"Drawdown\": [1]}}", "statistics.Drawdown"}}) {
    auto r = ParseAlphalabSummary(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find("alphalab_summary"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().message();
  }
}

// The fast path parses the summary from the tree it dumped to summary.json: the same result as
// the text, NaN and infinite numbers (null in the file) included, and the same errors.
TEST(AlphalabSummaryParserTest, TheTreeGivesWhatItsDumpedTextGives) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Json> trees = {
      Json{{"cagr", 0.1}, {"trades", 7}, {"final_equity", 1500000}, {"dataset", "demo"}, {"open_position", false},
           {"tickers", {"SPX"}}, {"strategy", {{"type", "sma_cross"}}}, {"benchmark_return", -0.25},
           {"statistics", {{"Drawdown", "12.0%"}, {"Sharpe Ratio", 0.9}, {"Net Profit", "$1,234.5"}, {"x", nullptr}}}},
      Json{{"cagr", nan}, {"sharpe", inf}, {"sortino", -inf}, {"volatility", 0.2},
           {"statistics", {{"Sharpe Ratio", nan}, {"Drawdown", "3%"}}}},
      Json{{"dataset", "demo"}},                       // no numeric field: an error both ways
      Json{{"cagr", 0.1}, {"statistics", {1, 2}}},      // statistics not an object
      Json{{"cagr", 0.1}, {"statistics", {{"Drawdown", {1}}}}},
      Json::array({1, 2}),
  };
  for (const Json& tree : trees) {
    const std::string text = tree.dump(2);
    auto a = ParseAlphalabSummary(text);
    auto b = ParseAlphalabSummaryJson(tree);
    ASSERT_EQ(a.ok(), b.ok()) << text;
    if (a.ok()) {
      EXPECT_EQ(a->metrics, b->metrics) << text;
      EXPECT_EQ(a->strings, b->strings) << text;
    } else {
      EXPECT_EQ(a.status().ToString(), b.status().ToString()) << text;
    }
  }
}

TEST(LeanSummaryParserTest, StatisticsUnderLeanNames) {
  auto r = MustParseFile(ResultParserKind::kLeanSummary, "lean-sma-summary.json");
  EXPECT_DOUBLE_EQ(r.metrics.at("Compounding Annual Return"), 0.35159);
  EXPECT_DOUBLE_EQ(r.metrics.at("Drawdown"), 0.03);
  EXPECT_DOUBLE_EQ(r.metrics.at("Sharpe Ratio"), 2.657);
  EXPECT_DOUBLE_EQ(r.metrics.at("Net Profit"), 0.10287);
  EXPECT_DOUBLE_EQ(r.metrics.at("Total Fees"), 1316.07);
  EXPECT_DOUBLE_EQ(r.metrics.at("Total Orders"), 1151);
  EXPECT_DOUBLE_EQ(r.metrics.at("Average Loss"), -0.0004);
  EXPECT_DOUBLE_EQ(r.metrics.at("Estimated Strategy Capacity"), 19000000.0);
  EXPECT_EQ(r.strings.at("Lowest Capacity Asset"), "SPY R735QTJ8XC9X");
  EXPECT_EQ(r.strings.at("OrderListHash"), "e69482c60db804dcf33813bd6968e2a3");
  EXPECT_FALSE(r.metrics.count("Lowest Capacity Asset"));
  // runtime statistics under their own prefix: money and "10.29 %"
  EXPECT_DOUBLE_EQ(r.metrics.at("runtimeStatistics.Equity"), 110287.03);
  EXPECT_DOUBLE_EQ(r.metrics.at("runtimeStatistics.Fees"), -1316.07);
  EXPECT_DOUBLE_EQ(r.metrics.at("runtimeStatistics.Unrealized"), -42.5);
  EXPECT_DOUBLE_EQ(r.metrics.at("runtimeStatistics.Return"), 0.1029);
  EXPECT_DOUBLE_EQ(r.metrics.at("runtimeStatistics.Net Profit"), 10287.03);
  // nothing outside statistics / runtimeStatistics becomes a metric
  EXPECT_FALSE(r.metrics.count("TradingDaysPerYear"));
  EXPECT_FALSE(r.metrics.count("sharpeRatio"));
}

TEST(LeanSummaryParserTest, LosingRun) {
  auto r = MustParseFile(ResultParserKind::kLeanSummary, "lean-loss-summary.json");
  EXPECT_DOUBLE_EQ(r.metrics.at("Compounding Annual Return"), -0.13644);
  EXPECT_DOUBLE_EQ(r.metrics.at("Net Profit"), -0.01265);
  EXPECT_DOUBLE_EQ(r.metrics.at("Sharpe Ratio"), -0.59);
  EXPECT_DOUBLE_EQ(r.metrics.at("Total Fees"), 0.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("End Equity"), 98735);
  EXPECT_EQ(r.strings.at("Lowest Capacity Asset"), "SPX YG1PJ2I43HPQ|SPX 31");
}

TEST(LeanSummaryParserTest, Malformed) {
  for (const char* text : {"not json", "[]", "{}", "{\"statistics\": null}", "{\"statistics\": \"x\"}",
                           "{\"statistics\": {\"OrderListHash\": \"abc\"}}",
                           "{\"statistics\": {\"Drawdown\": {\"a\": 1}}}",
                           "{\"statistics\": {\"Drawdown\": \"1%\"}, \"runtimeStatistics\": []}"}) {
    auto r = ParseLeanSummary(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_EQ(r.status().message().rfind("lean_summary: ", 0), 0u) << r.status().message();
  }
  auto no_stats = ParseLeanSummary("{\"charts\": {}}");
  EXPECT_NE(no_stats.status().message().find("no 'statistics' object"), std::string::npos);
}

TEST(QlibResParserTest, PandasSeriesCsv) {
  auto r = MustParseFile(ResultParserKind::kQlibRes, "qlib_res.csv");
  EXPECT_EQ(r.metrics.size(), 17u);
  EXPECT_DOUBLE_EQ(r.metrics.at("IC"), 0.0287431);
  EXPECT_DOUBLE_EQ(r.metrics.at("Rank ICIR"), 0.3121546);
  EXPECT_DOUBLE_EQ(r.metrics.at("1day.excess_return_with_cost.annualized_return"), 0.126230);
  EXPECT_DOUBLE_EQ(r.metrics.at("1day.excess_return_with_cost.max_drawdown"), -0.089219);
  EXPECT_DOUBLE_EQ(r.metrics.at("1day.ffr"), 1.0);
  EXPECT_FALSE(r.metrics.count("0"));  // the header row is not a metric
  EXPECT_FALSE(r.metrics.count(""));
}

// What RD-Agent writes (tests/fixtures/rdagent/README.md: formats from its source, MIT).
const std::filesystem::path kRdAgentFixtures = std::filesystem::path(ALPHALAB_SOURCE_DIR) / "tests/fixtures/rdagent";

std::string SlurpFixture(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(RdAgentFixtureTest, QlibResAsPandasWritesItWithShortestFloatRepr) {
  auto r = ParseResultFile(ResultParserKind::kQlibRes, kRdAgentFixtures / "qlib_res.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->metrics.size(), 17u);
  EXPECT_TRUE(r->strings.empty());
  EXPECT_DOUBLE_EQ(r->metrics.at("IC"), 0.04123586420354321);
  EXPECT_DOUBLE_EQ(r->metrics.at("1day.excess_return_with_cost.mean"), 6.27e-05);  // exponent form
  EXPECT_DOUBLE_EQ(r->metrics.at("1day.excess_return_with_cost.annualized_return"), 0.014922600000000001);
  EXPECT_DOUBLE_EQ(r->metrics.at("1day.excess_return_without_cost.max_drawdown"), -0.0891234567);
  EXPECT_FALSE(r->metrics.count("0"));
}

TEST(RdAgentFixtureTest, LoopProgressFromFinQuantConsoleOutput) {
  const std::string log = SlurpFixture(kRdAgentFixtures / "fin_quant_console.txt");
  ASSERT_FALSE(log.empty());
  const LoopProgress p = ParseLoopProgress(log);
  // Loops 0, 1 (skipped) and 2 started; loop 1 began before loop 0's record step.
  EXPECT_EQ(p.loops_started, 3);
  EXPECT_EQ(p.loop, 2);
  EXPECT_EQ(p.step, 2);
  EXPECT_EQ(p.step_name, "running");
  EXPECT_EQ(p.step_lines, 10);
  // Only the part up to loop 0's feedback: the progress shown while that step ran.
  const LoopProgress early = ParseLoopProgress(log.substr(0, log.find("Start Loop 1, Step 0")));
  EXPECT_EQ(early.loops_started, 1);
  EXPECT_EQ(early.step_name, "feedback");
}

TEST(QlibResParserTest, EmptyCellsAreNaNKeptAside) {
  auto r = MustParseFile(ResultParserKind::kQlibRes, "qlib_res_nan_ic.csv");
  EXPECT_FALSE(r.metrics.count("IC"));
  EXPECT_EQ(r.strings.at("IC"), "");
  EXPECT_EQ(r.strings.at("Rank ICIR"), "");
  EXPECT_DOUBLE_EQ(r.metrics.at("1day.excess_return_with_cost.annualized_return"), -0.0315);
  EXPECT_EQ(r.metrics.size(), 3u);
}

TEST(QlibResParserTest, HeaderlessQuotedAndBom) {
  auto r = ParseQlibRes("\xEF\xBB\xBFIC,0.5\n\"metric, with comma\",2\n\"a \"\"q\"\"\",3\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->metrics.at("IC"), 0.5);
  EXPECT_DOUBLE_EQ(r->metrics.at("metric, with comma"), 2);
  EXPECT_DOUBLE_EQ(r->metrics.at("a \"q\""), 3);
  auto named = ParseQlibRes("metric,value\nIC,0.25\n");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(named->metrics.at("IC"), 0.25);
}

TEST(QlibResParserTest, Malformed) {
  struct Case {
    const char* text;
    const char* needle;
  };
  for (const Case& c : {Case{"", "no metric rows"}, Case{",0\n", "no metric rows"},
                        Case{",0\nIC,0.1,0.2\n", "line 2 has 3 columns"}, Case{",0\nIC\n", "line 2 has 1 columns"},
                        Case{",0\nIC,0.1\nIC,0.2\n", "'IC' appears twice"}, Case{",0\n,0.1\n", "empty metric name"},
                        Case{",0\nIC,\n", "no metric has a numeric value"},
                        Case{",0\n\"IC,0.1\n", "unterminated quote"}}) {
    auto r = ParseQlibRes(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().message();
  }
}

TEST(ResultFileTest, MissingFileAndWrongParser) {
  auto missing = ParseResultFile(ResultParserKind::kQlibRes, kFixtures / "does-not-exist.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("does-not-exist.csv"), std::string::npos);
  // a qlib csv is not a LEAN summary: the error names the file and the parser
  auto wrong = ParseResultFile(ResultParserKind::kLeanSummary, kFixtures / "qlib_res.csv");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("qlib_res.csv"), std::string::npos);
  EXPECT_NE(wrong.status().message().find("lean_summary"), std::string::npos);
}

TEST(ResultFileTest, DispatchMatchesDirectParsers) {
  const auto path = std::filesystem::temp_directory_path() / "alphalab_result_parsers_test.csv";
  {
    std::ofstream out(path);
    out << ",0\nIC,0.125\n";
  }
  auto r = ParseResultFile(ResultParserKind::kQlibRes, path);
  std::filesystem::remove(path);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->metrics.at("IC"), 0.125);
  auto direct = ParseResultText(ResultParserKind::kAlphalabSummary, "{\"cagr\": 0.5}");
  ASSERT_TRUE(direct.ok());
  EXPECT_DOUBLE_EQ(direct->metrics.at("cagr"), 0.5);
}

TEST(ResultParserNamesTest, KnownMetricNamesPerParser) {
  using K = ResultParserKind;
  EXPECT_TRUE(IsKnownMetricName(K::kAlphalabSummary, "final_equity"));
  EXPECT_TRUE(IsKnownMetricName(K::kAlphalabSummary, "Drawdown"));
  EXPECT_FALSE(IsKnownMetricName(K::kAlphalabSummary, "nope"));
  // Every numeric statistic of the real LEAN fixtures is a known name.
  for (const char* f : {"lean-sma-summary.json", "lean-loss-summary.json"}) {
    auto r = ParseResultFile(K::kLeanSummary, kFixtures / f);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const auto& [name, value] : r->metrics) EXPECT_TRUE(IsKnownMetricName(K::kLeanSummary, name)) << f << ": " << name;
  }
  EXPECT_TRUE(IsKnownMetricName(K::kLeanSummary, "Sharpe Ratio"));
  EXPECT_TRUE(IsKnownMetricName(K::kLeanSummary, "runtimeStatistics.My Custom Stat"));
  EXPECT_FALSE(IsKnownMetricName(K::kLeanSummary, "runtimeStatistics."));
  EXPECT_FALSE(IsKnownMetricName(K::kLeanSummary, "Sharpe"));
  EXPECT_FALSE(IsKnownMetricName(K::kLeanSummary, "sharpe ratio"));
  EXPECT_FALSE(IsKnownMetricName(K::kLeanSummary, "final_equity"));
  // Every metric of the real qlib_res.csv is a known name.
  auto q = ParseResultFile(K::kQlibRes, kFixtures / "qlib_res.csv");
  ASSERT_TRUE(q.ok());
  for (const auto& [name, value] : q->metrics) EXPECT_TRUE(IsKnownMetricName(K::kQlibRes, name)) << name;
  EXPECT_TRUE(IsKnownMetricName(K::kQlibRes, "5min.excess_return_without_cost.max_drawdown"));
  EXPECT_TRUE(IsKnownMetricName(K::kQlibRes, "1day.ffr"));
  EXPECT_FALSE(IsKnownMetricName(K::kQlibRes, "1day.excess_return_with_cost.sharpe"));
  EXPECT_FALSE(IsKnownMetricName(K::kQlibRes, "day1.pa"));
  EXPECT_FALSE(IsKnownMetricName(K::kQlibRes, "ic"));
}

}  // namespace
}  // namespace alphalab

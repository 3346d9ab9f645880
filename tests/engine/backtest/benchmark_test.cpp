// The buy-and-hold benchmark (engine/backtest/benchmark.hpp): numbers written to equity.csv
// and summary.json checked against a hand computation from the dataset's CSV files.
#include "engine/backtest/benchmark.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <filesystem>
#include <random>
#include <sstream>

#include "core/workspace.hpp"
#include "engine/backtest/runner.hpp"
#include "engine/data/config.hpp"

namespace alphalab::engine {
namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("alphalab_bench_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// AAA trades every day; BBB lists on the third day and is delisted after it.
constexpr const char* kAaa =
    "Date,Open,High,Low,Close,Adj Close,Volume\n"
    "2020-01-02,10,10,10,10,10,100\n"
    "2020-01-03,11,12,11,12,12,100\n"
    "2020-01-06,12,12,9,9,9,100\n"
    "2020-01-07,9,15,9,15,15,100\n";
constexpr const char* kBbb =
    "Date,Open,High,Low,Close,Adj Close,Volume\n"
    "2020-01-06,40,50,40,50,50,100\n";

// The `benchmark` column of equity.csv and summary.json of a backtest over `tickers`.
struct Written {
  std::string header;
  std::vector<double> benchmark;
  std::vector<std::string> benchmark_text;  // the column's text, row by row
  std::vector<std::string> expected_text;   // std::to_chars (fixed, 4) of BuyAndHold's values
  nlohmann::json summary;
};

Written Backtest(const std::filesystem::path& root, const std::string& tickers) {
  std::filesystem::create_directories(root / "data" / "hand");
  EXPECT_TRUE(WriteFileAtomic(root / "data" / "hand" / "AAA.csv", kAaa).ok());
  EXPECT_TRUE(WriteFileAtomic(root / "data" / "hand" / "BBB.csv", kBbb).ok());
  auto ws = Workspace::Open(root).value();
  auto yaml = ParseYamlConfig("dataset: hand\ntickers: [" + tickers +
                                  "]\nstrategy: {type: sma_cross, params: {fast: 1, slow: 2, initial_cash: 1000}}\n",
                              "test")
                  .value();
  auto spec = ParseBacktestSpec(yaml).value();
  auto ctx = BacktestContext::Load(ws, spec);
  EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_TRUE(ctx->Prepare(spec, {}).ok());
  auto r = ctx->Run(spec);
  EXPECT_TRUE(r.ok());
  const auto out = root / "backtests" / "bt_b";
  std::filesystem::remove_all(out);
  EXPECT_TRUE(WriteBacktestOutputs(out, spec, *ctx, *r, {}).ok());
  Written w;
  std::istringstream equity(ReadFile(out / "equity.csv").value());
  std::getline(equity, w.header);
  for (std::string line; std::getline(equity, line);) {
    w.benchmark_text.push_back(line.substr(line.rfind(',') + 1));
    w.benchmark.push_back(std::stod(w.benchmark_text.back()));
  }
  std::vector<std::string> symbols;
  for (size_t i : ctx->traded()) symbols.push_back(ctx->universe().series[i].symbol);
  for (double v : BuyAndHold(ctx->universe(), symbols, r->dates, spec.initial_cash).values) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 4);
    w.expected_text.emplace_back(buf, ec == std::errc() ? end : buf);
  }
  w.summary = nlohmann::json::parse(ReadFile(out / "summary.json").value());
  return w;
}

TEST(BenchmarkTest, OneTickerIsBuyAndHoldFromTheSecondBarsOpen) {
  TempDir dir;
  const Written w = Backtest(dir.path(), "AAA");
  EXPECT_EQ(w.header, "date,equity,cash,holdings,drawdown,benchmark");
  // 1000 / open 11 on 2020-01-03 = 90.909 shares, marked at each close: 12, 9, 15.
  ASSERT_EQ(w.benchmark.size(), 4u);
  EXPECT_DOUBLE_EQ(w.benchmark[0], 1000.0);
  EXPECT_NEAR(w.benchmark[1], 1000.0 * 12 / 11, 1e-4);
  EXPECT_NEAR(w.benchmark[2], 1000.0 * 9 / 11, 1e-4);
  EXPECT_NEAR(w.benchmark[3], 1000.0 * 15 / 11, 1e-4);
  EXPECT_EQ(w.summary["benchmark"]["kind"], "buy_and_hold");
  EXPECT_EQ(w.summary["benchmark"]["symbols"], (nlohmann::json{"AAA"}));
  EXPECT_NEAR(w.summary["benchmark_return"].get<double>(), 15.0 / 11 - 1, 1e-12);
}

TEST(BenchmarkTest, SeveralTickersAreEqualWeightAndALateListingWaitsInCash) {
  TempDir dir;
  const Written w = Backtest(dir.path(), "AAA, BBB");
  // 500 each. AAA: 500 / 11 shares from 2020-01-03. BBB: cash until its first bar (open 40 on
  // 2020-01-06, 12.5 shares, close 50 = 625), then its last close after it is delisted.
  ASSERT_EQ(w.benchmark.size(), 4u);
  EXPECT_DOUBLE_EQ(w.benchmark[0], 1000.0);
  EXPECT_NEAR(w.benchmark[1], 500.0 * 12 / 11 + 500, 1e-4);
  EXPECT_NEAR(w.benchmark[2], 500.0 * 9 / 11 + 625, 1e-4);
  EXPECT_NEAR(w.benchmark[3], 500.0 * 15 / 11 + 625, 1e-4);
  EXPECT_EQ(w.summary["benchmark"]["kind"], "equal_weight");
  EXPECT_EQ(w.summary["benchmark"]["symbols"], (nlohmann::json{"AAA", "BBB"}));
  EXPECT_NEAR(w.summary["benchmark_return"].get<double>(), (500.0 * 15 / 11 + 625) / 1000 - 1, 1e-12);
}

// The column's text is kept per thread for the next run over the same values (a grid): runs
// over other values in between, and back, write each run's own values.
TEST(BenchmarkTest, TheColumnIsTheTextOfItsOwnValuesWhenRunsAlternateTheirData) {
  TempDir dir;
  std::vector<std::string> last;
  for (const char* tickers : {"AAA", "AAA", "AAA, BBB", "AAA", "BBB, AAA", "AAA, BBB"}) {
    const Written w = Backtest(dir.path(), tickers);
    ASSERT_EQ(w.benchmark_text.size(), 4u) << tickers;
    EXPECT_EQ(w.benchmark_text, w.expected_text) << tickers;
    last = w.benchmark_text;
  }
  EXPECT_EQ(last[3], "1306.8182");  // 500 / 11 x 15 + 625: the equal-weight column, not AAA's
}

TEST(BenchmarkTest, FewerThanTwoBarsOrNoKnownSymbolGiveNoBenchmark) {
  Universe u;
  BarSeries s;
  s.symbol = "AAA";
  s.date = {100, 101};
  s.open = s.high = s.low = s.close = s.adj_close = {10, 20};
  s.volume = {1, 1};
  u.series.push_back(s);
  u.BuildCalendar();
  EXPECT_TRUE(BuyAndHold(u, {"AAA"}, {100}, 1000).values.empty());
  EXPECT_TRUE(BuyAndHold(u, {"ZZZ"}, {100, 101}, 1000).values.empty());
  const Benchmark b = BuyAndHold(u, {"AAA"}, {100, 101}, 1000);
  ASSERT_EQ(b.values.size(), 2u);
  EXPECT_DOUBLE_EQ(b.values[1], 1000.0);  // bought at the open (20) of the second bar, closed at 20
  EXPECT_DOUBLE_EQ(b.total_return, 0.0);
}

}  // namespace
}  // namespace alphalab::engine

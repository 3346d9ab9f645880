// An independent reference implementation of sma_cross, written plainly from docs/engine.md and
// sharing no engine code (its own CSV reading, its own means, its own loop), must agree
// with the engine to the cent on every trade and on the final equity.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/backtest/long_flat.hpp"
#include "engine/data/csv_reader.hpp"
#include "core/clock.hpp"
#include "engine/data/synth.hpp"

#include <unistd.h>

namespace alphalab::engine {
namespace {

struct RefBars {
  std::vector<std::string> date;
  std::vector<double> open, close;
};

// Reads date,open,...,close columns by header name with iostreams (no engine code).
RefBars ReadRefCsv(const std::string& path) {
  RefBars b;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    std::string h;
    while (std::getline(ss, h, ',')) {
      for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!h.empty() && h.back() == '\r') h.pop_back();
      header.push_back(h);
    }
  }
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string f;
    for (size_t i = 0; std::getline(ss, f, ','); ++i) {
      if (header[i] == "date") b.date.push_back(f);
      if (header[i] == "open") b.open.push_back(std::stod(f));
      if (header[i] == "close") b.close.push_back(std::stod(f));
    }
  }
  return b;
}

struct RefTrade {
  std::string entry_date, exit_date;
  double shares, entry_price, exit_price, pnl;
};

struct RefResult {
  std::vector<RefTrade> trades;
  double final_equity = 0;
  double open_shares = 0;
};

RefResult ReferenceSmaCross(const RefBars& b, int fast, int slow, double cash, double fee_bps) {
  const double fee = fee_bps / 10000.0;
  const int n = static_cast<int>(b.close.size());
  auto mean = [&](int t, int w, double& out) {
    if (t - w + 1 < 0) return false;
    double s = 0;
    for (int i = t - w + 1; i <= t; ++i) s += b.close[i];
    out = s / w;
    return true;
  };
  RefResult r;
  double shares = 0, cost_with_fee = 0, entry_price = 0;
  std::string entry_date;
  int action = 0;  // decided at the previous close: +1 buy, -1 sell
  for (int t = 0; t < n; ++t) {
    if (action == 1 && shares == 0) {
      const double px = b.open[t];
      const double q = std::floor(cash / (px * (1 + fee)));
      if (q > 0) {
        cost_with_fee = q * px + q * px * fee;
        cash -= cost_with_fee;
        shares = q;
        entry_price = px;
        entry_date = b.date[t];
      }
    } else if (action == -1 && shares > 0) {
      const double px = b.open[t];
      const double net = shares * px - shares * px * fee;
      cash += net;
      r.trades.push_back({entry_date, b.date[t], shares, entry_price, px, net - cost_with_fee});
      shares = 0;
    }
    action = 0;
    double f0, s0, f1, s1;
    if (t >= 1 && mean(t - 1, fast, f0) && mean(t - 1, slow, s0) && mean(t, fast, f1) && mean(t, slow, s1)) {
      if (f0 < s0 && f1 > s1) action = 1;
      if (f0 > s0 && f1 < s1) action = -1;
    }
  }
  r.final_equity = cash + shares * b.close[n - 1];
  r.open_shares = shares;
  return r;
}

void ExpectAgreement(const std::string& path, int fast, int slow, double cash, double fee_bps,
                     size_t min_trades) {
  SCOPED_TRACE(path + " sma(" + std::to_string(fast) + "," + std::to_string(slow) + ")");
  const RefBars ref_bars = ReadRefCsv(path);
  const RefResult ref = ReferenceSmaCross(ref_bars, fast, slow, cash, fee_bps);
  auto bars = LoadBarsCsv(path, "X", path, false);
  ASSERT_TRUE(bars.ok()) << bars.status().ToString();
  ASSERT_EQ(bars->size(), ref_bars.close.size());
  auto f = SimpleMovingAverage(bars->close, fast);
  auto s = SimpleMovingAverage(bars->close, slow);
  std::vector<int8_t> sig(bars->size());
  SmaCrossSignals(f.data(), s.data(), bars->size(), sig.data());
  LongFlatOptions o;
  o.initial_cash = cash;
  o.fee_rate = fee_bps / 10000.0;
  const auto r = RunLongFlat(*bars, sig.data(), o);
  ASSERT_EQ(r.trades.size(), ref.trades.size());
  EXPECT_GE(r.trades.size(), min_trades);
  for (size_t i = 0; i < ref.trades.size(); ++i) {
    EXPECT_EQ(FormatDate(r.trades[i].entry_date), ref.trades[i].entry_date) << i;
    EXPECT_EQ(FormatDate(r.trades[i].exit_date), ref.trades[i].exit_date) << i;
    EXPECT_EQ(r.trades[i].shares, ref.trades[i].shares) << i;
    EXPECT_EQ(r.trades[i].entry_price, ref.trades[i].entry_price) << i;
    EXPECT_NEAR(r.trades[i].pnl, ref.trades[i].pnl, 0.005) << i;
  }
  EXPECT_NEAR(r.metrics.final_equity, ref.final_equity, 0.005);
  EXPECT_EQ(r.open_positions.empty(), ref.open_shares == 0);
  EXPECT_EQ(r.metrics.trades, static_cast<int64_t>(ref.trades.size()));
}

const std::string kFixture = std::string(ALPHALAB_SOURCE_DIR) + "/tests/engine/backtest/data/cross_fixture.csv";
const std::string kDemo = std::string(ALPHALAB_SOURCE_DIR) + "/ui/node_modules/vega-datasets/data/sp500-2000.csv";

TEST(ReferenceTest, FixtureAgrees) {
  ExpectAgreement(kFixture, 2, 3, 1000, 10, 1);
  ExpectAgreement(kFixture, 1, 4, 1000, 0, 1);
  ExpectAgreement(kFixture, 2, 5, 1000, 25, 0);
}

TEST(ReferenceTest, SyntheticInstrumentsAgree) {
  SynthOptions o;
  o.instruments = 4;
  o.years = 12;
  o.seed = 99;
  const auto u = MakeSyntheticUniverse(o);
  const auto dir = std::filesystem::temp_directory_path() / ("alphalab_ref_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteUniverseCsv(u, dir).ok());
  for (const char* sym : {"SYN0001", "SYN0003", "SYNMKT"}) {
    const std::string path = (dir / (std::string(sym) + ".csv")).string();
    ExpectAgreement(path, 10, 50, 1'000'000, 10, 5);
    ExpectAgreement(path, 5, 20, 100'000, 5, 20);
    ExpectAgreement(path, 30, 100, 25'000, 30, 3);
  }
  std::filesystem::remove_all(dir);
}

TEST(ReferenceTest, DemoSp500Agrees) {
  // ALPHALAB_DEMO_CSV points at another copy of sp500-2000.csv (e.g. from `npm pack vega-datasets`).
  const char* env = std::getenv("ALPHALAB_DEMO_CSV");
  const std::string demo = env && *env ? env : kDemo;
  if (!std::filesystem::exists(demo)) GTEST_SKIP() << "vega-datasets not installed (npm install in ui/)";
  const std::string kDemo = demo;
  ExpectAgreement(kDemo, 10, 50, 1'000'000, 10, 20);
  ExpectAgreement(kDemo, 5, 20, 1'000'000, 10, 50);
  ExpectAgreement(kDemo, 20, 100, 100'000, 5, 10);
  ExpectAgreement(kDemo, 50, 200, 1'000'000, 0, 5);
  ExpectAgreement(kDemo, 3, 7, 10'000, 20, 100);
}

}  // namespace
}  // namespace alphalab::engine

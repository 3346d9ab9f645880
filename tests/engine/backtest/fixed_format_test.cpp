// AppendFixed must print exactly what std::to_chars(fixed, decimals) prints: the backtest
// folders (equity.csv, trades.csv) stay byte-identical to the ones written before it.
#include "engine/backtest/fixed_format.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <random>

namespace alphalab::engine {
namespace {

std::string Reference(double v, int decimals) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  return ec != std::errc() ? std::string("nan") : std::string(buf, end);
}

std::string Fast(double v, int decimals) {
  std::string out = "x";
  AppendFixed(out, v, decimals);
  return out.substr(1);
}

TEST(FixedFormatTest, EqualsToCharsEverywhere) {
  std::vector<double> values = {0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, -2.5, 0.03125, 1e-12, -1e-12, 0.00005,
                                -0.00004, 999999.99995, 1e6, 1234567.891234, 17592186044415.5, 1e15, 1e30,
                                1e60, -1e60, std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max()};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> exp10(-10, 12);
  for (int i = 0; i < 300000; ++i) {
    const double mag = std::pow(10.0, exp10(rng));
    values.push_back((unit(rng) - 0.5) * 2 * mag);
  }
  for (int i = 0; i < 50000; ++i) {
    // Halves and near-halves at every scale: exact ties (k / 32 with 4 decimals) and neighbours.
    const double k = std::floor(unit(rng) * 1e7);
    values.push_back(k / 32);
    values.push_back(std::nextafter(k / 32, 0.0));
    values.push_back(std::nextafter(k / 20000 + 0.00005, 1e9));
    values.push_back((k + 0.5) / 1e6);
  }
  size_t checked = 0;
  for (double v : values) {
    for (int d : {0, 1, 2, 4, 6, 8, 9, 10}) {
      ASSERT_EQ(Fast(v, d), Reference(v, d)) << "value " << v << " decimals " << d;
      ++checked;
    }
  }
  EXPECT_GT(checked, 3000000u);
}

}  // namespace
}  // namespace alphalab::engine

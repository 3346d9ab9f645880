// AppendFixed must print exactly what std::to_chars(fixed, decimals) prints: the backtest
// folders (equity.csv, trades.csv) stay byte-identical to the ones written before it.
#include "engine/backtest/fixed_format.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

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

// Values whose scaled fraction lies just outside and just inside the window in which the
// integer path defers to std::to_chars (2^-9 around one half), at every magnitude up to 2^44.
TEST(FixedFormatTest, EqualsToCharsAtTheEdgeOfTheRoundingWindow) {
  std::mt19937_64 rng(11);
  size_t checked = 0;
  for (int d : {0, 2, 4, 6, 8, 9}) {
    const double scale = std::pow(10.0, d);
    for (int i = 0; i < 20000; ++i) {
      const double whole = std::floor(std::ldexp(static_cast<double>(rng() >> 11), -53) *
                                      std::pow(2.0, static_cast<double>(rng() % 44)));
      for (double delta : {0.001953125, -0.001953125, 0.00195, -0.00195, 0.002, -0.002, 0.0009765625, 0.0}) {
        const double v = (whole + 0.5 + delta) / scale;
        for (double x : {v, -v, std::nextafter(v, 0.0), std::nextafter(v, 1e300)}) {
          char buf[kMaxFixedChars];
          ASSERT_EQ(std::string(buf, WriteFixed(buf, x, d)), Reference(x, d)) << "value " << x << " decimals " << d;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 3000000u);
}

std::string ShortestReference(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec != std::errc() ? std::string("nan") : std::string(buf, end);
}

// WriteShortest must print exactly what std::to_chars(v) prints (fills.csv, positions.csv and
// scores.csv read back to the same doubles and stay byte-identical): random bit patterns (every
// magnitude, subnormals), decimal-looking values of every length, integers with and without
// zeros around 10^15 (where std::to_chars prints an integer exactly), and the fixed/scientific
// ties.
TEST(FixedFormatTest, ShortestEqualsToCharsEverywhere) {
  std::vector<double> values = {0.0, -0.0, 1.0, 0.1, 0.001, 0.0001, 1e-5, 100000.0, 1000.0, 123456.0, 1e15, 1e16,
                                9007199254740993.0, 1e22, 1e23, 1e21, 0.3, 2.5, 123456789012345680000.0,
                                std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::max(), std::numeric_limits<double>::min()};
  std::mt19937_64 rng(5);
  for (int i = 0; i < 1000000; ++i) {
    const uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    values.push_back(v);
  }
  for (int i = 0; i < 300000; ++i) {
    const double m = static_cast<double>(rng() % 100000000000ULL);
    const double v = m / std::pow(10.0, static_cast<double>(rng() % 12)) * std::pow(10.0, static_cast<double>(rng() % 21) - 10);
    values.push_back(v);
    values.push_back(std::nextafter(v, 0.0));
    values.push_back(static_cast<double>(rng() % 100000000000000000ULL));
    values.push_back(static_cast<double>(rng() % 10000) * std::pow(10.0, static_cast<double>(rng() % 25)));
  }
  size_t checked = 0;
  for (double v : values) {
    for (double x : {v, -v}) {
      char buf[kMaxFixedChars];
      ASSERT_EQ(std::string(buf, WriteShortest(buf, x)), ShortestReference(x)) << "value " << x;
      ++checked;
    }
  }
  EXPECT_GT(checked, 4000000u);
}

// WriteShortest writes an integer below 2^44 without a trailing zero directly (share counts, the
// cash price 1): every such integer near the limits, with and without trailing zeros, their
// neighbours and negatives, and the values of a backtest's positions.csv still give std::to_chars'
// text.
TEST(FixedFormatTest, ShortestOfIntegersIsToCharsText) {
  std::mt19937_64 rng(11);
  std::vector<double> values = {1.0, 2.0, 9.0, 10.0, 11.0, 100.0, 101.0, 668.0, 1e13 + 1, 17592186044415.0,
                                17592186044416.0, 17592186044417.0, 17592186044419.0, 999999999999999.0,
                                1000000000000001.0, 0.5, 1.5, 1493.869995, std::nextafter(1.0, 2.0),
                                std::nextafter(1.0, 0.0), std::nextafter(17592186044415.0, 0.0)};
  for (int i = 0; i < 200000; ++i) {
    const auto n = static_cast<double>(rng() >> (rng() % 64));  // every magnitude up to 2^64
    values.push_back(n);
    values.push_back(std::nextafter(n, 0.0));
    values.push_back(std::nextafter(n, INFINITY));
    values.push_back(static_cast<double>(rng() % 1000 + 1) * std::pow(10.0, static_cast<double>(rng() % 15)));  // zeros
    values.push_back(static_cast<double>(rng() % 5000));                             // share counts
    values.push_back(static_cast<double>(rng() % 100000000) / 1e8);                  // weights
    values.push_back(static_cast<double>(rng() % 100000000000000ULL) / 1e3 + 0.5);  // cash amounts
  }
  size_t checked = 0;
  for (double v : values) {
    for (double x : {v, -v}) {
      char buf[kMaxFixedChars];
      ASSERT_EQ(std::string(buf, WriteShortest(buf, x)), ShortestReference(x)) << "value " << x;
      std::string appended = "a,";
      AppendShortest(appended, x);
      ASSERT_EQ(appended, "a," + ShortestReference(x)) << "value " << x;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2 * values.size());
}

}  // namespace
}  // namespace alphalab::engine

// Number text for the CSV files of a backtest folder: fixed-point (equity.csv, trades.csv) and
// shortest round-trip (fills.csv, positions.csv, scores.csv). Both write exactly the bytes of
// std::to_chars, several times faster (a backtest folder has ~25,000 numbers).
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace alphalab::engine {

// Appends `v` with `decimals` digits after the point: exactly the text of
// std::to_chars(..., std::chars_format::fixed, decimals) ("nan" when that fails). Values whose
// scaled magnitude is small enough are formatted through one integer (several times faster);
// anything that could round differently that way (near a half, very large, not finite) goes
// through std::to_chars itself.
void AppendFixed(std::string& out, double v, int decimals);
// The same text written at `out` (at most kMaxFixedChars bytes); returns the end.
inline constexpr size_t kMaxFixedChars = 64;
char* WriteFixed(char* out, double v, int decimals);
// The same with the decimals known at compile time (0..9; the per-bar rows): inline.
template <int D>
char* WriteFixedD(char* out, double v);

// The shortest text that reads back to `v`: exactly std::to_chars(out, out + kMaxFixedChars, v)
// (no format: fixed or scientific, whichever is shorter). At most kMaxFixedChars bytes.
char* WriteShortest(char* out, double v);
void AppendShortest(std::string& out, double v);

// ---- implementation ----

namespace fixed_format_detail {

static_assert(std::endian::native == std::endian::little, "the digit words are stored little-endian");

char* WriteFixedSlow(char* out, double v, int decimals);  // std::to_chars

inline constexpr uint64_t kAsciiZeros = 0x3030303030303030ULL;

// The 8 decimal digits of x < 10^8 (leading zeros included) as 8 bytes 0..9 in memory order,
// most significant first (little-endian), computed in one register: x splits into two 4-digit
// halves (32-bit lanes), each into two 2-digit quarters (16-bit lanes), each into two digits
// (bytes). The divisions by 100 and 10 are multiply-and-shift, exact below 43,699 and 179
// (the lanes hold at most 9,999 and 99).
inline uint64_t Digits8(uint64_t x) {
  uint64_t v = (x / 10000) | ((x % 10000) << 32);
  const uint64_t hundreds = ((v * 10486) >> 20) & 0x0000007F0000007FULL;
  v = hundreds | ((v - hundreds * 100) << 16);
  const uint64_t tens = ((v * 103) >> 10) & 0x000F000F000F000FULL;
  return tens | ((v - tens * 10) << 8);
}

// x < 10^8 without its leading zeros (at least one digit). Stores 8 bytes.
inline char* WriteTrimmed8(char* o, uint64_t x) {
  const uint64_t d = Digits8(x);
  const int lz = d == 0 ? 7 : std::countr_zero(d) / 8;
  const uint64_t text = (d >> (8 * lz)) + kAsciiZeros;
  std::memcpy(o, &text, 8);
  return o + (8 - lz);
}

// The text of n / 10^D with D decimals (n < 2^44: the integer part has at most 14 digits).
// Stores whole 8-byte words: up to 8 bytes past the returned end are overwritten.
template <int D>
inline char* WriteScaled(char* o, uint64_t n) {
  constexpr uint64_t kScale = [] {
    uint64_t p = 1;
    for (int i = 0; i < D; ++i) p *= 10;
    return p;
  }();
  const uint64_t whole = n / kScale;
  if (whole < 100000000) {
    o = WriteTrimmed8(o, whole);
  } else {  // below 2^44 / 10^8 < 175,922: the high part has at most 6 digits
    o = WriteTrimmed8(o, whole / 100000000);
    const uint64_t text = Digits8(whole % 100000000) + kAsciiZeros;
    std::memcpy(o, &text, 8);
    o += 8;
  }
  if constexpr (D > 0) {
    uint64_t frac = n % kScale;
    *o++ = '.';
    if constexpr (D == 9) {
      *o++ = static_cast<char>('0' + frac / 100000000);
      frac %= 100000000;
    }
    constexpr int kLast = D == 9 ? 8 : D;  // the last kLast of the 8 digits
    const uint64_t text = (Digits8(frac) + kAsciiZeros) >> (8 * (8 - kLast));
    std::memcpy(o, &text, 8);
    o += kLast;
  }
  return o;
}

}  // namespace fixed_format_detail

template <int D>
inline char* WriteFixedD(char* out, double v) {
  static_assert(D >= 0 && D <= 9);
  constexpr double kScale = [] {
    double p = 1;
    for (int i = 0; i < D; ++i) p *= 10;
    return p;
  }();
  // |v| * 10^D is one correctly rounded product: the exact value is within half an ulp of
  // `scaled`. Below 2^44 an ulp is at most 2^-9, so unless the fraction (exact: a difference
  // of nearby doubles) lies within 2^-9 of one half, rounding `scaled` to the nearest integer
  // rounds the exact value the same way; the rest (0.4% of random fractions, exact ties
  // among them) goes through std::to_chars. NaN and infinities fail the first test.
  const double scaled = std::fabs(v) * kScale;
  if (!(scaled < 17592186044416.0)) return fixed_format_detail::WriteFixedSlow(out, v, D);  // 2^44
  const uint64_t whole = static_cast<uint64_t>(scaled);  // truncation: the floor of a non-negative value
  const double frac = scaled - static_cast<double>(whole);
  if (std::fabs(frac - 0.5) < 0.001953125) return fixed_format_detail::WriteFixedSlow(out, v, D);  // 2^-9
  char* o = out;
  if (std::signbit(v)) *o++ = '-';  // as to_chars: "-0.0000" for -0.0 and tiny negatives
  // At most 1 + 14 + 1 + 9 characters, and the 8-byte stores reach at most 8 bytes further:
  // within kMaxFixedChars.
  return fixed_format_detail::WriteScaled<D>(o, whole + (frac > 0.5 ? 1 : 0));
}

}  // namespace alphalab::engine

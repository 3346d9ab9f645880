#include "engine/backtest/fixed_format.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <cmath>
#include <cstdint>

namespace alphalab::engine {

namespace {

char* WriteFixedSlow(char* out, double v, int decimals) {
  // As before: a value too long for 64 characters prints "nan".
  auto [end, ec] = std::to_chars(out, out + kMaxFixedChars, v, std::chars_format::fixed, decimals);
  if (ec != std::errc()) {
    std::memcpy(out, "nan", 3);
    return out + 3;
  }
  return end;
}

constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
// "00" "01" ... "99".
constexpr std::array<char, 200> kPairs = [] {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[2 * i] = static_cast<char>('0' + i / 10);
    t[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return t;
}();

}  // namespace

void AppendFixed(std::string& out, double v, int decimals) {
  char buf[kMaxFixedChars];
  out.append(buf, WriteFixed(buf, v, decimals));
}

char* WriteFixed(char* out, double v, int decimals) {
  if (decimals < 0 || decimals > 9 || !std::isfinite(v)) return WriteFixedSlow(out, v, decimals);
  // |v| * 10^d is one correctly rounded product: the exact value is within half an ulp of
  // `scaled`. Below 2^44 an ulp is at most 2^-8, so unless the fraction lies within 2^-7 of
  // one half, rounding `scaled` to the nearest integer rounds the exact value the same way.
  const double scaled = std::fabs(v) * kPow10[decimals];
  if (!(scaled < 17592186044416.0)) return WriteFixedSlow(out, v, decimals);  // 2^44
  const double whole = std::floor(scaled);
  const double frac = scaled - whole;
  if (std::fabs(frac - 0.5) < 0.0078125) return WriteFixedSlow(out, v, decimals);  // 2^-7
  uint64_t n = static_cast<uint64_t>(whole) + (frac > 0.5 ? 1 : 0);
  // The digits of n, two at a time from the right, at least decimals + 1 of them.
  // 16 bytes of slack after the digits: the copies below move fixed 16-byte blocks (a
  // variable-length memcpy is a libc call per number; these are two vector moves).
  char digits[48];
  char* const end = digits + 32;
  char* p = end;
  while (n >= 100) {
    p -= 2;
    std::memcpy(p, kPairs.data() + 2 * (n % 100), 2);
    n /= 100;
  }
  if (n >= 10) {
    p -= 2;
    std::memcpy(p, kPairs.data() + 2 * n, 2);
  } else {
    *--p = static_cast<char>('0' + n);
  }
  while (end - p < decimals + 1) *--p = '0';
  // n < 2^44 has at most 14 digits and decimals + 1 <= 10: the integer part is at most 14
  // characters and the fraction at most 9, so each fits one 16-byte block; the output is at
  // most 1 + 14 + 1 + 16 = 32 bytes written, within kMaxFixedChars.
  const size_t len = static_cast<size_t>(end - p), int_len = len - static_cast<size_t>(decimals);
  char* o = out;
  if (std::signbit(v)) *o++ = '-';  // as to_chars: "-0.0000" for -0.0 and tiny negatives
  std::memcpy(o, p, 16);
  o += int_len;
  if (decimals > 0) {
    *o++ = '.';
    std::memcpy(o, p + int_len, 16);
    o += decimals;
  }
  return o;
}

}  // namespace alphalab::engine

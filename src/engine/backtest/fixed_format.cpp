#include "engine/backtest/fixed_format.hpp"

#include <charconv>

#include <fmt/format.h>

namespace alphalab::engine {

namespace fixed_format_detail {

char* WriteFixedSlow(char* out, double v, int decimals) {
  // As before: a value too long for 64 characters prints "nan".
  auto [end, ec] = std::to_chars(out, out + kMaxFixedChars, v, std::chars_format::fixed, decimals);
  if (ec != std::errc()) {
    std::memcpy(out, "nan", 3);
    return out + 3;
  }
  return end;
}

}  // namespace fixed_format_detail

namespace {

char* WriteShortestSlow(char* out, double v) {
  auto [end, ec] = std::to_chars(out, out + kMaxFixedChars, v);
  if (ec != std::errc()) {
    std::memcpy(out, "nan", 3);
    return out + 3;
  }
  return end;
}

constexpr uint64_t kPow10U[] = {1,
                                10,
                                100,
                                1000,
                                10000,
                                100000,
                                1000000,
                                10000000,
                                100000000,
                                1000000000,
                                10000000000,
                                100000000000,
                                1000000000000,
                                10000000000000,
                                100000000000000,
                                1000000000000000,
                                10000000000000000,
                                100000000000000000,
                                1000000000000000000};

// The shortest text of a finite non-zero `v` that is not a small integer (WriteShortest).
char* WriteShortestDigits(char* out, double v) {
  using fixed_format_detail::Digits8;
  using fixed_format_detail::kAsciiZeros;
  // The shortest decimal significand and exponent that read back to |v|, the closest to it
  // when several are as short: Dragonbox (libfmt), the same digits as std::to_chars' Ryu.
  // (dragonbox::to_decimal is in fmt's detail namespace but exported by libfmt; fmt's own
  // "{}" output differs from std::to_chars in when it switches to the exponent form.)
  const auto dec = fmt::detail::dragonbox::to_decimal(std::fabs(v));
  const uint64_t sig = dec.significand;  // below 10^17
  const int exp = dec.exponent;
  const int approx = ((64 - std::countl_zero(sig)) * 1233) >> 12;  // floor(log10(2^bits))
  const int k = approx + (sig >= kPow10U[approx] ? 1 : 0);          // digits of sig
  const int lead = exp + k - 1;  // the decimal exponent of the first digit
  // std::to_chars takes the shorter of the fixed and the scientific form, fixed on a tie;
  // only the fixed form is written here (the scientific one, rare in a backtest folder, goes
  // through std::to_chars). An integer with zeros after the digits is written here only while
  // it is below 10^15 (exactly the digits and zeros; std::to_chars prints larger ones exactly).
  const int fixed_len = exp >= 0 ? k + exp : (lead >= 0 ? k + 1 : k + 1 - lead);
  const int sci_len = k + (k > 1 ? 1 : 0) + 2 + (lead >= 100 || lead <= -100 ? 3 : 2);
  if (fixed_len > sci_len || (exp > 0 && k + exp > 15)) return WriteShortestSlow(out, v);
  // The k digits right-aligned at digits + 24, then 24 bytes of slack: every copy below moves
  // a fixed 24 bytes (no variable-length copies); the output stays within kMaxFixedChars
  // (fixed_len <= sci_len <= 23, so at most 1 + 23 + 24 bytes are touched).
  char digits[48];
  uint64_t word = Digits8(sig % 100000000) + kAsciiZeros;
  std::memcpy(digits + 16, &word, 8);
  if (k > 8) {
    word = Digits8(sig / 100000000 % 100000000) + kAsciiZeros;
    std::memcpy(digits + 8, &word, 8);
    if (k > 16) {
      word = Digits8(sig / 10000000000000000) + kAsciiZeros;
      std::memcpy(digits, &word, 8);
    }
  }
  const char* d = digits + 24 - k;
  char* o = out;
  if (std::signbit(v)) *o++ = '-';
  if (exp >= 0) {  // an integer: the digits and exp zeros (k + exp <= 15)
    std::memcpy(o, d, 24);
    std::memset(o + k, '0', 16);
    return o + k + exp;
  }
  if (lead >= 0) {  // lead + 1 digits, the point, the rest
    const int int_len = lead + 1;
    std::memcpy(o, d, 24);
    o += int_len;
    *o++ = '.';
    std::memcpy(o, d + int_len, 24);
    return o + (k - int_len);
  }
  // 0.000ddd: -lead - 1 <= 21 zeros after the point
  *o++ = '0';
  *o++ = '.';
  std::memset(o, '0', 24);
  o += -lead - 1;
  std::memcpy(o, d, 24);
  return o + k;
}

}  // namespace

char* WriteShortest(char* out, double v) {
  if (!std::isfinite(v) || v == 0) return WriteShortestSlow(out, v);
  const double magnitude = std::fabs(v);
  if (magnitude < 17592186044416.0 && magnitude == std::floor(magnitude)) {  // an integer below 2^44
    // Its digits, exactly: below 10^15 no shorter decimal reads back to it, and without a
    // trailing zero the fixed form is the shorter one (the scientific adds at least 4
    // characters). "1" (the cash price), share counts.
    const auto n = static_cast<uint64_t>(magnitude);
    if (n % 10 != 0) {
      char* o = out;
      if (v < 0) *o++ = '-';
      return fixed_format_detail::WriteScaled<0>(o, n);
    }
  }
  return WriteShortestDigits(out, v);
}

void AppendShortest(std::string& out, double v) {
  char buf[kMaxFixedChars];
  out.append(buf, WriteShortest(buf, v));
}

void AppendFixed(std::string& out, double v, int decimals) {
  char buf[kMaxFixedChars];
  out.append(buf, WriteFixed(buf, v, decimals));
}

char* WriteFixed(char* out, double v, int decimals) {
  switch (decimals) {
    case 0: return WriteFixedD<0>(out, v);
    case 1: return WriteFixedD<1>(out, v);
    case 2: return WriteFixedD<2>(out, v);
    case 3: return WriteFixedD<3>(out, v);
    case 4: return WriteFixedD<4>(out, v);
    case 5: return WriteFixedD<5>(out, v);
    case 6: return WriteFixedD<6>(out, v);
    case 7: return WriteFixedD<7>(out, v);
    case 8: return WriteFixedD<8>(out, v);
    case 9: return WriteFixedD<9>(out, v);
    default: return fixed_format_detail::WriteFixedSlow(out, v, decimals);
  }
}

}  // namespace alphalab::engine

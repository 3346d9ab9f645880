#include "core/clock.hpp"

#include <charconv>
#include <cstdio>

namespace alphalab {

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

int32_t DaysFromCivil(int y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

void CivilFromDays(int32_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

namespace {

bool ParseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

Result<int32_t> ParseDate(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !ParseInt(text.substr(0, 4), y) ||
      !ParseInt(text.substr(5, 2), m) || !ParseInt(text.substr(8, 2), d) || m < 1 || m > 12 ||
      d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, static_cast<unsigned>(m))) {
    return Status::InvalidArgument("invalid date '" + std::string(text) + "', expected YYYY-MM-DD");
  }
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::string FormatDate(int32_t days) {
  int y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

namespace {
// Writes v (0 <= v < 10^n) as n digits at p.
void PutDigits(char* p, unsigned v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

void AppendIso8601(std::string& out, TimePoint tp) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(tp.time_since_epoch()).count();
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int millis = static_cast<int>(ms - secs * 1000);
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t sod = secs - days * 86400;
  int y;
  unsigned mo, d;
  CivilFromDays(static_cast<int32_t>(days), y, mo, d);
  const auto hh = static_cast<unsigned>(sod / 3600), mi = static_cast<unsigned>(sod / 60 % 60),
             ss = static_cast<unsigned>(sod % 60);
  if (y < 0 || y > 9999) {  // not for an int64-nanosecond TimePoint (1677..2262); kept for safety
    char buf[48];
    const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u.%03dZ", y, mo, d, hh, mi, ss, millis);
    out.append(buf, static_cast<size_t>(n));
    return;
  }
  // The hot path (every job detail, every access line): digits written in place, no printf.
  char buf[24] = {'0', '0', '0', '0', '-', '0', '0', '-', '0', '0', 'T', '0',
                  '0', ':', '0', '0', ':', '0', '0', '.', '0', '0', '0', 'Z'};
  PutDigits(buf, static_cast<unsigned>(y), 4);
  PutDigits(buf + 5, mo, 2);
  PutDigits(buf + 8, d, 2);
  PutDigits(buf + 11, hh, 2);
  PutDigits(buf + 14, mi, 2);
  PutDigits(buf + 17, ss, 2);
  PutDigits(buf + 20, static_cast<unsigned>(millis), 3);
  out.append(buf, sizeof buf);
}

std::string FormatIso8601(TimePoint tp) {
  std::string out;
  out.reserve(24);
  AppendIso8601(out, tp);
  return out;
}

Result<TimePoint> ParseIso8601(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid timestamp '" + std::string(text) +
                                   "', expected YYYY-MM-DDTHH:MM:SS[.fff]Z");
  };
  if (text.size() < 19 || (text[10] != 'T' && text[10] != ' ')) return bad();
  auto date = ParseDate(text.substr(0, 10));
  if (!date.ok()) return bad();
  int hh = 0, mm = 0, ss = 0;
  if (text[13] != ':' || text[16] != ':' || !ParseInt(text.substr(11, 2), hh) ||
      !ParseInt(text.substr(14, 2), mm) || !ParseInt(text.substr(17, 2), ss) || hh > 23 ||
      mm > 59 || ss > 60) {
    return bad();
  }
  std::string_view rest = text.substr(19);
  int64_t nanos = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    int64_t scale = 100000000;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      nanos += (rest[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == 1) return bad();
    rest = rest.substr(i);
  }
  if (!(rest.empty() || rest == "Z" || rest == "+00:00")) return bad();
  using namespace std::chrono;
  const auto total = seconds(static_cast<int64_t>(*date) * 86400 + hh * 3600 + mm * 60 + ss) +
                     nanoseconds(nanos);
  return TimePoint(duration_cast<TimePoint::duration>(total));
}

double SecondsBetween(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace alphalab

// Time: an injectable clock (fakes in tests) and the ISO-8601 / date formats used on the wire.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace alphalab {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void Advance(std::chrono::nanoseconds d) {
    now_ += std::chrono::duration_cast<TimePoint::duration>(d).count();
  }

 private:
  std::atomic<TimePoint::duration::rep> now_;
};

// "2026-11-21T05:30:00.123Z" (UTC, millisecond precision).
std::string FormatIso8601(TimePoint tp);
// The same characters appended to `out` (no string of its own).
void AppendIso8601(std::string& out, TimePoint tp);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]"; UTC only.
Result<TimePoint> ParseIso8601(std::string_view text);
// Seconds between two points as a double.
double SecondsBetween(TimePoint from, TimePoint to);

// Calendar dates as days since 1970-01-01 (civil, proleptic Gregorian).
int32_t DaysFromCivil(int y, unsigned m, unsigned d);
void CivilFromDays(int32_t days, int& y, unsigned& m, unsigned& d);
// "YYYY-MM-DD" -> days since epoch; rejects impossible dates (2021-02-30).
Result<int32_t> ParseDate(std::string_view text);
std::string FormatDate(int32_t days);

}  // namespace alphalab

// libFuzzer target: the CSV bar reader (engine/data/csv_reader.hpp) on arbitrary text, and its
// field parsers on every field. Anything may be refused with a Status; nothing may crash, leak,
// hang or throw, and what is accepted must satisfy the reader's promises (strictly ascending
// dates, equal column lengths, prices > 0, high >= low, volume >= 0), or the target aborts.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/data/csv_reader.hpp"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto series = alphalab::engine::ParseBarsCsv(input, "FUZZ", "fuzz.csv");
  if (series.ok()) {
    const alphalab::engine::BarSeries& s = *series;
    const size_t n = s.size();
    Check(s.open.size() == n && s.high.size() == n && s.low.size() == n && s.close.size() == n &&
          s.adj_close.size() == n && s.volume.size() == n);
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) Check(s.date[i - 1] < s.date[i]);
      Check(s.open[i] > 0 && s.high[i] > 0 && s.low[i] > 0 && s.close[i] > 0);
      Check(s.high[i] >= s.low[i]);
      Check(s.volume[i] >= 0 && std::isfinite(s.volume[i]));
    }
    // What was accepted survives a write and a re-read unchanged in length.
    auto again = alphalab::engine::ParseBarsCsv(alphalab::engine::FormatBarsCsv(s), "FUZZ", "again.csv");
    Check(again.ok() && again->size() == n);
  }
  std::string_view fields[16];
  (void)alphalab::engine::ForEachCsvLine(input, fields, 16, [&](uint32_t, int count) {
    Check(count >= 0 && count <= 16);
    for (int i = 0; i < count; ++i) {
      int32_t days = 0;
      double value = 0;
      (void)alphalab::engine::ParseCsvDate(fields[i], days);
      if (alphalab::engine::ParseCsvNumber(fields[i], value)) Check(std::isfinite(value));
    }
    return alphalab::Status::Ok();
  });
  return 0;
}

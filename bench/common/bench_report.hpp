// Shared by the benchmark programs: statistics over repetitions (median, p95, best-of) and
// one machine-readable record per figure. A figure is printed as
//   <name>: median X us, p95 Y us, best Z us (N reps) | <reference>: median R us -> ratio Q
// and, when ALPHALAB_BENCH_JSONL names a file, appended to it as one JSON line
//   {"bench": ..., "figure": ..., "unit": ..., "median": ..., "p95": ..., "best": ..., "reps": N,
//    "reference": ..., "reference_median": ..., "ratio": ...}
// (ratio = reference median / median: above 1 means faster than the reference).
// scripts/run-benchmarks.sh gathers the lines into bench-results.json.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace alphalab::bench {

// CPU time (user + system) process `pid` has used so far, in ms, from /proc/<pid>/stat (fields
// 14 and 15; with `children`, also 16 and 17: its collected children's). 0 when unreadable.
inline double ProcessCpuMs(long pid, bool children = false) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  const int last = children ? 17 : 15;
  for (int i = 3; i <= last && fields >> field; ++i) {
    if (i >= 14) ticks += std::atof(field.c_str());
  }
  return ticks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Stats {
  double median = 0, p95 = 0, best = 0;
  size_t reps = 0;
};

// Nearest-rank percentiles over the samples (p95 of 20 samples is the 19th smallest).
inline Stats Summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.reps = v.size();
  s.best = v.front();
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  const size_t rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(n)));
  s.p95 = v[std::min(n, std::max<size_t>(rank, 1)) - 1];
  return s;
}

// Runs fn `reps` times; seconds per call of each repetition (fn itself may loop `inner` times).
template <typename Fn>
std::vector<double> Sample(int reps, Fn&& fn, int inner = 1) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(reps));
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < inner; ++i) fn();
    out.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / inner);
  }
  return out;
}

inline std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

// One figure: samples in seconds, printed in `unit` ("us", "ms" or "s"); a reference may be
// given (empty name: none). Returns the stats (in seconds).
inline Stats Report(const std::string& bench, const std::string& figure, const std::vector<double>& seconds,
                    const std::string& unit, const std::string& reference = "",
                    const std::vector<double>& reference_seconds = {}) {
  const double scale = unit == "us" ? 1e6 : unit == "ms" ? 1e3 : 1.0;
  const Stats s = Summarize(seconds);
  std::printf("%s: median %.3f %s, p95 %.3f %s, best %.3f %s (%zu reps)", figure.c_str(), s.median * scale,
              unit.c_str(), s.p95 * scale, unit.c_str(), s.best * scale, unit.c_str(), s.reps);
  Stats r;
  double ratio = 0;
  if (!reference.empty() && !reference_seconds.empty()) {
    r = Summarize(reference_seconds);
    ratio = s.median > 0 ? r.median / s.median : 0;
    std::printf("\n    reference %s: median %.3f %s, p95 %.3f %s -> ratio %.2f (reference / this; > 1 = faster)",
                reference.c_str(), r.median * scale, unit.c_str(), r.p95 * scale, unit.c_str(), ratio);
  }
  std::printf("\n");
  std::fflush(stdout);
  if (const char* path = std::getenv("ALPHALAB_BENCH_JSONL"); path && *path) {
    if (FILE* f = std::fopen(path, "a")) {
      std::fprintf(f,
                   "{\"bench\": %s, \"figure\": %s, \"unit\": %s, \"median\": %.6g, \"p95\": %.6g, "
                   "\"best\": %.6g, \"reps\": %zu",
                   JsonString(bench).c_str(), JsonString(figure).c_str(), JsonString(unit).c_str(), s.median * scale,
                   s.p95 * scale, s.best * scale, s.reps);
      if (!reference.empty() && !reference_seconds.empty()) {
        std::fprintf(f, ", \"reference\": %s, \"reference_median\": %.6g, \"reference_p95\": %.6g, \"ratio\": %.4g",
                     JsonString(reference).c_str(), r.median * scale, r.p95 * scale, ratio);
      }
      std::fprintf(f, "}\n");
      std::fclose(f);
    }
  }
  return s;
}

}  // namespace alphalab::bench

// A seeded synthetic universe for cross-sectional demos, tests and benchmarks.
// Names make it obvious the data is not real: SYN0001, SYN0002, ... plus the market index
// SYNMKT and the defensive assets SYNBOND and SYNGOLD (for risk-off modes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "engine/data/bars.hpp"

namespace alphalab::engine {

struct SynthOptions {
  int instruments = 50;          // equity-like instruments besides SYNMKT/SYNBOND/SYNGOLD
  int years = 15;
  uint64_t seed = 42;
  int32_t start = 12786;         // 2005-01-03 (a Monday)
  // Explicit names for the first instruments (e.g. {"TSM"}); the rest are SYN0001...
  std::vector<std::string> symbols;
};

// Same options -> bit-identical series (own RNG and distributions, no std:: distributions).
// Business days (Mon-Fri) from `start`; a two-regime (calm/stressed) market factor with
// Student-t-like shocks; instruments = beta * market + idiosyncratic noise; SYNBOND has low
// volatility and leans against stress, SYNGOLD is uncorrelated. OHLC is consistent
// (low <= open, close <= high), volume log-normal.
Universe MakeSyntheticUniverse(const SynthOptions& options);

// Writes one <SYMBOL>.csv per instrument into `dir` (created), replacing older files.
Status WriteUniverseCsv(const Universe& u, const std::filesystem::path& dir);

}  // namespace alphalab::engine

// The one layout check of a dataset folder, for the datasets API's validation report
// (GET /api/datasets/{name}/validation, datasets/dataset_service.hpp) and the config center's Qlib
// "Test" of a template's provider_uri (configs/config_checks.hpp):
//   qlib: calendars/day.txt (non-empty), instruments/*.txt (every file, or only
//         instruments/<market>.txt), and features/<symbol lower-case>/ holding at least one
//         *.day.bin for each symbol they list (or only those of `only`);
//   csv:  at least one <SYMBOL>.csv (and each symbol of `only` has its file).
// Every file is opened beneath `base` (core/confined_open.hpp): no symlink or '..' leads out.
// Never throws; problems are sentences naming what is missing, e.g.
// "features/sh600000/ has no *.day.bin file".
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace alphalab::engine {

struct LayoutReport {
  bool ok = false;
  std::string format;
  int64_t calendar_days = 0;                   // qlib
  std::vector<std::string> instruments_files;  // qlib: instruments/*.txt names read
  int64_t instruments = 0;                     // symbols checked
  std::vector<std::string> missing;            // symbols without data (at most kMaxListed)
  int64_t missing_count = 0;
  // What is missing, as paths below the folder: "calendars/day.txt", "instruments/csi300.txt",
  // "features/sz000001/ (instrument SZ000001)", "features/sz000001/*.day.bin (instrument
  // SZ000001)" (at most kMaxListed; missing_paths_count counts them all).
  std::vector<std::string> missing_paths;
  int64_t missing_paths_count = 0;
  std::vector<std::string> problems;           // one sentence each
  static constexpr size_t kMaxListed = 100;
};

struct LayoutOptions {
  std::vector<std::string> only;  // check these symbols (empty: every listed one)
  std::string market;             // qlib: read instruments/<market>.txt only ("" = every *.txt)
  size_t max_instruments = SIZE_MAX;
};

// The folder `dir` beneath `base` ("" = `base` itself), in `format` (csv | qlib).
LayoutReport CheckLayout(const std::filesystem::path& base, const std::filesystem::path& dir, const std::string& format,
                         const LayoutOptions& options = {});

// {ok, format, calendar_days, instruments_files, instruments, missing, missing_count, problems}
Json LayoutReportJson(const LayoutReport& r);

}  // namespace alphalab::engine

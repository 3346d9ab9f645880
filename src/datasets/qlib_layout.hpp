// The layout check of a dataset directory, as a report (GET /api/datasets/{name}/validation):
//   qlib: calendars/day.txt (non-empty, dates), instruments/*.txt (at least one; every symbol
//         they list, or only those of `only`), features/<symbol lower-case>/ holding at least one
//         *.day.bin for each of them;
//   csv:  at least one <SYMBOL>.csv (and each symbol of `only` has its file).
// Never throws; problems are sentences naming what is missing, e.g.
// "features/sh600000/ has no *.day.bin file".
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace alphalab::datasets {

struct LayoutReport {
  bool ok = false;
  std::string format;
  int64_t calendar_days = 0;                   // qlib
  std::vector<std::string> instruments_files;  // qlib: instruments/*.txt names
  int64_t instruments = 0;                     // symbols checked
  std::vector<std::string> missing;            // symbols without data (at most kMaxListed)
  int64_t missing_count = 0;
  std::vector<std::string> problems;           // one sentence each
  static constexpr size_t kMaxListed = 100;
};

LayoutReport CheckLayout(const std::filesystem::path& dir, const std::string& format,
                         const std::vector<std::string>& only = {});

Json LayoutReportJson(const LayoutReport& r);

}  // namespace alphalab::datasets

// Small text helpers every module shares.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace alphalab {

// "A, B,,C " -> {"A", "B", "C"}: splits on ',', trims spaces and tabs around each item and
// drops empty items. Order and duplicates are kept. The one comma-list splitter (query
// parameters, CLI flags, config values, job parameters).
std::vector<std::string> SplitCommaList(std::string_view text);

// `s` without the spaces, tabs, CRs and LFs around it.
std::string_view Trim(std::string_view s);

}  // namespace alphalab

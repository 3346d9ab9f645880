// Small text helpers every module shares.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace alphalab {

// "A, B,,C " -> {"A", "B", "C"}: splits on ',', trims spaces and tabs around each item and
// drops empty items. Order and duplicates are kept. The one comma-list splitter (query
// parameters, CLI flags, config values, job parameters).
std::vector<std::string> SplitCommaList(std::string_view text);

// A byte range of a text and what replaces it.
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;
  std::string replacement;
};

// `text` with each span replaced; spans are in text order and do not overlap (the one splice
// behind masking and unmasking secrets in YAML and .env texts).
std::string ReplaceSpans(std::string_view text, const std::vector<TextSpan>& spans);

// `s` without the spaces, tabs, CRs and LFs around it.
std::string_view Trim(std::string_view s);

}  // namespace alphalab

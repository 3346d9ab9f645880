#include "core/text.hpp"

namespace alphalab {

std::vector<std::string> SplitCommaList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    const size_t b = item.find_first_not_of(" \t");
    if (b != std::string_view::npos) {
      const size_t e = item.find_last_not_of(" \t");
      out.emplace_back(item.substr(b, e - b + 1));
    }
    start = comma + 1;
  }
  return out;
}

std::string ReplaceSpans(std::string_view text, const std::vector<TextSpan>& spans) {
  std::string out;
  size_t pos = 0;
  for (const TextSpan& span : spans) {
    out.append(text.substr(pos, span.begin - pos));
    out += span.replacement;
    pos = span.end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace alphalab

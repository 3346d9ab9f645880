#include "core/list_query.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/text.hpp"

namespace alphalab {

std::vector<std::string> SplitUniqueList(std::string_view text) {
  std::vector<std::string> out;
  for (std::string& part : SplitCommaList(text)) {
    if (std::find(out.begin(), out.end(), part) == out.end()) out.push_back(std::move(part));
  }
  return out;
}

Result<std::vector<std::string>> ParseInList(const std::string& name, const std::optional<std::string>& value) {
  if (!value || value->empty()) return std::vector<std::string>{};
  std::vector<std::string> values = SplitUniqueList(*value);
  if (values.empty()) return Status::InvalidArgument(name + " must name at least one value", {{"parameter", name}});
  if (values.size() > kMaxInListValues) {
    return Status::InvalidArgument(name + " lists at most 1000 values", {{"parameter", name}});
  }
  return values;
}

Result<std::optional<double>> ParseFiniteNumber(const std::string& name, const std::optional<std::string>& value) {
  if (!value || value->empty()) return std::optional<double>();
  double d = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), d);
  if (ec != std::errc() || ptr != value->data() + value->size() || !std::isfinite(d)) {
    return Status::InvalidArgument(name + " must be a number, got '" + value->substr(0, 64) + "'", {{"parameter", name}});
  }
  return std::optional<double>(d);
}

}  // namespace alphalab

// The list endpoints' query convention (docs/api.md, "Lists"), parsed in one place for every
// list: equality filters whose value may be a comma list (= IN), numeric bounds
// (`min_<field>` / `max_<field>`) and `sort=<field>_<asc|desc>[,...]`. Each parser names the
// parameter in its InvalidArgument details ({"parameter": name}).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.hpp"

namespace alphalab {

// At most this many values in one IN list.
inline constexpr size_t kMaxInListValues = 1000;

// A comma list with duplicates removed (first occurrence kept); items trimmed, empty items dropped.
std::vector<std::string> SplitUniqueList(std::string_view text);

// An equality filter `name=value` or `name=a,b` (IN). Absent or empty: no filter (empty
// vector). A value that lists nothing (",") or more than kMaxInListValues values ->
// InvalidArgument naming `name`.
Result<std::vector<std::string>> ParseInList(const std::string& name, const std::optional<std::string>& value);

// A numeric bound or threshold: absent or empty -> nullopt; anything but a finite number ->
// InvalidArgument naming `name`.
Result<std::optional<double>> ParseFiniteNumber(const std::string& name, const std::optional<std::string>& value);

// "<field>_<asc|desc>[,...]" over a list of fields (each entry has `.field` and `.name`) ->
// (field, descending) pairs. Unknown field (the message lists the sortable ones), missing or
// unknown direction, an empty element or a field named twice -> InvalidArgument naming the part.
template <typename Info, size_t N>
Result<std::vector<std::pair<decltype(Info::field), bool>>> ParseSortSpec(std::string_view spec,
                                                                          const Info (&fields)[N]) {
  std::vector<std::pair<decltype(Info::field), bool>> keys;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view part = spec.substr(start, comma - start);
    const std::string shown(part.substr(0, 64));
    auto bad = [&](std::string why) {
      return Status::InvalidArgument("invalid sort '" + shown + "': " + why,
                                     {{"parameter", "sort"}, {"value", shown}});
    };
    if (part.empty()) return bad("empty sort element");
    size_t us = part.rfind('_');
    if (us == std::string_view::npos) return bad("expected <field>_asc or <field>_desc");
    std::string_view field_name = part.substr(0, us);
    std::string_view dir = part.substr(us + 1);
    if (dir != "asc" && dir != "desc") return bad("direction must be asc or desc");
    const Info* info = nullptr;
    for (const auto& candidate : fields) {
      if (candidate.name == field_name) info = &candidate;
    }
    if (!info) {
      std::string allowed;
      for (const auto& candidate : fields) {
        if (!allowed.empty()) allowed += ", ";
        allowed += candidate.name;
      }
      return bad("unknown sort field '" + std::string(field_name.substr(0, 64)) + "' (sortable: " + allowed + ")");
    }
    for (const auto& k : keys) {
      if (k.first == info->field) return bad("field sorted twice");
    }
    keys.emplace_back(info->field, dir == "desc");
    start = comma + 1;
    if (comma == spec.size()) break;
  }
  return keys;
}

}  // namespace alphalab

#include "core/override_key.hpp"

#include <cctype>

namespace alphalab {

Result<std::vector<std::string>> SplitOverrideKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("override key is empty");
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const auto dot = key.find('.', pos);
    std::string_view seg = key.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (seg.empty()) {
      return Status::InvalidArgument("override key '" + std::string(key) + "' has an empty segment");
    }
    for (char c : seg) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
        return Status::InvalidArgument("override key '" + std::string(key) +
                                       "' may only hold letters, digits, '_', '-' and '.'");
      }
    }
    out.emplace_back(seg);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return out;
}

Status ValidateOverrideKey(std::string_view key) {
  auto parts = SplitOverrideKey(key);
  return parts.ok() ? Status::Ok() : parts.status();
}

}  // namespace alphalab

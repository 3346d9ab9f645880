#include "core/override_key.hpp"

namespace alphalab {
namespace {
bool IsKeyStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsKeyChar(char c) { return IsKeyStart(c) || (c >= '0' && c <= '9'); }
}  // namespace

std::string OverrideKeyProblem(std::string_view key) {
  if (key.empty()) return "is empty";
  if (!IsKeyStart(key[0])) return "must start with a letter or '_'";
  bool after_dot = false;
  for (size_t i = 1; i < key.size(); ++i) {
    const char c = key[i];
    if (c == '.') {
      if (after_dot) return "has an empty segment";
      after_dot = true;
    } else if (IsKeyChar(c)) {
      after_dot = false;
    } else {
      return "may only hold letters, digits, '_' and '.' (found '" + std::string(1, c) + "')";
    }
  }
  if (after_dot) return "has an empty segment";
  return "";
}

Result<std::vector<std::string>> SplitOverrideKey(std::string_view key) {
  if (std::string problem = OverrideKeyProblem(key); !problem.empty()) {
    return Status::InvalidArgument("override key '" + std::string(key.substr(0, 200)) + "' " + problem);
  }
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const auto dot = key.find('.', pos);
    out.emplace_back(key.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos));
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return out;
}

Status ValidateOverrideKey(std::string_view key) {
  std::string problem = OverrideKeyProblem(key);
  if (problem.empty()) return Status::Ok();
  return Status::InvalidArgument("override key '" + std::string(key.substr(0, 200)) + "' " + problem);
}

}  // namespace alphalab

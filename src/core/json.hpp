// JSON helpers: parse without exceptions, typed field access with clear messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.hpp"

namespace alphalab {

using Json = nlohmann::json;

// Deepest nesting of arrays/objects ParseJson accepts. Deeper documents are refused while
// parsing (InvalidArgument), before any tree is built: copying, dumping or comparing a Json
// value recurses once per level, so an unbounded depth from a request body would overflow
// the stack.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`; not JSON, or nested deeper than `max_depth` -> InvalidArgument.
Result<Json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);

// Required fields: missing or wrong type -> InvalidArgument naming the field.
Result<std::string> GetString(const Json& obj, std::string_view key);
Result<int64_t> GetInt(const Json& obj, std::string_view key);
Result<double> GetDouble(const Json& obj, std::string_view key);
Result<bool> GetBool(const Json& obj, std::string_view key);
// Optional fields: absent or null -> nullopt; present with the wrong type -> error.
Result<std::optional<std::string>> GetOptionalString(const Json& obj, std::string_view key);
Result<std::optional<int64_t>> GetOptionalInt(const Json& obj, std::string_view key);
Result<std::optional<double>> GetOptionalDouble(const Json& obj, std::string_view key);
Result<std::optional<bool>> GetOptionalBool(const Json& obj, std::string_view key);
// Optional string with a default: absent or null -> `fallback`; wrong type -> error.
Result<std::string> GetStringOr(const Json& obj, std::string_view key, std::string_view fallback);
Result<std::vector<std::string>> GetStringList(const Json& obj, std::string_view key);  // absent -> {}

// Refuses keys of `obj` that are not in `allowed` (catches typos like "config_pth").
Status CheckKnownKeys(const Json& obj, std::initializer_list<std::string_view> allowed);

// Dump with invalid UTF-8 replaced instead of throwing.
std::string DumpJson(const Json& j, int indent = -1);

// Compact JSON text (no whitespace outside strings, as DumpJson writes it) indented as
// DumpJson(j, 2) writes the same value, without parsing it into a Json tree (the job meta
// file from its compact detail body).
std::string IndentJson(std::string_view compact);

}  // namespace alphalab

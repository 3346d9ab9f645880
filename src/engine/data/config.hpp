// YAML configs for engine commands: load, apply `--set a.b=c` overrides, read typed values
// with one-line errors naming the dotted key. Shared by train, backtest and eval-metrics.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "core/status.hpp"

namespace alphalab::engine {

// Parses a YAML document whose root must be a mapping. `origin` names it in errors.
Result<YAML::Node> ParseYamlConfig(std::string_view text, std::string_view origin);
Result<YAML::Node> LoadYamlConfig(const std::filesystem::path& path);

// "a.b.c=value": the value parses as a YAML scalar or flow list/map ("5", "true",
// "[SPX, AAPL]", "2001-01-01", "hello"). Intermediate maps are created. A malformed
// assignment (no '=', empty key, empty key segment, bad YAML) is InvalidArgument.
struct ConfigOverride {
  std::vector<std::string> path;  // {"strategy", "params", "fast"}
  YAML::Node value;
};
Result<ConfigOverride> ParseOverride(std::string_view assignment);
Status ApplyOverride(YAML::Node& root, const ConfigOverride& override_value);
Status ApplyOverrides(YAML::Node& root, const std::vector<std::string>& assignments);
// Sets a dotted key to a value (creating maps on the way).
Status SetPath(YAML::Node& root, const std::vector<std::string>& path, const YAML::Node& value);

// YAML -> JSON: scalars become int, float, bool or string (in that order of preference;
// quoted YAML strings stay strings), null stays null.
nlohmann::json YamlToJson(const YAML::Node& node);
// A mapping key as text: a scalar's text, "" for an empty key, a collection's YAML text.
std::string YamlKeyText(const YAML::Node& key);

// Emits block-style YAML (for the resolved config.yaml a run writes).
std::string DumpYaml(const YAML::Node& node);

// The same bytes as DumpYaml, cheaper when called for many configs of one shape (a sweep's
// tasks differ in a few scalar values): per thread, the document's shape (containers, styles,
// keys) is emitted once with a placeholder for every scalar value, and each distinct scalar is
// emitted once (yaml-cpp decides its quoting from its text and whether it sits in a flow
// collection, nothing else); the text is the shape's pieces with the scalars' texts between
// them. Anything it cannot reproduce exactly (tags, shared nodes/aliases, non-scalar keys, a
// scalar emitted on more than one line, very long scalars) goes through DumpYaml.
std::string DumpYamlCached(const YAML::Node& node);

// Typed access to one mapping of a config. `where` is the dotted prefix used in
// messages ("strategy.params"); errors read
//   "config key 'strategy.params.fast' must be an integer, got 'abc'".
class ConfigMap {
 public:
  ConfigMap(YAML::Node node, std::string where);

  const YAML::Node& node() const { return node_; }
  const std::string& where() const { return where_; }
  bool Has(std::string_view key) const;
  std::string KeyPath(std::string_view key) const;

  // Unknown keys are an error listing the allowed ones.
  Status CheckKnownKeys(const std::vector<std::string_view>& allowed) const;

  // Required when `fallback` is nullopt.
  Result<double> Double(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  Result<int64_t> Int(std::string_view key, std::optional<int64_t> fallback = std::nullopt) const;
  Result<bool> Bool(std::string_view key, std::optional<bool> fallback = std::nullopt) const;
  Result<std::string> String(std::string_view key,
                             std::optional<std::string> fallback = std::nullopt) const;
  // "YYYY-MM-DD" -> days since epoch; nullopt when absent or null.
  Result<std::optional<int32_t>> OptionalDate(std::string_view key) const;
  // A YAML list or a comma-separated string ("SHY,IEF" or [SHY, IEF]).
  Result<std::vector<std::string>> StringList(
      std::string_view key, std::optional<std::vector<std::string>> fallback = std::nullopt) const;
  Result<std::vector<double>> DoubleList(
      std::string_view key, std::optional<std::vector<double>> fallback = std::nullopt) const;
  // A nested mapping (an empty one when absent and `required` is false).
  Result<ConfigMap> Map(std::string_view key, bool required = false) const;

 private:
  YAML::Node node_;
  std::string where_;
};

}  // namespace alphalab::engine

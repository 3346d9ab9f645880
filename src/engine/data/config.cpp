#include "engine/data/config.hpp"

#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>
#include <sstream>

#include "core/clock.hpp"
#include "core/override_key.hpp"
#include "core/text.hpp"
#include "core/workspace.hpp"

namespace alphalab::engine {
namespace {

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string ScalarText(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "null";
}

}  // namespace

Result<YAML::Node> ParseYamlConfig(std::string_view text, std::string_view origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string(origin) + ": invalid YAML at line " +
                                   std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) {
    return Status::InvalidArgument(std::string(origin) + ": the top level must be a mapping");
  }
  return root;
}

Result<YAML::Node> LoadYamlConfig(const std::filesystem::path& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return Status::NotFound("config file " + path.string() + " cannot be read");
  return ParseYamlConfig(*text, path.string());
}

Result<ConfigOverride> ParseOverride(std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return Status::InvalidArgument("override '" + std::string(assignment) +
                                   "' must look like key=value");
  }
  std::string key(assignment.substr(0, eq));
  std::string value(assignment.substr(eq + 1));
  while (!key.empty() && key.back() == ' ') key.pop_back();
  while (!key.empty() && key.front() == ' ') key.erase(key.begin());
  if (key.empty()) {
    return Status::InvalidArgument("override '" + std::string(assignment) + "' has an empty key");
  }
  ConfigOverride out;
  ASSIGN_OR_RETURN(out.path, SplitOverrideKey(key));
  try {
    out.value = value.empty() ? YAML::Node(std::string()) : YAML::Load(value);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("override '" + std::string(assignment) +
                                   "': value is not valid YAML: " + e.msg);
  }
  if (out.value.IsNull() && !value.empty() && value != "null" && value != "~") {
    out.value = YAML::Node(value);
  }
  return out;
}

Status SetPath(YAML::Node& root, const std::vector<std::string>& path, const YAML::Node& value) {
  if (path.empty()) return Status::InvalidArgument("empty config key");
  // yaml-cpp nodes are handles: walking with operator[] and reassigning would rebind the
  // handle, so build the chain recursively.
  std::vector<YAML::Node> chain{root};
  std::string walked;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    walked += (i ? "." : "") + path[i];
    YAML::Node next = chain.back()[path[i]];
    if (!next.IsDefined() || next.IsNull()) {
      chain.back()[path[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[path[i]];
    } else if (!next.IsMap()) {
      return Status::InvalidArgument("config key '" + walked + "' is not a mapping, cannot set '" +
                                     Join(path, ".") + "'");
    }
    chain.push_back(next);
  }
  chain.back()[path.back()] = value;
  return Status::Ok();
}

Status ApplyOverride(YAML::Node& root, const ConfigOverride& o) { return SetPath(root, o.path, o.value); }

Status ApplyOverrides(YAML::Node& root, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) {
    ASSIGN_OR_RETURN(auto o, ParseOverride(a));
    RETURN_IF_ERROR(ApplyOverride(root, o));
  }
  return Status::Ok();
}

std::string YamlKeyText(const YAML::Node& key) {
  if (key.IsScalar()) return key.Scalar();
  if (!key.IsDefined() || key.IsNull()) return "";
  return YAML::Dump(key);  // a collection as key: its YAML text, never an exception
}

namespace {

// A plain decimal integer ("5", "-120"; no sign '+', no leading zero, at most 18 digits): the
// value yaml-cpp's int64 decode gives it (that decode reads with automatic base, so "010" is
// octal and stays on the slow path), and its double decode the same value correctly rounded,
// without their string streams (~4,000 instructions a value: a grid converts and checks
// every axis value, and parses its base config).
std::optional<int64_t> PlainDecimal(const std::string& s) {
  const size_t digits = s.size() - (!s.empty() && s[0] == '-' ? 1 : 0);
  if (digits == 0 || digits > 18) return std::nullopt;
  const char* p = s.data() + (s.size() - digits);
  if (digits > 1 && p[0] == '0') return std::nullopt;
  int64_t v = 0;
  for (size_t k = 0; k < digits; ++k) {
    if (p[k] < '0' || p[k] > '9') return std::nullopt;
    v = v * 10 + (p[k] - '0');
  }
  return s[0] == '-' ? -v : v;
}

}  // namespace

nlohmann::json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[YamlKeyText(kv.first)] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted in the source
      if (const auto plain = PlainDecimal(s)) return *plain;
      int64_t i = 0;
      double d = 0;
      bool b = false;
      if (YAML::convert<int64_t>::decode(node, i)) return i;
      if (YAML::convert<double>::decode(node, d) && std::isfinite(d)) return d;
      if (YAML::convert<bool>::decode(node, b)) return b;
      return s;
    }
  }
  return nullptr;
}

std::string DumpYaml(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  std::string s = out.c_str();
  if (s.empty() || s.back() != '\n') s += '\n';
  return s;
}

namespace {

// Placeholders of the shape's text: "zqzslot<i>zqz", plain scalars yaml-cpp never quotes.
constexpr std::string_view kSlotOpen = "zqzslot";
constexpr std::string_view kSlotClose = "zqz";
constexpr size_t kMaxCachedScalar = 256;

struct YamlShape {
  std::string key;                                  // types, styles, keys: equal keys emit alike
  std::vector<std::pair<bool, std::string>> values;  // each scalar value: in a flow collection?, text
  std::vector<YAML::Node> seen;                     // for shared nodes (emitted as anchors)
  bool ok = true;
};

void AppendCounted(std::string& out, const std::string& text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
}

bool TagIsSilent(const YAML::Node& n) {
  const std::string& tag = n.Tag();
  return tag.empty() || tag == "?" || tag == "!";  // what yaml-cpp's emitter leaves out
}

void WalkShape(const YAML::Node& n, bool flow, YamlShape& w) {
  if (!w.ok) return;
  if (!n.IsDefined() || !TagIsSilent(n)) {
    w.ok = false;
    return;
  }
  for (const YAML::Node& s : w.seen) {
    if (s.is(n)) {
      w.ok = false;
      return;
    }
  }
  w.seen.push_back(n);
  switch (n.Type()) {
    case YAML::NodeType::Null:
      w.key += '~';
      return;
    case YAML::NodeType::Scalar:
      if (n.Scalar().size() > kMaxCachedScalar) {
        w.ok = false;
        return;
      }
      w.key += '$';
      w.values.emplace_back(flow, n.Scalar());
      return;
    case YAML::NodeType::Sequence: {
      const bool inner = flow || n.Style() == YAML::EmitterStyle::Flow;
      w.key += inner ? "[f" : "[b";
      for (const YAML::Node& item : n) WalkShape(item, inner, w);
      w.key += ']';
      return;
    }
    case YAML::NodeType::Map: {
      const bool inner = flow || n.Style() == YAML::EmitterStyle::Flow;
      w.key += inner ? "{f" : "{b";
      for (const auto& kv : n) {
        const YAML::Node& k = kv.first;
        if (!k.IsScalar() || !TagIsSilent(k) || k.Scalar().size() > kMaxCachedScalar ||
            k.Scalar().find(kSlotOpen) != std::string::npos) {
          w.ok = false;
          return;
        }
        AppendCounted(w.key, k.Scalar());
        WalkShape(kv.second, inner, w);
        if (!w.ok) return;
      }
      w.key += '}';
      return;
    }
    default:
      w.ok = false;
  }
}

// The shape of `n` with placeholder scalars (numbered in walk order from `next`).
YAML::Node Placeholders(const YAML::Node& n, size_t& next) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return YAML::Node(std::string(kSlotOpen) + std::to_string(next++) + std::string(kSlotClose));
    case YAML::NodeType::Sequence: {
      YAML::Node out(YAML::NodeType::Sequence);
      out.SetStyle(n.Style());
      for (const YAML::Node& item : n) out.push_back(Placeholders(item, next));
      return out;
    }
    case YAML::NodeType::Map: {
      YAML::Node out(YAML::NodeType::Map);
      out.SetStyle(n.Style());
      for (const auto& kv : n) out.force_insert(kv.first.Scalar(), Placeholders(kv.second, next));
      return out;
    }
    default:
      return YAML::Node(YAML::NodeType::Null);
  }
}

// The shape's text cut at its placeholders: pieces.size() == scalars + 1. Empty: not usable.
std::vector<std::string> ShapePieces(const YAML::Node& node, size_t scalars) {
  size_t next = 0;
  const std::string text = DumpYaml(Placeholders(node, next));
  std::vector<std::string> pieces;
  size_t from = 0;
  for (size_t i = 0; i < scalars; ++i) {
    const std::string slot = std::string(kSlotOpen) + std::to_string(i) + std::string(kSlotClose);
    const size_t at = text.find(slot, from);
    if (at == std::string::npos) return {};
    pieces.push_back(text.substr(from, at - from));
    from = at + slot.size();
  }
  pieces.push_back(text.substr(from));
  return pieces;
}

// How yaml-cpp writes one scalar value in block or flow context; nullopt when on several lines.
std::optional<std::string> ScalarText(bool flow, const std::string& value) {
  YAML::Emitter e;
  if (flow) {
    e << YAML::Flow << YAML::BeginSeq << value << YAML::EndSeq;
  } else {
    e << value;
  }
  std::string out = e.c_str();
  if (flow) {
    if (out.size() < 2 || out.front() != '[' || out.back() != ']') return std::nullopt;
    out = out.substr(1, out.size() - 2);
  }
  if (!e.good() || out.find('\n') != std::string::npos) return std::nullopt;
  return out;
}

}  // namespace

std::string DumpYamlCached(const YAML::Node& node) {
  thread_local std::unordered_map<std::string, std::vector<std::string>> shapes;
  thread_local std::map<std::pair<bool, std::string>, std::string> scalars;
  YamlShape w;
  WalkShape(node, false, w);
  if (!w.ok) return DumpYaml(node);
  auto shape = shapes.find(w.key);
  if (shape == shapes.end()) {
    if (shapes.size() >= 64) shapes.clear();
    shape = shapes.emplace(w.key, ShapePieces(node, w.values.size())).first;
  }
  const std::vector<std::string>& pieces = shape->second;
  if (pieces.size() != w.values.size() + 1) return DumpYaml(node);
  if (scalars.size() >= 4096) scalars.clear();
  std::string out = pieces[0];
  for (size_t i = 0; i < w.values.size(); ++i) {
    auto it = scalars.find(w.values[i]);
    if (it == scalars.end()) {
      auto text = ScalarText(w.values[i].first, w.values[i].second);
      if (!text) return DumpYaml(node);
      it = scalars.emplace(w.values[i], std::move(*text)).first;
    }
    out += it->second;
    out += pieces[i + 1];
  }
  return out;
}

ConfigMap::ConfigMap(YAML::Node node, std::string where)
    : node_(std::move(node)), where_(std::move(where)) {}

bool ConfigMap::Has(std::string_view key) const {
  if (!node_.IsMap()) return false;
  const YAML::Node n = node_[std::string(key)];
  return n.IsDefined() && !n.IsNull();
}

std::string ConfigMap::KeyPath(std::string_view key) const {
  return where_.empty() ? std::string(key) : where_ + "." + std::string(key);
}

Status ConfigMap::CheckKnownKeys(const std::vector<std::string_view>& allowed) const {
  if (!node_.IsDefined() || node_.IsNull()) return Status::Ok();
  if (!node_.IsMap()) {
    return Status::InvalidArgument("config key '" + where_ + "' must be a mapping");
  }
  for (const auto& kv : node_) {
    // A key must be plain text: `{[a]: 1}` or a tagged empty key (`{!x : 1}`) is refused here,
    // never converted (yaml-cpp throws on a non-scalar key).
    if (!kv.first.IsScalar()) {
      return Status::InvalidArgument("config key '" + (where_.empty() ? std::string("(top level)") : where_) +
                                     "' has a key that is not plain text");
    }
    const std::string key = kv.first.Scalar();
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok) {
      std::string list;
      for (size_t i = 0; i < allowed.size(); ++i) list += (i ? ", " : "") + std::string(allowed[i]);
      return Status::InvalidArgument("unknown config key '" + KeyPath(key) + "' (allowed: " + list +
                                     ")");
    }
  }
  return Status::Ok();
}

Result<double> ConfigMap::Double(std::string_view key, std::optional<double> fallback) const {
  if (!Has(key)) {
    if (fallback) return *fallback;
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' is required");
  }
  const YAML::Node n = node_[std::string(key)];
  if (n.IsScalar()) {
    const auto plain = PlainDecimal(n.Scalar());  // "-0" is -0.0 as a double
    if (plain && (*plain != 0 || n.Scalar()[0] != '-')) return static_cast<double>(*plain);  // rounded once
  }
  double v = 0;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' must be a number, got '" +
                                   ScalarText(n) + "'");
  }
  return v;
}

Result<int64_t> ConfigMap::Int(std::string_view key, std::optional<int64_t> fallback) const {
  if (!Has(key)) {
    if (fallback) return *fallback;
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' is required");
  }
  const YAML::Node n = node_[std::string(key)];
  if (n.IsScalar()) {
    if (const auto plain = PlainDecimal(n.Scalar())) return *plain;
  }
  int64_t v = 0;
  if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v)) {
    double d = 0;
    if (n.IsScalar() && YAML::convert<double>::decode(n, d) && std::isfinite(d) &&
        d == std::floor(d) && std::fabs(d) < 9e15) {
      return static_cast<int64_t>(d);
    }
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' must be an integer, got '" +
                                   ScalarText(n) + "'");
  }
  return v;
}

Result<bool> ConfigMap::Bool(std::string_view key, std::optional<bool> fallback) const {
  if (!Has(key)) {
    if (fallback) return *fallback;
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' is required");
  }
  const YAML::Node n = node_[std::string(key)];
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
    return Status::InvalidArgument("config key '" + KeyPath(key) +
                                   "' must be true or false, got '" + ScalarText(n) + "'");
  }
  return v;
}

Result<std::string> ConfigMap::String(std::string_view key, std::optional<std::string> fallback) const {
  if (!Has(key)) {
    if (fallback) return *fallback;
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' is required");
  }
  const YAML::Node n = node_[std::string(key)];
  if (!n.IsScalar()) {
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' must be a string, got " +
                                   ScalarText(n));
  }
  return n.Scalar();
}

Result<std::optional<int32_t>> ConfigMap::OptionalDate(std::string_view key) const {
  if (!Has(key)) return std::optional<int32_t>();
  const YAML::Node n = node_[std::string(key)];
  if (!n.IsScalar()) {
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' must be a date YYYY-MM-DD");
  }
  auto d = ParseDate(n.Scalar());
  if (!d.ok()) {
    return Status::InvalidArgument("config key '" + KeyPath(key) +
                                   "' must be a date YYYY-MM-DD, got '" + n.Scalar() + "'");
  }
  return std::optional<int32_t>(*d);
}

Result<std::vector<std::string>> ConfigMap::StringList(
    std::string_view key, std::optional<std::vector<std::string>> fallback) const {
  if (!Has(key)) {
    if (fallback) return *fallback;
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' is required");
  }
  const YAML::Node n = node_[std::string(key)];
  std::vector<std::string> out;
  if (n.IsSequence()) {
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        return Status::InvalidArgument("config key '" + KeyPath(key) +
                                       "' must be a list of strings");
      }
      out.push_back(item.Scalar());
    }
  } else if (n.IsScalar()) {
    out = SplitCommaList(n.Scalar());
  } else {
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' must be a list");
  }
  return out;
}

Result<std::vector<double>> ConfigMap::DoubleList(std::string_view key,
                                                  std::optional<std::vector<double>> fallback) const {
  if (!Has(key)) {
    if (fallback) return *fallback;
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' is required");
  }
  ASSIGN_OR_RETURN(auto strings, StringList(key, std::nullopt));
  std::vector<double> out;
  for (const auto& s : strings) {
    double v = 0;
    if (!YAML::convert<double>::decode(YAML::Node(s), v) || !std::isfinite(v)) {
      return Status::InvalidArgument("config key '" + KeyPath(key) +
                                     "' must be a list of numbers, got '" + s + "'");
    }
    out.push_back(v);
  }
  return out;
}

Result<ConfigMap> ConfigMap::Map(std::string_view key, bool required) const {
  if (!Has(key)) {
    if (required) return Status::InvalidArgument("config key '" + KeyPath(key) + "' is required");
    return ConfigMap(YAML::Node(YAML::NodeType::Map), KeyPath(key));
  }
  const YAML::Node n = node_[std::string(key)];
  if (!n.IsMap()) {
    return Status::InvalidArgument("config key '" + KeyPath(key) + "' must be a mapping");
  }
  return ConfigMap(n, KeyPath(key));
}

}  // namespace alphalab::engine

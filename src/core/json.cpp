#include "core/json.hpp"

namespace alphalab {

namespace {
const char* TypeName(const Json& v) { return v.type_name(); }

Status WrongType(std::string_view key, std::string_view want, const Json& got) {
  return Status::InvalidArgument(
      "field '" + std::string(key) + "' must be " + std::string(want) + ", got " + TypeName(got),
      Json{{"field", std::string(key)}});
}
}  // namespace

Result<Json> ParseJson(std::string_view text, int max_depth) {
  // Fast path: with no more '[' / '{' bytes than the limit, no nesting can exceed it.
  int64_t openers = 0;
  for (char c : text) openers += (c == '[' || c == '{') ? 1 : 0;
  if (openers <= max_depth) {
    Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
    return j;
  }
  // nlohmann's parser itself is iterative; the callback sees each container's depth (0 for
  // the top level) as it opens and discards anything too deep, so no deep tree is built.
  bool too_deep = false;
  Json::parser_callback_t guard = [&too_deep, max_depth](int depth, Json::parse_event_t event,
                                                         Json& /*parsed*/) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= max_depth) {
      too_deep = true;
      return false;
    }
    return !too_deep;
  };
  Json j = Json::parse(text.begin(), text.end(), guard, /*allow_exceptions=*/false);
  if (too_deep) {
    return Status::InvalidArgument(
        "JSON nested deeper than " + std::to_string(max_depth) + " levels",
        Json{{"max_depth", max_depth}});
  }
  if (j.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
  return j;
}

Result<std::optional<std::string>> GetOptionalString(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return WrongType(key, "a string", *it);
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<int64_t>> GetOptionalInt(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  return WrongType(key, "an integer", *it);
}

Result<std::optional<double>> GetOptionalDouble(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return WrongType(key, "a number", *it);
  return std::optional<double>(it->get<double>());
}

Result<std::optional<bool>> GetOptionalBool(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return WrongType(key, "a boolean", *it);
  return std::optional<bool>(it->get<bool>());
}

template <typename T>
static Result<T> Required(Result<std::optional<T>> r, std::string_view key) {
  if (!r.ok()) return r.status();
  if (!r->has_value()) {
    return Status::InvalidArgument("missing required field '" + std::string(key) + "'",
                                   Json{{"field", std::string(key)}});
  }
  return **r;
}

Result<std::string> GetStringOr(const Json& obj, std::string_view key, std::string_view fallback) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, GetOptionalString(obj, key));
  return value ? std::move(*value) : std::string(fallback);
}

Result<std::string> GetString(const Json& obj, std::string_view key) {
  return Required(GetOptionalString(obj, key), key);
}
Result<int64_t> GetInt(const Json& obj, std::string_view key) {
  return Required(GetOptionalInt(obj, key), key);
}
Result<double> GetDouble(const Json& obj, std::string_view key) {
  return Required(GetOptionalDouble(obj, key), key);
}
Result<bool> GetBool(const Json& obj, std::string_view key) {
  return Required(GetOptionalBool(obj, key), key);
}

Result<std::vector<std::string>> GetStringList(const Json& obj, std::string_view key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return WrongType(key, "a list of strings", *it);
  for (const auto& v : *it) {
    if (!v.is_string()) return WrongType(key, "a list of strings", *it);
    out.push_back(v.get<std::string>());
  }
  return out;
}

Status CheckKnownKeys(const Json& obj, std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (auto a : allowed) known = known || it.key() == a;
    if (!known) {
      return Status::InvalidArgument("unknown field '" + it.key() + "'", Json{{"field", it.key()}});
    }
  }
  return Status::Ok();
}

std::string DumpJson(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string IndentJson(std::string_view compact) {
  std::string out;
  out.reserve(compact.size() + compact.size() / 2);
  int depth = 0;
  const auto new_line = [&] {
    out += '\n';
    out.append(static_cast<size_t>(2 * depth), ' ');
  };
  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    switch (c) {
      case '"': {  // a string, copied through its closing quote
        size_t j = i + 1;
        while (j < compact.size() && compact[j] != '"') j += compact[j] == '\\' ? 2 : 1;
        out.append(compact.data() + i, std::min(j + 1, compact.size()) - i);
        i = j;
        break;
      }
      case '{':
      case '[':
        if (i + 1 < compact.size() && compact[i + 1] == (c == '{' ? '}' : ']')) {  // empty: "{}", "[]"
          out += c;
          out += compact[++i];
          break;
        }
        out += c;
        ++depth;
        new_line();
        break;
      case '}':
      case ']':
        --depth;
        new_line();
        out += c;
        break;
      case ',':
        out += ',';
        new_line();
        break;
      case ':':
        out += ": ";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace alphalab

#include "core/yaml_secrets.hpp"

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "core/dotenv.hpp"  // IsSecretKey, kMask, NoStoredSecret
#include "core/text.hpp"

namespace alphalab {

namespace {

struct SecretValue {
  std::string path;    // parent keys and the key, '.'-joined
  int occurrence = 0;  // among the secret values of the same path, in text order
  int line = 0;        // 1-based
  size_t begin = 0;    // the value's bytes in the text (quotes, block indicator and lines included)
  size_t end = 0;
  bool masked = false;  // the value is ******** (bare or quoted)
};

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

size_t IndentOf(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

// The closing quote of a quoted scalar starting at s[0]; npos when it is not on this line.
size_t ClosingQuote(std::string_view s) {
  const char q = s[0];
  for (size_t i = 1; i < s.size(); ++i) {
    if (q == '"' && s[i] == '\\') {
      ++i;
    } else if (s[i] == q) {
      if (q == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
        ++i;  // '' inside single quotes
      } else {
        return i;
      }
    }
  }
  return std::string_view::npos;
}

// Every value of a secret-looking key (yaml_secrets.hpp for what is recognised).
std::vector<SecretValue> FindSecretValues(std::string_view text) {
  std::vector<SecretValue> out;
  std::vector<std::pair<size_t, std::string>> stack;  // (indent, key) of the open mappings
  std::map<std::string, int> seen;
  bool in_block = false;       // inside a block scalar's lines
  size_t block_parent = 0;     // the indent of the key that opened it
  size_t block_secret = SIZE_MAX;  // its entry in `out` when the key is a secret
  int line_no = 0;
  for (size_t ls = 0; ls < text.size();) {
    size_t le = text.find('\n', ls);
    if (le == std::string_view::npos) le = text.size();
    const size_t next = le + 1;
    if (le > ls && text[le - 1] == '\r') --le;
    const std::string_view line = text.substr(ls, le - ls);
    ++line_no;
    const size_t indent = IndentOf(line);
    if (in_block) {
      if (IsBlank(line)) {
        ls = next;
        continue;
      }
      if (indent > block_parent) {
        if (block_secret != SIZE_MAX) out[block_secret].end = le;
        ls = next;
        continue;
      }
      in_block = false;
      block_secret = SIZE_MAX;
    }
    std::string_view rest = line.substr(indent);
    if (rest.empty() || rest[0] == '#' || rest[0] == '\t') {
      ls = next;
      continue;
    }
    if (indent == 0 && (rest.substr(0, 3) == "---" || rest.substr(0, 3) == "...")) {
      stack.clear();
      ls = next;
      continue;
    }
    size_t key_indent = indent;
    while (!rest.empty() && rest[0] == '-' && (rest.size() == 1 || rest[1] == ' ')) {
      size_t skip = 1;
      while (skip < rest.size() && rest[skip] == ' ') ++skip;
      key_indent += skip;
      rest = rest.substr(skip);
    }
    // The key: quoted, or plain up to ": " / a final ':'.
    std::string key;
    size_t colon = std::string_view::npos;
    if (!rest.empty() && (rest[0] == '"' || rest[0] == '\'')) {
      const size_t close = ClosingQuote(rest);
      if (close != std::string_view::npos && rest.substr(close + 1, 1) == ":") {
        key = std::string(rest.substr(1, close - 1));
        colon = close + 1;
      }
    } else if (!rest.empty() && std::string_view("{[&*!|>%@`?").find(rest[0]) == std::string_view::npos) {
      for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '#' && i > 0 && (rest[i - 1] == ' ' || rest[i - 1] == '\t')) break;
        if (rest[i] == ':' && (i + 1 == rest.size() || rest[i + 1] == ' ' || rest[i + 1] == '\t')) {
          colon = i;
          break;
        }
      }
      if (colon != std::string_view::npos) {
        key = std::string(rest.substr(0, colon));
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
      }
    }
    if (colon == std::string_view::npos || key.empty()) {
      ls = next;
      continue;  // a scalar line (a list item, a continuation)
    }
    while (!stack.empty() && stack.back().first >= key_indent) stack.pop_back();
    const bool secret = IsSecretKey(key);
    std::string path;  // only a secret's is needed
    if (secret) {
      for (const auto& [i, k] : stack) path += k + ".";
      path += key;
    }
    stack.emplace_back(key_indent, std::move(key));

    size_t v = colon + 1;
    while (v < rest.size() && (rest[v] == ' ' || rest[v] == '\t')) ++v;
    const size_t value_at = static_cast<size_t>(rest.data() - text.data()) + v;  // offset in text
    const std::string_view value = rest.substr(v);
    SecretValue sv{path, 0, line_no, value_at, value_at, false};
    bool found = false;
    if (value.empty() || value[0] == '#') {
      // A nested mapping or sequence follows.
    } else if (value[0] == '|' || value[0] == '>') {
      size_t h = 1;
      while (h < value.size() && value[h] != ' ' && value[h] != '\t') ++h;
      in_block = true;
      block_parent = key_indent;
      sv.end = value_at + h;
      found = secret;
    } else if (value[0] == '"' || value[0] == '\'') {
      const size_t close = ClosingQuote(value);
      if (close != std::string_view::npos) {
        sv.end = value_at + close + 1;
        sv.masked = value.substr(1, close - 1) == kMask;
        found = secret && close > 1;  // "" is not a secret to hide
      }
    } else if (value.substr(0, kMask.size()) == kMask &&
               (value.size() == kMask.size() || value[kMask.size()] == ' ' || value[kMask.size()] == '\t')) {
      sv.end = value_at + kMask.size();
      sv.masked = true;
      found = secret;
    } else if (std::string_view("{[&*!").find(value[0]) == std::string_view::npos) {
      size_t e = value.size();
      for (size_t i = 1; i < value.size(); ++i) {
        if (value[i] == '#' && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
          e = i;
          break;
        }
      }
      while (e > 0 && (value[e - 1] == ' ' || value[e - 1] == '\t')) --e;
      const std::string_view plain = value.substr(0, e);
      sv.end = value_at + e;
      found = secret && plain != "null" && plain != "~" && plain != "Null" && plain != "NULL";
    }
    if (found) {
      sv.occurrence = seen[path]++;
      out.push_back(std::move(sv));
      if (in_block) block_secret = out.size() - 1;
    }
    ls = next;
  }
  return out;
}

}  // namespace

std::string MaskYamlSecrets(std::string_view text) {
  const std::string masked = "\"" + std::string(kMask) + "\"";
  std::vector<TextSpan> spans;
  for (const SecretValue& s : FindSecretValues(text)) spans.push_back({s.begin, s.end, masked});
  return ReplaceSpans(text, spans);
}

Result<std::string> UnmaskYamlSecrets(std::string_view incoming, std::string_view current) {
  std::map<std::pair<std::string, int>, std::string_view> stored;
  for (const SecretValue& s : FindSecretValues(current)) {
    if (!s.masked) stored[{s.path, s.occurrence}] = current.substr(s.begin, s.end - s.begin);
  }
  std::vector<TextSpan> spans;
  for (const SecretValue& s : FindSecretValues(incoming)) {
    if (!s.masked) continue;
    auto it = stored.find({s.path, s.occurrence});
    if (it == stored.end()) return NoStoredSecret(s.line, s.path);
    spans.push_back({s.begin, s.end, std::string(it->second)});
  }
  return ReplaceSpans(incoming, spans);
}

}  // namespace alphalab

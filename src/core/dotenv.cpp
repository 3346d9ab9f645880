#include "core/dotenv.hpp"

#include <cctype>

#include "core/json.hpp"
#include "core/text.hpp"

namespace alphalab {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

struct Cursor {
  std::string_view s;
  size_t i = 0;
  int line = 1;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  void SkipSpaces() {
    while (!done() && IsSpace(s[i])) ++i;
  }
};

Status LineError(int line, const std::string& what) {
  return Status::InvalidArgument("line " + std::to_string(line) + ": " + what, Json{{"line", line}});
}

std::string Expand(std::string_view raw, const std::map<std::string, std::string>& known) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '{') {
      const size_t close = raw.find('}', i + 2);
      if (close != std::string_view::npos) {
        std::string inner(raw.substr(i + 2, close - i - 2));
        std::string name = inner, def;
        if (const size_t d = inner.find(":-"); d != std::string::npos) {
          name = inner.substr(0, d);
          def = inner.substr(d + 2);
        }
        auto it = known.find(name);
        out += (it != known.end() && !it->second.empty()) ? it->second : def;
        i = close;
        continue;
      }
    }
    out += raw[i];
  }
  return out;
}

std::string DecodeDouble(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      const char n = raw[++i];
      switch (n) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        case '\'': out += '\''; break;
        default: out += '\\'; out += n; break;
      }
    } else {
      out += raw[i];
    }
  }
  return out;
}

std::string DecodeSingle(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '\'' || raw[i + 1] == '\\')) {
      out += raw[++i];
    } else {
      out += raw[i];
    }
  }
  return out;
}

bool IsKeyChar(char c) { return !(IsSpace(c) || c == '=' || c == '#' || c == '\n' || c == '\r' || c == '\0'); }

// Skips to after the end of the current line; false when something other than spaces or a
// comment is left on it.
bool EndOfLine(Cursor& c) {
  c.SkipSpaces();
  if (c.peek() == '#') {
    while (!c.done() && c.s[c.i] != '\n') ++c.i;
  }
  if (c.peek() == '\r') ++c.i;
  if (c.done()) return true;
  if (c.s[c.i] != '\n') return false;
  ++c.i;
  ++c.line;
  return true;
}

}  // namespace

Result<std::vector<DotenvEntry>> ParseDotenv(std::string_view text) {
  std::vector<DotenvEntry> out;
  std::map<std::string, std::string> known;
  Cursor c{text};
  while (!c.done()) {
    c.SkipSpaces();
    if (c.peek() == '#' || c.peek() == '\n' || c.peek() == '\r' || c.done()) {
      if (!EndOfLine(c)) return LineError(c.line, "unexpected text after a comment");
      continue;
    }
    if (c.s.substr(c.i, 7) == "export " || c.s.substr(c.i, 7) == "export\t") {
      c.i += 7;
      c.SkipSpaces();
    }
    DotenvEntry e;
    e.line = c.line;
    if (c.peek() == '\'') {
      const size_t close = c.s.find('\'', c.i + 1);
      if (close == std::string_view::npos || c.s.substr(c.i, close - c.i).find('\n') != std::string_view::npos) {
        return LineError(c.line, "unclosed quote in a key");
      }
      e.key = std::string(c.s.substr(c.i + 1, close - c.i - 1));
      c.i = close + 1;
    } else {
      const size_t start = c.i;
      while (!c.done() && IsKeyChar(c.s[c.i])) ++c.i;
      e.key = std::string(c.s.substr(start, c.i - start));
    }
    if (e.key.empty()) return LineError(c.line, "expected KEY=VALUE, the key is missing");
    c.SkipSpaces();
    if (c.peek() != '=') return LineError(c.line, "expected KEY=VALUE, '" + e.key.substr(0, 60) + "' has no '='");
    ++c.i;
    c.SkipSpaces();
    e.value_begin = c.i;
    const char q = c.peek();
    if (q == '\'' || q == '"') {
      e.quote = q;
      size_t j = c.i + 1;
      int lines = 0;
      bool closed = false;
      for (; j < c.s.size(); ++j) {
        if (c.s[j] == '\\' && j + 1 < c.s.size()) {
          ++j;
          if (c.s[j] == '\n') ++lines;
          continue;
        }
        if (c.s[j] == '\n') ++lines;
        if (c.s[j] == q) {
          closed = true;
          break;
        }
      }
      if (!closed) return LineError(e.line, "unclosed " + std::string(q == '"' ? "double" : "single") + " quote");
      const std::string_view raw = c.s.substr(c.i + 1, j - c.i - 1);
      e.value = q == '"' ? Expand(DecodeDouble(raw), known) : DecodeSingle(raw);
      c.i = j + 1;
      c.line += lines;
      e.value_end = c.i;
      if (!EndOfLine(c)) return LineError(c.line, "unexpected text after the closing quote");
    } else {
      size_t j = c.i;
      while (j < c.s.size() && c.s[j] != '\n' && c.s[j] != '\r') {
        if (c.s[j] == '#' && j > c.i && IsSpace(c.s[j - 1])) break;  // ` #` starts a comment
        ++j;
      }
      size_t end = j;
      while (end > c.i && IsSpace(c.s[end - 1])) --end;
      e.value = Expand(c.s.substr(c.i, end - c.i), known);
      e.value_end = end;
      c.i = j;
      if (!EndOfLine(c)) return LineError(c.line, "unexpected text after the value");
    }
    known[e.key] = e.value;
    out.push_back(std::move(e));
  }
  return out;
}

bool IsSecretKey(std::string_view key) {
  static const char* const kWords[] = {"KEY", "KEYS", "APIKEY", "TOKEN", "TOKENS", "SECRET", "SECRETS",
                                       "PASSWORD", "PASSWD", "CREDENTIAL", "CREDENTIALS"};
  std::string part;
  auto check = [&]() {
    for (const char* w : kWords) {
      if (part == w) return true;
    }
    return false;
  };
  for (size_t i = 0; i <= key.size(); ++i) {
    const bool sep = i == key.size() || !std::isalnum(static_cast<unsigned char>(key[i]));
    if (sep) {
      if (check()) return true;
      part.clear();
    } else {
      part += static_cast<char>(std::toupper(static_cast<unsigned char>(key[i])));
    }
  }
  return false;
}

namespace {

std::string MaskedToken(char quote) {
  if (quote == 0) return std::string(kMask);
  return std::string(1, quote) + std::string(kMask) + std::string(1, quote);
}

// Best effort for text that does not parse: KEY=VALUE lines with a secret key, value masked.
std::string MaskLines(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    const size_t eq = line.find('=');
    if (eq != std::string::npos) {
      std::string key = line.substr(0, eq);
      while (!key.empty() && IsSpace(key.back())) key.pop_back();
      if (IsSecretKey(key)) line = line.substr(0, eq + 1) + std::string(kMask);
    }
    out += line;
    if (end < text.size()) out += '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string MaskDotenv(std::string_view text) {
  auto entries = ParseDotenv(text);
  if (!entries.ok()) return MaskLines(text);
  std::vector<TextSpan> spans;
  for (const DotenvEntry& e : *entries) {
    if (IsSecretKey(e.key) && !e.value.empty()) spans.push_back({e.value_begin, e.value_end, MaskedToken(e.quote)});
  }
  return ReplaceSpans(text, spans);
}

Result<std::string> UnmaskDotenv(std::string_view incoming, std::string_view current) {
  ASSIGN_OR_RETURN(std::vector<DotenvEntry> in, ParseDotenv(incoming));
  std::map<std::string, std::string> stored;  // key -> raw token in `current`
  if (auto cur = ParseDotenv(current); cur.ok()) {
    for (const DotenvEntry& e : *cur) stored[e.key] = std::string(current.substr(e.value_begin, e.value_end - e.value_begin));
  }
  std::vector<TextSpan> spans;
  for (const DotenvEntry& e : in) {
    if (!IsSecretKey(e.key) || e.value != kMask) continue;
    auto it = stored.find(e.key);
    if (it == stored.end()) return NoStoredSecret(e.line, e.key);
    spans.push_back({e.value_begin, e.value_end, it->second});
  }
  return ReplaceSpans(incoming, spans);
}

Status NoStoredSecret(int line, const std::string& key) {
  return Status::InvalidArgument("line " + std::to_string(line) + ": " + key +
                                     " is ******** (a masked value) but there is no stored value to keep",
                                 Json{{"line", line}, {"key", key}});
}

std::map<std::string, std::string> DotenvMap(const std::vector<DotenvEntry>& entries) {
  std::map<std::string, std::string> out;
  for (const DotenvEntry& e : entries) out[e.key] = e.value;
  return out;
}

}  // namespace alphalab

// The `.env` grammar as python-dotenv reads it (RD-Agent loads its settings with it), and the
// secret masking applied to every `.env` text that leaves the server (docs/configs.md).
//
//   # a comment                     blank lines
//   KEY=value  # trailing comment   unquoted: trailing whitespace and ` #...` dropped
//   export KEY=value                optional `export`
//   KEY='single'                    literal; only \' and \\ are escapes
//   KEY="double\n"                  \n \t \r \" \\ \' and friends decoded; may span lines
//   KEY=${OTHER:-default}           in unquoted and double-quoted values, expanded from keys
//                                   defined earlier in the same file (never from the server's
//                                   environment), as python-dotenv's interpolation does
//
// A line that is not one of these (a bare word, `=value`, an unclosed quote) is an error naming
// its line; the writer refuses such a file, so every managed `.env` stays parseable.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace alphalab {

struct DotenvEntry {
  std::string key;
  std::string value;       // decoded (quotes, escapes, interpolation)
  int line = 0;            // 1-based line of the key
  size_t value_begin = 0;  // the raw value token in the text, quotes included
  size_t value_end = 0;
  char quote = 0;          // '\'', '"' or 0
};

// InvalidArgument "line N: ..." with details {line} on the first bad line.
Result<std::vector<DotenvEntry>> ParseDotenv(std::string_view text);

// KEY, TOKEN, SECRET, PASSWORD, PASSWD, CREDENTIAL(S) as a word part of the key, any case
// (OPENAI_API_KEY, github-token, db.password; not KEYBOARD or MONKEY_COUNT).
bool IsSecretKey(std::string_view key);

inline constexpr std::string_view kMask = "********";

// The text with the value of every secret key replaced by ******** (quotes kept). Text that does
// not parse is masked line by line as far as it can be (KEY=... lines with a secret key).
std::string MaskDotenv(std::string_view text);

// A text written back by a client: every secret key whose value is ******** gets the value the
// key has in `current` (raw token, byte for byte). InvalidArgument naming the key when there is
// none to keep.
Result<std::string> UnmaskDotenv(std::string_view incoming, std::string_view current);

// InvalidArgument "line N: <key> is ******** (a masked value) but there is no stored value to
// keep" with details {line, key}: a client sent a mask for a secret the file does not hold.
Status NoStoredSecret(int line, const std::string& key);

// KEY -> decoded value, last one wins.
std::map<std::string, std::string> DotenvMap(const std::vector<DotenvEntry>& entries);

}  // namespace alphalab

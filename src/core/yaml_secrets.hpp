// Secret masking for managed YAML files, the counterpart of dotenv.hpp's for `.env`
// (docs/configs.md "Secrets"): the value of every mapping key that looks like a key, token or
// password (IsSecretKey: api_key, token, db.password, ...) leaves the server as "********".
//
// Works on the text, line by line, so everything else stays byte for byte:
//   key: value            plain, 'single' or "double" scalar, an optional ` # comment` kept
//   - key: value          a key inside a sequence item
//   key: |  / key: >-     a block scalar: the indicator and its more-indented lines are the value
// Masked, a value becomes "********" (quoted: a bare * starts a YAML alias, so the masked text
// still parses). Flow collections ({key: v}), anchors, aliases, tags and multi-line plain
// scalars of secret keys are not recognised as secrets and are left as they are.
//
// A key's path is its parent keys by indentation ("llm.api_key"); the n-th occurrence of a path
// in a text pairs with the n-th in the other (list items repeat their paths).
#pragma once

#include <string>
#include <string_view>

#include "core/status.hpp"

namespace alphalab {

// The text with every secret value replaced by "********".
std::string MaskYamlSecrets(std::string_view text);

// A text written back by a client: every secret value that is ******** (quoted or not) gets the
// value the same key path has in `current`, byte for byte (block scalars included).
// InvalidArgument "line N: <path> is ******** ..." (details {line, key}) when there is none.
Result<std::string> UnmaskYamlSecrets(std::string_view incoming, std::string_view current);

}  // namespace alphalab

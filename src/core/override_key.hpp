// The rule for an override key (`--set a.b.c=value`, optimization `param_space` keys):
// dot-separated, non-empty segments of letters, digits, '_' and '-'.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace alphalab {

// {"strategy", "params", "fast"} for "strategy.params.fast"; InvalidArgument naming the key
// when it is empty, has an empty segment or a character outside [A-Za-z0-9_-].
Result<std::vector<std::string>> SplitOverrideKey(std::string_view key);
Status ValidateOverrideKey(std::string_view key);

}  // namespace alphalab

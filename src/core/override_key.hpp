// The one rule for an override key: `--set a.b.c=value` on the command line, `overrides`
// items of the jobs API, optimization `param_space` keys, and the pattern the OpenAPI
// document gives the UI (components.schemas.OverrideItem):
//
//   key := [A-Za-z_][A-Za-z0-9_]* ( "." [A-Za-z0-9_]+ )*
//
// A key never starts with '-' or a digit, so an override passed as `--set <key>=<value>` can
// never be read as an option.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace alphalab {

// {"strategy", "params", "fast"} for "strategy.params.fast"; InvalidArgument naming the key
// and the problem when it does not follow the rule.
Result<std::vector<std::string>> SplitOverrideKey(std::string_view key);
Status ValidateOverrideKey(std::string_view key);
// The problem with a key ("" when it follows the rule), e.g. "has an empty segment", for
// callers with their own wording.
std::string OverrideKeyProblem(std::string_view key);

}  // namespace alphalab

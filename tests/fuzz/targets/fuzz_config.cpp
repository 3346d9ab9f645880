// libFuzzer target: what a user types into a config: `--set` / `overrides` items (the override
// key rule, the YAML value, applying it to a config) and whole backtest YAML documents (YAML
// parsing and the typed backtest spec). Anything may be refused with a Status; nothing may
// crash, leak, hang or throw.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/override_key.hpp"
#include "engine/backtest/spec.hpp"
#include "engine/data/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first line as an override item, applied on a small config.
  const std::string_view first = input.substr(0, input.find('\n'));
  (void)alphalab::ValidateOverrideKey(first.substr(0, first.find('=')));
  auto item = alphalab::engine::ParseOverride(first);
  auto base = alphalab::engine::ParseYamlConfig("strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n", "fuzz");
  if (item.ok() && base.ok()) (void)alphalab::engine::ApplyOverride(*base, *item);
  // The whole input as a backtest config document.
  auto doc = alphalab::engine::ParseYamlConfig(input, "fuzz.yaml");
  if (doc.ok()) (void)alphalab::engine::ParseBacktestSpec(*doc);
  return 0;
}

// libFuzzer target: request bodies through ParseJson and the helpers handlers use on them.
// Nothing may crash, hang or recurse without bound, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = alphalab::ParseJson(text);
  if (!parsed.ok()) return 0;
  const alphalab::Json copy = *parsed;  // copies and dumps recurse per level: bounded by the limit
  (void)alphalab::DumpJson(copy);
  if (copy.is_object()) {
    (void)alphalab::CheckKnownKeys(copy, {"job_type", "params", "dry_run"});
    (void)alphalab::GetOptionalString(copy, "job_type");
    (void)alphalab::GetOptionalInt(copy, "lines");
    (void)alphalab::GetOptionalDouble(copy, "sleep");
    (void)alphalab::GetOptionalBool(copy, "dry_run");
    (void)alphalab::GetStringList(copy, "tickers");
  }
  return 0;
}

// The config center's checks (docs/configs.md, "Checks"): YAML validation that tolerates the
// Jinja placeholders of RD-Agent's templates, the Qlib provider_uri layout, the LLM endpoint and
// the consistency of market / provider_uri / data segments across a tool's templates.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/roots.hpp"
#include "core/status.hpp"

namespace YAML {
class Node;
}

namespace alphalab::configs {

// Parses a YAML file as RD-Agent's templates are written: each `{{ ... }}` Jinja placeholder is
// read as a string scalar (the templates are rendered by RD-Agent, not by us). InvalidArgument
// "line N: ..." (details {line}) when it is not YAML.
Status ValidateYaml(std::string_view text);

// The settings the templates must agree on, as text (YAML re-emitted): "" when absent.
struct TemplateFacts {
  std::string file;  // managed path
  std::string market;
  std::string provider_uri;
  std::string segments;  // task.dataset.kwargs.segments
};
Result<TemplateFacts> ReadTemplateFacts(std::string_view text, std::string file);

// {ok, mismatches: [{key, file, value, expected, reference_file}]}: each fact compared with the
// first template that has it.
Json ConsistencyReport(const std::vector<TemplateFacts>& facts);

// {ok, provider_uri, checked_instruments, missing: [..]}: calendars/day.txt,
// instruments/<market>.txt and features/<instrument>/*.day.bin for each listed instrument (at
// most `max_instruments` checked). The folder must lie in the workspace or a declared root
// (otherwise ok: false with the reason).
Json QlibLayoutReport(const ConfinedRoots& roots, const std::string& provider_uri, const std::string& market,
                      size_t max_instruments = 1000);

// GET {base_url}/models with `Authorization: Bearer <api_key>`.
struct LlmProbeResult {
  std::string outcome;  // reachable | auth_failed | refused | timed_out | bad_response
  int http_status = 0;
  std::string detail;
  double elapsed_ms = 0;
};
class LlmProbe {
 public:
  virtual ~LlmProbe() = default;
  virtual LlmProbeResult Probe(const std::string& base_url, const std::string& api_key,
                               std::chrono::milliseconds timeout) = 0;
};
// http:// and https:// (OpenSSL, peer verified against the system store) over Boost.Beast.
std::unique_ptr<LlmProbe> MakeBeastLlmProbe();

}  // namespace alphalab::configs

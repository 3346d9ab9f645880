// The ONE mapping from Status codes to HTTP statuses and the error envelope
// {"error": {"code": "NOT_FOUND", "message": "...", "details": ...}}.
//
// The envelope never carries absolute file-system paths: the workspace root (and every root
// registered with SetEnvelopePathRoots) is rewritten to a workspace-relative path, and any other
// absolute path under a system folder (/etc, /home, /tmp, /proc, ...) becomes "<path>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "http/router.hpp"

namespace alphalab::http {

int HttpStatusFor(StatusCode code);
// The envelope with the mapped status. `http_status_override` (e.g. 405, 413) replaces it.
HttpResponse ErrorResponse(const Status& status, int http_status_override = 0);
Json ErrorEnvelope(const Status& status);

// Roots (absolute folders: the workspace, extra data roots) whose prefix is stripped from
// envelope messages and details. Process-wide; set once at server start (adds to the list).
void SetEnvelopePathRoots(const std::vector<std::string>& roots);
// The redaction ErrorEnvelope applies to every string (exposed for tests).
std::string RedactPaths(std::string_view text);

}  // namespace alphalab::http

// The ONE mapping from Status codes to HTTP statuses and the error envelope
// {"error": {"code": "NOT_FOUND", "message": "...", "details": ...}}.
#pragma once

#include "core/status.hpp"
#include "http/router.hpp"

namespace alphalab::http {

int HttpStatusFor(StatusCode code);
// The envelope with the mapped status. `http_status_override` (e.g. 405, 413) replaces it.
HttpResponse ErrorResponse(const Status& status, int http_status_override = 0);
Json ErrorEnvelope(const Status& status);

}  // namespace alphalab::http

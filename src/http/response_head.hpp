// The status line and header block of a non-streamed response, written straight into one
// string instead of through Beast's message and serializer (the per-request path of every
// response: GET /api/jobs/{id} at tens of thousands a second). The bytes are what Beast writes
// for the same response (tests/http/response_head_test.cpp compares them): Server and
// Content-Type, the extra headers in order, Connection as keep_alive() sets it, Content-Length.
#pragma once

#include <optional>
#include <string>

#include "http/router.hpp"

namespace alphalab::http {

// nullopt for what this does not write byte for byte like Beast (a 1xx, 204 or 304 status, an
// extra header named Server, Content-Type, Connection, Content-Length or Transfer-Encoding or
// repeated, a version other than 1.0 / 1.1); the caller serializes those with Beast.
// `content_length` is the body's size (also for HEAD, whose body is not sent).
std::optional<std::string> ResponseHead(const HttpResponse& r, unsigned version, bool keep_alive,
                                        size_t content_length);

}  // namespace alphalab::http

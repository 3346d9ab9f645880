// The wire contract: the OpenAPI 3.1 document src/http/openapi.json, compiled into the binary
// and served at GET /api/openapi.json. It is the single source of truth for the routes and
// their query parameters: at start-up the server checks that the router's routes and the
// document's operations are the same set, and the router refuses any query parameter an
// operation does not declare (400). The UI's wire types are generated from the same file.
#pragma once

#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"
#include "http/router.hpp"

namespace alphalab::http {

// The document's text as compiled in (generated openapi_text.cpp).
std::string_view OpenApiText();
// The document, parsed once.
const Json& OpenApiDocument();

// Checks that `router`'s routes and `doc`'s operations are the same set of (method, path
// pattern) — a route the document does not describe, or an operation no route serves, is an
// error listing every such pair — then declares each operation's query parameters (inline or
// `$ref: #/components/parameters/...`) on its route.
Status ApplyOpenApi(Router& router, const Json& doc);

// Registers GET /api/openapi.json (the document as compiled in), then
// ApplyOpenApi(router, OpenApiDocument()). Call once, after every route group is registered;
// the server must not start when it fails.
Status InstallOpenApi(Router& router);

}  // namespace alphalab::http

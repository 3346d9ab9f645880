// Registers the workspace root with the error envelope (http/api_error.hpp), so messages and
// details that name a workspace file show it relative to the workspace, never absolute.
#include "http/api_error.hpp"
#include "http/route_modules.hpp"

namespace alphalab::http {

namespace {

void RegisterEnvelopePathRoots(Router& /*router*/, ServerContext& ctx) {
  SetEnvelopePathRoots({ctx.workspace.root().string()});
}

}  // namespace

ALPHALAB_REGISTER_ROUTES(1, RegisterEnvelopePathRoots);

}  // namespace alphalab::http

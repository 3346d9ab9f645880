// Self-registration of route modules: each src/http/<resource>_handlers.cpp registers one
// function; the server calls them all, in `order`, when it starts (ONE list, built at link
// time). alphalab_http is an OBJECT library, so registrars are never dropped by the linker.
//
//   ALPHALAB_REGISTER_ROUTES(40, RegisterRegistryRoutes);
//
// Orders in use: 10 health/metrics, 15 jobs, 90 static UI fallback. Registry: 40.
#pragma once

#include <string_view>
#include <vector>

#include "http/router.hpp"
#include "http/server_context.hpp"

namespace alphalab::http {

using RouteModule = void (*)(Router& router, ServerContext& ctx);

struct RouteModuleRegistrar {
  RouteModuleRegistrar(int order, std::string_view name, RouteModule module);
};

// Calls every registered module in `order` (ties: registration order).
void RegisterAllRoutes(Router& router, ServerContext& ctx);
// Names of registered modules in call order (for logs and tests).
std::vector<std::string_view> RegisteredRouteModuleNames();

}  // namespace alphalab::http

#define ALPHALAB_ROUTES_CONCAT2_(a, b) a##b
#define ALPHALAB_ROUTES_CONCAT_(a, b) ALPHALAB_ROUTES_CONCAT2_(a, b)
#define ALPHALAB_REGISTER_ROUTES(order, fn)                                        \
  static const ::alphalab::http::RouteModuleRegistrar ALPHALAB_ROUTES_CONCAT_(     \
      kRouteRegistrar_, __LINE__)(order, #fn, fn)

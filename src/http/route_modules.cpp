#include "http/route_modules.hpp"

#include <algorithm>
#include <string>

namespace alphalab::http {

namespace {
struct Entry {
  int order;
  std::string_view name;
  RouteModule module;
};
std::vector<Entry>& Modules() {
  static std::vector<Entry> modules;
  return modules;
}
std::vector<Entry> Sorted() {
  std::vector<Entry> out = Modules();
  std::stable_sort(out.begin(), out.end(),
                   [](const Entry& a, const Entry& b) { return a.order < b.order; });
  return out;
}
}  // namespace

RouteModuleRegistrar::RouteModuleRegistrar(int order, std::string_view name, RouteModule module) {
  Modules().push_back(Entry{order, name, module});
}

void RegisterAllRoutes(Router& router, ServerContext& ctx) {
  for (const Entry& e : Sorted()) e.module(router, ctx);
}

std::vector<std::string_view> RegisteredRouteModuleNames() {
  std::vector<std::string_view> out;
  for (const Entry& e : Sorted()) out.push_back(e.name);
  return out;
}

}  // namespace alphalab::http

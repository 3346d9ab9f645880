#include "http/openapi.hpp"

#include <cctype>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace alphalab::http {

namespace {

constexpr const char* kMethods[] = {"get", "post", "put", "delete", "patch"};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// "#/components/parameters/limit" -> the object it points at.
Result<Json> Resolve(const Json& doc, const Json& node) {
  if (!node.is_object() || !node.contains("$ref")) return node;
  const std::string ref = node["$ref"].get<std::string>();
  if (ref.rfind("#/", 0) != 0) return Status::InvalidArgument("openapi: only local $refs are supported: " + ref);
  try {
    return doc.at(Json::json_pointer(ref.substr(1)));
  } catch (const std::exception&) {
    return Status::InvalidArgument("openapi: unresolved $ref " + ref);
  }
}

}  // namespace

const Json& OpenApiDocument() {
  static const Json doc = [] {
    auto parsed = ParseJson(OpenApiText());
    return parsed.ok() ? std::move(parsed).value() : Json(nullptr);
  }();
  return doc;
}

Status ApplyOpenApi(Router& router, const Json& doc) {
  if (!doc.is_object() || !doc.contains("paths") || !doc["paths"].is_object()) {
    return Status::InvalidArgument("openapi: the document has no paths object");
  }
  std::set<std::pair<std::string, std::string>> routes;
  for (auto& r : router.ListRoutes()) routes.insert(std::move(r));

  std::set<std::pair<std::string, std::string>> documented;
  std::vector<std::pair<std::pair<std::string, std::string>, std::vector<std::string>>> query;
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!item.is_object()) return Status::InvalidArgument("openapi: path item " + path + " is not an object");
    for (const char* m : kMethods) {
      if (!item.contains(m)) continue;
      const Json& operation = item[m];
      std::vector<std::string> names;
      for (const Json* list : {item.contains("parameters") ? &item["parameters"] : nullptr,
                               operation.contains("parameters") ? &operation["parameters"] : nullptr}) {
        if (list == nullptr) continue;
        for (const Json& raw : *list) {
          ASSIGN_OR_RETURN(Json p, Resolve(doc, raw));
          if (p.value("in", "") == "query") names.push_back(p.value("name", ""));
        }
      }
      auto key = std::make_pair(Upper(m), path);
      documented.insert(key);
      query.emplace_back(std::move(key), std::move(names));
    }
  }

  std::string problems;
  for (const auto& r : routes) {
    if (!documented.count(r)) problems += "\n  route " + r.first + " " + r.second + " is not in the document";
  }
  for (const auto& d : documented) {
    if (!routes.count(d)) problems += "\n  operation " + d.first + " " + d.second + " has no route";
  }
  if (!problems.empty()) {
    return Status::InvalidArgument("the router and the OpenAPI document (src/http/openapi.json) disagree:" +
                                   problems);
  }
  for (auto& [key, names] : query) {
    RETURN_IF_ERROR(router.DeclareQueryParameters(key.first, key.second, std::move(names)));
  }
  return Status::Ok();
}

Status InstallOpenApi(Router& router) {
  const Json& doc = OpenApiDocument();
  if (doc.is_null()) return Status::Internal("the compiled-in OpenAPI document does not parse");
  router.GetRaw("/api/openapi.json", [](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse r = HttpResponse::Text(std::string(OpenApiText()), "application/json");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  });
  return ApplyOpenApi(router, doc);
}

}  // namespace alphalab::http

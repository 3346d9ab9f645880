// The OpenAPI document compiled into the server, and the router checks derived from it.
#include <functional>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "http/openapi.hpp"
#include "jobs/job_catalog.hpp"
#include "store/registry_store.hpp"

namespace alphalab::http {
namespace {

HttpRequest Req(HttpMethod m, std::string path, std::string query = "") {
  HttpRequest r;
  r.method = m;
  r.method_name = std::string(HttpMethodName(m));
  r.path = std::move(path);
  r.target = r.path + (query.empty() ? "" : "?" + query);
  r.query = *QueryParams::Parse(query);
  return r;
}

JsonHandler Ok() {
  return [](const HttpRequest&) -> Result<Json> { return Json{{"ok", true}}; };
}

// A small document in the same shape as src/http/openapi.json.
Json MiniDoc() {
  return ParseJson(R"({
    "openapi": "3.1.0",
    "paths": {
      "/api/things": {"get": {"parameters": [
          {"name": "kind", "in": "query", "schema": {"type": "string"}},
          {"$ref": "#/components/parameters/limit"}], "responses": {}},
        "post": {"responses": {}}},
      "/api/things/{id}": {"parameters": [{"name": "id", "in": "path", "required": true}],
        "get": {"responses": {}}}
    },
    "components": {"parameters": {"limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}}}
  })").value();
}

TEST(OpenApiTest, CompiledDocumentIsOpenApi31AndServedAsIs) {
  const Json& doc = OpenApiDocument();
  ASSERT_TRUE(doc.is_object()) << "src/http/openapi.json does not parse";
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_TRUE(doc["paths"].contains("/api/openapi.json"));

  Router router;
  // Every documented operation needs a route, or InstallOpenApi refuses to start the server.
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (path == "/api/openapi.json" || method == "parameters") continue;
      const HttpMethod m = method == "post"     ? HttpMethod::kPost
                           : method == "delete" ? HttpMethod::kDelete
                           : method == "put"    ? HttpMethod::kPut
                                                : HttpMethod::kGet;
      router.Add(m, path, Ok());
    }
  }
  ASSERT_TRUE(InstallOpenApi(router).ok());
  auto req = Req(HttpMethod::kGet, "/api/openapi.json");
  HttpResponse r = router.Dispatch(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, OpenApiText());
}

// Walks every schema of the document: each $ref resolves, and each object schema with
// properties says which are required and whether others may appear.
void Walk(const Json& doc, const Json& node, const std::string& where, std::vector<std::string>* problems) {
  if (node.is_object()) {
    if (node.contains("$ref")) {
      const std::string ref = node["$ref"];
      if (ref.rfind("#/", 0) != 0 || !doc.contains(Json::json_pointer(ref.substr(1)))) {
        problems->push_back(where + ": unresolved $ref " + ref);
      }
    }
    if (node.value("type", Json()) == "object" && node.contains("properties")) {
      if (!node.contains("required")) problems->push_back(where + ": object schema without 'required'");
      if (!node.contains("additionalProperties")) {
        problems->push_back(where + ": object schema without 'additionalProperties'");
      }
      for (const auto& req : node.value("required", Json::array())) {
        if (!node["properties"].contains(req.get<std::string>())) {
          problems->push_back(where + ": required '" + req.get<std::string>() + "' is not a property");
        }
      }
    }
    for (const auto& [k, v] : node.items()) Walk(doc, v, where + "/" + k, problems);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) Walk(doc, node[i], where + "/" + std::to_string(i), problems);
  }
}

TEST(OpenApiTest, EverySchemaIsClosedAndEveryRefResolves) {
  const Json& doc = OpenApiDocument();
  std::vector<std::string> problems;
  Walk(doc, doc, "#", &problems);
  for (const auto& p : problems) ADD_FAILURE() << p;
}

TEST(OpenApiTest, EveryOperationDocumentsSuccessAndErrorEnvelopes) {
  const Json& doc = OpenApiDocument();
  const Json& errors = doc["components"]["responses"];
  int operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      ++operations;
      SCOPED_TRACE(method + " " + path);
      ASSERT_TRUE(op.contains("responses"));
      EXPECT_TRUE(op["responses"].contains("200"));
      EXPECT_TRUE(op["responses"].contains("400")) << "a bad query parameter is a 400 on every endpoint";
      EXPECT_TRUE(op.contains("operationId"));
      for (const auto& [code, resp] : op["responses"].items()) {
        if (code == "200") continue;
        ASSERT_TRUE(resp.contains("$ref")) << code;
        const std::string name = resp["$ref"].get<std::string>().substr(std::string("#/components/responses/").size());
        ASSERT_TRUE(errors.contains(name)) << code;
        EXPECT_EQ(errors[name]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ApiError");
      }
    }
  }
  EXPECT_GE(operations, 23);
}

TEST(OpenApiTest, JobRecordDeclaresTheTypedEndReason) {
  const Json& job = OpenApiDocument()["components"]["schemas"]["Job"];
  ASSERT_TRUE(job["properties"].contains("end_reason"));
  const Json& reason = OpenApiDocument()["components"]["schemas"]["EndReason"];
  std::set<std::string> values;
  for (const auto& v : reason["enum"]) {
    if (v.is_string()) values.insert(v.get<std::string>());
  }
  EXPECT_EQ(values, (std::set<std::string>{"exit_code", "signal", "timeout", "canceled", "spawn_failed", "lost",
                                           "out_of_memory", "node_fail", "preempted"}));
  EXPECT_NE(reason["type"], "string") << "end_reason is nullable";
}

TEST(OpenApiTest, UndocumentedRouteOrRoutelessOperationIsRefused) {
  {
    Router router;
    router.Get("/api/things", Ok());
    router.Post("/api/things", Ok());
    router.Get("/api/things/{id}", Ok());
    router.Get("/api/secret", Ok());  // not in the document
    Status s = ApplyOpenApi(router, MiniDoc());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("route GET /api/secret is not in the document"), std::string::npos) << s.message();
  }
  {
    Router router;
    router.Get("/api/things", Ok());
    router.Get("/api/things/{id}", Ok());  // POST /api/things is documented but not served
    Status s = ApplyOpenApi(router, MiniDoc());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("operation POST /api/things has no route"), std::string::npos) << s.message();
  }
}

TEST(OpenApiTest, RouterRefusesQueryParametersTheDocumentDoesNotDeclare) {
  Router router;
  router.Get("/api/things", Ok());
  router.Post("/api/things", Ok());
  router.Get("/api/things/{id}", Ok());
  ASSERT_TRUE(ApplyOpenApi(router, MiniDoc()).ok());

  auto ok = Req(HttpMethod::kGet, "/api/things", "kind=a&limit=5");  // inline + $ref parameter
  EXPECT_EQ(router.Dispatch(ok).status, 200);

  auto bad = Req(HttpMethod::kGet, "/api/things", "kind=a&colour=red");
  HttpResponse r = router.Dispatch(bad);
  EXPECT_EQ(r.status, 400);
  Json err = Json::parse(r.body)["error"];
  EXPECT_EQ(err["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(err["details"]["parameter"], "colour");
  EXPECT_NE(err["message"].get<std::string>().find("known: kind, limit"), std::string::npos) << err.dump();

  // A path parameter is not a query parameter; an operation without any refuses them all.
  auto by_id = Req(HttpMethod::kGet, "/api/things/7", "id=7");
  EXPECT_EQ(router.Dispatch(by_id).status, 400);
  auto post = Req(HttpMethod::kPost, "/api/things", "dry=1");
  EXPECT_EQ(router.Dispatch(post).status, 400);
  auto head = Req(HttpMethod::kHead, "/api/things", "nope=1");  // HEAD uses the GET route's list
  EXPECT_EQ(router.Dispatch(head).status, 400);
}

TEST(OpenApiTest, DeclaringParametersOfAnUnknownRouteFails) {
  Router router;
  router.Get("/api/things", Ok());
  EXPECT_TRUE(router.DeclareQueryParameters("GET", "/api/things", {"a"}).ok());
  EXPECT_EQ(router.DeclareQueryParameters("POST", "/api/things", {"a"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(router.DeclareQueryParameters("GET", "/api/other", {}).code(), StatusCode::kNotFound);
}

// The override rule the UI's preview reads from the document (components.schemas.OverrideItem)
// is the rule the jobs API applies: the pattern and ValidateOverride agree item by item.
TEST(OpenApiDocument, OverrideItemPatternIsTheJobsApiRule) {
  const Json& item = OpenApiDocument()["components"]["schemas"]["OverrideItem"];
  ASSERT_TRUE(item.contains("pattern")) << item.dump();
  const std::regex re(item["pattern"].get<std::string>(), std::regex::ECMAScript);
  for (const std::string& kv : std::vector<std::string>{
           "a=1", "_x=", "a.b.c=hello world", "model.params.eta=0.1", "a1.2b=x=y", "k=[1, 2]", "strategy.params.top_n=5",
           "", "=1", "novalue", "1a=2", "a..b=1", "a.=1", ".a=1", "a-b=1", "model.params.max-depth=3", "a b=1",
           "a=1\nb=2", "a=\r", std::string("a=x\0y", 5), "--set=1", "a/b=1", "-a=1", "a.b-c.d=1", "é=1"}) {
    EXPECT_EQ(std::regex_match(kv, re), ValidateOverride(kv).ok()) << "'" << kv << "'";
  }
  for (const char* req : {"TrainRequest", "BacktestRequest"}) {
    EXPECT_EQ(OpenApiDocument()["components"]["schemas"][req]["properties"]["overrides"]["items"]["$ref"],
              "#/components/schemas/OverrideItem")
        << req;
  }
}

}  // namespace
}  // namespace alphalab::http

namespace alphalab::http {
namespace {

// The numeric fields of a registry row and of a backtest summary come from one list each
// (kRegistryNumericFields, kBacktestNumericFields); the document the UI's types are generated
// from must name each with its type, and GET /api/backtests must declare min_/max_ for each.
TEST(OpenApiDocumentTest, NumericFieldListsDriveTheSchemasAndTheBacktestFilters) {
  const Json& schemas = OpenApiDocument()["components"]["schemas"];
  std::set<std::string> numeric;
  for (const auto& info : kRegistryNumericFields) {
    const std::string name(info.name);
    numeric.insert(name);
    ASSERT_TRUE(schemas["RegistryRow"]["properties"].contains(name)) << name;
    EXPECT_EQ(schemas["RegistryRow"]["properties"][name]["type"],
              (Json{info.is_integer ? "integer" : "number", "null"})) << name;
  }
  for (const auto& [name, prop] : schemas["RegistryRow"]["properties"].items()) {
    const bool looks_numeric = prop["type"].is_array() && (prop["type"][0] == "number" || prop["type"][0] == "integer");
    EXPECT_EQ(looks_numeric, numeric.count(name) == 1) << name << " is numeric but not in kRegistryNumericFields";
  }
  std::set<std::string> declared;
  for (const Json& p : OpenApiDocument()["paths"]["/api/backtests"]["get"]["parameters"]) {
    if (p.contains("name")) declared.insert(p["name"].get<std::string>());
  }
  EXPECT_TRUE(declared.count("sort"));
  for (const auto& info : kBacktestNumericFields) {
    const std::string name(info.name);
    EXPECT_EQ(schemas["BacktestSummary"]["properties"][name]["type"],
              (Json{info.is_integer ? "integer" : "number", "null"})) << name;
    EXPECT_TRUE(declared.count("min_" + name)) << name;
    EXPECT_TRUE(declared.count("max_" + name)) << name;
  }
}

}  // namespace
}  // namespace alphalab::http

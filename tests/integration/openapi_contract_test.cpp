// The OpenAPI contract against a real `alphalab serve`: the server only starts when its
// router and src/http/openapi.json describe the same routes (InstallOpenApi), it serves the
// document it was built with, every documented operation is routed and refuses a query
// parameter it does not declare (and accepts those it does), and unknown body fields are a 400.
// Response bodies are validated against the schemas by the JS suite (ui/e2e/contract.mjs).
#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "http/openapi.hpp"
#include "integration/server_harness.hpp"

namespace alphalab::testing {
namespace {

class OpenApiContractTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ws_ = new TempWorkspace();
    server_ = new ServerProcess(ws_->root(), {"--slots", "2"});
    ASSERT_TRUE(server_->Start());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete ws_;
  }
  ServerProcess& s() { return *server_; }

  http::ClientResponse Send(const std::string& method, const std::string& target, const std::string& body = "") {
    auto r = s().client().Request(method, target, body);
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }

  // Every documented operation as (METHOD, concrete path with placeholder ids).
  static std::vector<std::tuple<std::string, std::string, std::string>> Operations() {
    std::vector<std::tuple<std::string, std::string, std::string>> out;
    const Json& doc = http::OpenApiDocument();
    for (const auto& [path, item] : doc["paths"].items()) {
      const std::string concrete = std::regex_replace(path, std::regex(R"(\{[a-z_]+\})"), "contract_x");
      for (const auto& [method, op] : item.items()) {
        if (method == "parameters") continue;
        std::string upper = method;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out.emplace_back(upper, path, concrete);
      }
    }
    return out;
  }

  static TempWorkspace* ws_;
  static ServerProcess* server_;
};
TempWorkspace* OpenApiContractTest::ws_ = nullptr;
ServerProcess* OpenApiContractTest::server_ = nullptr;

TEST_F(OpenApiContractTest, ServesTheDocumentItWasBuiltWith) {
  auto r = s().Get("/api/openapi.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, http::OpenApiText());
  auto doc = r.JsonBody();
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["openapi"], "3.1.0");
}

TEST_F(OpenApiContractTest, EveryOperationIsRoutedAndRefusesUndeclaredQueryParameters) {
  const auto ops = Operations();
  ASSERT_GE(ops.size(), 23u);
  for (const auto& [method, pattern, path] : ops) {
    SCOPED_TRACE(method + " " + pattern);
    auto r = Send(method, path + "?zz_unknown=1", method == "POST" ? "{}" : "");
    EXPECT_EQ(r.status, 400) << r.body;
    auto j = r.JsonBody();
    ASSERT_TRUE(j.ok()) << r.body;
    EXPECT_EQ((*j)["error"]["code"], "INVALID_ARGUMENT");
    EXPECT_EQ((*j)["error"]["details"]["parameter"], "zz_unknown") << r.body;
    EXPECT_NE((*j)["error"]["message"].get<std::string>().find(pattern), std::string::npos) << r.body;
  }
}

TEST_F(OpenApiContractTest, DeclaredQueryParametersPassTheRouterCheck) {
  const Json& doc = http::OpenApiDocument();
  int checked = 0;
  for (const auto& [method, pattern, path] : Operations()) {
    if (method != "GET") continue;
    const Json& op = doc["paths"][pattern]["get"];
    for (Json p : op.value("parameters", Json::array())) {
      if (p.contains("$ref")) p = doc.at(Json::json_pointer(p["$ref"].get<std::string>().substr(1)));
      if (p["in"] != "query") continue;
      const std::string name = p["name"];
      SCOPED_TRACE("GET " + pattern + " ?" + name);
      // A value of the declared type; the handler may still refuse it (404 for placeholder ids,
      // a missing required parameter, ...) but never as an unknown parameter.
      const std::string type = p["schema"].value("type", "string");
      const std::string value = type == "integer" || type == "number" ? "5" : "SPX";
      auto r = Send("GET", path + "?" + name + "=" + value);
      if (r.content_type == "application/json" && r.status >= 400) {
        auto j = r.JsonBody();
        ASSERT_TRUE(j.ok());
        EXPECT_EQ((*j)["error"]["message"].get<std::string>().find("unknown query parameter"), std::string::npos)
            << r.body;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);
}

// Every list endpoint (a GET declaring `limit`) names a bad value of a declared query parameter
// under one key, `details.parameter` (docs/api.md), whichever layer refuses it (router, handler,
// list-query parser, store): a bad limit, a negative offset, an unknown sort field, a number
// that is not one, a value outside an enum. Required parameters get a valid value and {job_id}
// a real job, so that each bad value is the only thing wrong; an endpoint whose resource does
// not exist here (a placeholder id, a template file the workspace lacks) may answer 404 first.
TEST_F(OpenApiContractTest, EveryListEndpointNamesABadQueryParameterUnderDetailsParameter) {
  auto job = s().Post("/api/jobs", {{"job_type", "fixture"}, {"params", Json::object()}});
  ASSERT_EQ(job.status, 200) << job.body;
  const std::string job_id = Json::parse(job.body)["job_id"];
  const std::map<std::string, std::string> required_values = {
      {"q", "x"}, {"path", "configs/backtest/base.yaml"}, {"file", "contract_x.yaml"}};
  const Json& doc = http::OpenApiDocument();
  std::set<std::string> walked, lookup_first;
  int checked = 0;
  for (const auto& [method, pattern, placeholder_path] : Operations()) {
    if (method != "GET") continue;
    std::vector<Json> params;
    for (Json p : doc["paths"][pattern]["get"].value("parameters", Json::array())) {
      if (p.contains("$ref")) p = doc.at(Json::json_pointer(p["$ref"].get<std::string>().substr(1)));
      if (p["in"] == "query") params.push_back(p);
    }
    const bool is_list = std::any_of(params.begin(), params.end(), [](const Json& p) { return p["name"] == "limit"; });
    if (!is_list) continue;
    const std::string path = std::regex_replace(
        std::regex_replace(pattern, std::regex(R"(\{job_id\})"), job_id), std::regex(R"(\{[a-z_]+\})"), "contract_x");
    std::string required;
    for (const Json& p : params) {
      if (!p.value("required", false)) continue;
      const std::string name = p["name"];
      ASSERT_TRUE(required_values.count(name)) << "no valid value known for required " << name << " of " << pattern;
      required += name + "=" + required_values.at(name) + "&";
    }
    const int baseline = Send("GET", path + "?" + required).status;
    for (const Json& p : params) {
      const std::string name = p["name"];
      const Json schema = p.value("schema", Json::object());
      const std::string type = schema.value("type", "string");
      const bool has_enum = schema.contains("enum") || (schema.contains("items") && schema["items"].contains("enum"));
      std::string bad;
      if (name == "offset") {
        bad = "-1";
      } else if (name == "sort") {
        bad = "zz_bogus_desc";
      } else if (type == "integer" || type == "number") {
        bad = "abc";
      } else if (has_enum) {
        bad = "zz_bogus";
      } else {
        continue;  // free text (q, ids, names): any value is a valid filter
      }
      SCOPED_TRACE("GET " + pattern + " ?" + name + "=" + bad);
      auto r = Send("GET", path + "?" + required + name + "=" + bad);
      if (baseline == 404 && r.status == 404) {
        lookup_first.insert(pattern);
        continue;
      }
      EXPECT_EQ(r.status, 400) << r.body;
      auto j = r.JsonBody();
      ASSERT_TRUE(j.ok()) << r.body;
      const Json& details = (*j)["error"]["details"];
      EXPECT_EQ((*j)["error"]["code"], "INVALID_ARGUMENT") << r.body;
      EXPECT_TRUE(details.is_object()) << r.body;
      if (!details.is_object()) continue;
      EXPECT_EQ(details.value("parameter", ""), name) << r.body;
      EXPECT_FALSE(details.contains("param")) << r.body;
      walked.insert(pattern);
      ++checked;
    }
  }
  // The jobs, job log search, job artifacts, backtests, runs, models, config history and
  // optimizations lists at least; only resources this workspace lacks (an optimization, an
  // RD-Agent task, a template file) may answer 404 first.
  EXPECT_GE(walked.size(), 8u) << ::testing::PrintToString(walked);
  EXPECT_LE(lookup_first.size(), 3u) << ::testing::PrintToString(lookup_first);
  EXPECT_GE(checked, 40);
}

// Does `path` match the path pattern (segments, {x} matches any one segment)?
bool Matches(const std::string& pattern, const std::string& path) {
  const std::regex re("^" + std::regex_replace(pattern, std::regex(R"(\{[a-z_]+\})"), "[^/]+") + "$");
  return std::regex_match(path, re);
}

TEST_F(OpenApiContractTest, UndocumentedMethodsOnDocumentedPathsAre405) {
  const auto ops = Operations();
  for (const auto& [method, pattern, path] : ops) {
    for (const char* other : {"GET", "POST", "PUT", "DELETE"}) {
      // Skip when another documented operation serves this method and path
      // (GET /api/jobs/train is GET /api/jobs/{job_id}).
      bool served = false;
      for (const auto& [m2, p2, c2] : ops) served = served || (m2 == other && Matches(p2, path));
      if (served) continue;
      SCOPED_TRACE(std::string(other) + " " + pattern);
      EXPECT_EQ(Send(other, path, std::string(other) == "POST" || std::string(other) == "PUT" ? "{}" : "").status, 405);
    }
  }
}

TEST_F(OpenApiContractTest, UnknownBodyFieldsAreRefusedOnEveryBodyEndpoint) {
  auto queued = s().Post("/api/jobs", {{"job_type", "fixture"}, {"params", {{"sleep", 30}}}});
  ASSERT_EQ(queued.status, 200) << queued.body;
  const std::string id = Json::parse(queued.body)["job_id"];
  const std::vector<std::pair<std::string, Json>> cases = {
      {"/api/jobs", {{"job_type", "fixture"}, {"bogus", 1}}},
      {"/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"bogus", 1}}},
      {"/api/jobs/backtest", {{"config_path", "configs/backtest/base.yaml"}, {"bogus", 1}}},
      {"/api/jobs/eval-metrics", {{"run_id", "run_demo"}, {"bogus", 1}}},
      {"/api/jobs/" + id + "/cancel", {{"bogus", 1}}},
      {"/api/registry/index", {{"bogus", 1}}},
  };
  for (const auto& [path, body] : cases) {
    SCOPED_TRACE(path);
    auto r = s().Post(path, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("bogus"), std::string::npos) << r.body;
  }
  // The refused cancel did nothing; a clean one works.
  EXPECT_NE(s().GetJson("/api/jobs/" + id)["status"], "CANCELED");
  EXPECT_EQ(s().Post("/api/jobs/" + id + "/cancel", Json::object()).status, 200);
  EXPECT_EQ(s().Post("/api/registry/index", Json::object()).status, 200);
}

}  // namespace
}  // namespace alphalab::testing

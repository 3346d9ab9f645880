#include <stdexcept>

#include <gtest/gtest.h>

#include "http/api_error.hpp"
#include "http/router.hpp"

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

Json Body(const HttpResponse& r) { return Json::parse(r.body); }

TEST(QueryParamsTest, ParsingAndTypedGetters) {
  auto q = QueryParams::Parse("limit=5&status=&name=a%20b+c&flag=true&x=1&x=2&neg=-3&f=0.25&bad=%zz");
  EXPECT_FALSE(q.ok());  // malformed escape
  q = QueryParams::Parse("limit=5&status=&name=a%20b+c&flag=true&x=1&x=2&neg=-3&f=0.25&junk=12abc");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q->GetInt("limit", 100), 5);
  EXPECT_EQ(*q->GetInt("absent", 100), 100);
  EXPECT_FALSE(q->Get("status").has_value());  // empty = absent
  EXPECT_EQ(*q->Get("name"), "a b c");
  EXPECT_EQ(*q->GetBool("flag", false), true);
  EXPECT_EQ(*q->GetInt("x", 0), 2);  // last wins
  EXPECT_EQ(q->GetInt("neg", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*q->GetInt("neg", 0, -10), -3);
  EXPECT_EQ(q->GetInt("limit", 0, 0, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(q->GetInt("junk", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(q->GetInt("f", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_DOUBLE_EQ(**q->GetDouble("f"), 0.25);
  EXPECT_FALSE(q->GetDouble("name").ok());
  EXPECT_FALSE(q->GetBool("name", false).ok());
  EXPECT_NE(q->GetInt("junk", 0).status().message().find("'junk'"), std::string::npos);
  EXPECT_FALSE(QueryParams::Parse("a=%00").ok());
  EXPECT_FALSE(PercentDecode("%4", false).ok());
  EXPECT_EQ(*PercentDecode("a+b%2Fc", false), "a+b/c");
}

TEST(RouterTest, MatchesLiteralsBeforeCapturesAndFillsParams) {
  Router router;
  router.Get("/api/jobs/{job_id}", [](const HttpRequest& r) -> Result<Json> {
    return Json{{"id", std::string(r.Param("job_id"))}};
  });
  router.Get("/api/jobs/recent", [](const HttpRequest&) -> Result<Json> { return Json{{"recent", true}}; });
  router.Get("/api/jobs/{job_id}/log", [](const HttpRequest& r) -> Result<Json> {
    return Json{{"log", std::string(r.Param("job_id"))}};
  });
  router.Post("/api/jobs/{job_id}/cancel", [](const HttpRequest&) -> Result<Json> {
    return Status::FailedPrecondition("already ended");
  });
  auto r1 = Req(HttpMethod::kGet, "/api/jobs/recent");
  EXPECT_EQ(Body(router.Dispatch(r1))["recent"], true);
  auto r2 = Req(HttpMethod::kGet, "/api/jobs/job_1");
  EXPECT_EQ(Body(router.Dispatch(r2))["id"], "job_1");
  auto r3 = Req(HttpMethod::kGet, "/api/jobs/job_2/log");
  EXPECT_EQ(Body(router.Dispatch(r3))["log"], "job_2");
  auto r4 = Req(HttpMethod::kPost, "/api/jobs/job_2/cancel");
  auto res4 = router.Dispatch(r4);
  EXPECT_EQ(res4.status, 409);
  EXPECT_EQ(Body(res4)["error"]["code"], "FAILED_PRECONDITION");
  EXPECT_EQ(Body(res4)["error"]["message"], "already ended");
  auto r5 = Req(HttpMethod::kDelete, "/api/jobs/job_2");
  EXPECT_EQ(router.Dispatch(r5).status, 405);
  auto r6 = Req(HttpMethod::kGet, "/api/other");
  auto res6 = router.Dispatch(r6);
  EXPECT_EQ(res6.status, 404);
  EXPECT_EQ(Body(res6)["error"]["code"], "NOT_FOUND");
  auto r7 = Req(HttpMethod::kHead, "/api/jobs/recent");
  EXPECT_EQ(router.Dispatch(r7).status, 200);
  EXPECT_EQ(r2.route, "/api/jobs/{job_id}");  // for /metrics labels
  EXPECT_EQ(r6.route, "other");
}

TEST(RouterTest, FallbackOnlyOutsideApiAndExceptionsBecome500) {
  Router router;
  router.SetFallback([](const HttpRequest&) -> Result<HttpResponse> { return HttpResponse::Text("ui"); });
  router.Get("/api/boom", [](const HttpRequest&) -> Result<Json> { throw std::runtime_error("kaboom"); });
  auto ui = Req(HttpMethod::kGet, "/jobs/x");
  EXPECT_EQ(router.Dispatch(ui).body, "ui");
  auto api = Req(HttpMethod::kGet, "/api/missing");
  EXPECT_EQ(router.Dispatch(api).status, 404);
  auto boom = Req(HttpMethod::kGet, "/api/boom");
  auto res = router.Dispatch(boom);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(Body(res)["error"]["code"], "INTERNAL");
  EXPECT_EQ(Body(res)["error"]["message"].get<std::string>().find("kaboom"), std::string::npos);  // no leak
}

TEST(ApiErrorTest, OneMappingForEveryCode) {
  const std::pair<StatusCode, int> expected[] = {
      {StatusCode::kInvalidArgument, 400}, {StatusCode::kUnauthenticated, 401},
      {StatusCode::kPermissionDenied, 403}, {StatusCode::kNotFound, 404},
      {StatusCode::kAlreadyExists, 409},   {StatusCode::kFailedPrecondition, 409},
      {StatusCode::kInvalidStateTransition, 409}, {StatusCode::kResourceExhausted, 429},
      {StatusCode::kUnavailable, 503},     {StatusCode::kInternal, 500}};
  for (auto [code, http] : expected) {
    EXPECT_EQ(HttpStatusFor(code), http);
    auto r = ErrorResponse(Status(code, "m", Json{{"k", 1}}));
    EXPECT_EQ(r.status, http);
    Json j = Json::parse(r.body);
    EXPECT_EQ(j["error"]["code"], std::string(StatusCodeName(code)));
    EXPECT_EQ(j["error"]["message"], "m");
    EXPECT_EQ(j["error"]["details"]["k"], 1);
  }
  EXPECT_EQ(ErrorResponse(Status::ResourceExhausted("big"), 413).status, 413);
}

TEST(HttpRequestTest, JsonBody) {
  HttpRequest r;
  EXPECT_EQ(*r.JsonBody(), Json::object());
  r.body = "  {\"a\": 1} ";
  EXPECT_EQ((*r.JsonBody())["a"], 1);
  r.body = "[1]";
  EXPECT_FALSE(r.JsonBody().ok());
  r.body = "{";
  EXPECT_FALSE(r.JsonBody().ok());
}

TEST(RouterTest, ARestCaptureTakesTheRestOfThePathSlashesIncluded) {
  Router router;
  router.Get("/api/jobs/{job_id}/artifacts/{path}", [](const HttpRequest& req) -> Result<Json> {
    return Json{{"id", std::string(req.Param("job_id"))}, {"path", std::string(req.Param("path"))}};
  });
  router.Get("/api/jobs/{job_id}/artifacts", [](const HttpRequest&) -> Result<Json> { return Json{{"list", true}}; });
  router.SetRestCapture("/api/jobs/{job_id}/artifacts/{path}");
  auto one = Req(HttpMethod::kGet, "/api/jobs/j1/artifacts/qlib_res.csv");
  EXPECT_EQ(Body(router.Dispatch(one))["path"], "qlib_res.csv");
  auto deep = Req(HttpMethod::kGet, "/api/jobs/j1/artifacts/work/RD-Agent_workspace/loop_0/ret.pkl");
  const Json body = Body(router.Dispatch(deep));
  EXPECT_EQ(body["id"], "j1");
  EXPECT_EQ(body["path"], "work/RD-Agent_workspace/loop_0/ret.pkl");
  auto list = Req(HttpMethod::kGet, "/api/jobs/j1/artifacts");
  EXPECT_EQ(Body(router.Dispatch(list))["list"], true);
  auto up = Req(HttpMethod::kGet, "/api/jobs/j1/artifacts/work/../../x");
  EXPECT_EQ(Body(router.Dispatch(up))["path"], "work/../../x");  // the handler refuses it (CheckArtifactPath)
  // Without SetRestCapture a capture is one segment.
  Router plain;
  plain.Get("/a/{x}", [](const HttpRequest&) -> Result<Json> { return Json::object(); });
  auto two = Req(HttpMethod::kGet, "/a/b/c");
  EXPECT_EQ(plain.Dispatch(two).status, 404);
}

}  // namespace
}  // namespace alphalab::http

// Routing for the alphalab HTTP API: pure handlers from request to Result<...>; they never
// touch a socket (the session in server.cpp does all I/O).
//
// ============================ HOW TO ADD ROUTES (other modules) ============================
// 1. Create src/http/<resource>_handlers.cpp with a function
//      void RegisterXxxRoutes(Router& router, XxxService& service);
//    declared in http/routes.hpp. It receives exactly the services it uses (no context
//    object); it never builds services, opens databases or reads configuration.
// 2. Call it in the one route list of the composition root (src/app/composition_root.cpp),
//    which builds the services from the workspace config. Inside the function:
//
//      router.Get("/api/registry/models", [svc = &service](const HttpRequest& req) -> Result<Json> {
//        ASSIGN_OR_RETURN(int64_t limit, req.query.GetInt("limit", 50, 0, 1000));
//        ASSIGN_OR_RETURN(std::optional<double> min_lift, req.query.GetDouble("min_lift"));
//        std::optional<std::string> ticker = req.query.Get("ticker");
//        return Json{{"items", Json::array()}, {"total", 0}};     // -> 200 application/json
//      });
//      router.Get("/api/runs/{run_id}", [svc = &service](const HttpRequest& req) -> Result<Json> {
//        std::string run_id(req.Param("run_id"));               // already percent-decoded
//        ...
//        return Status::NotFound("run " + run_id + " does not exist");   // -> 404 envelope
//      });
//
// 2b. Describe every route in src/http/openapi.json (path, query parameters, body, responses):
//    the server refuses to start when a route is missing there (InstallOpenApi, http/openapi.hpp),
//    and the router refuses any query parameter the operation does not declare (400).
// 3. Errors: return a Status; ONE function (ErrorResponse in http/api_error.hpp) maps its code
//    to the HTTP status and the envelope {"error": {"code", "message", "details"}}:
//      InvalidArgument 400, Unauthenticated 401, PermissionDenied 403, NotFound 404,
//      AlreadyExists / FailedPrecondition / InvalidStateTransition 409,
//      ResourceExhausted 429 (413 for bodies), Unavailable 503, anything else 500.
//    Unknown /api paths get a 404 envelope, a known path with another method a 405.
// 4. Non-JSON responses (files, CSV, zip, text): register with router.AddRaw(...) / GetRaw and
//    return an HttpResponse; streaming bodies (SSE) set HttpResponse::stream.
// 5. Request helpers: req.query.GetInt/GetDouble/GetBool/Get (400 with a clear message on
//    garbage, negatives when min >= 0, out-of-range); req.JsonBody() (400 if the body is not a
//    JSON object); req.Param("name") for {name} segments; req.Header("x-foo").
// ===========================================================================================
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab::http {

enum class HttpMethod { kGet, kPost, kPut, kDelete, kPatch, kHead, kOptions, kOther };
std::string_view HttpMethodName(HttpMethod m);

// Decodes %XX and (in query strings) '+'; refuses malformed escapes and NUL.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// Query string parameters (decoded). Getters return 400 (InvalidArgument) naming the
// parameter when a value is present but malformed.
class QueryParams {
 public:
  QueryParams() = default;
  static Result<QueryParams> Parse(std::string_view query_string);

  // The raw (decoded) value; nullopt when absent. An empty value ("?status=") counts as absent.
  std::optional<std::string> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  // Integer in [min, max]; absent -> fallback. "abc", "1.5", "-3" (when min >= 0) -> 400.
  Result<int64_t> GetInt(std::string_view name, int64_t fallback, int64_t min = 0,
                         int64_t max = INT64_MAX) const;
  Result<std::optional<int64_t>> GetOptionalInt(std::string_view name, int64_t min = 0,
                                                int64_t max = INT64_MAX) const;
  // Finite number; absent -> nullopt.
  Result<std::optional<double>> GetDouble(std::string_view name) const;
  // true/false/1/0; absent -> fallback.
  Result<bool> GetBool(std::string_view name, bool fallback) const;

  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Who sent a request, set by the auth gate (http/auth.hpp) when auth is on; handlers read it
// through http::OwnerId / CheckOwner / RequireAdmin, never directly.
struct Principal {
  std::string token_id;
  std::string name;  // the owner_id of what this principal creates
  std::string role;  // "admin" | "user"
  bool admin() const { return role == "admin"; }
};

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string method_name;  // as sent ("GET")
  std::string target;       // raw target: "/api/jobs/recent?limit=5"
  std::string path;         // decoded path without the query: "/api/jobs/recent"
  QueryParams query;
  std::map<std::string, std::string> path_params;  // {job_id} -> value (decoded)
  std::map<std::string, std::string> headers;      // lowercase names
  std::string body;
  std::string remote;  // "127.0.0.1:53422"
  // Set by Router::Dispatch: the pattern that matched ("/api/jobs/{job_id}", for /metrics
  // labels), or "other". Points into the router, which outlives every request.
  std::string_view route = "other";
  // Set by the router's guard (the auth gate) before the handler runs; nullopt when auth is off.
  std::optional<Principal> principal;

  std::string_view Param(std::string_view name) const;
  std::optional<std::string> Header(std::string_view lowercase_name) const;
  // The body parsed as a JSON object; an empty body is {}. Not JSON / not an object -> 400.
  Result<Json> JsonBody() const;
};

// A streamed body (Server-Sent Events). The session calls Next() until it returns done.
// Two kinds:
//   - polled (the default): Next() may block, so it runs on the handler pool; `wait` asks the
//     session to sleep before calling again (no data yet).
//   - woken: SetWake() returns true. Next() never blocks and runs on the I/O thread, handing
//     over what the stream has queued; the stream calls `wake` (from any thread) when it queued
//     more. The session waits without holding a thread and sends a `: keep-alive` comment after
//     15 s without data. `wait` is ignored.
struct StreamChunk {
  std::string data;
  bool done = false;
  std::chrono::milliseconds wait{0};
};
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  virtual Result<StreamChunk> Next() = 0;
  virtual bool SetWake(std::function<void()> /*wake*/) { return false; }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::shared_ptr<BodyStream> stream;  // when set, `body` is sent first, then the stream

  static HttpResponse FromJson(const Json& j, int status = 200);
  static HttpResponse Text(std::string body, std::string content_type = "text/plain; charset=utf-8",
                           int status = 200);
};

using JsonHandler = std::function<Result<Json>(const HttpRequest&)>;
using RawHandler = std::function<Result<HttpResponse>(const HttpRequest&)>;

class Router {
 public:
  // Patterns are literal segments and {name} captures: "/api/jobs/{job_id}/log".
  // A literal segment beats a capture ("/api/jobs/recent" wins over "/api/jobs/{job_id}").
  void Add(HttpMethod method, std::string pattern, JsonHandler handler);
  void AddRaw(HttpMethod method, std::string pattern, RawHandler handler);
  void Get(std::string pattern, JsonHandler h) { Add(HttpMethod::kGet, std::move(pattern), std::move(h)); }
  void Post(std::string pattern, JsonHandler h) { Add(HttpMethod::kPost, std::move(pattern), std::move(h)); }
  void Put(std::string pattern, JsonHandler h) { Add(HttpMethod::kPut, std::move(pattern), std::move(h)); }
  void Delete(std::string pattern, JsonHandler h) { Add(HttpMethod::kDelete, std::move(pattern), std::move(h)); }
  void GetRaw(std::string pattern, RawHandler h) { AddRaw(HttpMethod::kGet, std::move(pattern), std::move(h)); }

  // Runs the routes with this pattern (every method) on the server's I/O thread instead of the
  // handler pool: only for handlers that never block (no database, no files), like /api/health.
  void SetInline(std::string_view pattern);
  // The last capture of these routes takes the rest of the path, slashes included
  // ("/api/jobs/{job_id}/artifacts/{path}" matches .../artifacts/work/qlib_res.csv with
  // path = "work/qlib_res.csv"); a literal route of the same length still wins.
  void SetRestCapture(std::string_view pattern);
  // True when the route `req` would dispatch to was marked with SetInline.
  bool IsInline(const HttpRequest& req) const;

 private:
  struct Route;

 public:
  // The route a request goes to, found once: the server asks whether it runs inline and then
  // dispatches the same match (Dispatch(req, match)) instead of matching the path twice.
  struct Match {
    const Route* route = nullptr;
    bool path_matched = false;  // some route has this path (another method: 405)
    std::vector<std::string> captures;
    bool inline_io() const;
  };
  Match Resolve(const HttpRequest& req) const;

  // Runs before every request is dispatched (matched or not): returns the response to send
  // instead of running the handler (401, 403, 415, 421 ...), or nullopt to go on; may set
  // req.principal. `inline_route`: the request would run on the I/O thread (must not block).
  using Guard = std::function<std::optional<HttpResponse>(HttpRequest& req, bool inline_route)>;
  void SetGuard(Guard guard) { guard_ = std::move(guard); }

  // Fallback for paths no route matches (static UI files); nullptr -> 404 envelope.
  void SetFallback(RawHandler handler) { fallback_ = std::move(handler); }

  // Finds the route, fills req.path_params, runs the handler and turns a Status into the
  // error envelope. Never throws (a handler's exception becomes a logged 500).
  HttpResponse Dispatch(HttpRequest& req) const;
  HttpResponse Dispatch(HttpRequest& req, Match match) const;

  std::vector<std::pair<std::string, std::string>> ListRoutes() const;  // (method, pattern)

  // Declares the query parameters a route accepts (from the OpenAPI document, see
  // http/openapi.hpp). From then on Dispatch answers a request carrying any other query
  // parameter with 400 INVALID_ARGUMENT (details.parameter names it) before the handler runs.
  // NotFound when no route has this method ("GET") and pattern.
  Status DeclareQueryParameters(std::string_view method, std::string_view pattern,
                                std::vector<std::string> names);

 private:
  struct Route {
    HttpMethod method;
    std::string pattern;
    std::vector<std::string> segments;  // "{x}" for captures
    std::vector<char> capture;          // per segment: 1 when it is a capture
    std::vector<std::string> capture_names;  // the captures' names, in order ("job_id")
    int literal_count = 0;
    bool inline_io = false;
    bool rest_capture = false;  // the last segment is a capture taking the rest of the path
    RawHandler handler;
    std::optional<std::vector<std::string>> query_params;  // nullopt: not declared (no check)
  };
  static Status CheckQuery(const Route& route, const HttpRequest& req);
  const Route* FindRoute(const HttpRequest& req, std::vector<std::string>* captures,
                         bool* path_matched) const;
  void Reindex();  // rebuilds by_count_ and rest_ (after a route is added or changed)
  std::vector<Route> routes_;
  std::vector<std::vector<uint32_t>> by_count_;  // [segments] -> indices of routes_, ascending
  std::vector<uint32_t> rest_;                   // routes taking the rest of the path, ascending
  RawHandler fallback_;
  Guard guard_;
};

}  // namespace alphalab::http

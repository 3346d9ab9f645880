#include "http/router.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>

#include <spdlog/spdlog.h>

#include "http/api_error.hpp"

namespace alphalab::http {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i >= path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

Status BadParam(std::string_view name, std::string_view value, std::string_view want) {
  return Status::InvalidArgument("query parameter '" + std::string(name) + "' must be " +
                                     std::string(want) + ", got '" +
                                     std::string(value.substr(0, 100)) + "'",
                                 Json{{"parameter", std::string(name)}});
}

}  // namespace

std::string_view HttpMethodName(HttpMethod m) {
  switch (m) {
    case HttpMethod::kGet: return "GET";
    case HttpMethod::kPost: return "POST";
    case HttpMethod::kPut: return "PUT";
    case HttpMethod::kDelete: return "DELETE";
    case HttpMethod::kPatch: return "PATCH";
    case HttpMethod::kHead: return "HEAD";
    case HttpMethod::kOptions: return "OPTIONS";
    case HttpMethod::kOther: return "OTHER";
  }
  return "OTHER";
}

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return Status::InvalidArgument("malformed percent-escape in URL");
      }
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return Status::InvalidArgument("malformed percent-escape in URL");
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return Status::InvalidArgument("NUL byte in URL");
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<QueryParams> QueryParams::Parse(std::string_view qs) {
  QueryParams q;
  size_t i = 0;
  while (i <= qs.size() && !qs.empty()) {
    size_t amp = qs.find('&', i);
    if (amp == std::string_view::npos) amp = qs.size();
    std::string_view item = qs.substr(i, amp - i);
    if (!item.empty()) {
      const size_t eq = item.find('=');
      std::string_view k = item.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      ASSIGN_OR_RETURN(std::string key, PercentDecode(k, true));
      ASSIGN_OR_RETURN(std::string value, PercentDecode(v, true));
      q.items_.emplace_back(std::move(key), std::move(value));
    }
    if (amp == qs.size()) break;
    i = amp + 1;
  }
  return q;
}

std::optional<std::string> QueryParams::Get(std::string_view name) const {
  // The last occurrence wins (?limit=5&limit=10 -> 10).
  for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
    if (it->first == name) {
      if (it->second.empty()) return std::nullopt;
      return it->second;
    }
  }
  return std::nullopt;
}

Result<std::optional<int64_t>> QueryParams::GetOptionalInt(std::string_view name, int64_t min,
                                                           int64_t max) const {
  auto v = Get(name);
  if (!v) return std::optional<int64_t>();
  int64_t out = 0;
  const char* begin = v->data();
  const char* end = v->data() + v->size();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, out);
  if (ec != std::errc() || ptr != end) return BadParam(name, *v, "an integer");
  if (out < min) {
    return BadParam(name, *v, min == 0 ? "a non-negative integer"
                                       : "an integer >= " + std::to_string(min));
  }
  if (out > max) return BadParam(name, *v, "an integer <= " + std::to_string(max));
  return std::optional<int64_t>(out);
}

Result<int64_t> QueryParams::GetInt(std::string_view name, int64_t fallback, int64_t min,
                                    int64_t max) const {
  ASSIGN_OR_RETURN(std::optional<int64_t> v, GetOptionalInt(name, min, max));
  return v.value_or(fallback);
}

Result<std::optional<double>> QueryParams::GetDouble(std::string_view name) const {
  auto v = Get(name);
  if (!v) return std::optional<double>();
  double out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size() || !std::isfinite(out)) {
    return BadParam(name, *v, "a number");
  }
  return std::optional<double>(out);
}

Result<bool> QueryParams::GetBool(std::string_view name, bool fallback) const {
  auto v = Get(name);
  if (!v) return fallback;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  return BadParam(name, *v, "true or false");
}

std::string_view HttpRequest::Param(std::string_view name) const {
  auto it = path_params.find(std::string(name));
  if (it == path_params.end()) return {};
  return it->second;
}

std::optional<std::string> HttpRequest::Header(std::string_view lowercase_name) const {
  auto it = headers.find(std::string(lowercase_name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

Result<Json> HttpRequest::JsonBody() const {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  ASSIGN_OR_RETURN(Json j, ParseJson(body));
  if (!j.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  return j;
}

HttpResponse HttpResponse::FromJson(const Json& j, int status) {
  HttpResponse r;
  r.status = status;
  r.body = DumpJson(j);
  return r;
}

HttpResponse HttpResponse::Text(std::string body, std::string content_type, int status) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

void Router::Add(HttpMethod method, std::string pattern, JsonHandler handler) {
  AddRaw(method, std::move(pattern),
         [h = std::move(handler)](const HttpRequest& req) -> Result<HttpResponse> {
           ASSIGN_OR_RETURN(Json j, h(req));
           return HttpResponse::FromJson(j);
         });
}

void Router::AddRaw(HttpMethod method, std::string pattern, RawHandler handler) {
  Route r;
  r.method = method;
  r.pattern = pattern;
  for (std::string_view seg : SplitPath(pattern)) {
    r.segments.emplace_back(seg);
    const bool capture = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    r.capture.push_back(capture ? 1 : 0);
    if (capture) r.capture_names.emplace_back(seg.substr(1, seg.size() - 2));
    if (!capture) ++r.literal_count;
  }
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
  Reindex();
}

void Router::Reindex() {
  by_count_.clear();
  rest_.clear();
  for (uint32_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.rest_capture) {
      rest_.push_back(i);
      continue;
    }
    if (by_count_.size() <= r.segments.size()) by_count_.resize(r.segments.size() + 1);
    by_count_[r.segments.size()].push_back(i);
  }
}

void Router::SetInline(std::string_view pattern) {
  for (Route& r : routes_) {
    if (r.pattern == pattern) r.inline_io = true;
  }
}

void Router::SetRestCapture(std::string_view pattern) {
  for (Route& r : routes_) {
    if (r.pattern == pattern && !r.segments.empty() && r.segments.back().front() == '{') r.rest_capture = true;
  }
  Reindex();
}

bool Router::IsInline(const HttpRequest& req) const {
  bool path_matched = false;
  const Route* route = FindRoute(req, nullptr, &path_matched);
  return route != nullptr && route->inline_io;
}

bool Router::Match::inline_io() const { return route != nullptr && route->inline_io; }

Router::Match Router::Resolve(const HttpRequest& req) const {
  Match m;
  m.route = FindRoute(req, &m.captures, &m.path_matched);
  return m;
}

const Router::Route* Router::FindRoute(const HttpRequest& req, std::vector<std::string>* captures,
                                   bool* path_matched) const {
  const auto segs = SplitPath(req.path);
  const Route* best = nullptr;
  int best_literals = -1;
  *path_matched = false;
  // Only the routes with this many segments (and those taking the rest of the path), in the
  // order they were added (the first of equally literal routes wins).
  static const std::vector<uint32_t> kNone;
  const std::vector<uint32_t>& exact = segs.size() < by_count_.size() ? by_count_[segs.size()] : kNone;
  size_t a = 0, b = 0;
  while (a < exact.size() || b < rest_.size()) {
    const uint32_t index = b >= rest_.size() || (a < exact.size() && exact[a] < rest_[b]) ? exact[a++] : rest_[b++];
    const Route& r = routes_[index];
    if (r.rest_capture ? segs.size() < r.segments.size() : r.segments.size() != segs.size()) continue;
    // Last segment first: the leading ones ("api", then a resource name) are shared by many
    // routes, so comparing them first rarely rules a route out.
    bool ok = true;
    for (size_t i = r.segments.size(); i-- > 0 && ok;) {
      if (!r.capture[i] && r.segments[i] != segs[i]) ok = false;
    }
    if (!ok) continue;
    *path_matched = true;
    const bool method_ok = r.method == req.method ||
                           (req.method == HttpMethod::kHead && r.method == HttpMethod::kGet);
    if (!method_ok) continue;
    if (r.literal_count > best_literals) {
      best = &r;
      best_literals = r.literal_count;
    }
  }
  if (best && captures) {
    captures->clear();
    for (size_t i = 0; i < best->segments.size(); ++i) {
      const std::string& p = best->segments[i];
      if (p.size() >= 2 && p.front() == '{') captures->emplace_back(segs[i]);
    }
    if (best->rest_capture) {  // the rest of the path joins the last capture
      for (size_t i = best->segments.size(); i < segs.size(); ++i) {
        captures->back() += '/';
        captures->back() += segs[i];
      }
    }
  }
  return best;
}

HttpResponse Router::Dispatch(HttpRequest& req) const { return Dispatch(req, Resolve(req)); }

HttpResponse Router::Dispatch(HttpRequest& req, Match match) const {
  try {
    std::vector<std::string>& captures = match.captures;
    const bool path_matched = match.path_matched;
    const Route* route = match.route;
    if (guard_) {
      if (std::optional<HttpResponse> refused = guard_(req, route != nullptr && route->inline_io)) {
        return std::move(*refused);
      }
    }
    if (!route) {
      const bool is_api = req.path == "/api" || req.path.rfind("/api/", 0) == 0;
      if (path_matched) {
        return ErrorResponse(Status::InvalidArgument(
                                 "method " + req.method_name + " is not allowed on " + req.path,
                                 Json{{"method", req.method_name}, {"path", req.path}}),
                             405);
      }
      if (!is_api && fallback_) {
        auto r = fallback_(req);
        if (r.ok()) return std::move(r).value();
        return ErrorResponse(r.status());
      }
      return ErrorResponse(Status::NotFound("no route for " + req.method_name + " " + req.path,
                                            Json{{"path", req.path}}));
    }
    req.route = route->pattern;
    if (Status q = CheckQuery(*route, req); !q.ok()) return ErrorResponse(q);
    for (size_t ci = 0; ci < route->capture_names.size() && ci < captures.size(); ++ci) {
      req.path_params[route->capture_names[ci]] = std::move(captures[ci]);
    }
    auto result = route->handler(req);
    if (!result.ok()) return ErrorResponse(result.status());
    return std::move(result).value();
  } catch (const std::exception& e) {
    spdlog::error(R"({{"msg":"handler threw","method":"{}","path":"{}","what":"{}"}})",
                  req.method_name, req.path, e.what());
    return ErrorResponse(Status::Internal("internal error while handling the request"));
  } catch (...) {
    spdlog::error(R"({{"msg":"handler threw a non-exception","path":"{}"}})", req.path);
    return ErrorResponse(Status::Internal("internal error while handling the request"));
  }
}

Status Router::CheckQuery(const Route& route, const HttpRequest& req) {
  if (!route.query_params) return Status::Ok();
  const auto& known = *route.query_params;
  for (const auto& [name, value] : req.query.items()) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    return Status::InvalidArgument(
        "unknown query parameter '" + name.substr(0, 100) + "' for " + std::string(HttpMethodName(route.method)) +
            " " + route.pattern + (known.empty() ? " (it takes none)" : " (known: " + list + ")"),
        Json{{"parameter", name.substr(0, 100)}, {"known", known}});
  }
  return Status::Ok();
}

Status Router::DeclareQueryParameters(std::string_view method, std::string_view pattern,
                                      std::vector<std::string> names) {
  for (Route& r : routes_) {
    if (HttpMethodName(r.method) == method && r.pattern == pattern) {
      r.query_params = std::move(names);
      return Status::Ok();
    }
  }
  return Status::NotFound("no route " + std::string(method) + " " + std::string(pattern));
}

std::vector<std::pair<std::string, std::string>> Router::ListRoutes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& r : routes_) out.emplace_back(HttpMethodName(r.method), r.pattern);
  return out;
}

}  // namespace alphalab::http

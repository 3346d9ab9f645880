#include "http/api_error.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <shared_mutex>

namespace alphalab::http {

namespace {

struct PathRoots {
  std::shared_mutex mu;
  std::vector<std::string> roots;  // longest first, without a trailing '/'
};
PathRoots& Roots() {
  static PathRoots r;
  return r;
}

// First components of absolute paths that are never meant for a client.
constexpr std::array<std::string_view, 23> kSystemDirs = {
    "etc", "home", "root", "tmp", "var", "usr", "proc", "sys", "dev", "opt", "srv", "mnt",
    "run", "bin", "sbin", "lib", "lib64", "boot", "media", "snap", "nix", "Users", "private"};

bool PathChar(char c) {
  return c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\'' && c != '"' && c != ')' &&
         c != '(' && c != ',' && c != ';' && c != '`';
}

// True when text[i] starts an absolute path token (not inside a word or a URL).
bool TokenStart(std::string_view text, size_t i) {
  if (text[i] != '/') return false;
  if (i == 0) return true;
  const char prev = text[i - 1];
  return !(std::isalnum(static_cast<unsigned char>(prev)) || prev == '/' || prev == '.' ||
           prev == '_' || prev == '-' || prev == '~');
}

std::string ReplaceRoots(std::string_view text, const std::vector<std::string>& roots) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    if (TokenStart(text, i)) {
      for (const std::string& root : roots) {
        if (text.compare(i, root.size(), root) != 0) continue;
        const size_t end = i + root.size();
        if (end == text.size() || !PathChar(text[end])) {
          out += ".";
          i = end;
          replaced = true;
          break;
        }
        if (text[end] == '/') {
          i = end + 1;  // "root/runs/x" -> "runs/x"
          replaced = true;
          break;
        }
      }
      if (!replaced) {
        size_t j = i + 1;
        while (j < text.size() && text[j] != '/' && PathChar(text[j])) ++j;
        const std::string_view first = text.substr(i + 1, j - i - 1);
        if (std::find(kSystemDirs.begin(), kSystemDirs.end(), first) != kSystemDirs.end()) {
          while (j < text.size() && PathChar(text[j])) ++j;
          out += "<path>";
          i = j;
          replaced = true;
        }
      }
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

void RedactJson(Json& j, const std::vector<std::string>& roots, int depth) {
  if (depth > 16) {
    j = nullptr;
    return;
  }
  if (j.is_string()) {
    j = ReplaceRoots(j.get_ref<const std::string&>(), roots);
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) RedactJson(v, roots, depth + 1);
  }
}

}  // namespace

void SetEnvelopePathRoots(const std::vector<std::string>& roots) {
  PathRoots& r = Roots();
  std::unique_lock lock(r.mu);
  for (std::string root : roots) {
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    if (root.size() <= 1 || root[0] != '/') continue;
    if (std::find(r.roots.begin(), r.roots.end(), root) == r.roots.end()) r.roots.push_back(root);
  }
  std::sort(r.roots.begin(), r.roots.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string RedactPaths(std::string_view text) {
  PathRoots& r = Roots();
  std::shared_lock lock(r.mu);
  return ReplaceRoots(text, r.roots);
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kInvalidStateTransition: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

Json ErrorEnvelope(const Status& status) {
  PathRoots& r = Roots();
  std::shared_lock lock(r.mu);
  Json details = status.details();
  RedactJson(details, r.roots, 0);
  return Json{{"error",
               {{"code", std::string(StatusCodeName(status.code()))},
                {"message", ReplaceRoots(status.message(), r.roots)},
                {"details", std::move(details)}}}};
}

HttpResponse ErrorResponse(const Status& status, int http_status_override) {
  const int code = http_status_override != 0 ? http_status_override : HttpStatusFor(status.code());
  return HttpResponse::FromJson(ErrorEnvelope(status), code);
}

}  // namespace alphalab::http

// The web UI's build directory (ui/dist) as static files, with the SPA fallback: a GET for a
// non-/api path without a file gets index.html, so client-side routes (/jobs/job_...) work on
// reload. Paths are confined to the UI directory (.. and symlinks out are refused).
#include <filesystem>
#include <string>

#include "core/workspace.hpp"
#include "http/routes.hpp"

namespace alphalab::http {

namespace {

namespace fs = std::filesystem;

std::string ContentType(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".gif") return "image/gif";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".webp") return "image/webp";
  if (ext == ".woff") return "font/woff";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".ttf") return "font/ttf";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".wasm") return "application/wasm";
  return "application/octet-stream";
}

Result<HttpResponse> ServeFile(const fs::path& file, bool immutable) {
  ASSIGN_OR_RETURN(std::string body, ReadFile(file));
  HttpResponse r = HttpResponse::Text(std::move(body), ContentType(file));
  r.headers.emplace_back("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

}  // namespace

void RegisterStaticRoutes(Router& router, const std::string& ui_dir) {
  if (ui_dir.empty()) return;
  std::error_code ec;
  const fs::path root = fs::canonical(ui_dir, ec);
  if (ec || !fs::is_directory(root, ec)) return;
  router.SetFallback([root](const HttpRequest& req) -> Result<HttpResponse> {
    if (req.method != HttpMethod::kGet && req.method != HttpMethod::kHead) {
      return Status::NotFound("no route for " + req.method_name + " " + req.path);
    }
    const fs::path index = root / "index.html";
    std::string rel = req.path.substr(1);
    bool suspicious = false;
    for (const auto& part : fs::path(rel)) {
      if (part == "..") suspicious = true;
    }
    if (!rel.empty() && !suspicious && rel.find('\\') == std::string::npos) {
      std::error_code e;
      const fs::path candidate = fs::weakly_canonical(root / rel, e);
      if (!e && IsWithin(root, candidate) && fs::is_regular_file(candidate, e)) {
        const bool immutable = rel.rfind("assets/", 0) == 0;
        return ServeFile(candidate, immutable);
      }
    }
    if (suspicious) return Status::NotFound("no file " + req.path);
    std::error_code e;
    if (!fs::is_regular_file(index, e)) {
      return Status::NotFound("the UI is not built (no index.html in " + root.string() + ")");
    }
    return ServeFile(index, false);  // SPA fallback
  });
}

}  // namespace alphalab::http

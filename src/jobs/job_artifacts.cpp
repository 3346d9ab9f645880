#include "jobs/job_artifacts.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "core/confined_open.hpp"

namespace alphalab {

namespace fs = std::filesystem;

fs::path JobDir(const Workspace& ws, const JobId& id) { return ws.JobsRuntimeDir() / id.str(); }
fs::path JobWorkDir(const Workspace& ws, const JobId& id) { return JobDir(ws, id) / "work"; }

namespace {

int64_t MtimeMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

}  // namespace

bool IsSecretFile(std::string_view name) { return name == ".env" || name.starts_with(".env."); }

Result<ArtifactPage> ListJobArtifacts(const Workspace& ws, const JobRecord& job, int64_t offset, int64_t limit) {
  if (offset < 0 || limit < 0) return Status::InvalidArgument("offset and limit must not be negative");
  std::vector<ArtifactEntry> all;
  struct stat st {};
  const fs::path log = ws.root() / job.log_path;
  if (::lstat(log.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    all.push_back(ArtifactEntry{std::string(kJobLogArtifact), static_cast<int64_t>(st.st_size), MtimeMs(st)});
  }
  const fs::path dir = JobDir(ws, job.job_id);
  std::error_code ec;
  if (::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    // Symlinked directories are not entered (the default), symlinks are not listed.
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::path& p = it->path();
      if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || IsSecretFile(p.filename().string())) continue;
      all.push_back(ArtifactEntry{p.lexically_relative(dir).generic_string(), static_cast<int64_t>(st.st_size),
                                  MtimeMs(st)});
    }
    if (ec) return Status::Internal("cannot list the files of job " + job.job_id.str() + ": " + ec.message());
  }
  std::sort(all.begin(), all.end(), [](const ArtifactEntry& a, const ArtifactEntry& b) { return a.path < b.path; });
  ArtifactPage page;
  page.total = static_cast<int64_t>(all.size());
  const size_t from = std::min(all.size(), static_cast<size_t>(offset));
  const size_t to = std::min(all.size(), from + static_cast<size_t>(limit));
  page.items.assign(std::make_move_iterator(all.begin() + from), std::make_move_iterator(all.begin() + to));
  return page;
}

Status CheckArtifactPath(std::string_view path) {
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("artifact path " + why, Json{{"field", "path"}});
  };
  if (path.empty()) return bad("is empty");
  if (path.size() > 1024) return bad("is longer than 1024 bytes");
  if (path.front() == '/') return bad("must be relative to the job's folder");
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return bad("must not contain NUL or '\\'");
  }
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return bad("must not contain empty, '.' or '..' components");
    start = end + 1;
  }
  return Status::Ok();
}

Result<std::string> ReadJobArtifact(const Workspace& ws, const JobRecord& job, std::string_view path) {
  RETURN_IF_ERROR(CheckArtifactPath(path));
  const std::string shown(path);
  const auto not_found = [&] {
    return Status::NotFound("job " + job.job_id.str() + " has no artifact '" + shown + "'",
                            Json{{"job_id", job.job_id.str()}, {"path", shown}});
  };
  if (IsSecretFile(fs::path(shown).filename().string())) return not_found();
  Result<std::string> body = Status::NotFound("");
  if (path == kJobLogArtifact) {
    body = ReadFileConfined(ws.JobsRuntimeDir(), fs::path(job.log_path).filename(), kMaxArtifactDownloadBytes);
  } else {
    const fs::path dir = JobDir(ws, job.job_id);
    if (!IsDirectoryConfined(ws.JobsRuntimeDir(), job.job_id.str())) return not_found();
    body = ReadFileConfined(dir, fs::path(shown), kMaxArtifactDownloadBytes);
  }
  if (body.ok()) return body;
  const StatusCode code = body.status().code();
  if (code == StatusCode::kNotFound || code == StatusCode::kPermissionDenied) return not_found();
  if (code == StatusCode::kResourceExhausted) {
    return Status::ResourceExhausted("artifact '" + shown + "' is larger than " +
                                         std::to_string(kMaxArtifactDownloadBytes >> 20) + " MiB",
                                     Json{{"path", shown}});
  }
  return body.status();
}

std::string ArtifactContentType(std::string_view path) {
  const std::string ext = fs::path(std::string(path)).extension().string();
  if (path == kJobLogArtifact || ext == ".log" || ext == ".txt" || ext == ".md" || ext == ".py" || ext == ".env") {
    return "text/plain; charset=utf-8";
  }
  if (ext == ".csv") return "text/csv; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".yaml" || ext == ".yml") return "text/yaml; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace alphalab

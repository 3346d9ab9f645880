#include "jobs/job_artifacts.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <time.h>

#include "core/confined_open.hpp"
#include "core/dotenv.hpp"
#include "core/yaml_secrets.hpp"

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
  ArtifactListCache once(1);
  return once.List(ws, job, offset, limit);
}

Result<ArtifactListCache::Listing> ArtifactListCache::Walk(const fs::path& dir, const JobRecord& job) {
  Listing out;
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const int64_t started_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  struct stat st {};
  auto stamp = [&](const fs::path& p, const struct stat& s) {
    const int64_t mtime_ns = static_cast<int64_t>(s.st_mtim.tv_sec) * 1000000000 + s.st_mtim.tv_nsec;
    out.dirs.push_back(DirStamp{p.string(), static_cast<uint64_t>(s.st_ino), mtime_ns});
    if (mtime_ns > started_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(kRacyMargin).count()) out.racy = true;
  };
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    out.racy = true;  // no folder (yet): nothing to watch, walk again next time
    return out;
  }
  stamp(dir, st);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      stamp(p, st);
      continue;
    }
    if (!S_ISREG(st.st_mode) || IsSecretFile(p.filename().string())) continue;
    out.files.push_back(ArtifactEntry{p.lexically_relative(dir).generic_string(), static_cast<int64_t>(st.st_size),
                                      MtimeMs(st)});
  }
  if (ec) return Status::Internal("cannot list the files of job " + job.job_id.str() + ": " + ec.message());
  std::sort(out.files.begin(), out.files.end(),
            [](const ArtifactEntry& a, const ArtifactEntry& b) { return a.path < b.path; });
  return out;
}

bool ArtifactListCache::StillValid(const Listing& l) {
  if (l.racy) return false;
  struct stat st {};
  for (const DirStamp& d : l.dirs) {
    if (::lstat(d.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || static_cast<uint64_t>(st.st_ino) != d.ino ||
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec != d.mtime_ns) {
      return false;
    }
  }
  return true;
}

Result<ArtifactPage> ArtifactListCache::List(const Workspace& ws, const JobRecord& job, int64_t offset,
                                             int64_t limit) {
  if (offset < 0 || limit < 0) return Status::InvalidArgument("offset and limit must not be negative");
  const fs::path dir = JobDir(ws, job.job_id);
  std::lock_guard lock(mu_);
  auto it = by_dir_.find(dir.string());
  if (it == by_dir_.end() || !StillValid(it->second)) {
    ASSIGN_OR_RETURN(Listing fresh, Walk(dir, job));
    ++walks_;
    if (it == by_dir_.end()) {
      if (by_dir_.size() >= max_jobs_) {
        by_dir_.erase(std::min_element(by_dir_.begin(), by_dir_.end(), [](const auto& a, const auto& b) {
          return a.second.used < b.second.used;
        }));
      }
      it = by_dir_.emplace(dir.string(), std::move(fresh)).first;
    } else {
      it->second = std::move(fresh);
    }
  }
  Listing& l = it->second;
  l.used = ++clock_;
  // The log ("job.log") merged into the sorted listing, stat'ed on every call.
  std::optional<ArtifactEntry> log;
  struct stat st {};
  if (const fs::path p = ws.root() / job.log_path; ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    log = ArtifactEntry{std::string(kJobLogArtifact), static_cast<int64_t>(st.st_size), MtimeMs(st)};
  }
  const size_t log_at = static_cast<size_t>(
      std::lower_bound(l.files.begin(), l.files.end(), std::string(kJobLogArtifact),
                       [](const ArtifactEntry& e, const std::string& p) { return e.path < p; }) -
      l.files.begin());
  ArtifactPage page;
  page.total = static_cast<int64_t>(l.files.size()) + (log ? 1 : 0);
  const size_t from = std::min(static_cast<size_t>(page.total), static_cast<size_t>(offset));
  const size_t to = std::min(static_cast<size_t>(page.total), from + static_cast<size_t>(limit));
  for (size_t i = from; i < to; ++i) {
    if (log && i == log_at) {
      page.items.push_back(*log);
      continue;
    }
    ArtifactEntry e = l.files[log && i > log_at ? i - 1 : i];
    if (const fs::path p = dir / e.path; ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      e.size = static_cast<int64_t>(st.st_size);
      e.mtime_ms = MtimeMs(st);
    }
    page.items.push_back(std::move(e));
  }
  return page;
}

int64_t ArtifactListCache::walks() const {
  std::lock_guard lock(mu_);
  return walks_;
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
  if (body.ok()) return MaskArtifactSecrets(shown, std::move(*body));
  const StatusCode code = body.status().code();
  if (code == StatusCode::kNotFound || code == StatusCode::kPermissionDenied) return not_found();
  if (code == StatusCode::kResourceExhausted) {
    return Status::ResourceExhausted("artifact '" + shown + "' is larger than " +
                                         std::to_string(kMaxArtifactDownloadBytes >> 20) + " MiB",
                                     Json{{"path", shown}});
  }
  return body.status();
}

std::string MaskArtifactSecrets(std::string_view path, std::string body) {
  const std::string ext = fs::path(std::string(path)).extension().string();
  if (ext == ".yaml" || ext == ".yml") return MaskYamlSecrets(body);
  if (ext == ".env") return MaskDotenv(body);
  return body;
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

// What a job left on disk, for every job type (GET /api/jobs/{id}/artifacts[/{path}],
// docs/api.md "Job artifacts"):
//   - its folder reports/jobs/runtime/<job_id>/ (a job of a type with `tool:` runs in its
//     work/ subfolder, so everything such a job writes into its working directory is there:
//     qlib_res.csv, ret.pkl, the template copies), listed recursively as paths relative to it
//     ("work/qlib_res.csv");
//   - its log, listed as "job.log" (reports/jobs/runtime/<job_id>.log).
// A `.env` file (or `.env.*`) is never listed nor served: it may hold the tool's secrets. Other
// settings files are served with the config center's masking (core/yaml_secrets.hpp,
// core/dotenv.hpp): in `*.yaml` / `*.yml` (a tool's template copies) and `*.env` (`prod.env`)
// the values of key-, token- and password-like keys are "********".
// A built-in's run and backtest folders are served by /api/runs and /api/backtests.
// Only regular files are listed; symlinks are neither listed nor followed, and every read is
// an OpenConfined beneath the job's folder (core/confined_open.hpp), so neither '..' nor a
// planted symlink reaches anything outside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "core/workspace.hpp"
#include "store/job_store.hpp"

namespace alphalab {

inline constexpr std::string_view kJobLogArtifact = "job.log";
inline constexpr size_t kMaxArtifactDownloadBytes = size_t{512} << 20;

// reports/jobs/runtime/<job_id> and its work/ subfolder (absolute).
std::filesystem::path JobDir(const Workspace& ws, const JobId& id);
std::filesystem::path JobWorkDir(const Workspace& ws, const JobId& id);

struct ArtifactEntry {
  std::string path;      // relative to the job's folder, '/'-separated; "job.log" for the log
  int64_t size = 0;      // bytes
  int64_t mtime_ms = 0;  // last modification, Unix milliseconds
};

struct ArtifactPage {
  std::vector<ArtifactEntry> items;  // sorted by path
  int64_t total = 0;                 // files in the whole listing
};

// A page of the job's files, sorted by path. A job whose folder does not exist (yet) lists
// its log only (or nothing).
Result<ArtifactPage> ListJobArtifacts(const Workspace& ws, const JobRecord& job, int64_t offset, int64_t limit);

// ListJobArtifacts with the walk kept between calls, for folders with many files (10,000 files:
// a walk and sort costs tens of ms; a cached page about a millisecond, docs/benchmarks.md).
// A kept listing is used again while every folder in it still has the inode and mtime it had
// when walked: adding, removing or renaming a file anywhere changes its folder's mtime, so a new
// file appears on the next call. A folder modified less than kRacyMargin before the walk is not
// trusted (file system timestamps are coarse: a change in the same tick keeps the mtime), so such
// a listing is walked again. The size and mtime of every file on the requested page are read
// again on each call (a file rewritten in place changes neither its folder nor the listing).
// At most `max_jobs` listings are kept (least recently used dropped). Thread-safe.
class ArtifactListCache {
 public:
  static constexpr std::chrono::milliseconds kRacyMargin{2000};
  explicit ArtifactListCache(size_t max_jobs = 16) : max_jobs_(max_jobs) {}

  Result<ArtifactPage> List(const Workspace& ws, const JobRecord& job, int64_t offset, int64_t limit);
  int64_t walks() const;  // full walks done so far (tests)

 private:
  struct DirStamp {
    std::string path;  // absolute
    uint64_t ino = 0;
    int64_t mtime_ns = 0;
  };
  struct Listing {
    std::vector<ArtifactEntry> files;  // below the job's folder, sorted by path (no log)
    std::vector<DirStamp> dirs;
    bool racy = false;
    uint64_t used = 0;
  };
  static Result<Listing> Walk(const std::filesystem::path& dir, const JobRecord& job);
  static bool StillValid(const Listing& l);

  size_t max_jobs_;
  mutable std::mutex mu_;
  std::map<std::string, Listing> by_dir_;
  uint64_t clock_ = 0;
  int64_t walks_ = 0;
};

// ".env" and ".env.<suffix>": never listed, never served.
bool IsSecretFile(std::string_view file_name);

// Checks a requested artifact path: relative, '/'-separated, no empty, '.' or '..' component,
// no NUL or backslash, at most 1024 bytes. InvalidArgument naming the field "path".
Status CheckArtifactPath(std::string_view path);

// The bytes of one artifact (CheckArtifactPath first). A path leading outside the job's
// folder through a symlink, a missing file, or a directory -> NotFound; larger than
// kMaxArtifactDownloadBytes -> ResourceExhausted.
Result<std::string> ReadJobArtifact(const Workspace& ws, const JobRecord& job, std::string_view path);

// `body` of the artifact `path` as it may leave the server: secret values of `.yaml`/`.yml` and
// `.env` files masked (as the config center masks them); other files unchanged.
std::string MaskArtifactSecrets(std::string_view path, std::string body);

// A Content-Type for a file name: text for logs, CSV, JSON, YAML and text files,
// application/octet-stream for everything else (ret.pkl and other binaries are never parsed).
std::string ArtifactContentType(std::string_view path);

}  // namespace alphalab

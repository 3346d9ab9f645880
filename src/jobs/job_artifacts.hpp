// What a job left on disk, for every job type (GET /api/jobs/{id}/artifacts[/{path}],
// docs/api.md "Job artifacts"):
//   - its folder reports/jobs/runtime/<job_id>/ (a job of a type with `tool:` runs in its
//     work/ subfolder, so everything such a job writes into its working directory is there:
//     qlib_res.csv, ret.pkl, the template copies), listed recursively as paths relative to it
//     ("work/qlib_res.csv");
//   - its log, listed as "job.log" (reports/jobs/runtime/<job_id>.log).
// A `.env` file (or `.env.*`) is never listed nor served: it may hold the tool's secrets.
// A built-in's run and backtest folders are served by /api/runs and /api/backtests.
// Only regular files are listed; symlinks are neither listed nor followed, and every read is
// an OpenConfined beneath the job's folder (core/confined_open.hpp), so neither '..' nor a
// planted symlink reaches anything outside it.
#pragma once

#include <cstdint>
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

// ".env" and ".env.<suffix>": never listed, never served.
bool IsSecretFile(std::string_view file_name);

// Checks a requested artifact path: relative, '/'-separated, no empty, '.' or '..' component,
// no NUL or backslash, at most 1024 bytes. InvalidArgument naming the field "path".
Status CheckArtifactPath(std::string_view path);

// The bytes of one artifact (CheckArtifactPath first). A path leading outside the job's
// folder through a symlink, a missing file, or a directory -> NotFound; larger than
// kMaxArtifactDownloadBytes -> ResourceExhausted.
Result<std::string> ReadJobArtifact(const Workspace& ws, const JobRecord& job, std::string_view path);

// A Content-Type for a file name: text for logs, CSV, JSON, YAML and text files,
// application/octet-stream for everything else (ret.pkl and other binaries are never parsed).
std::string ArtifactContentType(std::string_view path);

}  // namespace alphalab

// The workspace: the directory the server runs in, and the sandbox every user-supplied
// path goes through. A path is resolved (symlinks included) and must stay inside.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.hpp"

namespace alphalab {

namespace fs = std::filesystem;

enum class PathMust { kExist, kBeNew, kAny };

class Workspace {
 public:
  // The root is made absolute and canonical; it must be an existing directory.
  static Result<Workspace> Open(const fs::path& root);

  const fs::path& root() const { return root_; }

  // Resolves a user-supplied path (relative to the root, or absolute) and checks it
  // stays inside the workspace after following symlinks. Refuses empty paths, NUL and
  // control bytes, backslashes, percent-encoded sequences and anything that escapes.
  Result<fs::path> Resolve(std::string_view user_path, PathMust must = PathMust::kAny) const;

  // The path relative to the root with '/' separators ("configs/base.yaml").
  // Precondition: `absolute` is inside the workspace (as returned by Resolve).
  std::string Relative(const fs::path& absolute) const;

  // Well-known folders (docs/architecture.md).
  fs::path RunsDir() const { return root_ / "runs"; }
  fs::path BacktestsDir() const { return root_ / "backtests"; }
  fs::path JobsRuntimeDir() const { return root_ / "reports" / "jobs" / "runtime"; }
  fs::path RegistryReportsDir() const { return root_ / "reports" / "registry"; }
  fs::path HistoryDir() const { return root_ / "history"; }
  fs::path DataDir() const { return root_ / "data"; }
  fs::path ConfigFile() const { return root_ / "alphalab.yaml"; }

 private:
  explicit Workspace(fs::path root) : root_(std::move(root)) {}
  fs::path root_;
};

// Workspace::Resolve remembered for a batch of jobs prepared together (the optimization fast
// path's tasks name the same config file): each distinct (path, must) is walked once (a symlink
// walk, ~8 system calls) instead of once per job. A failure is not remembered. Thread-safe. Live
// for one batch only: a symlink changed later is seen by the next batch's first resolution.
class ResolvedPaths {
 public:
  Result<fs::path> Resolve(const Workspace& ws, const std::string& user_path, PathMust must);

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, PathMust>, fs::path> resolved_;
};

// True when `child` equals `parent` or lies below it, compared component by component
// (so /ws2 is not inside /ws). Both must be normalized absolute paths.
bool IsWithin(const fs::path& parent, const fs::path& child);

// Whether WriteFileAtomic waits for the bytes to reach the disk before renaming. kNoSync keeps
// the all-or-nothing view for readers but may lose the newest version on a power cut: for
// files whose durable record lives elsewhere (job meta files; the database is the record).
enum class FileSync { kSync, kNoSync };

// Writes `content` to `path` atomically: a temporary file in the same folder, (fsync),
// rename. Readers see the old or the new file, never half of one.
Status WriteFileAtomic(const fs::path& path, std::string_view content,
                       FileSync sync = FileSync::kSync);
Result<std::string> ReadFile(const fs::path& path);

}  // namespace alphalab

// The one confined open: every file alphalab reads on behalf of a request is opened beneath a
// root (the workspace, or another declared root) so that no path component, symlinks
// included, can lead outside it. Symlinks that stay inside the root keep working.
//
// Linux >= 5.6: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) on a descriptor of the root.
// Where the kernel lacks openat2 (or an absolute symlink that points back inside the root
// needs following), a component-by-component walk: each component opened with O_NOFOLLOW
// relative to its parent's descriptor, symlinks read and resolved by hand (at most 40),
// '..' never above the root, the last component opened with O_NOFOLLOW.
#pragma once

#include <fcntl.h>

#include <filesystem>
#include <string>

#include "core/status.hpp"

namespace alphalab {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

enum class ConfinedMethod { kAuto, kWalkOnly };

// Opens `path` (absolute and lexically inside `root`, or relative to it) with `flags`
// (O_RDONLY, O_RDONLY | O_DIRECTORY, ...; O_CLOEXEC is added). Leading outside the root, by
// '..' or a symlink -> PermissionDenied ("... leads outside ..."), message relative to the root;
// missing -> NotFound; other errors -> Internal. `root` must be an existing directory.
Result<UniqueFd> OpenConfined(const std::filesystem::path& root, const std::filesystem::path& path,
                              int flags = O_RDONLY, ConfinedMethod method = ConfinedMethod::kAuto);

// Reads a whole regular file through OpenConfined; larger than `max_bytes` -> ResourceExhausted,
// not a regular file -> NotFound.
Result<std::string> ReadFileConfined(const std::filesystem::path& root, const std::filesystem::path& path,
                                     size_t max_bytes = size_t{64} << 20,
                                     ConfinedMethod method = ConfinedMethod::kAuto);

// True when `path` exists beneath `root` as a directory reached without leaving the root.
bool IsDirectoryConfined(const std::filesystem::path& root, const std::filesystem::path& path);

}  // namespace alphalab

namespace alphalab {

// Creates the folder `dir` beneath `root` and any missing parents, each component checked as
// OpenConfined does (a symlink leading outside -> PermissionDenied). Returns the folder opened
// (O_DIRECTORY).
Result<UniqueFd> MakeDirsConfined(const std::filesystem::path& root, const std::filesystem::path& dir);

// Replaces the file `path` beneath `root` atomically: its folder is opened confined, a temporary
// file is created in that folder (O_EXCL), written, fsync'd and renamed over the name, then the
// folder is fsync'd. A crash at any instant leaves the old or the new file, never part of one.
// When the name is a symlink that stays inside the root, the file it points to is replaced (the
// link is kept); a symlink leading outside -> PermissionDenied. The folder must exist.
Status WriteFileAtomicConfined(const std::filesystem::path& root, const std::filesystem::path& path,
                               std::string_view content);

// Creates `path` beneath `root` exclusively (O_CREAT | O_EXCL, missing folders created) and
// writes `content`, fsync'd. AlreadyExists when the name is taken: nothing is ever overwritten.
Status WriteNewFileConfined(const std::filesystem::path& root, const std::filesystem::path& path,
                            std::string_view content);

}  // namespace alphalab

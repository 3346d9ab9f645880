// FileReplacer: atomic file replacement that does not free an inode per replacement.
//
// WriteFileAtomic (workspace.hpp) writes a temporary file and renames it over the target: the
// target's old inode is freed. On ext4 without a journal (these machines), every inode
// allocation then scans past the inodes freed in the last ~30 s of its block group, so a
// server that rewrites thousands of small files per second (job meta files: QUEUED, RUNNING,
// terminal) makes every later file creation slower and slower.
//
// FileReplacer writes the new content into a spare file in `scratch_dir` (same file system as
// the targets) and swaps it with the target in one renameat2(RENAME_EXCHANGE): readers see the
// old or the new file, never half of one, and the target's old inode is not freed but becomes
// a spare. A spare is reused (truncated and rewritten) only after `reuse_delay`, so a reader
// that opened the old version still reads it whole. A target that does not exist yet (most
// files get one version) is written to an unnamed O_TMPFILE inode and linked in, or, where
// that is unavailable, gets a scratch file renamed onto it. Where the file system cannot
// exchange (EINVAL), it falls back to rename-over. At most `max_spares` are kept; older ones
// are deleted.
//
// No fsync: for files whose durable record lives elsewhere (the database). Thread-safe; writes
// to the same target from several threads race like renames do (the caller orders them).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string_view>

#include "core/status.hpp"

namespace alphalab {

struct FileReplacerOptions {
  std::chrono::milliseconds reuse_delay{2000};
  size_t max_spares = 8192;
};

class FileReplacer {
 public:
  // `scratch_dir` is created when missing; files left in it by an earlier process are reused.
  explicit FileReplacer(std::filesystem::path scratch_dir, FileReplacerOptions options = {});
  FileReplacer(const FileReplacer&) = delete;
  FileReplacer& operator=(const FileReplacer&) = delete;

  Status Write(const std::filesystem::path& target, std::string_view content);

  // Spare files currently kept (tests, diagnostics).
  size_t spares() const;
  const std::filesystem::path& scratch_dir() const { return scratch_dir_; }

 private:
  struct Spare {
    std::filesystem::path path;
    std::chrono::steady_clock::time_point retired;
  };
  // A scratch file open for writing (reused or new), or an error.
  Result<std::filesystem::path> TakeScratch(int* fd);
  void Retire(std::filesystem::path path);

  const std::filesystem::path scratch_dir_;
  const FileReplacerOptions options_;
  mutable std::mutex mu_;
  std::deque<Spare> spares_;  // oldest first
  uint64_t next_name_ = 0;
};

}  // namespace alphalab

#include "core/file_replacer.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cstring>
#include <optional>
#include <string>

namespace alphalab {
namespace fs = std::filesystem;

namespace {

std::string Errno(int err) { return std::strerror(err); }

Status WriteAllTo(int fd, std::string_view content, const fs::path& path) {
  const char* data = content.data();
  size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal("cannot write " + path.string() + ": " + Errno(errno));
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

FileReplacer::FileReplacer(fs::path scratch_dir, FileReplacerOptions options)
    : scratch_dir_(std::move(scratch_dir)), options_(options) {
  std::error_code ec;
  fs::create_directories(scratch_dir_, ec);
  // Spares an earlier process left behind were retired long ago: reusable at once.
  const auto long_ago = std::chrono::steady_clock::now() - options_.reuse_delay;
  for (const auto& entry : fs::directory_iterator(scratch_dir_, ec)) {
    if (entry.is_regular_file(ec)) spares_.push_back(Spare{entry.path(), long_ago});
  }
}

size_t FileReplacer::spares() const {
  std::lock_guard<std::mutex> lock(mu_);
  return spares_.size();
}

Result<fs::path> FileReplacer::TakeScratch(int* fd) {
  fs::path path;
  bool reused = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!spares_.empty() && now - spares_.front().retired >= options_.reuse_delay) {
      path = std::move(spares_.front().path);
      spares_.pop_front();
      reused = true;
    } else {
      path = scratch_dir_ / ("s" + std::to_string(::getpid()) + "_" + std::to_string(next_name_++));
    }
  }
  *fd = ::open(path.c_str(), reused ? (O_WRONLY | O_TRUNC | O_CLOEXEC)
                                    : (O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC), 0644);
  if (*fd < 0 && errno == ENOENT) {
    // The scratch folder (or a reused spare) vanished: start over with a new file.
    std::error_code ec;
    fs::create_directories(scratch_dir_, ec);
    {
      std::lock_guard<std::mutex> lock(mu_);
      path = scratch_dir_ / ("s" + std::to_string(::getpid()) + "_" + std::to_string(next_name_++));
    }
    *fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  }
  if (*fd < 0) return Status::Internal("cannot create " + path.string() + ": " + Errno(errno));
  return path;
}

void FileReplacer::Retire(fs::path path) {
  fs::path drop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    spares_.push_back(Spare{std::move(path), std::chrono::steady_clock::now()});
    if (spares_.size() > options_.max_spares) {
      drop = std::move(spares_.front().path);
      spares_.pop_front();
    }
  }
  if (!drop.empty()) ::unlink(drop.c_str());
}

// A target that does not exist yet (the usual case: most files get one version) is written to
// an unnamed O_TMPFILE inode in its folder and linked in: one directory change instead of
// two. Nullopt when that is not possible here (no O_TMPFILE, or the target exists after all).
static std::optional<Status> WriteNewFile(const fs::path& target, std::string_view content) {
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0 || errno != ENOENT) return std::nullopt;
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Status::Internal("cannot write " + target.string() + ": " + Errno(errno));
    }
    return std::nullopt;  // no O_TMPFILE on this file system
  }
  Status written = WriteAllTo(fd, content, target);
  if (written.ok()) {
    char proc[64];
    std::snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    if (::linkat(AT_FDCWD, proc, AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EEXIST) return std::nullopt;  // created meanwhile: replace it instead
      return Status::Internal("cannot write " + target.string() + ": " + Errno(err));
    }
  }
  ::close(fd);
  return written;
}

Status FileReplacer::Write(const fs::path& target, std::string_view content) {
  if (std::optional<Status> created = WriteNewFile(target, content)) return *created;
  int fd = -1;
  ASSIGN_OR_RETURN(fs::path scratch, TakeScratch(&fd));
  Status written = WriteAllTo(fd, content, scratch);
  ::close(fd);
  if (!written.ok()) {
    Retire(std::move(scratch));
    return written;
  }
  if (::renameat2(AT_FDCWD, scratch.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    Retire(std::move(scratch));  // now holds the target's previous version
    return Status::Ok();
  }
  const int err = errno;
  if (err != ENOENT && err != EINVAL && err != ENOSYS) {
    Retire(std::move(scratch));
    return Status::Internal("cannot replace " + target.string() + ": " + Errno(err));
  }
  // No target yet (or no exchange on this file system): the scratch file becomes the target.
  if (::rename(scratch.c_str(), target.c_str()) != 0) {
    const int rename_err = errno;
    Retire(std::move(scratch));
    return Status::Internal("cannot write " + target.string() + ": " + Errno(rename_err));
  }
  return Status::Ok();
}

}  // namespace alphalab

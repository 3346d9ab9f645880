#include "core/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace alphalab {

std::filesystem::path AuditLog::FileIn(const std::filesystem::path& workspace_root) {
  return workspace_root / "reports" / "audit.log";
}

Status AuditLog::Append(const AuditEvent& event) {
  Json line{{"ts", FormatIso8601(clock_.Now())},
            {"action", event.action},
            {"actor", event.actor},
            {"role", event.role},
            {"target", event.target},
            {"remote", event.remote},
            {"outcome", event.outcome},
            {"details", event.details}};
  std::string text = DumpJson(line);
  text.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  struct stat at {};
  if (fd_ >= 0 && (::lstat(file_.c_str(), &at) != 0 || at.st_dev != dev_ || at.st_ino != ino_)) {
    ::close(fd_);  // moved, removed or replaced: the path's file from now on
    fd_ = -1;
  }
  if (fd_ < 0) {
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    const int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return Status::Internal("cannot open the audit log: " + std::string(std::strerror(errno)));
    struct stat opened {};
    if (::fstat(fd, &opened) != 0) {
      const int err = errno;
      ::close(fd);
      return Status::Internal("cannot open the audit log: " + std::string(std::strerror(err)));
    }
    fd_ = fd;
    dev_ = opened.st_dev;
    ino_ = opened.st_ino;
  }
  const int fd = fd_;
  size_t done = 0;
  Status status;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = Status::Internal("cannot write the audit log: " + std::string(std::strerror(errno)));
      break;
    }
    done += static_cast<size_t>(n);
  }
  return status;
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::Record(const AuditEvent& event) {
  Status s = Append(event);
  if (!s.ok()) {
    std::fprintf(stderr, "{\"msg\":\"audit log write failed\",\"action\":%s,\"error\":%s}\n",
                 Json(event.action).dump().c_str(), Json(s.message()).dump().c_str());
  }
}

}  // namespace alphalab

#include "core/workspace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/ids.hpp"
#include "core/write_new_file.hpp"
#include "core/message_paths.hpp"

namespace alphalab {

namespace {

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

Status Refuse(std::string_view user_path, std::string_view why) {
  std::string shown(user_path.substr(0, 200));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return Status::InvalidArgument("path '" + shown + "' refused: " + std::string(why),
                                 nlohmann::json{{"path", shown}, {"reason", why}});
}

}  // namespace

bool IsWithin(const fs::path& parent, const fs::path& child) {
  auto p = parent.begin();
  auto c = child.begin();
  for (; p != parent.end(); ++p, ++c) {
    if (p->empty()) continue;  // trailing separator
    if (c == child.end() || *p != *c) return false;
  }
  return true;
}

Result<Workspace> Workspace::Open(const fs::path& root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(fs::absolute(root, ec), ec);
  if (ec) {
    return Status::NotFound("workspace '" + root.string() + "' does not exist: " + ec.message());
  }
  if (!fs::is_directory(canonical, ec)) {
    return Status::InvalidArgument("workspace '" + root.string() + "' is not a directory");
  }
  return Workspace(std::move(canonical));
}

Result<fs::path> Workspace::Resolve(std::string_view user_path, PathMust must) const {
  if (user_path.empty()) return Refuse(user_path, "empty path");
  if (user_path.size() > 4096) return Refuse(user_path, "path longer than 4096 bytes");
  for (size_t i = 0; i < user_path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(user_path[i]);
    if (c == 0) return Refuse(user_path, "contains a NUL byte");
    if (c < 0x20 || c == 0x7f) return Refuse(user_path, "contains a control character");
    if (c == '\\') return Refuse(user_path, "contains a backslash");
    if (c == '%' && i + 2 < user_path.size() + 0 && IsHex(user_path[i + 1]) &&
        IsHex(user_path[i + 2])) {
      return Refuse(user_path, "contains a percent-encoded sequence");
    }
  }
  if (user_path[0] == '~') return Refuse(user_path, "home-directory paths are not allowed");

  fs::path candidate(user_path);
  if (candidate.is_relative()) candidate = root_ / candidate;
  candidate = candidate.lexically_normal();
  // Lexical check first: '..' that climbs out is refused before touching the disk.
  if (!IsWithin(root_, candidate)) return Refuse(user_path, "outside the workspace");

  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(candidate, ec);
  if (ec) return Refuse(user_path, "cannot be resolved: " + ec.message());
  if (!IsWithin(root_, resolved)) {
    return Refuse(user_path, "resolves (through a symlink) outside the workspace");
  }
  const bool exists = fs::exists(resolved, ec);
  if (must == PathMust::kExist && !exists) {
    return Status::NotFound("path '" + std::string(user_path) + "' does not exist in the workspace",
                            nlohmann::json{{"path", std::string(user_path)}});
  }
  if (must == PathMust::kBeNew && exists) {
    return Status::AlreadyExists("path '" + std::string(user_path) + "' already exists",
                                 nlohmann::json{{"path", std::string(user_path)}});
  }
  return resolved;
}

std::string Workspace::Relative(const fs::path& absolute) const {
  return absolute.lexically_relative(root_).generic_string();
}

Result<fs::path> ResolvedPaths::Resolve(const Workspace& ws, const std::string& user_path, PathMust must) {
  const auto key = std::make_pair(user_path, must);
  {
    std::lock_guard lock(mu_);
    if (auto it = resolved_.find(key); it != resolved_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(fs::path path, ws.Resolve(user_path, must));
  std::lock_guard lock(mu_);
  resolved_.emplace(key, path);
  return path;
}

std::string WithoutRoot(std::string_view message, const fs::path& root_path) {
  const std::string root = root_path.string();
  if (root.size() <= 1) return std::string(message);
  std::string out;
  out.reserve(message.size());
  size_t i = 0;
  while (i < message.size()) {
    const size_t at = message.find(root, i);
    if (at == std::string_view::npos) break;
    out.append(message.substr(i, at - i));
    const size_t end = at + root.size();
    if (end < message.size() && message[end] == '/') {
      i = end + 1;  // "<root>/runs/x" -> "runs/x"
    } else if (end == message.size() || !(std::isalnum(static_cast<unsigned char>(message[end])) ||
                                           message[end] == '_' || message[end] == '-' || message[end] == '.')) {
      out += ".";
      i = end;
    } else {
      out.append(root);  // "<root>2/...": another folder that only starts like the root
      i = end;
    }
  }
  out.append(message.substr(i));
  return out;
}

namespace {

// One write of `content` to the new descriptor `fd` (looped only on a short write), then close.
int WriteAllAndClose(int fd, std::string_view content) {
  if (fd < 0) return errno;
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return err;
    }
    done += static_cast<size_t>(n);
  }
  return ::close(fd) != 0 ? errno : 0;
}

}  // namespace

int WriteNewFile(const fs::path& path, std::string_view content) {
  return WriteAllAndClose(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), content);
}

int WriteNewFileAt(int dir_fd, const char* name, std::string_view content) {
  return WriteAllAndClose(::openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644),
                          content);
}

Status WriteFileAtomic(const fs::path& path, std::string_view content, FileSync sync) {
  const fs::path dir = path.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir.string() + ": " + ec.message());
  const fs::path tmp =
      dir / ("." + path.filename().string() + ".tmp." + MakeTimestampedId("w", SystemClock::Instance().Now()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("cannot create " + tmp.string() + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Internal("cannot write " + tmp.string() + ": " + std::strerror(err));
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = sync == FileSync::kNoSync || ::fsync(fd) == 0;
  int err = synced ? 0 : errno;
  const bool closed = ::close(fd) == 0;
  if (!closed && err == 0) err = errno;
  if (!synced || !closed) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot flush " + tmp.string() + ": " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Status::Internal("cannot rename into " + path.string() + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::Internal("cannot read " + path.string());
  return ss.str();
}

}  // namespace alphalab

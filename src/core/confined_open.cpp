#include "core/confined_open.hpp"

#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

namespace alphalab {

namespace fs = std::filesystem;

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

namespace {

constexpr int kMaxSymlinks = 40;

Status Outside(const std::string& rel) {
  return Status::PermissionDenied("'" + rel + "' leads outside its root (through '..' or a symlink)");
}

Status FromErrno(int err, const std::string& rel) {
  if (err == ENOENT || err == ENOTDIR) return Status::NotFound("'" + rel + "' does not exist");
  if (err == ELOOP) return Status::PermissionDenied("'" + rel + "' is a symlink loop or a symlink where none is allowed");
  if (err == EXDEV) return Outside(rel);
  return Status::Internal("cannot open '" + rel + "': " + std::strerror(err));
}

// -1 when openat2 is unknown to this kernel (or filtered), 1 when it works, 0 untested.
std::atomic<int> g_openat2_state{0};

int TryOpenat2(int dirfd, const std::string& rel, int flags) {
  if (g_openat2_state.load(std::memory_order_relaxed) < 0) {
    errno = ENOSYS;
    return -1;
  }
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) {
      g_openat2_state.store(1, std::memory_order_relaxed);
      return static_cast<int>(fd);
    }
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == ENOSYS || (errno == EPERM && g_openat2_state.load() == 0)) {
      g_openat2_state.store(-1, std::memory_order_relaxed);
      errno = ENOSYS;
    }
    return -1;
  }
}

std::deque<std::string> Components(const fs::path& p) {
  std::deque<std::string> out;
  for (const auto& c : p) {
    const std::string s = c.string();
    if (s.empty() || s == "/" || s == ".") continue;
    out.push_back(s);
  }
  return out;
}

// The userspace walk. `rootfd` is an O_PATH descriptor of the root; `root` its path (used to
// make absolute symlink targets relative).
Result<UniqueFd> Walk(int rootfd, const fs::path& root, const std::string& rel, int flags) {
  std::deque<std::string> queue = Components(fs::path(rel));
  std::vector<UniqueFd> stack;  // descriptors of the directories entered below the root
  auto current = [&]() { return stack.empty() ? rootfd : stack.back().get(); };
  int links = 0;
  while (!queue.empty()) {
    const std::string name = std::move(queue.front());
    queue.pop_front();
    if (name == "..") {
      if (stack.empty()) return Outside(rel);
      stack.pop_back();
      continue;
    }
    const int fd = ::openat(current(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return FromErrno(errno, rel);
    UniqueFd entry(fd);
    struct stat st {};
    if (::fstat(entry.get(), &st) != 0) return FromErrno(errno, rel);
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) return FromErrno(ELOOP, rel);
      std::string target(4096, '\0');
      const ssize_t n = ::readlinkat(entry.get(), "", target.data(), target.size());
      if (n < 0) return FromErrno(errno, rel);
      target.resize(static_cast<size_t>(n));
      fs::path t(target);
      std::deque<std::string> parts;
      if (t.is_absolute()) {
        const fs::path normal = t.lexically_normal();
        const fs::path inside = normal.lexically_relative(root);
        if (inside.empty() || *inside.begin() == "..") return Outside(rel);
        stack.clear();  // continue from the root
        parts = Components(inside);
      } else {
        parts = Components(t);
      }
      queue.insert(queue.begin(), parts.begin(), parts.end());
      continue;
    }
    if (queue.empty()) {
      // The last component: open it for real, refusing a symlink swapped in meanwhile.
      const int out = ::openat(current(), name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
      if (out < 0) return FromErrno(errno, rel);
      return UniqueFd(out);
    }
    if (!S_ISDIR(st.st_mode)) return FromErrno(ENOTDIR, rel);
    stack.push_back(std::move(entry));
  }
  // The path named the root itself (or walked back to it).
  const int out = ::openat(current(), ".", flags | O_CLOEXEC);
  if (out < 0) return FromErrno(errno, rel);
  return UniqueFd(out);
}

}  // namespace

Result<UniqueFd> OpenConfined(const fs::path& root, const fs::path& path, int flags, ConfinedMethod method) {
  const fs::path normal_root = root.lexically_normal();
  fs::path rel_path = path.is_absolute() ? path.lexically_normal().lexically_relative(normal_root)
                                         : path.lexically_normal();
  const std::string rel = rel_path.empty() ? std::string(".") : rel_path.generic_string();
  if (rel_path.empty() || rel == ".." || rel.rfind("../", 0) == 0 || rel_path.is_absolute()) {
    return Outside(path.is_absolute() ? path.filename().string() : path.generic_string());
  }
  const int rootfd = ::open(normal_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return Status::Internal(std::string("cannot open the root folder: ") + std::strerror(errno));
  UniqueFd root_fd(rootfd);
  if (method == ConfinedMethod::kAuto) {
    const int fd = TryOpenat2(root_fd.get(), rel, flags);
    if (fd >= 0) return UniqueFd(fd);
    // EXDEV: an absolute symlink or '..' on the way; the walk decides whether it stays inside.
    if (errno != ENOSYS && errno != EXDEV) return FromErrno(errno, rel);
  }
  return Walk(root_fd.get(), normal_root, rel, flags);
}

Result<std::string> ReadFileConfined(const fs::path& root, const fs::path& path, size_t max_bytes,
                                     ConfinedMethod method) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenConfined(root, path, O_RDONLY | O_NONBLOCK, method));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::Internal(std::string("cannot stat: ") + std::strerror(errno));
  const std::string name = path.filename().string();
  if (!S_ISREG(st.st_mode)) return Status::NotFound("'" + name + "' is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Status::ResourceExhausted("'" + name + "' is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal("cannot read '" + name + "': " + std::strerror(errno));
    }
    if (n == 0) break;  // shrank meanwhile
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

bool IsDirectoryConfined(const fs::path& root, const fs::path& path) {
  auto fd = OpenConfined(root, path, O_RDONLY | O_DIRECTORY);
  return fd.ok();
}

}  // namespace alphalab

namespace alphalab {

namespace {

Status WriteAll(int fd, std::string_view content, const std::string& name) {
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal("cannot write '" + name + "': " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// The path relative to the root, refusing anything lexically outside it.
Result<fs::path> RelativeBeneath(const fs::path& root, const fs::path& path) {
  const fs::path normal_root = root.lexically_normal();
  fs::path rel = path.is_absolute() ? path.lexically_normal().lexically_relative(normal_root) : path.lexically_normal();
  const std::string s = rel.generic_string();
  if (rel.empty() || s == "." || s == ".." || s.rfind("../", 0) == 0 || rel.is_absolute()) {
    return Outside(path.is_absolute() ? path.filename().string() : path.generic_string());
  }
  return rel;
}

}  // namespace

Result<UniqueFd> MakeDirsConfined(const fs::path& root, const fs::path& dir) {
  const fs::path normal_root = root.lexically_normal();
  fs::path rel = dir.is_absolute() ? dir.lexically_normal().lexically_relative(normal_root) : dir.lexically_normal();
  if (rel.empty() || rel == ".") return OpenConfined(root, ".", O_RDONLY | O_DIRECTORY);
  ASSIGN_OR_RETURN(rel, RelativeBeneath(root, dir));
  fs::path so_far;
  for (const auto& part : rel) {
    so_far /= part;
    auto fd = OpenConfined(root, so_far, O_RDONLY | O_DIRECTORY);
    if (fd.ok()) continue;
    if (fd.status().code() != StatusCode::kNotFound) return fd.status();
    ASSIGN_OR_RETURN(UniqueFd parent, OpenConfined(root, so_far.parent_path().empty() ? fs::path(".") : so_far.parent_path(),
                                                   O_RDONLY | O_DIRECTORY));
    if (::mkdirat(parent.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::Internal("cannot create folder '" + so_far.generic_string() + "': " + std::strerror(errno));
    }
  }
  return OpenConfined(root, rel, O_RDONLY | O_DIRECTORY);
}

Status WriteFileAtomicConfined(const fs::path& root, const fs::path& path, std::string_view content) {
  ASSIGN_OR_RETURN(fs::path rel, RelativeBeneath(root, path));
  // A symlink that stays inside: replace what it points to. Its real place comes from the
  // descriptor the confined open returns (/proc/self/fd), checked to be beneath the root.
  {
    auto existing = OpenConfined(root, rel, O_PATH);
    if (existing.ok()) {
      std::error_code ec;
      const fs::path real = fs::read_symlink("/proc/self/fd/" + std::to_string(existing->get()), ec);
      const fs::path canon_root = fs::weakly_canonical(root, ec);
      if (!real.empty() && real != (canon_root / rel).lexically_normal()) {
        ASSIGN_OR_RETURN(rel, RelativeBeneath(canon_root, real));
        return WriteFileAtomicConfined(canon_root, rel, content);
      }
    } else if (existing.status().code() != StatusCode::kNotFound) {
      return existing.status();
    }
  }
  const fs::path parent = rel.parent_path().empty() ? fs::path(".") : rel.parent_path();
  const std::string name = rel.filename().string();
  ASSIGN_OR_RETURN(UniqueFd dir, OpenConfined(root, parent, O_RDONLY | O_DIRECTORY));
  struct stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return Status::PermissionDenied("'" + rel.generic_string() + "' is a symlink (changed meanwhile)");
  }
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = "." + name + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("cannot create a temporary file next to '" + name + "': " + std::strerror(errno));
  UniqueFd out(fd);
  auto fail = [&](Status s) {
    ::unlinkat(dir.get(), tmp.c_str(), 0);
    return s;
  };
  if (Status s = WriteAll(out.get(), content, name); !s.ok()) return fail(s);
  if (::fsync(out.get()) != 0) return fail(Status::Internal("cannot fsync '" + name + "': " + std::strerror(errno)));
  out = UniqueFd();
  if (::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0) {
    return fail(Status::Internal("cannot replace '" + name + "': " + std::strerror(errno)));
  }
  ::fsync(dir.get());
  return Status::Ok();
}

Status WriteNewFileConfined(const fs::path& root, const fs::path& path, std::string_view content) {
  ASSIGN_OR_RETURN(fs::path rel, RelativeBeneath(root, path));
  ASSIGN_OR_RETURN(UniqueFd dir, MakeDirsConfined(root, rel.parent_path()));
  const std::string name = rel.filename().string();
  const int fd = ::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return Status::AlreadyExists("'" + rel.generic_string() + "' already exists");
    return Status::Internal("cannot create '" + rel.generic_string() + "': " + std::strerror(errno));
  }
  UniqueFd out(fd);
  if (Status s = WriteAll(out.get(), content, name); !s.ok()) {
    ::unlinkat(dir.get(), name.c_str(), 0);
    return s;
  }
  if (::fsync(out.get()) != 0) return Status::Internal("cannot fsync '" + name + "': " + std::strerror(errno));
  ::fsync(dir.get());
  return Status::Ok();
}

}  // namespace alphalab

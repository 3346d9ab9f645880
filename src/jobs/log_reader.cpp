#include "jobs/log_reader.hpp"

#include "core/confined_open.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace alphalab {

namespace {

constexpr const char kReplacement[] = "\xEF\xBF\xBD";

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens a log confined to root (core/confined_open.hpp) and gives its size; a missing log or one
// that is not a regular file is NotFound. Shared by ReadLogChunk and SearchLog.
Status OpenLog(const std::filesystem::path& root, const std::filesystem::path& path, Fd& f, int64_t& size) {
  auto opened = OpenConfined(root, path, O_RDONLY | O_NONBLOCK);
  if (!opened.ok()) {
    if (opened.status().IsNotFound()) {
      return Status::NotFound("log file " + path.filename().string() + " does not exist");
    }
    return opened.status().WithContext("log " + path.filename().string());
  }
  f.fd = opened->release();
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return Status::Internal("cannot stat log " + path.filename().string());
  if (!S_ISREG(st.st_mode)) return Status::NotFound("log file " + path.filename().string() + " is not a file");
  size = st.st_size;
  return Status::Ok();
}

// Reads exactly n bytes at off (fewer only at EOF).
Result<std::string> PreadAll(int fd, int64_t off, int64_t n) {
  std::string buf(static_cast<size_t>(n), '\0');
  int64_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, buf.data() + got, static_cast<size_t>(n - got), off + got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::Internal(std::string("cannot read log: ") + std::strerror(errno));
    }
    if (r == 0) break;
    got += r;
  }
  buf.resize(static_cast<size_t>(got));
  return buf;
}

// Length of the valid UTF-8 sequence starting at s[i] (1..4), 0 if invalid there, or -k
// when the bytes so far are a valid prefix but the input ends after k bytes.
int SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  int need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (int k = 1; k < need; ++k) {
    if (i + k >= s.size()) return -k;
    const unsigned char x = b(i + k);
    const unsigned char l = k == 1 ? lo : 0x80;
    const unsigned char h = k == 1 ? hi : 0xBF;
    if (x < l || x > h) return k == 1 ? 0 : -(100 + k);  // invalid after k valid bytes
  }
  return need;
}

}  // namespace

std::string SanitizeUtf8(std::string_view s, size_t* held_back) {
  std::string out;
  out.reserve(s.size());
  if (held_back) *held_back = 0;
  size_t i = 0;
  while (i < s.size()) {
    // Fast path for ASCII runs.
    size_t j = i;
    while (j < s.size() && static_cast<unsigned char>(s[j]) < 0x80) ++j;
    if (j > i) {
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    const int len = SequenceLength(s, i);
    if (len > 0) {
      out.append(s.data() + i, static_cast<size_t>(len));
      i += static_cast<size_t>(len);
    } else if (len == 0) {
      out += kReplacement;  // invalid lead byte or bad first continuation: one byte
      i += 1;
    } else if (len > -100) {
      // Truncated at the end of the input.
      const size_t k = static_cast<size_t>(-len);
      if (held_back) {
        *held_back = k;
      } else {
        out += kReplacement;
      }
      i += k;
    } else {
      // Valid prefix of k bytes followed by a bad byte: the prefix is one maximal subpart.
      out += kReplacement;
      i += static_cast<size_t>(-len - 100);
    }
  }
  return out;
}

Result<LogChunk> ReadLogChunk(const std::filesystem::path& path, int64_t offset, int64_t tail,
                              bool hold_incomplete_tail, int64_t max_bytes) {
  return ReadLogChunk(path.parent_path(), path, offset, tail, hold_incomplete_tail, max_bytes);
}

namespace {

// The chunk rules of ReadLogChunk over an open descriptor whose size is `size`.
Result<LogChunk> ReadChunkAt(int fd, int64_t size, int64_t offset, int64_t tail, bool hold_incomplete_tail,
                             int64_t max_bytes) {
  if (offset < 0) return Status::InvalidArgument("offset must be >= 0");
  if (tail < 0) return Status::InvalidArgument("tail must be >= 0");
  LogChunk chunk;
  chunk.file_size = size;
  int64_t start = offset;
  int64_t len = 0;
  if (offset > 0) {
    if (offset >= size) {
      chunk.next_offset = size;
      return chunk;
    }
    len = std::min(size - offset, max_bytes);
  } else {
    const int64_t eff_tail = std::min(tail, max_bytes);
    if (size > tail || size > max_bytes) {
      if (size > tail) {
        start = size - eff_tail;
        len = eff_tail;
        chunk.is_truncated = true;
      } else {
        len = max_bytes;  // whole file wanted but above the cap: come back for the rest
      }
    } else {
      len = size;
    }
  }
  ASSIGN_OR_RETURN(std::string bytes, PreadAll(fd, start, len));
  const int64_t end = start + static_cast<int64_t>(bytes.size());
  // Hold back an incomplete last character when more bytes will follow (cap cut or a writer
  // still appending); at a final EOF it is replaced instead.
  const bool more_follows = end < size || hold_incomplete_tail;
  size_t held = 0;
  chunk.content = SanitizeUtf8(bytes, more_follows ? &held : nullptr);
  chunk.next_offset = end - static_cast<int64_t>(held);
  if (chunk.is_truncated && held == 0) chunk.next_offset = end;
  return chunk;
}

}  // namespace

Result<LogChunk> ReadLogChunk(const std::filesystem::path& root, const std::filesystem::path& path,
                              int64_t offset, int64_t tail, bool hold_incomplete_tail, int64_t max_bytes) {
  if (offset < 0) return Status::InvalidArgument("offset must be >= 0");
  if (tail < 0) return Status::InvalidArgument("tail must be >= 0");
  Fd f;
  int64_t file_size = 0;
  RETURN_IF_ERROR(OpenLog(root, path, f, file_size));
  return ReadChunkAt(f.fd, file_size, offset, tail, hold_incomplete_tail, max_bytes);
}

Result<LogFile> LogFile::Open(const std::filesystem::path& root, const std::filesystem::path& path) {
  Fd f;
  int64_t size = 0;
  RETURN_IF_ERROR(OpenLog(root, path, f, size));
  LogFile out;
  out.fd_ = f.fd;
  f.fd = -1;
  return out;
}

LogFile::~LogFile() {
  if (fd_ >= 0) ::close(fd_);
}

LogFile::LogFile(LogFile&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

LogFile& LogFile::operator=(LogFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

Result<int64_t> LogFile::Size() const {
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) return Status::Internal("cannot stat log");
  return static_cast<int64_t>(st.st_size);
}

Result<LogChunk> LogFile::Read(int64_t size, int64_t offset, int64_t tail, bool hold_incomplete_tail,
                               int64_t max_bytes) const {
  return ReadChunkAt(fd_, size, offset, tail, hold_incomplete_tail, max_bytes);
}

Result<LogSearch> SearchLog(const std::filesystem::path& root, const std::filesystem::path& path,
                            std::string_view needle, int64_t offset, int max_matches, int64_t max_scan_bytes) {
  if (offset < 0) return Status::InvalidArgument("offset must be >= 0");
  if (needle.empty()) return Status::InvalidArgument("q must not be empty");
  Fd f;
  int64_t file_size = 0;
  RETURN_IF_ERROR(OpenLog(root, path, f, file_size));
  auto lower = [](std::string_view text) {
    std::string out(text);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  };
  const std::string want = lower(needle);
  LogSearch out;
  out.file_size = file_size;
  constexpr int64_t kBlock = 1 << 20;
  int64_t pos = std::min<int64_t>(offset, out.file_size);  // file offset of carry's first byte
  std::string carry;  // the current, not yet complete line
  int64_t scanned = 0;
  auto take_line = [&](int64_t line_start, std::string_view line) {
    if (lower(line).find(want) == std::string::npos) return;
    const std::string_view cut = line.substr(0, static_cast<size_t>(kMaxLogSearchLineBytes));
    out.matches.push_back({line_start, SanitizeUtf8(cut)});
  };
  int64_t read_at = pos;
  while (read_at < out.file_size && scanned < max_scan_bytes) {
    ASSIGN_OR_RETURN(std::string block, PreadAll(f.fd, read_at, std::min(kBlock, out.file_size - read_at)));
    if (block.empty()) break;
    read_at += static_cast<int64_t>(block.size());
    scanned += static_cast<int64_t>(block.size());
    carry += block;
    size_t start = 0;
    for (size_t nl = carry.find('\n'); nl != std::string::npos; nl = carry.find('\n', start)) {
      take_line(pos + static_cast<int64_t>(start), std::string_view(carry).substr(start, nl - start));
      start = nl + 1;
      if (static_cast<int>(out.matches.size()) >= max_matches) {
        out.next_offset = pos + static_cast<int64_t>(start);
        out.complete = out.next_offset >= out.file_size;
        return out;
      }
    }
    carry.erase(0, start);
    pos += static_cast<int64_t>(start);
  }
  if (read_at >= out.file_size) {
    if (!carry.empty()) take_line(pos, carry);  // the last line has no line break
    out.next_offset = out.file_size;
    out.complete = true;
  } else if (pos > offset) {
    out.next_offset = pos;  // the scan budget ran out: continue at the incomplete line
  } else {
    // One line longer than the whole budget: its first part is searched, the rest skipped, so
    // the next call always moves on.
    take_line(pos, carry);
    out.next_offset = read_at;
  }
  return out;
}

std::string ReadFileTail(const std::filesystem::path& path, int64_t max_bytes) {
  Fd f;
  int64_t size = 0;
  if (!OpenLog(path.parent_path(), path, f, size).ok()) return {};
  const int64_t start = std::max<int64_t>(0, size - max_bytes);
  auto r = PreadAll(f.fd, start, size - start);
  return r.ok() ? std::move(r).value() : std::string();
}

}  // namespace alphalab

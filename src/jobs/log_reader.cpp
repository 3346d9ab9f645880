#include "jobs/log_reader.hpp"

#include "core/confined_open.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

Result<LogChunk> ReadLogChunk(const std::filesystem::path& root, const std::filesystem::path& path,
                              int64_t offset, int64_t tail, bool hold_incomplete_tail, int64_t max_bytes) {
  if (offset < 0) return Status::InvalidArgument("offset must be >= 0");
  if (tail < 0) return Status::InvalidArgument("tail must be >= 0");
  Fd f;
  {
    auto opened = OpenConfined(root, path, O_RDONLY | O_NONBLOCK);
    if (!opened.ok()) {
      if (opened.status().IsNotFound()) {
        return Status::NotFound("log file " + path.filename().string() + " does not exist");
      }
      return opened.status().WithContext("log " + path.filename().string());
    }
    f.fd = opened->release();
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return Status::Internal("cannot stat log " + path.filename().string());
  if (!S_ISREG(st.st_mode)) return Status::NotFound("log file " + path.filename().string() + " is not a file");
  const int64_t size = st.st_size;
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
  ASSIGN_OR_RETURN(std::string bytes, PreadAll(f.fd, start, len));
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

std::string ReadFileTail(const std::filesystem::path& path, int64_t max_bytes) {
  Fd f;
  auto opened = OpenConfined(path.parent_path(), path, O_RDONLY | O_NONBLOCK);
  if (!opened.ok()) return {};
  f.fd = opened->release();
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) return {};
  const int64_t start = std::max<int64_t>(0, st.st_size - max_bytes);
  auto r = PreadAll(f.fd, start, st.st_size - start);
  return r.ok() ? std::move(r).value() : std::string();
}

}  // namespace alphalab

// libFuzzer target: the job log reader (jobs/log_reader.hpp). The first 12 bytes choose the
// offset, the tail, the response cap and whether an incomplete last character is held back;
// the rest is the log file. Nothing may crash, leak, hang or throw, and every answer must keep
// the reader's promises: content is valid UTF-8, 0 <= next_offset <= file size, an offset past
// the end returns nothing, and SanitizeUtf8 output is valid UTF-8 and idempotent.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "jobs/log_reader.hpp"

namespace fs = std::filesystem;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF).
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

const fs::path& Dir() {
  static const fs::path dir = [] {
    char tmpl[] = "/tmp/alphalab_fuzz_log_XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made == nullptr) std::abort();
    return fs::path(made);
  }();
  return dir;
}

struct Cleanup {
  ~Cleanup() {
    std::error_code ec;
    fs::remove_all(Dir(), ec);
  }
} cleanup;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 12) return 0;
  int32_t offset_raw = 0, tail_raw = 0, cap_raw = 0;
  std::memcpy(&offset_raw, data, 4);
  std::memcpy(&tail_raw, data + 4, 4);
  std::memcpy(&cap_raw, data + 8, 4);
  const bool hold = (cap_raw & 1) != 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 12, size - 12);
  // Small numbers matter most (offsets inside the file); keep a few negative ones too.
  const int64_t offset = offset_raw % 70000;
  const int64_t tail = tail_raw % 70000;
  const int64_t max_bytes = 1 + static_cast<int64_t>((static_cast<uint32_t>(cap_raw) >> 1) % 70000);  // callers cap it, >= 1

  const fs::path log = Dir() / "job.log";
  std::ofstream(log, std::ios::binary | std::ios::trunc).write(body.data(), static_cast<std::streamsize>(body.size()));
  const int64_t file_size = static_cast<int64_t>(body.size());

  auto chunk = alphalab::ReadLogChunk(Dir(), log, offset, tail, hold, max_bytes);
  if (chunk.ok()) {
    Check(ValidUtf8(chunk->content));
    Check(chunk->file_size == file_size);
    Check(chunk->next_offset >= 0 && chunk->next_offset <= file_size);
    if (offset >= file_size) Check(chunk->content.empty() && chunk->next_offset == file_size);
    if (offset > 0 && offset < file_size) Check(chunk->next_offset >= offset);
  } else {
    Check(offset < 0 || tail < 0);  // the only refusals for a regular file inside the root
  }
  size_t held = 0;
  const std::string clean = alphalab::SanitizeUtf8(body, &held);
  Check(ValidUtf8(clean));
  Check(held <= 3 && held <= body.size());
  const std::string whole = alphalab::SanitizeUtf8(body);
  Check(ValidUtf8(whole));
  Check(alphalab::SanitizeUtf8(whole) == whole);
  const std::string last = alphalab::ReadFileTail(log, tail < 0 ? 0 : tail);
  Check(static_cast<int64_t>(last.size()) <= std::max<int64_t>(tail, 0));
  return 0;
}

// Reads a job log by byte offset (docs/api.md, GET /api/jobs/{id}/log): pread of only the bytes
// returned, so the cost is O(returned bytes) whatever the file size.
//
//   offset > 0            bytes [offset, EOF) (at most max_bytes), is_truncated = false
//   offset == 0, size>tail the last min(tail, max_bytes) bytes, is_truncated = true,
//                         next_offset = EOF
//   offset == 0, size<=tail the whole file (at most max_bytes; then is_truncated = false and
//                         next_offset < EOF tells the follower to come back)
//   offset >= EOF         empty content, next_offset = EOF (client ahead of a shorter file)
//   negative offset/tail  InvalidArgument; missing file NotFound.
// Content is UTF-8: invalid sequences become U+FFFD (one per maximal invalid subpart, the
// way Python's errors="replace" does), including a tail that starts inside a character.
// While the writer may still append (`hold_incomplete_tail`), an incomplete character at
// the end is not returned; next_offset stops before it so the next read gets it whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace alphalab {

inline constexpr int64_t kDefaultLogTail = 20000;
inline constexpr int64_t kMaxLogResponseBytes = 1 << 20;  // 1 MiB per response

struct LogChunk {
  std::string content;  // valid UTF-8
  int64_t next_offset = 0;
  bool is_truncated = false;
  int64_t file_size = 0;
};

// The log is opened through the one confined open (core/confined_open.hpp) beneath `root`
// (the workspace): a log replaced by a symlink leading outside is PermissionDenied.
Result<LogChunk> ReadLogChunk(const std::filesystem::path& root, const std::filesystem::path& path,
                              int64_t offset, int64_t tail, bool hold_incomplete_tail = false,
                              int64_t max_bytes = kMaxLogResponseBytes);
// Same, confined to the log's own folder.
Result<LogChunk> ReadLogChunk(const std::filesystem::path& path, int64_t offset, int64_t tail,
                              bool hold_incomplete_tail = false,
                              int64_t max_bytes = kMaxLogResponseBytes);

// A log opened once (the same confined open) and read many times by offset with the rules of
// ReadLogChunk: the log followers (GET /api/jobs/{id}/log/stream) keep one per followed log
// instead of reopening it for every read. The descriptor stays on the file it opened.
class LogFile {
 public:
  static Result<LogFile> Open(const std::filesystem::path& root, const std::filesystem::path& path);
  LogFile() = default;
  ~LogFile();
  LogFile(LogFile&& other) noexcept;
  LogFile& operator=(LogFile&& other) noexcept;
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  Result<int64_t> Size() const;  // fstat of the open file
  // ReadLogChunk's result for a file of `size` bytes (a Size() the caller took).
  Result<LogChunk> Read(int64_t size, int64_t offset, int64_t tail, bool hold_incomplete_tail,
                        int64_t max_bytes = kMaxLogResponseBytes) const;

 private:
  int fd_ = -1;
};

// Server-side search over a whole log (GET /api/jobs/{id}/log/search): the lines from byte
// `offset` on (a line start: 0 or a previous next_offset) that contain `needle`, ASCII
// case-insensitive. Reads at most `max_scan_bytes` per call and stops after `max_matches`
// matches; `next_offset` is where the next call continues (a line start), `complete` is true
// once the scan reached the end of the file. A match's `offset` is the byte offset of its
// line in the file; its text is sanitised UTF-8 without the line break, cut to
// kMaxLogSearchLineBytes. Confined like ReadLogChunk.
inline constexpr int64_t kMaxLogSearchLineBytes = 2000;

struct LogMatch {
  int64_t offset = 0;
  std::string line;
};

struct LogSearch {
  std::vector<LogMatch> matches;
  int64_t next_offset = 0;
  bool complete = false;
  int64_t file_size = 0;
};

Result<LogSearch> SearchLog(const std::filesystem::path& root, const std::filesystem::path& path,
                            std::string_view needle, int64_t offset, int max_matches,
                            int64_t max_scan_bytes = 64 << 20);

// Replaces invalid UTF-8 with U+FFFD. If `held_back` is non-null, a truncated (but so far
// valid) sequence at the very end is left out and its length stored there.
std::string SanitizeUtf8(std::string_view bytes, size_t* held_back = nullptr);

// The last `max_bytes` of a file (for artifacts / error summaries); empty if missing or if
// it is a symlink leading out of its folder.
std::string ReadFileTail(const std::filesystem::path& path, int64_t max_bytes);

}  // namespace alphalab

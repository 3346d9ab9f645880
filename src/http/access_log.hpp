// AccessLogBuffer: the access log without a cross-thread hand-off per request.
//
// Each I/O thread appends its complete lines to its own batch (an uncontended lock); a batch is
// handed to `writer` as one chunk when it passes 16 KB, by a background thread every 250 ms,
// and by Flush() (the destructor flushes too). Lines of one thread keep their order; chunks of
// different threads interleave whole, never inside a line. Queuing one message per request to
// the asynchronous logger woke its worker thread for nearly every request.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace alphalab::http {

class AccessLogBuffer {
 public:
  static constexpr size_t kChunkBytes = 16 * 1024;
  static constexpr std::chrono::milliseconds kFlushEvery{250};

  explicit AccessLogBuffer(std::function<void(std::string_view chunk)> writer);
  ~AccessLogBuffer();
  AccessLogBuffer(const AccessLogBuffer&) = delete;
  AccessLogBuffer& operator=(const AccessLogBuffer&) = delete;

  void Append(std::string_view line);  // a complete line, newline included
  void Flush();

 private:
  struct Batch {
    std::mutex mu;
    std::string text;
  };
  Batch& ThreadBatch();
  void Drain(Batch& batch);

  const uint64_t id_;  // tells instances apart in the thread-local lookup
  std::function<void(std::string_view)> writer_;
  std::mutex batches_mu_;
  std::vector<std::unique_ptr<Batch>> batches_;  // one per thread that appended
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread flusher_;
};

// `s` as a JSON string literal, quotes included (invalid UTF-8 replaced).
std::string JsonEscape(std::string_view s);

// One access-log line in the server's log format:
// {"ts":"2026-11-21T09:54:44.652Z","level":"info","event":{"msg":"http",...}}\n
std::string FormatAccessLine(std::string_view method, std::string_view target, int status,
                             size_t bytes, double ms, std::string_view remote);

}  // namespace alphalab::http

#include "http/access_log.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <unordered_map>

#include "core/json.hpp"

namespace alphalab::http {

namespace {
std::atomic<uint64_t> next_id{1};
}  // namespace

AccessLogBuffer::AccessLogBuffer(std::function<void(std::string_view)> writer)
    : id_(next_id.fetch_add(1)), writer_(std::move(writer)) {
  flusher_ = std::thread([this] {
    std::unique_lock lock(stop_mu_);
    while (!stop_) {
      stop_cv_.wait_for(lock, kFlushEvery);
      lock.unlock();
      Flush();
      lock.lock();
    }
  });
}

AccessLogBuffer::~AccessLogBuffer() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  flusher_.join();
  Flush();
}

AccessLogBuffer::Batch& AccessLogBuffer::ThreadBatch() {
  // Per thread: this instance's batch (ids are never reused, so a dead instance's entry is
  // never looked up again).
  thread_local std::unordered_map<uint64_t, Batch*> mine;
  Batch*& batch = mine[id_];
  if (batch == nullptr) {
    auto owned = std::make_unique<Batch>();
    batch = owned.get();
    std::lock_guard lock(batches_mu_);
    batches_.push_back(std::move(owned));
  }
  return *batch;
}

void AccessLogBuffer::Drain(Batch& batch) {
  std::string chunk;
  {
    std::lock_guard lock(batch.mu);
    chunk.swap(batch.text);
  }
  if (!chunk.empty()) writer_(chunk);
}

void AccessLogBuffer::Append(std::string_view line) {
  Batch& batch = ThreadBatch();
  bool full = false;
  {
    std::lock_guard lock(batch.mu);
    batch.text.append(line);
    full = batch.text.size() >= kChunkBytes;
  }
  if (full) Drain(batch);
}

void AccessLogBuffer::Flush() {
  std::vector<Batch*> all;
  {
    std::lock_guard lock(batches_mu_);
    for (auto& b : batches_) all.push_back(b.get());
  }
  for (Batch* b : all) Drain(*b);
}

std::string JsonEscape(std::string_view s) {
  // Printable ASCII without quotes or backslashes (every ordinary request target) is its own
  // escape; anything else goes through the library (control characters, UTF-8 checks).
  bool plain = true;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    out += s;
    out += '"';
    return out;
  }
  return Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {

// Decimal digits of v appended (no allocation, no locale).
void AppendUnsigned(std::string& out, uint64_t v) {
  char buf[20];
  char* p = buf + sizeof(buf);
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<size_t>(buf + sizeof(buf) - p));
}

}  // namespace

std::string FormatAccessLine(std::string_view method, std::string_view target, int status,
                             size_t bytes, double ms, std::string_view remote) {
  // The "YYYY-MM-DDTHH:MM:SS" part is formatted once per second and thread.
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  thread_local size_t cached_size = 0;
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  if (seconds != cached_second) {
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    cached_size = std::strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = seconds;
  }
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  // Appended piece by piece into one reserved string (a line per request, on the I/O thread):
  // the same text as {"ts":"<second>.<ms>Z","level":"info","event":{"msg":"http","method":...,
  // "ms":<3 decimals>,"remote":...}} without a format string or a float formatter.
  std::string out;
  out.reserve(160 + target.size() + remote.size());
  out.append(R"({"ts":")");
  out.append(cached, cached_size);
  out += '.';
  out += static_cast<char>('0' + millis / 100);
  out += static_cast<char>('0' + millis / 10 % 10);
  out += static_cast<char>('0' + millis % 10);
  out.append(R"(Z","level":"info","event":{"msg":"http","method":")");
  out.append(method);
  out.append(R"(","path":)");
  out.append(JsonEscape(target));
  out.append(R"(,"status":)");
  if (status < 0) {
    out += '-';
    AppendUnsigned(out, static_cast<uint64_t>(-static_cast<int64_t>(status)));
  } else {
    AppendUnsigned(out, static_cast<uint64_t>(status));
  }
  out.append(R"(,"bytes":)");
  AppendUnsigned(out, bytes);
  out.append(R"(,"ms":)");
  // Three decimals, rounded to the nearest microsecond (as "{:.3f}" printed them).
  const uint64_t micros = ms > 0 ? static_cast<uint64_t>(std::llround(ms * 1000.0)) : 0;
  AppendUnsigned(out, micros / 1000);
  out += '.';
  out += static_cast<char>('0' + micros / 100 % 10);
  out += static_cast<char>('0' + micros / 10 % 10);
  out += static_cast<char>('0' + micros % 10);
  out.append(R"(,"remote":")");
  out.append(remote);
  out.append("\"}}\n");
  return out;
}

}  // namespace alphalab::http

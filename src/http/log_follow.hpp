// The followers of job logs (GET /api/jobs/{job_id}/log/stream, docs/api.md): one registry for
// the server, one entry per followed log, served by one thread of its own.
//
//   - Each followed log is opened once through the confined open (jobs/log_reader.hpp LogFile)
//     and kept open while anyone follows it; its size is checked every `interval` (fstat).
//   - Followers at the same offset share one read and one formatted SSE event per change (a
//     thousand followers of a growing log cost one pread, not a thousand opens and reads).
//   - A follower is a BodyStream whose Next() never blocks: it hands over the events queued for
//     it; the registry wakes its connection (SetWake) when it queued something. Connections
//     therefore wait on the I/O threads without holding a handler-pool thread, and API requests
//     keep the pool to themselves.
//   - A follower with `max_pending_bytes` not yet taken (a slow reader) is skipped until it has
//     caught up; its offset stays where it was, so nothing is lost.
//   - The checks are spread over the interval: followers are checked in `slots` groups, one
//     group every interval/slots (a log's first `group_size` followers in its own slot, the
//     next ones in the next slot, logs starting in different slots). Waking every follower at
//     once put a thousand writes on the I/O threads (and a thousand reads on the clients) in
//     one burst every interval, and API requests that arrived in it waited behind the burst.
//     A new follower, and one with more to read after a 1 MiB cut, is served at once.
// Wire format (unchanged): `log` events {offset, content, next_offset} of at most 1 MiB of
// sanitised UTF-8, then one `end` event {status, exit_code, next_offset} once the job is
// terminal and its log was sent to the end; the connection keeps the 15 s keep-alive comments.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/status.hpp"
#include "http/router.hpp"

namespace alphalab::http {

// What the registry needs to know about a followed job at each check.
struct FollowedJob {
  bool terminal = false;
  std::string status;   // "SUCCESS", ... (the `end` event's status)
  Json exit_code;       // number or null
};

class LogFollowers {
 public:
  struct Options {
    std::chrono::milliseconds interval{200};  // how often each followed log is checked
    int64_t max_pending_bytes = 4 << 20;      // unsent bytes after which a follower is skipped
    int slots = 10;                           // groups checked one after another per interval
    int group_size = 50;                      // a log's followers per slot before the next slot
  };
  // `job_state` is called on the registry's thread, once per followed log per check; an error
  // (the job is gone) ends that log's streams.
  using JobStateFn = std::function<Result<FollowedJob>(const JobId&)>;

  LogFollowers(std::filesystem::path root, JobStateFn job_state, Options options);
  LogFollowers(std::filesystem::path root, JobStateFn job_state)
      : LogFollowers(std::move(root), std::move(job_state), Options{}) {}
  ~LogFollowers();  // ends the thread; streams still open just get no more events
  LogFollowers(const LogFollowers&) = delete;
  LogFollowers& operator=(const LogFollowers&) = delete;

  // A stream of the log at `log_path` (beneath the workspace root) from byte `offset`.
  std::shared_ptr<BodyStream> Follow(const JobId& id, std::filesystem::path log_path, int64_t offset);

  struct Stats {
    uint64_t logs = 0;       // logs followed now (open descriptors)
    uint64_t followers = 0;  // streams registered now
    uint64_t opens = 0;      // log opens so far
    uint64_t reads = 0;      // chunk reads so far (one per distinct offset per change)
    uint64_t events = 0;     // events queued to followers so far
  };
  Stats stats() const;

 private:
  class Stream;
  struct Log;
  void Loop();
  // Checks the followers in `slot` (none: only those due now); true when some follower has
  // more to read at once.
  bool CheckAll(std::optional<int> slot);
  bool CheckLog(Log& log, std::vector<std::shared_ptr<Stream>> streams);

  const std::filesystem::path root_;
  const JobStateFn job_state_;
  const Options options_;

  mutable std::mutex mu_;  // guards added_, stop_, wake_now_
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Stream>> added_;
  bool stop_ = false;
  bool wake_now_ = false;

  std::vector<std::unique_ptr<Log>> logs_;  // the registry thread's own
  int next_phase_ = 0;                      // registry thread: the slot the next new log starts in
  std::atomic<uint64_t> n_logs_{0}, n_followers_{0}, n_opens_{0}, n_reads_{0}, n_events_{0};
  std::thread thread_;  // started by the first Follow()
};

}  // namespace alphalab::http

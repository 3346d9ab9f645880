// JobMetaMirror: the meta file reports/jobs/runtime/<job_id>.json of every job, a mirror of
// its row (the database is the durable record). Always replaced whole (readers never see a
// partial file; written through a FileReplacer, so a rewrite keeps the old inode as a spare
// instead of freeing it). No fsync.
//
// WriteNow (terminal states) writes synchronously; the caller does it before the terminal
// state becomes visible anywhere else. WriteLater (QUEUED, RUNNING) goes through a writer
// thread that keeps only the newest unwritten version per job and writes it once that state
// is `delay` old (QUEUED: after submit, RUNNING: after start), unless a newer version replaced
// it first. So a job that starts within `delay` of its submit and ends within `delay` of its
// start gets exactly one meta file write, its terminal one. A version is never replaced by an
// older one: pending versions never move backwards, and WriteNow drops the job's pending
// version and waits for the writer's in-flight write of the same job. Shutdown writes what is
// pending; after it WriteLater writes synchronously.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/clock.hpp"
#include "core/file_replacer.hpp"
#include "store/job_store.hpp"

namespace alphalab {

class JobMetaMirror {
 public:
  // `files` and `clock` are borrowed; `root` is the workspace root (meta paths are relative).
  JobMetaMirror(FileReplacer& files, std::filesystem::path root, const Clock& clock,
                std::chrono::milliseconds delay);
  ~JobMetaMirror();
  JobMetaMirror(const JobMetaMirror&) = delete;
  JobMetaMirror& operator=(const JobMetaMirror&) = delete;

  void WriteNow(const JobRecord& job);
  void WriteLater(const JobRecord& job);
  void Shutdown();  // idempotent

 private:
  void WriteFile(const JobRecord& job);  // the file write itself
  void Loop();

  FileReplacer& files_;
  const std::filesystem::path root_;
  const Clock& clock_;
  const std::chrono::milliseconds delay_;

  // pending_ holds the newest unwritten version per job and when it is due; order_ the
  // (id, due) positions in due order (a position whose due no longer matches its entry is
  // stale and skipped). The writer takes one due entry at a time and marks the job in flight
  // while writing.
  struct Pending {
    JobRecord record;
    std::chrono::steady_clock::time_point due;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::unordered_map<JobId, Pending> pending_;
  std::deque<std::pair<JobId, std::chrono::steady_clock::time_point>> order_;
  std::unordered_set<JobId> in_flight_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace alphalab

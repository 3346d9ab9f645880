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
//
// Deferred rows: WriteLater(job, row_from) also leaves the job's row to the writer: the store
// holds the job in state `row_from`, and the writer stores the pending version (RowWriter,
// compare-and-set on `row_from`) together with the other rows due at the same time, before
// their meta files. A caller that is about to write the job's row itself takes that duty
// over first (TakeRow, or WriteNow's answer): the pending row is dropped (or its in-flight
// write awaited), and the caller learns the state the store really holds, to compare with.
// So a job that ends within `delay` of its start has its RUNNING state written to the store
// together with its end, in the end's write (JobService, docs/job_states.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
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
  // Stores deferred rows: jobs[i] with a compare-and-set on from[i] (JobStore::UpdateJobs).
  using RowWriter = std::function<void(std::span<JobRecord* const> jobs, std::span<const JobState> from)>;

  // `files` and `clock` are borrowed; `root` is the workspace root (meta paths are relative).
  // `rows` stores the rows WriteLater defers (may be empty when no caller defers any).
  JobMetaMirror(FileReplacer& files, std::filesystem::path root, const Clock& clock,
                std::chrono::milliseconds delay, RowWriter rows = {});
  ~JobMetaMirror();
  JobMetaMirror(const JobMetaMirror&) = delete;
  JobMetaMirror& operator=(const JobMetaMirror&) = delete;

  // Returns what TakeRow would have: the state the store holds when the job's row was still
  // deferred (the caller's row write must compare with it), else nullopt.
  std::optional<JobState> WriteNow(const JobRecord& job);
  // `row_from`: the job's row is deferred too (see above); the store holds it in that state.
  // A newer version keeps an older version's deferred row (and its `row_from`).
  void WriteLater(const JobRecord& job, std::optional<JobState> row_from = std::nullopt);
  // The caller writes the job's row now: a deferred row is dropped and the state the store
  // holds returned; nullopt when none is deferred (written already, or never deferred). Waits
  // for the writer's in-flight write of the job.
  std::optional<JobState> TakeRow(const JobId& id);
  void Shutdown();  // idempotent

 private:
  void WriteFile(const JobRecord& job);  // the file write itself
  void Loop();

  FileReplacer& files_;
  const std::filesystem::path root_;
  const Clock& clock_;
  const std::chrono::milliseconds delay_;
  const RowWriter rows_;

  // pending_ holds the newest unwritten version per job and when it is due; order_ the
  // (id, due) positions in due order (a position whose due no longer matches its entry is
  // stale and skipped). The writer takes every due entry at once and marks those jobs in
  // flight while writing (their deferred rows first, in one RowWriter call, then the files).
  struct Pending {
    JobRecord record;
    std::chrono::steady_clock::time_point due;
    std::optional<JobState> row_from;  // the row is deferred; the store holds this state
  };
  // Under mu_ (`lock`): waits for the job's in-flight write, then drops its deferred row.
  std::optional<JobState> TakeRowLocked(std::unique_lock<std::mutex>& lock, const JobId& id);
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

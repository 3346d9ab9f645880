// The in-process journal: what a chunk of in-process jobs (the optimization fast path,
// optimize/builtin_backtest_runner.hpp) is about to write before its job rows exist.
//
// A job's files come before its row (a row never names missing files), so a server killed
// mid-chunk leaves files of jobs that have no row: backtests/<bt_run_id>/ folders, logs, meta
// and result files. Before writing them the runner lists the chunk's (job id, bt_run_id)
// pairs in reports/jobs/inprocess/<first job id>.pending (one write) and holds an flock on
// it; once every row is in, the file is removed (Commit). So:
//   - RecoverInProcessJournals (JobService::Recover, at server start before the registry's
//     startup index) deletes the files of every listed job that has no row, then the journal.
//     A journal another live process holds (flock) is left alone;
//   - UncommittedBacktests names the listed backtests whose job has no row: the registry
//     never indexes them as results (registry IndexAll), even before a recovery ran.
// Cost: one small file and an flock per chunk (256 tasks), nothing per task.
#pragma once

#include <set>
#include <span>
#include <string>

#include "core/status.hpp"
#include "core/workspace.hpp"
#include "store/job_store.hpp"

namespace alphalab {

struct InProcessJournalEntry {
  std::string job_id;
  std::string bt_run_id;  // "" when the job writes no backtest folder
};

class InProcessJournal {
 public:
  // Writes and locks the journal of `entries` (not empty; ids are safe identifiers).
  static Result<InProcessJournal> Begin(const Workspace& ws, std::span<const InProcessJournalEntry> entries);

  InProcessJournal(InProcessJournal&& other) noexcept;
  InProcessJournal& operator=(InProcessJournal&&) = delete;
  InProcessJournal(const InProcessJournal&) = delete;
  ~InProcessJournal();  // without Commit: the file stays (recovered at the next start)

  // Every job of the chunk has its row: the journal is removed.
  Status Commit();

 private:
  InProcessJournal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

// reports/jobs/inprocess (relative to the workspace).
inline constexpr const char* kInProcessJournalDir = "reports/jobs/inprocess";

struct InProcessRecovery {
  int journals = 0;           // journals recovered (removed)
  int jobs_removed = 0;       // listed jobs without a row whose files were deleted
  int journals_skipped = 0;   // held by another live process
};

// Deletes the files of uncommitted jobs of every journal not held by a live process.
Result<InProcessRecovery> RecoverInProcessJournals(const Workspace& ws, JobStore& store);

// The bt_run_ids of journaled jobs that have no row (held journals included).
std::set<std::string> UncommittedBacktests(const Workspace& ws, JobStore& store);

}  // namespace alphalab

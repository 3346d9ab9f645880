// BuiltinBacktestBatchRunner: the optimization fast path for built-in backtests
// (optimize/task_batch_runner.hpp). Tasks run inside the server through the engine's grid
// execution (engine::RunSpecs): each distinct data selection is loaded once per Run, each
// chunk of tasks runs on all cores, and every task is recorded as the job it would have been
// as a process (jobs/inprocess_jobs.hpp): the same job row (status, end_reason, exit code,
// artifacts, command), log bytes, meta file and backtests/<bt_run_id>/ files, apart from ids
// and timestamps.
//
//   Accepts: job_type "backtest", not a dry run, a config_path given.
//   Run, per chunk of kChunk tasks (should_stop is asked before each chunk):
//     1. each task's parameters go through the catalog (argv, normalized params) and the
//        preparation `alphalab backtest` makes (engine/backtest/job_config.hpp), on all
//        cores; a task that fails there ends as the command would (its `error: ...` line,
//        exit 2 or 1);
//     2. tasks are grouped by the data they load (engine::SameContext): tasks that differ in
//        data (a param_space over tickers or dates) are run group by group, never refused;
//        a group whose data cannot be loaded fails each of its tasks with that error;
//     3. the runs execute on all cores (a compute thread and its workers); each writes its
//        backtests/<bt_run_id>/ and its log in the worker thread;
//     4. meanwhile the calling thread records the chunk's jobs in task order, kRecordBatch at
//        a time (fewer toward the chunk's end: RecordBatchEnd) as soon as they have all ended (JobService::RecordFinished), and reports them
//        through on_done, each with its parsed summary.json (alphalab_summary): recording
//        overlaps the chunk's later runs instead of following all of them. The jobs' result
//        files and summary.json texts go with them to the batch listeners (KnownResult), so
//        the registry indexes each folder from the text instead of reading it back.
//   A job that cannot be recorded (the store refuses the row) ends Run with that error.
#pragma once

#include <algorithm>
#include <memory>

#include "core/clock.hpp"
#include "core/workspace.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_service.hpp"
#include "optimize/task_batch_runner.hpp"

namespace alphalab::optimize {

class BuiltinBacktestBatchRunner final : public TaskBatchRunner {
 public:
  static constexpr size_t kChunk = 256;
  // Tasks recorded together while the rest of the chunk runs (step 4): smaller batches overlap
  // more of the recording with the runs, but each is one more round of row transactions and
  // registry indexing (pages of the same indexes written again).
  static constexpr size_t kRecordBatch = 64;
  // Toward the chunk's end the batches halve, down to kMinRecordBatch: once the last run ends,
  // what is left to record before the next chunk can start (one thread busy, the other cores
  // idle) is a few tasks, not up to kRecordBatch.
  static constexpr size_t kMinRecordBatch = 8;
  // The end of the batch that starts at task b of a chunk of n tasks.
  static size_t RecordBatchEnd(size_t b, size_t n) {
    const size_t left = n - b;
    if (left <= kMinRecordBatch) return n;
    return b + std::min(kRecordBatch, std::max(kMinRecordBatch, left / 2));
  }

  // Collaborators are borrowed and must outlive the runner. threads <= 0: all cores.
  BuiltinBacktestBatchRunner(JobService& jobs, const JobCatalog& catalog, const Workspace& workspace,
                             const Clock& clock, int threads = 0);

  bool Accepts(std::string_view job_type, const Json& base_params) const override;
  Status Run(const std::string& optimization_id, std::optional<std::string> owner_id, const std::string& project,
             std::span<const BatchTask> tasks, const std::function<void(BatchTaskResult&&)>& on_done,
             const std::function<bool()>& should_stop) override;

 private:
  JobService& jobs_;
  const JobCatalog& catalog_;
  const Workspace& workspace_;
  const Clock& clock_;
  const int threads_;
};

// For the composition root: the runner the optimization service takes.
std::unique_ptr<TaskBatchRunner> MakeBuiltinBacktestBatchRunner(JobService& jobs, const JobCatalog& catalog,
                                                                const Workspace& workspace, const Clock& clock);

}  // namespace alphalab::optimize

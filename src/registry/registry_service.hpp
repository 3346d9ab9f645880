// RegistryService: the read side of results (registry rows, runs, backtests, dashboard) and
// the trigger points of indexing (server start, a train / eval-metrics / backtest job that
// succeeded, `alphalab index`). Handlers in src/http/registry_handlers.cpp and
// results_handlers.cpp translate HTTP to these calls; everything here is testable without
// a socket.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <span>
#include <string>

#include "core/clock.hpp"
#include "core/job_result.hpp"
#include "core/json.hpp"
#include "core/workspace.hpp"
#include "registry/indexer.hpp"
#include "registry/results_reader.hpp"
#include "store/job_store.hpp"
#include "store/registry_store.hpp"

namespace alphalab::registry {

// Decoded query-string parameters; an empty value counts as absent.
using Params = std::map<std::string, std::string>;

// GET /api/registry/models parameters -> RegistryQuery. ticker and run_id accept comma lists;
// min_lift / min_precision / max_buy_rate must be finite numbers, min_support / limit /
// offset integers; limit 0..1000 (default 50), offset >= 0; sort a comma list of
// <numeric field>_<asc|desc>. Anything else -> InvalidArgument naming the parameter.
Result<RegistryQuery> ParseModelsParams(const Params& params);

// The server's one default for `min_support` (test rows behind a model's metrics): used by
// GET /api/registry/models when the parameter is absent or empty, and by the Dashboard's best
// models. A model scored on fewer rows ranks on noise (7 predicted positives at 100% precision).
inline constexpr int64_t kDefaultMinSupport = 30;

// Query-string pairs (already decoded) -> Params; the first occurrence of a name wins.
inline Params ParamsFromItems(const std::vector<std::pair<std::string, std::string>>& items) {
  Params p;
  for (const auto& [k, v] : items) p.emplace(k, v);
  return p;
}

}  // namespace alphalab::registry

namespace alphalab {

class RegistryService {
 public:
  using Params = registry::Params;
  using IndexReport = registry::IndexReport;
  using Indexer = registry::Indexer;
  using FileContent = registry::FileContent;

  // `jobs` may be null (CLI use): run detail then lists no jobs.
  RegistryService(const Workspace& ws, RegistryStore& store, JobStore* jobs, const Clock& clock);
  // Finishes a pending background export, then stops its thread.
  ~RegistryService();
  RegistryService(const RegistryService&) = delete;
  RegistryService& operator=(const RegistryService&) = delete;

  Indexer& indexer() { return indexer_; }
  RegistryStore& store() { return store_; }

  // Every folder, except backtests of in-process jobs whose rows were never written (a server
  // killed mid-chunk; jobs/inprocess_journal.hpp): those are not results.
  Result<IndexReport> IndexAll();
  // The job-finished hook: SUCCESS of train / eval-metrics re-indexes the run named by
  // artifacts.run_id (or params.run_id / run_dir); SUCCESS of backtest indexes its backtest.
  // Other jobs are ignored. Problems are returned for logging, never thrown.
  // The exports are then rewritten on a background thread (coalesced: many jobs finishing
  // together cost one export), so a large registry never delays the job completion thread.
  Result<IndexReport> OnJobFinished(const JobRecord& job);
  // OnJobFinished of several jobs at once (JobService's batch listener): their backtests are
  // indexed in batches (Indexer::IndexBacktests), the runs one by one; one report for all.
  // `known` (empty, or one per job): what the jobs' runner holds of their result files
  // (core/job_result.hpp KnownResult); a known backtest summary is indexed from its text
  // (Indexer::IndexWrittenBacktests), the same row as from the folder.
  Result<IndexReport> OnJobsFinished(std::span<const JobRecord> jobs, std::span<const KnownResult> known = {});
  // Blocks until no export is pending or running; returns the last export's status.
  Status WaitForExports();

  Result<Json> Models(const Params& params);
  // ?run_ids=a,b,c[&ticker=T]: rows of those runs for one ticker; 400 when they are not all
  // for the same ticker (the message names the runs and tickers), 404 for unknown runs.
  Result<Json> Compare(const Params& params);
  Result<Json> Runs(const Params& params);
  Result<Json> RunDetail(const std::string& run_id);
  Result<Json> Backtests(const Params& params);
  Result<Json> BacktestDetail(const std::string& bt_run_id, const Params& params);
  Result<FileContent> BacktestFile(const std::string& bt_run_id, const std::string& name);
  Result<FileContent> RunFile(const std::string& run_id, const std::string& name);
  // `owner`: only that owner's jobs among recent_jobs (a `user` token's view); nullopt = all.
  Result<Json> Dashboard(const Params& params, const std::optional<std::string>& owner = std::nullopt);

 private:
  Result<std::vector<JobRecord>> JobsForRun(const std::string& run_id);
  void ScheduleExport();
  void ExportLoop();

  const Workspace& ws_;
  RegistryStore& store_;
  JobStore* jobs_;
  const Clock& clock_;
  Indexer indexer_;

  std::mutex export_mu_;
  std::condition_variable export_cv_;
  bool export_pending_ = false;
  bool export_running_ = false;
  bool stopping_ = false;
  Status last_export_;
  std::thread export_thread_;  // started on the first scheduled export
};

}  // namespace alphalab

namespace alphalab::registry {

// A job as the run detail and the dashboard show it: the jobs API's JobDetailResponse.
Json JobBriefJson(const JobRecord& job, TimePoint now);

}  // namespace alphalab::registry

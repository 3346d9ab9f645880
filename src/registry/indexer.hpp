// The indexer: reads training runs (runs/<run_id>/) and backtests (backtests/<bt_run_id>/)
// from the workspace and writes what it finds into the RegistryStore, then exports
// reports/registry/models.{csv,json}.
//
// Per run: metrics.json (required) gives one row per ticker for the run's mode; every
// metrics_eval_<mode>.json (written by eval-metrics) gives rows for <mode> and, for the run's
// own mode, REPLACES the rows from metrics.json (the re-evaluation is newer). manifest.json
// is optional (its path, model paths and tickers are used when present).
// Per backtest: summary.json (required).
//
// Idempotent: indexing the same files twice leaves the same rows. A broken directory
// (missing or unreadable file, invalid JSON, a field of the wrong type, an unsafe id) is
// reported as a problem naming the file and the reason; it does not stop the rest, and its
// previous rows are removed so the index never shows data the disk no longer backs.
// Runs and backtests whose directory disappeared are removed from the index.
#pragma once

#include <filesystem>
#include <mutex>
#include <set>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/workspace.hpp"
#include "store/registry_store.hpp"

namespace alphalab::registry {

struct IndexProblem {
  std::string kind;     // "run" | "backtest" | "workspace"
  std::string id;       // run_id / bt_run_id (the directory name)
  std::string file;     // workspace-relative file that is wrong
  std::string message;  // what is wrong
};

struct IndexReport {
  int64_t runs_indexed = 0;
  int64_t rows_indexed = 0;
  int64_t runs_removed = 0;
  int64_t backtests_indexed = 0;
  int64_t backtests_removed = 0;
  std::vector<IndexProblem> problems;
  double seconds = 0;         // wall time of the whole pass
  double read_seconds = 0;    // reading and parsing folders
  double store_seconds = 0;   // writing to the store
  double export_seconds = 0;  // reports/registry/models.{csv,json}

  Json ToJson() const;
};

// Parses one run directory. Problems are appended to `problems`; returns nullopt when the run
// cannot be indexed.
std::optional<IndexedRun> ReadRunDir(const Workspace& ws, const std::filesystem::path& dir, const std::string& now,
                                     std::vector<IndexProblem>& problems);
std::optional<BacktestSummaryRow> ReadBacktestDir(const Workspace& ws, const std::filesystem::path& dir,
                                                  const std::string& now, std::vector<IndexProblem>& problems);

// A backtest folder its writer has just completed (engine::WriteSingleRun, inside the server:
// the optimization fast path) and whose summary.json text it holds: the folder was created
// and written through descriptors confined to the workspace, config.yaml before summary.json.
struct WrittenBacktest {
  std::string bt_run_id;
  std::string_view summary_json;  // the exact text of backtests/<bt_run_id>/summary.json
};
// The row ReadBacktestDir would read from that folder, from the text instead of the files
// (no read, no confinement walk, no stat); the same problems for an unsafe id or a text that
// is not a JSON object or has a field of the wrong type.
std::optional<BacktestSummaryRow> ReadWrittenBacktest(const Workspace& ws, const std::string& bt_run_id,
                                                      std::string_view summary_json, const std::string& now,
                                                      std::vector<IndexProblem>& problems);

class Indexer {
 public:
  Indexer(const Workspace& ws, RegistryStore& store, const Clock& clock) : ws_(ws), store_(store), clock_(clock) {}

  // Scans runs/ and backtests/ and brings the store in line with them, then exports.
  // Fails (Status) only when the store fails or the exports cannot be written; bad
  // directories are problems inside the report. `skip_backtests`: folders under backtests/
  // that are not results (uncommitted in-process jobs, jobs/inprocess_journal.hpp): not
  // indexed, and a row indexed from one before is removed.
  Result<IndexReport> IndexAll(const std::set<std::string>& skip_backtests = {});
  // Re-reads one run (after a train / eval-metrics job) and, unless told not to, re-exports.
  Result<IndexReport> IndexRun(const std::string& run_id, bool export_after = true);
  Result<IndexReport> IndexBacktest(const std::string& bt_run_id);
  // IndexBacktest of each id, the rows stored in batches (one transaction per batch instead
  // of one per backtest: the optimization fast path ends hundreds of backtests at once).
  // An unsafe id is a problem in the report (the others are indexed).
  Result<IndexReport> IndexBacktests(const std::vector<std::string>& bt_run_ids);
  // IndexBacktests of folders just written whose summary.json texts the caller holds
  // (ReadWrittenBacktest): the same rows, without reading the folders back.
  Result<IndexReport> IndexWrittenBacktests(std::span<const WrittenBacktest> written);
  // Writes reports/registry/models.csv and models.json (every row, default sort), atomically.
  Status Export();

 private:
  Status IndexRunsLocked(const std::vector<std::string>& run_ids, bool prune, IndexReport& report);
  // `texts` (one per id): the summary.json texts of written folders (ReadWrittenBacktest);
  // null: the folders are read.
  Status IndexBacktestsLocked(const std::vector<std::string>& ids, bool prune, IndexReport& report,
                              const std::vector<std::string_view>* texts = nullptr);

  const Workspace& ws_;
  RegistryStore& store_;
  const Clock& clock_;
  std::mutex mu_;  // one indexing pass at a time (server start, job hooks, CLI)
};

}  // namespace alphalab::registry

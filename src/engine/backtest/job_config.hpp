// One single backtest run as both `alphalab backtest` and the optimization fast path
// (optimize/builtin_backtest_runner.hpp) perform it, so the two cannot drift:
//   - BacktestRunFlags: the command line's inputs (--config, --ticker/--tickers, --start,
//     --end, --model, --set ...); FlagsFromJobParams maps a backtest job's parameters
//     (config_path, tickers, start, end, model_path, overrides) onto the same flags its argv
//     carries;
//   - PrepareBacktest: every check made before any data is read, in the command's order
//     (config inside the workspace, YAML, overrides then flags, spec, model and scores files,
//     the model opens with its feature set);
//   - WriteSingleRun: backtests/<bt_run_id>/ (summary.json with bt_run_id, created_at,
//     config_path, model_path, model_run_id) and the text the command prints on stdout;
//   - FailureText / FailureExitCode: how the command reports a failure (one stderr line
//     `error: <message>`, exit 2 for invalid input or a missing file, 1 otherwise).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "core/clock.hpp"
#include "core/confined_open.hpp"
#include "core/job_result.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"
#include "engine/backtest/result.hpp"
#include "engine/backtest/runner.hpp"
#include "engine/backtest/spec.hpp"

namespace alphalab::engine {

struct BacktestRunFlags {
  std::string config;                  // --config
  std::string ticker, tickers;         // --ticker / --tickers (comma-separated)
  std::string start, end;              // --start / --end (YYYY-MM-DD)
  std::string model;                   // --model
  std::vector<std::string> overrides;  // --set key=value, in order
};

// The flags a backtest job's argv carries for its (normalized) parameters.
BacktestRunFlags FlagsFromJobParams(const nlohmann::json& params);

// Applies the flags on top of the YAML: overrides first, then the flags (flags win over
// --set). A model turns an sma_cross baseline into the signal strategy (cutoff 0.5).
Status ApplyBacktestFlags(const BacktestRunFlags& flags, YAML::Node& config);

// Model files opened once per path and shared (scoring is thread-safe); remembers each
// model's run id for summary.json. Thread-safe.
class ModelCache {
 public:
  explicit ModelCache(const Workspace& ws) : ws_(ws) {}
  ScorerFactory Factory();
  std::string RunId(const std::string& model_path) const;  // "" when not opened

 private:
  const Workspace& ws_;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<ScoreFn, std::string>> loaded_;  // path -> scorer, run id
};

// Parsed config files, by absolute path (a batch of runs reads each file once), and the
// workspace paths of the batch resolved once (core/workspace.hpp ResolvedPaths: a batch's tasks
// name the same --config). Thread-safe: every caller gets its own clone. Live for one batch only
// (a symlink changed later is seen by the next batch's first resolution).
class ConfigFileCache {
 public:
  Result<YAML::Node> Load(const std::filesystem::path& path);  // a clone the caller may modify
  // ws.Resolve(user_path, must), remembered when it succeeds (a failure is not remembered).
  Result<std::filesystem::path> Resolve(const Workspace& ws, const std::string& user_path, PathMust must);
  // The batch's resolved paths, for its other users (the job catalog's path parameters).
  ResolvedPaths& paths() { return paths_; }

 private:
  std::mutex mu_;
  std::map<std::filesystem::path, YAML::Node> files_;
  ResolvedPaths paths_;
};

struct PreparedBacktest {
  std::filesystem::path config_path;  // absolute
  BacktestSpec spec;                  // spec.config: the resolved config (after overrides and flags)
};

// Every check before any data is read (see above). `files` may be null (read from disk).
Result<PreparedBacktest> PrepareBacktest(const Workspace& ws, const BacktestRunFlags& flags, ModelCache& models,
                                         ConfigFileCache* files = nullptr);

// Writes backtests/<bt_run_id>/ for a finished run and returns what the command prints on
// stdout for it (`bt_run_id: ...`, `out_dir: ...`, the summary lines). With a `job_id` it
// also writes that job's result file (core/job_result.hpp: kind backtest, the headline
// metrics of summary.json). `summary_json` (optional) receives summary.json's exact text, so
// a caller that reads the summary (the optimization fast path) need not read the file back;
// `summary` (optional) receives the JSON tree that text was dumped from; `job_result`
// (optional) the result file as written (set only once it is), so that the fast path need not
// read it back either.
// The folder is created in the workspace's backtests/, opened confined (core/confined_open.hpp:
// a symlink leading outside the workspace is refused); `backtests_fd`, when given, is that folder
// already opened by OpenBacktestsFolder (once per batch of runs).
Result<std::string> WriteSingleRun(const Workspace& ws, const PreparedBacktest& run, const BacktestContext& context,
                                   const BacktestResult& result, const std::string& bt_run_id, TimePoint created_at,
                                   const std::string& model_run_id, const std::string& job_id = "",
                                   std::string* summary_json = nullptr, int backtests_fd = -1,
                                   nlohmann::json* summary = nullptr, JobResult* job_result = nullptr);

// The workspace's backtests/ (created when missing) opened beneath the workspace root.
Result<UniqueFd> OpenBacktestsFolder(const Workspace& ws);

// The summary.json fields a backtest's result file carries as its headline metrics.
inline constexpr const char* kHeadlineMetrics[] = {"cagr",         "max_drawdown", "sharpe",   "sortino",
                                                   "total_return", "final_equity", "trades",   "win_rate",
                                                   "volatility",   "exposure"};

// The summary lines printed after a single backtest (from summary.json's fields).
std::string SummaryLines(const nlohmann::json& summary);

// The stderr text and exit code of a failed `alphalab backtest`.
std::string FailureText(const Status& s);
int FailureExitCode(const Status& s);

}  // namespace alphalab::engine

// The result file of a built-in job: reports/jobs/runtime/<job_id>.result.json, one small
// typed document written by the engine when a job's work is done (the `alphalab train`,
// `backtest` and `eval-metrics` commands, and the optimization fast path that runs backtests
// inside the server) and read by the job service (the job's artifacts), the registry (what to
// index) and the optimizations (which summary to rank). This module is the one place that
// knows its schema and the rules "a backtest yields a bt_run_id under backtests/", "a training
// run yields a run_id under runs/".
//
//   {"schema": 1, "kind": "backtest", "job_id": "job_...",
//    "ids": {"bt_run_id": "bt_..."},
//    "paths": {"bt_dir": "backtests/bt_...", "summary": "backtests/bt_.../summary.json"},
//    "metrics": {"cagr": 0.12, "final_equity": 112000.0, ...}}
//
//   kind         ids          paths (workspace-relative)                 artifacts of the job
//   run          run_id       run_dir: runs/<run_id>                     run_id, run_dir
//   backtest     bt_run_id    bt_dir, summary: backtests/<id>/summary.json  bt_run_id, bt_dir
//   evaluation   run_id       run_dir, metrics: the file eval-metrics wrote run_id
//
// The engine learns the job id from the environment variable ALPHALAB_JOB_ID, which the job
// catalog sets for every built-in job ({job_id} filled by the job service); a command run by
// hand (no such variable) writes no result file. Expected failures are Status values.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab {

class FileReplacer;

enum class ResultKind { kRun, kBacktest, kEvaluation };

std::string_view ResultKindName(ResultKind kind);  // "run", "backtest", "evaluation"
std::optional<ResultKind> ParseResultKind(std::string_view name);

// The environment variable that tells an engine command its job id.
inline constexpr const char* kJobIdEnv = "ALPHALAB_JOB_ID";
inline constexpr int kJobResultSchema = 1;

struct JobResult {
  ResultKind kind = ResultKind::kBacktest;
  std::string job_id;
  std::string id;           // run_id (run, evaluation) or bt_run_id (backtest)
  std::string output_path;  // evaluation: the metrics file it wrote (workspace-relative); else ""
  std::map<std::string, double> metrics;  // headline metrics (finite numbers)

  static JobResult Run(std::string job_id, std::string run_id, std::map<std::string, double> metrics = {});
  static JobResult Backtest(std::string job_id, std::string bt_run_id, std::map<std::string, double> metrics = {});
  static JobResult Evaluation(std::string job_id, std::string run_id, std::string output_path,
                              std::map<std::string, double> metrics = {});

  // runs/<id> or backtests/<id>.
  std::string Dir() const;
  // The file the alphalab_summary parser reads: backtests/<id>/summary.json for a backtest;
  // "" for the other kinds.
  std::string SummaryPath() const;
  // What the job records as its artifacts (see the table above).
  Json Artifacts() const;
  Json ToJson() const;
};

// What a job that ran inside the server (the optimization fast path) already holds of the
// files it has just written: its result file (`result.kind` and `result.id`; the headline
// metrics need not be filled) and the exact text of the file the result names as its summary
// (a backtest's summary.json, written by engine::WriteSingleRun with its config.yaml before
// it). JobService::RecordFinished hands them to its batch listeners (the registry), which
// take them instead of reading the files back. An entry whose result.id is empty is not
// known: listeners read the files.
struct KnownResult {
  JobResult result;
  std::string summary_text;  // "" when not known
};

// "reports/jobs/runtime/<job_id>.result.json" (workspace-relative).
std::string JobResultPath(std::string_view job_id);

// Validates the document: schema, a known kind, safe ids, only the fields above.
Result<JobResult> ParseJobResult(std::string_view text);

// Writes the result file of `result.job_id` under the workspace `root`, atomically (through
// `replacer` when given, else a temporary file renamed over it). No fsync: the job's row in
// the database is the durable record of what it is read into.
Status WriteJobResult(const std::filesystem::path& root, const JobResult& result, FileReplacer* replacer = nullptr);

// Reads and validates the result file of `job_id` (confined to `root`). NotFound when the
// job wrote none; its job_id must be `job_id`.
Result<JobResult> ReadJobResult(const std::filesystem::path& root, std::string_view job_id);

// The job id an engine command was started for (ALPHALAB_JOB_ID when it is a safe id), else "".
std::string JobIdFromEnvironment();

}  // namespace alphalab

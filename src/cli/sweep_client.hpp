// The pieces of `alphalab optimize` that do not talk to a server (cmd_optimize.cpp does):
// the sweep YAML -> the JSON request document (errors with file:line), locating a request
// field back in the YAML, the progress line and bar, the Top-N table, the exit code of a
// final status and the confined export path. Unit tested in tests/cli/sweep_client_test.cpp.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"

namespace alphalab::cli {

// A sweep file read into the request document, with the line of every field.
struct SweepDocument {
  std::string file;  // as given on the command line (used in messages)
  Json request = Json::object();
  // Field path ("param_space.strategy.params.fast.step", "constraints[1]") -> 1-based line.
  std::map<std::string, int> lines;

  // "file:line" of `field` (or of its nearest enclosing field that has a line); "file" when
  // nothing matches. `field` uses the request error convention (details.field).
  std::string Locate(std::string_view field) const;
};

// Parses YAML text into the request document. Scalars follow the YAML 1.2 core schema:
// quoted -> string; null, ~ or empty -> null; true/false -> boolean; integers and finite
// decimals -> numbers; anything else -> string. The top level must be a mapping; keys must be
// scalars and unique per mapping; .inf/.nan are refused. Errors: InvalidArgument
// "file:line:col: message".
Result<SweepDocument> ParseSweepYaml(std::string_view text, std::string file);
// Reads the file (at most 1 MiB) and parses it; a missing file is NotFound naming it.
Result<SweepDocument> LoadSweepFile(const std::filesystem::path& path);

// `alphalab select-models`: the request it sends (docs/cli.md) — every model of the project
// that the registry lists with `status`, backtested with the fixed parameters of `config`,
// ranked by `objective` (`direction`) among those with max_drawdown <= max_drawdown.
struct SelectModelsOptions {
  std::string project;
  std::string config;  // workspace-relative backtest config
  std::string objective = "cagr";
  std::string direction = "max";
  std::optional<double> max_drawdown;
  std::string status = "success";
  int max_inflight = 8;
  int top_n = 3;
  std::optional<std::string> holdout_start;
};
Json SelectModelsRequest(const SelectModelsOptions& o);
// The lines printed for an OptimizationReport (GET /api/v1/optimizations/{id}/report):
//   counts: models 5, succeeded 5, failed 0, passing 3
//   top 1: run 20261202_... cagr 0.0712 max_drawdown 0.1234 backtest bt_...
//   deflated sharpe: 0.41 (likely luck; 5 trials)
//   report: reports/optimizations/<id>/report.md
std::string FormatReport(const Json& report);

// Counts of a summary (`GET /api/v1/optimizations/{id}/status` -> summary).
struct SweepCounts {
  int64_t total = 0, finished = 0, failed = 0, canceled = 0, running = 0, queued = 0;
  std::optional<double> best_score;
  int64_t ended() const { return finished + failed + canceled; }
};
SweepCounts CountsOf(const Json& summary);

// A number as the CLI shows it: up to 10 significant digits, no trailing zeros.
std::string FormatNumber(double v);

// "57/100 finished, 2 failed, 0 canceled, 8 running, best 151234.5 [running]"
std::string FormatProgressLine(std::string_view status, const SweepCounts& c);
// "[##########----------]  59/100  finished 57  failed 2  best 151234.5  running", `width`
// cells of bar; ended tasks fill it.
std::string FormatProgressBar(std::string_view status, const SweepCounts& c, int width = 30);

// The Top-N table of a summary: RANK INDEX SCORE PARAMS TASK RESULT, one row per entry;
// "(no ranked task)" when top_n is empty.
std::string FormatTopN(const Json& summary, std::string_view objective_metric);

// Process exit code for a final optimization status: 0 succeeded | early-stopped, 2 failed,
// 3 canceled, 1 anything else.
int ExitCodeForStatus(std::string_view status);
inline constexpr int kExitInterrupted = 130;  // Ctrl-C: the optimization was canceled

// True for "succeeded", "failed", "early-stopped", "canceled".
bool IsTerminalSweepStatus(std::string_view status);

// True for an optimization id as the server makes them (opt_YYYYMMDD_HHMMSS__hash8).
bool IsOptimizationId(std::string_view id);

// Where the export goes: `out` when given (the user's path, relative to the current
// directory), else reports/optimizations/<id>.zip resolved inside the workspace (symlinks
// included). An id that is not an optimization id is refused.
Result<std::filesystem::path> ExportPath(const Workspace& ws, const std::optional<std::string>& out,
                                         std::string_view optimization_id);

}  // namespace alphalab::cli

// Reads the files of one run or one backtest for the detail endpoints: config (YAML parsed to
// JSON + raw text), metrics per mode, manifest, the file list; a backtest's summary, equity
// curve (optionally downsampled), drawdown series and trades. Every id is checked with
// IsSafeIdentifier and every file must lie directly inside its run/backtest folder.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/workspace.hpp"

namespace alphalab::registry {

// YAML text -> JSON (mappings, sequences, scalars typed as null/bool/int/float/string;
// quoted scalars stay strings). Invalid YAML -> InvalidArgument with the parser's message.
Result<Json> YamlToJson(const std::string& text);

// CSV with a header line (core/csv.hpp) -> {"columns": [...], "rows": [[cell, ...], ...]} where cells
// that parse fully as numbers become numbers, empty cells null.
Result<Json> ParseCsv(const std::string& text);

// Indices to keep when showing `values` with at most `points` points: always the first and
// the last, the global maximum of `values` and the global minimum of `secondary` (when
// given: the deepest drawdown), and per bucket its minimum and maximum, so peaks and troughs
// survive. Sorted, unique, size <= points (points >= 4). Returns every index when
// values.size() <= points.
std::vector<size_t> DownsampleIndices(const std::vector<double>& values, const std::vector<double>* secondary,
                                      size_t points);

// The run folder runs/<run_id>; NotFound when it does not exist, InvalidArgument for an unsafe id.
Result<std::filesystem::path> RunDir(const Workspace& ws, const std::string& run_id);
Result<std::filesystem::path> BacktestDir(const Workspace& ws, const std::string& bt_run_id);

// {run_id, run_dir, config: {path, raw, parsed, error?}, metrics: {"<mode>": {source, evaluated_at?, ...file}},
//  manifest (or null), files: [{name, size, mtime}]}
Result<Json> ReadRunFiles(const Workspace& ws, const std::string& run_id);

struct BacktestDetailOptions {
  std::optional<size_t> points;  // downsample the equity curve to at most this many points
  size_t max_trades = 100000;
};
// {bt_run_id, bt_dir, summary, statistics, equity_curve: [{date, equity, cash, holdings, drawdown}],
//  drawdown: [{date, drawdown}], equity_points_total, downsampled, trades: [...], trades_total,
//  files: [...], config: {path, raw, parsed}}
Result<Json> ReadBacktestFiles(const Workspace& ws, const std::string& bt_run_id, const BacktestDetailOptions& opt);

struct FileContent {
  std::string name;
  std::string content_type;
  std::string body;
};
// A regular file directly inside backtests/<id>/ (no sub-folders, no symlinks leaving it).
Result<FileContent> ReadBacktestFile(const Workspace& ws, const std::string& bt_run_id, const std::string& name);
// The same for runs/<id>/ (model files, metrics, eval logs, feature importance).
Result<FileContent> ReadRunFile(const Workspace& ws, const std::string& run_id, const std::string& name);

}  // namespace alphalab::registry

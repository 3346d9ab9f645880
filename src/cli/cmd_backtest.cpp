// `alphalab backtest --config configs/backtest/base.yaml [--ticker T|--tickers A,B] [--start D]
//   [--end D] [--model PATH] [--set k=v]... [--grid key=a:b:s]... [--out-jsonl FILE]
//   [--threads N] [--workspace DIR]`
// Single run: writes backtests/<bt_run_id>/, prints `bt_run_id:` / `out_dir:` and a short
// summary (CAGR, max drawdown, Sharpe, trades, final equity, invested share; one more line
// when the portfolio averaged under 50% invested).
// Grid (--grid given): evaluates every combination in this process and prints one JSON line
// per combination (or writes them to --out-jsonl). Every config problem is reported before
// any data is read.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/job_result.hpp"
#include "core/text.hpp"
#include "core/workspace.hpp"
#include "engine/backtest/job_config.hpp"
#include "engine/backtest/runner.hpp"
#include "engine/backtest/spec.hpp"

namespace alphalab::cli {
namespace {

struct BacktestOptions {
  std::string workspace = ".";
  engine::BacktestRunFlags flags;
  std::vector<std::string> grid;
  std::string out_jsonl;
  int threads = 0;
};

int Fail(const Status& s) {
  std::cerr << engine::FailureText(s) << std::flush;
  return engine::FailureExitCode(s);
}

int RunBacktestCommand(const BacktestOptions& o) {
  auto ws_result = Workspace::Open(o.workspace);
  if (!ws_result.ok()) return Fail(ws_result.status());
  const Workspace& ws = *ws_result;
  // The same preparation and outputs as a backtest job run by the optimization fast path
  // (engine/backtest/job_config.hpp).
  engine::ModelCache models(ws);
  auto run = engine::PrepareBacktest(ws, o.flags, models);
  if (!run.ok()) return Fail(run.status());
  const auto scorers = models.Factory();

  if (!o.grid.empty()) {
    std::vector<engine::GridAxis> axes;
    for (const auto& g : o.grid) {
      auto axis = engine::ParseGridAxis(g);
      if (!axis.ok()) return Fail(axis.status());
      axes.push_back(std::move(*axis));
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto cells = engine::RunGrid(ws, run->spec.config, axes, scorers, o.threads);
    if (!cells.ok()) return Fail(cells.status());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string lines;
    for (const auto& c : *cells) {
      engine::AppendGridCellJson(lines, c);
      lines += '\n';
    }
    if (o.out_jsonl.empty()) {
      std::cout << lines;
    } else {
      auto out = ws.Resolve(o.out_jsonl, PathMust::kAny);
      if (!out.ok()) return Fail(out.status().WithContext("--out-jsonl"));
      if (auto s = WriteFileAtomic(*out, lines); !s.ok()) return Fail(s);
      std::cout << "grid_results: " << ws.Relative(*out) << "\n";
    }
    std::cerr << "grid: " << cells->size() << " combinations in " << secs << " s" << std::endl;
    return 0;
  }

  const engine::BacktestSpec& spec = run->spec;
  auto context = engine::BacktestContext::Load(ws, spec);
  if (!context.ok()) return Fail(context.status());
  if (auto s = context->Prepare(spec, scorers); !s.ok()) return Fail(s);
  auto result = context->Run(spec, true);
  if (!result.ok()) return Fail(result.status());
  const auto now = SystemClock::Instance().Now();
  const std::string id = MakeTimestampedId("bt", now);
  auto out = engine::WriteSingleRun(ws, *run, *context, *result, id, now, models.RunId(spec.model_path),
                                    JobIdFromEnvironment());
  if (!out.ok()) return Fail(out.status());
  std::cout << *out << std::flush;
  return 0;
}

void SetupBacktestCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<BacktestOptions>();
  CLI::App* cmd = app.add_subcommand("backtest", "backtest a strategy from a YAML config into backtests/<bt_run_id>/");
  cmd->add_option("--config", options->flags.config, "backtest config (YAML), inside the workspace")->required();
  cmd->add_option("--ticker", options->flags.ticker, "one ticker (replaces tickers)");
  cmd->add_option("--tickers", options->flags.tickers, "comma-separated tickers (replaces tickers)");
  cmd->add_option("--start", options->flags.start, "first date YYYY-MM-DD");
  cmd->add_option("--end", options->flags.end, "last date YYYY-MM-DD");
  cmd->add_option("--model", options->flags.model,
                  "model file (sets strategy.params.model_path; sma_cross becomes signal, cutoff 0.5); dataset, "
                  "tickers and dates not given here come from the model's run (its test period)");
  cmd->add_option("--set", options->flags.overrides, "override a dotted key: --set strategy.params.fast=5 (repeatable)");
  cmd->add_option("--grid", options->grid,
                  "grid axis: key=start:stop:step | key=a,b,c (repeatable; runs every combination)");
  cmd->add_option("--out-jsonl", options->out_jsonl, "grid: write one JSON line per combination here");
  cmd->add_option("--threads", options->threads, "grid: worker threads (default: all cores)");
  cmd->add_option("--workspace", options->workspace, "workspace directory (default: .)");
  cmd->callback([options, &exit_code] { exit_code = RunBacktestCommand(*options); });
}

}  // namespace

ALPHALAB_REGISTER_COMMAND(40, SetupBacktestCommand);

}  // namespace alphalab::cli

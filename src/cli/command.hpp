// Subcommands register themselves: each cmd_*.cpp adds one (or a few) CLI11 subcommands.
// Wiring (choosing SQLite vs PostgreSQL, local vs Slurm) happens only in cli/.
#pragma once

#include <CLI/CLI.hpp>

namespace alphalab::cli {

// Adds subcommands to `app`; a subcommand's callback stores its process exit code
// in `exit_code` (0 = success). Errors are printed to stderr as one clear line.
using CommandSetup = void (*)(CLI::App& app, int& exit_code);

struct CommandRegistrar {
  CommandRegistrar(int order, CommandSetup setup);
};

#define ALPHALAB_CONCAT2_(a, b) a##b
#define ALPHALAB_CONCAT_(a, b) ALPHALAB_CONCAT2_(a, b)
// ALPHALAB_REGISTER_COMMAND(30, SetupTrainCommand); order sets the position in --help.
#define ALPHALAB_REGISTER_COMMAND(order, setup) \
  static const ::alphalab::cli::CommandRegistrar ALPHALAB_CONCAT_(kRegistrar_, __LINE__)(order, setup)

}  // namespace alphalab::cli

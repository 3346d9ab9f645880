// Running Slurm's client commands (sbatch, squeue, scancel, scontrol) without a shell: argv
// through posix_spawnp, stdin from /dev/null (or a given text), stdout and stderr captured,
// and a deadline on every call (the command is killed when it passes), so a hung slurmctld is
// a clear error, never a hang of the server.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace alphalab {

struct CommandOutput {
  int exit_code = 0;  // 128 + signal when a signal ended it
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) with the server's environment plus `env`. An error Status
// when it cannot be started or did not finish within `timeout` (then it was killed); otherwise
// the output whatever the exit code.
Result<CommandOutput> RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                 const std::map<std::string, std::string>& env = {});

// "sbatch ... exited with code 1: <stderr>" for an error message.
std::string DescribeFailure(const std::vector<std::string>& argv, const CommandOutput& out);

}  // namespace alphalab

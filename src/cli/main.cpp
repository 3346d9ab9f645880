// alphalab: one binary for the server, the client and the research engine.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/command.hpp"

namespace alphalab::cli {
namespace {
std::vector<std::pair<int, CommandSetup>>& Registry() {
  static std::vector<std::pair<int, CommandSetup>> commands;
  return commands;
}
}  // namespace

CommandRegistrar::CommandRegistrar(int order, CommandSetup setup) {
  Registry().emplace_back(order, setup);
}

namespace {
// Commands that run XGBoost's OpenMP loops (training, model evaluation) or start jobs that do.
bool RunsOpenMp(int argc, char** argv) {
  if (argc < 2) return false;
  const std::string_view command = argv[1];
  return command == "train" || command == "eval-metrics" || command == "serve";
}
}  // namespace

// OpenMP reads OMP_WAIT_POLICY once, when its runtime is loaded, and by default its idle
// workers spin for a while after every parallel loop: with jobs sharing the cores that spinning
// takes the cores from the other jobs (docs/job_states.md, "Threads of a job"). The runtime is
// loaded with XGBoost, on the first training (engine/model/xgb.cpp binds it at run time), so
// these commands set the variable to passive here, when it is unset, and the runtime starts
// with it; the server's jobs inherit it. Set the variable to keep another policy.
void EnsurePassiveOpenMp(int argc, char** argv) {
  if (!RunsOpenMp(argc, argv) || std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 0);
}
}  // namespace alphalab::cli

int main(int argc, char** argv) {
  alphalab::cli::EnsurePassiveOpenMp(argc, argv);
  CLI::App app{"alphalab — research job platform: server, client and engine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "alphalab 0.1.0");
  int exit_code = 0;
  auto commands = alphalab::cli::Registry();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [order, setup] : commands) setup(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

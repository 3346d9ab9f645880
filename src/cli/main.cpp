// alphalab: one binary for the server, the client and the research engine.
#include <algorithm>
#include <cstdio>
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
}  // namespace alphalab::cli

int main(int argc, char** argv) {
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

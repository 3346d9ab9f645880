// `alphalab index --workspace DIR [--db sqlite:PATH] [--json]`: indexes every run in runs/
// and every backtest in backtests/ into the workspace database and writes
// reports/registry/models.csv + models.json. Prints counts and one line per problem
// (which directory, which file, what is wrong). Exit 0 when the pass completed (problems in
// single directories included), 2 when the workspace or database is unusable.
#include <yaml-cpp/yaml.h>

#include <cstdio>

#include "cli/command.hpp"
#include "core/clock.hpp"
#include "core/workspace.hpp"
#include "registry/registry_service.hpp"

namespace alphalab::cli {

namespace {

struct IndexFlags {
  std::string workspace = ".";
  std::string db;
  bool json = false;
};

// storage.db from alphalab.yaml, else the default sqlite:alphalab.db.
Result<std::string> DbUrlFor(const Workspace& ws, const std::string& flag) {
  if (!flag.empty()) return flag;
  std::error_code ec;
  if (!std::filesystem::exists(ws.ConfigFile(), ec)) return std::string("sqlite:alphalab.db");
  try {
    YAML::Node root = YAML::LoadFile(ws.ConfigFile().string());
    if (root["storage"] && root["storage"]["db"]) return root["storage"]["db"].as<std::string>();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("alphalab.yaml: ") + e.what());
  }
  return std::string("sqlite:alphalab.db");
}

int RunIndex(const IndexFlags& flags) {
  auto ws = Workspace::Open(flags.workspace);
  if (!ws.ok()) {
    std::fprintf(stderr, "alphalab index: %s\n", ws.status().ToString().c_str());
    return 2;
  }
  auto url = DbUrlFor(*ws, flags.db);
  if (!url.ok()) {
    std::fprintf(stderr, "alphalab index: %s\n", url.status().ToString().c_str());
    return 2;
  }
  auto bundle = registry::OpenRegistry(*ws, *url, /*jobs=*/nullptr, SystemClock::Instance());
  if (!bundle.ok()) {
    std::fprintf(stderr, "alphalab index: %s\n", bundle.status().ToString().c_str());
    return 2;
  }
  auto report = (*bundle)->service->IndexAll();
  if (!report.ok()) {
    std::fprintf(stderr, "alphalab index: %s\n", report.status().ToString().c_str());
    return 2;
  }
  if (flags.json) {
    std::printf("%s\n", DumpJson(report->ToJson(), 2).c_str());
    return 0;
  }
  std::printf("indexed %lld runs (%lld registry rows), %lld backtests in %.2f s\n",
              static_cast<long long>(report->runs_indexed), static_cast<long long>(report->rows_indexed),
              static_cast<long long>(report->backtests_indexed), report->seconds);
  if (report->runs_removed + report->backtests_removed > 0) {
    std::printf("removed %lld runs and %lld backtests whose folders are gone\n",
                static_cast<long long>(report->runs_removed), static_cast<long long>(report->backtests_removed));
  }
  std::printf("exported reports/registry/models.csv and reports/registry/models.json\n");
  if (!report->problems.empty()) {
    std::printf("%zu problem(s):\n", report->problems.size());
    for (const auto& p : report->problems) {
      std::printf("  %s %s: %s: %s\n", p.kind.c_str(), p.id.c_str(), p.file.c_str(), p.message.c_str());
    }
  }
  return 0;
}

void SetupIndexCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<IndexFlags>();
  CLI::App* cmd = app.add_subcommand("index", "Index runs/ and backtests/ into the registry and export reports/registry/");
  cmd->add_option("--workspace,-w", flags->workspace, "workspace directory")->capture_default_str();
  cmd->add_option("--db", flags->db, "database URL (default: alphalab.yaml storage.db, else sqlite:alphalab.db)");
  cmd->add_flag("--json", flags->json, "print the report as JSON");
  cmd->callback([flags, &exit_code] { exit_code = RunIndex(*flags); });
}

}  // namespace

ALPHALAB_REGISTER_COMMAND(60, SetupIndexCommand);

}  // namespace alphalab::cli

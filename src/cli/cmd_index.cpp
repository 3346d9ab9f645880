// `alphalab index --workspace DIR [--db sqlite:PATH] [--json]`: indexes every run in runs/
// and every backtest in backtests/ into the workspace database and writes
// reports/registry/models.csv + models.json. Prints counts and one line per problem
// (which directory, which file, what is wrong). Exit 0 when the pass completed (problems in
// single directories included), 2 when the workspace or database is unusable.
#include <cstdio>
#include <optional>
#include <string>

#include "app/composition_root.hpp"
#include "cli/command.hpp"
#include "core/clock.hpp"
#include "core/workspace.hpp"
#include "registry/registry_service.hpp"

namespace alphalab::cli {

namespace {

struct IndexFlags {
  std::string workspace = ".";
  std::string db;  // empty = alphalab.yaml storage.db
  bool json = false;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "alphalab index: %s\n", s.ToString().c_str());
  return 2;
}

int RunIndex(const IndexFlags& flags) {
  auto ws = Workspace::Open(flags.workspace);
  if (!ws.ok()) return Fail(ws.status());
  auto config = LoadWorkspaceConfig(*ws);
  if (!config.ok()) return Fail(config.status());
  auto url = app::ChooseDbUrl(*config, flags.db.empty() ? std::nullopt : std::optional<std::string>(flags.db));
  if (!url.ok()) return Fail(url.status());
  auto stores = app::Stores::Open(*ws, *url);
  if (!stores.ok()) return Fail(stores.status());
  RegistryService registry(*ws, (*stores)->registry(), /*jobs=*/nullptr, SystemClock::Instance());
  auto report = registry.IndexAll();
  if (!report.ok()) return Fail(report.status());
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

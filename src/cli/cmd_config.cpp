// `alphalab config check [--workspace DIR]`: parses the workspace's alphalab.yaml exactly as
// `serve` does (the typed WorkspaceConfig, the job catalog's checks of job_types, the roots) and
// prints "OK: ..." (exit 0) or the one error naming file, line and key (exit 1).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "config/workspace_config.hpp"
#include "core/roots.hpp"
#include "core/workspace.hpp"
#include "jobs/job_catalog.hpp"

namespace alphalab::cli {
namespace {

Status CheckWorkspaceConfig(const std::string& dir, std::string& summary) {
  ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(dir));
  ASSIGN_OR_RETURN(WorkspaceConfig config, LoadWorkspaceConfig(ws));
  JobCatalog catalog(ws, "alphalab");
  RETURN_IF_ERROR(catalog.AddUserTypes(config));
  // roots: must exist, as serve requires (docs/configs.md).
  std::vector<RootSpec> roots;
  for (const RootDecl& r : config.roots) roots.push_back(RootSpec{r.name, r.path, r.line});
  RETURN_IF_ERROR(ConfinedRoots::Resolve(ws.root(), roots, config.file).status());
  std::error_code ec;
  if (!std::filesystem::exists(ws.ConfigFile(), ec)) {
    summary = "no " + ws.ConfigFile().string() + " (every setting has its default)";
    return Status::Ok();
  }
  summary = ws.ConfigFile().string() + " (" + std::to_string(config.datasets.size()) + " datasets, " +
            std::to_string(config.job_types.size()) + " job types, database " + config.storage.db.text + ")";
  return Status::Ok();
}

void SetupConfigCommands(CLI::App& app, int& exit_code) {
  auto workspace = std::make_shared<std::string>(".");
  CLI::App* config = app.add_subcommand("config", "Workspace configuration (alphalab.yaml)");
  config->require_subcommand(1);
  CLI::App* check = config->add_subcommand("check", "Validate alphalab.yaml as the server would; exit 1 on error");
  check->add_option("--workspace,-w", *workspace, "workspace directory")->capture_default_str();
  check->callback([workspace, &exit_code] {
    std::string summary;
    const Status s = CheckWorkspaceConfig(*workspace, summary);
    if (!s.ok()) {
      std::fprintf(stderr, "alphalab config check: %s\n", s.message().c_str());
      exit_code = 1;
      return;
    }
    std::printf("OK: %s\n", summary.c_str());
  });
}

}  // namespace
ALPHALAB_REGISTER_COMMAND(70, SetupConfigCommands);
}  // namespace alphalab::cli

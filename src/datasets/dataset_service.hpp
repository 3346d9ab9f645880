// The datasets of a workspace (docs/datasets.md), behind /api/datasets and the
// /api/rdagent/datasets views:
//   - declared in alphalab.yaml `datasets:`: listed, read-only (no delete);
//   - created through the API: one file datasets/<name>.yaml each (config/workspace_config.hpp
//     kApiDatasetsDir), read by LoadWorkspaceConfig like alphalab.yaml's, so the engine's
//     `dataset: <name>` resolves them with the same code; an instruments upload also writes
//     datasets/<name>.instruments.txt (the symbols, one per line);
//   - the default: datasets/default.txt (a name) when set through the API, else the first
//     dataset declared with `default: true`.
// Every write is validated first (400 naming the field, nothing written) and atomic (a temporary
// file renamed into place). A delete is refused (409) while a QUEUED or RUNNING job uses the
// dataset: its params name it as `dataset`, in `dataset_ids`, in a `dataset=<name>` override, or
// its `config_path` file says `dataset: <name>`.
#pragma once

#include <mutex>
#include <string>

#include "core/json.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"

namespace alphalab {
class JobService;
}

namespace alphalab::datasets {

inline constexpr size_t kMaxInstrumentsBytes = 1 << 20;

class DatasetService {
 public:
  // `jobs` (may be null: nothing is ever in use) answers the in-use check.
  DatasetService(const Workspace& ws, JobService* jobs);

  // {items: [{name, format, path, instruments_file, description, default, readonly, source}],
  //  default: name | null}
  Result<Json> List() const;
  // Body {name, format, path | provider_uri, instruments_file?, description?, default?}:
  // the folder must exist in the workspace and pass the layout check; the instruments file's
  // symbols must be in the data. Returns the dataset and its validation report.
  Result<Json> Create(const Json& body);
  // Body {name, dataset, content, description?, default?}: `content` is a text of symbols, one
  // per line (Qlib's "SYMBOL<TAB>start<TAB>end" too, '#' comments); a new dataset `name` over
  // `dataset`'s data restricted to them. Each bad or unknown symbol is reported with its line
  // (400, details.problems [{line, symbol, problem}]), nothing written.
  Result<Json> UploadInstruments(const Json& body);
  Result<Json> SetDefault(const std::string& name);
  // API-created datasets only (alphalab.yaml's: 409); 409 naming the jobs while one uses it.
  Result<Json> Delete(const std::string& name);
  // The layout report of a dataset (datasets/qlib_layout.hpp).
  Result<Json> Validate(const std::string& name) const;

 private:
  Result<Json> DatasetJson(const std::string& name) const;
  Status WriteAtomically(const std::filesystem::path& path, const std::string& content) const;
  std::string DefaultName() const;

  const Workspace& ws_;
  JobService* jobs_;
  mutable std::mutex mu_;  // one writer at a time (create, upload, default, delete)
};

}  // namespace alphalab::datasets

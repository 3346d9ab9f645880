// Named datasets: resolved through the workspace's alphalab.yaml `datasets:` section
// (fallback data/<name>/), loaded from CSV (one file per instrument) or a Qlib directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "core/workspace.hpp"
#include "engine/data/bars.hpp"

namespace alphalab {
struct WorkspaceConfig;
}

namespace alphalab::engine {

struct DatasetRef {
  std::string name;
  std::string format;           // "csv" | "qlib"
  std::filesystem::path path;   // absolute, inside the workspace
  // The symbols the dataset is restricted to (its `instruments_file`, upper-cased, in file
  // order); empty = every instrument at `path`.
  std::vector<std::string> only;
};

// The symbols of an instruments file: one per line, the first field of a tab- or
// space-separated line (Qlib's "SYMBOL<TAB>start<TAB>end"), '#' comments and blank lines skipped,
// upper-cased, duplicates dropped.
std::vector<std::string> ParseInstrumentsText(std::string_view text);

// Looks `name` up in the workspace config's `datasets: {name: {format, path, instruments_file}}`
// (alphalab.yaml, then the API's datasets/<name>.yaml files) (read through
// LoadWorkspaceConfig: a broken alphalab.yaml is that error); when the config does not declare it, data/<name>/ is used if it exists (format guessed: a
// calendars/ folder means qlib). NotFound lists the datasets that exist.
Result<DatasetRef> ResolveDataset(const Workspace& ws, std::string_view name);

// The folder a dataset `path` (a Qlib `provider_uri`) names: a path inside the workspace
// (relative to it, or absolute), or an absolute path inside one of the roots `config` declares
// under `roots:` (an RD-Agent checkout's Qlib data), confined like the config center's files:
// symlinks resolved, '..' never leads out. NotFound when it does not exist, InvalidArgument when it
// lies outside every root (the message lists the roots).
Result<std::filesystem::path> ResolveDatasetDir(const Workspace& ws, const WorkspaceConfig& config,
                                                std::string_view path_text);

// How a dataset folder is written into a datasets/<name>.yaml: workspace-relative when inside
// the workspace, else absolute (inside a declared root).
std::string DatasetPathText(const Workspace& ws, const std::filesystem::path& dir);

// Every instrument the dataset holds (CSV: file stems; Qlib: instruments/all.txt or the
// union of instruments/*.txt, upper-cased), sorted.
Result<std::vector<std::string>> ListSymbols(const DatasetRef& ds);

// Loads the named instruments (empty = all), optionally clipped to [start, end], and
// validates everything (sorted unique dates, positive prices, high >= low, ...). An
// unknown ticker is NotFound naming what exists. Errors name the file and line.
Result<Universe> LoadUniverse(const Workspace& ws, const DatasetRef& ds,
                              const std::vector<std::string>& symbols,
                              std::optional<int32_t> start = std::nullopt,
                              std::optional<int32_t> end = std::nullopt);

// One line per problem found in the whole dataset (empty = OK). Does not stop at the first.
// Files are named workspace-relative ("data/demo/SPX.csv:4: ...").
Result<std::vector<std::string>> ValidateDataset(const Workspace& ws, const DatasetRef& ds);

}  // namespace alphalab::engine

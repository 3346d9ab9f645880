// The roots alphalab may read and write beneath: the workspace, and the extra folders declared
// under `roots:` in alphalab.yaml (an RD-Agent checkout, a Qlib data folder). Each is resolved
// once at start (made absolute against the workspace, symlinks resolved, must be an existing
// folder); every file opened through one afterwards goes through core/confined_open.hpp, so no
// path or symlink leads outside the root it was named under.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace alphalab {

struct RootSpec {
  std::string name;  // "rdagent"; "workspace" is reserved for the workspace itself
  std::string path;  // absolute, or relative to the workspace, as written
  int line = 0;      // in `config_file`, for errors
};

class ConfinedRoots {
 public:
  ConfinedRoots() = default;
  // Resolves every spec; a root that does not exist or is not a folder is one InvalidArgument
  // "<config_file>:<line>: roots.<name>: ..." (details {file, line, key}).
  static Result<ConfinedRoots> Resolve(const std::filesystem::path& workspace_root, const std::vector<RootSpec>& specs,
                                       std::string_view config_file = "alphalab.yaml");

  // The canonical folder of a root ("workspace" or "" = the workspace); NotFound otherwise.
  Result<std::filesystem::path> Find(std::string_view name) const;

  // Reads / replaces / creates a file beneath a named root (core/confined_open.hpp).
  Result<std::string> Read(std::string_view root, const std::filesystem::path& rel, size_t max_bytes = size_t{64} << 20) const;
  Status WriteAtomic(std::string_view root, const std::filesystem::path& rel, std::string_view content) const;
  Status WriteNew(std::string_view root, const std::filesystem::path& rel, std::string_view content) const;

  const std::filesystem::path& workspace() const { return workspace_; }

  // The root a path lies in (absolute; or relative = the workspace), symlinks on the way
  // resolved, with the path relative to that root; nullopt when it is in none of them.
  struct Located {
    std::string root;
    std::filesystem::path relative;
  };
  std::optional<Located> Locate(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string name;
    std::filesystem::path path;
  };
  std::filesystem::path workspace_;
  std::vector<Entry> roots_;
};

}  // namespace alphalab

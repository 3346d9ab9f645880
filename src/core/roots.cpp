#include "core/roots.hpp"

#include "core/confined_open.hpp"
#include "core/json.hpp"

namespace alphalab {

namespace fs = std::filesystem;

namespace {

Status RootError(std::string_view file, int line, const std::string& name, const std::string& message) {
  std::string where(file);
  if (line > 0) where += ":" + std::to_string(line);
  const std::string key = "roots." + name;
  return Status::InvalidArgument(where + ": " + key + ": " + message,
                                 Json{{"file", std::string(file)}, {"line", line}, {"key", key}});
}

}  // namespace

Result<ConfinedRoots> ConfinedRoots::Resolve(const fs::path& workspace_root, const std::vector<RootSpec>& specs,
                                             std::string_view config_file) {
  ConfinedRoots out;
  std::error_code ec;
  out.workspace_ = fs::canonical(workspace_root, ec);
  if (ec) return Status::InvalidArgument("workspace '" + workspace_root.string() + "': " + ec.message());
  for (const RootSpec& spec : specs) {
    if (spec.name.empty() || spec.name == "workspace") {
      return RootError(config_file, spec.line, spec.name, "the name 'workspace' is reserved");
    }
    for (const Entry& e : out.roots_) {
      if (e.name == spec.name) return RootError(config_file, spec.line, spec.name, "declared twice");
    }
    fs::path p(spec.path);
    if (p.is_relative()) p = out.workspace_ / p;
    // Resolved once: a root that is itself a symlink is followed here, and every later access
    // is confined beneath what it pointed to at start.
    const fs::path canon = fs::canonical(p, ec);
    if (ec) return RootError(config_file, spec.line, spec.name, "'" + spec.path + "' does not exist (" + ec.message() + ")");
    if (!fs::is_directory(canon, ec)) return RootError(config_file, spec.line, spec.name, "'" + spec.path + "' is not a folder");
    out.roots_.push_back(Entry{spec.name, canon});
  }
  return out;
}

Result<fs::path> ConfinedRoots::Find(std::string_view name) const {
  if (name.empty() || name == "workspace") return workspace_;
  for (const Entry& e : roots_) {
    if (e.name == name) return e.path;
  }
  return Status::NotFound("root '" + std::string(name.substr(0, 64)) + "' is not declared under roots:");
}

Result<std::string> ConfinedRoots::Read(std::string_view root, const fs::path& rel, size_t max_bytes) const {
  ASSIGN_OR_RETURN(fs::path base, Find(root));
  return ReadFileConfined(base, rel, max_bytes);
}

Status ConfinedRoots::WriteAtomic(std::string_view root, const fs::path& rel, std::string_view content) const {
  ASSIGN_OR_RETURN(fs::path base, Find(root));
  return WriteFileAtomicConfined(base, rel, content);
}

Status ConfinedRoots::WriteNew(std::string_view root, const fs::path& rel, std::string_view content) const {
  ASSIGN_OR_RETURN(fs::path base, Find(root));
  return WriteNewFileConfined(base, rel, content);
}

std::optional<ConfinedRoots::Located> ConfinedRoots::Locate(const fs::path& path) const {
  std::error_code ec;
  const fs::path abs = path.is_absolute() ? path : workspace_ / path;
  const fs::path real = fs::weakly_canonical(abs, ec);
  if (ec) return std::nullopt;
  auto inside = [&](const fs::path& base) -> std::optional<fs::path> {
    const fs::path rel = real.lexically_relative(base);
    if (rel.empty()) return std::nullopt;
    const std::string s = rel.generic_string();
    if (s == ".." || s.rfind("../", 0) == 0) return std::nullopt;
    return rel;
  };
  // The most specific root first (a root may lie inside the workspace).
  std::optional<Located> best;
  size_t best_len = 0;
  for (const Entry& e : roots_) {
    if (auto rel = inside(e.path); rel && e.path.string().size() >= best_len) {
      best = Located{e.name, *rel};
      best_len = e.path.string().size();
    }
  }
  if (best) return best;
  if (auto rel = inside(workspace_)) return Located{"workspace", *rel};
  return std::nullopt;
}

}  // namespace alphalab

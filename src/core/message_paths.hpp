// Messages users see (job error messages, CLI errors) carry workspace-relative paths, never the
// server's absolute ones.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace alphalab {

// `message` with every absolute path inside `root` made relative ("<root>/runs/x" -> "runs/x",
// "<root>" alone -> "."); a folder that only starts like the root ("<root>2/x") is left alone.
// `root` is absolute and normalized (Workspace::root()). Implemented in core/workspace.cpp.
std::string WithoutRoot(std::string_view message, const std::filesystem::path& root);

}  // namespace alphalab

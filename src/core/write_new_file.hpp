#pragma once

#include <filesystem>
#include <string_view>

namespace alphalab {

// Writes a file whole in place: open (create/truncate), one write (looped only on a short
// write), close. Not atomic: for files whose completeness is marked elsewhere (a backtest
// folder's summary.json, a job's meta). 0 on success, else the errno of the failing call (the
// caller words the message). Defined in core/workspace.cpp.
int WriteNewFile(const std::filesystem::path& path, std::string_view content);

// The same for `name` inside the open folder `dir_fd` (openat: no path walk from the root), with
// O_NOFOLLOW: a symlink planted at `name` is refused (ELOOP), never written through.
int WriteNewFileAt(int dir_fd, const char* name, std::string_view content);

}  // namespace alphalab

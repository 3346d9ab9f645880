#pragma once

#include <filesystem>
#include <string_view>

namespace alphalab {

// Writes a file whole in place: open (create/truncate), one write (looped only on a short
// write), close. Not atomic: for files whose completeness is marked elsewhere (a backtest
// folder's summary.json, a job's meta). 0 on success, else the errno of the failing call (the
// caller words the message). Defined in core/workspace.cpp.
int WriteNewFile(const std::filesystem::path& path, std::string_view content);

}  // namespace alphalab

// The export archive: a zip built in memory (libzip) from named byte strings. The pure
// content builders are in optimize/export.hpp; ExportEntries assembles them.
#pragma once

#include <string>
#include <vector>

#include "core/status.hpp"
#include "optimize/export.hpp"

namespace alphalab::optimize {

struct ZipEntry {
  std::string name;  // relative path inside the archive ("manifest.jsonl", "artifacts/bt_1/summary.json")
  std::string data;
};

// manifest.jsonl, top_n.json and report.md of `input`.
std::vector<ZipEntry> ExportEntries(const ExportInput& input);

// A deflated zip of the entries, in order. Entry times are fixed (1980-01-01), so the same
// entries give the same bytes. No entries, or a name that is empty, absolute, has a ".." or empty segment,
// a backslash, or repeats an earlier name is InvalidArgument; a libzip failure is Internal.
Result<std::string> BuildZip(const std::vector<ZipEntry>& entries);

// Reads a zip back (for tests and checks): the entries in archive order.
Result<std::vector<ZipEntry>> ReadZip(const std::string& bytes);

}  // namespace alphalab::optimize

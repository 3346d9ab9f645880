// Progress of an external research agent's job, read from what it prints and writes
// (docs/rdagent.md "Progress and results"):
//   - loop progress from RD-Agent's loop log lines (rdagent/utils/workflow/loop.py, LoopBase):
//     "... - Start Loop {li}, Step {si}: {step name}", as they appear in the job's log;
//   - per-loop metrics from every qlib_res.csv the run left under its work folder other than
//     the final one at its top (RD-Agent's per-experiment workspaces; the stand-in's
//     RD-Agent_workspace/loop_<i>/), parsed by the named qlib_res parser, oldest first.
// Pure or read-only; never writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "jobs/result_parsers.hpp"

namespace alphalab {

struct LoopProgress {
  int loops_started = 0;          // highest loop index seen + 1
  std::optional<int> loop;        // the latest "Start Loop" line: its loop index
  std::optional<int> step;        // its step index
  std::string step_name;          // its step name ("direct_exp_gen", "coding", "running", ...)
  int64_t step_lines = 0;         // "Start Loop" lines seen
};

LoopProgress ParseLoopProgress(std::string_view log_text);

struct LoopResult {
  std::string path;  // relative to the work folder
  ParsedResult parsed;
};

// qlib_res.csv files below `work_dir` (not the one directly in it), oldest first; a file that
// does not parse is skipped. At most `max_files` (the newest ones).
std::vector<LoopResult> ReadLoopResults(const std::filesystem::path& work_dir, size_t max_files = 200);

Json LoopProgressJson(const LoopProgress& p);

}  // namespace alphalab

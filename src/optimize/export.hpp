// Export content, built only from stored task records (nothing is re-run):
//   manifest.jsonl  one JSON object per task, in index order:
//                   {task_id, index, params, status, score, reason, result_summary_id, result_paths}
//   top_n.json      the Top-N rows: {rank, task_id, index, score, params, metrics,
//                   result_summary_id, result_paths}
//   report.md       totals, success/failure counts, ranked/unranked counts and the Top 3.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "optimize/objective.hpp"
#include "optimize/summary.hpp"

namespace alphalab::optimize {

struct TaskRecord {
  std::string task_id;
  int64_t index = 0;
  Json params = Json::object();
  TaskState status = TaskState::kQueued;
  std::optional<double> score;  // set iff ranked
  std::string reason;           // why a finished task is not ranked
  std::map<std::string, double> metrics;
  std::string result_summary_id;
  std::vector<std::string> result_paths;  // artifact references (workspace-relative)
};

struct ExportInput {
  std::string optimization_id;
  std::string name;
  std::string status;       // optimization state wire name
  std::string stop_reason;  // "patience" / "target" for early-stopped, else empty
  Objective objective;
  std::vector<std::string> constraints;
  Summary summary;
  std::vector<TaskRecord> tasks;
};

std::string BuildManifestJsonl(const std::vector<TaskRecord>& tasks);
Json BuildTopNJson(const ExportInput& input);
std::string BuildReportMarkdown(const ExportInput& input);

}  // namespace alphalab::optimize

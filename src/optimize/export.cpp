#include "optimize/export.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <system_error>
#include <unordered_map>

namespace alphalab::optimize {

namespace {

std::string Num(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

// A table cell: '|' escaped, newlines flattened.
std::string Cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string ParamsText(const Json& params) {
  std::string out;
  if (!params.is_object()) return DumpJson(params);
  for (const auto& [k, v] : params.items()) {
    if (!out.empty()) out += ", ";
    out += k + "=" + DumpJson(v);
  }
  return out;
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

}  // namespace

std::string BuildManifestJsonl(const std::vector<TaskRecord>& tasks) {
  std::vector<const TaskRecord*> sorted;
  sorted.reserve(tasks.size());
  for (const auto& t : tasks) sorted.push_back(&t);
  std::stable_sort(sorted.begin(), sorted.end(), [](const TaskRecord* a, const TaskRecord* b) { return a->index < b->index; });
  std::string out;
  for (const TaskRecord* t : sorted) {
    Json line{{"task_id", t->task_id},
              {"index", t->index},
              {"params", t->params},
              {"status", std::string(TaskStateName(t->status))},
              {"score", t->score ? Json(*t->score) : Json(nullptr)},
              {"reason", t->reason.empty() ? Json(nullptr) : Json(t->reason)},
              {"result_summary_id", t->result_summary_id.empty() ? Json(nullptr) : Json(t->result_summary_id)},
              {"result_paths", t->result_paths}};
    out += DumpJson(line);
    out += '\n';
  }
  return out;
}

Json BuildTopNJson(const ExportInput& input) {
  std::unordered_map<std::string, const TaskRecord*> by_id;
  for (const auto& t : input.tasks) by_id.emplace(t.task_id, &t);
  Json rows = Json::array();
  int rank = 0;
  for (const auto& e : input.summary.top_n) {
    ++rank;
    Json row{{"rank", rank},
             {"task_id", e.task_id},
             {"index", e.index},
             {"score", e.score},
             {"params", e.params},
             {"result_summary_id", e.result_summary_id},
             {"metrics", Json::object()},
             {"result_paths", Json::array()}};
    if (auto it = by_id.find(e.task_id); it != by_id.end()) {
      row["metrics"] = Json(it->second->metrics);
      row["result_paths"] = it->second->result_paths;
    }
    rows.push_back(std::move(row));
  }
  return Json{{"optimization_id", input.optimization_id},
              {"objective", Json{{"metric", input.objective.metric},
                                 {"direction", std::string(DirectionName(input.objective.direction))}}},
              {"top_n", std::move(rows)}};
}

std::string BuildReportMarkdown(const ExportInput& input) {
  const Summary& s = input.summary;
  int64_t ranked = 0;
  int64_t unranked = 0;
  for (const auto& t : input.tasks) {
    if (t.status != TaskState::kSucceeded) continue;
    (t.score ? ranked : unranked) += 1;
  }
  std::string md;
  md += "# Optimization report: " + (input.name.empty() ? input.optimization_id : input.name) + "\n\n";
  md += "- id: `" + input.optimization_id + "`\n";
  md += "- status: " + input.status;
  if (!input.stop_reason.empty()) md += " (" + input.stop_reason + ")";
  md += "\n";
  md += "- objective: " + std::string(DirectionName(input.objective.direction)) + " `" + input.objective.metric + "`\n";
  md += "- constraints: ";
  if (input.constraints.empty()) {
    md += "none";
  } else {
    for (size_t i = 0; i < input.constraints.size(); ++i) md += (i ? ", `" : "`") + input.constraints[i] + "`";
  }
  md += "\n\n## Totals\n\n";
  md += "| total | finished | failed | canceled | running | queued |\n|---|---|---|---|---|---|\n";
  md += "| " + std::to_string(s.total) + " | " + std::to_string(s.finished) + " | " + std::to_string(s.failed) + " | " +
        std::to_string(s.canceled) + " | " + std::to_string(s.running) + " | " + std::to_string(s.queued) + " |\n\n";
  const int64_t ended = s.finished + s.failed;
  md += "- succeeded: " + std::to_string(s.finished) + ", failed: " + std::to_string(s.failed) +
        " (success rate " + Percent(s.finished, ended) + " of " + std::to_string(ended) + " ended tasks)\n";
  md += "- ranked: " + std::to_string(ranked) + ", finished but not ranked (constraint or missing metric): " +
        std::to_string(unranked) + "\n";
  md += "- best score: " + (s.best_score ? Num(*s.best_score) : std::string("none")) + "\n\n";
  md += "## Top 3\n\n";
  if (s.top_n.empty()) {
    md += "No ranked task.\n";
    return md;
  }
  md += "| rank | task | index | score | params |\n|---|---|---|---|---|\n";
  for (size_t i = 0; i < s.top_n.size() && i < 3; ++i) {
    const auto& e = s.top_n[i];
    md += "| " + std::to_string(i + 1) + " | " + Cell(e.task_id) + " | " + std::to_string(e.index) + " | " +
          Num(e.score) + " | " + Cell(ParamsText(e.params)) + " |\n";
  }
  return md;
}

}  // namespace alphalab::optimize

// Export content: manifest lines per task in index order, Top-N rows with metrics and
// artifact references, and the Markdown report's totals, counts and Top 3.
#include "optimize/export.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

struct Fixture {
  ExportInput input;

  Fixture() {
    SummaryTracker tracker(Direction::kMax, 10);
    // index: score (nullopt = unranked), state
    struct Row {
      int index;
      TaskState state;
      std::optional<double> score;
      const char* reason;
    };
    const Row rows[] = {{0, TaskState::kSucceeded, 110.0, ""},
                        {1, TaskState::kSucceeded, std::nullopt, "constraint 'max_drawdown <= 0.35' violated (max_drawdown = 0.5)"},
                        {2, TaskState::kFailed, std::nullopt, ""},
                        {3, TaskState::kSucceeded, 130.0, ""},
                        {4, TaskState::kSucceeded, 120.0, ""},
                        {5, TaskState::kSucceeded, 130.0, ""},
                        {6, TaskState::kCanceled, std::nullopt, ""}};
    for (const auto& r : rows) {
      TaskRecord t;
      t.task_id = "job_" + std::to_string(r.index);
      t.index = r.index;
      t.params = Json{{"strategy.params.fast", 5 * (r.index + 1)}, {"strategy.params.slow", 50}};
      t.status = r.state;
      t.score = r.score;
      t.reason = r.reason;
      if (r.state == TaskState::kSucceeded) {
        t.metrics = {{"final_equity", r.score.value_or(90.0)}, {"max_drawdown", r.score ? 0.2 : 0.5}};
        t.result_summary_id = "bt_" + std::to_string(r.index);
        t.result_paths = {"backtests/bt_" + std::to_string(r.index) + "/summary.json"};
      }
      EXPECT_TRUE(tracker.AddTask(t.task_id, t.index, t.params).ok());
      if (r.state != TaskState::kCanceled) {
        EXPECT_TRUE(tracker.Started(t.task_id).ok());
      }
      if (r.state == TaskState::kSucceeded) {
        EXPECT_TRUE(tracker.Succeeded(t.task_id, r.score, t.result_summary_id).ok());
      }
      if (r.state == TaskState::kFailed) {
        EXPECT_TRUE(tracker.Failed(t.task_id).ok());
      }
      if (r.state == TaskState::kCanceled) {
        EXPECT_TRUE(tracker.Canceled(t.task_id).ok());
      }
      input.tasks.push_back(std::move(t));
    }
    std::swap(input.tasks[0], input.tasks[5]);  // records arrive in any order
    input.optimization_id = "opt_20261201_101010__0a1b2c3d";
    input.name = "sma sweep";
    input.status = "succeeded";
    input.objective = Objective{"final_equity", Direction::kMax};
    input.constraints = {"max_drawdown <= 0.35"};
    input.summary = tracker.Snapshot();
  }
};

std::vector<Json> Lines(const std::string& jsonl) {
  std::vector<Json> out;
  std::istringstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) out.push_back(Json::parse(line));
  return out;
}

TEST(ExportTest, ManifestHasOneLinePerTaskInIndexOrder) {
  Fixture f;
  const std::string jsonl = BuildManifestJsonl(f.input.tasks);
  ASSERT_FALSE(jsonl.empty());
  EXPECT_EQ(jsonl.back(), '\n');
  auto lines = Lines(jsonl);
  ASSERT_EQ(lines.size(), f.input.tasks.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["index"], static_cast<int64_t>(i));
    EXPECT_EQ(lines[i]["task_id"], "job_" + std::to_string(i));
    for (const char* key : {"task_id", "index", "params", "status", "score", "reason", "result_summary_id", "result_paths"}) {
      EXPECT_TRUE(lines[i].contains(key)) << key;
    }
  }
  EXPECT_EQ(lines[3]["score"], 130.0);
  EXPECT_EQ(lines[3]["status"], "succeeded");
  EXPECT_EQ(lines[3]["params"]["strategy.params.fast"], 20);
  EXPECT_EQ(lines[3]["result_paths"][0], "backtests/bt_3/summary.json");
  EXPECT_TRUE(lines[1]["score"].is_null());
  EXPECT_NE(lines[1]["reason"].get<std::string>().find("violated"), std::string::npos);
  EXPECT_EQ(lines[2]["status"], "failed");
  EXPECT_TRUE(lines[2]["result_summary_id"].is_null());
  EXPECT_EQ(lines[6]["status"], "canceled");
  EXPECT_EQ(BuildManifestJsonl({}), "");
}

TEST(ExportTest, TopNRowsCarryMetricsAndArtifacts) {
  Fixture f;
  Json top = BuildTopNJson(f.input);
  EXPECT_EQ(top["optimization_id"], f.input.optimization_id);
  EXPECT_EQ(top["objective"]["direction"], "max");
  ASSERT_EQ(top["top_n"].size(), 4u);  // 4 ranked tasks, the unranked one left out
  const char* order[] = {"job_3", "job_5", "job_4", "job_0"};  // 130 (idx 3), 130 (idx 5), 120, 110
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(top["top_n"][i]["rank"], static_cast<int>(i + 1));
    EXPECT_EQ(top["top_n"][i]["task_id"], order[i]);
  }
  EXPECT_EQ(top["top_n"][0]["metrics"]["final_equity"], 130.0);
  EXPECT_EQ(top["top_n"][0]["result_paths"][0], "backtests/bt_3/summary.json");
  EXPECT_EQ(top["top_n"][0]["result_summary_id"], "bt_3");
  EXPECT_EQ(top["top_n"][0]["params"]["strategy.params.fast"], 20);
}

TEST(ExportTest, ReportHasTotalsCountsAndTop3) {
  Fixture f;
  const std::string md = BuildReportMarkdown(f.input);
  EXPECT_NE(md.find("# Optimization report: sma sweep"), std::string::npos);
  EXPECT_NE(md.find("- status: succeeded"), std::string::npos);
  EXPECT_NE(md.find("- objective: max `final_equity`"), std::string::npos);
  EXPECT_NE(md.find("`max_drawdown <= 0.35`"), std::string::npos);
  EXPECT_NE(md.find("| 7 | 5 | 1 | 1 | 0 | 0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("- succeeded: 5, failed: 1 (success rate 83.3% of 6 ended tasks)"), std::string::npos) << md;
  EXPECT_NE(md.find("- ranked: 4, finished but not ranked (constraint or missing metric): 1"), std::string::npos) << md;
  EXPECT_NE(md.find("- best score: 130"), std::string::npos);
  const auto top = md.find("## Top 3");
  ASSERT_NE(top, std::string::npos);
  const std::string table = md.substr(top);
  EXPECT_NE(table.find("| 1 | job_3 | 3 | 130 | strategy.params.fast=20, strategy.params.slow=50 |"), std::string::npos)
      << table;
  EXPECT_NE(table.find("| 2 | job_5 | 5 | 130 |"), std::string::npos);
  EXPECT_NE(table.find("| 3 | job_4 | 4 | 120 |"), std::string::npos);
  EXPECT_EQ(table.find("job_0"), std::string::npos);  // only three rows
}

TEST(ExportTest, ReportWithoutRankedTasksAndEarlyStop) {
  ExportInput in;
  in.optimization_id = "opt_x";
  in.status = "early-stopped";
  in.stop_reason = "patience";
  in.objective = Objective{"cagr", Direction::kMin};
  const std::string md = BuildReportMarkdown(in);
  EXPECT_NE(md.find("# Optimization report: opt_x"), std::string::npos);
  EXPECT_NE(md.find("- status: early-stopped (patience)"), std::string::npos);
  EXPECT_NE(md.find("constraints: none"), std::string::npos);
  EXPECT_NE(md.find("success rate n/a"), std::string::npos);
  EXPECT_NE(md.find("No ranked task."), std::string::npos);
  EXPECT_NE(md.find("- best score: none"), std::string::npos);
}

TEST(ExportTest, TableCellsAreEscaped) {
  Fixture f;
  f.input.summary.top_n[0].params = Json{{"k", "a|b\nc"}};
  const std::string md = BuildReportMarkdown(f.input);
  EXPECT_NE(md.find("k=\"a\\|b\\nc\""), std::string::npos) << md;  // JSON escapes the newline
}

}  // namespace
}  // namespace alphalab::optimize

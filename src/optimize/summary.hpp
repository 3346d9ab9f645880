// The incremental summary of an optimization:
//   {total, finished, failed, canceled, running, queued, best_score,
//    top_n: [{task_id, score, params, result_summary_id}]}
// updated per task event in O(log top_n) (a hash lookup and a bounded ordered set), never by
// rescanning tasks. After every event finished + failed + canceled + running + queued == total.
//
// Task events follow the job transitions: queued -> running -> succeeded | failed | canceled,
// queued -> failed (never started) | canceled. Events on an ended task are absorbed (no
// change, OK), except Requeued, which puts a failed or canceled task back in the queue
// (retry-failed). Any other pair is InvalidStateTransition.
//
// Top-N: ranked succeeded tasks ordered by score in the objective direction, ties by task
// index (lower first). A succeeded task without a score (constraint violated, metric
// missing) counts as finished but is not ranked.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "optimize/objective.hpp"

namespace alphalab::optimize {

enum class TaskState { kQueued, kRunning, kSucceeded, kFailed, kCanceled };
std::string_view TaskStateName(TaskState s);  // "queued", "running", "succeeded", "failed", "canceled"

struct TopEntry {
  std::string task_id;
  int64_t index = 0;
  double score = 0;
  Json params;
  std::string result_summary_id;
};

struct Summary {
  int64_t total = 0;
  int64_t finished = 0;
  int64_t failed = 0;
  int64_t canceled = 0;
  int64_t running = 0;
  int64_t queued = 0;
  std::optional<double> best_score;
  std::vector<TopEntry> top_n;

  Json ToJson() const;
};

class SummaryTracker {
 public:
  SummaryTracker(Direction direction, size_t top_n);

  // A new queued task. A task id or index already present is AlreadyExists.
  Status AddTask(const std::string& task_id, int64_t index, Json params);
  Status Started(const std::string& task_id);
  // `score` set iff the task is ranked.
  Status Succeeded(const std::string& task_id, std::optional<double> score, std::string result_summary_id);
  Status Failed(const std::string& task_id);
  Status Canceled(const std::string& task_id);
  Status Requeued(const std::string& task_id);

  Summary Snapshot() const;  // O(top_n)
  int64_t total() const { return static_cast<int64_t>(tasks_.size()); }
  int64_t count(TaskState s) const { return counts_[static_cast<size_t>(s)]; }
  bool AllEnded() const { return count(TaskState::kQueued) == 0 && count(TaskState::kRunning) == 0; }
  std::optional<TaskState> StateOf(const std::string& task_id) const;
  // The task's params (nullptr for an unknown task).
  const Json* ParamsOf(const std::string& task_id) const;
  bool InvariantHolds() const;

 private:
  struct Slot {
    int64_t index;
    TaskState state;
    Json params;
  };
  struct Ranked {
    double score;
    int64_t index;
    std::string task_id;
    std::string result_summary_id;
  };
  struct Order {
    Direction direction;
    bool operator()(const Ranked& a, const Ranked& b) const {
      if (a.score != b.score) return Better(direction, a.score, b.score);
      return a.index < b.index;
    }
  };

  Status Move(const std::string& task_id, TaskState to, Slot** slot_out);

  Direction direction_;
  size_t top_n_;
  std::unordered_map<std::string, Slot> tasks_;
  std::unordered_map<int64_t, std::string> by_index_;
  int64_t counts_[5] = {0, 0, 0, 0, 0};
  std::set<Ranked, Order> top_;
  std::optional<double> best_;
};

}  // namespace alphalab::optimize

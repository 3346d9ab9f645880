#include "optimize/summary.hpp"

namespace alphalab::optimize {

std::string_view TaskStateName(TaskState s) {
  switch (s) {
    case TaskState::kQueued: return "queued";
    case TaskState::kRunning: return "running";
    case TaskState::kSucceeded: return "succeeded";
    case TaskState::kFailed: return "failed";
    case TaskState::kCanceled: return "canceled";
  }
  return "unknown";
}

Json Summary::ToJson() const {
  Json top = Json::array();
  for (const auto& e : top_n) {
    top.push_back(Json{{"task_id", e.task_id},
                       {"index", e.index},
                       {"score", e.score},
                       {"params", e.params},
                       {"result_summary_id", e.result_summary_id}});
  }
  return Json{{"total", total},   {"finished", finished}, {"failed", failed},
              {"canceled", canceled}, {"running", running},   {"queued", queued},
              {"best_score", best_score ? Json(*best_score) : Json(nullptr)},
              {"top_n", std::move(top)}};
}

SummaryTracker::SummaryTracker(Direction direction, size_t top_n)
    : direction_(direction), top_n_(top_n), top_(Order{direction}) {}

Status SummaryTracker::AddTask(const std::string& task_id, int64_t index, Json params) {
  if (tasks_.count(task_id)) return Status::AlreadyExists("task " + task_id + " is already in the summary");
  if (by_index_.count(index)) {
    return Status::AlreadyExists("task index " + std::to_string(index) + " is already used by " + by_index_[index]);
  }
  tasks_.emplace(task_id, Slot{index, TaskState::kQueued, std::move(params)});
  by_index_.emplace(index, task_id);
  ++counts_[static_cast<size_t>(TaskState::kQueued)];
  return Status::Ok();
}

std::optional<TaskState> SummaryTracker::StateOf(const std::string& task_id) const {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return std::nullopt;
  return it->second.state;
}

const Json* SummaryTracker::ParamsOf(const std::string& task_id) const {
  auto it = tasks_.find(task_id);
  return it == tasks_.end() ? nullptr : &it->second.params;
}

// The one transition table of a task inside the summary.
Status SummaryTracker::Move(const std::string& task_id, TaskState to, Slot** slot_out) {
  *slot_out = nullptr;
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return Status::NotFound("task " + task_id + " is not in the summary");
  Slot& slot = it->second;
  const TaskState from = slot.state;
  using S = TaskState;
  bool allowed = false;
  switch (from) {
    case S::kQueued:
      allowed = to == S::kRunning || to == S::kFailed || to == S::kCanceled;
      break;
    case S::kRunning:
      if (to == S::kRunning) return Status::Ok();  // the same process reported again
      allowed = to == S::kSucceeded || to == S::kFailed || to == S::kCanceled;
      break;
    case S::kSucceeded:
      return Status::Ok();  // ended: absorbs everything
    case S::kFailed:
    case S::kCanceled:
      if (to != S::kQueued) return Status::Ok();  // ended: absorbs everything but a retry
      allowed = true;
      break;
  }
  if (!allowed) {
    return Status::InvalidStateTransition("task " + task_id + " is " + std::string(TaskStateName(from)) +
                                              " and cannot become " + std::string(TaskStateName(to)),
                                          Json{{"task_id", task_id},
                                               {"state", std::string(TaskStateName(from))},
                                               {"to", std::string(TaskStateName(to))}});
  }
  --counts_[static_cast<size_t>(from)];
  ++counts_[static_cast<size_t>(to)];
  slot.state = to;
  *slot_out = &slot;
  return Status::Ok();
}

Status SummaryTracker::Started(const std::string& task_id) {
  Slot* slot = nullptr;
  return Move(task_id, TaskState::kRunning, &slot);
}

Status SummaryTracker::Succeeded(const std::string& task_id, std::optional<double> score,
                                 std::string result_summary_id) {
  Slot* slot = nullptr;
  RETURN_IF_ERROR(Move(task_id, TaskState::kSucceeded, &slot));
  if (slot == nullptr || !score) return Status::Ok();  // absorbed, or finished but not ranked
  if (!best_ || Better(direction_, *score, *best_)) best_ = score;
  if (top_n_ == 0) return Status::Ok();
  Ranked r{*score, slot->index, task_id, std::move(result_summary_id)};
  if (top_.size() == top_n_ && !top_.key_comp()(r, *std::prev(top_.end()))) return Status::Ok();
  top_.insert(std::move(r));
  if (top_.size() > top_n_) top_.erase(std::prev(top_.end()));
  return Status::Ok();
}

Status SummaryTracker::Failed(const std::string& task_id) {
  Slot* slot = nullptr;
  return Move(task_id, TaskState::kFailed, &slot);
}

Status SummaryTracker::Canceled(const std::string& task_id) {
  Slot* slot = nullptr;
  return Move(task_id, TaskState::kCanceled, &slot);
}

Status SummaryTracker::Requeued(const std::string& task_id) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return Status::NotFound("task " + task_id + " is not in the summary");
  if (it->second.state != TaskState::kFailed && it->second.state != TaskState::kCanceled) {
    return Status::InvalidStateTransition("task " + task_id + " is " + std::string(TaskStateName(it->second.state)) +
                                              " and cannot be retried (only failed or canceled tasks can)",
                                          Json{{"task_id", task_id}, {"state", std::string(TaskStateName(it->second.state))}});
  }
  Slot* slot = nullptr;
  return Move(task_id, TaskState::kQueued, &slot);
}

Summary SummaryTracker::Snapshot() const {
  Summary s;
  s.total = total();
  s.finished = count(TaskState::kSucceeded);
  s.failed = count(TaskState::kFailed);
  s.canceled = count(TaskState::kCanceled);
  s.running = count(TaskState::kRunning);
  s.queued = count(TaskState::kQueued);
  for (const auto& r : top_) {
    const auto& slot = tasks_.at(r.task_id);
    s.top_n.push_back(TopEntry{r.task_id, r.index, r.score, slot.params, r.result_summary_id});
  }
  s.best_score = best_;
  return s;
}

bool SummaryTracker::InvariantHolds() const {
  int64_t sum = 0;
  for (int64_t c : counts_) {
    if (c < 0) return false;
    sum += c;
  }
  return sum == total();
}

}  // namespace alphalab::optimize

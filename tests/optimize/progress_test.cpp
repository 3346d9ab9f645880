// OptimizationProgress: task events in completion order drive the summary, early stop and
// the optimization state (the fast path and max_inflight 1 complete in index order).
#include "optimize/progress.hpp"

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

std::string Id(int i) { return "job_" + std::to_string(i); }

OptimizationProgress Make(EarlyStopPolicy policy, int tasks, size_t top_n = 3,
                          std::vector<Constraint> constraints = {}) {
  OptimizationProgress p(Objective{"final_equity", Direction::kMax}, std::move(constraints), policy, top_n);
  for (int i = 0; i < tasks; ++i) EXPECT_TRUE(p.AddTask(Id(i), i, Json{{"fast", i}}).ok());
  return p;
}

// Runs task i to success with final_equity = equity (and max_drawdown = dd).
ProgressUpdate RunTask(OptimizationProgress& p, int i, double equity, double dd = 0.1) {
  auto started = p.TaskStarted(Id(i));
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  auto done = p.TaskSucceeded(Id(i), {{"final_equity", equity}, {"max_drawdown", dd}}, "bt_" + std::to_string(i));
  EXPECT_TRUE(done.ok()) << done.status().ToString();
  return done.ok() ? *done : ProgressUpdate{};
}

TEST(ProgressTest, RunsToSucceeded) {
  auto p = Make(EarlyStopPolicy{}, 3);
  EXPECT_EQ(p.state(), OptimizationState::kQueued);
  auto first = p.TaskStarted(Id(0));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->new_state, OptimizationState::kRunning);
  auto u = p.TaskSucceeded(Id(0), {{"final_equity", 1.0}}, "bt_0");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->new_state.has_value());
  ASSERT_TRUE(u->evaluation.has_value());
  EXPECT_TRUE(u->evaluation->ranked());
  RunTask(p, 1, 3.0);
  auto last = RunTask(p, 2, 2.0);
  EXPECT_EQ(last.new_state, OptimizationState::kSucceeded);
  Summary s = p.summary().Snapshot();
  EXPECT_EQ(s.finished, 3);
  EXPECT_EQ(*s.best_score, 3.0);
  EXPECT_EQ(s.top_n[0].task_id, "job_1");
  EXPECT_EQ(s.top_n[0].result_summary_id, "bt_1");
}

TEST(ProgressTest, EveryTaskFailedEndsFailed) {
  auto p = Make(EarlyStopPolicy{}, 2);
  ASSERT_TRUE(p.TaskStarted(Id(0)).ok());
  ASSERT_TRUE(p.TaskFailed(Id(0)).ok());
  auto last = p.TaskFailed(Id(1));  // never started
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->new_state, OptimizationState::kFailed);
}

TEST(ProgressTest, ConstraintViolatorsFinishUnranked) {
  auto p = Make(EarlyStopPolicy{}, 2, 3, {ParseConstraint("max_drawdown <= 0.35").value()});
  auto bad = RunTask(p, 0, 100.0, 0.5);
  ASSERT_TRUE(bad.evaluation.has_value());
  EXPECT_FALSE(bad.evaluation->ranked());
  EXPECT_TRUE(bad.evaluation->violated);
  RunTask(p, 1, 50.0, 0.2);
  Summary s = p.summary().Snapshot();
  EXPECT_EQ(s.finished, 2);
  ASSERT_EQ(s.top_n.size(), 1u);
  EXPECT_EQ(s.top_n[0].task_id, "job_1");
  EXPECT_EQ(p.state(), OptimizationState::kSucceeded);
}

TEST(ProgressTest, PatienceEarlyStopsAndFreezesTheDecision) {
  EarlyStopPolicy policy;
  policy.patience = 2;
  policy.min_tasks = 3;
  auto p = Make(policy, 10);
  // index order (fast path): 5, 6, 4, 4 -> the 4th finished task is the 2nd without improvement
  RunTask(p, 0, 5.0);
  RunTask(p, 1, 6.0);
  RunTask(p, 2, 4.0);
  auto stop = RunTask(p, 3, 4.0);
  EXPECT_EQ(stop.new_state, OptimizationState::kEarlyStopped);
  EXPECT_EQ(stop.stop, StopReason::kPatience);
  EXPECT_EQ(p.stop_reason(), StopReason::kPatience);
  // the caller cancels the rest; a task that was running and still finishes counts as finished
  ASSERT_TRUE(p.TaskStarted(Id(4)).ok());
  auto late = p.TaskSucceeded(Id(4), {{"final_equity", 9.0}}, "bt_4");
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->new_state.has_value());
  for (int i = 5; i < 10; ++i) ASSERT_TRUE(p.TaskCanceled(Id(i)).ok());
  EXPECT_EQ(p.state(), OptimizationState::kEarlyStopped);
  Summary s = p.summary().Snapshot();
  EXPECT_EQ(s.finished, 5);
  EXPECT_EQ(s.canceled, 5);
  EXPECT_EQ(s.finished + s.failed + s.canceled + s.running + s.queued, s.total);
}

TEST(ProgressTest, TargetEndsAsSoonAsReached) {
  EarlyStopPolicy policy;
  policy.target = 10.0;
  auto p = Make(policy, 5);
  RunTask(p, 0, 3.0);
  auto stop = RunTask(p, 1, 10.0);
  EXPECT_EQ(stop.new_state, OptimizationState::kEarlyStopped);
  EXPECT_EQ(stop.stop, StopReason::kTarget);
}

TEST(ProgressTest, FailedTasksDoNotCountTowardPatience) {
  EarlyStopPolicy policy;
  policy.patience = 1;
  auto p = Make(policy, 4);
  RunTask(p, 0, 5.0);
  ASSERT_TRUE(p.TaskStarted(Id(1)).ok());
  auto failed = p.TaskFailed(Id(1));
  ASSERT_TRUE(failed.ok());
  EXPECT_FALSE(failed->new_state.has_value());
  auto stop = RunTask(p, 2, 1.0);
  EXPECT_EQ(stop.new_state, OptimizationState::kEarlyStopped);
}

TEST(ProgressTest, CancelThenTasksEndCanceled) {
  auto p = Make(EarlyStopPolicy{}, 3);
  ASSERT_TRUE(p.TaskStarted(Id(0)).ok());
  auto c = p.Cancel();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->new_state, OptimizationState::kCanceled);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(p.TaskCanceled(Id(i)).ok());
  EXPECT_EQ(p.state(), OptimizationState::kCanceled);
  EXPECT_EQ(p.summary().Snapshot().canceled, 3);
  auto again = p.Cancel();  // absorbed
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->new_state.has_value());
}

TEST(ProgressTest, RetryFailedReopens) {
  auto p = Make(EarlyStopPolicy{}, 2);
  RunTask(p, 0, 1.0);
  ASSERT_TRUE(p.TaskStarted(Id(1)).ok());
  ASSERT_TRUE(p.TaskFailed(Id(1)).ok());
  EXPECT_EQ(p.state(), OptimizationState::kSucceeded);
  ASSERT_TRUE(p.TaskRequeued(Id(1)).ok());
  auto reopened = p.Reopen();
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->new_state, OptimizationState::kQueued);
  auto start = p.TaskStarted(Id(1));
  EXPECT_EQ(start->new_state, OptimizationState::kRunning);
  auto done = p.TaskSucceeded(Id(1), {{"final_equity", 2.0}}, "bt_1b");
  EXPECT_EQ(done->new_state, OptimizationState::kSucceeded);
  EXPECT_EQ(p.summary().Snapshot().finished, 2);
  EXPECT_EQ(p.summary().Snapshot().failed, 0);
  // reopening a running optimization is refused
  auto q = Make(EarlyStopPolicy{}, 1);
  ASSERT_TRUE(q.TaskStarted(Id(0)).ok());
  EXPECT_EQ(q.Reopen().status().code(), StatusCode::kInvalidStateTransition);
}

TEST(ProgressTest, ExtensionAfterEarlyStopRunsTheNewTasks) {
  EarlyStopPolicy policy;
  policy.patience = 1;
  auto p = Make(policy, 3);
  RunTask(p, 0, 5.0);
  EXPECT_EQ(RunTask(p, 1, 4.0).new_state, OptimizationState::kEarlyStopped);
  ASSERT_TRUE(p.TaskCanceled(Id(2)).ok());
  for (int i = 3; i < 6; ++i) ASSERT_TRUE(p.AddTask(Id(i), i, Json{{"fast", i}}).ok());
  ASSERT_TRUE(p.Reopen().ok());
  EXPECT_FALSE(RunTask(p, 3, 7.0).new_state.has_value());  // improves the kept best 5.0
  EXPECT_EQ(RunTask(p, 4, 6.0).new_state, OptimizationState::kEarlyStopped);
  EXPECT_EQ(*p.summary().Snapshot().best_score, 7.0);
}

TEST(ProgressTest, RepeatedReportsAreAbsorbed) {
  EarlyStopPolicy policy;
  policy.patience = 2;
  auto p = Make(policy, 3);
  RunTask(p, 0, 5.0);
  auto dup = p.TaskSucceeded(Id(0), {{"final_equity", 1.0}}, "bt_0");
  ASSERT_TRUE(dup.ok());
  auto dup2 = p.TaskSucceeded(Id(0), {{"final_equity", 1.0}}, "bt_0");
  ASSERT_TRUE(dup2.ok());
  EXPECT_EQ(p.state(), OptimizationState::kRunning);  // duplicates did not count toward patience
  EXPECT_EQ(p.summary().Snapshot().finished, 1);
  EXPECT_TRUE(p.TaskStarted("job_9").status().IsNotFound());
}

}  // namespace
}  // namespace alphalab::optimize

// The incremental summary: counts, the invariant after every event of a random sequence,
// Top-N order in both directions with ties by index, unranked tasks, absorbed events,
// compared against a full rescan.
#include "optimize/summary.hpp"

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "optimize/sampler.hpp"

namespace alphalab::optimize {
namespace {

std::string Id(int i) { return "job_" + std::to_string(i); }

std::vector<std::string> TopIds(const Summary& s) {
  std::vector<std::string> ids;
  for (const auto& e : s.top_n) ids.push_back(e.task_id);
  return ids;
}

TEST(SummaryTest, CountsFollowTheTaskLifecycle) {
  SummaryTracker t(Direction::kMax, 3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(t.AddTask(Id(i), i, Json{{"fast", i}}).ok());
  Summary s = t.Snapshot();
  EXPECT_EQ(s.total, 5);
  EXPECT_EQ(s.queued, 5);
  EXPECT_FALSE(s.best_score.has_value());
  ASSERT_TRUE(t.Started(Id(0)).ok());
  ASSERT_TRUE(t.Started(Id(1)).ok());
  ASSERT_TRUE(t.Succeeded(Id(0), 10.0, "res_0").ok());
  ASSERT_TRUE(t.Failed(Id(1)).ok());
  ASSERT_TRUE(t.Canceled(Id(2)).ok());
  ASSERT_TRUE(t.Failed(Id(3)).ok());  // could not be started
  s = t.Snapshot();
  EXPECT_EQ(s.finished, 1);
  EXPECT_EQ(s.failed, 2);
  EXPECT_EQ(s.canceled, 1);
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.queued, 1);
  EXPECT_EQ(*s.best_score, 10.0);
  ASSERT_EQ(s.top_n.size(), 1u);
  EXPECT_EQ(s.top_n[0].params, (Json{{"fast", 0}}));
  EXPECT_EQ(s.top_n[0].result_summary_id, "res_0");
  EXPECT_FALSE(t.AllEnded());
  ASSERT_TRUE(t.Canceled(Id(4)).ok());
  EXPECT_TRUE(t.AllEnded());
  Json j = t.Snapshot().ToJson();
  EXPECT_EQ(j["total"], 5);
  EXPECT_EQ(j["canceled"], 2);
  EXPECT_EQ(j["top_n"][0]["task_id"], "job_0");
  EXPECT_EQ(j["top_n"][0]["score"], 10.0);
  EXPECT_TRUE(j.contains("best_score"));
}

TEST(SummaryTest, RefusedAndAbsorbedEvents) {
  SummaryTracker t(Direction::kMax, 3);
  ASSERT_TRUE(t.AddTask("a", 0, Json::object()).ok());
  EXPECT_TRUE(t.AddTask("a", 1, Json::object()).IsAlreadyExists());
  EXPECT_TRUE(t.AddTask("b", 0, Json::object()).IsAlreadyExists());
  EXPECT_TRUE(t.Started("nope").IsNotFound());
  EXPECT_EQ(t.Succeeded("a", 1.0, "").code(), StatusCode::kInvalidStateTransition);  // never started
  EXPECT_EQ(t.Requeued("a").code(), StatusCode::kInvalidStateTransition);
  ASSERT_TRUE(t.Started("a").ok());
  ASSERT_TRUE(t.Started("a").ok());  // reported twice: still one running
  EXPECT_EQ(t.count(TaskState::kRunning), 1);
  ASSERT_TRUE(t.Succeeded("a", 1.0, "r").ok());
  // ended: a late failure or cancel changes nothing
  ASSERT_TRUE(t.Failed("a").ok());
  ASSERT_TRUE(t.Canceled("a").ok());
  ASSERT_TRUE(t.Succeeded("a", 99.0, "r2").ok());
  Summary s = t.Snapshot();
  EXPECT_EQ(s.finished, 1);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(*s.best_score, 1.0);
  EXPECT_EQ(s.top_n.size(), 1u);
  EXPECT_EQ(t.Requeued("a").code(), StatusCode::kInvalidStateTransition);
}

TEST(SummaryTest, RetryPutsFailedTasksBackInTheQueue) {
  SummaryTracker t(Direction::kMax, 3);
  ASSERT_TRUE(t.AddTask("a", 0, Json::object()).ok());
  ASSERT_TRUE(t.Started("a").ok());
  ASSERT_TRUE(t.Failed("a").ok());
  ASSERT_TRUE(t.Requeued("a").ok());
  EXPECT_EQ(t.count(TaskState::kQueued), 1);
  EXPECT_EQ(t.count(TaskState::kFailed), 0);
  ASSERT_TRUE(t.Started("a").ok());
  ASSERT_TRUE(t.Succeeded("a", 2.0, "r").ok());
  EXPECT_EQ(t.Snapshot().finished, 1);
  EXPECT_TRUE(t.InvariantHolds());
}

TEST(SummaryTest, TopNOrderTiesByIndexAndUnranked) {
  SummaryTracker t(Direction::kMax, 3);
  const std::vector<std::pair<int, std::optional<double>>> finish = {
      {4, 5.0}, {2, 7.0}, {7, 5.0}, {1, std::nullopt}, {3, 5.0}, {0, 1.0}, {6, 7.0}};
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(t.AddTask(Id(i), i, Json{{"i", i}}).ok());
  for (const auto& [i, score] : finish) {
    ASSERT_TRUE(t.Started(Id(i)).ok());
    ASSERT_TRUE(t.Succeeded(Id(i), score, "r").ok());
  }
  Summary s = t.Snapshot();
  EXPECT_EQ(TopIds(s), (std::vector<std::string>{"job_2", "job_6", "job_3"}));  // 7(idx2), 7(idx6), 5(idx3)
  EXPECT_EQ(*s.best_score, 7.0);
  EXPECT_EQ(s.finished, 7);  // the unranked task is finished
}

TEST(SummaryTest, MinDirection) {
  SummaryTracker t(Direction::kMin, 2);
  const double scores[] = {0.3, 0.1, 0.2, 0.1};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(t.AddTask(Id(i), i, Json::object()).ok());
    ASSERT_TRUE(t.Started(Id(i)).ok());
    ASSERT_TRUE(t.Succeeded(Id(i), scores[i], "").ok());
  }
  Summary s = t.Snapshot();
  EXPECT_EQ(TopIds(s), (std::vector<std::string>{"job_1", "job_3"}));
  EXPECT_EQ(*s.best_score, 0.1);
}

// Recomputes everything from a plain task table: the reference the tracker must equal.
struct Reference {
  std::map<std::string, std::pair<TaskState, std::optional<double>>> tasks;
  std::map<std::string, int64_t> index;

  void Check(const SummaryTracker& t, Direction dir, size_t top_n) const {
    Summary s = t.Snapshot();
    std::map<TaskState, int64_t> counts;
    std::vector<std::pair<double, int64_t>> ranked;
    std::map<int64_t, std::string> by_index;
    for (const auto& [id, st] : tasks) {
      ++counts[st.first];
      if (st.first == TaskState::kSucceeded && st.second) ranked.emplace_back(*st.second, index.at(id));
      by_index[index.at(id)] = id;
    }
    std::sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return Better(dir, a.first, b.first);
      return a.second < b.second;
    });
    ASSERT_EQ(s.total, static_cast<int64_t>(tasks.size()));
    ASSERT_EQ(s.finished, counts[TaskState::kSucceeded]);
    ASSERT_EQ(s.failed, counts[TaskState::kFailed]);
    ASSERT_EQ(s.canceled, counts[TaskState::kCanceled]);
    ASSERT_EQ(s.running, counts[TaskState::kRunning]);
    ASSERT_EQ(s.queued, counts[TaskState::kQueued]);
    ASSERT_EQ(s.finished + s.failed + s.canceled + s.running + s.queued, s.total);
    ASSERT_TRUE(t.InvariantHolds());
    ASSERT_EQ(s.top_n.size(), std::min(top_n, ranked.size()));
    for (size_t i = 0; i < s.top_n.size(); ++i) {
      ASSERT_EQ(s.top_n[i].score, ranked[i].first);
      ASSERT_EQ(s.top_n[i].task_id, by_index.at(ranked[i].second));
    }
    if (ranked.empty()) {
      ASSERT_FALSE(s.best_score.has_value());
    } else {
      ASSERT_EQ(*s.best_score, ranked.front().first);
    }
  }
};

TEST(SummaryTest, InvariantAfterEveryEventOfRandomSequences) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SplitMix64 rng(seed);
    const Direction dir = seed % 2 ? Direction::kMax : Direction::kMin;
    const size_t top_n = 1 + rng.Below(6);
    SummaryTracker t(dir, top_n);
    Reference ref;
    int next = 0;
    for (int step = 0; step < 600; ++step) {
      const uint64_t op = rng.Below(8);
      if (op == 0 || ref.tasks.empty()) {
        const std::string id = Id(next);
        ASSERT_TRUE(t.AddTask(id, next, Json{{"i", next}}).ok());
        ref.tasks[id] = {TaskState::kQueued, std::nullopt};
        ref.index[id] = next++;
      } else {
        // any event on any task, legal or not: the tracker and the reference must agree
        auto it = ref.tasks.begin();
        std::advance(it, static_cast<long>(rng.Below(ref.tasks.size())));
        const std::string id = it->first;
        auto& [state, score] = it->second;
        switch (op) {
          case 1:
          case 2: {
            Status st = t.Started(id);
            if (state == TaskState::kQueued) {
              ASSERT_TRUE(st.ok());
              state = TaskState::kRunning;
            } else if (state == TaskState::kRunning || state == TaskState::kSucceeded ||
                       state == TaskState::kFailed || state == TaskState::kCanceled) {
              ASSERT_TRUE(st.ok());  // absorbed or repeated
            }
            break;
          }
          case 3:
          case 4: {
            // a few scores repeat, to exercise ties
            std::optional<double> s = rng.Below(5) == 0 ? std::nullopt : std::optional<double>(double(rng.Below(20)));
            Status st = t.Succeeded(id, s, "r_" + id);
            if (state == TaskState::kRunning) {
              ASSERT_TRUE(st.ok());
              state = TaskState::kSucceeded;
              score = s;
            } else if (state == TaskState::kQueued) {
              ASSERT_EQ(st.code(), StatusCode::kInvalidStateTransition);
            } else {
              ASSERT_TRUE(st.ok());
            }
            break;
          }
          case 5: {
            Status st = t.Failed(id);
            ASSERT_TRUE(st.ok());
            if (state == TaskState::kQueued || state == TaskState::kRunning) state = TaskState::kFailed;
            break;
          }
          case 6: {
            Status st = t.Canceled(id);
            ASSERT_TRUE(st.ok());
            if (state == TaskState::kQueued || state == TaskState::kRunning) state = TaskState::kCanceled;
            break;
          }
          case 7: {
            Status st = t.Requeued(id);
            if (state == TaskState::kFailed || state == TaskState::kCanceled) {
              ASSERT_TRUE(st.ok());
              state = TaskState::kQueued;
            } else {
              ASSERT_EQ(st.code(), StatusCode::kInvalidStateTransition);
            }
            break;
          }
        }
      }
      SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
      ref.Check(t, dir, top_n);
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace alphalab::optimize

// The one behavioural suite every OptimizationStore implementation must pass (SQLite, the
// in-memory fake, PostgreSQL later). Instantiate it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, OptimizationStoreConformance,
//       ::testing::Values(OptimizationStoreFactory{"sqlite", [] { return MakeMySqliteEnv(); }}),
//       OptimizationStoreFactoryName);
//
// Orderings are checked against a reference the test computes itself from the rows it wrote
// (an explicit comparator over the documented rules).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sanitizers/slowdown.hpp"
#include "store/optimization_store.hpp"

namespace alphalab::testing {

class OptimizationStoreEnv {
 public:
  virtual ~OptimizationStoreEnv() = default;
  virtual OptimizationStore& store() = 0;
};

struct OptimizationStoreFactory {
  std::string name;
  std::function<std::unique_ptr<OptimizationStoreEnv>()> make;
};

inline std::string OptimizationStoreFactoryName(const ::testing::TestParamInfo<OptimizationStoreFactory>& info) {
  return info.param.name;
}

// 2026-12-01T00:00:00Z plus `seconds` and a sub-microsecond part the stores truncate.
inline TimePoint OptTime(int64_t seconds, int64_t micros = 0) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(1796083200 + seconds) +
                                                                   std::chrono::microseconds(micros)));
}

inline OptimizationStatusTimes StatusTimes(TimePoint updated, std::optional<TimePoint> started = std::nullopt,
                                           std::optional<TimePoint> ended = std::nullopt, bool clear_ended_at = false) {
  OptimizationStatusTimes t;
  t.updated_at = updated;
  t.started_at = started;
  t.ended_at = ended;
  t.clear_ended_at = clear_ended_at;
  return t;
}

inline OptimizationTaskUpdate StartedAt(TimePoint tp) {
  OptimizationTaskUpdate u;
  u.started_at = tp;
  return u;
}

inline OptimizationRecord MakeOpt(std::string id, int64_t created_second = 0) {
  OptimizationRecord o;
  o.id = std::move(id);
  o.name = "sma sweep";
  o.project = "demo";
  o.owner_id = "alice";
  o.job_type = "backtest";
  o.status = "queued";
  o.request = Json{{"name", "sma sweep"},
                   {"param_space", {{"strategy.params.fast", {{"min", 5}, {"max", 50}, {"step", 5}}}}},
                   {"objective", {{"metric", "final_equity"}, {"direction", "max"}}},
                   {"ratio", 0.125}};
  o.summary = Json{{"total", 0}, {"best_score", nullptr}, {"top_n", Json::array()}};
  o.created_at = OptTime(created_second, 250);
  o.updated_at = o.created_at;
  return o;
}

inline OptimizationTaskRecord MakeTask(int64_t index, int64_t fast, bool validation = false) {
  OptimizationTaskRecord t;
  t.index = index;
  t.params = Json{{"strategy.params.fast", fast}, {"strategy.params.slow", 100}};
  t.params_key = t.params.dump();
  t.validation = validation;
  return t;
}

inline std::vector<OptimizationTaskRecord> MakeTasks(int64_t n, int64_t first_fast = 0) {
  std::vector<OptimizationTaskRecord> tasks;
  tasks.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) tasks.push_back(MakeTask(i, first_fast + i));
  return tasks;
}

inline std::vector<int64_t> Indices(const std::vector<OptimizationTaskRecord>& tasks) {
  std::vector<int64_t> out;
  for (const auto& t : tasks) out.push_back(t.index);
  return out;
}

inline std::vector<std::string> Ids(const std::vector<OptimizationRecord>& opts) {
  std::vector<std::string> out;
  for (const auto& o : opts) out.push_back(o.id);
  return out;
}

class OptimizationStoreConformance : public ::testing::TestWithParam<OptimizationStoreFactory> {
 protected:
  void SetUp() override { env_ = GetParam().make(); }
  void TearDown() override { env_.reset(); }
  OptimizationStore& store() { return env_->store(); }

  // Creates an optimization with n tasks and moves task `index` through pending -> queued ->
  // running -> `final_status` with the given score.
  void Finish(const std::string& opt, int64_t index, const std::string& final_status, std::optional<double> score,
              Json metrics = Json::object()) {
    ASSERT_TRUE(store().MarkTaskQueued(opt, index, opt + "_job_" + std::to_string(index)).ok());
    ASSERT_TRUE(store().MarkTaskStatus(opt, index, "queued", "running", StartedAt(OptTime(10))).ok());
    OptimizationTaskUpdate done;
    done.score = score;
    done.metrics = std::move(metrics);
    done.ranked = score.has_value();
    done.ended_at = OptTime(20);
    Status s = store().MarkTaskStatus(opt, index, "running", final_status, done);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::unique_ptr<OptimizationStoreEnv> env_;
};

TEST_P(OptimizationStoreConformance, CreateThenGetRoundTripsEveryField) {
  OptimizationRecord opt = MakeOpt("opt_20261201_000000__aaaaaaaa");
  opt.source_id = "opt_20261130_000000__bbbbbbbb";
  opt.started_at = OptTime(5, 7);
  opt.total_tasks = 999;  // ignored: the store counts
  std::vector<OptimizationTaskRecord> tasks = MakeTasks(3);
  tasks[1].score = 1.5;
  tasks[1].metrics = Json{{"cagr", 0.12}, {"Sharpe Ratio", 1.25}, {"trades", 40}};
  tasks[1].ranked = true;
  tasks[1].reason = "why not";
  tasks[1].attempt = 2;
  tasks[1].status = "succeeded";
  tasks[1].job_id = "job_x";
  tasks[1].started_at = OptTime(1, 1);
  tasks[1].ended_at = OptTime(2, 2);
  OptimizationTaskRecord holdout = MakeTask(3, 1, /*validation=*/true);  // same params as task 1
  tasks.push_back(holdout);
  ASSERT_TRUE(store().Create(opt, tasks).ok());

  auto got = store().Get(opt.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  OptimizationRecord expected = opt;
  expected.total_tasks = 3;  // the validation task is not counted
  EXPECT_EQ(*got, expected);

  for (const auto& t : tasks) {
    auto task = store().GetTask(opt.id, t.index);
    ASSERT_TRUE(task.ok()) << task.status().ToString();
    OptimizationTaskRecord want = t;
    want.optimization_id = opt.id;
    EXPECT_EQ(*task, want) << t.index;
  }
  EXPECT_TRUE(store().GetTask(opt.id, 4).status().IsNotFound());
  EXPECT_TRUE(store().GetTask("opt_missing", 0).status().IsNotFound());
  EXPECT_TRUE(store().Get("opt_missing").status().IsNotFound());
}

TEST_P(OptimizationStoreConformance, TimesKeepMicrosecondsAndTruncateFinerParts) {
  OptimizationRecord opt = MakeOpt("opt_t");
  opt.created_at = OptTime(0, 123456) + std::chrono::nanoseconds(789);
  opt.updated_at = opt.created_at;
  ASSERT_TRUE(store().Create(opt, {}).ok());
  auto got = store().Get("opt_t");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->created_at, OptTime(0, 123456));
  EXPECT_EQ(got->total_tasks, 0);
}

TEST_P(OptimizationStoreConformance, CreateIsAllOrNothing) {
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(2)).ok());
  EXPECT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(1)).IsAlreadyExists());

  // The same configuration twice: refused, nothing of the optimization is kept.
  std::vector<OptimizationTaskRecord> dup = MakeTasks(3);
  dup[2].params_key = dup[0].params_key;
  EXPECT_TRUE(store().Create(MakeOpt("opt_b"), dup).IsAlreadyExists());
  EXPECT_TRUE(store().Get("opt_b").status().IsNotFound());

  std::vector<OptimizationTaskRecord> same_index = MakeTasks(3);
  same_index[2].index = 0;
  EXPECT_TRUE(store().Create(MakeOpt("opt_c"), same_index).IsAlreadyExists());
  EXPECT_TRUE(store().Get("opt_c").status().IsNotFound());

  std::vector<OptimizationTaskRecord> bad_status = MakeTasks(2);
  bad_status[1].status = "done";
  Status s = store().Create(MakeOpt("opt_d"), bad_status);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("tasks[1].status"), std::string::npos) << s.message();
  EXPECT_TRUE(store().Get("opt_d").status().IsNotFound());

  std::vector<OptimizationTaskRecord> empty_key = MakeTasks(1);
  empty_key[0].params_key.clear();
  EXPECT_TRUE(store().Create(MakeOpt("opt_e"), empty_key).IsInvalidArgument());

  OptimizationRecord bad = MakeOpt("opt_f");
  bad.status = "done";
  EXPECT_TRUE(store().Create(bad, {}).IsInvalidArgument());
  EXPECT_EQ(store().Count({}).value(), 1);
  EXPECT_EQ(store().CountTasks("opt_a", {}).value(), 2);
}

TEST_P(OptimizationStoreConformance, AddTasksSkipsKnownConfigurationsAndContinuesIndices) {
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(3)).ok());  // fast 0, 1, 2
  std::vector<OptimizationTaskRecord> more = MakeTasks(4, 1);        // fast 1, 2, 3, 4
  more.push_back(MakeTask(99, 4));                                    // repeats fast 4 in the same call
  more.push_back(MakeTask(0, 0, /*validation=*/true));                // a holdout of task 0: its own kind
  auto added = store().AddTasks("opt_a", more);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(*added, 3);
  EXPECT_EQ(store().Get("opt_a")->total_tasks, 5);

  OptimizationTaskQuery all;
  all.limit = 100;
  auto tasks = store().ListTasks("opt_a", all).value();
  ASSERT_EQ(tasks.size(), 6u);
  EXPECT_EQ(Indices(tasks), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(tasks[3].params["strategy.params.fast"], 3);
  EXPECT_EQ(tasks[4].params["strategy.params.fast"], 4);
  EXPECT_TRUE(tasks[5].validation);
  EXPECT_EQ(tasks[5].params_key, tasks[0].params_key);
  EXPECT_EQ(tasks[5].optimization_id, "opt_a");

  EXPECT_EQ(store().AddTasks("opt_a", MakeTasks(3)).value(), 0);  // everything known: a no-op
  EXPECT_EQ(store().Get("opt_a")->total_tasks, 5);
  EXPECT_TRUE(store().AddTasks("opt_missing", MakeTasks(1)).status().IsNotFound());

  OptimizationTaskQuery validation_only;
  validation_only.validation = true;
  EXPECT_EQ(store().CountTasks("opt_a", validation_only).value(), 1);
  validation_only.validation = false;
  EXPECT_EQ(store().CountTasks("opt_a", validation_only).value(), 5);
}

TEST_P(OptimizationStoreConformance, ListIsNewestFirstWithFiltersPagingAndCount) {
  for (int i = 0; i < 7; ++i) {
    OptimizationRecord o = MakeOpt("opt_" + std::to_string(i), i / 2);  // pairs share a created_at
    o.project = i % 2 == 0 ? "demo" : "other";
    o.owner_id = i < 4 ? "alice" : "bob";
    if (i == 5) o.source_id = "opt_1";
    if (i == 3) o.status = "running";
    ASSERT_TRUE(store().Create(o, {}).ok());
  }
  OptimizationQuery q;
  q.limit = 100;
  // created_at DESC, then id DESC among equal times.
  EXPECT_EQ(Ids(store().List(q).value()),
            (std::vector<std::string>{"opt_6", "opt_5", "opt_4", "opt_3", "opt_2", "opt_1", "opt_0"}));
  q.limit = 3;
  q.offset = 2;
  EXPECT_EQ(Ids(store().List(q).value()), (std::vector<std::string>{"opt_4", "opt_3", "opt_2"}));
  q.offset = 6;
  EXPECT_EQ(Ids(store().List(q).value()), (std::vector<std::string>{"opt_0"}));
  q.offset = 70;
  EXPECT_TRUE(store().List(q).value().empty());

  OptimizationQuery demo;
  demo.projects = {"demo"};
  demo.owner_id = "alice";
  EXPECT_EQ(Ids(store().List(demo).value()), (std::vector<std::string>{"opt_2", "opt_0"}));
  EXPECT_EQ(store().Count(demo).value(), 2);
  OptimizationQuery running;
  running.statuses = {"running"};
  EXPECT_EQ(Ids(store().List(running).value()), (std::vector<std::string>{"opt_3"}));
  // A comma list of the API is IN: several statuses / projects match any of them.
  OptimizationQuery in_list;
  in_list.statuses = {"running", "queued"};
  EXPECT_EQ(store().Count(in_list).value(), 7);
  in_list.projects = {"other", "nowhere"};
  EXPECT_EQ(Ids(store().List(in_list).value()), (std::vector<std::string>{"opt_5", "opt_3", "opt_1"}));
  EXPECT_EQ(store().Count(in_list).value(), 3);
  in_list.statuses = {"running", "canceled"};
  EXPECT_EQ(Ids(store().List(in_list).value()), (std::vector<std::string>{"opt_3"}));
  in_list.projects = {"demo", "other"};
  in_list.statuses = {"succeeded", "failed"};
  EXPECT_TRUE(store().List(in_list).value().empty());
  OptimizationQuery reruns;
  reruns.source_id = "opt_1";
  EXPECT_EQ(Ids(store().List(reruns).value()), (std::vector<std::string>{"opt_5"}));
  EXPECT_EQ(store().Count({}).value(), 7);
  OptimizationQuery none;
  none.limit = 0;
  EXPECT_TRUE(store().List(none).value().empty());

  OptimizationQuery bad;
  bad.limit = 1001;
  EXPECT_TRUE(store().List(bad).status().IsInvalidArgument());
  bad.limit = 10;
  bad.offset = -1;
  EXPECT_TRUE(store().List(bad).status().IsInvalidArgument());
  bad.offset = 0;
  bad.statuses = {"running", "done"};
  EXPECT_TRUE(store().Count(bad).status().IsInvalidArgument());
}

// Restart: ended optimizations whose holdout phase (validation.status pending or running in the
// summary) has not ended, oldest first; queued/running ones and ended phases are not listed.
TEST_P(OptimizationStoreConformance, ListOpenValidationsFindsEndedSearchesWithAnOpenHoldout) {
  auto make = [&](const std::string& id, int64_t second, const std::string& status, Json validation) {
    OptimizationRecord o = MakeOpt(id, second);
    o.status = status;
    if (!validation.is_null()) o.summary["validation"] = std::move(validation);
    ASSERT_TRUE(store().Create(o, MakeTasks(1)).ok());
  };
  auto v = [](const char* status) { return Json{{"holdout_start", "2016-01-01"}, {"status", status}, {"runs", Json::array()}}; };
  make("opt_20261201_000005__aaaaaaaa", 5, "succeeded", v("running"));
  make("opt_20261201_000001__bbbbbbbb", 1, "early-stopped", v("pending"));
  make("opt_20261201_000002__cccccccc", 2, "running", v("pending"));      // resumed as running anyway
  make("opt_20261201_000003__dddddddd", 3, "succeeded", v("succeeded"));  // its phase ended
  make("opt_20261201_000004__eeeeeeee", 4, "succeeded", Json());          // no holdout
  make("opt_20261201_000006__ffffffff", 6, "canceled", v("pending"));
  make("opt_20261201_000007__gggggggg", 7, "failed", Json(nullptr));
  auto open = store().ListOpenValidations();
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_EQ(*open, (std::vector<std::string>{"opt_20261201_000001__bbbbbbbb", "opt_20261201_000005__aaaaaaaa",
                                             "opt_20261201_000006__ffffffff"}));
  // The phase ends: no longer listed.
  OptimizationRecord done = *store().Get("opt_20261201_000005__aaaaaaaa");
  done.summary["validation"]["status"] = "succeeded";
  ASSERT_TRUE(store().UpdateSummary(done.id, done.summary, OptTime(9)).ok());
  EXPECT_EQ(store().ListOpenValidations()->size(), 2u);
}

TEST_P(OptimizationStoreConformance, UpdateStatusIsCompareAndSet) {
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(1)).ok());
  const OptimizationStatusTimes start = StatusTimes(OptTime(10), OptTime(10));
  ASSERT_TRUE(store().UpdateStatus("opt_a", "queued", "running", start).ok());

  // A second server still believing "queued" is refused and told the stored state.
  Status stale = store().UpdateStatus("opt_a", "queued", "canceled", StatusTimes(OptTime(11)));
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition) << stale.ToString();
  EXPECT_EQ(stale.details()["status"], "running");
  EXPECT_TRUE(store().UpdateStatus("opt_missing", "queued", "running", start).IsNotFound());
  EXPECT_TRUE(store().UpdateStatus("opt_a", "running", "done", start).IsInvalidArgument());

  ASSERT_TRUE(
      store().UpdateStatus("opt_a", "running", "succeeded", StatusTimes(OptTime(30), std::nullopt, OptTime(30))).ok());
  OptimizationRecord o = store().Get("opt_a").value();
  EXPECT_EQ(o.status, "succeeded");
  EXPECT_EQ(o.started_at, OptTime(10));
  EXPECT_EQ(o.ended_at, OptTime(30));
  EXPECT_EQ(o.updated_at, OptTime(30));

  // Reopen (extend): back to queued, ended_at cleared, started_at kept.
  ASSERT_TRUE(store().UpdateStatus("opt_a", "succeeded", "queued", StatusTimes(OptTime(40), std::nullopt, std::nullopt, /*clear_ended_at=*/true))
                  .ok());
  o = store().Get("opt_a").value();
  EXPECT_EQ(o.status, "queued");
  EXPECT_FALSE(o.ended_at.has_value());
  EXPECT_EQ(o.started_at, OptTime(10));

  Json summary = {{"total", 1}, {"finished", 1}, {"best_score", 2.5},
                  {"top_n", Json::array({{{"task_id", "job_1"}, {"score", 2.5}}})}};
  ASSERT_TRUE(store().UpdateSummary("opt_a", summary, OptTime(50)).ok());
  o = store().Get("opt_a").value();
  EXPECT_EQ(o.summary, summary);
  EXPECT_EQ(o.updated_at, OptTime(50));
  EXPECT_TRUE(store().UpdateSummary("opt_missing", summary, OptTime(50)).IsNotFound());
}

TEST_P(OptimizationStoreConformance, TaskTransitionsAreCompareAndSet) {
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(3)).ok());
  ASSERT_TRUE(store().MarkTaskQueued("opt_a", 0, "job_0").ok());
  Status again = store().MarkTaskQueued("opt_a", 0, "job_0b");
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition) << again.ToString();
  EXPECT_EQ(again.details()["status"], "queued");
  EXPECT_TRUE(store().MarkTaskQueued("opt_a", 1, "job_0").IsAlreadyExists());  // a job runs one task
  EXPECT_EQ(store().GetTask("opt_a", 1)->status, "pending");
  EXPECT_TRUE(store().MarkTaskQueued("opt_a", 7, "job_7").IsNotFound());
  EXPECT_TRUE(store().MarkTaskQueued("opt_a", 1, "").IsInvalidArgument());

  ASSERT_TRUE(store().MarkTaskStatus("opt_a", 0, "queued", "running", StartedAt(OptTime(1))).ok());
  Status stale = store().MarkTaskStatus("opt_a", 0, "queued", "canceled", {});
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.details()["status"], "running");
  EXPECT_TRUE(store().MarkTaskStatus("opt_a", 9, "queued", "running", {}).IsNotFound());
  EXPECT_TRUE(store().MarkTaskStatus("opt_a", 0, "running", "finished", {}).IsInvalidArgument());

  OptimizationTaskUpdate done;
  done.score = 42.5;
  done.metrics = Json{{"final_equity", 42.5}, {"max_drawdown", 0.4}};
  done.ranked = false;
  done.reason = "constraint max_drawdown <= 0.35 violated";
  done.ended_at = OptTime(3);
  ASSERT_TRUE(store().MarkTaskStatus("opt_a", 0, "running", "succeeded", done).ok());
  OptimizationTaskRecord t = store().GetTask("opt_a", 0).value();
  EXPECT_EQ(t.status, "succeeded");
  EXPECT_EQ(t.job_id, "job_0");
  EXPECT_EQ(t.score, 42.5);
  EXPECT_EQ(t.metrics, *done.metrics);
  EXPECT_FALSE(t.ranked);
  EXPECT_EQ(t.reason, *done.reason);
  EXPECT_EQ(t.started_at, OptTime(1));  // kept: not in the update
  EXPECT_EQ(t.ended_at, OptTime(3));

  // A non-finite score is no score.
  ASSERT_TRUE(store().MarkTaskQueued("opt_a", 2, "job_2").ok());
  OptimizationTaskUpdate nan;
  nan.score = std::numeric_limits<double>::quiet_NaN();
  ASSERT_TRUE(store().MarkTaskStatus("opt_a", 2, "queued", "failed", nan).ok());
  EXPECT_FALSE(store().GetTask("opt_a", 2)->score.has_value());
}

TEST_P(OptimizationStoreConformance, ApplyTaskWritesKeepsEachWritesRulesAndOrder) {
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(4)).ok());
  ASSERT_TRUE(store().MarkTaskQueued("opt_a", 3, "job_3").ok());
  auto queued = [](int64_t index, std::string job) {
    OptimizationTaskWrite w;
    w.kind = OptimizationTaskWrite::Kind::kQueued;
    w.index = index;
    w.job_id = std::move(job);
    return w;
  };
  auto status = [](int64_t index, std::string expected, std::string next, OptimizationTaskUpdate u) {
    OptimizationTaskWrite w;
    w.index = index;
    w.expected = std::move(expected);
    w.next = std::move(next);
    w.update = std::move(u);
    return w;
  };
  OptimizationTaskUpdate done;
  done.score = 7.5;
  done.metrics = Json{{"final_equity", 7.5}};
  done.ranked = true;
  done.started_at = OptTime(1);
  done.ended_at = OptTime(2);
  const std::vector<OptimizationTaskWrite> writes = {
      queued(0, "job_0"),                        // ok
      status(0, "queued", "succeeded", done),    // ok: sees the link just before it
      queued(1, "job_3"),                        // refused: job_3 runs task 3 already
      status(1, "queued", "failed", {}),         // refused: task 1 is still pending
      queued(9, "job_9"),                        // refused: no such task
      status(2, "pending", "bogus", {}),         // refused: not a task status
      queued(2, "job_2"),                        // ok after the refused ones
      status(3, "queued", "failed", {}),         // ok
  };
  auto result = store().ApplyTaskWrites("opt_a", writes);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->size(), writes.size());
  EXPECT_TRUE((*result)[0].ok());
  EXPECT_TRUE((*result)[1].ok());
  EXPECT_TRUE((*result)[2].IsAlreadyExists()) << (*result)[2].ToString();
  EXPECT_EQ((*result)[3].code(), StatusCode::kFailedPrecondition) << (*result)[3].ToString();
  EXPECT_EQ((*result)[3].details()["status"], "pending");
  EXPECT_TRUE((*result)[4].IsNotFound()) << (*result)[4].ToString();
  EXPECT_TRUE((*result)[5].IsInvalidArgument()) << (*result)[5].ToString();
  EXPECT_TRUE((*result)[6].ok());
  EXPECT_TRUE((*result)[7].ok());
  const OptimizationTaskRecord t0 = store().GetTask("opt_a", 0).value();
  EXPECT_EQ(t0.status, "succeeded");
  EXPECT_EQ(t0.job_id, "job_0");
  EXPECT_EQ(t0.score, 7.5);
  EXPECT_EQ(t0.metrics, *done.metrics);
  EXPECT_TRUE(t0.ranked);
  EXPECT_EQ(t0.started_at, OptTime(1));
  EXPECT_EQ(t0.ended_at, OptTime(2));
  EXPECT_EQ(store().GetTask("opt_a", 1)->status, "pending");
  EXPECT_FALSE(store().GetTask("opt_a", 1)->job_id.has_value());
  EXPECT_EQ(store().GetTask("opt_a", 2)->status, "queued");
  EXPECT_EQ(store().GetTask("opt_a", 2)->job_id, "job_2");
  EXPECT_EQ(store().GetTask("opt_a", 3)->status, "failed");
  EXPECT_EQ(store().TaskByJobId("job_0")->index, 0);
  // Nothing to write is nothing written.
  auto none = store().ApplyTaskWrites("opt_a", {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(OptimizationStoreConformance, ConcurrentClaimsOfOneTaskHaveOneWinner) {
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(20)).ok());
  std::atomic<int> wins{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int64_t i = 0; i < 20; ++i) {
        Status s = store().MarkTaskQueued("opt_a", i, "job_" + std::to_string(w) + "_" + std::to_string(i));
        if (s.ok()) {
          ++wins;
        } else if (s.code() == StatusCode::kFailedPrecondition) {
          ++refused;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 20);
  EXPECT_EQ(refused.load(), 60);
  OptimizationTaskQuery queued;
  queued.status = "queued";
  EXPECT_EQ(store().CountTasks("opt_a", queued).value(), 20);
}

TEST_P(OptimizationStoreConformance, TasksToRunAndRequeueFailedOnly) {
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(6)).ok());
  Finish("opt_a", 0, "succeeded", 1.0);
  Finish("opt_a", 1, "failed", std::nullopt, Json{{"error", "boom"}});
  Finish("opt_a", 3, "failed", std::nullopt);
  ASSERT_TRUE(store().MarkTaskQueued("opt_a", 4, "job_4").ok());
  ASSERT_TRUE(store().MarkTaskStatus("opt_a", 4, "queued", "canceled", {}).ok());

  EXPECT_EQ(Indices(store().TasksToRun("opt_a", 10).value()), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(Indices(store().TasksToRun("opt_a", 1).value()), (std::vector<int64_t>{2}));
  EXPECT_TRUE(store().TasksToRun("opt_missing", 1).status().IsNotFound());

  auto moved = store().RequeueFailed("opt_a");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, 2);
  EXPECT_EQ(Indices(store().TasksToRun("opt_a", 10).value()), (std::vector<int64_t>{1, 2, 3, 5}));
  OptimizationTaskRecord retried = store().GetTask("opt_a", 1).value();
  EXPECT_EQ(retried.status, "pending");
  EXPECT_EQ(retried.attempt, 1);
  EXPECT_FALSE(retried.job_id.has_value());
  EXPECT_EQ(retried.metrics, Json::object());
  EXPECT_FALSE(retried.started_at.has_value());
  EXPECT_FALSE(retried.ended_at.has_value());
  EXPECT_EQ(store().GetTask("opt_a", 0)->status, "succeeded");  // untouched
  EXPECT_EQ(store().GetTask("opt_a", 0)->attempt, 0);
  EXPECT_EQ(store().GetTask("opt_a", 4)->status, "canceled");   // only failed ones move
  EXPECT_TRUE(store().TaskByJobId("opt_a_job_1").status().IsNotFound());  // the old job no longer maps
  EXPECT_EQ(store().RequeueFailed("opt_a").value(), 0);
  EXPECT_TRUE(store().RequeueFailed("opt_missing").status().IsNotFound());

  // The retried task runs again under a new job.
  ASSERT_TRUE(store().MarkTaskQueued("opt_a", 1, "job_1_retry").ok());
  EXPECT_EQ(store().TaskByJobId("job_1_retry").value(), (OptimizationTaskRef{"opt_a", 1}));
}

TEST_P(OptimizationStoreConformance, CancelPendingMovesOnlyPendingTasksInOneGo) {
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(6)).ok());
  Finish("opt_a", 0, "succeeded", 1.0);
  ASSERT_TRUE(store().MarkTaskQueued("opt_a", 2, "job_2").ok());
  const TimePoint at = TimePoint(std::chrono::microseconds(1'700'000'000'123'456));
  auto moved = store().CancelPending("opt_a", "canceled", at);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, (std::vector<int64_t>{1, 3, 4, 5}));
  EXPECT_TRUE(store().TasksToRun("opt_a", 10).value().empty());
  const OptimizationTaskRecord t = store().GetTask("opt_a", 3).value();
  EXPECT_EQ(t.status, "canceled");
  EXPECT_EQ(t.reason, "canceled");
  EXPECT_EQ(t.ended_at, at);
  EXPECT_EQ(store().GetTask("opt_a", 0)->status, "succeeded");  // untouched
  EXPECT_EQ(store().GetTask("opt_a", 2)->status, "queued");
  EXPECT_TRUE(store().CancelPending("opt_a", "x", at).value().empty());
  EXPECT_TRUE(store().CancelPending("opt_missing", "x", at).status().IsNotFound());
}

TEST_P(OptimizationStoreConformance, TaskByJobIdFindsTheTask) {
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(3)).ok());
  ASSERT_TRUE(store().Create(MakeOpt("opt_b"), MakeTasks(3)).ok());
  ASSERT_TRUE(store().MarkTaskQueued("opt_b", 2, "job_b2").ok());
  ASSERT_TRUE(store().MarkTaskQueued("opt_a", 1, "job_a1").ok());
  EXPECT_EQ(store().TaskByJobId("job_b2").value(), (OptimizationTaskRef{"opt_b", 2}));
  EXPECT_EQ(store().TaskByJobId("job_a1").value(), (OptimizationTaskRef{"opt_a", 1}));
  EXPECT_TRUE(store().TaskByJobId("job_none").status().IsNotFound());
}

TEST_P(OptimizationStoreConformance, TaskPagesSortByScoreAndMetricsWithTiesByIndex) {
  const int64_t n = 60;
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(n)).ok());
  std::mt19937 rng(7);
  std::vector<OptimizationTaskRecord> reference;
  for (int64_t i = 0; i < n; ++i) {
    const int kind = static_cast<int>(rng() % 5);
    if (kind == 0) continue;  // stays pending, no score
    std::optional<double> score;
    if (kind != 1) score = static_cast<double>(rng() % 6) * 0.5 - 1.0;  // many ties, negatives
    Json metrics = Json::object();
    if (kind == 2) metrics["cagr"] = "n/a";  // not numeric: sorts like a missing value
    if (kind >= 3) metrics["cagr"] = static_cast<int>(rng() % 4);
    if (kind == 4) metrics["Sharpe Ratio"] = static_cast<double>(rng() % 3) / 4.0;
    Finish("opt_a", i, kind == 1 ? "failed" : "succeeded", score, metrics);
  }
  OptimizationTaskQuery everything;
  everything.limit = 1000;
  reference = store().ListTasks("opt_a", everything).value();
  ASSERT_EQ(reference.size(), static_cast<size_t>(n));
  EXPECT_EQ(Indices(reference)[5], 5);

  auto value_of = [](const OptimizationTaskRecord& t, const std::string& field) -> std::optional<double> {
    if (field == "score") return t.score;
    auto it = t.metrics.find(field);
    if (it == t.metrics.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
  };
  for (const std::string field : {"score", "cagr", "Sharpe Ratio", "absent_metric"}) {
    for (bool desc : {false, true}) {
      std::vector<OptimizationTaskRecord> want = reference;
      std::stable_sort(want.begin(), want.end(), [&](const auto& a, const auto& b) {
        auto va = value_of(a, field);
        auto vb = value_of(b, field);
        if (va.has_value() != vb.has_value()) return va.has_value();
        if (va && *va != *vb) return desc ? *va > *vb : *va < *vb;
        return a.index < b.index;
      });
      // Walk it in pages of 7: no overlap, no gap, same order as the reference.
      std::vector<int64_t> got;
      OptimizationTaskQuery q;
      q.sort = {field, desc};
      q.limit = 7;
      for (q.offset = 0; q.offset < n + 7; q.offset += 7) {
        auto page = store().ListTasks("opt_a", q);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        for (const auto& t : *page) got.push_back(t.index);
      }
      EXPECT_EQ(got, Indices(want)) << field << (desc ? " desc" : " asc");
    }
  }

  OptimizationTaskQuery by_index_desc;
  by_index_desc.sort = {"index", true};
  by_index_desc.limit = 3;
  EXPECT_EQ(Indices(store().ListTasks("opt_a", by_index_desc).value()), (std::vector<int64_t>{n - 1, n - 2, n - 3}));

  OptimizationTaskQuery failed;
  failed.status = "failed";
  failed.limit = 1000;
  failed.sort = {"score", true};
  std::vector<int64_t> want_failed;
  for (const auto& t : reference) {
    if (t.status == "failed") want_failed.push_back(t.index);
  }
  EXPECT_EQ(Indices(store().ListTasks("opt_a", failed).value()), want_failed);
  EXPECT_EQ(store().CountTasks("opt_a", failed).value(), static_cast<int64_t>(want_failed.size()));

  OptimizationTaskQuery bad;
  bad.sort = {"bad\"field", false};
  EXPECT_TRUE(store().ListTasks("opt_a", bad).status().IsInvalidArgument());
  bad.sort = {"", false};
  EXPECT_TRUE(store().ListTasks("opt_a", bad).status().IsInvalidArgument());
  bad.sort = {};
  bad.limit = 1001;
  EXPECT_TRUE(store().ListTasks("opt_a", bad).status().IsInvalidArgument());
  bad.limit = 10;
  bad.status = "finished";
  EXPECT_TRUE(store().ListTasks("opt_a", bad).status().IsInvalidArgument());
  EXPECT_TRUE(store().ListTasks("opt_missing", {}).status().IsNotFound());
  EXPECT_TRUE(store().CountTasks("opt_missing", {}).status().IsNotFound());
}

// The tasks endpoint asks for one kind (validation = false, the search tasks): pages of every
// order and the counts (with and without a status) are those of the search tasks alone, in
// the order of both kinds together minus the holdout re-runs.
TEST_P(OptimizationStoreConformance, TaskPagesOfOneKindSkipTheOtherKind) {
  const int64_t n = 24;
  ASSERT_TRUE(store().Create(MakeOpt("opt_a"), MakeTasks(n)).ok());
  std::vector<OptimizationTaskRecord> holdouts;
  for (int64_t i = 0; i < 6; ++i) holdouts.push_back(MakeTask(0, i * 3, /*validation=*/true));
  ASSERT_EQ(store().AddTasks("opt_a", holdouts).value(), 6);  // indices n .. n+5
  for (int64_t i = 0; i < n + 6; ++i) {
    if (i % 4 == 3) continue;  // pending
    const double v = static_cast<double>((i * 7) % 5);
    Finish("opt_a", i, i % 5 == 1 ? "failed" : "succeeded", i % 5 == 1 ? std::nullopt : std::optional<double>(v),
           Json{{"cagr", v / 10}});
  }
  OptimizationTaskQuery everything;
  everything.limit = 1000;
  for (const std::string field : {"index", "score", "cagr"}) {
    for (bool desc : {false, true}) {
      everything.sort = {field, desc};
      std::vector<int64_t> want;
      const std::vector<OptimizationTaskRecord> all = store().ListTasks("opt_a", everything).value();
      for (const auto& t : all) {
        if (!t.validation) want.push_back(t.index);
      }
      ASSERT_EQ(want.size(), static_cast<size_t>(n));
      for (bool by_status : {false, true}) {
        OptimizationTaskQuery q;
        q.validation = false;
        q.sort = {field, desc};
        q.limit = 5;
        std::vector<int64_t> expected = want;
        if (by_status) {
          q.status = "succeeded";
          std::erase_if(expected, [&](int64_t i) { return i % 4 == 3 || i % 5 == 1; });
        }
        std::vector<int64_t> got;
        for (q.offset = 0; q.offset < n + 5; q.offset += 5) {
          auto page = store().ListTasks("opt_a", q);
          ASSERT_TRUE(page.ok()) << page.status().ToString();
          for (const auto& t : *page) got.push_back(t.index);
        }
        EXPECT_EQ(got, expected) << field << (desc ? " desc" : " asc") << (by_status ? " succeeded" : "");
        EXPECT_EQ(store().CountTasks("opt_a", q).value(), static_cast<int64_t>(expected.size()));
      }
    }
  }
  OptimizationTaskQuery holdout;
  holdout.validation = true;
  EXPECT_EQ(store().CountTasks("opt_a", holdout).value(), 6);
  holdout.validation = false;
  EXPECT_TRUE(store().CountTasks("opt_missing", holdout).status().IsNotFound());
  EXPECT_TRUE(store().ListTasks("opt_missing", holdout).status().IsNotFound());
}

// Timing sanity, not a benchmark: prints the figures, asserts only generous bounds that a
// full scan per page would still meet on a loaded machine (correctness is asserted exactly).
TEST_P(OptimizationStoreConformance, HundredThousandTasksCreateAndPage) {
  using Clock = std::chrono::steady_clock;
  const int64_t n = 100000;
  std::vector<OptimizationTaskRecord> tasks = MakeTasks(n);
  for (int64_t i = 0; i < n; i += 3) {
    tasks[static_cast<size_t>(i)].status = "succeeded";
    tasks[static_cast<size_t>(i)].score = static_cast<double>((i * 7919) % 1000);
    tasks[static_cast<size_t>(i)].ranked = true;
  }
  const auto t0 = Clock::now();
  ASSERT_TRUE(store().Create(MakeOpt("opt_big"), tasks).ok());
  const auto t1 = Clock::now();

  OptimizationTaskQuery page;
  page.offset = 50000;
  page.limit = 50;
  auto by_index = store().ListTasks("opt_big", page);
  const auto t2 = Clock::now();
  ASSERT_TRUE(by_index.ok());
  ASSERT_EQ(by_index->size(), 50u);
  EXPECT_EQ(by_index->front().index, 50000);

  OptimizationTaskQuery best;  // as the tasks endpoint asks: the search tasks
  best.validation = false;
  best.sort = {"score", true};
  best.limit = 10;
  auto top = store().ListTasks("opt_big", best);
  const auto t3 = Clock::now();
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 10u);
  EXPECT_EQ(top->front().score, 999.0);
  for (size_t i = 1; i < top->size(); ++i) {
    EXPECT_TRUE((*top)[i - 1].score > (*top)[i].score ||
                ((*top)[i - 1].score == (*top)[i].score && (*top)[i - 1].index < (*top)[i].index));
  }
  auto status = store().Get("opt_big");
  const auto t4 = Clock::now();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->total_tasks, n);
  auto to_run = store().TasksToRun("opt_big", 8);
  const auto t5 = Clock::now();
  ASSERT_TRUE(to_run.ok());
  EXPECT_EQ(Indices(*to_run), (std::vector<int64_t>{1, 2, 4, 5, 7, 8, 10, 11}));

  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("[%s] 100000 tasks: create %.1f ms, index page @50000 %.3f ms, top-10 by score %.3f ms, "
              "get %.3f ms, tasks-to-run %.3f ms\n",
              GetParam().name.c_str(), ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(t4 - t3), ms(t5 - t4));
  EXPECT_LT(ms(t1 - t0), 60000.0 * kSanitizerSlowdown);
  EXPECT_LT(ms(t3 - t2), 5000.0 * kSanitizerSlowdown);
}

}  // namespace alphalab::testing

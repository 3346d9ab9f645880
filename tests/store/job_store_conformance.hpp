// The one behaviour suite every JobStore implementation must pass (SQLite, the in-memory
// fake, PostgreSQL later). To run it against a store, include this header in exactly one .cpp
// of a test binary and instantiate it with a factory that returns a fresh, empty store:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, JobStoreConformanceTest,
//       ::testing::Values(JobStoreFactory{"sqlite", [] { return MakeMyStore(); }}),
//       JobStoreFactoryName);
//
// The factory returns a shared_ptr so it can keep whatever the store needs (a temp dir, a
// database handle) alive through a custom deleter or an aliasing constructor.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "store/job_store.hpp"

namespace alphalab::testing {

struct JobStoreFactory {
  std::string name;
  std::function<std::shared_ptr<JobStore>()> make;
};

// So gtest prints "sqlite" instead of the struct's bytes.
inline void PrintTo(const JobStoreFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string JobStoreFactoryName(const ::testing::TestParamInfo<JobStoreFactory>& info) {
  return info.param.name;
}

class JobStoreConformanceTest : public ::testing::TestWithParam<JobStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr);
  }

  // 2026-01-02T03:04:05.123456Z + `offset_us` microseconds.
  static TimePoint At(int64_t offset_us) {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::microseconds(1'767'323'045'123'456LL + offset_us)));
  }

  // A minimal valid record: only what every job has.
  static JobRecord Minimal(const std::string& id, int64_t created_offset_us = 0) {
    JobRecord job;
    job.job_id = JobId(id);
    job.job_type = "train";
    job.created_at = At(created_offset_us);
    job.cwd = "/ws";
    job.command = {"alphalab", "train"};
    job.args_preview = "alphalab train";
    job.log_path = "reports/jobs/runtime/" + id + ".log";
    job.meta_path = "reports/jobs/runtime/" + id + ".json";
    return job;
  }

  // Every field set, with awkward content.
  static JobRecord Full(const std::string& id) {
    JobRecord job = Minimal(id, 7);
    job.job_type = "backtest";
    job.status = JobState::kFailed;
    job.started_at = At(1'000'001);
    job.ended_at = At(2'500'002);
    job.exit_code = -3;
    job.end_reason = EndReason::kSignal;
    job.error_message = "Traceback (most recent call last):\n  boom \"quoted\" \xe2\x9c\x93";
    job.cwd = "/work space/with 'quotes'";
    job.command = {"python", "-m", "scripts.run", "--set", "a.b=1", "", "x y", "\xc3\xa9t\xc3\xa9"};
    job.args_preview = "python -m scripts.run ...";
    job.params = Json{{"config_path", "configs/base.yaml"},
                      {"overrides", Json::array({"a.b=1", "c=\xe2\x82\xac"})},
                      {"nested", Json{{"n", 1.5}, {"big", 9007199254740993LL}, {"null", nullptr}}},
                      {"flag", true}};
    job.artifacts = Json{{"bt_run_id", "bt_1"}, {"bt_dir", "backtests/bt_1"}};
    job.artifacts_parse_error = "missing out_dir:";
    job.parent_id = "opt_parent";
    job.source_job_id = "job_src";
    job.owner_id = "alice";
    job.dry_run = true;
    job.executor_ref = "local:1234:5678";
    job.timeout_sec = 3600;
    job.env = Json{{"PYTHONUNBUFFERED", "1"}, {"EMPTY", ""}};
    job.max_inflight = 8;
    job.claimed_by = "server-a";
    job.project = "p18";
    return job;
  }

  static void ExpectSameJob(const JobRecord& a, const JobRecord& b) {
    EXPECT_EQ(a.job_id, b.job_id);
    EXPECT_EQ(a.job_type, b.job_type);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.created_at, b.created_at);
    EXPECT_EQ(a.started_at, b.started_at);
    EXPECT_EQ(a.ended_at, b.ended_at);
    EXPECT_EQ(a.exit_code, b.exit_code);
    EXPECT_EQ(a.error_message, b.error_message);
    EXPECT_EQ(a.cwd, b.cwd);
    EXPECT_EQ(a.command, b.command);
    EXPECT_EQ(a.args_preview, b.args_preview);
    EXPECT_EQ(a.params, b.params);
    EXPECT_EQ(a.artifacts, b.artifacts);
    EXPECT_EQ(a.artifacts_parse_error, b.artifacts_parse_error);
    EXPECT_EQ(a.log_path, b.log_path);
    EXPECT_EQ(a.meta_path, b.meta_path);
    EXPECT_EQ(a.parent_id, b.parent_id);
    EXPECT_EQ(a.source_job_id, b.source_job_id);
    EXPECT_EQ(a.owner_id, b.owner_id);
    EXPECT_EQ(a.dry_run, b.dry_run);
    EXPECT_EQ(a.executor_ref, b.executor_ref);
    EXPECT_EQ(a.timeout_sec, b.timeout_sec);
    EXPECT_EQ(a.env, b.env);
    EXPECT_EQ(a.end_reason, b.end_reason);
    EXPECT_EQ(a.max_inflight, b.max_inflight);
    EXPECT_EQ(a.claimed_by, b.claimed_by);
    EXPECT_EQ(a.project, b.project);
  }

  static std::vector<std::string> Ids(const std::vector<JobRecord>& jobs) {
    std::vector<std::string> ids;
    for (const JobRecord& j : jobs) ids.push_back(j.job_id.str());
    return ids;
  }

  std::vector<std::string> ListIds(const JobQuery& q) {
    Result<std::vector<JobRecord>> jobs = store_->ListJobs(q);
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    return jobs.ok() ? Ids(*jobs) : std::vector<std::string>{};
  }

  std::shared_ptr<JobStore> store_;
};

TEST_P(JobStoreConformanceTest, FullRecordRoundTripsEveryField) {
  const JobRecord job = Full("job_full");
  ASSERT_TRUE(store_->InsertJob(job).ok());
  Result<JobRecord> got = store_->GetJob(job.job_id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameJob(*got, job);
  // The 64-bit integer inside params must not lose precision through a double.
  EXPECT_EQ(got->params["nested"]["big"].get<int64_t>(), 9007199254740993LL);
}

TEST_P(JobStoreConformanceTest, MinimalRecordKeepsOptionalFieldsAbsent) {
  const JobRecord job = Minimal("job_min");
  ASSERT_TRUE(store_->InsertJob(job).ok());
  Result<JobRecord> got = store_->GetJob(job.job_id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameJob(*got, job);
  EXPECT_EQ(got->status, JobState::kQueued);
  EXPECT_FALSE(got->started_at.has_value());
  EXPECT_FALSE(got->ended_at.has_value());
  EXPECT_FALSE(got->exit_code.has_value());
  EXPECT_FALSE(got->error_message.has_value());
  EXPECT_FALSE(got->parent_id.has_value());
  EXPECT_FALSE(got->owner_id.has_value());
  EXPECT_FALSE(got->executor_ref.has_value());
  EXPECT_FALSE(got->end_reason.has_value());
  EXPECT_FALSE(got->max_inflight.has_value());
  EXPECT_FALSE(got->claimed_by.has_value());
  EXPECT_TRUE(got->params.is_object() && got->params.empty());
  EXPECT_TRUE(got->artifacts.is_object() && got->artifacts.empty());
  EXPECT_TRUE(got->env.is_object() && got->env.empty());
}

TEST_P(JobStoreConformanceTest, EmptyStringsStayEmptyNotAbsent) {
  JobRecord job = Minimal("job_empty_strings");
  job.error_message = "";
  job.owner_id = "";
  job.exit_code = 0;
  ASSERT_TRUE(store_->InsertJob(job).ok());
  Result<JobRecord> got = store_->GetJob(job.job_id);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->error_message.has_value());
  EXPECT_EQ(*got->error_message, "");
  ASSERT_TRUE(got->owner_id.has_value());
  EXPECT_EQ(*got->owner_id, "");
  EXPECT_EQ(got->exit_code, 0);
}

TEST_P(JobStoreConformanceTest, TimesKeepMicrosecondsAndDropNanoseconds) {
  JobRecord job = Minimal("job_ns");
  job.created_at = At(0) + std::chrono::nanoseconds(999);
  job.started_at = At(5) + std::chrono::nanoseconds(1);
  ASSERT_TRUE(store_->InsertJob(job).ok());
  Result<JobRecord> got = store_->GetJob(job.job_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->created_at, At(0));
  EXPECT_EQ(got->started_at, At(5));
}

TEST_P(JobStoreConformanceTest, DuplicateInsertIsAlreadyExistsAndKeepsTheFirst) {
  JobRecord first = Minimal("job_dup");
  ASSERT_TRUE(store_->InsertJob(first).ok());
  JobRecord second = Minimal("job_dup");
  second.job_type = "backtest";
  Status status = store_->InsertJob(second);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_NE(status.message().find("job_dup"), std::string::npos) << status.message();
  Result<JobRecord> got = store_->GetJob(JobId("job_dup"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->job_type, "train");
}

TEST_P(JobStoreConformanceTest, UnknownJobIsNotFoundWithItsId) {
  Result<JobRecord> got = store_->GetJob(JobId("job_nope"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("job_nope"), std::string::npos);
}

TEST_P(JobStoreConformanceTest, RecordWithoutIdOrTypeIsRefused) {
  JobRecord no_id = Minimal("x");
  no_id.job_id = JobId("");
  EXPECT_EQ(store_->InsertJob(no_id).code(), StatusCode::kInvalidArgument);
  JobRecord no_type = Minimal("job_no_type");
  no_type.job_type = "";
  EXPECT_EQ(store_->InsertJob(no_type).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_->GetJob(JobId("job_no_type")).ok());
}

TEST_P(JobStoreConformanceTest, UpdateWithExpectedStatusReplacesTheRow) {
  JobRecord job = Minimal("job_upd");
  ASSERT_TRUE(store_->InsertJob(job).ok());
  job.status = JobState::kRunning;
  job.started_at = At(100);
  job.executor_ref = "local:99:12345";
  ASSERT_TRUE(store_->UpdateJob(job, JobState::kQueued).ok());
  job.status = JobState::kSuccess;
  job.ended_at = At(200);
  job.exit_code = 0;
  job.artifacts = Json{{"run_id", "r1"}, {"run_dir", "runs/r1"}};
  Status done = store_->UpdateJob(job, JobState::kRunning);
  ASSERT_TRUE(done.ok()) << done.ToString();
  Result<JobRecord> got = store_->GetJob(job.job_id);
  ASSERT_TRUE(got.ok());
  ExpectSameJob(*got, job);
}

TEST_P(JobStoreConformanceTest, UpdateKeepsTheFieldsFixedAtInsert) {
  JobRecord job = Minimal("job_fixed", 50);
  job.parent_id = "opt_1";
  ASSERT_TRUE(store_->InsertJob(job).ok());
  JobRecord changed = job;
  changed.status = JobState::kRunning;
  changed.job_type = "backtest";
  changed.created_at = At(999);
  changed.parent_id = "opt_2";
  changed.owner_id = "carol";  // not fixed
  ASSERT_TRUE(store_->UpdateJob(changed, JobState::kQueued).ok());
  Result<JobRecord> got = store_->GetJob(job.job_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, JobState::kRunning);
  EXPECT_EQ(got->job_type, "train");
  EXPECT_EQ(got->created_at, At(50));
  EXPECT_EQ(got->parent_id, "opt_1");
  EXPECT_EQ(got->owner_id, "carol");
  JobQuery by_parent;
  by_parent.parent_id = "opt_1";
  EXPECT_EQ(ListIds(by_parent), (std::vector<std::string>{"job_fixed"}));
}

TEST_P(JobStoreConformanceTest, UpdateCanClearOptionalFields) {
  JobRecord job = Full("job_clear");
  job.status = JobState::kRunning;
  ASSERT_TRUE(store_->InsertJob(job).ok());
  job.error_message.reset();
  job.exit_code.reset();
  job.ended_at.reset();
  job.artifacts_parse_error.reset();
  job.executor_ref.reset();
  job.params = Json::object();
  ASSERT_TRUE(store_->UpdateJob(job, JobState::kRunning).ok());
  Result<JobRecord> got = store_->GetJob(job.job_id);
  ASSERT_TRUE(got.ok());
  ExpectSameJob(*got, job);
}

TEST_P(JobStoreConformanceTest, UpdateWithStaleStatusIsRefusedAndChangesNothing) {
  JobRecord job = Minimal("job_cas");
  job.status = JobState::kRunning;
  ASSERT_TRUE(store_->InsertJob(job).ok());
  JobRecord stale = job;
  stale.status = JobState::kCanceled;
  stale.error_message = "should not land";
  Status status = store_->UpdateJob(stale, JobState::kQueued);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("RUNNING"), std::string::npos) << status.message();
  Result<JobRecord> got = store_->GetJob(job.job_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, JobState::kRunning);
  EXPECT_FALSE(got->error_message.has_value());
}

TEST_P(JobStoreConformanceTest, UpdateOfUnknownJobIsNotFound) {
  Status status = store_->UpdateJob(Minimal("job_ghost"), JobState::kQueued);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_FALSE(store_->GetJob(JobId("job_ghost")).ok());
}

// UpdateJobs: each update as UpdateJob would do it; a stale or unknown one fails alone and the
// others land (the ends a server records together).
TEST_P(JobStoreConformanceTest, UpdateJobsAppliesEachCompareAndSetOnItsOwn) {
  JobRecord a = Full("job_batch_a");
  a.status = JobState::kRunning;
  JobRecord b = Minimal("job_batch_b", 1);
  b.status = JobState::kRunning;
  JobRecord c = Minimal("job_batch_c", 2);
  c.status = JobState::kRunning;
  for (const JobRecord* job : {&a, &b, &c}) ASSERT_TRUE(store_->InsertJob(*job).ok());
  JobRecord a_done = a;
  a_done.status = JobState::kSuccess;
  a_done.ended_at = At(3'000'000);
  a_done.exit_code = 0;
  a_done.end_reason = EndReason::kExitCode;
  JobRecord b_stale = b;  // expects QUEUED: refused, b stays RUNNING
  b_stale.status = JobState::kCanceled;
  b_stale.error_message = "should not land";
  JobRecord ghost = Minimal("job_batch_ghost", 3);
  ghost.status = JobState::kFailed;
  JobRecord c_done = c;
  c_done.status = JobState::kFailed;
  c_done.ended_at = At(6000);
  c_done.exit_code = 3;
  c_done.end_reason = EndReason::kExitCode;
  c_done.error_message = "exit 3";
  const std::vector<JobStore::JobUpdate> updates = {{&a_done, JobState::kRunning},
                                                    {&b_stale, JobState::kQueued},
                                                    {&ghost, JobState::kRunning},
                                                    {&c_done, JobState::kRunning}};
  const std::vector<Status> result = store_->UpdateJobs(updates);
  ASSERT_EQ(result.size(), updates.size());
  EXPECT_TRUE(result[0].ok()) << result[0].ToString();
  EXPECT_EQ(result[1].code(), StatusCode::kFailedPrecondition) << result[1].ToString();
  EXPECT_EQ(result[2].code(), StatusCode::kNotFound) << result[2].ToString();
  EXPECT_TRUE(result[3].ok()) << result[3].ToString();
  Result<JobRecord> got_a = store_->GetJob(a.job_id);
  ASSERT_TRUE(got_a.ok());
  ExpectSameJob(*got_a, a_done);
  Result<JobRecord> got_b = store_->GetJob(b.job_id);
  ASSERT_TRUE(got_b.ok());
  EXPECT_EQ(got_b->status, JobState::kRunning);
  EXPECT_FALSE(got_b->error_message.has_value());
  EXPECT_FALSE(store_->GetJob(ghost.job_id).ok());
  Result<JobRecord> got_c = store_->GetJob(c.job_id);
  ASSERT_TRUE(got_c.ok());
  ExpectSameJob(*got_c, c_done);
  EXPECT_TRUE(store_->UpdateJobs({}).empty());
}

TEST_P(JobStoreConformanceTest, ConcurrentCompareAndSetHasExactlyOneWinner) {
  constexpr int kJobs = 20;
  constexpr int kThreads = 4;
  for (int j = 0; j < kJobs; ++j) ASSERT_TRUE(store_->InsertJob(Minimal("job_race_" + std::to_string(j), j)).ok());
  std::atomic<int> wins{0};
  std::atomic<int> refusals{0};
  std::atomic<int> other_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < kJobs; ++j) {
        JobRecord job = Minimal("job_race_" + std::to_string(j), j);
        job.status = JobState::kRunning;
        job.executor_ref = "worker-" + std::to_string(t);
        Status s = store_->UpdateJob(job, JobState::kQueued);
        if (s.ok()) {
          ++wins;
        } else if (s.code() == StatusCode::kFailedPrecondition) {
          ++refusals;
        } else {
          ++other_errors;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wins.load(), kJobs);
  EXPECT_EQ(refusals.load(), kJobs * (kThreads - 1));
  EXPECT_EQ(other_errors.load(), 0);
}

TEST_P(JobStoreConformanceTest, ListIsNewestFirstWithJobIdBreakingTies) {
  ASSERT_TRUE(store_->InsertJob(Minimal("job_b", 10)).ok());
  ASSERT_TRUE(store_->InsertJob(Minimal("job_a", 30)).ok());
  ASSERT_TRUE(store_->InsertJob(Minimal("job_c", 20)).ok());
  ASSERT_TRUE(store_->InsertJob(Minimal("job_d", 20)).ok());  // same time as job_c
  EXPECT_EQ(ListIds({}), (std::vector<std::string>{"job_a", "job_d", "job_c", "job_b"}));
}

TEST_P(JobStoreConformanceTest, ListFiltersByStatusTypeParentAndOwner) {
  // 60 jobs with independent attribute cycles; the expected answers are computed here.
  std::vector<JobRecord> all;
  for (int i = 0; i < 60; ++i) {
    JobRecord job = Minimal("job_" + std::to_string(1000 + i), i);
    job.status = kAllJobStates[i % 5];
    job.job_type = i % 3 == 0 ? "train" : (i % 3 == 1 ? "backtest" : "eval-metrics");
    if (i % 4 == 0) job.parent_id = "opt_" + std::to_string(i % 8);
    if (i % 2 == 0) job.owner_id = "alice";
    if (i % 2 == 1 && i % 5 == 1) job.owner_id = "bob";
    all.push_back(job);
    ASSERT_TRUE(store_->InsertJob(job).ok());
  }
  auto expected = [&](const std::function<bool(const JobRecord&)>& keep) {
    std::vector<std::string> ids;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (keep(*it)) ids.push_back(it->job_id.str());
    }
    return ids;
  };
  JobQuery q;
  q.statuses = {JobState::kRunning};
  EXPECT_EQ(ListIds(q), expected([](const JobRecord& j) { return j.status == JobState::kRunning; }));
  q = {};
  q.job_types = {"backtest"};
  EXPECT_EQ(ListIds(q), expected([](const JobRecord& j) { return j.job_type == "backtest"; }));
  q = {};
  q.parent_id = "opt_4";
  EXPECT_EQ(ListIds(q), expected([](const JobRecord& j) { return j.parent_id == "opt_4"; }));
  EXPECT_FALSE(ListIds(q).empty());
  q = {};
  q.owner_ids = {"bob"};
  EXPECT_EQ(ListIds(q), expected([](const JobRecord& j) { return j.owner_id == "bob"; }));
  EXPECT_FALSE(ListIds(q).empty());
  q = {};
  q.statuses = {JobState::kQueued};
  q.job_types = {"train"};
  q.owner_ids = {"alice"};
  EXPECT_EQ(ListIds(q), expected([](const JobRecord& j) {
              return j.status == JobState::kQueued && j.job_type == "train" && j.owner_id == "alice";
            }));
  q = {};
  q.job_types = {"no-such-type"};
  EXPECT_TRUE(ListIds(q).empty());

  // Counts agree with the listings.
  q = {};
  q.job_types = {"backtest"};
  Result<int64_t> count = store_->CountJobs(q);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, static_cast<int64_t>(expected([](const JobRecord& j) {
                      return j.job_type == "backtest";
                    }).size()));
  Result<int64_t> total = store_->CountJobs({});
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(*total, 60);
}

// The list convention on jobs: several values of an equality filter are IN (AND across
// filters); `sort` keys order with NULL last in both directions and ties newest first;
// min_/max_ bounds never pass a NULL. The same answers from every store.
TEST_P(JobStoreConformanceTest, InListsSortAndBoundsFollowTheListConvention) {
  // 12 jobs, one a second. Job i: status by i % 4 (QUEUED, RUNNING, SUCCESS, FAILED); types
  // train/backtest/eval-metrics by i % 3; owners alice/bob/none by i % 3 (shifted); ended jobs
  // ran (i % 5) + 1 seconds with exit code i % 3 (SUCCESS: 0); queued ones never started.
  std::vector<JobRecord> all;
  for (int i = 0; i < 12; ++i) {
    JobRecord job = Minimal("job_s" + std::to_string(10 + i), int64_t{i} * 1'000'000);
    const JobState states[] = {JobState::kQueued, JobState::kRunning, JobState::kSuccess, JobState::kFailed};
    job.status = states[i % 4];
    job.job_type = i % 3 == 0 ? "train" : (i % 3 == 1 ? "backtest" : "eval-metrics");
    if ((i + 1) % 3 == 0) job.owner_id = "alice";
    if ((i + 1) % 3 == 1) job.owner_id = "bob";
    job.project = i % 2 ? "p1" : "p2";
    if (job.status != JobState::kQueued) job.started_at = job.created_at + std::chrono::seconds(1);
    if (IsTerminal(job.status)) {
      job.ended_at = *job.started_at + std::chrono::seconds(i % 5 + 1);
      job.exit_code = job.status == JobState::kSuccess ? 0 : i % 3 + 1;
      job.end_reason = EndReason::kExitCode;
    }
    all.push_back(job);
    ASSERT_TRUE(store_->InsertJob(job).ok());
  }
  auto newest_first = [&](const std::function<bool(const JobRecord&)>& keep) {
    std::vector<std::string> ids;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (keep(*it)) ids.push_back(it->job_id.str());
    }
    return ids;
  };
  JobQuery q;
  q.statuses = {JobState::kSuccess, JobState::kFailed};
  q.job_types = {"train", "backtest"};
  const auto in_query = [](const JobRecord& j) {
    return (j.status == JobState::kSuccess || j.status == JobState::kFailed) &&
           (j.job_type == "train" || j.job_type == "backtest");
  };
  EXPECT_EQ(ListIds(q), newest_first(in_query));
  EXPECT_EQ(store_->CountJobs(q).value_or(-1), static_cast<int64_t>(newest_first(in_query).size()));
  q = {};
  q.owner_ids = {"alice", "bob"};  // a job without an owner matches no owner list
  EXPECT_EQ(ListIds(q), newest_first([](const JobRecord& j) { return j.owner_id.has_value(); }));
  q.owner_ids = {"carol"};
  EXPECT_TRUE(ListIds(q).empty());

  // duration_sec desc: the ended jobs by duration (ties newest first), then every job without
  // one (queued, running) newest first; asc keeps the NULLs last too.
  q = {};
  q.sort = {{JobField::kDurationSec, true}};
  std::vector<JobRecord> ended, rest;
  for (auto it = all.rbegin(); it != all.rend(); ++it) (it->ended_at ? ended : rest).push_back(*it);
  auto dur = [](const JobRecord& j) { return *j.ended_at - *j.started_at; };
  std::stable_sort(ended.begin(), ended.end(), [&](const JobRecord& a, const JobRecord& b) { return dur(a) > dur(b); });
  std::vector<std::string> want;
  for (const auto& j : ended) want.push_back(j.job_id.str());
  for (const auto& j : rest) want.push_back(j.job_id.str());
  EXPECT_EQ(ListIds(q), want);
  q.sort = {{JobField::kDurationSec, false}};
  std::stable_sort(ended.begin(), ended.end(), [&](const JobRecord& a, const JobRecord& b) { return dur(a) < dur(b); });
  want.clear();
  for (const auto& j : ended) want.push_back(j.job_id.str());
  for (const auto& j : rest) want.push_back(j.job_id.str());
  EXPECT_EQ(ListIds(q), want);
  // Two keys: exit_code asc, then created_at asc (oldest first among equal codes).
  q.sort = {{JobField::kExitCode, false}, {JobField::kCreatedAt, false}};
  std::vector<JobRecord> coded, uncoded;
  for (const auto& j : all) (j.exit_code ? coded : uncoded).push_back(j);
  std::stable_sort(coded.begin(), coded.end(),
                   [](const JobRecord& a, const JobRecord& b) { return *a.exit_code < *b.exit_code; });
  // (`all` is oldest first: the stable sorts keep created_at asc among equal keys.)
  want.clear();
  for (const auto& j : coded) want.push_back(j.job_id.str());
  for (const auto& j : uncoded) want.push_back(j.job_id.str());
  EXPECT_EQ(ListIds(q), want);
  // Paging walks the sorted order.
  q.limit = 3;
  q.offset = 2;
  EXPECT_EQ(ListIds(q), std::vector<std::string>(want.begin() + 2, want.begin() + 5));

  // Bounds: 2 <= duration_sec <= 4, a NULL never passes; exit_code >= 1.
  q = {};
  q.bounds = {{JobField::kDurationSec, 2.0, 4.0}};
  const auto mid = [&](const JobRecord& j) {
    return j.ended_at && dur(j) >= std::chrono::seconds(2) && dur(j) <= std::chrono::seconds(4);
  };
  EXPECT_EQ(ListIds(q), newest_first(mid));
  EXPECT_FALSE(ListIds(q).empty());
  EXPECT_EQ(store_->CountJobs(q).value_or(-1), static_cast<int64_t>(newest_first(mid).size()));
  q.bounds = {{JobField::kExitCode, 1.0, std::nullopt}};
  EXPECT_EQ(ListIds(q), newest_first([](const JobRecord& j) { return j.exit_code && *j.exit_code >= 1; }));
  q.bounds = {{JobField::kExitCode, std::nullopt, -1.0}};
  EXPECT_TRUE(ListIds(q).empty());
}

TEST_P(JobStoreConformanceTest, TextSearchAndCreatedRangeFilterListAndCount) {
  // 30 jobs, one a second; every third a backtest of "TSM" named in its params, every fifth
  // with "Momentum" in its args preview.
  std::vector<JobRecord> all;
  for (int i = 0; i < 30; ++i) {
    JobRecord job = Minimal("job_t" + std::to_string(100 + i), int64_t{i} * 1'000'000);
    if (i % 3 == 0) {
      job.job_type = "backtest";
      job.params = Json{{"tickers", Json::array({"TSM"})}, {"config_path", "configs/backtest/base.yaml"}};
    }
    if (i % 5 == 0) job.args_preview = "alphalab backtest --set strategy.params.score=Momentum";
    all.push_back(job);
    ASSERT_TRUE(store_->InsertJob(job).ok());
  }
  auto expected = [&](const std::function<bool(int)>& keep) {
    std::vector<std::string> ids;
    for (int i = 29; i >= 0; --i) {
      if (keep(i)) ids.push_back(all[static_cast<size_t>(i)].job_id.str());
    }
    return ids;
  };
  JobQuery q;
  q.text = "tsm";  // in params, case-insensitive
  EXPECT_EQ(ListIds(q), expected([](int i) { return i % 3 == 0; }));
  EXPECT_EQ(store_->CountJobs(q).value_or(-1), 10);
  q.text = "MOMENTUM";  // in args_preview
  EXPECT_EQ(ListIds(q), expected([](int i) { return i % 5 == 0; }));
  q.text = "job_t12";  // in job_id: job_t120..job_t129
  EXPECT_EQ(ListIds(q), expected([](int i) { return i >= 20; }));
  q.text = "BackTest";  // job_type, and args_preview of the fifths
  EXPECT_EQ(ListIds(q), expected([](int i) { return i % 3 == 0 || i % 5 == 0; }));
  q.text = "no such text";
  EXPECT_TRUE(ListIds(q).empty());
  q.text = "";  // empty = no filter
  EXPECT_EQ(ListIds(q).size(), 30u);

  // created_from inclusive, created_to exclusive; with the text filter and paging.
  q = {};
  q.created_from = At(10'000'000);
  q.created_to = At(20'000'000);
  EXPECT_EQ(ListIds(q), expected([](int i) { return i >= 10 && i < 20; }));
  EXPECT_EQ(store_->CountJobs(q).value_or(-1), 10);
  q.text = "tsm";
  EXPECT_EQ(ListIds(q), expected([](int i) { return i >= 10 && i < 20 && i % 3 == 0; }));
  q.limit = 2;
  q.offset = 1;
  EXPECT_EQ(ListIds(q), (std::vector<std::string>{"job_t115", "job_t112"}));
  q = {};
  q.created_to = At(0);
  EXPECT_TRUE(ListIds(q).empty());
  q = {};
  q.created_from = At(29'000'000);
  EXPECT_EQ(ListIds(q), (std::vector<std::string>{"job_t129"}));
}

// The text rule at its edges, which an index-backed search (SQLite's trigram table) must
// honour exactly like the in-memory JobTextMatches: needles of 1 and 2 characters, ASCII-only
// case folding (no Unicode folding), operator and wildcard characters taken literally, quotes,
// and a params change by UpdateJob (old text stops matching, new text matches).
TEST_P(JobStoreConformanceTest, TextSearchIsALiteralAsciiCaseInsensitiveSubstringKeptInStepWithUpdates) {
  JobRecord a = Minimal("job_ta", 1);
  a.params = Json{{"note", "Caf\u00c9 100% OR_ x OR y \"quoted\" *star* NEAR(x)"}};
  JobRecord b = Minimal("job_tb", 2);
  b.params = Json{{"note", "caf\u00e9 10x or-"}};
  JobRecord c = Minimal("q", 3);  // an id shorter than a trigram
  c.args_preview = "alphalab train --set model.params.max_depth=7";
  for (const JobRecord& j : {a, b, c}) ASSERT_TRUE(store_->InsertJob(j).ok());
  const auto ids = [&](const std::string& text) {
    JobQuery q;
    q.text = text;
    const std::vector<std::string> got = ListIds(q);
    EXPECT_EQ(store_->CountJobs(q).value_or(-1), static_cast<int64_t>(got.size())) << text;
    return got;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("q"), (V{"q", "job_ta"}));         // 1 character: the id "q", "quoted"
  EXPECT_EQ(ids("7"), (V{"q"}));                   // 1 character, digits
  EXPECT_EQ(ids("TB"), (V{"job_tb"}));              // 2 characters, folded
  EXPECT_EQ(ids("CAF\u00c9"), (V{"job_ta"}));      // ASCII folds, \u00c9 is not \u00e9
  EXPECT_EQ(ids("caf\u00e9"), (V{"job_tb"}));
  EXPECT_EQ(ids("caf"), (V{"job_tb", "job_ta"}));
  EXPECT_EQ(ids("100%"), (V{"job_ta"}));            // % and _ are literal, not LIKE wildcards
  EXPECT_EQ(ids("10%"), (V{}));
  EXPECT_EQ(ids("or_"), (V{"job_ta"}));
  EXPECT_EQ(ids("OR "), (V{"job_ta"}));             // FTS operators are just text
  EXPECT_EQ(ids("*star*"), (V{"job_ta"}));
  EXPECT_EQ(ids("near(x)"), (V{"job_ta"}));
  EXPECT_EQ(ids("\\\"quoted\\\""), (V{"job_ta"}));  // params as DumpJson: \"quoted\"
  EXPECT_EQ(ids("\"\""), (V{}));
  EXPECT_EQ(ids("max_depth=7"), (V{"q"}));
  EXPECT_EQ(ids("x_depth=7 "), (V{}));

  // An update that changes the searched text: the old text stops matching, the new one matches;
  // a status-only update keeps what matched.
  a.params = Json{{"note", "replaced"}};
  a.args_preview = "alphalab backtest --ticker NVDA";
  a.status = JobState::kRunning;
  ASSERT_TRUE(store_->UpdateJob(a, JobState::kQueued).ok());
  EXPECT_EQ(ids("caf"), (V{"job_tb"}));
  EXPECT_EQ(ids("REPLACED"), (V{"job_ta"}));
  EXPECT_EQ(ids("nvda"), (V{"job_ta"}));
  c.args_preview = "alphalab train --set model.params.max_depth=9";
  ASSERT_TRUE(store_->UpdateJob(c, JobState::kQueued).ok());
  EXPECT_EQ(ids("max_depth=7"), (V{}));
  EXPECT_EQ(ids("max_depth=9"), (V{"q"}));
  b.status = JobState::kRunning;
  ASSERT_TRUE(store_->UpdateJob(b, JobState::kQueued).ok());
  EXPECT_EQ(ids("10x OR-"), (V{"job_tb"}));
}

TEST_P(JobStoreConformanceTest, CountsPerStateFollowEveryFilterButTheStatus) {
  JobRecord a = Minimal("job_sa", 1);
  a.args_preview = "alphalab train --set tickers=[T123]";
  JobRecord b = Minimal("job_sb", 2);
  b.args_preview = "alphalab train --set tickers=[T124]";
  b.status = JobState::kSuccess;
  JobRecord c = Minimal("job_sc", 3);
  c.params = Json{{"note", "t123]"}};
  c.status = JobState::kFailed;
  JobRecord d = Minimal("job_sd", 4);
  d.job_type = "backtest";
  d.args_preview = "alphalab backtest T123]";
  d.status = JobState::kSuccess;
  for (const JobRecord& j : {a, b, c, d}) ASSERT_TRUE(store_->InsertJob(j).ok());
  JobQuery q;
  q.text = "T123]";
  q.statuses = {JobState::kQueued};  // ignored
  auto per = store_->CountJobsPerState(q);
  ASSERT_TRUE(per.ok()) << per.status().ToString();
  ASSERT_EQ(per->size(), std::size(kAllJobStates));  // every state present
  EXPECT_EQ(per->at(JobState::kQueued), 1);
  EXPECT_EQ(per->at(JobState::kSuccess), 1);
  EXPECT_EQ(per->at(JobState::kFailed), 1);
  EXPECT_EQ(per->at(JobState::kRunning), 0);
  // each equals CountJobs of that one state, with the other filters kept
  q.job_types = {"train"};
  per = store_->CountJobsPerState(q);
  ASSERT_TRUE(per.ok());
  for (JobState st : kAllJobStates) {
    JobQuery one = q;
    one.statuses = {st};
    EXPECT_EQ(per->at(st), store_->CountJobs(one).value_or(-1)) << JobStateName(st);
  }
  EXPECT_EQ(per->at(JobState::kSuccess), 0);  // job_sd is a backtest
  // a needle with the search column's separator is still a literal substring of one field
  JobRecord e = Minimal("job_se", 5);
  e.args_preview = std::string("two\x1fparts");
  ASSERT_TRUE(store_->InsertJob(e).ok());
  JobQuery sep;
  sep.text = std::string("O\x1fP");
  EXPECT_EQ(ListIds(sep), (std::vector<std::string>{"job_se"}));
  sep.text = std::string("se\x1f");  // the end of the id and the start of job_type: no match
  EXPECT_EQ(ListIds(sep), (std::vector<std::string>{}));
}

TEST_P(JobStoreConformanceTest, LimitAndOffsetPageWithoutGapsOrOverlap) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(store_->InsertJob(Minimal("job_p" + std::to_string(100 + i), i)).ok());
  }
  std::vector<std::string> paged;
  for (int offset = 0; offset < 30; offset += 7) {
    JobQuery q;
    q.limit = 7;
    q.offset = offset;
    std::vector<std::string> page = ListIds(q);
    EXPECT_LE(page.size(), 7u);
    paged.insert(paged.end(), page.begin(), page.end());
  }
  std::vector<std::string> expected;
  for (int i = 24; i >= 0; --i) expected.push_back("job_p" + std::to_string(100 + i));
  EXPECT_EQ(paged, expected);

  JobQuery q;
  q.limit = 100;
  q.offset = 25;
  EXPECT_TRUE(ListIds(q).empty());
  q.limit = 0;
  q.offset = 0;
  EXPECT_TRUE(ListIds(q).empty());
  q.limit = 3;
  EXPECT_EQ(ListIds(q), (std::vector<std::string>{"job_p124", "job_p123", "job_p122"}));
  q.limit = -1;
  EXPECT_EQ(store_->ListJobs(q).status().code(), StatusCode::kInvalidArgument);
  q.limit = 10;
  q.offset = -5;
  EXPECT_EQ(store_->ListJobs(q).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(JobStoreConformanceTest, ListJobsInStatesIsOldestFirstAndLimited) {
  const JobState states[] = {JobState::kQueued, JobState::kRunning, JobState::kSuccess,
                             JobState::kQueued, JobState::kFailed,  JobState::kRunning,
                             JobState::kQueued};
  for (int i = 0; i < 7; ++i) {
    JobRecord job = Minimal("job_s" + std::to_string(i), 100 - i * 10);  // later index = older
    job.status = states[i];
    ASSERT_TRUE(store_->InsertJob(job).ok());
  }
  Result<std::vector<JobRecord>> active =
      store_->ListJobsInStates({JobState::kQueued, JobState::kRunning}, 100);
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_EQ(Ids(*active),
            (std::vector<std::string>{"job_s6", "job_s5", "job_s3", "job_s1", "job_s0"}));
  Result<std::vector<JobRecord>> queued = store_->ListJobsInStates({JobState::kQueued}, 2);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(Ids(*queued), (std::vector<std::string>{"job_s6", "job_s3"}));
  Result<std::vector<JobRecord>> none = store_->ListJobsInStates({}, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  Result<std::vector<JobRecord>> canceled = store_->ListJobsInStates({JobState::kCanceled}, 10);
  ASSERT_TRUE(canceled.ok());
  EXPECT_TRUE(canceled->empty());
}

TEST_P(JobStoreConformanceTest, CountJobsByStateListsEveryStateIncludingZeros) {
  Result<std::map<JobState, int64_t>> empty = store_->CountJobsByState();
  ASSERT_TRUE(empty.ok());
  for (JobState s : kAllJobStates) EXPECT_EQ(empty->at(s), 0) << JobStateName(s);

  int expected[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 23; ++i) {
    JobRecord job = Minimal("job_n" + std::to_string(i), i);
    const int k = (i * i + 1) % 4;  // never CANCELED
    job.status = kAllJobStates[k];
    ++expected[k];
    ASSERT_TRUE(store_->InsertJob(job).ok());
  }
  // Moving one job changes the counts.
  JobRecord moved = Minimal("job_n0", 0);
  moved.status = JobState::kCanceled;
  ASSERT_TRUE(store_->UpdateJob(moved, kAllJobStates[1]).ok());  // i=0 -> k=1 (RUNNING)
  --expected[1];
  ++expected[4];
  Result<std::map<JobState, int64_t>> counts = store_->CountJobsByState();
  ASSERT_TRUE(counts.ok());
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(counts->at(kAllJobStates[k]), expected[k]) << JobStateName(kAllJobStates[k]);
  }
}

TEST_P(JobStoreConformanceTest, ProjectIsFixedAtInsertFiltersAndCountsPerProject) {
  for (int i = 0; i < 7; ++i) {
    JobRecord job = Minimal("job_p" + std::to_string(i), i);
    job.project = i < 3 ? "p18" : (i < 5 ? "p19" : "");
    ASSERT_TRUE(store_->InsertJob(job).ok());
  }
  JobRecord changed = Minimal("job_p0", 0);
  changed.project = "p99";  // fixed at insert: ignored
  changed.status = JobState::kRunning;
  ASSERT_TRUE(store_->UpdateJob(changed, JobState::kQueued).ok());
  EXPECT_EQ(store_->GetJob(JobId("job_p0"))->project, "p18");
  JobQuery q;
  q.projects = {"p18"};
  EXPECT_EQ(ListIds(q), (std::vector<std::string>{"job_p2", "job_p1", "job_p0"}));
  EXPECT_EQ(*store_->CountJobs(q), 3);
  q.projects = {"p19", "p18"};  // IN
  EXPECT_EQ(ListIds(q), (std::vector<std::string>{"job_p4", "job_p3", "job_p2", "job_p1", "job_p0"}));
  EXPECT_EQ(*store_->CountJobs(q), 5);
  q.projects = {"p18"};
  q.statuses = {JobState::kRunning};
  EXPECT_EQ(ListIds(q), (std::vector<std::string>{"job_p0"}));
  auto counts = store_->CountJobsByProject(std::nullopt);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(*counts, (std::map<std::string, int64_t>{{"p18", 3}, {"p19", 2}}));  // "" is no project
  // One owner's: a `user`'s view of /api/projects.
  JobRecord owned = Minimal("job_p7", 7);
  owned.project = "p19";
  owned.owner_id = "ann";
  ASSERT_TRUE(store_->InsertJob(owned).ok());
  auto own = store_->CountJobsByProject(std::string("ann"));
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(*own, (std::map<std::string, int64_t>{{"p19", 1}}));
  EXPECT_EQ(store_->CountJobsByProject(std::string("bob"))->size(), 0u);
}

TEST_P(JobStoreConformanceTest, ConcurrentInsertsAndReadsAllLand) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "job_t" + std::to_string(t) + "_" + std::to_string(i);
        if (!store_->InsertJob(Minimal(id, t * 1000 + i)).ok()) ++failures;
        if (!store_->GetJob(JobId(id)).ok()) ++failures;
        if (!store_->ListJobs({}).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  Result<int64_t> total = store_->CountJobs({});
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(*total, kThreads * kPerThread);
}

TEST_P(JobStoreConformanceTest, EveryEndReasonRoundTripsThroughUpdate) {
  int i = 0;
  for (EndReason reason : kAllEndReasons) {
    const std::string id = "job_r" + std::to_string(i++);
    ASSERT_TRUE(store_->InsertJob(Minimal(id, i)).ok());
    JobRecord ended = Minimal(id, i);
    ended.status = reason == EndReason::kCanceled ? JobState::kCanceled : JobState::kFailed;
    ended.end_reason = reason;
    ASSERT_TRUE(store_->UpdateJob(ended, JobState::kQueued).ok()) << EndReasonName(reason);
    Result<JobRecord> got = store_->GetJob(JobId(id));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->end_reason, reason) << EndReasonName(reason);
  }
}

TEST_P(JobStoreConformanceTest, ClaimQueuedIsACompareAndSetPerClaimer) {
  JobRecord job = Minimal("job_c1", 1);
  job.max_inflight = 2;
  ASSERT_TRUE(store_->InsertJob(job).ok());
  Status a = store_->ClaimQueued(job.job_id, "server-a");
  ASSERT_TRUE(a.ok()) << a.ToString();
  Result<JobRecord> got = store_->GetJob(job.job_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->claimed_by, "server-a");
  EXPECT_EQ(got->status, JobState::kQueued) << "claiming does not change the status";
  EXPECT_EQ(got->max_inflight, 2);
  Status b = store_->ClaimQueued(job.job_id, "server-b");
  EXPECT_EQ(b.code(), StatusCode::kFailedPrecondition) << b.ToString();
  EXPECT_TRUE(store_->ClaimQueued(job.job_id, "server-a").ok()) << "the holder may claim again";
  EXPECT_EQ(store_->GetJob(job.job_id)->claimed_by, "server-a");
  // UpdateJob moves it on and keeps the claim; a job no longer QUEUED is not claimable.
  JobRecord running = job;
  running.status = JobState::kRunning;
  running.claimed_by.reset();
  ASSERT_TRUE(store_->UpdateJob(running, JobState::kQueued).ok());
  EXPECT_EQ(store_->GetJob(job.job_id)->claimed_by, "server-a");
  EXPECT_EQ(store_->ClaimQueued(job.job_id, "server-a").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ClaimQueued(JobId("job_nope"), "server-a").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->InsertJob(Minimal("job_c2", 2)).ok());
  EXPECT_EQ(store_->ClaimQueued(JobId("job_c2"), "").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_->GetJob(JobId("job_c2"))->claimed_by.has_value());
}

TEST_P(JobStoreConformanceTest, ClaimNextTakesTheOldestClaimableJob) {
  ASSERT_TRUE(store_->InsertJob(Minimal("job_n3", 30)).ok());
  ASSERT_TRUE(store_->InsertJob(Minimal("job_n1", 10)).ok());
  ASSERT_TRUE(store_->InsertJob(Minimal("job_n2", 20)).ok());
  JobRecord running = Minimal("job_n0", 0);
  running.status = JobState::kRunning;
  ASSERT_TRUE(store_->InsertJob(running).ok());
  ASSERT_TRUE(store_->ClaimQueued(JobId("job_n1"), "server-b").ok());
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    Result<std::optional<JobRecord>> next = store_->ClaimNext("server-a");
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    if (!next->has_value()) break;
    EXPECT_EQ((*next)->claimed_by, "server-a");
    got.push_back((*next)->job_id.str());
    // Still QUEUED and now claimed by server-a: moved on so the next call gets another one.
    JobRecord moved = **next;
    moved.status = JobState::kRunning;
    ASSERT_TRUE(store_->UpdateJob(moved, JobState::kQueued).ok());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"job_n2", "job_n3"})) << "job_n1 is server-b's";
  Result<std::optional<JobRecord>> none = store_->ClaimNext("server-a");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

// Two claimers race for every job, by id and by ClaimNext: each job is won exactly once.
TEST_P(JobStoreConformanceTest, TwoClaimersRacingNeverBothWin) {
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) ASSERT_TRUE(store_->InsertJob(Minimal("job_k" + std::to_string(i), i)).ok());
  std::atomic<int> errors{0};
  std::vector<std::vector<std::string>> won(2);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        const std::string claimer = t == 0 ? "server-a" : "server-b";
        for (int i = 0; i < kJobs / 2; ++i) {  // the first half by id, both in the same order
          const std::string id = "job_k" + std::to_string(i);
          Status r = store_->ClaimQueued(JobId(id), claimer);
          if (r.ok()) {
            won[t].push_back(id);
            JobRecord moved = Minimal(id, i);  // started (a claimer may claim its own QUEUED job again)
            moved.status = JobState::kRunning;
            if (!store_->UpdateJob(moved, JobState::kQueued).ok()) ++errors;
          } else if (r.code() != StatusCode::kFailedPrecondition) {
            ++errors;
          }
        }
        for (;;) {  // the rest by ClaimNext
          Result<std::optional<JobRecord>> r = store_->ClaimNext(claimer);
          if (!r.ok()) {
            ++errors;
            break;
          }
          if (!r->has_value()) break;
          won[t].push_back((*r)->job_id.str());
          JobRecord moved = **r;  // started: no longer claimable by its own claimer either
          moved.status = JobState::kRunning;
          if (!store_->UpdateJob(moved, JobState::kQueued).ok()) ++errors;
        }
      });
    }
    for (std::thread& th : threads) th.join();
  }
  EXPECT_EQ(errors.load(), 0);
  std::vector<std::string> all = won[0];
  all.insert(all.end(), won[1].begin(), won[1].end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a job was claimed twice";
  EXPECT_EQ(all.size(), static_cast<size_t>(kJobs)) << "every job was claimed once";
  for (int i = 0; i < kJobs; ++i) {
    const std::string id = "job_k" + std::to_string(i);
    Result<JobRecord> got = store_->GetJob(JobId(id));
    ASSERT_TRUE(got.ok());
    const bool by_a = std::find(won[0].begin(), won[0].end(), id) != won[0].end();
    EXPECT_EQ(got->claimed_by, by_a ? "server-a" : "server-b") << id;
  }
}

}  // namespace alphalab::testing

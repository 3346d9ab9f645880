// JobService against the in-memory store and the fake executor: the whole life of a job
// without real processes.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "core/ids.hpp"
#include "exec/fake_executor.hpp"
#include "jobs/job_dto.hpp"
#include "jobs/job_service.hpp"
#include "store/fake_job_store.hpp"

namespace alphalab {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Round-trips through text like the HTTP body does (numbers compare as parsed JSON).
Json JobDetailJsonForTest(const JobRecord& job, TimePoint now) {
  return Json::parse(DumpJson(JobDetailJson(job, now)));
}

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

class JobServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("jobsvc_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "configs");
    std::ofstream(root_ / "configs" / "base.yaml") << "dataset: demo\n";
    ws_ = std::make_unique<Workspace>(*Workspace::Open(root_));
    catalog_ = std::make_unique<JobCatalog>(*ws_, "/usr/bin/alphalab");
  }
  void TearDown() override {
    service_.reset();
    fs::remove_all(root_);
  }
  void MakeService(int capacity) {
    exec_ = std::make_unique<FakeExecutor>(capacity);
    service_ = std::make_unique<JobService>(store_, *exec_, *catalog_, *ws_, SystemClock::Instance(), &metrics_);
  }
  JobRecord Stored(const JobId& id) { return *store_.GetJob(id); }
  JobState StateOf(const JobId& id) { return Stored(id).status; }
  Json Meta(const JobRecord& job) {
    auto text = ReadFile(root_ / job.meta_path);
    EXPECT_TRUE(text.ok());
    return Json::parse(*text);
  }
  JobRecord SubmitTrain(bool dry_run = false) {
    auto r = service_->Submit("train", Json{{"config_path", "configs/base.yaml"}, {"dry_run", dry_run}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }

  fs::path root_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<JobCatalog> catalog_;
  FakeJobStore store_;
  Metrics metrics_;
  std::unique_ptr<FakeExecutor> exec_;
  std::unique_ptr<JobService> service_;
};

TEST_F(JobServiceTest, DryRunWritesMetaAndLogAndSucceedsWithoutRunning) {
  MakeService(2);
  std::vector<JobRecord> finished;
  std::mutex mu;
  service_->AddFinishedListener([&](const JobRecord& r) {
    std::lock_guard lock(mu);
    finished.push_back(r);
  });
  JobRecord job = SubmitTrain(/*dry_run=*/true);
  EXPECT_EQ(job.status, JobState::kSuccess);
  EXPECT_TRUE(job.dry_run);
  EXPECT_EQ(StateOf(job.job_id), JobState::kSuccess);
  EXPECT_TRUE(exec_->submits().empty());
  EXPECT_EQ(job.log_path, "reports/jobs/runtime/" + job.job_id.str() + ".log");
  auto log = ReadFile(root_ / job.log_path);
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("/usr/bin/alphalab\",\"train\",\"--config\",\"configs/base.yaml\""), std::string::npos) << *log;
  EXPECT_NE(log->find("nothing was executed"), std::string::npos);
  Json meta = Meta(job);
  EXPECT_EQ(meta["status"], "SUCCESS");
  EXPECT_EQ(meta["job_id"], job.job_id.str());
  EXPECT_EQ(meta["runtime"]["meta_path"], job.meta_path);
  std::lock_guard lock(mu);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].job_id, job.job_id);
}

TEST_F(JobServiceTest, RunsToSuccessWithArtifactsAndQueuesBeyondCapacity) {
  MakeService(1);
  JobRecord a = SubmitTrain();
  JobRecord b = SubmitTrain();
  EXPECT_EQ(a.status, JobState::kRunning);
  EXPECT_EQ(b.status, JobState::kQueued);
  EXPECT_EQ(Meta(b)["status"], "QUEUED");
  ASSERT_TRUE(exec_->WaitForSubmits(1));
  EXPECT_EQ(exec_->submits()[0].argv, a.command);
  EXPECT_EQ(exec_->submits()[0].cwd, root_);
  EXPECT_TRUE(Stored(a.job_id).executor_ref.has_value());
  ASSERT_TRUE(exec_->AppendLog(a.job_id, "epoch 1\nrun_id: r_2024\nrun_dir: runs/r_2024\n").ok());
  ASSERT_TRUE(exec_->FinishWithExitCode(a.job_id, 0).ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf(a.job_id) == JobState::kSuccess; }));
  JobRecord done = Stored(a.job_id);
  EXPECT_EQ(done.exit_code, 0);
  EXPECT_EQ(done.artifacts, (Json{{"run_id", "r_2024"}, {"run_dir", "runs/r_2024"}}));
  EXPECT_FALSE(done.artifacts_parse_error.has_value());
  EXPECT_FALSE(done.error_message.has_value());
  ASSERT_TRUE(done.started_at && done.ended_at);
  EXPECT_EQ(Meta(done)["status"], "SUCCESS");
  EXPECT_EQ(Meta(done)["artifacts"]["run_id"], "r_2024");
  // The queued job starts once the slot frees.
  ASSERT_TRUE(exec_->WaitForSubmits(2));
  ASSERT_TRUE(WaitFor([&] { return StateOf(b.job_id) == JobState::kRunning; }));
  EXPECT_EQ(metrics_.HistogramCount("queue_wait_seconds", {{"job_type", "train"}}), 2u);
  EXPECT_EQ(metrics_.HistogramCount("job_exec_seconds", {{"job_type", "train"}}), 1u);
}

// The read cache: Get() and DetailBody() follow every transition, agree with the store, and
// the meta files end up with the same terminal state.
TEST_F(JobServiceTest, GetAndDetailBodyFollowEveryTransition) {
  MakeService(1);
  exec_->set_finish_on_cancel(true);
  auto body_of = [&](const JobId& id) {
    auto b = service_->DetailBody(id, SystemClock::Instance().Now());
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? Json::parse(*b) : Json();
  };
  JobRecord a = SubmitTrain();
  JobRecord b = SubmitTrain();
  EXPECT_EQ(service_->Get(a.job_id)->status, JobState::kRunning);
  EXPECT_EQ(body_of(a.job_id)["status"], "RUNNING");
  EXPECT_TRUE(body_of(a.job_id)["duration_sec"].is_number()) << "RUNNING: duration so far";
  EXPECT_EQ(service_->Get(b.job_id)->status, JobState::kQueued);
  EXPECT_EQ(body_of(b.job_id)["status"], "QUEUED");
  EXPECT_TRUE(body_of(b.job_id)["duration_sec"].is_null());
  // A finished job: served as SUCCESS exactly like the stored row, at every read after.
  ASSERT_TRUE(exec_->WaitForSubmits(1));
  ASSERT_TRUE(exec_->AppendLog(a.job_id, "run_id: r_c\nrun_dir: runs/r_c\n").ok());
  ASSERT_TRUE(exec_->FinishWithExitCode(a.job_id, 0).ok());
  ASSERT_TRUE(WaitFor([&] { return service_->Get(a.job_id)->status == JobState::kSuccess; }));
  const JobRecord stored = Stored(a.job_id);
  EXPECT_EQ(stored.status, JobState::kSuccess) << "the cache never runs ahead of the store";
  EXPECT_EQ(Meta(stored)["status"], "SUCCESS") << "terminal meta is written before it is served";
  const TimePoint later = SystemClock::Instance().Now() + std::chrono::hours(1);
  const Json expected = JobDetailJsonForTest(stored, later);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(body_of(a.job_id), expected) << "terminal body is fixed (no 'now' in it)";
    EXPECT_EQ(service_->Get(a.job_id)->artifacts, (Json{{"run_id", "r_c"}, {"run_dir", "runs/r_c"}}));
  }
  // The queued job moves to RUNNING in the cache too, then a cancel ends it.
  ASSERT_TRUE(WaitFor([&] { return service_->Get(b.job_id)->status == JobState::kRunning; }));
  EXPECT_EQ(body_of(b.job_id)["status"], "RUNNING");
  auto cb = service_->Cancel(b.job_id);
  ASSERT_TRUE(cb.ok()) << cb.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return service_->Get(b.job_id)->status == JobState::kCanceled; }));
  EXPECT_EQ(body_of(b.job_id)["status"], "CANCELED");
  EXPECT_EQ(Meta(Stored(b.job_id))["status"], "CANCELED");
  // A job the service never wrote (another process, or evicted) comes from the store.
  JobRecord other = Stored(a.job_id);
  other.job_id = NewJobId(SystemClock::Instance().Now());
  other.status = JobState::kFailed;
  other.exit_code = 7;
  ASSERT_TRUE(store_.InsertJob(other).ok());
  EXPECT_EQ(service_->Get(other.job_id)->exit_code, 7);
  EXPECT_EQ(body_of(other.job_id)["status"], "FAILED");
  EXPECT_TRUE(service_->DetailBody(JobId("job_nope"), SystemClock::Instance().Now()).status().IsNotFound());
  // After shutdown every pending meta version is on disk and matches the store.
  service_->Shutdown();
  for (const JobId& id : {a.job_id, b.job_id}) {
    EXPECT_EQ(Meta(Stored(id))["status"], std::string(JobStateName(Stored(id).status)));
  }
}

TEST_F(JobServiceTest, FailureRecordsExitCodeErrorAndMissingArtifacts) {
  MakeService(2);
  JobRecord a = SubmitTrain();
  ASSERT_TRUE(exec_->AppendLog(a.job_id,
                               "loading data\n\nTraceback (most recent call last):\n  File \"x.py\", line 3\n"
                               "ValueError: bad horizon\n\n\n").ok());
  ASSERT_TRUE(exec_->FinishWithExitCode(a.job_id, 3).ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf(a.job_id) == JobState::kFailed; }));
  JobRecord r = Stored(a.job_id);
  EXPECT_EQ(r.exit_code, 3);
  ASSERT_TRUE(r.error_message);
  EXPECT_EQ(*r.error_message, "Traceback (most recent call last):\n  File \"x.py\", line 3\nValueError: bad horizon");
  ASSERT_TRUE(r.artifacts_parse_error);
  EXPECT_NE(r.artifacts_parse_error->find("run_id"), std::string::npos);
}

TEST_F(JobServiceTest, SuccessWithoutPromisedArtifactIsNeverSilent) {
  MakeService(2);
  JobRecord a = SubmitTrain();
  ASSERT_TRUE(exec_->AppendLog(a.job_id, "run_id: only_id\n").ok());
  ASSERT_TRUE(exec_->FinishWithExitCode(a.job_id, 0).ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf(a.job_id) == JobState::kSuccess; }));
  JobRecord r = Stored(a.job_id);
  EXPECT_EQ(r.artifacts["run_id"], "only_id");
  ASSERT_TRUE(r.artifacts_parse_error);
  EXPECT_NE(r.artifacts_parse_error->find("run_dir"), std::string::npos);
  EXPECT_EQ(r.artifacts_parse_error->find("run_id,"), std::string::npos);
}

TEST_F(JobServiceTest, SignalAndSpawnFailure) {
  MakeService(2);
  JobRecord a = SubmitTrain();
  ASSERT_TRUE(exec_->FinishWithSignal(a.job_id, 9).ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf(a.job_id) == JobState::kFailed; }));
  EXPECT_EQ(Stored(a.job_id).exit_code, -9);
  EXPECT_NE(Stored(a.job_id).error_message->find("signal 9"), std::string::npos);

  exec_->FailNextSubmit(Status::NotFound("program 'nope' not found"));
  JobRecord b = SubmitTrain();
  EXPECT_EQ(StateOf(b.job_id), JobState::kFailed);
  EXPECT_EQ(*Stored(b.job_id).error_message, "could not start: program 'nope' not found");
  EXPECT_FALSE(Stored(b.job_id).started_at.has_value());
}

TEST_F(JobServiceTest, CancelQueuedRunningAndFinished) {
  MakeService(1);
  exec_->set_finish_on_cancel(true);
  JobRecord a = SubmitTrain();
  JobRecord b = SubmitTrain();
  auto cb = service_->Cancel(b.job_id);
  ASSERT_TRUE(cb.ok());
  EXPECT_EQ(cb->status, JobState::kCanceled);
  EXPECT_EQ(StateOf(b.job_id), JobState::kCanceled);
  auto ca = service_->Cancel(a.job_id);
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(ca->status, JobState::kCanceled);
  EXPECT_EQ(StateOf(a.job_id), JobState::kCanceled);
  EXPECT_FALSE(Stored(a.job_id).artifacts_parse_error.has_value());
  EXPECT_EQ(exec_->submits().size(), 1u);  // b never ran
  auto again = service_->Cancel(a.job_id);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->Cancel(JobId("job_nope")).status().code(), StatusCode::kNotFound);
}

TEST_F(JobServiceTest, RejectsBadInputBeforeAnythingExists) {
  MakeService(2);
  EXPECT_EQ(service_->Submit("train", Json{{"config_path", "configs/base.yaml"}, {"overrides", {"x"}}})
                .status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->Submit("nope", Json::object()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->Submit("train", Json{{"config_path", "../x"}}).status().code(), StatusCode::kInvalidArgument);
  auto none = store_.ListJobs(JobQuery{});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(exec_->submits().empty());
}

TEST_F(JobServiceTest, RecoveryAfterRestart) {
  auto make_running = [&](const std::string& ref) {
    JobRecord r;
    r.job_id = NewJobId(SystemClock::Instance().Now());
    r.job_type = "train";
    r.status = JobState::kRunning;
    r.created_at = SystemClock::Instance().Now();
    r.started_at = r.created_at;
    r.cwd = root_.string();
    r.command = {"/usr/bin/alphalab", "train"};
    r.log_path = "reports/jobs/runtime/" + r.job_id.str() + ".log";
    r.meta_path = "reports/jobs/runtime/" + r.job_id.str() + ".json";
    r.executor_ref = ref;
    EXPECT_TRUE(store_.InsertJob(r).ok());
    return r;
  };
  JobRecord alive = make_running("fake:alive");
  JobRecord gone = make_running("fake:gone");
  JobRecord recorded = make_running("fake:recorded");
  JobRecord no_ref = make_running("");
  JobRecord queued;
  {
    queued = make_running("");
    queued.status = JobState::kQueued;
    queued.started_at.reset();
    queued.executor_ref.reset();
    ASSERT_TRUE(store_.UpdateJob(queued, JobState::kRunning).ok());
  }
  exec_ = std::make_unique<FakeExecutor>(4);
  exec_->SetAlive("fake:alive");
  ProcessExit rec_exit;
  rec_exit.exit_code = 3;
  exec_->MarkExitRecorded("fake:recorded", rec_exit);
  service_ = std::make_unique<JobService>(store_, *exec_, *catalog_, *ws_, SystemClock::Instance(), &metrics_);
  ASSERT_TRUE(service_->Recover().ok());

  EXPECT_EQ(StateOf(gone.job_id), JobState::kFailed);
  EXPECT_NE(Stored(gone.job_id).error_message->find("server restarted and the process was gone"), std::string::npos);
  EXPECT_EQ(StateOf(no_ref.job_id), JobState::kFailed);
  ASSERT_TRUE(WaitFor([&] { return StateOf(recorded.job_id) == JobState::kFailed; }));
  EXPECT_EQ(Stored(recorded.job_id).exit_code, 3);
  // The queued job was started again.
  ASSERT_TRUE(WaitFor([&] { return StateOf(queued.job_id) == JobState::kRunning; }));
  // The live one is still RUNNING and its end is recorded when it comes.
  EXPECT_EQ(StateOf(alive.job_id), JobState::kRunning);
  std::ofstream(root_ / alive.log_path) << "run_id: r9\nrun_dir: runs/r9\n";
  ASSERT_TRUE(exec_->FinishWithExitCode(alive.job_id, 0).ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf(alive.job_id) == JobState::kSuccess; }));
  EXPECT_EQ(Stored(alive.job_id).artifacts["run_id"], "r9");
}

TEST(JobServiceHelpersTest, SummarizeError) {
  EXPECT_EQ(SummarizeError(""), "");
  EXPECT_EQ(SummarizeError("\n\n  \n"), "");
  EXPECT_EQ(SummarizeError("a\nb\nc\nd\ne\nf\ng\n\n"), "c\nd\ne\nf\ng");
  EXPECT_EQ(SummarizeError("x\nERROR: disk full\ncleanup\n\n"), "ERROR: disk full\ncleanup");
  std::string many;
  for (int i = 0; i < 50; ++i) many += "Error " + std::to_string(i) + "\n";
  many += "Traceback (most recent call last):\n";
  for (int i = 0; i < 30; ++i) many += "  frame " + std::to_string(i) + "\n";
  const std::string s = SummarizeError(many);
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 19);  // at most 20 lines
  EXPECT_NE(s.find("frame 29"), std::string::npos);
}

}  // namespace
}  // namespace alphalab

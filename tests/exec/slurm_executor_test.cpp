// SlurmExecutor against a real single-node Slurm cluster (scripts/services/slurm.sh): real
// sbatch/squeue/scancel, real batch jobs, real log files. Skips without a cluster (fails in CI).
#include "exec/slurm/slurm_executor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "exec/slurm/slurm_command.hpp"
#include "exec/slurm_test_cluster.hpp"
#include "store/temp_dir.hpp"

namespace alphalab {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class Exits {
 public:
  ExitCallback Callback() {
    return [this](const ProcessExit& x) {
      std::lock_guard lock(mu_);
      exits_.push_back(x);
      cv_.notify_all();
    };
  }
  std::optional<ProcessExit> Wait(std::chrono::milliseconds timeout = 60s) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !exits_.empty(); })) return std::nullopt;
    return exits_.front();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ProcessExit> exits_;
};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SlurmExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override { ALPHALAB_REQUIRE_SLURM(); }

  SlurmExecutorOptions Fast() {
    SlurmExecutorOptions o;
    o.poll_interval = 200ms;
    return o;
  }
  ProcessSpec Spec(const std::string& id, std::vector<std::string> argv) {
    ProcessSpec spec;
    spec.job_id = JobId(id);
    spec.argv = std::move(argv);
    spec.cwd = dir_.path();
    spec.log_path = dir_.path() / (id + ".log");
    return spec;
  }

  testing::TempDir dir_;
};

TEST_F(SlurmExecutorTest, RunsTheJobWithItsArgsEnvAndCwdAndLogsBothStreams) {
  SlurmExecutor ex(Fast());
  Exits exits;
  ProcessSpec spec = Spec("job_ok", {"sh", "-c", "echo out:\"$1\"; echo err >&2; echo var:$ALPHALAB_T; pwd", "sh",
                                     "it's a \"quoted\" $HOME; arg"});
  spec.env["ALPHALAB_T"] = "from-env";
  auto ref = ex.Submit(spec, exits.Callback());
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->rfind("slurm:", 0), 0u) << *ref;
  auto x = exits.Wait();
  ASSERT_TRUE(x);
  EXPECT_EQ(x->exit_code, 0) << x->error;
  EXPECT_FALSE(x->canceled);
  EXPECT_EQ(x->executor_state, "COMPLETED");
  const std::string log = ReadAll(spec.log_path);
  EXPECT_NE(log.find("out:it's a \"quoted\" $HOME; arg\n"), std::string::npos) << log;
  EXPECT_NE(log.find("err\n"), std::string::npos) << log;
  EXPECT_NE(log.find("var:from-env\n"), std::string::npos) << log;
  EXPECT_NE(log.find(dir_.path().string() + "\n"), std::string::npos) << log;
  EXPECT_EQ(ex.Watching(), 0);
}

TEST_F(SlurmExecutorTest, AFailingJobReportsItsExitCode) {
  SlurmExecutor ex(Fast());
  Exits exits;
  ASSERT_TRUE(ex.Submit(Spec("job_fail", {"sh", "-c", "echo boom; exit 3"}), exits.Callback()).ok());
  auto x = exits.Wait();
  ASSERT_TRUE(x);
  EXPECT_EQ(x->exit_code, 3);
  EXPECT_EQ(x->executor_state, "FAILED");
  EXPECT_EQ(x->executor_reason, "NonZeroExitCode");
}

TEST_F(SlurmExecutorTest, BadSubmissionsAreClearErrorsNotJobs) {
  SlurmExecutorOptions o = Fast();
  o.partition = "no_such_partition";
  SlurmExecutor bad_partition(o);
  Exits exits;
  auto r = bad_partition.Submit(Spec("job_p", {"true"}), exits.Callback());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sbatch exited with code"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("partition"), std::string::npos) << r.status().message();

  SlurmExecutor ex(Fast());
  auto missing = ex.Submit(Spec("job_m", {"/no/such/program"}), exits.Callback());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/no/such/program"), std::string::npos);
  ProcessSpec bad_cwd = Spec("job_c", {"true"});
  bad_cwd.cwd = dir_.path() / "nope";
  EXPECT_FALSE(ex.Submit(bad_cwd, exits.Callback()).ok());
  EXPECT_EQ(ex.Watching(), 0);
}

TEST_F(SlurmExecutorTest, CancelIsScancelAndEndsCanceled) {
  SlurmExecutor ex(Fast());
  Exits exits;
  ProcessSpec spec = Spec("job_cancel", {"sh", "-c", "echo started; sleep 120"});
  ASSERT_TRUE(ex.Submit(spec, exits.Callback()).ok());
  // Wait until it runs (its first line is in the log), then cancel.
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (ReadAll(spec.log_path).find("started") == std::string::npos && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(ex.Cancel(spec.job_id).ok());
  auto x = exits.Wait(30s);
  ASSERT_TRUE(x);
  EXPECT_TRUE(x->canceled);
  EXPECT_EQ(x->executor_state.substr(0, 9), "CANCELLED");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
  EXPECT_TRUE(ex.Cancel(spec.job_id).IsNotFound());
}

TEST_F(SlurmExecutorTest, PendingReasonsReachTheStatusListener) {
  SlurmExecutorOptions o = Fast();
  o.sbatch_args = {"--hold"};  // stays PENDING (JobHeldUser) until released
  SlurmExecutor ex(o);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ExecutorStatus> seen;
  ex.SetStatusListener([&](const ExecutorStatus& s) {
    std::lock_guard lock(mu);
    seen.push_back(s);
    cv.notify_all();
  });
  Exits exits;
  ASSERT_TRUE(ex.Submit(Spec("job_held", {"true"}), exits.Callback()).ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return !seen.empty(); }));
    EXPECT_EQ(seen[0].job_id.str(), "job_held");
    EXPECT_EQ(seen[0].state, "PENDING");
    EXPECT_EQ(seen[0].reason, "JobHeldUser");
  }
  ASSERT_TRUE(ex.Cancel(JobId("job_held")).ok());
  auto x = exits.Wait(30s);
  ASSERT_TRUE(x);
  EXPECT_TRUE(x->canceled);
  ex.SetStatusListener({});
}

TEST_F(SlurmExecutorTest, OnePollWatchesEveryJob) {
  SlurmExecutorOptions o = Fast();
  o.poll_interval = 500ms;
  SlurmExecutor ex(o);
  std::vector<std::unique_ptr<Exits>> exits;
  for (int i = 0; i < 8; ++i) {
    exits.push_back(std::make_unique<Exits>());
    ASSERT_TRUE(ex.Submit(Spec("job_many_" + std::to_string(i), {"sleep", "2"}), exits.back()->Callback()).ok());
  }
  const auto t0 = std::chrono::steady_clock::now();
  const int calls0 = ex.SqueueCalls();
  for (auto& e : exits) {
    auto x = e->Wait();
    ASSERT_TRUE(x);
    EXPECT_EQ(x->exit_code, 0);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // One squeue per interval for all eight jobs (plus the wake-ups of the submits).
  EXPECT_LE(ex.SqueueCalls() - calls0, static_cast<int>(seconds / 0.5) + 3) << seconds << " s";
}

TEST_F(SlurmExecutorTest, ReattachResumesWatchingAfterARestartAndGoneJobsAreFalse) {
  ProcessSpec spec = Spec("job_re", {"sh", "-c", "sleep 3; echo done; exit 4"});
  std::string ref;
  {
    SlurmExecutor first(Fast());
    Exits ignored;
    auto r = first.Submit(spec, ignored.Callback());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ref = *r;
    first.Shutdown();  // the "server" stops; the job runs on
  }
  SlurmExecutor second(Fast());
  Exits exits;
  auto alive = second.Reattach(spec.job_id, ref, spec.log_path, exits.Callback());
  ASSERT_TRUE(alive.ok()) << alive.status().ToString();
  EXPECT_TRUE(*alive);
  auto x = exits.Wait();
  ASSERT_TRUE(x);
  EXPECT_EQ(x->exit_code, 4);
  EXPECT_NE(ReadAll(spec.log_path).find("done"), std::string::npos);

  // Ended while nobody watched: Slurm (squeue within MinJobAge, or the jobcomp file) still
  // knows how, so a later re-attach reports it at once.
  SlurmExecutor third(Fast());
  Exits again;
  ASSERT_TRUE(*third.Reattach(spec.job_id, ref, spec.log_path, again.Callback()));
  auto y = again.Wait(10s);
  ASSERT_TRUE(y);
  EXPECT_EQ(y->exit_code, 4);

  auto gone = third.Reattach(JobId("job_gone"), "slurm:987654321", spec.log_path, again.Callback());
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone);
  EXPECT_EQ(third.Reattach(JobId("job_bad"), "local:1:2", spec.log_path, again.Callback()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(SlurmExecutorTest, TheTimeLimitEndsTheJobAsTimedOut) {
  SlurmExecutor ex(Fast());
  Exits exits;
  ProcessSpec spec = Spec("job_timeout", {"sleep", "600"});
  spec.timeout = 1s;  // Slurm's resolution is a minute: --time=1
  ASSERT_TRUE(ex.Submit(spec, exits.Callback()).ok());
  auto x = exits.Wait(180s);
  ASSERT_TRUE(x);
  EXPECT_TRUE(x->timed_out);
  EXPECT_EQ(x->executor_state, "TIMEOUT");
  EXPECT_NE(x->error.find("time limit"), std::string::npos) << x->error;
}

// Job arrays (SubmitBatch): every task's "start <t>" / "end <t>" lines (date +%s.%N) in its
// own log; the most tasks running at one moment.
int MaxOverlap(const std::vector<std::pair<double, double>>& spans) {
  std::vector<std::pair<double, int>> events;
  for (const auto& [a, b] : spans) {
    events.emplace_back(a, +1);
    events.emplace_back(b, -1);
  }
  std::sort(events.begin(), events.end());  // an end before a start at the same instant
  int now = 0, most = 0;
  for (const auto& [t, d] : events) most = std::max(most, now += d);
  return most;
}

std::pair<double, double> SpanOf(const std::string& log) {
  double start = 0, end = 0;
  std::istringstream in(log);
  std::string word;
  while (in >> word) {
    if (word == "start") in >> start;
    if (word == "end") in >> end;
  }
  return {start, end};
}

TEST_F(SlurmExecutorTest, ArrayTasksRunTheirOwnJobsWithinMaxInflightAcrossChunks) {
  SlurmExecutorOptions o = Fast();
  o.max_array_size = 5;  // 12 tasks -> arrays of 5, 5 and 2, chained
  SlurmExecutor ex(o);
  constexpr int kTasks = 12;
  std::vector<std::unique_ptr<Exits>> exits;
  std::vector<BatchItem> items;
  for (int i = 0; i < kTasks; ++i) {
    exits.push_back(std::make_unique<Exits>());
    ProcessSpec spec = Spec("job_arr_" + std::to_string(i),
                            {"sh", "-c", "echo start $(date +%s.%N) own=$OWN shared=$SHARED \"$1\"; sleep 1; "
                                         "echo end $(date +%s.%N); exit $2",
                             "sh", "arg 'of' " + std::to_string(i), std::to_string(i % 3)});
    spec.env["OWN"] = "v" + std::to_string(i);
    spec.env["SHARED"] = "same for all";
    items.push_back({spec, exits.back()->Callback()});
  }
  items.push_back({Spec("job_arr_bad", {"/nonexistent/program"}), nullptr});
  auto refs = ex.SubmitBatch(std::move(items), 3, "opt_a");
  ASSERT_EQ(refs.size(), static_cast<size_t>(kTasks + 1));
  EXPECT_FALSE(refs[kTasks].ok());  // refused alone; the others went
  std::set<std::string> arrays;
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(refs[i].ok()) << refs[i].status().ToString();
    const std::string id = refs[i]->substr(6);
    ASSERT_NE(id.find('_'), std::string::npos) << *refs[i];
    EXPECT_EQ(id.substr(id.find('_') + 1), std::to_string(i % 5)) << *refs[i];
    arrays.insert(id.substr(0, id.find('_')));
  }
  EXPECT_EQ(arrays.size(), 3u);
  std::vector<std::pair<double, double>> spans;
  for (int i = 0; i < kTasks; ++i) {
    auto x = exits[i]->Wait(120s);
    ASSERT_TRUE(x) << "task " << i;
    EXPECT_EQ(x->job_id, JobId("job_arr_" + std::to_string(i)));
    EXPECT_EQ(x->exit_code, i % 3) << x->error;
    EXPECT_EQ(x->executor_state, i % 3 == 0 ? "COMPLETED" : "FAILED");
    const std::string log = ReadAll(dir_.path() / ("job_arr_" + std::to_string(i) + ".log"));
    EXPECT_NE(log.find("own=v" + std::to_string(i) + " shared=same for all arg 'of' " + std::to_string(i)),
              std::string::npos)
        << log;
    spans.push_back(SpanOf(log));
    EXPECT_GT(spans.back().first, 0) << log;
    EXPECT_GT(spans.back().second, spans.back().first) << log;
  }
  const int most = MaxOverlap(spans);
  EXPECT_LE(most, 3);  // %3 inside each array, afterany between them
  EXPECT_GE(most, 2);  // and they did run side by side
  EXPECT_EQ(ex.Watching(), 0);
}

TEST_F(SlurmExecutorTest, CancelManyCancelsARangeOfAnArrayOrTheWholeArray) {
  SlurmExecutor ex(Fast());
  std::vector<std::unique_ptr<Exits>> exits;
  std::vector<BatchItem> items;
  for (int i = 0; i < 6; ++i) {
    exits.push_back(std::make_unique<Exits>());
    const bool long_one = i >= 1 && i <= 3;
    items.push_back({Spec("job_rng_" + std::to_string(i), {"sh", "-c", long_one ? "echo up; sleep 120" : "echo up; sleep 4"}),
                     exits.back()->Callback()});
  }
  auto refs = ex.SubmitBatch(std::move(items), 6, "opt_b");
  for (auto& r : refs) ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (ReadAll(dir_.path() / "job_rng_3.log").find("up") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ex.CancelMany({JobId("job_rng_1"), JobId("job_rng_2"), JobId("job_rng_3")}).ok());  // "<id>_[1-3]"
  for (int i = 0; i < 6; ++i) {
    auto x = exits[i]->Wait(60s);
    ASSERT_TRUE(x) << i;
    if (i >= 1 && i <= 3) {
      EXPECT_TRUE(x->canceled) << i;
      EXPECT_EQ(x->executor_state.substr(0, 9), "CANCELLED") << i;
    } else {
      EXPECT_FALSE(x->canceled) << i;
      EXPECT_EQ(x->exit_code, 0) << i << " " << x->error;
    }
  }

  // The whole array (pending tasks included): one scancel of the array id.
  std::vector<std::unique_ptr<Exits>> all;
  std::vector<BatchItem> more;
  std::vector<JobId> ids;
  for (int i = 0; i < 4; ++i) {
    all.push_back(std::make_unique<Exits>());
    ids.push_back(JobId("job_all_" + std::to_string(i)));
    more.push_back({Spec(ids.back().str(), {"sleep", "120"}), all.back()->Callback()});
  }
  for (auto& r : ex.SubmitBatch(std::move(more), 1, "opt_c")) ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(ex.CancelMany(ids).ok());
  for (auto& e : all) {
    auto x = e->Wait(60s);
    ASSERT_TRUE(x);
    EXPECT_TRUE(x->canceled);
  }
  EXPECT_TRUE(ex.CancelMany(ids).IsNotFound());
}

TEST_F(SlurmExecutorTest, ArrayTasksAreReattachedAfterARestart) {
  std::vector<std::string> refs;
  std::vector<ProcessSpec> specs;
  {
    SlurmExecutor first(Fast());
    std::vector<BatchItem> items;
    for (int i = 0; i < 4; ++i) {
      specs.push_back(Spec("job_rea_" + std::to_string(i),
                           {"sh", "-c", "echo begun; sleep 3; echo done; exit " + std::to_string(10 + i)}));
      items.push_back({specs.back(), nullptr});
    }
    for (auto& r : first.SubmitBatch(std::move(items), 2, "opt_d")) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      refs.push_back(*r);
    }
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (ReadAll(specs[0].log_path).find("begun") == std::string::npos && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);
    }
    first.Shutdown();  // the server stops while array tasks run (and two still wait)
  }
  SlurmExecutor second(Fast());
  std::vector<std::unique_ptr<Exits>> exits;
  for (int i = 0; i < 4; ++i) {
    exits.push_back(std::make_unique<Exits>());
    auto alive = second.Reattach(specs[i].job_id, refs[i], specs[i].log_path, exits.back()->Callback());
    ASSERT_TRUE(alive.ok()) << alive.status().ToString();
    EXPECT_TRUE(*alive) << refs[i];
  }
  for (int i = 0; i < 4; ++i) {
    auto x = exits[i]->Wait(90s);
    ASSERT_TRUE(x) << i;
    EXPECT_EQ(x->exit_code, 10 + i);
    EXPECT_NE(ReadAll(specs[i].log_path).find("done"), std::string::npos);
  }
}

TEST(SlurmCommandTest, ACommandThatHangsIsStoppedAtItsDeadline) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = RunCommand({"sleep", "30"}, 300ms);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("did not answer"), std::string::npos) << r.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  auto missing = RunCommand({"no-such-slurm-command"}, 1s);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no-such-slurm-command"), std::string::npos);
  auto ok = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 2"}, 5s);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->exit_code, 2);
  EXPECT_EQ(ok->out, "out\n");
  EXPECT_EQ(ok->err, "err\n");
}

}  // namespace
}  // namespace alphalab

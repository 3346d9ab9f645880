// The outcome step as a table: (how a job ended, its log tail) -> event, end reason, exit
// code, artifacts, error summary. Pure: no threads, no files.
#include "jobs/job_outcome.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace alphalab {
namespace {

JobTypeSpec SpecWithRunArtifacts() {
  JobTypeSpec spec;
  spec.name = "train";
  spec.artifacts.push_back(ArtifactRule{"run_id", R"(^run_id:\s*(\S+))", std::regex(R"(^run_id:\s*(\S+))")});
  spec.required_artifacts = {"run_id"};
  return spec;
}

JobRecord Running() {
  JobRecord job;
  job.job_id = JobId("job_x");
  job.job_type = "train";
  job.status = JobState::kRunning;
  job.timeout_sec = 30;
  return job;
}

ProcessExit Exit(std::optional<int> code, std::optional<int> signal = std::nullopt) {
  ProcessExit e;
  e.exit_code = code;
  e.signal = signal;
  return e;
}

struct Row {
  std::string name;
  JobEnd end;
  JobEvent event;
  EndReason reason;
  std::optional<int> exit_code;
  std::optional<std::string> error;  // exact error_message, or nullopt = none
};

TEST(JobOutcomeTest, TableOfEnds) {
  const JobTypeSpec spec = SpecWithRunArtifacts();
  const std::string log = "step 1\nrun_id: r1\n";
  ProcessExit canceled = Exit(std::nullopt, SIGTERM);
  canceled.canceled = true;
  ProcessExit timed_out = Exit(std::nullopt, SIGTERM);
  timed_out.timed_out = true;
  ProcessExit lost_exit;
  lost_exit.error = "the process ended without recording its exit status";
  ProcessExit zero_with_error = Exit(0);
  zero_with_error.error = "the program could not be executed";
  const std::vector<Row> rows = {
      {"success", JobEnd::Exited(Exit(0)), JobEvent::kJobSucceeded, EndReason::kExitCode, 0, std::nullopt},
      {"exit 3", JobEnd::Exited(Exit(3)), JobEvent::kJobFailed, EndReason::kExitCode, 3, "step 1\nrun_id: r1"},
      {"exit 0 with executor error", JobEnd::Exited(zero_with_error), JobEvent::kJobFailed, EndReason::kExitCode, 0,
       "the program could not be executed; last output:\nstep 1\nrun_id: r1"},
      {"signal 9", JobEnd::Exited(Exit(std::nullopt, 9)), JobEvent::kJobFailed, EndReason::kSignal, -9,
       "killed by signal 9; last output:\nstep 1\nrun_id: r1"},
      {"timeout", JobEnd::Exited(timed_out), JobEvent::kJobTimedOut, EndReason::kTimeout, -SIGTERM,
       "timed out after 30 s and was stopped; last output:\nstep 1\nrun_id: r1"},
      {"canceled running", JobEnd::Exited(canceled), JobEvent::kJobCanceled, EndReason::kCanceled, -SIGTERM,
       std::nullopt},
      {"no status", JobEnd::Exited(lost_exit), JobEvent::kJobLost, EndReason::kLost, std::nullopt,
       "the process ended without recording its exit status; last output:\nstep 1\nrun_id: r1"},
      {"no status after re-attach", JobEnd::Exited(ProcessExit{}, /*reattached=*/true), JobEvent::kJobLost,
       EndReason::kLost, std::nullopt, "server restarted and the process was gone; last output:\nstep 1\nrun_id: r1"},
      {"lost at recovery", JobEnd::Lost("no such process"), JobEvent::kJobLost, EndReason::kLost, std::nullopt,
       "server restarted and the process was gone (no such process); last output:\nstep 1\nrun_id: r1"},
      {"canceled queued", JobEnd::CanceledQueued(), JobEvent::kJobCanceled, EndReason::kCanceled, std::nullopt,
       std::nullopt},
      {"spawn failed", JobEnd::SpawnFailed("program 'x' not found"), JobEvent::kJobFailed, EndReason::kSpawnFailed,
       std::nullopt, "could not start: program 'x' not found"},
      {"dry run", JobEnd::DryRun(), JobEvent::kJobSucceeded, EndReason::kExitCode, 0, std::nullopt},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const JobOutcome o = DecideOutcome(Running(), &spec, row.end, log);
    EXPECT_EQ(o.event, row.event) << JobEventName(o.event);
    EXPECT_EQ(o.end_reason, row.reason) << EndReasonName(o.end_reason);
    EXPECT_EQ(o.exit_code, row.exit_code);
    EXPECT_EQ(o.error_message, row.error);
    const bool ran = row.end.kind == JobEnd::Kind::kExited || row.end.kind == JobEnd::Kind::kLost;
    const Json want_artifacts = ran ? Json{{"run_id", "r1"}} : Json::object();
    EXPECT_EQ(o.artifacts, want_artifacts);
    EXPECT_FALSE(o.artifacts_parse_error.has_value());
  }
}

TEST(JobOutcomeTest, ClusterEndsGiveTheirTypedReasonAndKeepTheClustersWords) {
  const JobTypeSpec spec = SpecWithRunArtifacts();
  const std::string log = "step 1\nrun_id: r1\n";
  for (EndReason reason : {EndReason::kOutOfMemory, EndReason::kNodeFail, EndReason::kPreempted}) {
    SCOPED_TRACE(EndReasonName(reason));
    ProcessExit x = Exit(std::nullopt, 9);
    x.cluster_reason = reason;
    x.error = "Slurm job 7 ended OUT_OF_MEMORY: it ran out of memory";
    x.executor_state = "OUT_OF_MEMORY";
    x.executor_reason = "None";
    const JobOutcome o = DecideOutcome(Running(), &spec, JobEnd::Exited(x), log);
    EXPECT_EQ(o.event, JobEvent::kJobFailed);
    EXPECT_EQ(o.end_reason, reason);
    EXPECT_EQ(o.exit_code, -9);
    EXPECT_EQ(o.error_message, "Slurm job 7 ended OUT_OF_MEMORY: it ran out of memory; last output:\nstep 1\nrun_id: r1");
    EXPECT_EQ(o.artifacts, (Json{{"run_id", "r1"}, {"executor_state", "OUT_OF_MEMORY"}, {"executor_reason", "None"}}));
  }
  // A cluster's TIMEOUT is a timeout, its words kept too.
  ProcessExit t = Exit(std::nullopt, 15);
  t.timed_out = true;
  t.error = "Slurm job 8 ended TIMEOUT: it reached its time limit and was stopped";
  t.executor_state = "TIMEOUT";
  const JobOutcome o = DecideOutcome(Running(), &spec, JobEnd::Exited(t), log);
  EXPECT_EQ(o.end_reason, EndReason::kTimeout);
  EXPECT_EQ(o.artifacts.value("executor_state", ""), "TIMEOUT");
}

TEST(JobOutcomeTest, FailedExitWithoutOutputSaysSo) {
  const JobTypeSpec spec = SpecWithRunArtifacts();
  const JobOutcome o = DecideOutcome(Running(), &spec, JobEnd::Exited(Exit(2)), "");
  EXPECT_EQ(o.error_message, "process exited with code 2 and printed nothing");
  ASSERT_TRUE(o.artifacts_parse_error.has_value());
  EXPECT_NE(o.artifacts_parse_error->find("missing artifact(s) run_id"), std::string::npos);
}

// A full disk (issue 12 item 10): a failure says "no space left on device" first; a process
// that exited 0 without reporting its run (the log line was lost) failed, never SUCCESS
// without a run id. With room on the disk the same ends are unchanged.
TEST(JobOutcomeTest, AFullDiskIsNamedAndAMissingRunIsAFailure) {
  const JobTypeSpec spec = SpecWithRunArtifacts();
  JobEnd ok = JobEnd::Exited(Exit(0));
  ok.disk_full = true;
  const JobOutcome lost_run = DecideOutcome(Running(), &spec, ok, "");
  EXPECT_EQ(lost_run.event, JobEvent::kJobFailed);
  EXPECT_EQ(lost_run.end_reason, EndReason::kExitCode);
  EXPECT_EQ(lost_run.exit_code, 0);
  ASSERT_TRUE(lost_run.error_message);
  EXPECT_EQ(lost_run.error_message->rfind("no space left on device", 0), 0u) << *lost_run.error_message;
  EXPECT_NE(lost_run.error_message->find("required artifacts were not reported"), std::string::npos);
  // Exited 0 with its run id reported: still a success.
  EXPECT_EQ(DecideOutcome(Running(), &spec, ok, "run_id: r1\n").event, JobEvent::kJobSucceeded);
  // A failure keeps its log summary after the cause.
  JobEnd failed = JobEnd::Exited(Exit(1));
  failed.disk_full = true;
  const JobOutcome f = DecideOutcome(Running(), &spec, failed, "error: cannot write runs/x: No space left on device\n");
  EXPECT_EQ(f.event, JobEvent::kJobFailed);
  EXPECT_EQ(f.exit_code, 1);
  ASSERT_TRUE(f.error_message);
  EXPECT_EQ(f.error_message->rfind("no space left on device (the workspace's disk is full): exited with code 1; last output:\n"
                                    "error: cannot write runs/x", 0), 0u) << *f.error_message;
  // Without a full disk: the old rules (SUCCESS with artifacts_parse_error; the log summary alone).
  EXPECT_EQ(DecideOutcome(Running(), &spec, JobEnd::Exited(Exit(0)), "").event, JobEvent::kJobSucceeded);
  EXPECT_EQ(DecideOutcome(Running(), &spec, JobEnd::Exited(Exit(1)), "boom error: x\n").error_message, "boom error: x");
}

// EndJobs looks at the disks only when FullDiskCouldChange says so: every other outcome is the
// same with a full disk.
TEST(JobOutcomeTest, AFullDiskChangesNothingWhereFullDiskCouldChangeSaysNo) {
  const JobTypeSpec with_run = SpecWithRunArtifacts();
  JobTypeSpec optional_run = with_run;
  optional_run.required_artifacts.clear();
  const JobTypeSpec plain;
  ProcessExit timed_out = Exit(-9);
  timed_out.timed_out = true;
  ProcessExit canceled = Exit(-15);
  canceled.canceled = true;
  ProcessExit spawn_error = Exit(0);
  spawn_error.error = "gone";
  int could_change = 0;
  const std::vector<const JobTypeSpec*> specs = {&with_run, &optional_run, &plain, nullptr};
  for (const JobTypeSpec* spec : specs) {
    for (const ProcessExit& x : std::vector<ProcessExit>{Exit(0), Exit(1), Exit(-9), timed_out, canceled, spawn_error}) {
      for (std::string_view log : {"", "run_id: r1\n", "boom error: x\n"}) {
        JobEnd end = JobEnd::Exited(x);
        const JobOutcome room = DecideOutcome(Running(), spec, end, log);
        end.disk_full = true;
        const JobOutcome full = DecideOutcome(Running(), spec, end, log);
        const bool same = room.event == full.event && room.end_reason == full.end_reason &&
                          room.exit_code == full.exit_code && room.error_message == full.error_message &&
                          room.artifacts == full.artifacts && room.artifacts_parse_error == full.artifacts_parse_error;
        if (FullDiskCouldChange(room, spec)) {
          ++could_change;
        } else {
          EXPECT_TRUE(same) << "exit " << x.exit_code.value_or(-1) << " log '" << log << "'";
        }
      }
    }
  }
  EXPECT_GT(could_change, 0);
  // A success that reported its run, or of a type without required artifacts: no look needed.
  EXPECT_FALSE(FullDiskCouldChange(DecideOutcome(Running(), &with_run, JobEnd::Exited(Exit(0)), "run_id: r1\n"),
                                   &with_run));
  EXPECT_FALSE(FullDiskCouldChange(DecideOutcome(Running(), &plain, JobEnd::Exited(Exit(0)), ""), &plain));
  EXPECT_TRUE(FullDiskCouldChange(DecideOutcome(Running(), &with_run, JobEnd::Exited(Exit(0)), ""), &with_run));
  EXPECT_TRUE(FullDiskCouldChange(DecideOutcome(Running(), &plain, JobEnd::Exited(Exit(1)), ""), &plain));
}

TEST(JobOutcomeTest, MissingArtifactsAreReportedExceptForCanceledJobs) {
  const JobTypeSpec spec = SpecWithRunArtifacts();
  const JobOutcome ok = DecideOutcome(Running(), &spec, JobEnd::Exited(Exit(0)), "no id here\n");
  EXPECT_EQ(ok.event, JobEvent::kJobSucceeded);
  ASSERT_TRUE(ok.artifacts_parse_error.has_value());
  ProcessExit canceled = Exit(0);
  canceled.canceled = true;
  EXPECT_FALSE(DecideOutcome(Running(), &spec, JobEnd::Exited(canceled), "").artifacts_parse_error.has_value());
  // A type no longer in the catalog.
  const JobOutcome gone = DecideOutcome(Running(), nullptr, JobEnd::Exited(Exit(0)), "");
  EXPECT_EQ(gone.artifacts_parse_error, "job type 'train' is no longer in the catalog");
}

TEST(JobOutcomeTest, TheLogIsReadOnlyWhenSomethingIsTakenFromIt) {
  const JobTypeSpec with_rules = SpecWithRunArtifacts();
  const JobTypeSpec no_rules;
  ProcessExit canceled = Exit(std::nullopt, SIGTERM);
  canceled.canceled = true;
  EXPECT_FALSE(OutcomeNeedsLog(JobEnd::Exited(Exit(0)), &no_rules));
  EXPECT_TRUE(OutcomeNeedsLog(JobEnd::Exited(Exit(0)), &with_rules));
  EXPECT_TRUE(OutcomeNeedsLog(JobEnd::Exited(Exit(1)), &no_rules));
  EXPECT_FALSE(OutcomeNeedsLog(JobEnd::Exited(canceled), &no_rules));
  EXPECT_TRUE(OutcomeNeedsLog(JobEnd::Lost(), &no_rules));
  EXPECT_FALSE(OutcomeNeedsLog(JobEnd::SpawnFailed("x"), &with_rules));
  EXPECT_FALSE(OutcomeNeedsLog(JobEnd::CanceledQueued(), &with_rules));
  EXPECT_FALSE(OutcomeNeedsLog(JobEnd::DryRun(), &with_rules));
}

TEST(JobOutcomeTest, EndReasonNamesRoundTrip) {
  const std::vector<std::string> names = {"exit_code", "signal",        "timeout",   "canceled", "spawn_failed",
                                          "lost",      "out_of_memory", "node_fail", "preempted"};
  ASSERT_EQ(std::size(kAllEndReasons), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(EndReasonName(kAllEndReasons[i]), names[i]);
    EXPECT_EQ(ParseEndReason(names[i]), kAllEndReasons[i]);
  }
  EXPECT_FALSE(ParseEndReason("EXIT_CODE").has_value());
  EXPECT_FALSE(ParseEndReason("").has_value());
}

TEST(JobOutcomeTest, ABuiltinsArtifactsComeFromItsResultFileNotItsLog) {
  JobTypeSpec spec;
  spec.name = "backtest";
  spec.result_kind = ResultKind::kBacktest;
  const std::string log = "bt_run_id: bt_from_log\nout_dir: backtests/bt_from_log\n";
  const Result<JobResult> written = JobResult::Backtest("job_x", "bt_1", {{"cagr", 0.1}});
  JobOutcome o = DecideOutcome(Running(), &spec, JobEnd::Exited(Exit(0)), log, &written);
  EXPECT_EQ(o.event, JobEvent::kJobSucceeded);
  EXPECT_EQ(o.artifacts, (Json{{"bt_run_id", "bt_1"}, {"bt_dir", "backtests/bt_1"}}));
  EXPECT_FALSE(o.artifacts_parse_error.has_value());
  EXPECT_FALSE(OutcomeNeedsLog(JobEnd::Exited(Exit(0)), &spec)) << "a successful built-in's log is not read";

  const Result<JobResult> missing = Status::NotFound("the job wrote no result file reports/jobs/runtime/job_x.result.json");
  o = DecideOutcome(Running(), &spec, JobEnd::Exited(Exit(0)), log, &missing);
  EXPECT_EQ(o.event, JobEvent::kJobSucceeded);
  EXPECT_EQ(o.artifacts, Json::object());
  EXPECT_EQ(o.artifacts_parse_error,
            "missing artifact(s) bt_dir, bt_run_id: the job wrote no result file reports/jobs/runtime/job_x.result.json");
  o = DecideOutcome(Running(), &spec, JobEnd::Exited(Exit(0)), log, nullptr);
  EXPECT_EQ(o.artifacts_parse_error, "missing artifact(s) bt_dir, bt_run_id: its result file was not read");

  const Result<JobResult> other = JobResult::Run("job_x", "run_1");
  o = DecideOutcome(Running(), &spec, JobEnd::Exited(Exit(0)), log, &other);
  EXPECT_EQ(o.artifacts, Json::object());
  EXPECT_NE(o.artifacts_parse_error.value_or("").find("is of kind 'run', job type 'backtest' writes 'backtest'"),
            std::string::npos);

  ProcessExit canceled = Exit(std::nullopt, SIGTERM);
  canceled.canceled = true;
  o = DecideOutcome(Running(), &spec, JobEnd::Exited(canceled), "", &missing);
  EXPECT_EQ(o.event, JobEvent::kJobCanceled);
  EXPECT_FALSE(o.artifacts_parse_error.has_value()) << "a canceled job promised nothing";

  JobTypeSpec eval;
  eval.name = "eval-metrics";
  eval.result_kind = ResultKind::kEvaluation;
  const Result<JobResult> evaluated = JobResult::Evaluation("job_x", "run_1", "runs/run_1/metrics_eval_base.json");
  EXPECT_EQ(DecideOutcome(Running(), &eval, JobEnd::Exited(Exit(0)), "", &evaluated).artifacts,
            (Json{{"run_id", "run_1"}}));
}

}  // namespace
}  // namespace alphalab

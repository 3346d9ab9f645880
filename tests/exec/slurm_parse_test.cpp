// The Slurm executor's pure parts, against output captured from Slurm 22.05 (squeue -O,
// scontrol show job -o, the jobcomp/filetxt file, sbatch --parsable).
#include "exec/slurm/slurm_parse.hpp"

#include <gtest/gtest.h>

#include "exec/slurm/slurm_executor.hpp"

namespace alphalab {
namespace {

// squeue -h -t all --me -O 'JobID:|,State:|,Reason:|,exit_code:|'
constexpr std::string_view kSqueue =
    "5|COMPLETED|None|0|\n"
    "1|FAILED|NonZeroExitCode|768|\n"
    "3|PENDING|Resources|0|\n"
    "2|RUNNING|None|0|\n"
    "9|CANCELLED|None|15|\n"
    "11|PENDING|JobHeldUser|0|\n"
    "garbage line\n";

// scontrol show job -o (trimmed to the fields that matter)
constexpr std::string_view kScontrol =
    "JobId=1 JobName=t1 UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 "
    "RunTime=00:00:03\n"
    "JobId=2 JobName=t2 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15\n"
    "JobId=4 ArrayJobId=3 ArrayTaskId=0 ArrayTaskThrottle=2 JobName=t3 JobState=COMPLETED Reason=None ExitCode=0:0\n";

// jobcomp/filetxt
constexpr std::string_view kJobcomp =
    "JobId=1 UserId=root(0) GroupId=root(0) Name=t1 JobState=FAILED Partition=debug TimeLimit=UNLIMITED "
    "StartTime=2026-12-03T03:44:14 EndTime=2026-12-03T03:44:17 NodeList=localhost DerivedExitCode=0:0 ExitCode=3:0 \n"
    "JobId=7 UserId=root(0) GroupId=root(0) Name=x JobState=OUT_OF_MEMORY Partition=debug ExitCode=0:9 \n"
    "JobId=8 UserId=root(0) Name=y JobState=NODE_FAIL ExitCode=0:0 \n";

TEST(SlurmParseTest, SqueueLinesBecomeJobsWithDecodedWaitStatus) {
  const auto jobs = ParseSqueue(kSqueue);
  ASSERT_EQ(jobs.size(), 6u);
  EXPECT_EQ(jobs[0].job_id, "5");
  EXPECT_EQ(jobs[0].state, "COMPLETED");
  EXPECT_EQ(jobs[0].exit_code, 0);
  EXPECT_EQ(jobs[1].state, "FAILED");
  EXPECT_EQ(jobs[1].reason, "NonZeroExitCode");
  EXPECT_EQ(jobs[1].exit_code, 3);  // 768 = 3 << 8
  EXPECT_FALSE(jobs[1].signal);
  EXPECT_EQ(jobs[2].reason, "Resources");
  EXPECT_EQ(jobs[4].signal, 15);
  EXPECT_EQ(jobs[5].reason, "JobHeldUser");
}

TEST(SlurmParseTest, ScontrolAndJobcompGiveStateReasonCodeAndSignal) {
  const auto jobs = ParseScontrolJobs(kScontrol);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].exit_code, 3);
  EXPECT_EQ(jobs[1].state, "TIMEOUT");
  EXPECT_EQ(jobs[1].reason, "TimeLimit");
  EXPECT_EQ(jobs[1].signal, 15);
  EXPECT_EQ(jobs[2].job_id, "3_0");  // an array task is named by its array and index

  const auto done = ParseJobcomp(kJobcomp);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].state, "FAILED");
  EXPECT_EQ(done[0].exit_code, 3);
  EXPECT_EQ(done[1].state, "OUT_OF_MEMORY");
  EXPECT_EQ(done[1].signal, 9);
  EXPECT_EQ(done[2].state, "NODE_FAIL");
}

// squeue -h -r -t all --me -O 'JobArrayID:|,State:|,Reason:|,exit_code:|' during
// `sbatch --array=0-5%2` (captured on the test cluster), then a plain job.
constexpr std::string_view kSqueueArray =
    "1_2|PENDING|JobArrayTaskLimit|0|\n"
    "1_5|PENDING|JobArrayTaskLimit|0|\n"
    "1_0|RUNNING|None|0|\n"
    "1_1|COMPLETED|None|0|\n"
    "7|FAILED|NonZeroExitCode|768|\n"
    "1_[3-4%2]|PENDING|JobArrayTaskLimit|0|\n"  // the folded form (without -r) is not a task
    "1_x|RUNNING|None|0|\n";

TEST(SlurmParseTest, ArrayTasksAreNamedArrayUnderscoreIndexInSqueueJobcompAndRefs) {
  const auto jobs = ParseSqueue(kSqueueArray);
  ASSERT_EQ(jobs.size(), 5u);
  EXPECT_EQ(jobs[0].job_id, "1_2");
  EXPECT_EQ(jobs[0].reason, "JobArrayTaskLimit");
  EXPECT_EQ(jobs[2].state, "RUNNING");
  EXPECT_EQ(jobs[4].job_id, "7");
  EXPECT_EQ(jobs[4].exit_code, 3);
  const auto done = ParseJobcomp(
      "JobId=5 UserId=root(0) Name=a.sh JobState=COMPLETED Partition=debug ArrayJobId=1 ArrayTaskId=3 "
      "DerivedExitCode=0:0 ExitCode=0:0 \n"
      "JobId=9 UserId=root(0) Name=a.sh JobState=CANCELLED Partition=debug ArrayJobId=1 ArrayTaskId=4 "
      "DerivedExitCode=0:0 ExitCode=0:15 \n");
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].job_id, "1_3");
  EXPECT_EQ(done[1].job_id, "1_4");
  EXPECT_TRUE(MapSlurmEnd(JobId("job_x"), done[1]).canceled);
  EXPECT_EQ(*ParseSlurmRef("slurm:12_3"), "12_3");
  EXPECT_FALSE(ParseSlurmRef("slurm:12_").ok());
  EXPECT_FALSE(ParseSlurmRef("slurm:_3").ok());
  EXPECT_FALSE(ParseSlurmRef("slurm:12_[3-4]").ok());
}

TEST(SlurmParseTest, ArrayScriptsQuoteEverythingAndRangesFold) {
  const std::string task = ArrayTaskScript({"/bin/prog", "it's", "$HOME"}, "/w s", "/logs/job_1.log",
                                           {{"ALPHALAB_JOB_ID", "job_1"}, {"Q", "a'b"}});
  EXPECT_EQ(task,
            "#!/bin/sh\n# alphalab job (a task of a job array): its log, its folder, its command.\n"
            "exec >>'/logs/job_1.log' 2>&1\n"
            "cd '/w s' || exit 126\n"
            "export 'ALPHALAB_JOB_ID=job_1'\n"
            "export 'Q=a'\\''b'\n"
            "exec '/bin/prog' 'it'\\''s' '$HOME'\n");
  const std::string wrapper = ArrayWrapperScript("/ws/it's.index");
  EXPECT_NE(wrapper.find("sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" '/ws/it'\\''s.index'"), std::string::npos) << wrapper;
  EXPECT_NE(wrapper.find("exec /bin/sh \"$script\""), std::string::npos);
  EXPECT_EQ(SlurmIndexRanges({0, 1, 2, 3, 5, 7, 8}), "[0-3,5,7-8]");
  EXPECT_EQ(SlurmIndexRanges({4}), "[4]");
}

TEST(SlurmParseTest, EndsMapOntoOurStatesAndTypedReasons) {
  const JobId id("job_1");
  auto end = [&](std::string state, std::optional<int> code, std::optional<int> sig = std::nullopt) {
    SlurmJobInfo info{"42", std::move(state), "None", code, sig};
    return MapSlurmEnd(id, info);
  };
  ProcessExit ok = end("COMPLETED", 0);
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_TRUE(ok.error.empty());
  EXPECT_EQ(ok.executor_state, "COMPLETED");

  ProcessExit failed = end("FAILED", 3);
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_FALSE(failed.cluster_reason);

  ProcessExit killed = end("FAILED", 0, 9);
  EXPECT_EQ(killed.signal, 9);
  EXPECT_FALSE(killed.exit_code);

  ProcessExit timeout = end("TIMEOUT", 0, 15);
  EXPECT_TRUE(timeout.timed_out);
  EXPECT_NE(timeout.error.find("time limit"), std::string::npos);

  EXPECT_TRUE(end("CANCELLED", 0, 15).canceled);
  EXPECT_TRUE(end("CANCELLED by 0", 0).canceled);
  EXPECT_EQ(end("OUT_OF_MEMORY", 0, 9).cluster_reason, EndReason::kOutOfMemory);
  EXPECT_EQ(end("NODE_FAIL", 0).cluster_reason, EndReason::kNodeFail);
  EXPECT_EQ(end("BOOT_FAIL", 0).cluster_reason, EndReason::kNodeFail);
  EXPECT_EQ(end("PREEMPTED", 0).cluster_reason, EndReason::kPreempted);
  ProcessExit odd = end("REVOKED", 0);
  EXPECT_EQ(odd.exit_code, 1);
  EXPECT_NE(odd.error.find("REVOKED"), std::string::npos);
}

TEST(SlurmParseTest, TerminalStates) {
  for (std::string_view s : {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED"}) {
    EXPECT_TRUE(IsSlurmTerminal(s)) << s;
  }
  for (std::string_view s : {"PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "REQUEUED"}) {
    EXPECT_FALSE(IsSlurmTerminal(s)) << s;
  }
}

TEST(SlurmParseTest, BatchScriptQuotesEveryArgument) {
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote("it's $HOME `x` \"q\""), "'it'\\''s $HOME `x` \"q\"'");
  EXPECT_EQ(BatchScript({"/bin/echo", "a b", ";rm -rf /"}),
            "#!/bin/sh\n# alphalab job: the whole script is the job's own command.\n"
            "exec '/bin/echo' 'a b' ';rm -rf /'\n");
}

TEST(SlurmParseTest, RefsAndSbatchOutput) {
  EXPECT_EQ(FormatSlurmRef("123"), "slurm:123");
  EXPECT_EQ(*ParseSlurmRef("slurm:123"), "123");
  EXPECT_FALSE(ParseSlurmRef("local:1:2").ok());
  EXPECT_FALSE(ParseSlurmRef("slurm:12a").ok());
  EXPECT_FALSE(ParseSlurmRef("slurm:").ok());
  EXPECT_EQ(*ParseSbatchOutput("77\n"), "77");
  EXPECT_EQ(*ParseSbatchOutput("78;cluster\n"), "78");
  EXPECT_FALSE(ParseSbatchOutput("sbatch: error: something\n").ok());
}

TEST(SlurmParseTest, ConfigValues) {
  constexpr std::string_view kConfig =
      "Configuration data as of 2026-12-03T03:44:14\n"
      "JobCompLoc              = /tmp/x/jobcomp.txt\n"
      "JobCompType             = jobcomp/filetxt\n"
      "MaxArraySize            = 1001\n";
  EXPECT_EQ(ScontrolConfigValue(kConfig, "JobCompLoc"), "/tmp/x/jobcomp.txt");
  EXPECT_EQ(ScontrolConfigValue(kConfig, "MaxArraySize"), "1001");
  EXPECT_FALSE(ScontrolConfigValue(kConfig, "Nope"));
}

TEST(SlurmParseTest, SbatchCommandLine) {
  SlurmExecutorOptions o;
  o.partition = "gpu";
  o.account = "lab";
  o.time_limit = "2:00:00";
  o.sbatch_args = {"--mem=4G"};
  SlurmExecutor ex(o);
  ProcessSpec spec;
  spec.job_id = JobId("job_x");
  spec.cwd = "/w";
  spec.log_path = "/w/x.log";
  auto argv = ex.SbatchArgv(spec, "/w/x.log.sbatch");
  const std::vector<std::string> want = {"sbatch", "--parsable", "--job-name=alphalab-job_x", "--output=/w/x.log",
                                         "--error=/w/x.log", "--open-mode=append", "--chdir=/w", "--export=ALL",
                                         "--partition=gpu", "--account=lab", "--time=2:00:00", "--mem=4G",
                                         "/w/x.log.sbatch"};
  EXPECT_EQ(argv, want);
  spec.timeout = std::chrono::seconds(61);  // the job's own timeout wins, rounded up to minutes
  argv = ex.SbatchArgv(spec, "/w/s");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--time=2"), argv.end());
  EXPECT_EQ(SlurmTimeForTimeout(std::chrono::seconds(1)), "1");
  ex.Shutdown();
}

}  // namespace
}  // namespace alphalab

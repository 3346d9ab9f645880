// LocalExecutor against real processes: /bin/sh scripts, real signals, real files.
#include "exec/local/local_executor.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "exec/local/supervisor_protocol.hpp"
#include "store/temp_dir.hpp"

namespace alphalab {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

const char* kShim = ALPHALAB_BINARY_DIR "/bin/alphalab-shim";

// Collects on_exit calls; shared so a late callback never touches a dead test.
class ExitRecorder {
 public:
  static std::shared_ptr<ExitRecorder> Make() { return std::make_shared<ExitRecorder>(); }
  static ExitCallback CallbackOf(const std::shared_ptr<ExitRecorder>& self) {
    return [self](const ProcessExit& exit) {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->exits_.push_back(exit);
      self->cv_.notify_all();
    };
  }
  std::optional<ProcessExit> Wait(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !exits_.empty(); })) return std::nullopt;
    return exits_.front();
  }
  size_t calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return exits_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ProcessExit> exits_;
};

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// Fields of /proc/<pid>/stat (or a copy of its text) by their number in proc(5); empty when
// unreadable.
std::string StatField(const std::string& stat, int field) {
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 2));  // field 3 onwards
  std::string value;
  for (int i = 3; i <= field && (rest >> value); ++i) {
    if (i == field) return value;
  }
  return "";
}

std::string ProcStat(int pid) { return ReadAll("/proc/" + std::to_string(pid) + "/stat"); }

// Live (non-zombie) processes whose process group is `pgid`.
std::vector<int> LiveMembersOfGroup(int pgid) {
  std::vector<int> members;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = ReadAll(entry.path() / "stat");
    const std::string state = StatField(stat, 3);
    if (state.empty() || state == "Z" || state == "X") continue;
    if (std::atoi(StatField(stat, 5).c_str()) == pgid) members.push_back(std::atoi(name.c_str()));
  }
  return members;
}

bool ProcessLives(int pid) {
  Result<uint64_t> start = ProcessStartTime(pid);
  return start.ok();
}

class LocalExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    log_ = dir_.path() / "logs" / "job.log";
  }

  LocalExecutorOptions Options() {
    LocalExecutorOptions options;
    options.shim_path = kShim;
    options.kill_grace = 300ms;
    options.slots = 4;
    return options;
  }

  ProcessSpec Spec(std::vector<std::string> argv, const std::string& id = "job_test") {
    ProcessSpec spec;
    spec.job_id = JobId(id);
    spec.argv = std::move(argv);
    spec.cwd = dir_.path();
    spec.log_path = log_;
    return spec;
  }

  ProcessSpec Sh(const std::string& script, const std::string& id = "job_test") {
    return Spec({"/bin/sh", "-c", script}, id);
  }

  // Submits and waits for the end; fails the test on a submit error or a hang.
  ProcessExit Run(LocalExecutor& executor, const ProcessSpec& spec) {
    auto recorder = ExitRecorder::Make();
    Result<std::string> ref = executor.Submit(spec, ExitRecorder::CallbackOf(recorder));
    EXPECT_TRUE(ref.ok()) << ref.status().ToString();
    if (!ref.ok()) return {};
    std::optional<ProcessExit> exit = recorder->Wait();
    EXPECT_TRUE(exit.has_value()) << "job did not end";
    return exit.value_or(ProcessExit{});
  }

  // `n` jobs that wait for a file "go" in the test's directory; their pids (fewer on a failure).
  std::vector<int> SubmitJobsWaitingForGo(LocalExecutor& executor, int n, const std::string& prefix) {
    std::vector<int> pids;
    for (int i = 0; i < n; ++i) {
      ProcessSpec spec = Sh("while [ ! -e go ]; do sleep 0.02; done", "job_" + prefix + std::to_string(i));
      spec.log_path = dir_.path() / (prefix + std::to_string(i) + ".log");
      Result<std::string> ref = executor.Submit(spec, nullptr);
      EXPECT_TRUE(ref.ok()) << ref.status().ToString();
      if (!ref.ok()) break;
      pids.push_back(ParseLocalRef(*ref)->pid);
    }
    return pids;
  }

  TempDir dir_;
  std::filesystem::path log_;
};

TEST_F(LocalExecutorTest, ReportsTheExitCodeAndAPidRef) {
  LocalExecutor executor(Options());
  ASSERT_TRUE(executor.init_status().ok()) << executor.init_status().ToString();
  auto recorder = ExitRecorder::Make();
  Result<std::string> ref = executor.Submit(Sh("exit 7"), ExitRecorder::CallbackOf(recorder));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  Result<LocalProcessRef> parsed = ParseLocalRef(*ref);
  ASSERT_TRUE(parsed.ok()) << *ref;
  EXPECT_GT(parsed->pid, 1);
  EXPECT_GT(parsed->start_time, 0u);
  std::optional<ProcessExit> exit = recorder->Wait();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->job_id, JobId("job_test"));
  EXPECT_EQ(exit->exit_code, 7);
  EXPECT_FALSE(exit->signal);
  EXPECT_FALSE(exit->canceled);
  EXPECT_FALSE(exit->timed_out);
  EXPECT_TRUE(exit->error.empty()) << exit->error;
  EXPECT_EQ(Run(executor, Sh("exit 0", "job_zero")).exit_code, 0);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(recorder->calls(), 1u);  // exactly once
  EXPECT_EQ(executor.Running(), 0);
}

TEST_F(LocalExecutorTest, RecordsStartsWhereTheFileSystemKeepsUserXattrsAndLeavesNoProbe) {
  // The jobs service writes RUNNING rows late only where a start leaves a record (the job's
  // "user.alphalab.start" xattr on its log); a folder whose file system refuses user xattrs, or
  // no folder at all, answers false.
  const std::filesystem::path dir = dir_.path() / "probe";
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "own_probe";
  { std::ofstream(file) << ""; }
  const bool xattrs = setxattr(file.c_str(), "user.alphalab.test", "1", 1, 0) == 0;
  std::filesystem::remove(file);
  LocalExecutor executor(Options());
  EXPECT_EQ(executor.RecordsStartsIn(dir), xattrs);
  EXPECT_TRUE(std::filesystem::is_empty(dir));  // the probe file is removed
  EXPECT_FALSE(executor.RecordsStartsIn(dir_.path() / "missing"));
}

TEST_F(LocalExecutorTest, ReportsTheSignalThatKilledTheProgram) {
  LocalExecutor executor(Options());
  ProcessExit exit = Run(executor, Sh("kill -USR1 $$; sleep 5"));
  EXPECT_EQ(exit.signal, SIGUSR1);
  EXPECT_FALSE(exit.exit_code);
  EXPECT_FALSE(exit.canceled);
}

TEST_F(LocalExecutorTest, MergesStdoutAndStderrInOrderAndAppends) {
  std::filesystem::create_directories(log_.parent_path());
  std::ofstream(log_) << "previous\n";
  LocalExecutor executor(Options());
  ProcessExit exit = Run(executor, Sh("for i in 1 2 3; do echo out$i; echo err$i >&2; done; "
                                      "printf 'no newline'"));
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_EQ(ReadAll(log_), "previous\nout1\nerr1\nout2\nerr2\nout3\nerr3\nno newline");
}

TEST_F(LocalExecutorTest, CreatesTheLogDirectoryWhenMissing) {
  log_ = dir_.path() / "deep" / "er" / "job.log";
  LocalExecutor executor(Options());
  EXPECT_EQ(Run(executor, Sh("echo hi")).exit_code, 0);
  EXPECT_EQ(ReadAll(log_), "hi\n");
}

TEST_F(LocalExecutorTest, EnvironmentIsTheServersPlusTheSpecs) {
  ASSERT_EQ(setenv("ALPHALAB_FROM_SERVER", "inherited", 1), 0);
  ASSERT_EQ(setenv("ALPHALAB_OVERRIDDEN", "server value", 1), 0);
  LocalExecutor executor(Options());
  ProcessSpec spec = Sh("echo \"[$ALPHALAB_FROM_SERVER][$ALPHALAB_OVERRIDDEN][$ALPHALAB_NEW]\"");
  spec.env = {{"ALPHALAB_OVERRIDDEN", "job value"}, {"ALPHALAB_NEW", "a b=c"}};
  EXPECT_EQ(Run(executor, spec).exit_code, 0);
  EXPECT_EQ(ReadAll(log_), "[inherited][job value][a b=c]\n");
  unsetenv("ALPHALAB_FROM_SERVER");
  unsetenv("ALPHALAB_OVERRIDDEN");
}

TEST_F(LocalExecutorTest, JobsGetAPassiveOpenMpPolicyAndTheThreadsOfTheirSlot) {
  unsetenv("OMP_WAIT_POLICY");
  unsetenv("OMP_NUM_THREADS");
  LocalExecutorOptions options = Options();
  options.slots = 1;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  {
    LocalExecutor executor(options);
    EXPECT_EQ(Run(executor, Sh("echo \"[$OMP_WAIT_POLICY][$OMP_NUM_THREADS]\"")).exit_code, 0);
    // One slot owns every core: one training alone still uses them all.
    EXPECT_EQ(ReadAll(log_), "[passive][" + std::to_string(cores) + "]\n");
  }
  std::filesystem::remove(log_);
  {
    // As many slots as cores (the server's default): one thread per job.
    options.slots = static_cast<int>(cores);
    LocalExecutor executor(options);
    ProcessSpec spec = Sh("echo \"[$OMP_WAIT_POLICY][$OMP_NUM_THREADS]\"");
    EXPECT_EQ(Run(executor, spec).exit_code, 0);
    EXPECT_EQ(ReadAll(log_), "[passive][1]\n");
  }
  std::filesystem::remove(log_);
  {
    // The job's own settings win, then the server's.
    ASSERT_EQ(setenv("OMP_WAIT_POLICY", "active", 1), 0);
    LocalExecutor executor(options);
    ProcessSpec spec = Sh("echo \"[$OMP_WAIT_POLICY][$OMP_NUM_THREADS]\"");
    spec.env = {{"OMP_NUM_THREADS", "3"}};
    EXPECT_EQ(Run(executor, spec).exit_code, 0);
    EXPECT_EQ(ReadAll(log_), "[active][3]\n");
    unsetenv("OMP_WAIT_POLICY");
  }
}

TEST(ThreadPolicyTest, ThreadsAreTheCoresASlotOwnsAndAtLeastOne) {
  EXPECT_EQ(ThreadPolicyEnvironment(1, 8).at("OMP_NUM_THREADS"), "8");
  EXPECT_EQ(ThreadPolicyEnvironment(2, 8).at("OMP_NUM_THREADS"), "4");
  EXPECT_EQ(ThreadPolicyEnvironment(3, 8).at("OMP_NUM_THREADS"), "2");
  EXPECT_EQ(ThreadPolicyEnvironment(2, 2).at("OMP_NUM_THREADS"), "1");
  EXPECT_EQ(ThreadPolicyEnvironment(16, 2).at("OMP_NUM_THREADS"), "1");
  EXPECT_EQ(ThreadPolicyEnvironment(2, 2).at("OMP_WAIT_POLICY"), "passive");
}

TEST(ThreadPolicyTest, JobEnvironmentPrecedence) {
  std::string a = "A=server", b = "OMP_WAIT_POLICY=active";
  char* server[] = {a.data(), b.data(), nullptr};
  const auto env = BuildJobEnvironment(server, {{"A", "job"}, {"B", "job"}},
                                       {{"OMP_WAIT_POLICY", "passive"}, {"OMP_NUM_THREADS", "1"}, {"B", "default"}});
  EXPECT_EQ(env, (std::vector<std::string>{"OMP_WAIT_POLICY=active", "A=job", "B=job", "OMP_NUM_THREADS=1"}));
}

TEST_F(LocalExecutorTest, RunsInTheGivenCwdAndResolvesRelativePrograms) {
  const auto work = dir_.path() / "work dir";
  std::filesystem::create_directories(work / "bin");
  {
    std::ofstream script(work / "bin" / "tool.sh");
    script << "#!/bin/sh\necho \"tool in $(pwd) args=$*\"\n";
  }
  std::filesystem::permissions(work / "bin" / "tool.sh", std::filesystem::perms::owner_all);
  LocalExecutor executor(Options());
  ProcessSpec spec = Spec({"./bin/tool.sh", "x", "y z"});
  spec.cwd = work;
  EXPECT_EQ(Run(executor, spec).exit_code, 0);
  EXPECT_EQ(ReadAll(log_), "tool in " + work.string() + " args=x y z\n");

  // A bare name is looked up in the job's PATH (spec.env overrides the server's).
  std::filesystem::remove(log_);
  ProcessSpec by_name = Spec({"tool.sh", "q"}, "job_by_name");
  by_name.cwd = work;
  by_name.env = {{"PATH", (work / "bin").string() + ":/usr/bin:/bin"}};
  EXPECT_EQ(Run(executor, by_name).exit_code, 0);
  EXPECT_EQ(ReadAll(log_), "tool in " + work.string() + " args=q\n");
}

TEST_F(LocalExecutorTest, ArgumentsReachTheProgramVerbatimWithoutAShell) {
  LocalExecutor executor(Options());
  ProcessSpec spec = Spec({"printf", "[%s]", "$HOME", "a;b", "*", "'q'", ""});
  EXPECT_EQ(Run(executor, spec).exit_code, 0);
  EXPECT_EQ(ReadAll(log_), "[$HOME][a;b][*]['q'][]");
}

TEST_F(LocalExecutorTest, StdinIsEmptyAndServerDescriptorsDoNotLeak) {
  // A descriptor the server opened without O_CLOEXEC must not reach the job.
  const int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(dup2(fd, 57), 57);
  LocalExecutor executor(Options());
  ProcessExit exit = Run(executor, Sh("cat; if [ -e /proc/$$/fd/57 ]; then echo leaked; else echo clean; fi"));
  close(57);
  close(fd);
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_EQ(ReadAll(log_), "clean\n");
}

TEST_F(LocalExecutorTest, SpawnFailuresAreReturnedAndNeverCallBack) {
  LocalExecutor executor(Options());
  auto recorder = ExitRecorder::Make();

  Result<std::string> missing = executor.Submit(Spec({"/no/such/program"}), ExitRecorder::CallbackOf(recorder));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/no/such/program"), std::string::npos);
  EXPECT_NE(missing.status().message().find("No such file"), std::string::npos) << missing.status().message();

  ProcessSpec not_in_path_spec = Spec({"alphalab-no-such-tool"});
  not_in_path_spec.env["PATH"] = "/opt/alphalab-secret-dir/bin:/usr/bin:/bin";
  Result<std::string> not_in_path = executor.Submit(not_in_path_spec, ExitRecorder::CallbackOf(recorder));
  ASSERT_FALSE(not_in_path.ok());
  EXPECT_NE(not_in_path.status().message().find("not found in the server's PATH"), std::string::npos)
      << not_in_path.status().message();
  // The message becomes the job's error, which API clients read: the server's directories stay out.
  EXPECT_EQ(not_in_path.status().message().find("/opt/alphalab-secret-dir"), std::string::npos)
      << not_in_path.status().message();

  ProcessSpec bad_cwd = Sh("true");
  bad_cwd.cwd = dir_.path() / "gone";
  Result<std::string> cwd = executor.Submit(bad_cwd, ExitRecorder::CallbackOf(recorder));
  ASSERT_FALSE(cwd.ok());
  EXPECT_NE(cwd.status().message().find("gone"), std::string::npos) << cwd.status().message();

  std::ofstream(dir_.path() / "data.txt") << "not a program";
  Result<std::string> not_exec = executor.Submit(Spec({"./data.txt"}), ExitRecorder::CallbackOf(recorder));
  ASSERT_FALSE(not_exec.ok());
  EXPECT_NE(not_exec.status().message().find("Permission denied"), std::string::npos)
      << not_exec.status().message();

  Result<std::string> empty = executor.Submit(Spec({}), ExitRecorder::CallbackOf(recorder));
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);

  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(recorder->calls(), 0u);
  EXPECT_EQ(executor.Running(), 0);
}

TEST_F(LocalExecutorTest, ProgramThatCannotBeExecutedIsASpawnFailureExplainedInTheLog) {
  // Passes the executable check but exec fails (its interpreter is missing).
  {
    std::ofstream script(dir_.path() / "broken.sh");
    script << "#!/no/such/interpreter\n";
  }
  std::filesystem::permissions(dir_.path() / "broken.sh", std::filesystem::perms::owner_all);
  LocalExecutor executor(Options());
  auto recorder = ExitRecorder::Make();
  Result<std::string> ref = executor.Submit(Spec({"./broken.sh"}), ExitRecorder::CallbackOf(recorder));
  ASSERT_FALSE(ref.ok());
  EXPECT_NE(ref.status().message().find("cannot execute"), std::string::npos) << ref.status().message();
  EXPECT_NE(ref.status().message().find("No such file"), std::string::npos) << ref.status().message();
  EXPECT_NE(ReadAll(log_).find("cannot execute"), std::string::npos);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(recorder->calls(), 0u);
  EXPECT_EQ(executor.Running(), 0);
  // The executor stays usable.
  EXPECT_EQ(Run(executor, Sh("exit 3", "job_next")).exit_code, 3);
}

TEST_F(LocalExecutorTest, TimeoutTerminatesTheJob) {
  LocalExecutor executor(Options());
  ProcessSpec spec = Sh("echo started; sleep 30");
  spec.timeout = 1s;
  const auto t0 = std::chrono::steady_clock::now();
  ProcessExit exit = Run(executor, spec);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(exit.timed_out);
  EXPECT_FALSE(exit.canceled);
  EXPECT_EQ(exit.signal, SIGTERM);
  EXPECT_GE(took, 1s);
  EXPECT_LT(took, 3s);
}

TEST_F(LocalExecutorTest, TimeoutEscalatesToSigkillWhenSigtermIsIgnored) {
  LocalExecutor executor(Options());
  ProcessSpec spec = Sh("trap '' TERM; echo started; sleep 30");
  spec.timeout = 1s;
  const auto t0 = std::chrono::steady_clock::now();
  ProcessExit exit = Run(executor, spec);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(exit.timed_out);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_GE(took, 1300ms);  // timeout + grace
  EXPECT_LT(took, 4s);
}

TEST_F(LocalExecutorTest, CancelKillsTheWholeTreeEvenWhenTheParentIgnoresSigterm) {
  LocalExecutor executor(Options());
  auto recorder = ExitRecorder::Make();
  // The grandchild is started before the trap (default SIGTERM) and a second one after it
  // (inherits the ignored SIGTERM); the parent ignores SIGTERM and waits.
  ProcessSpec spec = Sh(
      "sleep 1000 & echo $! > gc1.pid; trap '' TERM; sleep 1000 & echo $! > gc2.pid; "
      "echo ready; wait");
  Result<std::string> ref = executor.Submit(spec, ExitRecorder::CallbackOf(recorder));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  const int pgid = ParseLocalRef(*ref)->pid;
  ASSERT_TRUE(WaitFor([&] { return ReadAll(log_).find("ready") != std::string::npos; }));
  const int gc1 = std::atoi(ReadAll(dir_.path() / "gc1.pid").c_str());
  const int gc2 = std::atoi(ReadAll(dir_.path() / "gc2.pid").c_str());
  ASSERT_GT(gc1, 1);
  ASSERT_GT(gc2, 1);
  ASSERT_GE(LiveMembersOfGroup(pgid).size(), 3u);  // sh, two sleeps

  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(executor.Cancel(JobId("job_test")).ok());
  EXPECT_TRUE(executor.Cancel(JobId("job_test")).ok());  // idempotent
  std::optional<ProcessExit> exit = recorder->Wait();
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->canceled);
  EXPECT_EQ(exit->signal, SIGKILL);  // the parent ignored SIGTERM
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);  // waited for the grace period
  EXPECT_TRUE(WaitFor([&] { return LiveMembersOfGroup(pgid).empty(); }, 2s))
      << "still alive in group " << pgid << ": " << LiveMembersOfGroup(pgid).size();
  EXPECT_FALSE(ProcessLives(gc1));
  EXPECT_FALSE(ProcessLives(gc2));
  EXPECT_EQ(executor.Cancel(JobId("job_test")).code(), StatusCode::kNotFound);
}

TEST_F(LocalExecutorTest, CancelOfAPoliteJobEndsItWithSigterm) {
  LocalExecutor executor(Options());
  auto recorder = ExitRecorder::Make();
  ASSERT_TRUE(executor.Submit(Sh("echo ready; sleep 1000"), ExitRecorder::CallbackOf(recorder)).ok());
  ASSERT_TRUE(WaitFor([&] { return ReadAll(log_).find("ready") != std::string::npos; }));
  ASSERT_TRUE(executor.Cancel(JobId("job_test")).ok());
  std::optional<ProcessExit> exit = recorder->Wait(2s);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->canceled);
  EXPECT_EQ(exit->signal, SIGTERM);  // no SIGKILL was needed
}

TEST_F(LocalExecutorTest, LeftoverProcessesDieWhenTheJobEnds) {
  LocalExecutor executor(Options());
  ProcessExit exit = Run(executor, Sh("sleep 1000 & echo $! > gc.pid; exit 3"));
  EXPECT_EQ(exit.exit_code, 3);
  const int gc = std::atoi(ReadAll(dir_.path() / "gc.pid").c_str());
  ASSERT_GT(gc, 1);
  EXPECT_TRUE(WaitFor([&] { return !ProcessLives(gc); }, 2s));
}

TEST_F(LocalExecutorTest, UnknownJobsCannotBeCanceledAndIdsAreUniqueWhileRunning) {
  LocalExecutor executor(Options());
  EXPECT_EQ(executor.Cancel(JobId("job_unknown")).code(), StatusCode::kNotFound);
  auto recorder = ExitRecorder::Make();
  ASSERT_TRUE(executor.Submit(Sh("sleep 1000"), ExitRecorder::CallbackOf(recorder)).ok());
  EXPECT_EQ(executor.Submit(Sh("true"), nullptr).status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(executor.Cancel(JobId("job_test")).ok());
  ASSERT_TRUE(recorder->Wait());
}


// Whether this process may put a thread under SCHED_FIFO (tried in a child).
bool MayUseRealtime() {
  const pid_t child = fork();
  if (child == 0) {
    sched_param lowest{};
    lowest.sched_priority = sched_get_priority_min(SCHED_FIFO);
    _exit(sched_setscheduler(0, SCHED_FIFO, &lowest) == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_F(LocalExecutorTest, TheSupervisorRunsRealtimeWhereItMayAndItsJobsNever) {
  const std::string kOther = "0", kFifo = "1";  // proc(5) field 41, policy
  const bool may = MayUseRealtime();
  LocalExecutor executor(Options());
  ASSERT_TRUE(executor.init_status().ok()) << executor.init_status().ToString();
  EXPECT_EQ(executor.SupervisorRealtime(), may);
  const std::string supervisor = ProcStat(executor.SupervisorPid());
  EXPECT_EQ(StatField(supervisor, 41), may ? kFifo : kOther) << supervisor;
  // The warden (the supervisor's parent) and the jobs: the normal policy, with this process's
  // nice value (not the real-time priority, and not reset to another nice value).
  const std::string warden = ProcStat(std::atoi(StatField(supervisor, 4).c_str()));
  EXPECT_EQ(StatField(warden, 41), kOther) << warden;
  EXPECT_EQ(Run(executor, Spec({"/bin/cat", "/proc/self/stat"})).exit_code, 0);
  const std::string job = ReadAll(log_);
  EXPECT_EQ(StatField(job, 41), kOther) << job;
  EXPECT_EQ(StatField(job, 19), std::to_string(getpriority(PRIO_PROCESS, 0))) << job;
  EXPECT_EQ(StatField(job, 40), "0") << job;  // rt_priority
  // And what the job starts: still the normal policy.
  log_ = dir_.path() / "logs" / "grandchild.log";
  EXPECT_EQ(Run(executor, Sh("cat /proc/self/stat", "job_grandchild")).exit_code, 0);
  EXPECT_EQ(StatField(ReadAll(log_), 41), kOther);
}

TEST_F(LocalExecutorTest, JobsIgnoreNoSignalAndBlockNone) {
  // The supervisor ignores SIGTERM, SIGINT, SIGHUP and SIGPIPE and blocks SIGCHLD; its jobs
  // start with every disposition at its default and an empty mask (proc(5): SigIgn, SigBlk).
  LocalExecutor executor(Options());
  ASSERT_TRUE(executor.init_status().ok()) << executor.init_status().ToString();
  const std::string supervisor = ReadAll("/proc/" + std::to_string(executor.SupervisorPid()) + "/status");
  EXPECT_EQ(supervisor.find("SigIgn:\t0000000000000000"), std::string::npos) << supervisor;
  EXPECT_EQ(Run(executor, Spec({"/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"})).exit_code, 0);
  // Signals 1-31 (the low 31 bits); 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID), which it
  // takes over in every program it starts.
  const std::string shown = ReadAll(log_);
  const size_t blk = shown.find("SigBlk:\t"), ign = shown.find("SigIgn:\t");
  ASSERT_NE(blk, std::string::npos) << shown;
  ASSERT_NE(ign, std::string::npos) << shown;
  EXPECT_EQ(std::stoull(shown.substr(blk + 8, 16), nullptr, 16) & 0x7fffffffULL, 0u) << shown;
  EXPECT_EQ(std::stoull(shown.substr(ign + 8, 16), nullptr, 16) & 0x7fffffffULL, 0u) << shown;
}

TEST_F(LocalExecutorTest, ANormalPrioritySupervisorIsNotRealtime) {
  LocalExecutorOptions options = Options();
  options.realtime_supervisor = false;
  LocalExecutor executor(options);
  ASSERT_TRUE(executor.init_status().ok()) << executor.init_status().ToString();
  EXPECT_FALSE(executor.SupervisorRealtime());
  EXPECT_EQ(StatField(ProcStat(executor.SupervisorPid()), 41), "0");
  EXPECT_EQ(Run(executor, Sh("exit 3")).exit_code, 3);
}

TEST_F(LocalExecutorTest, CapacityComesFromSlotsOrTheCores) {
  LocalExecutorOptions options = Options();
  options.slots = 3;
  EXPECT_EQ(LocalExecutor(options).Capacity(), 3);
  options.slots = 0;
  EXPECT_EQ(LocalExecutor(options).Capacity(),
            std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
}

TEST_F(LocalExecutorTest, MissingShimIsReportedUpFront) {
  LocalExecutorOptions options = Options();
  options.shim_path = dir_.path() / "no-shim";
  Result<std::unique_ptr<LocalExecutor>> created = LocalExecutor::Create(options);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("no-shim"), std::string::npos);
  LocalExecutor executor(options);
  EXPECT_FALSE(executor.Submit(Sh("true"), nullptr).ok());
}

TEST_F(LocalExecutorTest, ManyConcurrentJobsEachReportExactlyOnce) {
  LocalExecutor executor(Options());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 15;
  std::atomic<int> callbacks{0};
  std::mutex mu;
  std::map<std::string, int> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "job_" + std::to_string(t) + "_" + std::to_string(i);
        ProcessSpec spec = Sh("exit " + std::to_string(i), id);
        spec.log_path = dir_.path() / (id + ".log");
        Result<std::string> ref = executor.Submit(spec, [&, i](const ProcessExit& exit) {
          std::lock_guard<std::mutex> lock(mu);
          seen[exit.job_id.str()] += 1;
          EXPECT_EQ(exit.exit_code, i) << exit.job_id.str();
          ++callbacks;
        });
        EXPECT_TRUE(ref.ok()) << ref.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(WaitFor([&] { return callbacks.load() == kThreads * kPerThread; }, 20s));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(callbacks.load(), kThreads * kPerThread);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(executor.Running(), 0);
}

TEST_F(LocalExecutorTest, ShutdownLeavesChildrenRunning) {
  auto recorder = ExitRecorder::Make();
  int pid = 0;
  {
    LocalExecutor executor(Options());
    Result<std::string> ref = executor.Submit(Sh("sleep 1000"), ExitRecorder::CallbackOf(recorder));
    ASSERT_TRUE(ref.ok());
    pid = ParseLocalRef(*ref)->pid;
    executor.Shutdown();
    EXPECT_EQ(executor.Submit(Sh("true", "job_after"), nullptr).status().code(), StatusCode::kUnavailable);
  }  // destroyed too
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(ProcessLives(pid));
  EXPECT_EQ(recorder->calls(), 0u);
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// ---- re-attach after a restart ---------------------------------------------------------

// Submits from a forked "server" process that then dies without cleaning up (like kill -9),
// so the job's processes are not children of this test process. Returns the ref.
std::string SubmitFromDyingServer(const LocalExecutorOptions& options, const ProcessSpec& spec) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  const pid_t server = fork();
  if (server == 0) {
    close(fds[0]);
    LocalExecutor executor(options);
    Result<std::string> ref = executor.Submit(spec, nullptr);
    const std::string out = ref.ok() ? *ref : "error:" + ref.status().message();
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string ref;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) ref.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  waitpid(server, nullptr, 0);
  return ref;
}

TEST_F(LocalExecutorTest, ReattachRecordsTheRealExitCodeOfAnOrphanedJob) {
  // The job waits for a "go" file, so it is certainly alive when re-attached.
  const std::string ref = SubmitFromDyingServer(
      Options(), Sh("echo ready; while [ ! -e go ]; do sleep 0.02; done; exit 42", "job_orphan"));
  ASSERT_EQ(ref.rfind("local:", 0), 0u) << ref;
  const int pid = ParseLocalRef(ref)->pid;
  ASSERT_TRUE(ProcessLives(pid)) << "the job should outlive its server";

  LocalExecutor executor(Options());
  auto recorder = ExitRecorder::Make();
  Result<bool> attached = executor.Reattach(JobId("job_orphan"), ref, log_, ExitRecorder::CallbackOf(recorder));
  ASSERT_TRUE(attached.ok()) << attached.status().ToString();
  EXPECT_TRUE(*attached);
  EXPECT_EQ(executor.Running(), 1);
  std::ofstream(dir_.path() / "go") << "";
  std::optional<ProcessExit> exit = recorder->Wait();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->job_id, JobId("job_orphan"));
  EXPECT_EQ(exit->exit_code, 42);
  EXPECT_TRUE(exit->error.empty()) << exit->error;
  EXPECT_EQ(ReadAll(log_), "ready\n");
}

TEST_F(LocalExecutorTest, ReattachAfterExecutorShutdownInTheSameProcess) {
  auto first = ExitRecorder::Make();
  std::string ref;
  {
    LocalExecutor a(Options());
    Result<std::string> submitted = a.Submit(
        Sh("while [ ! -e go ]; do sleep 0.02; done; exit 9", "job_ab"), ExitRecorder::CallbackOf(first));
    ASSERT_TRUE(submitted.ok());
    ref = *submitted;
    a.Shutdown();
  }
  LocalExecutor b(Options());
  auto second = ExitRecorder::Make();
  Result<bool> attached = b.Reattach(JobId("job_ab"), ref, log_, ExitRecorder::CallbackOf(second));
  ASSERT_TRUE(attached.ok() && *attached);
  std::ofstream(dir_.path() / "go") << "";
  std::optional<ProcessExit> exit = second->Wait();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 9);
  EXPECT_EQ(first->calls(), 0u);
}

TEST_F(LocalExecutorTest, ReattachOfAJobThatEndedWhileNobodyWatchedReportsItsRecord) {
  const std::string ref = SubmitFromDyingServer(Options(), Sh("exit 5", "job_done"));
  ASSERT_EQ(ref.rfind("local:", 0), 0u) << ref;
  ASSERT_TRUE(WaitFor([&] { return LocalExecutor::ReadExitRecord(log_).has_value(); }));
  ASSERT_TRUE(WaitFor([&] { return !ProcessLives(ParseLocalRef(ref)->pid); }));
  LocalExecutor executor(Options());
  auto recorder = ExitRecorder::Make();
  Result<bool> attached = executor.Reattach(JobId("job_done"), ref, log_, ExitRecorder::CallbackOf(recorder));
  ASSERT_TRUE(attached.ok());
  EXPECT_TRUE(*attached);
  std::optional<ProcessExit> exit = recorder->Wait(2s);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 5);
}

TEST_F(LocalExecutorTest, TheSupervisorLeavesAnExitRecordWithTheLog) {
  LocalExecutor executor(Options());
  EXPECT_EQ(Run(executor, Sh("exit 12")).exit_code, 12);
  std::optional<ProcessExit> record = LocalExecutor::ReadExitRecord(log_);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->exit_code, 12);
  // A new job on the same log starts without the old record.
  auto recorder = ExitRecorder::Make();
  ASSERT_TRUE(executor.Submit(Sh("while [ ! -e go ]; do sleep 0.02; done; exit 4", "job_again"),
                              ExitRecorder::CallbackOf(recorder)).ok());
  EXPECT_FALSE(LocalExecutor::ReadExitRecord(log_).has_value());
  std::ofstream(dir_.path() / "go") << "";
  std::optional<ProcessExit> exit = recorder->Wait();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 4);
}

TEST_F(LocalExecutorTest, ReattachReadsTheFallbackExitFile) {
  // Where the file system has no user xattrs the supervisor writes "<log>.exit" instead.
  std::filesystem::create_directories(log_.parent_path());
  std::ofstream(log_) << "output\n";
  std::ofstream(LocalExecutor::ExitFilePath(log_)) << R"({"signal":6,"ended_at_ms":1})";
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  LocalExecutor executor(Options());
  auto recorder = ExitRecorder::Make();
  Result<bool> attached = executor.Reattach(JobId("job_file"), "local:" + std::to_string(dead) + ":1",
                                            log_, ExitRecorder::CallbackOf(recorder));
  ASSERT_TRUE(attached.ok() && *attached);
  std::optional<ProcessExit> exit = recorder->Wait(2s);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->signal, 6);
  EXPECT_FALSE(exit->exit_code);
}

TEST_F(LocalExecutorTest, ReattachOfADeadOrRecycledPidWithoutRecordIsFalse) {
  LocalExecutor executor(Options());
  // A process that ran and was reaped: its pid is dead.
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  Result<bool> gone = executor.Reattach(JobId("job_x"), "local:" + std::to_string(dead) + ":12345", log_, nullptr);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_FALSE(*gone);
  // A live pid with another start time is a recycled pid, not our job.
  Result<uint64_t> mine = ProcessStartTime(getpid());
  ASSERT_TRUE(mine.ok());
  Result<bool> recycled = executor.Reattach(
      JobId("job_y"), FormatLocalRef({getpid(), *mine + 1}), log_, nullptr);
  ASSERT_TRUE(recycled.ok());
  EXPECT_FALSE(*recycled);
  EXPECT_EQ(executor.Running(), 0);
  for (const char* bad : {"slurm:12", "local:", "local:12", "local:abc:1", "local:12:", "local:-5:1"}) {
    EXPECT_EQ(executor.Reattach(JobId("job_z"), bad, log_, nullptr).status().code(),
              StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(LocalExecutorTest, ReattachedJobCanBeCanceledAndLeavesNothingBehind) {
  const std::string ref = SubmitFromDyingServer(
      Options(), Sh("trap '' TERM; sleep 1000 & echo ready; wait", "job_re_cancel"));
  ASSERT_EQ(ref.rfind("local:", 0), 0u) << ref;
  const int pgid = ParseLocalRef(ref)->pid;
  ASSERT_TRUE(WaitFor([&] { return ReadAll(log_).find("ready") != std::string::npos; }));
  LocalExecutor executor(Options());
  auto recorder = ExitRecorder::Make();
  ASSERT_TRUE(executor.Reattach(JobId("job_re_cancel"), ref, log_, ExitRecorder::CallbackOf(recorder)).value_or(false));
  ASSERT_TRUE(executor.Cancel(JobId("job_re_cancel")).ok());
  std::optional<ProcessExit> exit = recorder->Wait();
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->canceled);
  EXPECT_EQ(exit->signal, SIGKILL);
  EXPECT_TRUE(WaitFor([&] { return LiveMembersOfGroup(pgid).empty(); }, 2s));
}

// ---- the process supervisor ------------------------------------------------------------

// Field `index` (1-based, as in proc(5)) of /proc/<pid>/stat; -1 when unreadable.
long StatField(int pid, int index) {
  const std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; in >> field; ++i) {
    if (i == index) return std::atol(field.c_str());
  }
  return -1;
}

// The pids in /proc/<pid>/task/<pid>/children (the process is single-threaded).
std::vector<int> ChildrenOf(int pid) {
  std::istringstream in(ReadAll("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children"));
  std::vector<int> out;
  for (int c = 0; in >> c;) out.push_back(c);
  std::sort(out.begin(), out.end());
  return out;
}

std::string ExeOf(int pid) {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
}

// The supervisor's warden: its parent, a subreaper that sleeps until the supervisor ends.
int WardenOf(int supervisor) { return static_cast<int>(StatField(supervisor, 4)); }

TEST_F(LocalExecutorTest, OneDetachedSupervisorIsTheParentOfEveryJob) {
  LocalExecutor executor(Options());
  const int supervisor = executor.SupervisorPid();
  ASSERT_GT(supervisor, 1);
  EXPECT_NE(StatField(supervisor, 4), getpid()) << "detached: this process never collects it";
  EXPECT_EQ(StatField(supervisor, 6), supervisor) << "leads its own session";
  const std::vector<int> pids = SubmitJobsWaitingForGo(executor, 3, "p");
  ASSERT_EQ(pids.size(), 3u);
  for (int pid : pids) {
    EXPECT_EQ(StatField(pid, 4), supervisor);  // ppid
    EXPECT_EQ(StatField(pid, 5), pid);         // leads its own process group
  }
  EXPECT_EQ(executor.SupervisorPid(), supervisor);
  std::ofstream(dir_.path() / "go") << "";
  EXPECT_TRUE(WaitFor([&] { return executor.Running() == 0; }));
}

TEST_F(LocalExecutorTest, SupervisorOutlivesTheExecutorRecordsItsJobsAndThenExits) {
  int supervisor = 0;
  int warden = 0;
  std::string ref;
  {
    LocalExecutor executor(Options());
    supervisor = executor.SupervisorPid();
    warden = WardenOf(supervisor);
    ASSERT_GT(warden, 1);
    Result<std::string> submitted =
        executor.Submit(Sh("while [ ! -e go ]; do sleep 0.02; done; exit 17"), nullptr);
    ASSERT_TRUE(submitted.ok());
    ref = *submitted;
  }  // the "server" is gone
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(ProcessLives(supervisor)) << "it still has a job to record";
  EXPECT_FALSE(LocalExecutor::ReadExitRecord(log_).has_value());
  std::ofstream(dir_.path() / "go") << "";
  ASSERT_TRUE(WaitFor([&] { return LocalExecutor::ReadExitRecord(log_).has_value(); }));
  EXPECT_EQ(LocalExecutor::ReadExitRecord(log_)->exit_code, 17);
  EXPECT_TRUE(WaitFor([&] { return !ProcessLives(supervisor); }))
      << "the supervisor exits after its last job";
  EXPECT_TRUE(WaitFor([&] { return !ProcessLives(warden); })) << "and its warden with it";
}

TEST_F(LocalExecutorTest, IdleSupervisorExitsWithItsExecutor) {
  int supervisor = 0;
  int warden = 0;
  {
    LocalExecutor executor(Options());
    supervisor = executor.SupervisorPid();
    warden = WardenOf(supervisor);
    EXPECT_EQ(Run(executor, Sh("true")).exit_code, 0);
    ASSERT_TRUE(ProcessLives(supervisor));
    ASSERT_TRUE(ProcessLives(warden));
  }
  EXPECT_TRUE(WaitFor([&] { return !ProcessLives(supervisor); }));
  EXPECT_TRUE(WaitFor([&] { return !ProcessLives(warden); })) << "the warden leaves nothing behind";
}

// Issue 14: no fork per job. The supervisor's children are the jobs themselves (the programs,
// not forks of the supervisor), each the pid of its ref and the leader of its group; the
// warden's only child is the supervisor.
TEST_F(LocalExecutorTest, TheSupervisorsChildrenAreTheJobsThemselves) {
  LocalExecutor executor(Options());
  const int supervisor = executor.SupervisorPid();
  ASSERT_GT(supervisor, 1);
  const int warden = WardenOf(supervisor);
  ASSERT_GT(warden, 1);
  EXPECT_EQ(ChildrenOf(warden), std::vector<int>{supervisor});
  EXPECT_EQ(StatField(warden, 6), warden) << "the warden leads its own session";
  std::vector<int> pids = SubmitJobsWaitingForGo(executor, 4, "n");
  ASSERT_EQ(pids.size(), 4u);
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(ChildrenOf(supervisor), pids);
  for (int pid : pids) {
    EXPECT_EQ(ExeOf(pid), std::filesystem::canonical("/bin/sh").string()) << "the job itself, not a keeper";
    EXPECT_EQ(StatField(pid, 5), pid) << "leads its own process group";
  }
  EXPECT_EQ(ChildrenOf(warden), std::vector<int>{supervisor}) << "the warden is not woken per job";
  std::ofstream(dir_.path() / "go") << "";
  EXPECT_TRUE(WaitFor([&] { return executor.Running() == 0; }));
  EXPECT_TRUE(ChildrenOf(supervisor).empty());
}

// Item 8 of issue 12 and issue 14: after a kill -9 of the supervisor its jobs (now the
// warden's children) run on; the warden records how each ended (exit code or signal) before
// it collects it, the live executor reports those, and the warden then exits.
TEST_F(LocalExecutorTest, KilledSupervisorIsReplacedAndItsRunningJobsKeepTheirTrueExitStatus) {
  LocalExecutor executor(Options());
  const int first = executor.SupervisorPid();
  const int warden = WardenOf(first);
  struct Case {
    std::string script;
    std::optional<int> code, signal;
  };
  const std::vector<Case> cases = {
      {"echo ready; while [ ! -e go ]; do sleep 0.02; done; exit 0", 0, std::nullopt},
      {"echo ready; while [ ! -e go ]; do sleep 0.02; done; exit 3", 3, std::nullopt},
      {"echo ready; while [ ! -e go ]; do sleep 0.02; done; kill -USR1 $$", std::nullopt, SIGUSR1},
  };
  std::vector<std::shared_ptr<ExitRecorder>> recorders;
  std::vector<std::filesystem::path> logs;
  std::vector<int> pids;
  for (size_t i = 0; i < cases.size(); ++i) {
    ProcessSpec spec = Sh(cases[i].script, "job_k" + std::to_string(i));
    spec.log_path = dir_.path() / ("k" + std::to_string(i) + ".log");
    recorders.push_back(ExitRecorder::Make());
    Result<std::string> ref = executor.Submit(spec, ExitRecorder::CallbackOf(recorders.back()));
    ASSERT_TRUE(ref.ok());
    logs.push_back(spec.log_path);
    pids.push_back(ParseLocalRef(*ref)->pid);
    EXPECT_EQ(StatField(pids.back(), 4), first) << "the job is the supervisor's child";
  }
  for (const auto& log : logs) {
    ASSERT_TRUE(WaitFor([&] { return ReadAll(log).find("ready") != std::string::npos; }));
  }
  ASSERT_EQ(kill(first, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return executor.SupervisorPid() == 0; })) << "the loss is noticed";
  for (int pid : pids) {
    EXPECT_TRUE(ProcessLives(pid)) << "the job keeps running";
    EXPECT_EQ(StatField(pid, 4), warden) << "adopted by the warden";
  }
  for (const auto& recorder : recorders) EXPECT_EQ(recorder->calls(), 0u);
  std::ofstream(dir_.path() / "go") << "";
  for (size_t i = 0; i < cases.size(); ++i) {
    std::optional<ProcessExit> exit = recorders[i]->Wait();
    ASSERT_TRUE(exit) << i;
    EXPECT_EQ(exit->exit_code, cases[i].code) << i;
    EXPECT_EQ(exit->signal, cases[i].signal) << i;
    EXPECT_TRUE(exit->error.empty()) << exit->error;
    std::optional<ProcessExit> record = LocalExecutor::ReadExitRecord(logs[i]);
    ASSERT_TRUE(record) << i;
    EXPECT_EQ(record->exit_code, cases[i].code) << i;
    EXPECT_EQ(record->signal, cases[i].signal) << i;
  }
  EXPECT_TRUE(WaitFor([&] { return !ProcessLives(warden); })) << "the warden exits after its last job";
  for (int pid : pids) EXPECT_FALSE(ProcessLives(pid));
  // The next job gets a new supervisor and runs normally.
  ProcessSpec next = Sh("exit 6", "job_after_loss");
  next.log_path = dir_.path() / "after.log";
  EXPECT_EQ(Run(executor, next).exit_code, 6);
  EXPECT_GT(executor.SupervisorPid(), 1);
  EXPECT_NE(executor.SupervisorPid(), first);
}

// The server and the supervisor are both killed while a job runs: the warden records its end
// and a restarted server (a new executor, Reattach) reports it; nothing is left behind.
TEST_F(LocalExecutorTest, AfterTheServerAndTheSupervisorAreKilledARestartedServerLearnsTheEnd) {
  int supervisor = 0;
  std::string ref;
  {
    LocalExecutor executor(Options());
    supervisor = executor.SupervisorPid();
    Result<std::string> submitted = executor.Submit(
        Sh("echo ready; sleep 30 & while [ ! -e go ]; do sleep 0.02; done; exit 23", "job_w"), nullptr);
    ASSERT_TRUE(submitted.ok());
    ref = *submitted;
    ASSERT_TRUE(WaitFor([&] { return ReadAll(log_).find("ready") != std::string::npos; }));
  }  // the "server" is gone
  const int warden = WardenOf(supervisor);
  const int pid = ParseLocalRef(ref)->pid;
  ASSERT_EQ(kill(supervisor, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return StatField(pid, 4) == warden; })) << "adopted by the warden";
  LocalExecutor restarted(Options());
  auto recorder = ExitRecorder::Make();
  Result<bool> attached = restarted.Reattach(JobId("job_w"), ref, log_, ExitRecorder::CallbackOf(recorder));
  ASSERT_TRUE(attached.ok() && *attached);
  std::ofstream(dir_.path() / "go") << "";
  std::optional<ProcessExit> exit = recorder->Wait();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 23);
  EXPECT_TRUE(exit->error.empty()) << exit->error;
  EXPECT_TRUE(WaitFor([&] { return !ProcessLives(warden); })) << "the warden exits after its last job";
  EXPECT_TRUE(WaitFor([&] { return LiveMembersOfGroup(pid).empty(); }, 2s)) << "the background sleep is killed";
}

TEST_F(LocalExecutorTest, SignalsToTheGroupReachTheJobAndItsRecordNamesThem) {
  LocalExecutor executor(Options());
  // SIGTERM to the group (cancel) reaches the job; its record says so.
  auto recorder = ExitRecorder::Make();
  Result<std::string> ref = executor.Submit(Sh("echo ready; sleep 30 & wait"), ExitRecorder::CallbackOf(recorder));
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE(WaitFor([&] { return ReadAll(log_).find("ready") != std::string::npos; }));
  ASSERT_TRUE(executor.Cancel(JobId("job_test")).ok());
  std::optional<ProcessExit> exit = recorder->Wait();
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->canceled);
  EXPECT_EQ(exit->signal, SIGTERM);
  ASSERT_TRUE(LocalExecutor::ReadExitRecord(log_));
  EXPECT_EQ(LocalExecutor::ReadExitRecord(log_)->signal, SIGTERM);
  EXPECT_TRUE(WaitFor([&] { return LiveMembersOfGroup(ParseLocalRef(*ref)->pid).empty(); }, 2s));
  // Exit codes above 128 pass through unchanged.
  ProcessSpec big = Sh("exit 200", "job_big");
  big.log_path = dir_.path() / "big.log";
  EXPECT_EQ(Run(executor, big).exit_code, 200);
}

TEST_F(LocalExecutorTest, KilledSupervisorAndWardenLeaveTheOutcomeUnknown) {
  LocalExecutor executor(Options());
  const int supervisor = executor.SupervisorPid();
  const int warden = WardenOf(supervisor);
  auto recorder = ExitRecorder::Make();
  Result<std::string> ref = executor.Submit(
      Sh("echo ready; sleep 30 & while [ ! -e go ]; do sleep 0.02; done; exit 0"), ExitRecorder::CallbackOf(recorder));
  ASSERT_TRUE(ref.ok());
  const int pid = ParseLocalRef(*ref)->pid;
  ASSERT_TRUE(WaitFor([&] { return ReadAll(log_).find("ready") != std::string::npos; }));
  ASSERT_EQ(kill(warden, SIGKILL), 0);
  ASSERT_EQ(kill(supervisor, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return executor.SupervisorPid() == 0; }));
  std::ofstream(dir_.path() / "go") << "";
  std::optional<ProcessExit> exit = recorder->Wait();
  ASSERT_TRUE(exit);
  EXPECT_FALSE(exit->exit_code);
  EXPECT_FALSE(exit->signal);
  EXPECT_NE(exit->error.find("outcome unknown"), std::string::npos) << exit->error;
  EXPECT_EQ(exit->error.find('/'), std::string::npos) << "no paths: " << exit->error;
  EXPECT_FALSE(LocalExecutor::ReadExitRecord(log_));
  // What the job left in its group is killed when its end is noticed.
  EXPECT_TRUE(WaitFor([&] { return LiveMembersOfGroup(pid).empty(); }, 2s));
}

TEST_F(LocalExecutorTest, CancelRightAfterSubmitLeavesNothingRunning) {
  LocalExecutor executor(Options());
  for (int i = 0; i < 20; ++i) {
    auto recorder = ExitRecorder::Make();
    ProcessSpec spec = Sh("sleep 1000 & wait", "job_c" + std::to_string(i));
    spec.log_path = dir_.path() / ("c" + std::to_string(i) + ".log");
    Result<std::string> ref = executor.Submit(spec, ExitRecorder::CallbackOf(recorder));
    ASSERT_TRUE(ref.ok());
    ASSERT_TRUE(executor.Cancel(spec.job_id).ok());
    std::optional<ProcessExit> exit = recorder->Wait();
    ASSERT_TRUE(exit);
    EXPECT_TRUE(exit->canceled);
    EXPECT_TRUE(WaitFor([&] { return LiveMembersOfGroup(ParseLocalRef(*ref)->pid).empty(); }, 2s));
  }
}

TEST(SupervisorProtocolTest, SpawnFramesRoundTripAndMalformedOnesAreRefused) {
  supervisor::SpawnRequest r;
  r.token = 42;
  r.program = "/bin/echo";
  r.cwd = "/tmp/a dir";
  r.log_path = "/tmp/x.log";
  r.exit_file = "/tmp/x.log.exit";
  r.argv = {"echo", "", "a b", "line\nbreak"};
  r.env = {"A=1", "EMPTY="};
  const std::string frame = supervisor::EncodeSpawn(r);
  uint32_t size = 0;
  std::memcpy(&size, frame.data(), sizeof(size));
  ASSERT_EQ(size, frame.size() - sizeof(size));
  const std::string payload = frame.substr(sizeof(size));
  std::optional<supervisor::SpawnRequest> back = supervisor::DecodeSpawn(payload);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->token, 42u);
  EXPECT_EQ(back->program, r.program);
  EXPECT_EQ(back->cwd, r.cwd);
  EXPECT_EQ(back->log_path, r.log_path);
  EXPECT_EQ(back->exit_file, r.exit_file);
  EXPECT_EQ(back->argv, r.argv);
  EXPECT_EQ(back->env, r.env);
  EXPECT_FALSE(supervisor::DecodeSpawn(""));
  EXPECT_FALSE(supervisor::DecodeSpawn(payload.substr(0, payload.size() - 1)));  // unterminated
  EXPECT_FALSE(supervisor::DecodeSpawn(payload + std::string("extra\0", 6)));   // counts disagree
  std::string wrong_kind = payload;
  wrong_kind[0] = 'x';
  EXPECT_FALSE(supervisor::DecodeSpawn(wrong_kind));
  EXPECT_EQ(supervisor::OneLine("a\nb\rc"), "a b c");
}

TEST(LocalRefTest, FormatsAndParses) {
  EXPECT_EQ(FormatLocalRef({4321, 987654}), "local:4321:987654");
  Result<LocalProcessRef> ref = ParseLocalRef("local:4321:987654");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->pid, 4321);
  EXPECT_EQ(ref->start_time, 987654u);
}

TEST(DefaultShimPathTest, IsBesideTheRunningBinary) {
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  EXPECT_EQ(DefaultShimPath(), self.parent_path() / "alphalab-shim");
  // Tests live in bin/ too, so the default finds the built shim.
  EXPECT_TRUE(std::filesystem::exists(DefaultShimPath()));
}

}  // namespace
}  // namespace alphalab

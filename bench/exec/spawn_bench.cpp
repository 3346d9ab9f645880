// Executor ceiling: N trivial jobs through LocalExecutor with `slots` in flight, compared with
// raw posix_spawn + waitpid of the same program.
//
//   bench_exec_spawn [--jobs 2000] [--reps 3] [--slots 2,8] [--program /bin/true]
//
// Per slots value, --reps rounds of: the raw reference (sequential posix_spawn + waitpid),
// LocalExecutor with logs pre-created, LocalExecutor creating each log; the time per job of
// each round goes through bench/common/bench_report.hpp (median, p95, best) with the raw
// spawn as the in-run reference.
//
// submit->spawned : Submit() call until it returned (the supervisor started the program)
// submit->start   : Submit() call until the job's own program printed its clock (second run,
//                   program /bin/date +%s%N, so the exec of the real program is included)
// CPU ms/job      : this process + the executor's supervisor + the jobs it collected
// submit->exit    : Submit() call until on_exit ran (process ended, reaped, status read)
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../common/bench_report.hpp"
#include "exec/local/local_executor.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using alphalab::JobId;
using alphalab::LocalExecutor;
using alphalab::LocalExecutorOptions;
using alphalab::ProcessExit;
using alphalab::ProcessSpec;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Percentiles {
  double p50, p95, p99, max;
};

Percentiles Summarize(std::vector<double> v) {
  if (v.empty()) return {0, 0, 0, 0};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))]; };
  return {at(0.50), at(0.95), at(0.99), v.back()};
}

void PrintLatency(const char* name, const std::vector<double>& v) {
  const Percentiles p = Summarize(v);
  std::printf("  %-16s p50 %7.3f ms  p95 %7.3f ms  p99 %7.3f ms  max %7.3f ms\n", name, p.p50, p.p95,
              p.p99, p.max);
}

// CPU time (user + system) of this process and its reaped children, in ms.
double CpuMs() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  return ms(self.ru_utime) + ms(self.ru_stime) + ms(children.ru_utime) + ms(children.ru_stime);
}

// CPU time of a process and its collected children (/proc/<pid>/stat utime, stime, cutime,
// cstime), in ms: the supervisor is not our child, so RUSAGE_CHILDREN does not see it.
double ProcessTreeCpuMs(int pid) { return alphalab::bench::ProcessCpuMs(pid, true); }

// Seconds per spawn of `n` sequential raw spawns.
double RawSpawn(int n, const std::string& program) {
  std::vector<double> costs;
  costs.reserve(static_cast<size_t>(n));
  const double cpu0 = CpuMs();
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto s = Clock::now();
    pid_t pid = -1;
    char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
    if (posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ) != 0) {
      std::perror("posix_spawn");
      std::exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    costs.push_back(Ms(Clock::now() - s));
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("raw posix_spawn+waitpid of %s, sequential: %d in %.3f s = %.0f/s, %.3f CPU ms/spawn\n",
              program.c_str(), n, secs, n / secs, (CpuMs() - cpu0) / n);
  PrintLatency("spawn->reaped", costs);
  return secs / n;
}

struct RunResult {
  double jobs_per_sec = 0;
  double cpu_ms_per_job = 0;  // server + supervisor + program, all processes
  std::vector<double> spawned, exited, started;
};

// Every job gets its own log, as in the server. With `precreate_logs` the log files exist
// before the clock starts (the jobs service writes a header before submitting), so the figure
// is the executor's own cost; otherwise the executor creates them (an ext4 inode allocation
// per job, which on a file system with many recent deletions costs more than the spawn).
RunResult RunExecutor(int n, int slots, const std::vector<std::string>& argv,
                      const std::filesystem::path& parent, bool precreate_logs) {
  static int run = 0;
  const std::filesystem::path dir = parent / ("run" + std::to_string(++run));
  std::filesystem::create_directories(dir);
  if (precreate_logs) {
    for (int i = 0; i < n; ++i) std::ofstream(dir / ("job_" + std::to_string(i) + ".log"));
  }
  LocalExecutorOptions options;
  options.slots = slots;
  LocalExecutor executor(options);
  if (!executor.init_status().ok()) {
    std::fprintf(stderr, "%s\n", executor.init_status().ToString().c_str());
    std::exit(1);
  }
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int done = 0;
  std::vector<Clock::time_point> submitted(static_cast<size_t>(n));
  std::vector<double> spawned(static_cast<size_t>(n)), exited(static_cast<size_t>(n));
  std::vector<int64_t> submitted_wall_ns(static_cast<size_t>(n));
  int failures = 0;
  const int supervisor = executor.SupervisorPid();
  const double cpu0 = CpuMs() + ProcessTreeCpuMs(supervisor);
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < slots; });
      ++in_flight;
    }
    ProcessSpec spec;
    spec.job_id = JobId("job_" + std::to_string(i));
    spec.argv = argv;
    spec.cwd = dir;
    spec.log_path = dir / (spec.job_id.str() + ".log");
    submitted_wall_ns[static_cast<size_t>(i)] =
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch()).count();
    const auto s = Clock::now();
    submitted[static_cast<size_t>(i)] = s;
    auto ref = executor.Submit(spec, [&, i](const ProcessExit& exit) {
      const auto now = Clock::now();
      std::lock_guard<std::mutex> lock(mu);
      exited[static_cast<size_t>(i)] = Ms(now - submitted[static_cast<size_t>(i)]);
      if (exit.exit_code != 0) ++failures;
      --in_flight;
      ++done;
      cv.notify_all();
    });
    spawned[static_cast<size_t>(i)] = Ms(Clock::now() - s);
    if (!ref.ok()) {
      std::fprintf(stderr, "submit failed: %s\n", ref.status().ToString().c_str());
      std::exit(1);
    }
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == n; });
  }
  RunResult result;
  result.jobs_per_sec = n / std::chrono::duration<double>(Clock::now() - t0).count();
  result.cpu_ms_per_job = (CpuMs() + ProcessTreeCpuMs(supervisor) - cpu0) / n;
  result.spawned = spawned;
  result.exited = exited;
  if (failures > 0) std::fprintf(stderr, "warning: %d jobs exited non-zero\n", failures);
  if (argv[0] == "/bin/date") {
    for (int i = 0; i < n; ++i) {
      std::ifstream in(dir / ("job_" + std::to_string(i) + ".log"));
      long long printed_ns = 0;
      if (in >> printed_ns && printed_ns > 0) {
        result.started.push_back((printed_ns - submitted_wall_ns[static_cast<size_t>(i)]) / 1e6);
      }
    }
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 2000;
  int reps = 3;
  std::vector<int> slot_list = {static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))};
  std::string program = "/bin/true";
  // The logs' folder: the system's temporary folder unless --dir names one (run-benchmarks.sh
  // puts it on tmpfs with the other workspaces: on ext4 without a journal, file creation is
  // slow for a minute after a neighbour deleted thousands of files, which is not the executor).
  std::filesystem::path base = std::filesystem::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--jobs" && i + 1 < argc) {
      jobs = std::atoi(argv[++i]);
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--slots" && i + 1 < argc) {
      slot_list.clear();
      std::string list = argv[++i];
      for (size_t p = 0; p < list.size();) {
        size_t comma = list.find(',', p);
        if (comma == std::string::npos) comma = list.size();
        slot_list.push_back(std::atoi(list.substr(p, comma - p).c_str()));
        p = comma + 1;
      }
    } else if (arg == "--program" && i + 1 < argc) {
      program = argv[++i];
    } else if (arg == "--dir" && i + 1 < argc) {
      base = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--jobs N] [--reps N] [--slots 2,8] [--program /bin/true] [--dir DIR]\n", argv[0]);
      return 2;
    }
  }
  std::filesystem::path dir = base /
                              ("alphalab_spawn_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::printf("machine: %u hardware threads; shim %s\n", std::thread::hardware_concurrency(),
              alphalab::DefaultShimPath().c_str());
  for (int slots : slot_list) {
    std::vector<double> raw, pre, created;  // seconds per job, one sample per round
    for (int rep = 0; rep < reps; ++rep) {
      raw.push_back(RawSpawn(jobs, program));
      for (bool precreate : {true, false}) {
        const char* logs = precreate ? "logs pre-created" : "logs created per job";
        RunResult r = RunExecutor(jobs, slots, {program}, dir, precreate);
        std::printf("LocalExecutor, %d jobs of %s, %d slots, %s: %.0f jobs/s, %.3f CPU ms/job\n", jobs,
                    program.c_str(), slots, logs, r.jobs_per_sec, r.cpu_ms_per_job);
        PrintLatency("submit->spawned", r.spawned);
        PrintLatency("submit->exit", r.exited);
        (precreate ? pre : created).push_back(1.0 / r.jobs_per_sec);
      }
    }
    const std::string slots_text = std::to_string(slots) + " slots";
    alphalab::bench::Report("bench_exec_spawn", "LocalExecutor, " + slots_text + ", logs pre-created, time per job",
                            pre, "ms", "raw posix_spawn+waitpid, sequential", raw);
    alphalab::bench::Report("bench_exec_spawn", "LocalExecutor, " + slots_text + ", log created per job, time per job",
                            created, "ms", "raw posix_spawn+waitpid, sequential", raw);
    const int n = std::min(jobs, 1000);
    RunResult d = RunExecutor(n, slots, {"/bin/date", "+%s%N"}, dir, /*precreate_logs=*/true);
    std::printf("LocalExecutor, %d jobs of /bin/date +%%s%%N, %d slots, logs pre-created: %.0f jobs/s\n",
                n, slots, d.jobs_per_sec);
    PrintLatency("submit->start", d.started);
    PrintLatency("submit->exit", d.exited);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

// What the per-job keeper costs (issue 12): one job started, waited for and recorded, the way the
// process supervisor (src/exec/shim/shim_main.cpp) does it, with and without the keeper, in the
// same run, alternating in blocks so both see the same machine.
//
//   bench_keeper_cost [--jobs 400] [--program /bin/true] [--dir /tmp]
//
// without keeper : posix_spawn of the program (new process group, stdout/stderr on the job's log,
//                  signals reset), waitpid, exit record written (xattr on the log, else a file)
// with keeper    : fork of this process (the keeper), which does the same posix_spawn, answers
//                  on a status pipe, waits for the job, writes the exit record and exits the same
//                  way; this process reads the status pipe and reaps the keeper
// Both are timed from the start of the spawn to the moment the exit record exists and the
// direct child was reaped; CPU ms/job counts this process and its reaped children.
// Since issue 14 (session 15) the product is the "without keeper" line (the supervisor spawns
// each job itself, a vfork-style clone, and a warden, its parent, records the ends of a killed
// supervisor's jobs); "with keeper" is the design it replaced, kept as the reference. The
// labels stay as they are: scripts/bench-compare.py matches the ALPHALAB_BENCH_JSONL figures.
// The supervisor is a small process (a few MB), like this one, so the fork copies little.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "../common/bench_report.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char kExitXattr[] = "user.alphalab.exit";

double CpuMs() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  return ms(self.ru_utime) + ms(self.ru_stime) + ms(children.ru_utime) + ms(children.ru_stime);
}

void WriteExitRecord(const std::string& log, int status) {
  const std::string body = "{\"status\":" + std::to_string(status) + "}";
  if (setxattr(log.c_str(), kExitXattr, body.data(), body.size(), 0) == 0) return;
  const std::string tmp = log + ".exit.tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    [[maybe_unused]] const ssize_t n = write(fd, body.data(), body.size());
    close(fd);
    rename(tmp.c_str(), (log + ".exit").c_str());
  }
}

// The spawn both variants do (the keeper's posix_spawn).
pid_t SpawnJob(const std::string& program, int log_fd, bool own_group) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);
  short flags = POSIX_SPAWN_SETSIGDEF;
  if (own_group) {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);
  char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

int OpenLog(const std::string& path) {
  return open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

bool Direct(const std::string& program, const std::string& log) {
  const int log_fd = OpenLog(log);
  if (log_fd < 0) return false;
  const pid_t pid = SpawnJob(program, log_fd, /*own_group=*/true);
  close(log_fd);
  if (pid < 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  WriteExitRecord(log, status);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool WithKeeper(const std::string& program, const std::string& log) {
  const int log_fd = OpenLog(log);
  if (log_fd < 0) return false;
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) return false;
  const pid_t keeper = fork();
  if (keeper == 0) {
    setpgid(0, 0);
    close(status_pipe[0]);
    const pid_t pid = SpawnJob(program, log_fd, /*own_group=*/false);
    close(log_fd);
    const int32_t reply = pid < 0 ? 1 : 0;
    [[maybe_unused]] const ssize_t w = write(status_pipe[1], &reply, sizeof(reply));
    close(status_pipe[1]);
    if (pid < 0) _exit(127);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) _exit(127);
    }
    WriteExitRecord(log, status);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128);
  }
  close(status_pipe[1]);
  close(log_fd);
  if (keeper < 0) {
    close(status_pipe[0]);
    return false;
  }
  setpgid(keeper, keeper);
  int32_t reply = -1;
  [[maybe_unused]] const ssize_t r = read(status_pipe[0], &reply, sizeof(reply));
  close(status_pipe[0]);
  int status = 0;
  while (waitpid(keeper, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return reply == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 400;
  std::string program = "/bin/true";
  std::filesystem::path parent = std::filesystem::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--jobs" && i + 1 < argc) {
      jobs = std::max(20, std::atoi(argv[++i]));
    } else if (arg == "--program" && i + 1 < argc) {
      program = argv[++i];
    } else if (arg == "--dir" && i + 1 < argc) {
      parent = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--jobs 400] [--program /bin/true] [--dir /tmp]\n", argv[0]);
      return 2;
    }
  }
  const std::filesystem::path dir = parent / ("alphalab_keeper_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::vector<double> direct, keeper;
  double direct_cpu = 0, keeper_cpu = 0;
  int failures = 0;
  constexpr int kBlock = 20;  // alternate blocks of 20 jobs
  for (int done = 0; done < jobs; done += kBlock) {
    for (bool with_keeper : {false, true}) {
      const double cpu0 = CpuMs();
      for (int i = 0; i < kBlock; ++i) {
        const std::string log = (dir / ((with_keeper ? "k_" : "d_") + std::to_string(done + i) + ".log")).string();
        const auto t0 = Clock::now();
        const bool ok = with_keeper ? WithKeeper(program, log) : Direct(program, log);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        if (!ok) ++failures;
        (with_keeper ? keeper : direct).push_back(s);
      }
      (with_keeper ? keeper_cpu : direct_cpu) += CpuMs() - cpu0;
    }
  }
  std::printf("keeper cost, %zu jobs each of %s, one at a time, logs in %s\n", direct.size(), program.c_str(),
              dir.c_str());
  alphalab::bench::Report("keeper", "without keeper (spawn, wait, record)", direct, "us");
  alphalab::bench::Report("keeper", "with keeper (fork, spawn, wait, record, reap)", keeper, "us",
                          "without keeper", direct);
  std::printf("CPU per job: without keeper %.3f ms, with keeper %.3f ms\n", direct_cpu / static_cast<double>(direct.size()),
              keeper_cpu / static_cast<double>(keeper.size()));
  if (failures > 0) std::fprintf(stderr, "warning: %d jobs failed\n", failures);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return failures > 0 ? 1 : 0;
}

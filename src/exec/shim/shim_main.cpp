// alphalab-shim --supervise: the process supervisor of a LocalExecutor.
//
// One supervisor per executor (per server), started once, instead of a helper process per
// job started by the server: every local job runs under the supervisor, which
//   - starts it through a keeper (a fork of the supervisor, no exec): the keeper leads the
//     job's new process group, posix_spawns the program (stdout+stderr appended to the log,
//     stdin /dev/null, cwd, the complete environment the server sent, default signal
//     dispositions, empty mask, no other descriptor), waits for it, records how it ended
//     ({"exit_code":N} or {"signal":S}) as the extended attribute "user.alphalab.exit" of the
//     log file (or in the exit file, renamed into place, where the file system has no user
//     xattrs) and then ends the same way. The record is the keeper's, so it is written even
//     when the supervisor was killed (kill -9) while the job ran;
//   - when a keeper ends: kills whatever the job left in its process group (the keeper is not
//     yet collected, so the group id cannot have been recycled), collects it, writes the
//     record again (it covers a keeper that was killed itself), and only then tells the server;
//   - is a child subreaper (PR_SET_CHILD_SUBREAPER): a descendant a job orphans, or that left
//     the job's process group and session (`setsid sleep 1001 &`), is re-parented to the
//     supervisor instead of init. Every job's descendants are tracked (a /proc scan every
//     250 ms while jobs run, plus the marker ALPHALAB_SUPERVISOR_JOB=<token> in their
//     environment); when the job ends, all of them are killed, whatever group or session they
//     moved to, so no child, grandchild or orphan survives it;
//   - outlives the server: when the server goes away (its socket closes: crash, kill -9,
//     restart) it keeps recording the end of the jobs it started and exits after the last one.
//     That record is how a restarted server learns the exit status of a re-attached job.
//
// The server starts it with the socket on descriptor 3 and /dev/null on 0-2. It detaches at
// once (forks; the parent exits, so the server never has to collect it) into its own session,
// ignores SIGTERM/SIGINT/SIGHUP/SIGPIPE (a Ctrl-C or a group-wide signal to the server must not
// take the jobs' recorder with it; SIGKILL still ends it) and serves requests one at a time,
// without waiting for a keeper to start its job (the keeper's word on the start is polled, so
// several keepers start their jobs at once).
// Protocol: src/exec/local/supervisor_protocol.hpp.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "exec/local/supervisor_protocol.hpp"

namespace {

using alphalab::supervisor::DecodeSpawn;
using alphalab::supervisor::OneLine;
using alphalab::supervisor::SpawnRequest;

constexpr int kSocketFd = 3;
constexpr const char* kExitXattr = "user.alphalab.exit";
// "<keeper pid> <keeper start time>": which keeper runs the log's job (see RunKeeper).
constexpr const char* kStartXattr = "user.alphalab.start";
constexpr uint32_t kMaxFrame = 64u << 20;  // 64 MiB: far above ARG_MAX; anything bigger is a bug

constexpr const char* kJobMarker = "ALPHALAB_SUPERVISOR_JOB=";

struct Job {
  uint64_t token = 0;
  std::string log_path;
  std::string exit_file;
  // Descendants seen so far: pid -> start time (a pid reused by another process has another).
  std::map<pid_t, unsigned long long> descendants;
};

bool server_gone = false;

// A keeper forked whose word on its job's start (0 or an errno, see RunKeeper) is not read yet:
// the supervisor does not wait for it, so it forks the next job's keeper meanwhile (and serves
// exits); the status pipe is polled, and read at once when the keeper is found ended.
struct PendingStart {
  uint64_t token = 0;
  int status_fd = -1;  // read end of the keeper's status pipe
  int log_fd = -1;     // the job's log, for the reason when the start failed
  std::string program;
};

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// One line to the server; a server that went away is remembered, not fatal.
void Reply(const std::string& line) {
  if (server_gone) return;
  const char* data = line.data();
  size_t size = line.size();
  while (size > 0) {
    const ssize_t n = send(kSocketFd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      server_gone = true;
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

constexpr int kTrackIntervalMs = 250;

long long MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

long long NowUnixMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); 0 when unreadable.
unsigned long long StartTime(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", static_cast<int>(pid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = strrchr(buf, ')');  // comm may hold spaces and parentheses
  if (p == nullptr) return 0;
  int field = 2;
  for (++p; *p != '\0'; ++p) {
    if (*p != ' ') continue;
    if (++field == 22) return strtoull(p + 1, nullptr, 10);
  }
  return 0;
}

struct ProcInfo {
  pid_t ppid = 0;
  unsigned long long start = 0;
};

// Every process: pid -> (parent, start time), from /proc/<pid>/stat.
std::unordered_map<pid_t, ProcInfo> ScanProcesses() {
  std::unordered_map<pid_t, ProcInfo> out;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long pid = strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[1024];
    const ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    const char* p = strrchr(buf, ')');
    if (p == nullptr) continue;
    ProcInfo info;
    int field = 2;
    for (++p; *p != '\0'; ++p) {
      if (*p != ' ') continue;
      ++field;
      if (field == 4) info.ppid = static_cast<pid_t>(strtol(p + 1, nullptr, 10));
      if (field == 22) {
        info.start = strtoull(p + 1, nullptr, 10);
        break;
      }
    }
    out[static_cast<pid_t>(pid)] = info;
  }
  closedir(dir);
  return out;
}

// The job token in a process's environment marker; 0 when absent or unreadable.
uint64_t MarkerToken(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/environ", static_cast<int>(pid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::string env;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0 || env.size() > (1u << 20)) break;
    env.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const std::string marker = kJobMarker;
  for (size_t at = 0; at < env.size();) {
    const size_t end = env.find('\0', at);
    const std::string_view var(env.data() + at, (end == std::string::npos ? env.size() : end) - at);
    if (var.substr(0, marker.size()) == marker) {
      return strtoull(std::string(var.substr(marker.size())).c_str(), nullptr, 10);
    }
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return 0;
}

// pid and all its descendants in `procs`.
std::vector<pid_t> Subtree(pid_t pid, const std::unordered_map<pid_t, std::vector<pid_t>>& children) {
  std::vector<pid_t> out{pid};
  for (size_t i = 0; i < out.size(); ++i) {
    auto it = children.find(out[i]);
    if (it == children.end()) continue;
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

void MakeParents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    mkdir(path.substr(0, slash).c_str(), 0755);  // EEXIST and friends: open() reports the rest
  }
}

int OpenLog(const std::string& path) {
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
  int fd = open(path.c_str(), kFlags, 0644);
  if (fd < 0 && errno == ENOENT) {
    MakeParents(path);
    fd = open(path.c_str(), kFlags, 0644);
  }
  return fd;
}

// Records `body` on the log (extended attribute; no new inode per job) or, where the file
// system has no user xattrs, in the exit file, written beside it and renamed into place so a
// reader sees the whole record or none. Both are atomic.
void WriteExitRecord(const std::string& log_path, const std::string& exit_file, const std::string& body) {
  if (setxattr(log_path.c_str(), kExitXattr, body.data(), body.size(), 0) == 0) return;
  const std::string tmp = exit_file + ".tmp" + std::to_string(getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  WriteAll(fd, body.data(), body.size());
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!synced || rename(tmp.c_str(), exit_file.c_str()) != 0) unlink(tmp.c_str());
}

// {"exit_code":N} or {"signal":S}, with the time, from a wait status.
std::string ExitRecordBody(int status) {
  std::string body = WIFSIGNALED(status) ? "{\"signal\":" + std::to_string(WTERMSIG(status))
                                         : "{\"exit_code\":" + std::to_string(WEXITSTATUS(status));
  return body + ",\"ended_at_ms\":" + std::to_string(NowUnixMs()) + "}\n";
}

// Closes every descriptor from 3 up except `keep_a` and `keep_b`.
void CloseAllBut(int keep_a, int keep_b) {
  const int lo = keep_a < keep_b ? keep_a : keep_b;
  const int hi = keep_a < keep_b ? keep_b : keep_a;
  auto close_range_of = [](int first, int last) {
    if (first > last) return;
    if (syscall(SYS_close_range, static_cast<unsigned>(first), static_cast<unsigned>(last), 0) == 0) return;
    for (int fd = first; fd <= last && fd < 65536; ++fd) close(fd);
  };
  close_range_of(3, lo - 1);
  close_range_of(lo + 1, hi - 1);
  close_range_of(hi + 1, 0x7fffffff);
}

// The job's keeper: a fork of the supervisor, one per job, and the job's parent. It leads the
// job's process group (the job inherits it), blocks every signal it can (a SIGTERM to the group
// is for the job), starts the program, tells the supervisor through `status_fd` whether that
// worked (0 or the errno), waits for it and records its exit status, and then ends the same way
// (same exit code, or the same signal). It holds none of the supervisor's descriptors, so the
// server still sees the socket close when the supervisor dies; and it outlives a supervisor
// that is killed (kill -9, OOM): the job then still has a parent that records how it ended,
// which is what any later server reads. Only a SIGKILL of the keeper itself (or of the whole
// group) leaves a job without a record: then its outcome is unknown.
//
// The start record: before it starts the job, the keeper records itself on the log (extended
// attribute "user.alphalab.start": its pid and start time). A supervisor killed after the job
// started but before it could report "S" leaves the server nothing else to go by; the server
// reads the record when it sees the supervisor gone and watches the keeper like any job whose
// supervisor died. The keeper checks its parent only after recording itself: if the supervisor
// is already gone it does not start the job (the server may or may not have seen the record,
// and either way the job truly did not run: exit 127 with the reason, recorded). Where the file
// system has no user xattrs there is no start record, and such a job reads as not started.
[[noreturn]] void RunKeeper(const SpawnRequest& r, int log_fd, int status_fd, char* const* argv,
                            char* const* envp, pid_t supervisor) {
  setpgid(0, 0);
  prctl(PR_SET_NAME, "alphalab-keeper", 0, 0, 0);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  CloseAllBut(log_fd, status_fd);
  const std::string start = std::to_string(getpid()) + " " + std::to_string(StartTime(getpid()));
  (void)fsetxattr(log_fd, kStartXattr, start.data(), start.size(), 0);
  if (getppid() != supervisor) {
    const std::string why = "the process supervisor ended before the job started";
    const std::string line = "alphalab: " + why + "; it was not started\n";
    WriteAll(log_fd, line.data(), line.size());
    WriteExitRecord(r.log_path, r.exit_file,
                    "{\"exit_code\":127,\"error\":\"" + why + "\",\"ended_at_ms\":" + std::to_string(NowUnixMs()) + "}\n");
    _exit(127);
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
  posix_spawn_file_actions_addchdir_np(&actions, r.cwd.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaddset(&defaults, sig);
  }
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, r.program.c_str(), &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(log_fd);
  const int32_t reply = rc;
  WriteAll(status_fd, reinterpret_cast<const char*>(&reply), sizeof(reply));
  close(status_fd);
  if (rc != 0) _exit(127);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) _exit(127);
  }
  WriteExitRecord(r.log_path, r.exit_file, ExitRecordBody(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);  // the job's core dump (if any) is the job's business
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    raise(sig);
    sigprocmask(SIG_UNBLOCK, &one, nullptr);
    _exit(128 + sig);  // a signal whose default is not to terminate
  }
  _exit(WEXITSTATUS(status));
}

// A job that did not start: the reason goes to its log (which is then closed) and to the
// server as "E <token> <errno> <reason>".
void FailStart(const std::string& token, int log_fd, int err, const std::string& reason) {
  const std::string line = "alphalab: " + reason + "\n";
  WriteAll(log_fd, line.data(), line.size());
  close(log_fd);
  Reply("E " + token + " " + std::to_string(err) + " " + OneLine(reason) + "\n");
}

// Reads the keeper's start status (it is there, or the pipe is at its end: the keeper wrote
// it before anything else or died), tells the server "S" or "E", and forgets the pending start.
// A job that did not start is no job (its keeper exits by itself; Reap collects it).
void FinishStart(pid_t keeper, std::unordered_map<pid_t, PendingStart>& pending,
                 std::unordered_map<pid_t, Job>& jobs) {
  auto it = pending.find(keeper);
  if (it == pending.end()) return;
  const PendingStart start = std::move(it->second);
  pending.erase(it);
  int32_t reply = 0;
  size_t got = 0;
  while (got < sizeof(reply)) {
    const ssize_t n = read(start.status_fd, reinterpret_cast<char*>(&reply) + got, sizeof(reply) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(start.status_fd);
  const int err = got == sizeof(reply) ? reply : ECHILD;  // the keeper died before it could say
  const std::string token = std::to_string(start.token);
  if (err != 0) {
    jobs.erase(keeper);
    FailStart(token, start.log_fd, err,
              err == ECHILD ? "cannot start the job's keeper: " + std::string(strerror(err))
                            : "cannot execute " + start.program + ": " + strerror(err));
    return;
  }
  close(start.log_fd);
  Reply("S " + token + " " + std::to_string(keeper) + " " + std::to_string(StartTime(keeper)) + "\n");
}

void Spawn(const SpawnRequest& r, std::unordered_map<pid_t, Job>& jobs,
           std::unordered_map<pid_t, PendingStart>& pending) {
  const std::string token = std::to_string(r.token);
  const int log_fd = OpenLog(r.log_path);
  if (log_fd < 0) {
    const int err = errno;
    Reply("E " + token + " " + std::to_string(err) + " " +
          OneLine("cannot open log file '" + r.log_path + "': " + strerror(err)) + "\n");
    return;
  }
  // A record left by an earlier run on the same log would end this job at once on re-attach.
  if (fremovexattr(log_fd, kExitXattr) != 0 && (errno == ENOTSUP || errno == EOPNOTSUPP)) {
    unlink(r.exit_file.c_str());
  } else {
    (void)fremovexattr(log_fd, kStartXattr);  // and its start record
  }

  std::vector<char*> argv;
  argv.reserve(r.argv.size() + 1);
  for (const std::string& a : r.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(r.env.size() + 1);
  for (const std::string& e : r.env) {
    if (e.rfind(kJobMarker, 0) != 0) envp.push_back(const_cast<char*>(e.c_str()));
  }
  const std::string marker = std::string(kJobMarker) + token;
  envp.push_back(const_cast<char*>(marker.c_str()));
  envp.push_back(nullptr);

  int status_pipe[2];
  pid_t keeper = -1;
  int err = 0;
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    err = errno;
  } else {
    const pid_t supervisor = getpid();
    keeper = fork();
    if (keeper == 0) {
      close(status_pipe[0]);
      RunKeeper(r, log_fd, status_pipe[1], argv.data(), envp.data(), supervisor);
    }
    if (keeper < 0) err = errno;
    close(status_pipe[1]);
    if (keeper > 0) {
      setpgid(keeper, keeper);  // also done by the keeper; whichever runs first
      // Its start status is read when it comes (the main loop polls the pipe) or when the
      // keeper is found ended (Reap), whichever is first; "S" always precedes its "X".
      jobs[keeper] = Job{r.token, r.log_path, r.exit_file, {}};
      pending[keeper] = PendingStart{r.token, status_pipe[0], log_fd, r.program};
      return;
    }
    close(status_pipe[0]);
  }
  FailStart(token, log_fd, err, "cannot start the job's keeper: " + std::string(strerror(err)));
}

// Adds every process below each running job (and every orphan re-parented to us that carries
// a job's marker, with its own descendants) to that job's descendants.
void TrackDescendants(std::unordered_map<pid_t, Job>& jobs) {
  if (jobs.empty()) return;
  const auto procs = ScanProcesses();
  std::unordered_map<pid_t, std::vector<pid_t>> children;
  for (const auto& [pid, info] : procs) children[info.ppid].push_back(pid);
  std::unordered_map<uint64_t, Job*> by_token;
  for (auto& [pid, job] : jobs) by_token[job.token] = &job;
  auto add = [&](Job& job, pid_t root) {
    for (pid_t p : Subtree(root, children)) {
      auto it = procs.find(p);
      if (it != procs.end() && jobs.find(p) == jobs.end()) job.descendants[p] = it->second.start;
    }
  };
  for (auto& [pid, job] : jobs) {
    auto it = children.find(pid);
    if (it == children.end()) continue;
    for (pid_t c : it->second) add(job, c);
  }
  auto mine = children.find(getpid());
  if (mine == children.end()) return;
  for (pid_t c : mine->second) {
    if (jobs.count(c) != 0) continue;  // a job leader
    auto job = by_token.find(MarkerToken(c));
    if (job != by_token.end()) add(*job->second, c);
  }
}

// True when every direct child of the supervisor is a job leader (the kernel's list of our
// children; the supervisor is single-threaded). As the child subreaper we inherit every orphan,
// so once a job's leader has exited, anything of that job still alive (or not yet collected)
// sits in a tree whose root is one of our children: with no child but job leaders there is
// nothing left to look for, and the /proc scan (a read per process on the machine) is skipped.
// Unknown (no such file): false, so the caller scans.
bool OnlyJobLeadersAreChildren(const std::unordered_map<pid_t, Job>& jobs) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/children", static_cast<int>(getpid()));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const char* p = text.c_str();
  for (;;) {
    char* end = nullptr;
    const long pid = strtol(p, &end, 10);
    if (end == p) break;
    if (jobs.count(static_cast<pid_t>(pid)) == 0) return false;
    p = end;
  }
  return true;
}

// Kills everything that descends from the ended job `job` (leader `leader`, not yet
// collected): its tracked descendants that still run (same start time), their descendants,
// and orphans re-parented to us that carry its marker or no marker at all. Repeats until
// nothing is left, so a process forking while it dies is caught too.
void KillDescendants(pid_t leader, Job& job, const std::unordered_map<pid_t, Job>& jobs) {
  if (OnlyJobLeadersAreChildren(jobs)) return;  // the common case: the job left nothing behind
  for (int round = 0; round < 50; ++round) {
    const auto procs = ScanProcesses();
    std::unordered_map<pid_t, std::vector<pid_t>> children;
    for (const auto& [pid, info] : procs) children[info.ppid].push_back(pid);
    std::set<pid_t> targets;
    auto add_tree = [&](pid_t root) {
      for (pid_t p : Subtree(root, children)) {
        if (p != getpid() && p != leader && jobs.count(p) == 0) targets.insert(p);
      }
    };
    for (const auto& [pid, start] : job.descendants) {
      auto it = procs.find(pid);
      if (it != procs.end() && it->second.start == start) add_tree(pid);
    }
    if (auto it = children.find(leader); it != children.end()) {
      for (pid_t c : it->second) add_tree(c);
    }
    if (auto mine = children.find(getpid()); mine != children.end()) {
      for (pid_t c : mine->second) {
        if (jobs.count(c) != 0) continue;
        const uint64_t token = MarkerToken(c);
        if (token == job.token || token == 0) add_tree(c);
      }
    }
    // A zombie (already dead, waiting for its parent) needs no signal.
    std::vector<pid_t> alive;
    for (pid_t p : targets) {
      char path[64];
      snprintf(path, sizeof(path), "/proc/%d/stat", static_cast<int>(p));
      const int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char buf[512];
      const ssize_t n = read(fd, buf, sizeof(buf) - 1);
      close(fd);
      if (n <= 0) continue;
      buf[n] = '\0';
      const char* rp = strrchr(buf, ')');
      if (rp != nullptr && rp[1] == ' ' && rp[2] == 'Z') continue;
      alive.push_back(p);
    }
    if (alive.empty()) return;
    for (pid_t p : alive) kill(p, SIGKILL);
    usleep(2000);
  }
}

// Collects every ended child: group leftovers killed first, record written, server told.
void Reap(std::unordered_map<pid_t, Job>& jobs, std::unordered_map<pid_t, PendingStart>& pending) {
  for (;;) {
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    const pid_t pid = info.si_pid;
    FinishStart(pid, pending, jobs);  // its start is told first (or it was no job after all)
    kill(-pid, SIGKILL);  // what the job left behind; the leader is a zombie, its id is ours
    if (auto job = jobs.find(pid); job != jobs.end()) {
      // ... and what left the group or session, or was orphaned to us.
      KillDescendants(pid, job->second, jobs);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    auto it = jobs.find(pid);
    if (it == jobs.end()) continue;
    const Job job = it->second;
    jobs.erase(it);
    std::string line = "X " + std::to_string(job.token) + " " + std::to_string(pid);
    if (WIFSIGNALED(status)) {
      line += " s " + std::to_string(WTERMSIG(status));
    } else {
      line += " c " + std::to_string(WEXITSTATUS(status));
    }
    // The keeper ends the way its job did and recorded it already; this covers a keeper that
    // was killed itself (then the group, the job included, was killed with it).
    WriteExitRecord(job.log_path, job.exit_file, ExitRecordBody(status));
    Reply(line + "\n");
  }
}

// Decodes every complete frame in `buffer` (consumed) and serves it. False on a bad frame.
bool ServeFrames(std::string& buffer, std::unordered_map<pid_t, Job>& jobs,
                 std::unordered_map<pid_t, PendingStart>& pending) {
  size_t at = 0;
  while (buffer.size() - at >= sizeof(uint32_t)) {
    uint32_t size = 0;
    memcpy(&size, buffer.data() + at, sizeof(size));
    if (size > kMaxFrame) return false;
    if (buffer.size() - at - sizeof(size) < size) break;
    const std::string_view payload(buffer.data() + at + sizeof(size), size);
    at += sizeof(size) + size;
    std::optional<SpawnRequest> request = DecodeSpawn(payload);
    if (!request) return false;
    Spawn(*request, jobs, pending);
  }
  buffer.erase(0, at);
  return true;
}

int Supervise() {
  struct stat st {};
  if (fstat(kSocketFd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    static const char kMsg[] = "alphalab-shim --supervise: descriptor 3 must be the executor's socket\n";
    WriteAll(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    return 2;
  }
  // Detach: the server collects the parent at once and never has to collect us.
  const pid_t child = fork();
  if (child < 0) return 1;
  if (child > 0) _exit(0);
  setsid();
  // Orphaned descendants of jobs become our children (not init's), so they can be found and
  // killed when their job ends, and collected.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  fcntl(kSocketFd, F_SETFD, FD_CLOEXEC);
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sig_fd < 0) return 1;

  Reply("R " + std::to_string(getpid()) + "\n");
  std::unordered_map<pid_t, Job> jobs;
  std::unordered_map<pid_t, PendingStart> pending;
  std::string buffer;
  char chunk[65536];
  long long last_track_ms = 0;
  std::vector<pollfd> fds;
  std::vector<pid_t> pending_order;  // the keepers behind fds[2..]
  for (;;) {
    if (server_gone && jobs.empty()) return 0;
    fds.assign({{sig_fd, POLLIN, 0}, {server_gone ? -1 : kSocketFd, POLLIN, 0}});
    pending_order.clear();
    for (const auto& [keeper, start] : pending) {
      fds.push_back({start.status_fd, POLLIN, 0});
      pending_order.push_back(keeper);
    }
    const int ready = poll(fds.data(), fds.size(), jobs.empty() ? -1 : kTrackIntervalMs);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (!jobs.empty() && MonotonicMs() - last_track_ms >= kTrackIntervalMs) {
      TrackDescendants(jobs);
      last_track_ms = MonotonicMs();
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents != 0) FinishStart(pending_order[i - 2], pending, jobs);
    }
    if (fds[0].revents != 0) {
      signalfd_siginfo info;
      while (read(sig_fd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      }
      Reap(jobs, pending);
    }
    if (!server_gone && fds[1].revents != 0) {
      const ssize_t n = read(kSocketFd, chunk, sizeof(chunk));
      if (n > 0) {
        buffer.append(chunk, static_cast<size_t>(n));
        if (!ServeFrames(buffer, jobs, pending)) server_gone = true;  // not our server: stop listening
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        server_gone = true;  // the server went away; finish recording our jobs
      }
      if (server_gone) close(kSocketFd);
    }
  }
}

int Usage() {
  static const char kUsage[] =
      "usage: alphalab-shim --supervise\n"
      "The process supervisor of alphalab's local executor: starts jobs, records how they end\n"
      "(started by the server with its socket on descriptor 3; not meant to be run by hand).\n";
  WriteAll(STDERR_FILENO, kUsage, sizeof(kUsage) - 1);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--supervise") == 0) return Supervise();
  return Usage();
}

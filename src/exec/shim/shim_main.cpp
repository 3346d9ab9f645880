// alphalab-shim --supervise: the process supervisor of a LocalExecutor, and its warden.
//
// One supervisor per executor (per server), started once, instead of a helper process per
// job started by the server: every local job runs under the supervisor, which
//   - starts it itself, without a fork per job: a vfork-style clone (CLONE_VM | CLONE_VFORK,
//     no page-table copy; the supervisor waits until the program is executed) whose child
//     leads the job's new process group (pgid = the job's pid), records itself on the log
//     (extended attribute "user.alphalab.start": its pid and start time), checks that the
//     supervisor is still its parent (if not, the job is not started: exit 127, recorded), and
//     executes the program (stdout+stderr appended to the log, stdin /dev/null, cwd, the
//     complete environment the server sent, default signal dispositions, empty mask, no other
//     descriptor). The job's pid is the pid the server watches, cancels (its group) and
//     re-attaches to;
//   - when a job ends: records how it ended ({"exit_code":N} or {"signal":S}) as the extended
//     attribute "user.alphalab.exit" of the log file (or in the exit file, renamed into place,
//     where the file system has no user xattrs) BEFORE collecting it (waitid WNOWAIT: the zombie
//     keeps its pid and its group id from being reused, so a server that saw the pid alive and
//     then gone finds the record), kills whatever the job left in its process group and its
//     other descendants (below), collects it, and only then tells the server;
//   - is a child subreaper (PR_SET_CHILD_SUBREAPER): a descendant a job orphans, or that left
//     the job's process group and session (`setsid sleep 1001 &`), is re-parented to the
//     supervisor instead of init. Every job's descendants are tracked (a /proc scan every
//     250 ms while jobs run, plus the marker ALPHALAB_SUPERVISOR_JOB=<token> in their
//     environment); when the job ends, all of them are killed, whatever group or session they
//     moved to, so no child, grandchild or orphan survives it;
//   - with --realtime, runs under SCHED_FIFO (the lowest real-time priority, with
//     SCHED_RESET_ON_FORK: every job it starts runs under the normal policy with the nice
//     value the supervisor was started with) where it may (root, CAP_SYS_NICE or an
//     RLIMIT_RTPRIO above 0; otherwise it runs as started and says so in its first line). It
//     is the one serial step every job start and end passes through, and it uses little CPU
//     (~0.08 ms a job) in short bursts; under the normal policy a woken supervisor waits
//     behind the running jobs and server threads of its CPU, even while another CPU idles
//     where the kernel does not pull waiting tasks to idle CPUs (these 2-core VMs): with it,
//     trivial jobs went from 0.54 to 0.60 of the raw spawn rate (docs/benchmarks.md);
//   - outlives the server: when the server goes away (its socket closes: crash, kill -9,
//     restart) it keeps recording the end of the jobs it started and exits after the last one.
//     That record is how a restarted server learns the exit status of a re-attached job.
//
// The warden keeps the records durable when the supervisor itself is killed (kill -9, OOM).
// The process the server starts detaches, becomes a child subreaper too and forks the
// supervisor, whose parent it stays; it holds neither the socket nor any job state, and it
// sleeps in waitpid() on the supervisor: no wake-up per job. Before each start the supervisor
// writes the job's token, log path and exit-file path into a slot of a MAP_SHARED table the
// warden created before the fork (and the job's pid and start time right after); when the
// supervisor is gone its jobs are re-parented to the warden (the nearest subreaper), which
// takes every slot whose process is now its child (matched by pid and start time, or by the
// job's start record for a start in flight) and serves them the way the supervisor would
// have: the record before the collection, the leftovers killed. It exits after the last one.
// Only when both the supervisor and the warden are killed is a job's outcome lost.
//
// The server starts it (`alphalab-shim --supervise [--realtime]`) with the socket on descriptor 3
// and /dev/null on 0-2. It detaches at
// once (forks; the parent exits, so the server never has to collect it) into its own session
// (the supervisor leads another one), ignores SIGTERM/SIGINT/SIGHUP/SIGPIPE (a Ctrl-C or a
// group-wide signal to the server must not take the jobs' recorder with it; SIGKILL still ends
// it) and serves requests one at a time.
// Protocol: src/exec/local/supervisor_protocol.hpp.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
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
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "exec/local/supervisor_protocol.hpp"


namespace {

using alphalab::supervisor::DecodeSpawn;
using alphalab::supervisor::kStartXattr;
using alphalab::supervisor::OneLine;
using alphalab::supervisor::ReadStartRecord;
using alphalab::supervisor::SpawnRequest;

constexpr int kSocketFd = 3;
constexpr const char* kExitXattr = "user.alphalab.exit";
// "<job pid> <job start time>": which process runs the log's job (see StartJob).
constexpr uint32_t kMaxFrame = 64u << 20;  // 64 MiB: far above ARG_MAX; anything bigger is a bug

constexpr const char* kJobMarker = "ALPHALAB_SUPERVISOR_JOB=";

struct Job {
  uint64_t token = 0;
  std::string log_path;
  std::string exit_file;
  // Descendants seen so far: pid -> start time (a pid reused by another process has another).
  std::map<pid_t, unsigned long long> descendants;
  int slot = -1;  // its slot in the warden's table (the supervisor's jobs only)
};

bool server_gone = false;

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

struct ProcInfo {
  pid_t ppid = 0;
  unsigned long long start = 0;
};

// Fields 4 (parent) and 22 (start time in clock ticks since boot) of /proc/<pid>/stat; false
// when unreadable (no such process). Zombies have both.
bool ReadProcInfo(pid_t pid, ProcInfo& info) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", static_cast<int>(pid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* p = strrchr(buf, ')');  // comm may hold spaces and parentheses
  if (p == nullptr) return false;
  int field = 2;
  for (++p; *p != '\0'; ++p) {
    if (*p != ' ') continue;
    ++field;
    if (field == 4) info.ppid = static_cast<pid_t>(strtol(p + 1, nullptr, 10));
    if (field == 22) {
      info.start = strtoull(p + 1, nullptr, 10);
      return true;
    }
  }
  return false;
}

// The start time of `pid`; 0 when unreadable.
unsigned long long StartTime(pid_t pid) {
  ProcInfo info;
  return ReadProcInfo(pid, info) ? info.start : 0;
}

// Every process: pid -> (parent, start time), from /proc/<pid>/stat.
std::unordered_map<pid_t, ProcInfo> ScanProcesses() {
  std::unordered_map<pid_t, ProcInfo> out;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long pid = strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    ProcInfo info;
    if (ReadProcInfo(static_cast<pid_t>(pid), info)) out[static_cast<pid_t>(pid)] = info;
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


// True when the job's log already carries an exit record (or its exit file exists).
bool HasExitRecord(const Job& job) {
  if (getxattr(job.log_path.c_str(), kExitXattr, nullptr, 0) >= 0) return true;
  return access(job.exit_file.c_str(), F_OK) == 0;
}

// {"exit_code":N} or {"signal":S}, with the time.
std::string ExitRecordBody(bool signaled, int value) {
  std::string body = signaled ? "{\"signal\":" + std::to_string(value) : "{\"exit_code\":" + std::to_string(value);
  return body + ",\"ended_at_ms\":" + std::to_string(NowUnixMs()) + "}\n";
}

// The hand-over table between the supervisor and the warden: one slot per job the supervisor
// is starting or runs, in memory both share (MAP_SHARED, created by the warden before it forks
// the supervisor). Only the supervisor writes it; the warden reads it once, after the
// supervisor has ended (waitpid: every write is done). A slot's state is written last, so a
// slot being filled when the supervisor died reads as free. The pages of slots never used are
// never touched (the mapping is reserved, not committed).
enum SlotState : uint32_t { kFree = 0, kStarting = 1, kRunning = 2 };
constexpr uint32_t kSlots = 4096;       // jobs at once per supervisor; beyond, a start fails
constexpr size_t kSlotPaths = 8192;     // the log path and the exit-file path, NUL-terminated
struct Slot {
  uint32_t state;
  int32_t pid;                 // kRunning: the job's pid and start time
  uint64_t token;
  unsigned long long start;
  char paths[kSlotPaths];
};
struct SlotTable {
  uint32_t used;  // slots [0, used) were handed out at least once
  Slot slots[kSlots];
};
SlotTable* table = nullptr;
std::vector<uint32_t> free_slots;  // the supervisor's: slots in [0, used) to reuse, last first

void SetSlotState(uint32_t slot, SlotState state) {
  __atomic_store_n(&table->slots[slot].state, static_cast<uint32_t>(state), __ATOMIC_RELEASE);
}

// A slot holding the job's token and paths (state kStarting); -1 when the table is full or
// the paths do not fit.
int TakeSlot(const SpawnRequest& r) {
  if (r.log_path.size() + r.exit_file.size() + 2 > kSlotPaths) return -1;
  uint32_t slot = 0;
  if (!free_slots.empty()) {
    slot = free_slots.back();
    free_slots.pop_back();
  } else if (table->used < kSlots) {
    slot = table->used++;
  } else {
    return -1;
  }
  Slot& s = table->slots[slot];
  s.token = r.token;
  s.pid = 0;
  s.start = 0;
  memcpy(s.paths, r.log_path.c_str(), r.log_path.size() + 1);
  memcpy(s.paths + r.log_path.size() + 1, r.exit_file.c_str(), r.exit_file.size() + 1);
  SetSlotState(slot, kStarting);
  return static_cast<int>(slot);
}

void ReleaseSlot(int slot) {
  if (slot < 0 || table == nullptr) return;
  SetSlotState(static_cast<uint32_t>(slot), kFree);
  free_slots.push_back(static_cast<uint32_t>(slot));
}

// What the supervisor shares with the child that becomes the job (same memory until the exec).
struct StartArgs {
  const SpawnRequest* request = nullptr;
  int log_fd = -1;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  pid_t supervisor = 0;
  const std::vector<int>* ignored_signals = nullptr;  // the supervisor's SIG_IGN signals
  // Written by the child:
  unsigned long long start = 0;  // its start time
  int err = 0;                   // why it did not execute the program; 0 when it did
};

// The child of the supervisor's clone(CLONE_VM | CLONE_VFORK), on its own stack: it becomes
// the job. The supervisor is suspended until it executes the program or exits, and it is
// single-threaded, so nothing here can meet a lock the supervisor holds.
//
// The start record: the child records itself on the log before it checks its parent. A
// supervisor killed after the job started but before it could report "S" leaves the server
// nothing else to go by; the server reads the record when it sees the supervisor gone (after
// the supervisor has exited: its children have their new parent then) and watches the job like
// any job whose supervisor died. If the supervisor is already gone the child does not start the
// job (the server may or may not have seen the record, and either way the job truly did not
// run: exit 127 with the reason, recorded). Where the file system has no user xattrs there is
// no start record, and such a job reads as not started.
int StartJob(void* arg) {
  StartArgs& a = *static_cast<StartArgs*>(arg);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  setpgid(0, 0);
  const pid_t self = getpid();
  a.start = StartTime(self);
  char record[64];
  const int size = snprintf(record, sizeof(record), "%d %llu", static_cast<int>(self), a.start);
  (void)fsetxattr(a.log_fd, kStartXattr, record, static_cast<size_t>(size), 0);
  if (getppid() != a.supervisor) {
    const std::string why = "the process supervisor ended before the job started";
    const std::string line = "alphalab: " + why + "; it was not started\n";
    WriteAll(a.log_fd, line.data(), line.size());
    WriteExitRecord(a.request->log_path, a.request->exit_file,
                    "{\"exit_code\":127,\"error\":\"" + why + "\",\"ended_at_ms\":" + std::to_string(NowUnixMs()) + "}\n");
    _exit(127);
  }
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(a.log_fd, STDOUT_FILENO) < 0 ||
      dup2(a.log_fd, STDERR_FILENO) < 0 || chdir(a.request->cwd.c_str()) != 0) {
    a.err = errno;
    _exit(127);
  }
  if (syscall(SYS_close_range, 3u, ~0u, 0) != 0) {
    for (int fd = 3; fd < 65536; ++fd) close(fd);
  }
  // Default dispositions: execve resets every handled signal (and every signal's flags); an
  // ignored one stays ignored, so those are the ones to reset here.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig : *a.ignored_signals) sigaction(sig, &dfl, nullptr);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  execve(a.request->program.c_str(), a.argv, a.envp);
  a.err = errno;
  _exit(127);
}

// A job that did not start: the reason goes to its log (which is then closed) and to the
// server as "E <token> <errno> <reason>".
void FailStart(const std::string& token, int log_fd, int err, const std::string& reason) {
  const std::string line = "alphalab: " + reason + "\n";
  WriteAll(log_fd, line.data(), line.size());
  close(log_fd);
  Reply("E " + token + " " + std::to_string(err) + " " + OneLine(reason) + "\n");
}

// The signals this process ignores (1-31): a job must not inherit that. Its dispositions are
// set before it serves (Supervise, ChildSignals) and never change afterwards.
const std::vector<int>& IgnoredSignals() {
  static const std::vector<int> ignored = [] {
    std::vector<int> out;
    for (int sig = 1; sig < 32; ++sig) {
      struct sigaction now {};
      if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, nullptr, &now) == 0 && now.sa_handler == SIG_IGN) {
        out.push_back(sig);
      }
    }
    return out;
  }();
  return ignored;
}

// The supervisor's pid, set when it starts (getpid() is a system call each time).
pid_t supervisor_pid = 0;

// The stack StartJob runs on (the supervisor's is in use: it is suspended in clone()).
constexpr size_t kStartStack = 256 << 10;
char* start_stack = nullptr;

void Spawn(const SpawnRequest& r, std::unordered_map<pid_t, Job>& jobs) {
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

  const int slot = TakeSlot(r);
  if (slot < 0) {
    FailStart(token, log_fd, EAGAIN, "cannot start the job: the process supervisor runs " +
                                         std::to_string(kSlots) + " jobs already, or its log path is too long");
    return;
  }
  StartArgs args;
  args.request = &r;
  args.log_fd = log_fd;
  args.argv = argv.data();
  args.envp = envp.data();
  args.supervisor = supervisor_pid;
  args.ignored_signals = &IgnoredSignals();
  const pid_t pid = clone(StartJob, start_stack + kStartStack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int err = pid < 0 ? errno : args.err;
  if (pid > 0 && err != 0) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    (void)fremovexattr(log_fd, kStartXattr);  // it did not run
  }
  if (err != 0) {
    ReleaseSlot(slot);
    FailStart(token, log_fd, err,
              pid < 0 ? "cannot start the job: " + std::string(strerror(err))
                      : "cannot execute " + r.program + ": " + strerror(err));
    return;
  }
  close(log_fd);
  Slot& s = table->slots[slot];
  s.pid = pid;
  s.start = args.start;
  SetSlotState(static_cast<uint32_t>(slot), kRunning);
  jobs[pid] = Job{r.token, r.log_path, r.exit_file, {}, slot};
  Reply("S " + token + " " + std::to_string(pid) + " " + std::to_string(args.start) + "\n");
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

// The pids of our direct children (the kernel's list; we are single-threaded); nullopt when
// the list cannot be read.
std::optional<std::vector<pid_t>> OwnChildren() {
  std::vector<pid_t> out;
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/children", static_cast<int>(getpid()));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
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
    out.push_back(static_cast<pid_t>(pid));
    p = end;
  }
  return out;
}

// True when every direct child of the supervisor is a job leader. As the child subreaper we
// inherit every orphan, so once a job's leader has exited, anything of that job still alive
// (or not yet collected) sits in a tree whose root is one of our children: with no child but
// job leaders there is nothing left to look for, and the /proc scan (a read per process on the
// machine) is skipped. Unknown (no such file): false, so the caller scans.
bool OnlyJobLeadersAreChildren(const std::unordered_map<pid_t, Job>& jobs) {
  const std::optional<std::vector<pid_t>> children = OwnChildren();
  if (!children) return false;
  for (pid_t c : *children) {
    if (jobs.count(c) == 0) return false;
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


// Collects every ended child. For a job, first its exit record (the zombie still holds its pid
// and group id), then its leftovers are killed, then it is collected and the server told.
void Reap(std::unordered_map<pid_t, Job>& jobs) {
  for (;;) {
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    const pid_t pid = info.si_pid;
    const bool signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    auto it = jobs.find(pid);
    // An adopted job may have written its own (a start the supervisor's death stopped).
    if (it != jobs.end() && (it->second.slot >= 0 || !HasExitRecord(it->second))) {
      WriteExitRecord(it->second.log_path, it->second.exit_file, ExitRecordBody(signaled, info.si_status));
    }
    kill(-pid, SIGKILL);  // what the job left behind; the leader is a zombie, its id is ours
    // ... and what left the group or session, or was orphaned to us.
    if (it != jobs.end()) KillDescendants(pid, it->second, jobs);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (it == jobs.end()) continue;
    const Job job = std::move(it->second);
    jobs.erase(it);
    ReleaseSlot(job.slot);
    Reply("X " + std::to_string(job.token) + " " + std::to_string(pid) + (signaled ? " s " : " c ") +
          std::to_string(info.si_status) + "\n");
  }
}

// Decodes every complete frame in `buffer` (consumed) and serves it. False on a bad frame.
bool ServeFrames(std::string& buffer, std::unordered_map<pid_t, Job>& jobs) {
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
    Spawn(*request, jobs);
  }
  buffer.erase(0, at);
  return true;
}

// SIGCHLD through a descriptor; blocked, so it stays pending until read. Stopped or continued
// children raise none (SA_NOCLDSTOP): the warden sleeps until its supervisor ends.
int ChildSignals() {
  struct sigaction nostop {};
  nostop.sa_handler = SIG_DFL;
  nostop.sa_flags = SA_NOCLDSTOP;
  sigemptyset(&nostop.sa_mask);
  sigaction(SIGCHLD, &nostop, nullptr);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  return signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
}

// Serves the server (while it is connected) and the ends of `jobs` until the server is gone
// and the last job ended.
int Serve(std::unordered_map<pid_t, Job>& jobs) {
  const int sig_fd = ChildSignals();
  if (sig_fd < 0) return 1;
  std::string buffer;
  std::vector<char> chunk(65536);
  long long last_track_ms = 0;
  Reap(jobs);  // what ended before the descriptor existed
  for (;;) {
    if (server_gone && jobs.empty()) return 0;
    pollfd fds[2] = {{sig_fd, POLLIN, 0}, {server_gone ? -1 : kSocketFd, POLLIN, 0}};
    const int ready = poll(fds, 2, jobs.empty() ? -1 : kTrackIntervalMs);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (!jobs.empty() && MonotonicMs() - last_track_ms >= kTrackIntervalMs) {
      TrackDescendants(jobs);
      last_track_ms = MonotonicMs();
    }
    if (fds[0].revents != 0) {
      signalfd_siginfo info;
      while (read(sig_fd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      }
      Reap(jobs);
    }
    if (!server_gone && fds[1].revents != 0) {
      const ssize_t n = read(kSocketFd, chunk.data(), chunk.size());
      if (n > 0) {
        buffer.append(chunk.data(), static_cast<size_t>(n));
        if (!ServeFrames(buffer, jobs)) server_gone = true;  // not our server: stop listening
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        server_gone = true;  // the server went away; finish recording our jobs
      }
      if (server_gone) close(kSocketFd);
    }
  }
}

// The supervisor: a child of the warden, leading its own session.
int RunSupervisor(bool realtime) {
  setsid();
  // Orphaned descendants of jobs become our children (not the warden's, not init's), so they
  // can be found and killed when their job ends, and collected.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  fcntl(kSocketFd, F_SETFD, FD_CLOEXEC);
  void* stack = mmap(nullptr, kStartStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return 1;
  start_stack = static_cast<char*>(stack);
  // The warden stays under the normal policy (it only sleeps in waitpid); so do the jobs
  // (SCHED_RESET_ON_FORK: the policy of every child is SCHED_OTHER, a negative nice value 0).
  sched_param lowest{};
  lowest.sched_priority = sched_get_priority_min(SCHED_FIFO);
  const bool is_realtime = realtime && sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &lowest) == 0;
  // "R <pid> <policy>": ready, and under which scheduling policy.
  supervisor_pid = getpid();
  Reply("R " + std::to_string(supervisor_pid) + (is_realtime ? " realtime" : " normal") + "\n");
  std::unordered_map<pid_t, Job> jobs;
  return Serve(jobs);
}

// The warden after its supervisor ended: the supervisor's jobs are its children now. Takes
// every one the table names, serves them until the last ended, then ends what is left.
int Adopt() {
  const pid_t self = getpid();
  std::unordered_map<pid_t, Job> jobs;
  std::set<uint64_t> not_started;
  const uint32_t used = table->used < kSlots ? table->used : kSlots;
  for (uint32_t i = 0; i < used; ++i) {
    const Slot& s = table->slots[i];
    const uint32_t state = __atomic_load_n(&s.state, __ATOMIC_ACQUIRE);
    if (state == kFree) continue;
    const std::string log_path(s.paths, strnlen(s.paths, kSlotPaths));
    const size_t rest = kSlotPaths - log_path.size() - 1;
    const std::string exit_file(s.paths + log_path.size() + 1, strnlen(s.paths + log_path.size() + 1, rest));
    pid_t pid = s.pid;
    unsigned long long start = s.start;
    // Started, but the supervisor died before it learned so: the job's own start record.
    if (state == kStarting) {
      const auto record = ReadStartRecord(log_path.c_str());
      pid = record ? record->pid : 0;
      if (record) start = record->start_time;
    }
    ProcInfo info;
    if (pid > 1 && ReadProcInfo(pid, info) && info.ppid == self && info.start == start) {
      jobs[pid] = Job{s.token, log_path, exit_file, {}, -1};
    } else if (state == kStarting) {
      not_started.insert(s.token);
    }
  }
  // A job with no start record reads as not started to the server: it must not run on (only
  // possible where the file system has no user xattrs).
  if (!not_started.empty()) {
    for (pid_t c : OwnChildren().value_or(std::vector<pid_t>{})) {
      if (jobs.count(c) != 0 || not_started.count(MarkerToken(c)) == 0) continue;
      kill(-c, SIGKILL);
      kill(c, SIGKILL);
    }
  }
  const int rc = Serve(jobs);
  // Whatever is left (a start the supervisor did not finish, an orphan nobody claims) ends now,
  // with what it orphans to us while it dies.
  for (int round = 0; round < 50; ++round) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    const std::vector<pid_t> left = OwnChildren().value_or(std::vector<pid_t>{});
    if (left.empty()) break;
    for (pid_t c : left) kill(c, SIGKILL);
    usleep(2000);
  }
  return rc;
}

int Supervise(bool realtime) {
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
  // The jobs of a killed supervisor are re-parented to us (the nearest subreaper).
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  void* shared = mmap(nullptr, sizeof(SlotTable), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (shared == MAP_FAILED) return 1;
  table = static_cast<SlotTable*>(shared);
  const pid_t supervisor = fork();
  if (supervisor < 0) return 1;
  if (supervisor == 0) return RunSupervisor(realtime);
  // The warden: no socket (the server must see it close when the supervisor dies), no job
  // state; it sleeps until the supervisor ends.
  close(kSocketFd);
  prctl(PR_SET_NAME, "alphalab-warden", 0, 0, 0);
  server_gone = true;
  while (waitpid(supervisor, nullptr, 0) < 0 && errno == EINTR) {
  }
  return Adopt();
}

int Usage() {
  static const char kUsage[] =
      "usage: alphalab-shim --supervise [--realtime]\n"
      "The process supervisor of alphalab's local executor: starts jobs, records how they end\n"
      "(started by the server with its socket on descriptor 3; not meant to be run by hand).\n"
      "--realtime: run under SCHED_FIFO where permitted (its jobs never do).\n";
  WriteAll(STDERR_FILENO, kUsage, sizeof(kUsage) - 1);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "--supervise") == 0) {
    if (argc == 2) return Supervise(false);
    if (argc == 3 && strcmp(argv[2], "--realtime") == 0) return Supervise(true);
  }
  return Usage();
}

#include "exec/local/local_executor.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/json.hpp"
#include "exec/local/supervisor_protocol.hpp"
#include "exec/process_spec.hpp"

extern char** environ;

namespace alphalab {
namespace {

constexpr uint64_t kWakeKey = 0;        // epoll data of the wake eventfd
constexpr uint64_t kSupervisorKey = 1;  // epoll data of the supervisor's socket
constexpr int kSupervisorFd = 3;        // where the supervisor finds its socket
// An ended re-attached process whose record is not there yet is checked this often.
constexpr int kRecordPollMs = 20;
// Processes without a pidfd (very old kernels) are polled this often.
constexpr int kPollMs = 50;

std::string Errno(int err) { return std::strerror(err); }

int PidfdOpen(int pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

struct ProcStat {
  char state = '?';
  int ppid = 0;
  uint64_t start_time = 0;
};

// /proc/<pid>/stat; NotFound when the process does not exist (zombies do exist).
Result<ProcStat> ReadProcStat(int pid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound("process " + std::to_string(pid) + " does not exist");
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return Status::NotFound("process " + std::to_string(pid) + " does not exist");
  buf[n] = '\0';
  // comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return Status::Internal("unreadable " + std::string(path));
  std::istringstream in(p + 1);
  std::vector<std::string> fields;
  std::string field;
  while (in >> field) fields.push_back(field);
  if (fields.size() < 20) return Status::Internal("unreadable " + std::string(path));
  ProcStat stat;
  stat.state = fields[0].empty() ? '?' : fields[0][0];    // field 3
  stat.ppid = std::atoi(fields[1].c_str());                // field 4
  stat.start_time = std::strtoull(fields[19].c_str(), nullptr, 10);  // field 22
  return stat;
}

}  // namespace

std::map<std::string, std::string> ThreadPolicyEnvironment(int slots, unsigned cores) {
  const unsigned per_slot = slots > 0 ? cores / static_cast<unsigned>(slots) : cores;
  return {{"OMP_WAIT_POLICY", "passive"}, {"OMP_NUM_THREADS", std::to_string(std::max(1u, per_slot))}};
}


namespace {

sigset_t DefaultedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaddset(&set, sig);
  }
  return set;
}

constexpr const char* kExitXattr = "user.alphalab.exit";

// Reads what the shim recorded: the log's user.alphalab.exit attribute, else "<log>.exit".
// nullopt when there is no (complete) record.
std::optional<Json> ReadExitRecordJson(const std::filesystem::path& log_path) {
  std::string text;
  char buf[512];
  const ssize_t n = getxattr(log_path.c_str(), kExitXattr, buf, sizeof(buf));
  if (n > 0) {
    text.assign(buf, static_cast<size_t>(n));
  } else {
    std::ifstream in(LocalExecutor::ExitFilePath(log_path), std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  Result<Json> parsed = ParseJson(text);
  if (!parsed.ok() || !parsed->is_object()) return std::nullopt;
  return *parsed;
}

// The job's start record (supervisor_protocol.hpp): which process runs a job whose spawn the
// supervisor died before reporting. nullopt when there is none.
std::optional<std::pair<int, uint64_t>> ReadStartRecord(const std::filesystem::path& log_path) {
  const auto record = supervisor::ReadStartRecord(log_path.c_str());
  if (!record) return std::nullopt;
  return std::make_pair(record->pid, static_cast<uint64_t>(record->start_time));
}

void ApplyExitRecord(const Json& record, ProcessExit& exit) {
  if (auto it = record.find("exit_code"); it != record.end() && it->is_number_integer()) {
    exit.exit_code = it->get<int>();
  }
  if (auto it = record.find("signal"); it != record.end() && it->is_number_integer()) {
    exit.signal = it->get<int>();
  }
  if (auto it = record.find("error"); it != record.end() && it->is_string()) {
    exit.error = it->get<std::string>();
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::filesystem::path DefaultShimPath() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "alphalab-shim";
  return self.parent_path() / "alphalab-shim";
}

std::string FormatLocalRef(const LocalProcessRef& ref) {
  return "local:" + std::to_string(ref.pid) + ":" + std::to_string(ref.start_time);
}

Result<LocalProcessRef> ParseLocalRef(std::string_view ref) {
  auto bad = [&] {
    return Status::InvalidArgument("not a local executor ref: '" + std::string(ref) +
                                   "' (expected local:<pid>:<start-time>)");
  };
  constexpr std::string_view kPrefix = "local:";
  if (ref.substr(0, kPrefix.size()) != kPrefix) return bad();
  std::string_view rest = ref.substr(kPrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= rest.size()) return bad();
  auto all_digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 19 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const std::string_view pid_text = rest.substr(0, colon);
  const std::string_view start_text = rest.substr(colon + 1);
  if (!all_digits(pid_text) || !all_digits(start_text) || pid_text.size() > 9) return bad();
  LocalProcessRef parsed;
  parsed.pid = std::atoi(std::string(pid_text).c_str());
  parsed.start_time = std::strtoull(std::string(start_text).c_str(), nullptr, 10);
  if (parsed.pid <= 1) return bad();
  return parsed;
}

Result<uint64_t> ProcessStartTime(int pid) {
  ASSIGN_OR_RETURN(ProcStat stat, ReadProcStat(pid));
  if (stat.state == 'Z' || stat.state == 'X') {
    return Status::NotFound("process " + std::to_string(pid) + " has ended");
  }
  return stat.start_time;
}

std::optional<ProcessExit> LocalExecutor::ReadExitRecord(const std::filesystem::path& log_path) {
  std::optional<Json> record = ReadExitRecordJson(log_path);
  if (!record) return std::nullopt;
  ProcessExit exit;
  ApplyExitRecord(*record, exit);
  return exit;
}

std::filesystem::path LocalExecutor::ExitFilePath(const std::filesystem::path& log_path) {
  std::filesystem::path path = log_path;
  path += ".exit";
  return path;
}

// ---------------------------------------------------------------------------------------------

LocalExecutor::LocalExecutor(LocalExecutorOptions options)
    : slots_(options.slots > 0 ? options.slots
                               : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
      thread_policy_(ThreadPolicyEnvironment(slots_, std::max(1u, std::thread::hardware_concurrency()))),
      shim_path_(options.shim_path.empty() ? DefaultShimPath() : options.shim_path),
      kill_grace_(std::max(options.kill_grace, std::chrono::milliseconds(0))),
      realtime_supervisor_(options.realtime_supervisor) {
  if (!IsExecutableFile(shim_path_)) {
    init_status_ = Status::FailedPrecondition(
        "local executor: the process supervisor '" + shim_path_.string() +
        "' is missing or not executable (build the alphalab-shim target; it belongs beside the "
        "alphalab binary)");
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    init_status_ = Status::Internal("local executor: epoll/eventfd failed: " + Errno(errno));
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeKey;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    init_status_ = Status::Internal("local executor: epoll_ctl failed: " + Errno(errno));
    return;
  }
  if (init_status_.ok()) {
    std::lock_guard<std::mutex> send_lock(send_mu_);
    Status started = EnsureSupervisor();
    if (!started.ok()) init_status_ = started;
  }
  reaper_ = std::thread([this] { ReaperLoop(); });
}

Result<std::unique_ptr<LocalExecutor>> LocalExecutor::Create(LocalExecutorOptions options) {
  auto executor = std::make_unique<LocalExecutor>(std::move(options));
  RETURN_IF_ERROR(executor->init_status());
  return executor;
}

LocalExecutor::~LocalExecutor() {
  Shutdown();
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void LocalExecutor::Wake() {
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof(one));
}

int LocalExecutor::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(watched_.size());
}

int LocalExecutor::SupervisorPid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return supervisor_fd_ >= 0 ? supervisor_pid_ : 0;
}

bool LocalExecutor::SupervisorRealtime() const {
  std::lock_guard<std::mutex> lock(mu_);
  return supervisor_fd_ >= 0 && supervisor_realtime_;
}

Status LocalExecutor::AddWatchLocked(uint64_t key, Watched& w) {
  if (w.pidfd < 0) return Status::Ok();  // polled by the reaper tick
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = key;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, w.pidfd, &ev) != 0) {
    return Status::Internal("local executor: epoll_ctl(pidfd) failed: " + Errno(errno));
  }
  return Status::Ok();
}

// Called with send_mu_ held. Starts the supervisor when none is connected: the shim with one
// end of a socket pair on descriptor 3; it forks into the background (we collect the parent at
// once) and says "R <pid>" when it is ready.
Status LocalExecutor::EnsureSupervisor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Unavailable("local executor is shut down");
    if (supervisor_fd_ >= 0) return Status::Ok();
  }
  RETURN_IF_ERROR(init_status_);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Status::Internal("local executor: socketpair failed: " + Errno(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, sv[1], kSupervisorFd);
  posix_spawn_file_actions_addclosefrom_np(&actions, kSupervisorFd + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  const sigset_t defaults = DefaultedSignals();
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::string arg0 = shim_path_.string();
  std::string arg1 = "--supervise";
  std::string arg2 = "--realtime";
  char* argv[] = {arg0.data(), arg1.data(), realtime_supervisor_ ? arg2.data() : nullptr, nullptr};
  pid_t launcher = -1;
  const int rc = posix_spawn(&launcher, shim_path_.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(sv[1]);
  if (rc != 0) {
    close(sv[0]);
    return Status::FailedPrecondition("local executor: cannot start the process supervisor '" +
                                      shim_path_.string() + "': " + Errno(rc));
  }
  int launcher_status = 0;
  while (waitpid(launcher, &launcher_status, 0) < 0 && errno == EINTR) {
  }
  // The first line says the supervisor is ready: "R <pid>\n".
  std::string hello;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (hello.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd pfd{sv[0], POLLIN, 0};
    const int ready = left.count() > 0 ? poll(&pfd, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    char c = 0;
    if (ready <= 0 || read(sv[0], &c, 1) != 1) break;
    hello.push_back(c);
  }
  int pid = 0;
  if (hello.size() < 4 || hello[0] != 'R' || (pid = std::atoi(hello.c_str() + 2)) <= 1) {
    close(sv[0]);
    return Status::Internal("local executor: the process supervisor '" + shim_path_.string() +
                            "' did not start (exit status " + std::to_string(launcher_status) + ")");
  }
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  std::lock_guard<std::mutex> lock(mu_);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kSupervisorKey;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, sv[0], &ev) != 0) {
    close(sv[0]);
    return Status::Internal("local executor: epoll_ctl(supervisor) failed: " + Errno(errno));
  }
  supervisor_fd_ = sv[0];
  supervisor_pid_ = pid;
  // "R <pid> realtime|normal" (see the shim).
  supervisor_realtime_ = hello.find(" realtime") != std::string::npos;
  if (supervisor_pidfd_ >= 0) close(supervisor_pidfd_);
  supervisor_pidfd_ = PidfdOpen(pid);
  return Status::Ok();
}

void LocalExecutor::AnswerLocked(uint64_t key, SpawnReply answer) {
  auto it = spawn_replies_.find(key);
  if (it == spawn_replies_.end()) return;
  it->second.reply = std::move(answer);
  if (it->second.waiter != nullptr) it->second.waiter->notify_one();
}

void LocalExecutor::ForgetLocked(uint64_t key) {
  auto it = watched_.find(key);
  if (it == watched_.end()) return;
  if (it->second.pidfd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.pidfd, nullptr);
    close(it->second.pidfd);
  }
  by_job_.erase(it->second.job_id);
  watched_.erase(it);
}

std::optional<std::string> LocalExecutor::StartedRef(const std::filesystem::path& log_path) const {
  const std::optional<std::pair<int, uint64_t>> started = ReadStartRecord(log_path);
  if (!started) return std::nullopt;
  return FormatLocalRef({started->first, started->second});
}

bool LocalExecutor::RecordsStartsIn(const std::filesystem::path& log_dir) const {
  std::string probe = (log_dir / ".xattr_probe.XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0) return false;
  const bool kept = fsetxattr(fd, "user.alphalab.start", "0 0", 3, 0) == 0;
  close(fd);
  unlink(probe.c_str());
  return kept;
}

Result<std::string> LocalExecutor::Submit(const ProcessSpec& spec, ExitCallback on_exit) {
  RETURN_IF_ERROR(init_status_);
  RETURN_IF_ERROR(ValidateSpec(spec));
  ASSIGN_OR_RETURN(std::filesystem::path program, ResolveProgram(spec));

  supervisor::SpawnRequest request;
  request.program = program.string();
  request.cwd = spec.cwd.string();
  request.log_path = spec.log_path.string();
  request.exit_file = ExitFilePath(spec.log_path).string();
  request.argv = spec.argv;
  request.env = BuildJobEnvironment(environ, spec.env, thread_policy_);

  uint64_t key = 0;
  std::condition_variable answered_cv;  // AnswerLocked wakes this Submit alone
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Unavailable("local executor is shut down");
    if (by_job_.count(spec.job_id) != 0) {
      return Status::AlreadyExists("job " + spec.job_id.str() + " is already running");
    }
    key = next_key_++;
    Watched w;
    w.job_id = spec.job_id;
    w.supervised = true;
    w.log_path = spec.log_path;
    w.on_exit = std::move(on_exit);
    w.timeout = spec.timeout;
    by_job_[spec.job_id] = key;
    watched_.emplace(key, std::move(w));
    spawn_replies_[key] = PendingSpawn{SpawnReply{}, &answered_cv};
  }
  auto fail = [&](Status status) -> Status {
    std::lock_guard<std::mutex> lock(mu_);
    ForgetLocked(key);
    spawn_replies_.erase(key);
    return status;
  };
  request.token = key;
  {
    std::lock_guard<std::mutex> send_lock(send_mu_);
    Status up = EnsureSupervisor();
    if (!up.ok()) return fail(up);
    int fd = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fd = supervisor_fd_;
    }
    const std::string frame = supervisor::EncodeSpawn(request);
    size_t sent = 0;
    while (sent < frame.size()) {
      const ssize_t n = send(fd, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd pfd{fd, POLLOUT, 0};
        poll(&pfd, 1, 1000);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return fail(Status::Unavailable("cannot start job " + spec.job_id.str() +
                                         ": the process supervisor is gone (" + Errno(errno) + ")"));
      }
    }
    std::lock_guard<std::mutex> lock(mu_);  // still under send_mu_: no SupervisorLost in between
    if (auto it = watched_.find(key); it != watched_.end()) it->second.sent = true;
  }
  // No Wake() here: a supervised job's deadline is set by the reaper itself when it reads the
  // supervisor's "S" line (then it recomputes its timeout), so waking it now only cost every
  // job one more reaper pass and context switch.
  std::unique_lock<std::mutex> lock(mu_);
  const bool answered = answered_cv.wait_for(lock, std::chrono::seconds(60), [&] {
    auto it = spawn_replies_.find(key);
    return it == spawn_replies_.end() || it->second.reply.done;
  });
  auto it = spawn_replies_.find(key);
  if (!answered || it == spawn_replies_.end()) {
    if (it != spawn_replies_.end()) spawn_replies_.erase(it);
    ForgetLocked(key);
    return Status::Unavailable("cannot start job " + spec.job_id.str() +
                               ": the process supervisor did not answer");
  }
  SpawnReply reply = std::move(it->second.reply);
  spawn_replies_.erase(it);
  if (!reply.ok) {
    return Status::FailedPrecondition("cannot start job " + spec.job_id.str() + " ('" +
                                      spec.argv[0] + "' in '" + spec.cwd.string() +
                                      "'): " + reply.error);
  }
  return FormatLocalRef({reply.pid, reply.start_time});
}

void LocalExecutor::TerminateLocked(Watched& w) {
  if (w.pid <= 1) return;  // not spawned yet: done when the supervisor reports the pid
  if (kill(-w.pid, SIGTERM) != 0 && errno == ESRCH) return;  // already gone
  if (kill_grace_.count() == 0) {
    kill(-w.pid, SIGKILL);
    w.kill_sent = true;
    return;
  }
  if (!w.kill_at) w.kill_at = std::chrono::steady_clock::now() + kill_grace_;
}

Status LocalExecutor::Cancel(const JobId& job_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = by_job_.find(job_id);
    if (key == by_job_.end()) {
      return Status::NotFound("job " + job_id.str() + " is not running in the local executor");
    }
    Watched& w = watched_.at(key->second);
    if (w.canceled) return Status::Ok();
    w.canceled = true;
    if (!w.kill_at) TerminateLocked(w);
  }
  Wake();
  return Status::Ok();
}

Result<bool> LocalExecutor::Reattach(const JobId& job_id, const std::string& executor_ref,
                                     const std::filesystem::path& log_path, ExitCallback on_exit) {
  RETURN_IF_ERROR(init_status_);
  ASSIGN_OR_RETURN(LocalProcessRef ref, ParseLocalRef(executor_ref));
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return Status::Unavailable("local executor is shut down");
  if (by_job_.count(job_id) != 0) {
    return Status::AlreadyExists("job " + job_id.str() + " is already watched");
  }

  // Same pid and same start time: the very process we started (zombies included: it ended,
  // but its supervisor has not collected it yet).
  int pidfd = -1;
  Result<ProcStat> stat = ReadProcStat(ref.pid);
  bool alive = stat.ok() && stat->start_time == ref.start_time;
  if (alive) {
    pidfd = PidfdOpen(ref.pid);
    // Re-check after opening: the pidfd must refer to the process we identified.
    Result<ProcStat> again = ReadProcStat(ref.pid);
    if (!again.ok() || again->start_time != ref.start_time) {
      if (pidfd >= 0) close(pidfd);
      pidfd = -1;
      alive = false;
    }
  }
  if (!alive) {
    std::optional<Json> record = ReadExitRecordJson(log_path);
    if (!record) return false;
    Finished finished;
    finished.on_exit = std::move(on_exit);
    finished.exit.job_id = job_id;
    ApplyExitRecord(*record, finished.exit);
    ready_.push_back(std::move(finished));
    Wake();
    return true;
  }
  Watched w;
  w.job_id = job_id;
  w.pid = ref.pid;
  w.pidfd = pidfd;
  w.start_time = ref.start_time;
  w.log_path = log_path;
  w.on_exit = std::move(on_exit);
  const uint64_t key = next_key_++;
  if (!AddWatchLocked(key, w).ok()) {
    close(w.pidfd);
    w.pidfd = -1;
  }
  by_job_[job_id] = key;
  watched_.emplace(key, std::move(w));
  Wake();
  return true;
}

// A re-attached process (not our supervisor's child): true once it has exited.
bool LocalExecutor::HasEndedLocked(Watched& w) {
  if (w.pidfd >= 0) {
    // Readable only once the process has exited; the event brought us here, but check.
    pollfd pfd{w.pidfd, POLLIN, 0};
    if (poll(&pfd, 1, 0) <= 0) return false;
  } else {
    Result<ProcStat> stat = ReadProcStat(w.pid);
    if (stat.ok() && stat->start_time == w.start_time && stat->state != 'Z' && stat->state != 'X') {
      return false;
    }
  }
  kill(-w.pid, SIGKILL);  // leftovers of the group
  return true;
}

LocalExecutor::Finished LocalExecutor::FinishLocked(Watched& w,
                                                    const std::optional<ReportedEnd>& reported) {
  Finished finished;
  finished.on_exit = std::move(w.on_exit);
  ProcessExit& exit = finished.exit;
  exit.job_id = w.job_id;
  exit.canceled = w.canceled;
  exit.timed_out = w.timed_out;
  if (reported) {
    exit.exit_code = reported->exit_code;
    exit.signal = reported->signal;
  } else if (std::optional<Json> record = ReadExitRecordJson(w.log_path)) {
    ApplyExitRecord(*record, exit);
  } else if (w.kill_sent) {
    exit.signal = SIGKILL;  // we killed the whole group; nobody recorded it
  } else if (w.supervisor_lost) {
    // The supervisor's warden records the exit status of the jobs of a supervisor that died
    // before it collects them; no record means the warden was killed too: nobody knows how
    // the job ended.
    exit.error = "outcome unknown: the process supervisor and its warden ended "
                 "unexpectedly while the job ran, so its exit status was lost";
  } else {
    exit.error = "outcome unknown: the process ended without recording its exit status";
  }
  if (w.pidfd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w.pidfd, nullptr);
    close(w.pidfd);
    w.pidfd = -1;
  }
  return finished;
}

void LocalExecutor::CheckLocked(const std::vector<uint64_t>& readable,
                                std::vector<Finished>& done) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<uint64_t> ended;
  for (auto& [key, w] : watched_) {
    if (w.deadline && now >= *w.deadline && !w.timed_out && !w.canceled) {
      w.timed_out = true;
      TerminateLocked(w);
    }
    if (w.kill_at && now >= *w.kill_at) {
      kill(-w.pid, SIGKILL);
      w.kill_at.reset();
      w.kill_sent = true;
    }
    if (w.supervised) continue;  // its end arrives as a message
    if (w.record_due) {
      // Ended; its supervisor writes the record right after collecting it.
      if (now < *w.record_due && !ReadExitRecordJson(w.log_path)) continue;
    } else {
      const bool check = w.pidfd < 0 ||
                         std::find(readable.begin(), readable.end(), key) != readable.end();
      if (!check || !HasEndedLocked(w)) continue;
      // Its supervisor (or, when that died, its warden) writes the record before it collects
      // the job, so it is due: the pid of an ended but uncollected job reads as ended already.
      if (!ReadExitRecordJson(w.log_path)) {
        w.record_due = now + kRecordGrace;
        if (w.pidfd >= 0) {
          epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w.pidfd, nullptr);
          close(w.pidfd);
          w.pidfd = -1;
        }
        continue;
      }
    }
    done.push_back(FinishLocked(w, std::nullopt));
    ended.push_back(key);
  }
  for (uint64_t key : ended) {
    by_job_.erase(watched_.at(key).job_id);
    watched_.erase(key);
  }
}

namespace {

// The fields of a supervisor line, split at spaces (a line is read for every start and end:
// no stream per line).
class LineFields {
 public:
  explicit LineFields(std::string_view line) : rest_(line) {}
  std::string_view Next() {
    while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
    const size_t end = std::min(rest_.find(' '), rest_.size());
    const std::string_view field = rest_.substr(0, end);
    rest_.remove_prefix(end);
    return field;
  }
  template <typename T>
  bool Number(T& out) {
    const std::string_view f = Next();
    return !f.empty() && std::from_chars(f.data(), f.data() + f.size(), out).ec == std::errc();
  }
  // What is left after the next space (a message may hold spaces).
  std::string_view Rest() {
    while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
    return rest_;
  }

 private:
  std::string_view rest_;
};

}  // namespace

void LocalExecutor::HandleLineLocked(std::string_view line, std::vector<Finished>& done) {
  LineFields in(line);
  const std::string_view kind_field = in.Next();
  uint64_t key = 0;
  if (kind_field.size() != 1 || !in.Number(key)) return;
  const char kind = kind_field.front();
  if (kind == 'S' || kind == 'E') {
    auto it = watched_.find(key);
    if (kind == 'S') {
      int pid = 0;
      uint64_t start_time = 0;
      if (in.Number(pid)) (void)in.Number(start_time);
      if (it != watched_.end()) {
        Watched& w = it->second;
        w.pid = pid;
        w.start_time = start_time;
        w.spawned = true;
        if (w.timeout.count() > 0) w.deadline = std::chrono::steady_clock::now() + w.timeout;
        if (w.canceled) TerminateLocked(w);  // canceled before the pid was known
      }
      AnswerLocked(key, SpawnReply{true, true, pid, start_time, ""});
    } else {
      int err = 0;
      (void)in.Number(err);
      const std::string message(in.Rest());
      ForgetLocked(key);
      AnswerLocked(key, SpawnReply{true, false, 0, 0, message});
    }
    return;
  }
  if (kind == 'X') {
    int pid = 0;
    int value = 0;
    if (!in.Number(pid)) return;
    const std::string_view how = in.Next();
    if (how.size() != 1 || !in.Number(value)) return;
    auto it = watched_.find(key);
    if (it == watched_.end()) return;
    ReportedEnd end;
    if (how.front() == 's') {
      end.signal = value;
    } else {
      end.exit_code = value;
    }
    done.push_back(FinishLocked(it->second, end));
    ForgetLocked(key);
  }
}

void LocalExecutor::ReadSupervisor(std::vector<Finished>& done) {
  char chunk[16384];
  for (;;) {
    int fd = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fd = supervisor_fd_;
    }
    if (fd < 0) return;
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      SupervisorLost(done);
      return;
    }
    supervisor_input_.append(chunk, static_cast<size_t>(n));
    std::lock_guard<std::mutex> lock(mu_);
    size_t start = 0;
    for (size_t nl; (nl = supervisor_input_.find('\n', start)) != std::string::npos; start = nl + 1) {
      HandleLineLocked(std::string_view(supervisor_input_).substr(start, nl - start), done);
    }
    supervisor_input_.erase(0, start);
  }
}

// The supervisor's socket closed: it was killed or crashed. Its jobs (now the children of its
// warden) are watched through pidfds; how they end comes from the exit records the warden
// writes. A job it had not reported as started is looked up by the job's start record: found,
// the job started (its Submit succeeds and it is watched like the others); not found, it never
// will (a job does not start once its supervisor is gone) and its Submit fails. The next Submit
// starts a new supervisor.
void LocalExecutor::SupervisorLost(std::vector<Finished>& done) {
  std::lock_guard<std::mutex> send_lock(send_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  if (supervisor_fd_ < 0) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, supervisor_fd_, nullptr);
  close(supervisor_fd_);
  supervisor_fd_ = -1;
  supervisor_input_.clear();
  std::fprintf(stderr, "local executor: the process supervisor (pid %d) ended unexpectedly\n",
               supervisor_pid_);
  // Its socket closes while it exits, before the kernel gives its children (the jobs being
  // started among them) their new parent. A job that records itself on the log and then still
  // sees the supervisor as its parent starts, so a start record read now could be missing for a
  // job that is about to start. Wait until the supervisor has exited (its pidfd turns readable
  // only after its children were re-parented): every job that saw it alive wrote its record.
  if (supervisor_pidfd_ >= 0) {
    pollfd pfd{supervisor_pidfd_, POLLIN, 0};
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      const int ready = poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready >= 0 || errno != EINTR) break;
    }
    close(supervisor_pidfd_);
    supervisor_pidfd_ = -1;
  }
  std::vector<uint64_t> lost;
  for (auto& [key, w] : watched_) {
    if (!w.supervised || !w.sent) continue;  // not sent yet: its Submit sends it to the next one
    const bool adopted = !w.spawned;
    if (!w.spawned) {
      const std::optional<std::pair<int, uint64_t>> started = ReadStartRecord(w.log_path);
      if (!started) {
        lost.push_back(key);
        continue;
      }
      w.pid = started->first;
      w.start_time = started->second;
      w.spawned = true;
      if (w.timeout.count() > 0) w.deadline = std::chrono::steady_clock::now() + w.timeout;
      AnswerLocked(key, SpawnReply{true, true, w.pid, w.start_time, ""});
    }
    w.supervised = false;
    w.supervisor_lost = true;
    w.pidfd = PidfdOpen(w.pid);
    Result<ProcStat> stat = ReadProcStat(w.pid);
    if (w.pidfd >= 0 && stat.ok() && stat->start_time == w.start_time) {
      if (!AddWatchLocked(key, w).ok()) {
        close(w.pidfd);
        w.pidfd = -1;
      }
    } else if (w.pidfd >= 0) {
      close(w.pidfd);
      w.pidfd = -1;  // already gone: the next check finishes it
    }
    if (adopted && w.canceled) TerminateLocked(w);  // canceled before the pid was known
  }
  for (uint64_t key : lost) {
    ForgetLocked(key);
    AnswerLocked(key, SpawnReply{true, false, 0, 0, "the process supervisor ended unexpectedly"});
  }
  CheckLocked({}, done);
}

void LocalExecutor::ReaperLoop() {
  std::vector<epoll_event> events(128);
  while (true) {
    int timeout_ms = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      const auto now = std::chrono::steady_clock::now();
      auto consider = [&](std::chrono::steady_clock::time_point at) {
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(at - now).count();
        const int clamped = static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
        timeout_ms = timeout_ms < 0 ? clamped : std::min(timeout_ms, clamped);
      };
      for (const auto& [key, w] : watched_) {
        if (w.deadline && !w.timed_out && !w.canceled) consider(*w.deadline);
        if (w.kill_at) consider(*w.kill_at);
        if (w.record_due) consider(now + std::chrono::milliseconds(kRecordPollMs));
        else if (!w.supervised && w.pidfd < 0) consider(now + std::chrono::milliseconds(kPollMs));
      }
      if (!ready_.empty()) timeout_ms = 0;
    }
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    std::vector<uint64_t> readable;
    bool supervisor_readable = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeKey) {
        uint64_t drained = 0;
        (void)!read(wake_fd_, &drained, sizeof(drained));
      } else if (events[i].data.u64 == kSupervisorKey) {
        supervisor_readable = true;
      } else {
        readable.push_back(events[i].data.u64);
      }
    }
    std::vector<Finished> done;
    if (supervisor_readable) ReadSupervisor(done);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      CheckLocked(readable, done);
      for (Finished& f : ready_) done.push_back(std::move(f));
      ready_.clear();
    }
    for (Finished& f : done) {
      if (!f.on_exit) continue;
      try {
        f.on_exit(f.exit);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "local executor: exit callback of %s threw: %s\n",
                     f.exit.job_id.str().c_str(), e.what());
      } catch (...) {
        std::fprintf(stderr, "local executor: exit callback of %s threw\n",
                     f.exit.job_id.str().c_str());
      }
    }
  }
}

void LocalExecutor::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [key, pending] : spawn_replies_) {
      if (!pending.reply.done) AnswerLocked(key, SpawnReply{true, false, 0, 0, "the local executor is shutting down"});
    }
  }
  Wake();
  if (reaper_.joinable()) {
    if (reaper_.get_id() == std::this_thread::get_id()) {
      reaper_.detach();  // Shutdown from inside an exit callback
    } else {
      reaper_.join();
    }
  }
  std::lock_guard<std::mutex> send_lock(send_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, w] : watched_) {
    if (w.pidfd >= 0) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w.pidfd, nullptr);
      close(w.pidfd);
    }
  }
  watched_.clear();
  by_job_.clear();
  ready_.clear();
  // The supervisor sees its socket close, keeps recording the ends of the jobs it started
  // (the next server re-attaches them) and exits after the last one.
  if (supervisor_fd_ >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, supervisor_fd_, nullptr);
    close(supervisor_fd_);
    supervisor_fd_ = -1;
  }
  if (supervisor_pidfd_ >= 0) {
    close(supervisor_pidfd_);
    supervisor_pidfd_ = -1;
  }
}

}  // namespace alphalab

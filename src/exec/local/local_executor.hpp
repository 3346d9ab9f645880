// LocalExecutor: runs jobs as processes on this machine.
//
//   LocalExecutor ──socket──> alphalab-shim --supervise (one per executor, started once,
//        (server)                   │                     detached, its own session)
//                                   └─posix_spawn──> each job's program (leader of a new
//                                                    process group; cwd, env, log fds set)
//
// - No shell: argv[0] is resolved here (PATH of the job's environment when it has no '/',
//   relative to cwd otherwise) so a missing program or cwd is a Status from Submit; so is an
//   exec failure the supervisor reports (also written to the job's log).
// - stdout and stderr are the same O_APPEND descriptor on the log file (merged, in order);
//   stdin is /dev/null; no other descriptor of the server leaks into the job.
// - The supervisor (src/exec/shim/shim_main.cpp, protocol in supervisor_protocol.hpp) starts
//   each job itself, without a fork per job (a vfork-style clone that executes the program):
//   the job is its child and leads its own process group; executor_ref names the job. When a
//   job ends the supervisor records how as the extended attribute "user.alphalab.exit" of the
//   log (or in "<log_path>.exit" where the file system has no user xattrs) before it collects
//   the job, kills whatever the job left behind and tells the server. The supervisor outlives
//   a crashed or stopped server; its warden (its parent, a subreaper) adopts the jobs of a
//   killed supervisor and records their ends the same way: the record is how Reattach (any
//   later server) and a supervisor loss learn the true exit status. If the supervisor dies,
//   its jobs are watched through pidfds (the record gives the exit status; without one, when
//   the warden was killed too, it is lost and reported so) and the next Submit starts a new
//   supervisor.
// - One reaper thread reads the supervisor's messages and watches re-attached processes
//   through pidfds in an epoll set; it never blocks a caller. Timeout and Cancel send SIGTERM
//   to the job's group and SIGKILL after the grace period.
// - executor_ref = "local:<job pid>:<start time from /proc/<pid>/stat field 22>", so a
//   recycled pid is never mistaken for the job.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "exec/executor.hpp"
#include "exec/process_spec.hpp"  // BuildJobEnvironment

namespace alphalab {

struct LocalExecutorOptions {
  int slots = 0;                                  // Capacity(); 0 = hardware threads
  std::filesystem::path shim_path;                // the supervisor binary; empty = DefaultShimPath()
  std::chrono::milliseconds kill_grace{5000};     // SIGTERM -> SIGKILL delay
  // The supervisor asks for SCHED_FIFO (its jobs never run under it; see alphalab-shim):
  // alphalab.yaml `executor.supervisor_priority: realtime` (the default) or `normal`.
  bool realtime_supervisor = true;
};

// Directory of /proc/self/exe + "/alphalab-shim" (the shim is installed beside alphalab).
std::filesystem::path DefaultShimPath();

// "local:<pid>:<starttime>" <-> parts.
struct LocalProcessRef {
  int pid = 0;
  uint64_t start_time = 0;  // clock ticks since boot, /proc/<pid>/stat field 22
};
std::string FormatLocalRef(const LocalProcessRef& ref);
Result<LocalProcessRef> ParseLocalRef(std::string_view ref);
// The start time of a live (non-zombie) process; NotFound when it is gone or a zombie.
Result<uint64_t> ProcessStartTime(int pid);

// The OpenMP settings a job gets unless its own environment or the server's sets them
// (docs/job_states.md, "Threads of a job"): OMP_WAIT_POLICY=passive (idle OpenMP workers
// sleep instead of spinning on cores other jobs need) and OMP_NUM_THREADS = the cores a slot
// owns (cores / slots, at least 1), so N concurrent jobs on N cores never oversubscribe them.
std::map<std::string, std::string> ThreadPolicyEnvironment(int slots, unsigned cores);


class LocalExecutor final : public Executor {
 public:
  // Never fails; a missing shim or an OS failure is reported by Submit/Reattach.
  // Prefer Create() in wiring code to fail at startup instead.
  explicit LocalExecutor(LocalExecutorOptions options = {});
  static Result<std::unique_ptr<LocalExecutor>> Create(LocalExecutorOptions options = {});
  ~LocalExecutor() override;

  Result<std::string> Submit(const ProcessSpec& spec, ExitCallback on_exit) override;
  Status Cancel(const JobId& job_id) override;
  Result<bool> Reattach(const JobId& job_id, const std::string& executor_ref,
                        const std::filesystem::path& log_path, ExitCallback on_exit) override;
  int Capacity() const override { return slots_; }
  void Shutdown() override;

  // Processes currently watched (submitted or re-attached, not yet reported).
  int Running() const;
  // Startup problems (shim missing, epoll unavailable, supervisor not starting); OK when usable.
  const Status& init_status() const { return init_status_; }
  // The supervisor's pid (0 when none is running). For tests and diagnostics.
  int SupervisorPid() const;
  // Whether the running supervisor got the real-time policy it was asked for (false when
  // not asked, not permitted or none is running). For tests and diagnostics.
  bool SupervisorRealtime() const;
  // What the supervisor recorded when the job's program ended (nullopt: nothing yet).
  static std::optional<ProcessExit> ReadExitRecord(const std::filesystem::path& log_path);
  // "local:<pid>:<start time>" of the job that recorded itself on the log (see the shim).
  std::optional<std::string> StartedRef(const std::filesystem::path& log_path) const override;
  // Whether `log_dir`'s file system keeps user extended attributes (the start record is one):
  // a probe file there gets the attribute, then is removed.
  bool RecordsStartsIn(const std::filesystem::path& log_dir) const override;
  // "<log_path>.exit": where the record goes when the file system has no user xattrs.
  static std::filesystem::path ExitFilePath(const std::filesystem::path& log_path);

  // How long an ended process watched through its pid may take to show its exit record (its
  // supervisor, or the warden of a dead one, writes it just before collecting the process)
  // before it counts as lost.
  static constexpr std::chrono::milliseconds kRecordGrace{2000};

 private:
  struct Watched {
    JobId job_id;
    int pid = 0;          // leader of the job's process group (pgid == pid); 0 until spawned
    int pidfd = -1;       // re-attached only; -1 = polled every tick
    bool supervised = false;  // our supervisor's child: its end arrives as a message
    bool spawned = false;     // supervised: the supervisor reported the pid
    // supervised: its spawn frame went to the current supervisor. A Submit registers its job
    // before it waits for the send lock; a supervisor lost in between never saw the frame,
    // which then goes to the next supervisor (SupervisorLost leaves such a job alone).
    bool sent = false;
    bool supervisor_lost = false;  // was supervised when the supervisor died
    uint64_t start_time = 0;
    std::filesystem::path log_path;  // the exit record hangs off it
    ExitCallback on_exit;
    std::chrono::seconds timeout{0};
    std::optional<std::chrono::steady_clock::time_point> deadline;  // timeout
    std::optional<std::chrono::steady_clock::time_point> kill_at;   // SIGKILL due
    std::optional<std::chrono::steady_clock::time_point> record_due;  // ended, record awaited
    bool canceled = false;
    bool timed_out = false;
    bool kill_sent = false;  // SIGKILL went to the group
  };
  struct Finished {
    ExitCallback on_exit;
    ProcessExit exit;
  };
  struct SpawnReply {
    bool done = false;
    bool ok = false;
    int pid = 0;
    uint64_t start_time = 0;
    std::string error;
  };
  // A Submit waiting for the supervisor's answer: the answer, and the condition variable only
  // that Submit waits on (one answer wakes one starter, not all of them).
  struct PendingSpawn {
    SpawnReply reply;
    std::condition_variable* waiter = nullptr;
  };
  // How a supervised job ended, from the supervisor's message.
  struct ReportedEnd {
    std::optional<int> exit_code;
    std::optional<int> signal;
  };

  void ReaperLoop();
  void Wake();
  // Under mu_: sends due signals, collects ended re-attached processes into `done`.
  void CheckLocked(const std::vector<uint64_t>& readable, std::vector<Finished>& done);
  bool HasEndedLocked(Watched& w);
  Finished FinishLocked(Watched& w, const std::optional<ReportedEnd>& reported);
  void TerminateLocked(Watched& w);
  Status AddWatchLocked(uint64_t key, Watched& w);
  // Supervisor link. StartSupervisor runs under send_mu_; the rest on the reaper thread.
  Status EnsureSupervisor();
  void ReadSupervisor(std::vector<Finished>& done);
  void HandleLineLocked(std::string_view line, std::vector<Finished>& done);
  void SupervisorLost(std::vector<Finished>& done);
  void ForgetLocked(uint64_t key);
  // Under mu_: gives the Submit waiting for `key` (if any) its answer and wakes it.
  void AnswerLocked(uint64_t key, SpawnReply answer);

  const int slots_;
  const std::map<std::string, std::string> thread_policy_;  // ThreadPolicyEnvironment(slots_)
  const std::filesystem::path shim_path_;
  const std::chrono::milliseconds kill_grace_;
  const bool realtime_supervisor_;  // options.realtime_supervisor
  Status init_status_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;

  // Lock order: send_mu_ before mu_.
  std::mutex send_mu_;      // one frame on the socket at a time; (re)starting the supervisor
  int supervisor_fd_ = -1;  // guarded by mu_ (and changed only with send_mu_ held too)
  int supervisor_pid_ = 0;
  bool supervisor_realtime_ = false;  // guarded by mu_: its first line said "realtime"
  // The supervisor's pidfd (opened when it starts, so a reused pid cannot be mistaken for it):
  // SupervisorLost waits on it until the supervisor has fully exited, when its children (the
  // jobs) have their new parent (see there). -1 where the kernel has no pidfd_open.
  int supervisor_pidfd_ = -1;  // guarded like supervisor_fd_
  std::string supervisor_input_;  // reaper thread only: bytes of an unfinished line

  mutable std::mutex mu_;
  std::unordered_map<uint64_t, PendingSpawn> spawn_replies_;  // key -> answer, for waiting Submits
  uint64_t next_key_ = 2;  // 0 = wake eventfd, 1 = supervisor socket
  std::unordered_map<uint64_t, Watched> watched_;   // key = epoll data / supervisor token
  std::unordered_map<JobId, uint64_t> by_job_;
  std::vector<Finished> ready_;                     // reported by the reaper thread
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace alphalab

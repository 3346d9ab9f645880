// LocalExecutor: runs jobs as processes on this machine.
//
//   Submit ──posix_spawn──> alphalab-shim (leader of a new process group; cwd, env, log fds set)
//                                └─posix_spawn──> the job's program (same group)
//
// - No shell: argv[0] is resolved here (PATH of the job's environment when it has no '/',
//   relative to cwd otherwise) so a missing program or cwd is a Status from Submit.
// - stdout and stderr are the same O_APPEND descriptor on the log file (merged, in order);
//   stdin is /dev/null; no other descriptor of the server leaks into the job.
// - One reaper thread watches every process through a pidfd in an epoll set and never
//   blocks a caller. Timeout and Cancel send SIGTERM to the group and SIGKILL after the
//   grace period. When the leader ends, whatever it left in its group is killed (like
//   Slurm at the end of a batch script), so no orphan outlives its job.
// - The shim records the program's end as the extended attribute "user.alphalab.exit" of the
//   log file (or in "<log_path>.exit" where the file system has no user xattrs); Reattach uses
//   it to learn the exit status of a process the current server did not start. The record
//   stays as part of the log's metadata. (A file per job cost a new inode per job: ~25% of
//   the CPU of a trivial job.)
// - executor_ref = "local:<shim pid>:<start time from /proc/<pid>/stat field 22>", so a
//   recycled pid is never mistaken for the job.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "exec/executor.hpp"

namespace alphalab {

struct LocalExecutorOptions {
  int slots = 0;                                  // Capacity(); 0 = hardware threads
  std::filesystem::path shim_path;                // empty = DefaultShimPath()
  std::chrono::milliseconds kill_grace{5000};     // SIGTERM -> SIGKILL delay
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
  // Startup problems (shim missing, epoll unavailable); OK when usable.
  const Status& init_status() const { return init_status_; }
  // What the shim recorded when the job's program ended (nullopt: nothing yet).
  static std::optional<ProcessExit> ReadExitRecord(const std::filesystem::path& log_path);
  // "<log_path>.exit": where the record goes when the file system has no user xattrs.
  static std::filesystem::path ExitFilePath(const std::filesystem::path& log_path);

 private:
  struct Watched {
    JobId job_id;
    int pid = 0;       // the shim, leader of the group (pgid == pid)
    int pidfd = -1;    // -1 when pidfd_open is unavailable (then polled every tick)
    bool is_child = false;
    uint64_t start_time = 0;
    std::filesystem::path log_path;  // the shim's exit record hangs off it
    ExitCallback on_exit;
    std::optional<std::chrono::steady_clock::time_point> deadline;  // timeout
    std::optional<std::chrono::steady_clock::time_point> kill_at;   // SIGKILL due
    bool canceled = false;
    bool timed_out = false;
    bool kill_sent = false;  // SIGKILL went to the group
  };
  struct Finished {
    ExitCallback on_exit;
    ProcessExit exit;
  };

  void ReaperLoop();
  void Wake();
  // Under mu_: sends due signals, collects ended processes into `done`.
  void CheckLocked(const std::vector<uint64_t>& readable, std::vector<Finished>& done);
  // True when the process has ended; *reaped when we collected it (then *wait_status is set).
  bool HasEndedLocked(Watched& w, int* wait_status, bool* reaped);
  Finished FinishLocked(Watched& w, std::optional<int> wait_status);
  void TerminateLocked(Watched& w);
  Status AddWatchLocked(uint64_t key, Watched& w);

  const int slots_;
  const std::filesystem::path shim_path_;
  const std::chrono::milliseconds kill_grace_;
  Status init_status_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;

  mutable std::mutex mu_;
  uint64_t next_key_ = 1;
  std::unordered_map<uint64_t, Watched> watched_;   // key = epoll data
  std::unordered_map<JobId, uint64_t> by_job_;
  std::unordered_set<JobId> submitting_;            // ids between Submit's check and registration
  std::vector<Finished> ready_;                     // reported by the reaper thread
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace alphalab

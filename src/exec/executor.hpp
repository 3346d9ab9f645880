// Where job processes run. LocalExecutor (posix_spawn on this machine), SlurmExecutor
// (sbatch), FakeExecutor (tests). The jobs service decides when to submit; the executor
// only starts, watches and stops processes, and never blocks its caller on a child.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "core/status.hpp"

namespace alphalab {

struct ProcessSpec {
  JobId job_id;
  std::vector<std::string> argv;             // argv[0] is a path or a name looked up in PATH
  std::filesystem::path cwd;
  std::map<std::string, std::string> env;    // added to (and overriding) the server's environment
  std::filesystem::path log_path;            // stdout+stderr merged, in order, appended
  std::chrono::seconds timeout{0};           // 0 = none; on expiry the job is terminated
};

// How a process ended. Exactly one of the fields below explains why.
struct ProcessExit {
  JobId job_id;
  std::optional<int> exit_code;   // normal exit
  std::optional<int> signal;      // killed by a signal
  bool canceled = false;          // Cancel() was called
  bool timed_out = false;         // the spec's timeout expired
  std::string error;              // spawn failure or lost process, for error_message
};

using ExitCallback = std::function<void(const ProcessExit&)>;

class Executor {
 public:
  virtual ~Executor() = default;

  // Starts the process and returns a reference that survives a server restart
  // ("local:<pid>:<start-time>", "slurm:<jobid>"). `on_exit` is called exactly once,
  // from an executor thread, when the process ends (also after Cancel or timeout).
  // A spawn failure (missing executable, bad cwd) is returned as a Status, and
  // `on_exit` is not called.
  virtual Result<std::string> Submit(const ProcessSpec& spec, ExitCallback on_exit) = 0;

  // SIGTERM to the whole process group, SIGKILL after the grace period. NotFound when
  // the executor does not know the job.
  virtual Status Cancel(const JobId& job_id) = 0;

  // After a restart: watch a process started by an earlier server. Returns false when it
  // no longer lives (the caller marks the job FAILED); otherwise `on_exit` fires later.
  virtual Result<bool> Reattach(const JobId& job_id, const std::string& executor_ref,
                                const std::filesystem::path& log_path, ExitCallback on_exit) = 0;

  // How many processes may run at once (the jobs service keeps the rest QUEUED).
  virtual int Capacity() const = 0;

  // Stops watching (does not kill children; they are re-attached by the next server).
  virtual void Shutdown() = 0;
};

}  // namespace alphalab

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
#include "core/job_state.hpp"
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

// How a process ended. `canceled` and `timed_out` take precedence when set (the process then
// usually also shows the signal that stopped it); otherwise exit_code or signal says why.
// `error` is non-empty when the executor itself has something to say (the program could not
// be executed after all, the exit status was lost), for error_message.
struct ProcessExit {
  JobId job_id;
  std::optional<int> exit_code;   // normal exit
  std::optional<int> signal;      // killed by a signal
  bool canceled = false;          // Cancel() was called
  bool timed_out = false;         // the spec's timeout expired
  std::string error;              // spawn failure or lost process, for error_message
  // A cluster executor's typed reason when the cluster ended the job itself (out_of_memory,
  // node_fail, preempted); it decides end_reason (the job FAILED). Never set by LocalExecutor.
  std::optional<EndReason> cluster_reason;
  // The cluster's own words for the end (Slurm: state "OUT_OF_MEMORY", reason "None"); empty
  // for local processes. Kept on the job (artifacts executor_state / executor_reason).
  std::string executor_state;
  std::string executor_reason;
};

// What a cluster executor says about a job it has not finished yet (Slurm: PENDING with
// reason "Priority", then RUNNING). Reported when it changes.
struct ExecutorStatus {
  JobId job_id;
  std::string state;
  std::string reason;
};
using StatusListener = std::function<void(const ExecutorStatus&)>;

using ExitCallback = std::function<void(const ProcessExit&)>;

// One process of a batch (SubmitBatch): its spec and its own exit callback.
struct BatchItem {
  ProcessSpec spec;
  ExitCallback on_exit;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // Starts the process and returns a reference that survives a server restart
  // ("local:<pid>:<start-time>", "slurm:<jobid>"). `on_exit` is called exactly once,
  // from an executor thread, when the process ends (also after Cancel or timeout).
  // A spawn failure (missing executable, bad cwd) is returned as a Status, and
  // `on_exit` is not called.
  virtual Result<std::string> Submit(const ProcessSpec& spec, ExitCallback on_exit) = 0;

  // A group of processes handed over at once (an optimization's tasks): at most
  // `max_inflight` of them run at the same time (0 = no bound of its own). One result per
  // item, in order, each as Submit's (a refused item does not stop the others; its on_exit is
  // not called). The default submits them one by one and leaves the bound to the caller (the
  // jobs service's group bound); SlurmExecutor sends them as job arrays with %max_inflight.
  // `group` names the batch's group (an optimization id): a later batch of the same group may
  // be held back until the earlier one ended, so the bound holds across batches.
  virtual std::vector<Result<std::string>> SubmitBatch(std::vector<BatchItem> items, int max_inflight,
                                                       const std::string& group) {
    (void)max_inflight;
    (void)group;
    std::vector<Result<std::string>> refs;
    refs.reserve(items.size());
    for (BatchItem& item : items) refs.push_back(Submit(item.spec, std::move(item.on_exit)));
    return refs;
  }

  // True when SubmitBatch keeps `max_inflight` itself (Slurm job arrays): the jobs service then
  // hands a group's jobs over all at once instead of max_inflight at a time.
  virtual bool KeepsBatchBound() const { return false; }

  // Cancel of several jobs at once (the rest of an optimization, a range of its tasks): the
  // default cancels them one by one; SlurmExecutor sends one scancel per array
  // ("<array>_[a-b,c]", or the whole array). The first error is returned; the other cancels
  // are still sent.
  virtual Status CancelMany(const std::vector<JobId>& job_ids) {
    Status first = Status::Ok();
    for (const JobId& id : job_ids) {
      Status s = Cancel(id);
      if (!s.ok() && first.ok()) first = std::move(s);
    }
    return first;
  }

  // SIGTERM to the whole process group, SIGKILL after the grace period; returns at once
  // (on_exit reports the end with canceled=true). Calling it again is harmless. NotFound when
  // the executor does not know the job (never submitted, or already ended).
  virtual Status Cancel(const JobId& job_id) = 0;

  // After a restart: watch a process started by an earlier server. Returns true when the
  // process still lives (`on_exit` fires when it ends) and also when it ended while no server
  // watched but left a record of its exit status (LocalExecutor: "<log_path>.exit"); then
  // `on_exit` fires soon with that status, from an executor thread. Returns false when it is
  // gone without a record (the caller marks the job FAILED). InvalidArgument for a malformed ref.
  virtual Result<bool> Reattach(const JobId& job_id, const std::string& executor_ref,
                                const std::filesystem::path& log_path, ExitCallback on_exit) = 0;

  // After a restart: the ref of a process this executor started for a job whose start was
  // never recorded (its server died between the spawn and the RUNNING record), from what the
  // start left beside the job's log (LocalExecutor: the job's own start record). nullopt when
  // the job did not start (or the executor cannot tell); the jobs service then starts it.
  virtual std::optional<std::string> StartedRef(const std::filesystem::path& log_path) const {
    (void)log_path;
    return std::nullopt;
  }

  // True when every start of a job whose log lies in `log_dir` leaves a record StartedRef can
  // read after a crash. The jobs service writes a started job's RUNNING row late only then
  // (docs/job_states.md, "RUNNING rows"); otherwise a server killed between the spawn and the
  // row would start the job a second time on restart. Asked once, at the service's start.
  virtual bool RecordsStartsIn(const std::filesystem::path& log_dir) const {
    (void)log_dir;
    return false;
  }

  // How many processes may run at once (the jobs service keeps the rest QUEUED). Advisory:
  // Submit does not refuse work beyond it.
  virtual int Capacity() const = 0;

  // Stops watching (does not kill children; they are re-attached by the next server).
  virtual void Shutdown() = 0;

  // Cluster executors call `listener` (from an executor thread) when a submitted job's state
  // in the cluster changes; the local executor has nothing to say and ignores it. Set before
  // the first Submit/Reattach; an empty function removes it.
  virtual void SetStatusListener(StatusListener listener) { (void)listener; }
};

}  // namespace alphalab

// SlurmExecutor: runs each job as a Slurm batch job (`executor: {type: slurm}` in
// alphalab.yaml; docs/deploy.md, "Slurm").
//
//   Submit  -> writes <log_path>.sbatch (a /bin/sh script whose only line is an `exec` of the
//              job's argv, every argument single-quoted), then runs
//              `sbatch --parsable --job-name=alphalab-<job_id> --output=<log> --error=<log>
//               --open-mode=append --chdir=<cwd> --export=ALL [--partition] [--account]
//               [--time] <sbatch_args...> <script>` with the job's env added to sbatch's own
//              environment (exported to the job; never written to a file). executor_ref =
//              "slurm:<jobid>". A failing sbatch is a Status carrying its stderr.
//   watch   -> one thread polls every job at once: one `squeue -h -t all --me -O ...` per
//              interval (plus the new lines of the jobcomp/filetxt file, for jobs squeue has
//              already forgotten). State changes go to the status listener (PENDING reasons
//              while queued); a finished job's Slurm state maps onto ProcessExit
//              (slurm_parse.hpp: TIMEOUT -> timed_out, OUT_OF_MEMORY/NODE_FAIL/PREEMPTED ->
//              cluster_reason, CANCELLED -> canceled). A job that neither squeue nor the
//              jobcomp file knows for `missing_grace` ends with no exit status (lost).
//   Cancel  -> `scancel <jobid>`; the end arrives through the poll (canceled).
//   Reattach-> "slurm:<jobid>" is watched again; true when squeue or the jobcomp file knows it.
// Every Slurm command runs without a shell and with a deadline (slurm_command.hpp).
#pragma once

#include <chrono>
#include <condition_variable>
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
#include "exec/slurm/slurm_parse.hpp"

namespace alphalab {

struct SlurmExecutorOptions {
  std::string partition;                 // --partition (empty: the cluster's default)
  std::string account;                   // --account
  std::string time_limit;                // --time for jobs without their own timeout (Slurm format)
  std::vector<std::string> sbatch_args;  // added to every sbatch, before the script
  int capacity = 1000;                   // Capacity(): jobs handed to Slurm at once
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds command_timeout{30000};  // per sbatch/squeue/scancel/scontrol
  std::chrono::milliseconds missing_grace{15000};    // unknown to Slurm this long -> lost
};

// "--time" for a job timeout: whole minutes, rounded up (Slurm's resolution), at least 1.
std::string SlurmTimeForTimeout(std::chrono::seconds timeout);

class SlurmExecutor final : public Executor {
 public:
  explicit SlurmExecutor(SlurmExecutorOptions options = {});
  ~SlurmExecutor() override;

  Result<std::string> Submit(const ProcessSpec& spec, ExitCallback on_exit) override;
  Status Cancel(const JobId& job_id) override;
  Result<bool> Reattach(const JobId& job_id, const std::string& executor_ref,
                        const std::filesystem::path& log_path, ExitCallback on_exit) override;
  int Capacity() const override { return options_.capacity; }
  void Shutdown() override;
  void SetStatusListener(StatusListener listener) override;

  // The sbatch command line Submit runs for `spec` (the script path last). For tests and docs.
  std::vector<std::string> SbatchArgv(const ProcessSpec& spec, const std::filesystem::path& script) const;
  // Jobs watched now; squeue calls so far (tests: one poll for all jobs).
  int Watching() const;
  int SqueueCalls() const;

 private:
  struct Watched {
    JobId job_id;
    std::string slurm_id;
    ExitCallback on_exit;
    std::string state, reason;  // last reported
    bool canceled = false;
    std::chrono::steady_clock::time_point last_known;
  };
  struct Snapshot {
    bool ok = false;
    std::string error;
    std::map<std::string, SlurmJobInfo> jobs;  // by Slurm job id: squeue, then jobcomp
    std::chrono::steady_clock::time_point taken;
  };

  void PollLoop();
  // squeue of this user's jobs plus the jobcomp records read so far (fresh when older than
  // `max_age`).
  std::shared_ptr<const Snapshot> TakeSnapshot(std::chrono::milliseconds max_age);
  void ReadJobcomp();  // under snap_mu_

  const SlurmExecutorOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<JobId, Watched> watched_;
  bool stopping_ = false;
  bool wake_ = false;
  int squeue_calls_ = 0;

  std::mutex snap_mu_;  // one snapshot at a time; jobcomp state
  std::shared_ptr<const Snapshot> last_snapshot_;
  bool jobcomp_looked_up_ = false;
  std::filesystem::path jobcomp_path_;
  uint64_t jobcomp_offset_ = 0;
  std::string jobcomp_partial_;
  std::map<std::string, SlurmJobInfo> jobcomp_;

  std::mutex listener_mu_;  // held while the listener runs, so clearing it waits for a call
  StatusListener listener_;

  std::thread poller_;
};

}  // namespace alphalab

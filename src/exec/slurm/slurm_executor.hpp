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
//   SubmitBatch -> job arrays (an optimization's tasks): each task's own script
//              `<log_path>.sbatch` (ArrayTaskScript: its log, folder, argv and the variables
//              of its env the batch does not share), an index file
//              `<runtime>/alphalab-array-<first job id>.index` ("<job_id>\t<script>" per array
//              index) and one wrapper script per chunk that runs line N+1 for task N;
//              `sbatch --array=0-<n-1>%<max_inflight> --output=/dev/null ...` with the shared
//              env in sbatch's environment. Chunks of at most MaxArraySize tasks (scontrol show
//              config, 1001 when it does not say); chunk k+1 has
//              `--dependency=afterany:<chunk k>`, so at most max_inflight run across chunks
//              (and a later batch of the same group waits for the group's last array when
//              some of its tasks are still watched).
//              executor_ref = "slurm:<arrayid>_<index>".
//   Cancel  -> `scancel <jobid>` (an array task: `scancel <arrayid>_<index>`); the end arrives
//              through the poll (canceled). CancelMany: one scancel naming each whole array
//              ("<arrayid>") or its tasks' ranges ("<arrayid>_[0-3,7]"), and the single jobs.
//   Reattach-> "slurm:<jobid>" / "slurm:<arrayid>_<index>" is watched again; true when squeue
//              (-r: one line per array task) or the jobcomp file knows it.
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
  int max_array_size = 0;  // tasks per array; 0 = the cluster's MaxArraySize
};

// "--time" for a job timeout: whole minutes, rounded up (Slurm's resolution), at least 1.
std::string SlurmTimeForTimeout(std::chrono::seconds timeout);

class SlurmExecutor final : public Executor {
 public:
  explicit SlurmExecutor(SlurmExecutorOptions options = {});
  ~SlurmExecutor() override;

  Result<std::string> Submit(const ProcessSpec& spec, ExitCallback on_exit) override;
  std::vector<Result<std::string>> SubmitBatch(std::vector<BatchItem> items, int max_inflight,
                                               const std::string& group) override;
  bool KeepsBatchBound() const override { return true; }
  Status Cancel(const JobId& job_id) override;
  Status CancelMany(const std::vector<JobId>& job_ids) override;
  Result<bool> Reattach(const JobId& job_id, const std::string& executor_ref,
                        const std::filesystem::path& log_path, ExitCallback on_exit) override;
  int Capacity() const override { return options_.capacity; }
  void Shutdown() override;
  void SetStatusListener(StatusListener listener) override;

  // The sbatch command line Submit runs for `spec` (the script path last). For tests and docs.
  std::vector<std::string> SbatchArgv(const ProcessSpec& spec, const std::filesystem::path& script) const;
  // Tasks per job array: the option, else the cluster's MaxArraySize (1001 when unknown).
  int MaxArraySize();
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

  // sbatch's options for a job or an array (without the script): name, output, folder,
  // partition/account/time and the configured extra options.
  std::vector<std::string> SbatchOptions(const std::string& job_name, const std::string& output,
                                         const std::string& chdir, std::chrono::seconds timeout) const;
  // Watches a submitted job (under no lock).
  void Watch(const JobId& job_id, const std::string& slurm_id, ExitCallback on_exit);
  void LookUpConfig();  // under snap_mu_: jobcomp file, MaxArraySize
  void PollLoop();
  // squeue of this user's jobs plus the jobcomp records read so far (fresh when older than
  // `max_age`).
  std::shared_ptr<const Snapshot> TakeSnapshot(std::chrono::milliseconds max_age);
  void ReadJobcomp();  // under snap_mu_

  const SlurmExecutorOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<JobId, Watched> watched_;
  std::unordered_map<std::string, int> array_tasks_;  // array id -> tasks submitted in it
  std::unordered_map<std::string, std::string> last_array_;  // group -> its latest array id
  bool stopping_ = false;
  bool wake_ = false;
  int squeue_calls_ = 0;

  std::mutex snap_mu_;  // one snapshot at a time; jobcomp state
  std::shared_ptr<const Snapshot> last_snapshot_;
  bool config_looked_up_ = false;
  int max_array_size_ = 1001;
  std::filesystem::path jobcomp_path_;
  uint64_t jobcomp_offset_ = 0;
  std::string jobcomp_partial_;
  std::map<std::string, SlurmJobInfo> jobcomp_;

  std::mutex listener_mu_;  // held while the listener runs, so clearing it waits for a call
  StatusListener listener_;

  std::thread poller_;
};

}  // namespace alphalab

#include "exec/slurm/slurm_executor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "core/json.hpp"
#include "exec/process_spec.hpp"
#include "exec/slurm/slurm_command.hpp"

namespace alphalab {

namespace fs = std::filesystem;

namespace {

Status WriteScript(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::FailedPrecondition("cannot write the batch script " + path.string());
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::owner_exec, ec);
  return Status::Ok();
}

}  // namespace

std::string SlurmTimeForTimeout(std::chrono::seconds timeout) {
  const long long minutes = std::max<long long>(1, (timeout.count() + 59) / 60);
  return std::to_string(minutes);
}

SlurmExecutor::SlurmExecutor(SlurmExecutorOptions options) : options_(std::move(options)) {
  poller_ = std::thread([this] { PollLoop(); });
}

SlurmExecutor::~SlurmExecutor() { Shutdown(); }

void SlurmExecutor::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !poller_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (poller_.joinable() && poller_.get_id() != std::this_thread::get_id()) poller_.join();
}

void SlurmExecutor::SetStatusListener(StatusListener listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

int SlurmExecutor::Watching() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(watched_.size());
}

int SlurmExecutor::SqueueCalls() const {
  std::lock_guard lock(mu_);
  return squeue_calls_;
}

std::vector<std::string> SlurmExecutor::SbatchArgv(const ProcessSpec& spec, const fs::path& script) const {
  std::vector<std::string> argv = {"sbatch",
                                   "--parsable",
                                   "--job-name=alphalab-" + spec.job_id.str(),
                                   "--output=" + spec.log_path.string(),
                                   "--error=" + spec.log_path.string(),
                                   "--open-mode=append",
                                   "--chdir=" + spec.cwd.string(),
                                   "--export=ALL"};
  if (!options_.partition.empty()) argv.push_back("--partition=" + options_.partition);
  if (!options_.account.empty()) argv.push_back("--account=" + options_.account);
  if (spec.timeout.count() > 0) {
    argv.push_back("--time=" + SlurmTimeForTimeout(spec.timeout));
  } else if (!options_.time_limit.empty()) {
    argv.push_back("--time=" + options_.time_limit);
  }
  argv.insert(argv.end(), options_.sbatch_args.begin(), options_.sbatch_args.end());
  argv.push_back(script.string());
  return argv;
}

Result<std::string> SlurmExecutor::Submit(const ProcessSpec& spec, ExitCallback on_exit) {
  RETURN_IF_ERROR(ValidateSpec(spec));
  ASSIGN_OR_RETURN(fs::path program, ResolveProgram(spec));
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status::Unavailable("Slurm executor is shut down");
    if (watched_.count(spec.job_id) != 0) {
      return Status::AlreadyExists("job " + spec.job_id.str() + " is already submitted");
    }
  }
  std::vector<std::string> argv = spec.argv;
  argv[0] = program.string();
  const fs::path script = spec.log_path.string() + ".sbatch";
  RETURN_IF_ERROR(WriteScript(script, BatchScript(argv)));
  const std::vector<std::string> sbatch = SbatchArgv(spec, script);
  ASSIGN_OR_RETURN(CommandOutput out, RunCommand(sbatch, options_.command_timeout, spec.env));
  if (out.exit_code != 0) return Status::FailedPrecondition(DescribeFailure({"sbatch"}, out));
  ASSIGN_OR_RETURN(std::string slurm_id, ParseSbatchOutput(out.out));
  {
    std::lock_guard lock(mu_);
    Watched w;
    w.job_id = spec.job_id;
    w.slurm_id = slurm_id;
    w.on_exit = std::move(on_exit);
    w.last_known = std::chrono::steady_clock::now();
    watched_[spec.job_id] = std::move(w);
    wake_ = true;
  }
  cv_.notify_all();
  return FormatSlurmRef(slurm_id);
}

Status SlurmExecutor::Cancel(const JobId& job_id) {
  std::string slurm_id;
  {
    std::lock_guard lock(mu_);
    auto it = watched_.find(job_id);
    if (it == watched_.end()) return Status::NotFound("job " + job_id.str() + " is not running on Slurm here");
    it->second.canceled = true;
    slurm_id = it->second.slurm_id;
  }
  const std::vector<std::string> argv = {"scancel", slurm_id};
  ASSIGN_OR_RETURN(CommandOutput out, RunCommand(argv, options_.command_timeout));
  if (out.exit_code != 0) return Status::Unavailable(DescribeFailure(argv, out));
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

Result<bool> SlurmExecutor::Reattach(const JobId& job_id, const std::string& executor_ref,
                                     const fs::path& log_path, ExitCallback on_exit) {
  (void)log_path;  // Slurm keeps the record of the end; the log is only the job's output
  ASSIGN_OR_RETURN(std::string slurm_id, ParseSlurmRef(executor_ref));
  // Jobs of a restarted server are re-attached one after another: one snapshot serves them.
  std::shared_ptr<const Snapshot> snap = TakeSnapshot(std::chrono::milliseconds(2000));
  if (snap->ok && snap->jobs.count(slurm_id) == 0) return false;
  if (!snap->ok) {
    spdlog::warn(R"({{"msg":"slurm: cannot see the queue at re-attach; watching job anyway","job_id":"{}","error":{}}})",
                 job_id.str(), Json(snap->error).dump());
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status::Unavailable("Slurm executor is shut down");
    Watched w;
    w.job_id = job_id;
    w.slurm_id = slurm_id;
    w.on_exit = std::move(on_exit);
    w.last_known = std::chrono::steady_clock::now();
    watched_[job_id] = std::move(w);
    wake_ = true;
  }
  cv_.notify_all();
  return true;
}

void SlurmExecutor::ReadJobcomp() {
  if (!jobcomp_looked_up_) {
    jobcomp_looked_up_ = true;
    auto out = RunCommand({"scontrol", "show", "config"}, options_.command_timeout);
    if (out.ok() && out->exit_code == 0) {
      const auto type = ScontrolConfigValue(out->out, "JobCompType");
      const auto loc = ScontrolConfigValue(out->out, "JobCompLoc");
      if (type && *type == "jobcomp/filetxt" && loc && !loc->empty()) jobcomp_path_ = *loc;
    }
  }
  if (jobcomp_path_.empty()) return;
  std::ifstream in(jobcomp_path_, std::ios::binary);
  if (!in) return;
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  if (size < jobcomp_offset_) {  // rotated
    jobcomp_offset_ = 0;
    jobcomp_partial_.clear();
  }
  if (size == jobcomp_offset_) return;
  in.seekg(static_cast<std::streamoff>(jobcomp_offset_));
  std::string chunk(size - jobcomp_offset_, '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  jobcomp_offset_ += chunk.size();
  std::string text = jobcomp_partial_ + chunk;
  const size_t last_nl = text.rfind('\n');
  jobcomp_partial_ = last_nl == std::string::npos ? text : text.substr(last_nl + 1);
  if (last_nl == std::string::npos) return;
  for (SlurmJobInfo& info : ParseJobcomp(std::string_view(text).substr(0, last_nl))) {
    jobcomp_[info.job_id] = std::move(info);
  }
  constexpr size_t kMaxRecords = 200000;  // ids are only looked up for recent jobs
  while (jobcomp_.size() > kMaxRecords) jobcomp_.erase(jobcomp_.begin());
}

std::shared_ptr<const SlurmExecutor::Snapshot> SlurmExecutor::TakeSnapshot(std::chrono::milliseconds max_age) {
  std::lock_guard lock(snap_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (last_snapshot_ && now - last_snapshot_->taken < max_age) return last_snapshot_;
  auto snap = std::make_shared<Snapshot>();
  snap->taken = now;
  ReadJobcomp();
  for (const auto& [id, info] : jobcomp_) snap->jobs[id] = info;
  const std::vector<std::string> argv = {"squeue", "-h", "-t", "all", "--me", "-O", std::string(kSqueueFormat)};
  {
    std::lock_guard l(mu_);
    ++squeue_calls_;
  }
  auto out = RunCommand(argv, options_.command_timeout);
  if (!out.ok()) {
    snap->error = out.status().message();
  } else if (out->exit_code != 0) {
    snap->error = DescribeFailure(argv, *out);
  } else {
    snap->ok = true;
    // squeue is newer than the jobcomp file for what it still shows.
    for (SlurmJobInfo& info : ParseSqueue(out->out)) snap->jobs[info.job_id] = std::move(info);
  }
  last_snapshot_ = snap;
  return snap;
}

void SlurmExecutor::PollLoop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_ || wake_; });
      if (stopping_) return;
      wake_ = false;
      if (watched_.empty()) continue;
    }
    std::shared_ptr<const Snapshot> snap = TakeSnapshot(std::chrono::milliseconds(0));
    if (!snap->ok) {
      spdlog::warn(R"({{"msg":"slurm: polling the queue failed","error":{}}})", Json(snap->error).dump());
    }
    std::vector<std::pair<ExitCallback, ProcessExit>> ended;
    std::vector<ExecutorStatus> changed;
    {
      std::lock_guard lock(mu_);
      const auto now = std::chrono::steady_clock::now();
      for (auto it = watched_.begin(); it != watched_.end();) {
        Watched& w = it->second;
        auto found = snap->jobs.find(w.slurm_id);
        if (found == snap->jobs.end()) {
          // Not known (yet, or any more): lost once Slurm has forgotten it for a while.
          if (snap->ok && now - w.last_known > options_.missing_grace) {
            ProcessExit x;
            x.job_id = w.job_id;
            x.canceled = w.canceled;
            x.executor_state = w.state;
            x.error = "Slurm no longer knows job " + w.slurm_id + " (not in squeue, no jobcomp record)";
            ended.emplace_back(std::move(w.on_exit), std::move(x));
            it = watched_.erase(it);
            continue;
          }
          ++it;
          continue;
        }
        const SlurmJobInfo& info = found->second;
        w.last_known = now;
        if (IsSlurmTerminal(info.state)) {
          ProcessExit x = MapSlurmEnd(w.job_id, info);
          if (w.canceled) x.canceled = true;
          ended.emplace_back(std::move(w.on_exit), std::move(x));
          it = watched_.erase(it);
          continue;
        }
        if (info.state != w.state || info.reason != w.reason) {
          w.state = info.state;
          w.reason = info.reason;
          changed.push_back({w.job_id, info.state, info.reason});
        }
        ++it;
      }
    }
    if (!changed.empty()) {
      std::lock_guard lock(listener_mu_);
      if (listener_) {
        for (const ExecutorStatus& s : changed) listener_(s);
      }
    }
    for (auto& [callback, exit] : ended) {
      if (callback) callback(exit);
    }
  }
}

}  // namespace alphalab

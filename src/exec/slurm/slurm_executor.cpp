#include "exec/slurm/slurm_executor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
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

std::vector<std::string> SlurmExecutor::SbatchOptions(const std::string& job_name, const std::string& output,
                                                      const std::string& chdir, std::chrono::seconds timeout) const {
  std::vector<std::string> argv = {"sbatch",
                                   "--parsable",
                                   "--job-name=" + job_name,
                                   "--output=" + output,
                                   "--error=" + output,
                                   "--open-mode=append",
                                   "--chdir=" + chdir,
                                   "--export=ALL"};
  if (!options_.partition.empty()) argv.push_back("--partition=" + options_.partition);
  if (!options_.account.empty()) argv.push_back("--account=" + options_.account);
  if (timeout.count() > 0) {
    argv.push_back("--time=" + SlurmTimeForTimeout(timeout));
  } else if (!options_.time_limit.empty()) {
    argv.push_back("--time=" + options_.time_limit);
  }
  argv.insert(argv.end(), options_.sbatch_args.begin(), options_.sbatch_args.end());
  return argv;
}

std::vector<std::string> SlurmExecutor::SbatchArgv(const ProcessSpec& spec, const fs::path& script) const {
  std::vector<std::string> argv =
      SbatchOptions("alphalab-" + spec.job_id.str(), spec.log_path.string(), spec.cwd.string(), spec.timeout);
  argv.push_back(script.string());
  return argv;
}

void SlurmExecutor::Watch(const JobId& job_id, const std::string& slurm_id, ExitCallback on_exit) {
  std::lock_guard lock(mu_);
  Watched w;
  w.job_id = job_id;
  w.slurm_id = slurm_id;
  w.on_exit = std::move(on_exit);
  w.last_known = std::chrono::steady_clock::now();
  watched_[job_id] = std::move(w);
  wake_ = true;
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
  Watch(spec.job_id, slurm_id, std::move(on_exit));
  cv_.notify_all();
  return FormatSlurmRef(slurm_id);
}

int SlurmExecutor::MaxArraySize() {
  if (options_.max_array_size > 0) return options_.max_array_size;
  std::lock_guard lock(snap_mu_);
  LookUpConfig();
  return max_array_size_;
}

std::vector<Result<std::string>> SlurmExecutor::SubmitBatch(std::vector<BatchItem> items, int max_inflight,
                                                            const std::string& group) {
  std::vector<Result<std::string>> results(items.size(), Result<std::string>(Status::Internal("not submitted")));
  // Checked like Submit: a refused item keeps its error, the others go on.
  std::vector<size_t> accepted;
  std::vector<std::vector<std::string>> argvs(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const ProcessSpec& spec = items[i].spec;
    Status valid = ValidateSpec(spec);
    auto program = valid.ok() ? ResolveProgram(spec) : Result<fs::path>(valid);
    if (!program.ok()) {
      results[i] = program.status();
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        results[i] = Status::Unavailable("Slurm executor is shut down");
        continue;
      }
      if (watched_.count(spec.job_id) != 0) {
        results[i] = Status::AlreadyExists("job " + spec.job_id.str() + " is already submitted");
        continue;
      }
    }
    argvs[i] = spec.argv;
    argvs[i][0] = program->string();
    accepted.push_back(i);
  }
  const size_t chunk = static_cast<size_t>(std::max(1, MaxArraySize()));
  std::string previous;  // the chunk before: this one starts once it has ended (the bound holds)
  {
    std::lock_guard lock(mu_);
    auto last = group.empty() ? last_array_.end() : last_array_.find(group);
    if (last != last_array_.end()) {
      const std::string prefix = last->second + "_";
      for (const auto& [id, w] : watched_) {
        if (w.slurm_id.rfind(prefix, 0) == 0) {
          previous = last->second;
          break;
        }
      }
    }
  }
  for (size_t begin = 0; begin < accepted.size(); begin += chunk) {
    const std::vector<size_t> part(accepted.begin() + static_cast<std::ptrdiff_t>(begin),
                                   accepted.begin() + static_cast<std::ptrdiff_t>(std::min(begin + chunk, accepted.size())));
    // The environment every task shares goes through sbatch's; the rest into each task's script.
    std::map<std::string, std::string> shared = items[part[0]].spec.env;
    for (size_t i : part) {
      const auto& env = items[i].spec.env;
      std::erase_if(shared, [&](const auto& kv) {
        auto it = env.find(kv.first);
        return it == env.end() || it->second != kv.second;
      });
    }
    std::chrono::seconds timeout{0};
    bool all_timed = true;
    std::vector<size_t> members;
    std::string index;
    for (size_t i : part) {
      const ProcessSpec& spec = items[i].spec;
      std::map<std::string, std::string> own;
      for (const auto& [k, v] : spec.env) {
        if (shared.count(k) == 0) own[k] = v;
      }
      const fs::path script = spec.log_path.string() + ".sbatch";
      Status written = WriteScript(script, ArrayTaskScript(argvs[i], spec.cwd.string(), spec.log_path.string(), own));
      if (!written.ok() || script.string().find('\n') != std::string::npos) {
        results[i] = written.ok() ? Status::InvalidArgument("a log path with a newline cannot be in a job array") : written;
        continue;
      }
      timeout = std::max(timeout, spec.timeout);
      all_timed = all_timed && spec.timeout.count() > 0;
      index += spec.job_id.str() + "\t" + script.string() + "\n";
      members.push_back(i);
    }
    if (members.empty()) continue;
    const ProcessSpec& first = items[members[0]].spec;
    const fs::path base = first.log_path.parent_path() / ("alphalab-array-" + first.job_id.str());
    const fs::path index_path = base.string() + ".index";
    const fs::path wrapper = base.string() + ".sbatch";
    Status written = WriteScript(index_path, index);
    if (written.ok()) written = WriteScript(wrapper, ArrayWrapperScript(index_path.string()));
    std::vector<std::string> sbatch = SbatchOptions("alphalab-array-" + first.job_id.str(), "/dev/null",
                                                    first.cwd.string(), all_timed ? timeout : std::chrono::seconds(0));
    std::string array = "--array=0-" + std::to_string(members.size() - 1);
    if (max_inflight > 0) array += "%" + std::to_string(max_inflight);
    sbatch.insert(sbatch.begin() + 2, array);
    if (!previous.empty()) sbatch.push_back("--dependency=afterany:" + previous);
    sbatch.push_back(wrapper.string());
    Result<std::string> array_id = Status::Internal("sbatch was not run");
    if (!written.ok()) {
      array_id = written;
    } else {
      auto out = RunCommand(sbatch, options_.command_timeout, shared);
      if (!out.ok()) {
        array_id = out.status();
      } else if (out->exit_code != 0) {
        array_id = Status::FailedPrecondition(DescribeFailure({"sbatch"}, *out));
      } else {
        array_id = ParseSbatchOutput(out->out);
      }
    }
    if (!array_id.ok()) {
      for (size_t i : members) results[i] = array_id.status();
      continue;
    }
    {
      std::lock_guard lock(mu_);
      array_tasks_[*array_id] = static_cast<int>(members.size());
      if (!group.empty()) last_array_[group] = *array_id;
    }
    for (size_t k = 0; k < members.size(); ++k) {
      const std::string slurm_id = *array_id + "_" + std::to_string(k);
      Watch(items[members[k]].spec.job_id, slurm_id, std::move(items[members[k]].on_exit));
      results[members[k]] = FormatSlurmRef(slurm_id);
    }
    cv_.notify_all();
    previous = *array_id;
  }
  return results;
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

Status SlurmExecutor::CancelMany(const std::vector<JobId>& job_ids) {
  Status first = Status::Ok();
  std::map<std::string, std::vector<int>> tasks;  // array id -> task indices asked for
  std::vector<std::string> targets;
  {
    std::lock_guard lock(mu_);
    for (const JobId& id : job_ids) {
      auto it = watched_.find(id);
      if (it == watched_.end()) {
        if (first.ok()) first = Status::NotFound("job " + id.str() + " is not running on Slurm here");
        continue;
      }
      it->second.canceled = true;
      const std::string& sid = it->second.slurm_id;
      const size_t u = sid.find('_');
      if (u == std::string::npos) {
        targets.push_back(sid);
      } else {
        tasks[sid.substr(0, u)].push_back(std::stoi(sid.substr(u + 1)));
      }
    }
    for (auto& [array, indices] : tasks) {
      std::sort(indices.begin(), indices.end());
      indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
      auto n = array_tasks_.find(array);
      const bool whole = n != array_tasks_.end() && static_cast<int>(indices.size()) == n->second;
      targets.push_back(whole ? array : array + "_" + SlurmIndexRanges(indices));
    }
  }
  if (targets.empty()) return first;
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), targets.begin(), targets.end());
  auto out = RunCommand(argv, options_.command_timeout);
  if (!out.ok()) return out.status();
  if (out->exit_code != 0) return Status::Unavailable(DescribeFailure(argv, *out));
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
  return first;
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
  }
  Watch(job_id, slurm_id, std::move(on_exit));
  cv_.notify_all();
  return true;
}

void SlurmExecutor::LookUpConfig() {
  if (config_looked_up_) return;
  auto out = RunCommand({"scontrol", "show", "config"}, options_.command_timeout);
  if (!out.ok() || out->exit_code != 0) return;  // asked again next time
  config_looked_up_ = true;
  const auto type = ScontrolConfigValue(out->out, "JobCompType");
  const auto loc = ScontrolConfigValue(out->out, "JobCompLoc");
  if (type && *type == "jobcomp/filetxt" && loc && !loc->empty()) jobcomp_path_ = *loc;
  if (const auto max = ScontrolConfigValue(out->out, "MaxArraySize")) {
    int v = 0;
    auto [p, ec] = std::from_chars(max->data(), max->data() + max->size(), v);
    if (ec == std::errc() && v > 1) max_array_size_ = v;  // indices 0..MaxArraySize-1
  }
}

void SlurmExecutor::ReadJobcomp() {
  LookUpConfig();
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
  const std::vector<std::string> argv = {"squeue", "-h", "-r", "-t", "all", "--me", "-O", std::string(kSqueueFormat)};
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

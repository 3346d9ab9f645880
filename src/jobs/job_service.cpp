#include "jobs/job_service.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "core/confined_open.hpp"
#include "core/ids.hpp"
#include "core/message_paths.hpp"
#include "core/write_new_file.hpp"
#include "jobs/inprocess_journal.hpp"
#include "jobs/job_artifacts.hpp"
#include "jobs/job_detail_body.hpp"
#include "jobs/job_dto.hpp"
#include "jobs/job_outcome.hpp"
#include "jobs/job_results.hpp"
#include "jobs/job_state_machine.hpp"
#include "jobs/log_reader.hpp"

namespace alphalab {

namespace {

// True when the file system holding `dir` (or its nearest existing parent) has no blocks or no
// inodes left for this process (root may use the reserved blocks): a write there fails with
// ENOSPC.
bool NoSpaceLeft(const std::filesystem::path& dir) {
  struct statvfs st {};
  std::filesystem::path at = dir;
  while (::statvfs(at.c_str(), &st) != 0) {
    if (!at.has_parent_path() || at.parent_path() == at) return false;
    at = at.parent_path();
  }
  static const bool root = ::geteuid() == 0;  // the server's user does not change
  const auto blocks = root ? st.f_bfree : st.f_bavail;
  const auto inodes = root ? st.f_ffree : st.f_favail;
  return blocks == 0 || (st.f_files > 0 && inodes == 0);
}

}  // namespace

namespace fs = std::filesystem;

namespace {

constexpr int64_t kArtifactScanBytes = 8 << 20;  // artifacts are looked for in the last 8 MiB

// Writes a new file whole; on failure the system's reason ("Not a directory", "No space left
// on device"), without the path.
std::optional<std::string> WriteLogFile(const fs::path& path, std::string_view content) {
  if (const int err = WriteNewFile(path, content)) return std::string(std::strerror(err));
  return std::nullopt;
}

}  // namespace

JobService::JobService(JobStore& store, Executor& executor, const JobCatalog& catalog,
                       const Workspace& workspace, const Clock& clock, Metrics* metrics,
                       int capacity, JobServiceTuning tuning)
    : store_(store),
      executor_(executor),
      catalog_(catalog),
      workspace_(workspace),
      clock_(clock),
      metrics_(metrics),
      capacity_(capacity > 0 ? capacity : std::max(1, executor.Capacity())),
      claimer_(tuning.claimer.empty() ? std::string("local") : tuning.claimer),
      lease_interval_(std::max(tuning.lease_interval, std::chrono::milliseconds(10))),
      lease_ttl_(std::max(tuning.lease_ttl, 2 * std::max(tuning.lease_interval, std::chrono::milliseconds(10)))),
      files_(workspace.JobsRuntimeDir() / ".scratch"),  // creates the runtime folder too
      meta_(files_, workspace.root(), clock, tuning.meta_delay.count() >= 0 ? tuning.meta_delay : kMetaDelay,
            [this](std::span<JobRecord* const> jobs, std::span<const JobState> from) { WriteDeferredRows(jobs, from); }),
      defer_running_rows_(!store.SupportsLeases() && executor.RecordsStartsIn(workspace.JobsRuntimeDir())),
      queue_(JobQueueOptions{.slots = capacity_,
                             .starter_threads = std::min(std::max(1, tuning.starter_threads), capacity_),
                             .admit_backlog = tuning.admit_backlog},
             [this](JobRecord job) { return Take(std::move(job)); }) {
  if (metrics_) {
    const std::vector<double> wait_buckets = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600};
    const std::vector<double> exec_buckets = {0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600, 14400};
    metrics_->DeclareHistogram("queue_wait_seconds", "Time from submit to start", wait_buckets);
    metrics_->DeclareHistogram("job_exec_seconds", "Time from start to end", exec_buckets);
    metrics_->DeclareCounter("alphalab_jobs_submitted_total", "Jobs accepted, by type");
    metrics_->DeclareCounter("alphalab_jobs_finished_total", "Jobs ended, by type and status");
    metrics_->DeclareGauge("alphalab_jobs", "Jobs by state (from the store)");
    metrics_->AddCollector([this](Metrics& m) {
      auto counts = store_.CountJobsByState();
      if (!counts.ok()) return;
      for (JobState s : kAllJobStates) {
        auto it = counts->find(s);
        m.Set("alphalab_jobs", {{"state", std::string(JobStateName(s))}},
              it == counts->end() ? 0.0 : static_cast<double>(it->second));
      }
    });
  }
  for (int i = 0; i < kCompletionThreads; ++i) {
    completion_threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "jobs-done");
      CompletionLoop();
    });
  }
  executor_.SetStatusListener([this](const ExecutorStatus& status) { OnExecutorStatus(status); });
}

JobService::~JobService() { Shutdown(); }

void JobService::Shutdown() {
  shutting_down_ = true;
  {
    std::lock_guard lock(lease_mu_);
    lease_stop_ = true;
  }
  lease_cv_.notify_all();
  if (lease_thread_.joinable()) lease_thread_.join();  // the lease stays: it expires unless renewed
  executor_.SetStatusListener({});  // waits for a call in progress
  queue_.Stop();  // a spawn in progress is completed and recorded first
  {
    std::lock_guard lock(completions_mu_);
    completions_stop_ = true;
  }
  completions_cv_.notify_all();
  for (auto& t : completion_threads_) {
    if (t.joinable()) t.join();
  }
  completion_threads_.clear();
  meta_.Shutdown();  // writes what is still pending first
}

fs::path JobService::LogPath(const JobRecord& job) const { return workspace_.root() / job.log_path; }
fs::path JobService::MetaPath(const JobRecord& job) const { return workspace_.root() / job.meta_path; }

void JobService::AddFinishedListener(FinishedListener listener) {
  std::lock_guard lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

void JobService::AddFinishedBatchListener(FinishedBatchListener listener) {
  AddFinishedBatchListener(FinishedResultsListener(
      [l = std::move(listener)](std::span<const JobRecord> jobs, std::span<const KnownResult>) { l(jobs); }));
}

void JobService::AddFinishedBatchListener(FinishedResultsListener listener) {
  std::lock_guard lock(listeners_mu_);
  batch_listeners_.push_back(std::move(listener));
}

void JobService::NotifyFinished(std::span<const JobRecord> jobs, std::span<const KnownResult> known) {
  std::vector<FinishedListener> listeners;
  std::vector<FinishedResultsListener> batch_listeners;
  {
    std::lock_guard lock(listeners_mu_);
    listeners = listeners_;
    batch_listeners = batch_listeners_;
  }
  if (jobs.empty() || (listeners.empty() && batch_listeners.empty())) return;
  std::lock_guard serial(notify_mu_);
  for (const JobRecord& job : jobs) {
    for (auto& l : listeners) {
      try {
        l(job);
      } catch (const std::exception& e) {
        spdlog::error(R"({{"msg":"finished listener threw","job_id":"{}","what":"{}"}})", job.job_id.str(), e.what());
      }
    }
  }
  for (auto& l : batch_listeners) {
    try {
      l(jobs, known.size() == jobs.size() ? known : std::span<const KnownResult>());
    } catch (const std::exception& e) {
      spdlog::error(R"({{"msg":"finished listener threw","job_id":"{}","jobs":{},"what":"{}"}})",
                    jobs.front().job_id.str(), jobs.size(), e.what());
    }
  }
}

void JobService::AddActive(const std::shared_ptr<Active>& a) {
  std::lock_guard lock(active_mu_);
  active_[a->record.job_id] = a;
}

void JobService::RemoveActive(const JobId& id) {
  std::lock_guard lock(active_mu_);
  active_.erase(id);
}

std::shared_ptr<JobService::Active> JobService::FindActive(const JobId& id) {
  std::lock_guard lock(active_mu_);
  auto it = active_.find(id);
  return it == active_.end() ? nullptr : it->second;
}

Status JobService::Persist(JobRecord& job, JobState expected) {
  JobRecord* const one[] = {&job};
  return PersistMany(one, std::span<const JobState>(&expected, 1)).front();
}

std::vector<Status> JobService::PersistMany(std::span<JobRecord* const> jobs, std::span<const JobState> expected) {
  std::vector<JobStore::JobUpdate> updates;
  updates.reserve(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    // A terminal meta file is complete before anyone can see the terminal state (store or
    // cache). A row still deferred (MarkStarted) is written here, with this version: the
    // store holds the state before it.
    const std::optional<JobState> stored =
        IsTerminal(jobs[i]->status) ? meta_.WriteNow(*jobs[i]) : meta_.TakeRow(jobs[i]->job_id);
    updates.push_back({jobs[i], stored.value_or(expected[i])});
  }
  std::vector<Status> written = store_.UpdateJobs(updates);
  for (size_t i = 0; i < jobs.size(); ++i) {
    JobRecord& job = *jobs[i];
    const bool terminal = IsTerminal(job.status);
    const Status& s = written[i];
    if (!s.ok()) {
      spdlog::error(R"({{"msg":"job update failed","job_id":"{}","error":{}}})", job.job_id.str(),
                    Json(s.ToString()).dump());
      cache_.Drop(job.job_id);  // the store knows better now
      if (terminal) {
        auto stored = store_.GetJob(job.job_id);  // mirror what the store really holds
        if (stored.ok()) meta_.WriteNow(*stored);
      }
      continue;
    }
    Recorded(job);
  }
  return written;
}

void JobService::Recorded(const JobRecord& job, std::optional<JobState> row_from) {
  if (!IsTerminal(job.status)) meta_.WriteLater(job, row_from);
  cache_.Put(job);
  LogEvent(job);
}

void JobService::WriteDeferredRows(std::span<JobRecord* const> jobs, std::span<const JobState> from) {
  std::vector<JobStore::JobUpdate> updates;
  updates.reserve(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) updates.push_back({jobs[i], from[i]});
  const std::vector<Status> written = store_.UpdateJobs(updates);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (written[i].ok()) continue;
    spdlog::error(R"({{"msg":"job update failed","job_id":"{}","error":{}}})", jobs[i]->job_id.str(),
                  Json(written[i].ToString()).dump());
    cache_.Drop(jobs[i]->job_id);  // the store knows better now
  }
}

// One structured line per recorded state: {"msg":"job","job_id",...,"status",...}; RUNNING
// adds the queue wait, terminal states the end reason, exit code, duration and the first line
// of the error.
void JobService::LogEvent(const JobRecord& job) const {
  if (IsTerminal(job.status) && job.status != JobState::kSuccess) {
    spdlog::warn("{}", JobEventJson(job));
  } else {
    spdlog::info("{}", JobEventJson(job));
  }
}

JobRecord JobService::NewRecord(ResolvedJob resolved, const SubmitOptions& options, TimePoint now) const {
  JobRecord rec;
  rec.job_id = NewJobId(now);
  const std::string& id = rec.job_id.str();
  resolved.BindJobId(id);  // the template's {job_id} only, never one inside a value
  rec.job_type = resolved.job_type;
  rec.status = JobState::kQueued;
  rec.created_at = now;
  rec.cwd = workspace_.Relative(resolved.cwd);  // "." for the workspace itself (API shows it as is)
  rec.command = resolved.argv;
  rec.args_preview = resolved.args_preview;  // the catalog's (BindJobId redoes it only when argv has the id)
  rec.params = resolved.params;
  rec.log_path = "reports/jobs/runtime/" + id + ".log";
  rec.meta_path = "reports/jobs/runtime/" + id + ".json";
  rec.parent_id = options.parent_id;
  rec.source_job_id = options.source_job_id;
  rec.owner_id = options.owner_id;
  rec.project = options.project.value_or("");
  rec.max_inflight = options.max_inflight;
  rec.dry_run = resolved.dry_run;
  rec.timeout_sec = resolved.timeout_sec;
  rec.env = Json::object();
  for (auto& [k, v] : resolved.env) rec.env[k] = v;
  rec.claimed_by = claimer_;
  return rec;
}

Status JobService::RecordFinished(const std::vector<JobRecord>& jobs, std::span<const KnownResult> known) {
  // Meta files and rows from several threads at once: the files are written in parallel, and
  // concurrent inserts share transactions (the store's group commit), instead of one commit
  // per job. As EndJob, a job's terminal meta file is complete before its row exists.
  std::vector<Status> inserted(jobs.size());
  std::atomic<size_t> next{0};
  auto write = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      meta_.WriteNow(jobs[i]);
      inserted[i] = store_.InsertJob(jobs[i]);
    }
  };
  std::vector<std::thread> writers;
  for (size_t t = 1; t < std::min<size_t>(jobs.size(), kRecordWriters); ++t) writers.emplace_back(write);
  write();
  for (auto& t : writers) t.join();
  // Then, in order, what every job gets at its end.
  for (size_t i = 0; i < jobs.size(); ++i) {
    const JobRecord& job = jobs[i];
    if (!inserted[i].ok()) {
      spdlog::error(R"({{"msg":"job insert failed","job_id":"{}","error":{}}})", job.job_id.str(),
                    Json(inserted[i].ToString()).dump());
      // the ones recorded before it
      NotifyFinished(std::span<const JobRecord>(jobs.data(), i), known.size() == jobs.size() ? known.first(i) : known);
      return inserted[i];
    }
    cache_.Put(job);
    // The events a process job logs: queued, running, its end.
    JobRecord state = job;
    state.status = JobState::kQueued;
    LogEvent(state);
    state.status = JobState::kRunning;
    LogEvent(state);
    LogEvent(job);
    if (metrics_) {
      metrics_->Increment("alphalab_jobs_submitted_total", {{"job_type", job.job_type}});
      if (job.started_at) {
        metrics_->Observe("queue_wait_seconds", SecondsBetween(job.created_at, *job.started_at),
                          {{"job_type", job.job_type}});
      }
      if (job.started_at && job.ended_at) {
        metrics_->Observe("job_exec_seconds", SecondsBetween(*job.started_at, *job.ended_at),
                          {{"job_type", job.job_type}});
      }
      metrics_->Increment("alphalab_jobs_finished_total",
                          {{"job_type", job.job_type}, {"status", std::string(JobStateName(job.status))}});
    }
  }
  NotifyFinished(jobs, known);
  return Status::Ok();
}

Result<std::optional<bool>> TakeDryRun(Json& object, std::string_view field) {
  if (!object.is_object()) return std::optional<bool>{};
  auto it = object.find("dry_run");
  if (it == object.end()) return std::optional<bool>{};
  std::optional<bool> out;
  if (it->is_boolean()) {
    out = it->get<bool>();
  } else if (it->is_string() && (*it == "true" || *it == "false")) {
    out = *it == "true";
  } else if (!it->is_null()) {
    return Status::InvalidArgument("field '" + std::string(field) + "' must be true or false",
                                   Json{{"field", std::string(field)}});
  }
  object.erase(it);
  return out;
}

namespace {

// The project of a job whose request names none: a `project=...` override, else the
// `project:` of its config file (params.config_path), else "".
std::string ProjectFromParams(const Workspace& ws, const Json& params) {
  if (!params.is_object()) return "";
  if (auto it = params.find("overrides"); it != params.end() && it->is_array()) {
    std::string found;
    for (const Json& o : *it) {
      if (o.is_string() && o.get_ref<const std::string&>().rfind("project=", 0) == 0) {
        found = o.get<std::string>().substr(8);  // the last one wins, as --set does
      }
    }
    if (!found.empty()) return IsSafeIdentifier(found) ? found : "";
  }
  auto cfg = params.find("config_path");
  if (cfg == params.end() || !cfg->is_string()) return "";
  auto path = ws.Resolve(cfg->get<std::string>(), PathMust::kExist);
  if (!path.ok()) return "";
  try {
    const YAML::Node node = YAML::LoadFile(path->string());
    if (node.IsMap() && node["project"] && node["project"].IsScalar()) {
      const std::string p = node["project"].as<std::string>();
      return IsSafeIdentifier(p) ? p : "";
    }
  } catch (const std::exception&) {
    // An unreadable config fails the job itself; its project is simply unknown.
  }
  return "";
}

}  // namespace

Status JobService::CheckSubmitOptions(const SubmitOptions& options) {
  if (options.project && !options.project->empty() &&
      (options.project->size() > 128 || !IsSafeIdentifier(*options.project))) {
    return Status::InvalidArgument("project may only hold letters, digits, '_', '.' and '-' (at most 128)",
                                   Json{{"field", "project"}});
  }
  if (options.max_inflight) {
    if (*options.max_inflight < 1) {
      return Status::InvalidArgument("max_inflight must be at least 1",
                                     Json{{"field", "max_inflight"}, {"value", *options.max_inflight}});
    }
    if (!options.parent_id || options.parent_id->empty()) {
      return Status::InvalidArgument("max_inflight bounds a group of jobs: it needs a parent_id",
                                     Json{{"field", "max_inflight"}});
    }
  }
  return Status::Ok();
}

Result<JobRecord> JobService::Submit(std::string_view job_type, const Json& params,
                                     const SubmitOptions& options) {
  RETURN_IF_ERROR(CheckSubmitOptions(options));
  ASSIGN_OR_RETURN(ResolvedJob resolved, catalog_.Resolve(job_type, params));
  if (const JobTypeSpec* spec = catalog_.Find(job_type); spec && spec->decl && preparer_) {
    // Before anything is queued or written (dry runs too): settings that cannot work are a 400.
    RETURN_IF_ERROR(preparer_->Check(*spec->decl, resolved.params));
  }
  if (submit_check_ && !options.checked_by_submitter) {
    RETURN_IF_ERROR(submit_check_->Check(job_type, resolved.params));
  }
  resolved.dry_run = options.dry_run;
  if (!resolved.dry_run) queue_.AwaitAdmission();
  const std::string project = options.project ? *options.project : ProjectFromParams(workspace_, resolved.params);
  JobRecord rec = NewRecord(std::move(resolved), options, clock_.Now());
  rec.project = project;
  if (shutting_down_) return Status::Unavailable("the server is shutting down");
  // Claimed by this server in its insert (NewRecord; one write): no other server's queue
  // takes it, and its start needs no second write. Jobs not claimed here are claimed in Start().
  RETURN_IF_ERROR(store_.InsertJob(rec));
  cache_.Put(rec);
  LogEvent(rec);
  if (metrics_) metrics_->Increment("alphalab_jobs_submitted_total", {{"job_type", rec.job_type}});
  if (rec.dry_run) {
    auto a = std::make_shared<Active>();
    a->record = std::move(rec);
    std::unique_lock alock(a->mu);
    return RunDry(a, alock);
  }
  // The QUEUED meta goes through the writer (due in meta_delay; replaced by the RUNNING or
  // terminal version if the job moves on sooner). Before the job is queued, so no newer
  // version of it can be pending yet.
  meta_.WriteLater(rec);
  // Stopped meanwhile (shutdown): the job stays QUEUED in the store for the next Recover.
  queue_.Push(rec);
  // A starter may already have moved it on; the cache has the newest version then.
  if (auto c = cache_.Get(rec.job_id); c && JobStateRank(c->status) > JobStateRank(rec.status)) return *c;
  return rec;
}

std::vector<Result<JobRecord>> JobService::SubmitBatch(std::string_view job_type, const std::vector<Json>& params,
                                                       const SubmitOptions& options) {
  std::vector<Result<JobRecord>> out;
  out.reserve(params.size());
  const JobTypeSpec* type = catalog_.Find(job_type);
  if (!executor_.KeepsBatchBound() || options.dry_run || (type && type->uses_work_dir)) {
    for (const Json& p : params) out.push_back(Submit(job_type, p, options));
    return out;
  }
  if (Status checked = CheckSubmitOptions(options); !checked.ok()) {
    out.assign(params.size(), Result<JobRecord>(checked));
    return out;
  }
  std::vector<std::shared_ptr<Active>> batch;
  std::vector<size_t> where;
  std::vector<BatchItem> items;
  for (const Json& p : params) {
    if (shutting_down_) {
      out.push_back(Status::Unavailable("the server is shutting down"));
      continue;
    }
    auto resolved = catalog_.Resolve(job_type, p);
    if (resolved.ok() && type && type->decl && preparer_) {
      if (Status st = preparer_->Check(*type->decl, resolved->params); !st.ok()) resolved = st;
    }
    if (!resolved.ok()) {
      out.push_back(resolved.status());
      continue;
    }
    const std::string project = options.project ? *options.project : ProjectFromParams(workspace_, resolved->params);
    JobRecord rec = NewRecord(*std::move(resolved), options, clock_.Now());
    rec.project = project;
    if (Status inserted = store_.InsertJob(rec); !inserted.ok()) {
      out.push_back(inserted);
      continue;
    }
    cache_.Put(rec);
    LogEvent(rec);
    if (metrics_) metrics_->Increment("alphalab_jobs_submitted_total", {{"job_type", rec.job_type}});
    meta_.WriteLater(rec);
    auto a = std::make_shared<Active>();
    a->record = rec;
    a->holds_slot = true;
    // Locked until its start is recorded (as Take does): a Cancel meanwhile waits for it.
    a->start_lock = std::unique_lock(a->mu);
    queue_.Hold(a->record);
    AddActive(a);
    items.push_back({SpecOf(a->record), MakeExitCallback(a)});
    batch.push_back(a);
    where.push_back(out.size());
    out.push_back(std::move(rec));
  }
  if (batch.empty()) return out;
  std::vector<Result<std::string>> refs =
      executor_.SubmitBatch(std::move(items), options.max_inflight.value_or(0), options.parent_id.value_or(""));
  for (size_t k = 0; k < batch.size(); ++k) {
    const std::shared_ptr<Active>& a = batch[k];
    std::unique_lock<std::mutex> alock = std::move(a->start_lock);
    if (k >= refs.size() || !refs[k].ok()) {
      out[where[k]] = EndJob(a, alock, JobEnd::SpawnFailed(k < refs.size() ? refs[k].status().message()
                                                                            : "the executor did not take the job"));
      continue;
    }
    MarkStarted(a->record, *refs[k]);
    out[where[k]] = a->record;
  }
  return out;
}

ProcessSpec JobService::SpecOf(const JobRecord& rec) const {
  ProcessSpec spec;
  spec.job_id = rec.job_id;
  spec.argv = rec.command;
  // Workspace-relative; a row from before cwd was stored that way holds an absolute path, which
  // operator/ keeps as it is.
  spec.cwd = rec.cwd == "." ? workspace_.root() : workspace_.root() / rec.cwd;
  for (const auto& [k, v] : rec.env.items()) spec.env[k] = v.get<std::string>();
  spec.log_path = LogPath(rec);
  spec.timeout = std::chrono::seconds(rec.timeout_sec);
  return spec;
}

void JobService::MarkStarted(JobRecord& rec, const std::string& ref, bool defer_row) {
  auto next = Transition(rec.status, JobEvent::kJobStarted);
  if (!next.ok()) {
    spdlog::error(R"({{"msg":"start refused","job_id":"{}","error":{}}})", rec.job_id.str(),
                  Json(next.status().message()).dump());
    return;
  }
  const TimePoint now = clock_.Now();
  rec.status = *next;
  rec.started_at = now;
  rec.executor_ref = ref;
  if (metrics_) {
    metrics_->Observe("queue_wait_seconds", SecondsBetween(rec.created_at, now), {{"job_type", rec.job_type}});
  }
  if (defer_row && defer_running_rows_) {
    Recorded(rec, JobState::kQueued);  // the row goes with the meta file, or with the end
    return;
  }
  Persist(rec, JobState::kQueued).ok();
}

JobRecord JobService::RunDry(const std::shared_ptr<Active>& a, std::unique_lock<std::mutex>& alock) {
  const JobRecord& rec = a->record;
  const Json argv_json = rec.command;
  std::string log = "[dry-run] job " + rec.job_id.str() + " (type " + rec.job_type +
                    ") would run the command below; nothing was executed.\n";
  log += "cwd: " + rec.cwd + "\n";
  log += "argv: " + DumpJson(argv_json) + "\n";
  log += "command: " + rec.args_preview + "\n";
  if (!rec.env.empty()) log += "env: " + DumpJson(rec.env) + "\n";
  if (rec.timeout_sec > 0) log += "timeout_sec: " + std::to_string(rec.timeout_sec) + "\n";
  log += "[dry-run] validation passed; status SUCCESS\n";
  // A dry run that cannot be recorded ends here, FAILED: it never becomes a real run.
  if (std::optional<std::string> err = WriteLogFile(LogPath(rec), log)) {
    std::string why = "the dry-run log " + rec.log_path + " could not be written: " + *err;
    if (*err == std::strerror(ENOSPC) || NoSpaceLeft(LogPath(rec).parent_path())) {
      why = std::string(kDiskFullMessage) + ": " + why;
    }
    return EndJob(a, alock, JobEnd::SpawnFailed(why));
  }
  return EndJob(a, alock, JobEnd::DryRun());
}

std::function<void()> JobService::Take(JobRecord job) {
  auto a = std::make_shared<Active>();
  a->record = std::move(job);
  a->holds_slot = true;
  // Locked before it is visible in active_: a Cancel() that finds it there waits until the
  // spawn is recorded (RUNNING, or FAILED when the spawn failed) and then stops it through
  // the executor; there is no moment where it is neither queued nor active.
  a->start_lock = std::unique_lock(a->mu);
  AddActive(a);
  return [this, a] { Start(a); };
}

void JobService::Start(const std::shared_ptr<Active>& a) {
  std::unique_lock<std::mutex> alock = std::move(a->start_lock);
  JobRecord& rec = a->record;
  // A job this server did not claim at insert (queued again by Recover): the store decides
  // who starts it (another server sharing the database may have claimed it, or moved it on).
  const Status claimed = rec.claimed_by ? Status::Ok() : store_.ClaimQueued(rec.job_id, claimer_);
  if (!claimed.ok()) {
    spdlog::warn(R"({{"msg":"job not claimed","job_id":"{}","error":{}}})", rec.job_id.str(),
                 Json(claimed.ToString()).dump());
    const JobId id = rec.job_id;
    a->holds_slot = false;
    a->cv.notify_all();
    alock.unlock();
    cache_.Drop(id);  // the store knows better
    RemoveActive(id);
    queue_.Release(id);
    return;
  }
  rec.claimed_by = claimer_;
  if (rec.dry_run) {  // never spawned
    RunDry(a, alock);
    return;
  }
  // A job whose own log cannot be written (its file system has no space or inodes left) is not
  // started: what it prints would be lost. It ends FAILED (spawn_failed) and, being terminal,
  // no later server starts it.
  if (NoSpaceLeft(LogPath(rec).parent_path())) {
    EndJob(a, alock, JobEnd::SpawnFailed(std::string(kDiskFullMessage) + ": the job's log " + rec.log_path +
                                         " cannot be written"));
    return;
  }
  ProcessSpec spec = SpecOf(rec);
  if (const JobTypeSpec* type = catalog_.Find(rec.job_type); type && type->uses_work_dir) {
    if (Status prepared = PrepareWorkDir(*type, rec, spec); !prepared.ok()) {
      const std::string why = "preparing " + (type->tool.empty() ? "the work folder" : type->tool) + " for job " +
                              rec.job_id.str() + " failed: " + WithoutRoot(prepared.message(), workspace_.root());
      WriteLogFile(LogPath(rec), "[alphalab] " + why + "\n[alphalab] the job was not started\n");
      EndJob(a, alock, JobEnd::SpawnFailed(why));
      return;
    }
  }
  // Starters spawn concurrently: the executor's Submit is mostly a wait (LocalExecutor: a
  // round trip to its process supervisor, which pipelines concurrent requests).
  const Result<std::string> ref = executor_.Submit(spec, MakeExitCallback(a));
  if (!ref.ok()) {
    EndJob(a, alock, JobEnd::SpawnFailed(ref.status().message()));
    return;
  }
  MarkStarted(rec, *ref, /*defer_row=*/true);
}

Status JobService::PrepareWorkDir(const JobTypeSpec& type, JobRecord& rec, ProcessSpec& spec) {
  PreparedJob job;
  job.job_id = rec.job_id.str();
  job.type = type.name;
  job.tool = type.tool;
  job.params = rec.params;
  job.work_dir = JobWorkDir(workspace_, rec.job_id);
  std::error_code ec;
  fs::create_directories(job.work_dir, ec);
  if (ec) return Status::Internal("cannot create the work folder " + job.work_dir.string() + ": " + ec.message());
  // Confined: no symlink on the way leads it out of the workspace's job folder.
  if (!IsDirectoryConfined(workspace_.JobsRuntimeDir(), rec.job_id.str() + "/work")) {
    return Status::PermissionDenied("the work folder " + job.work_dir.string() + " is not inside " +
                                    workspace_.JobsRuntimeDir().string());
  }
  if (preparer_ && type.decl) RETURN_IF_ERROR(preparer_->Prepare(*type.decl, job));
  // The prepared env (the tool's .env) first; the type's own `env:` wins over it.
  std::map<std::string, std::string> env = std::move(job.env);
  for (auto& [k, v] : spec.env) env[k] = v;
  spec.env = std::move(env);
  if (type.cwd_work_dir) {
    spec.cwd = job.work_dir;
    rec.cwd = workspace_.Relative(job.work_dir);
  }
  if (!rec.artifacts.is_object()) rec.artifacts = Json::object();
  rec.artifacts["work_dir"] = job.work_dir.lexically_relative(workspace_.root()).generic_string();
  if (job.config_hashes.is_object()) {
    for (const auto& [path, sha] : job.config_hashes.items()) {
      if (sha.is_string()) rec.artifacts["config_sha256:" + path] = sha.get<std::string>();
    }
  }
  return Status::Ok();
}

ExitCallback JobService::MakeExitCallback(const std::shared_ptr<Active>& a) {
  return [this, a](const ProcessExit& exit) { OnExit(a, exit); };
}

void JobService::OnExit(const std::shared_ptr<Active>& a, const ProcessExit& exit) {
  // Notified under the lock: Shutdown() takes completions_mu_ before the service goes, so an
  // exit reported by another thread (the executor's) is done with completions_cv_ by then.
  // Notifying after the unlock raced ~JobService destroying the condition variable (TSan:
  // JobServiceTest.CancelRacingTheStarterAlwaysEndsCanceled, the fake executor's cancel thread).
  std::lock_guard lock(completions_mu_);
  completions_.push_back(Completion{a, exit});
  completions_cv_.notify_one();
}

void JobService::OnExecutorStatus(const ExecutorStatus& status) {
  std::shared_ptr<Active> a = FindActive(status.job_id);
  if (!a) return;
  std::lock_guard alock(a->mu);
  JobRecord& rec = a->record;
  if (rec.status != JobState::kRunning) return;  // not recorded as started yet, or ended
  if (!rec.artifacts.is_object()) rec.artifacts = Json::object();
  rec.artifacts[std::string(kExecutorStateKey)] = status.state;
  rec.artifacts[std::string(kExecutorReasonKey)] = status.reason;
  Persist(rec, JobState::kRunning).ok();
}

void JobService::CompletionLoop() {
  // The completions that have queued up are ended together (one store write for their rows);
  // a second thread ends another batch meanwhile (the file and database work of EndJobs waits
  // on the kernel a lot). The freed slots go to the starters.
  std::vector<Completion> batch;
  std::vector<std::unique_lock<std::mutex>> locks;
  for (;;) {
    batch.clear();
    locks.clear();
    {
      std::unique_lock lock(completions_mu_);
      completions_cv_.wait(lock, [this] { return completions_stop_ || !completions_.empty(); });
      if (completions_.empty() && completions_stop_) return;
      batch.push_back(std::move(completions_.front()));
      completions_.pop_front();
    }
    locks.emplace_back(batch.front().active->mu);  // the only lock waited for
    {
      // More only while their jobs' locks are free at once (never waiting for a second lock
      // while holding one); a job held elsewhere (its start still being recorded) waits for
      // the next batch.
      std::lock_guard lock(completions_mu_);
      while (!completions_.empty() && batch.size() < kMaxEndBatch) {
        const std::shared_ptr<Active>& next = completions_.front().active;
        if (std::any_of(batch.begin(), batch.end(), [&](const Completion& c) { return c.active == next; })) break;
        std::unique_lock<std::mutex> held(next->mu, std::try_to_lock);
        if (!held.owns_lock()) break;
        locks.push_back(std::move(held));
        batch.push_back(std::move(completions_.front()));
        completions_.pop_front();
      }
    }
    std::vector<Ending> endings;
    endings.reserve(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      endings.push_back({batch[i].active, &locks[i], JobEnd::Exited(batch[i].exit, batch[i].active->reattached)});
    }
    EndJobs(endings);
  }
}

JobRecord JobService::EndJob(const std::shared_ptr<Active>& a, std::unique_lock<std::mutex>& alock,
                             const JobEnd& end) {
  Ending one{a, &alock, end};
  return EndJobs(std::span<Ending>(&one, 1)).front();
}

std::vector<JobRecord> JobService::EndJobs(std::span<Ending> endings) {
  // Whether the disk is full where an exited job wrote (its log's folder, runs/, backtests/),
  // looked at once per folder for the jobs that end together.
  std::optional<bool> outputs_full;
  std::vector<std::pair<fs::path, bool>> logs_full;
  auto disk_full = [&](const fs::path& log_dir) {
    auto known = std::find_if(logs_full.begin(), logs_full.end(), [&](const auto& e) { return e.first == log_dir; });
    const bool log_full =
        known != logs_full.end() ? known->second : logs_full.emplace_back(log_dir, NoSpaceLeft(log_dir)).second;
    if (log_full) return true;
    if (!outputs_full) outputs_full = NoSpaceLeft(workspace_.RunsDir()) || NoSpaceLeft(workspace_.BacktestsDir());
    return *outputs_full;
  };
  std::vector<JobRecord*> to_persist;
  std::vector<JobState> expected;
  std::vector<bool> recorded(endings.size(), false);
  for (size_t i = 0; i < endings.size(); ++i) {
    const JobEnd& end = endings[i].end;
    JobRecord& rec = endings[i].active->record;
    const JobState before = rec.status;
    if (IsTerminal(before)) continue;
    const JobTypeSpec* spec = catalog_.Find(rec.job_type);
    // The log is only read when something is taken from it (artifacts, error summary).
    const std::string tail =
        OutcomeNeedsLog(end, spec) ? ReadFileTail(LogPath(rec), kArtifactScanBytes) : std::string();
    // A built-in's artifacts come from its result file (core/job_result.hpp).
    std::optional<Result<JobResult>> result;
    if (end.kind == JobEnd::Kind::kExited || end.kind == JobEnd::Kind::kLost) {
      result = ReadResultFileOf(workspace_, spec, rec);
    }
    JobOutcome outcome = DecideOutcome(rec, spec, end, tail, result ? &*result : nullptr);
    // The disks are looked at only when a full one would change the outcome.
    if (end.kind == JobEnd::Kind::kExited && FullDiskCouldChange(outcome, spec) &&
        disk_full(LogPath(rec).parent_path())) {
      JobEnd checked = end;
      checked.disk_full = true;
      outcome = DecideOutcome(rec, spec, checked, tail, result ? &*result : nullptr);
    }
    // Messages users see carry workspace-relative paths, never the server's absolute ones.
    if (outcome.error_message) outcome.error_message = WithoutRoot(*outcome.error_message, workspace_.root());
    if (outcome.artifacts_parse_error) {
      outcome.artifacts_parse_error = WithoutRoot(*outcome.artifacts_parse_error, workspace_.root());
    }
    const TimePoint now = clock_.Now();
    JobState state = before;
    if (end.kind == JobEnd::Kind::kDryRun) {  // a dry run passes through RUNNING, in no time
      if (auto started = Transition(state, JobEvent::kJobStarted); started.ok()) state = *started;
      rec.started_at = now;
    }
    auto next = Transition(state, outcome.event);
    if (next.ok() && IsTerminal(*next)) {
      rec.status = *next;
      rec.ended_at = now;
      rec.end_reason = outcome.end_reason;
      if (outcome.exit_code) rec.exit_code = outcome.exit_code;
      if (end.kind == JobEnd::Kind::kExited || end.kind == JobEnd::Kind::kLost) {
        // What was recorded at the start (a tool job's work_dir and config hashes) stays.
        Json merged = rec.artifacts.is_object() ? rec.artifacts : Json::object();
        if (outcome.artifacts.is_object()) {
          for (const auto& [k, v] : outcome.artifacts.items()) merged[k] = v;
        }
        rec.artifacts = std::move(merged);
        rec.artifacts_parse_error = outcome.artifacts_parse_error;
      }
      if (outcome.error_message) rec.error_message = outcome.error_message;
      to_persist.push_back(&rec);
      expected.push_back(before);
      recorded[i] = true;
    } else if (!next.ok()) {
      spdlog::error(R"({{"msg":"end refused","job_id":"{}","error":{}}})", rec.job_id.str(),
                    Json(next.status().message()).dump());
    }
  }
  if (!to_persist.empty()) PersistMany(to_persist, expected);
  std::vector<JobRecord> done;
  done.reserve(endings.size());
  std::vector<JobId> released;
  for (Ending& e : endings) {
    Active& a = *e.active;
    done.push_back(a.record);
    if (a.holds_slot) released.push_back(a.record.job_id);
    a.holds_slot = false;
    a.cv.notify_all();
    e.lock->unlock();
  }
  for (const JobId& id : released) {
    RemoveActive(id);
    queue_.Release(id);  // a starter may fill the slot
  }
  std::vector<JobRecord> finished;
  for (size_t i = 0; i < endings.size(); ++i) {
    if (!recorded[i]) continue;
    const JobRecord& job = done[i];
    if (metrics_) {
      if (!job.dry_run && job.started_at && job.ended_at) {
        metrics_->Observe("job_exec_seconds", SecondsBetween(*job.started_at, *job.ended_at),
                          {{"job_type", job.job_type}});
      }
      metrics_->Increment("alphalab_jobs_finished_total",
                          {{"job_type", job.job_type}, {"status", std::string(JobStateName(job.status))}});
    }
    finished.push_back(job);
  }
  NotifyFinished(finished);
  return done;
}

Result<JobRecord> JobService::Get(const JobId& id) {
  if (auto c = cache_.Get(id)) return *c;
  return store_.GetJob(id);
}

Result<std::string> JobService::DetailBody(const JobId& id, TimePoint now) {
  if (auto body = cache_.DetailBody(id, now)) return *body;
  // Not cached (an older job, or after a restart): the stored row straight into the body when
  // the store hands rows out as stored (the SQL stores), else the decoded record.
  if (auto* reader = dynamic_cast<StoredJobReader*>(&store_)) {
    std::string body;
    RETURN_IF_ERROR(reader->ReadStoredJob(id, [&](const StoredJobView& row) { body = JobDetailBody(row, now); }));
    return body;
  }
  ASSIGN_OR_RETURN(JobRecord rec, store_.GetJob(id));
  return JobDetailBody(rec, now);
}

Result<std::vector<JobRecord>> JobService::List(const JobQuery& query) { return store_.ListJobs(query); }

Result<int64_t> JobService::Count(const JobQuery& query) { return store_.CountJobs(query); }

Result<JobRecord> JobService::Cancel(const JobId& id) {
  if (std::optional<JobRecord> queued = queue_.Remove(id)) {
    auto a = std::make_shared<Active>();
    a->record = std::move(*queued);
    std::unique_lock alock(a->mu);
    JobRecord done = EndJob(a, alock, JobEnd::CanceledQueued());
    if (done.status != JobState::kCanceled) {
      return Status::Internal("job " + id.str() + " could not be recorded as canceled",
                              Json{{"job_id", id.str()}});
    }
    return done;
  }
  // Not queued: taken by a starter (then in active_: Take runs under the queue's lock), or
  // not this server's, or ended.
  std::shared_ptr<Active> a = FindActive(id);
  if (!a) {
    ASSIGN_OR_RETURN(JobRecord rec, Get(id));
    if (IsTerminal(rec.status)) {
      return Status::FailedPrecondition(
          "job " + id.str() + " already ended with status " + std::string(JobStateName(rec.status)),
          Json{{"job_id", id.str()}, {"status", std::string(JobStateName(rec.status))}});
    }
    if (!store_.SupportsLeases() || !rec.claimed_by || *rec.claimed_by == claimer_) {
      return Status::FailedPrecondition("job " + id.str() + " is not managed by this server",
                                        Json{{"job_id", id.str()}});
    }
    // Another server's job: recorded for its owner, which carries it out (LeaseRound).
    RETURN_IF_ERROR(store_.RequestCancel(id, clock_.Now()));
    const auto deadline = std::chrono::steady_clock::now() + 2 * lease_interval_ + std::chrono::milliseconds(1500);
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      ASSIGN_OR_RETURN(rec, store_.GetJob(id));
      if (IsTerminal(rec.status)) break;
    }
    cache_.Drop(id);
    return rec;
  }
  {
    // The job may have ended while its completion is still being finished on another thread:
    // a terminal record answers the same as a job no longer active.
    std::lock_guard alock(a->mu);
    if (IsTerminal(a->record.status)) {
      const std::string state(JobStateName(a->record.status));
      return Status::FailedPrecondition("job " + id.str() + " already ended with status " + state,
                                        Json{{"job_id", id.str()}, {"status", state}});
    }
  }
  // A starter holds a->mu from before the job is visible in active_ until its spawn is
  // recorded, so here it is RUNNING (or a re-attached RUNNING job): the executor stops it.
  Status s = executor_.Cancel(id);
  if (!s.ok() && !s.IsNotFound()) return s;
  std::unique_lock alock(a->mu);
  a->cv.wait_for(alock, std::chrono::milliseconds(1500), [&] { return IsTerminal(a->record.status); });
  return a->record;
}

bool JobService::WaitIdle(std::chrono::milliseconds timeout) { return queue_.WaitIdle(timeout); }

std::vector<Result<JobRecord>> JobService::CancelMany(const std::vector<JobId>& ids) {
  std::vector<Result<JobRecord>> out;
  out.reserve(ids.size());
  std::vector<std::pair<size_t, std::shared_ptr<Active>>> running;
  std::vector<JobId> running_ids;
  for (const JobId& id : ids) {
    std::shared_ptr<Active> a = FindActive(id);
    bool live = false;
    if (a) {
      std::lock_guard alock(a->mu);  // a start in progress is recorded first
      live = !IsTerminal(a->record.status);
    }
    if (!live) {
      out.push_back(Cancel(id));  // queued, another server's, or ended: Cancel's answer
      continue;
    }
    running.emplace_back(out.size(), a);
    running_ids.push_back(id);
    out.push_back(Status::Internal("not canceled"));
  }
  if (running.empty()) return out;
  const Status sent = executor_.CancelMany(running_ids);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  for (const auto& entry : running) {
    const std::shared_ptr<Active>& a = entry.second;
    if (!sent.ok() && !sent.IsNotFound()) {
      out[entry.first] = sent;
      continue;
    }
    std::unique_lock alock(a->mu);
    a->cv.wait_until(alock, deadline, [&] { return IsTerminal(a->record.status); });
    out[entry.first] = a->record;
  }
  return out;
}

Status JobService::Recover() {
  // Files of in-process jobs (the optimization fast path) a killed server wrote before their
  // rows: deleted before anything (the registry's startup index included) reads them.
  if (auto inproc = RecoverInProcessJournals(workspace_, store_); !inproc.ok()) {
    spdlog::error(R"({{"msg":"in-process journal recovery failed","error":{}}})",
                  Json(inproc.status().ToString()).dump());
  } else if (inproc->journals + inproc->journals_skipped > 0) {
    spdlog::info(R"({{"msg":"in-process journal recovery","journals":{},"uncommitted_jobs_removed":{},"held":{}}})",
                 inproc->journals, inproc->jobs_removed, inproc->journals_skipped);
  }
  // Several servers: this server's lease first (so no one adopts what it is about to take
  // back), then the jobs of dead servers become its own.
  const bool shared = store_.SupportsLeases();
  if (shared) {
    RETURN_IF_ERROR(store_.RenewLease(claimer_, clock_.Now(), lease_ttl_));
    RETURN_IF_ERROR(store_.AdoptExpired(claimer_, clock_.Now()).status());
  }
  const auto mine = [&](const JobRecord& rec) { return !shared || !rec.claimed_by || *rec.claimed_by == claimer_; };
  ASSIGN_OR_RETURN(std::vector<JobRecord> running, store_.ListJobsInStates({JobState::kRunning}, 1000000));
  int reattached = 0, lost = 0;
  for (JobRecord& rec : running) {
    if (!mine(rec)) continue;  // a live server's
    if (RecoverRunning(rec)) {
      ++reattached;
    } else {
      ++lost;
    }
  }
  ASSIGN_OR_RETURN(std::vector<JobRecord> queued, store_.ListJobsInStates({JobState::kQueued}, 1000000));
  int requeued = 0, dry = 0;
  for (JobRecord& rec : queued) {
    if (FindActive(rec.job_id) || !mine(rec)) continue;
    if (rec.dry_run) {
      // Left QUEUED by a server that stopped before the dry run was recorded: it completes as
      // a dry run here, never as a real run.
      if (!store_.ClaimQueued(rec.job_id, claimer_).ok()) continue;  // another server's
      auto a = std::make_shared<Active>();
      a->record = std::move(rec);
      a->record.claimed_by = claimer_;
      std::unique_lock alock(a->mu);
      RunDry(a, alock);
      ++dry;
      continue;
    }
    // Started by a server that died before it recorded the start: watched (or ended) as the
    // RUNNING job it is, never started a second time.
    if (std::optional<std::string> ref = executor_.StartedRef(LogPath(rec))) {
      MarkStarted(rec, *ref);
      if (rec.status == JobState::kRunning) {
        (RecoverRunning(rec) ? reattached : lost)++;
        continue;
      }
    }
    rec.claimed_by.reset();  // claimed again in the store when a starter takes it
    if (queue_.Push(std::move(rec))) ++requeued;
  }
  spdlog::info(R"({{"msg":"recovery","reattached":{},"lost":{},"requeued":{},"dry_runs":{}}})", reattached, lost,
               requeued, dry);
  if (shared && !lease_thread_.joinable()) {
    lease_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "jobs-lease");
      LeaseLoop();
    });
  }
  return Status::Ok();
}

bool JobService::RecoverRunning(const JobRecord& rec) {
  auto a = std::make_shared<Active>();
  a->record = rec;
  a->reattached = true;
  std::string detail;
  if (rec.executor_ref && !rec.executor_ref->empty()) {
    a->holds_slot = true;  // counts against the slots (and its group) while it runs on
    AddActive(a);
    queue_.Hold(rec);
    auto r = executor_.Reattach(rec.job_id, *rec.executor_ref, LogPath(rec), MakeExitCallback(a));
    if (r.ok() && *r) {
      std::lock_guard alock(a->mu);
      auto next = Transition(a->record.status, JobEvent::kJobReattached);
      if (next.ok()) a->record.status = *next;
      return true;
    }
    if (!r.ok()) detail = r.status().message();
  }
  // No exit record anywhere: lost.
  std::unique_lock alock(a->mu);
  EndJob(a, alock, JobEnd::Lost(detail));
  return false;
}

void JobService::LeaseLoop() {
  std::unique_lock lock(lease_mu_);
  while (!lease_stop_) {
    lock.unlock();
    LeaseRound();
    lock.lock();
    lease_cv_.wait_for(lock, lease_interval_, [&] { return lease_stop_; });
  }
}

void JobService::LeaseRound() {
  if (Status renewed = store_.RenewLease(claimer_, clock_.Now(), lease_ttl_); !renewed.ok()) {
    spdlog::error(R"({{"msg":"lease renewal failed","claimer":"{}","error":{}}})", claimer_,
                  Json(renewed.ToString()).dump());
  }
  if (auto cancels = store_.TakeCancelRequests(claimer_); cancels.ok()) {
    for (const JobId& id : *cancels) {
      Result<JobRecord> canceled = Cancel(id);
      spdlog::info(R"({{"msg":"cancel requested by another server","job_id":"{}","result":{}}})", id.str(),
                   Json(canceled.ok() ? std::string(JobStateName(canceled->status)) : canceled.status().ToString()).dump());
    }
  }
  auto adopted = store_.AdoptExpired(claimer_, clock_.Now());
  if (!adopted.ok()) {
    spdlog::error(R"({{"msg":"adopting the jobs of dead servers failed","error":{}}})",
                  Json(adopted.status().ToString()).dump());
    return;
  }
  int reattached = 0, lost = 0, requeued = 0;
  for (JobRecord& rec : *adopted) {
    if (shutting_down_) return;
    if (rec.status == JobState::kRunning) {
      (RecoverRunning(rec) ? reattached : lost)++;
    } else if (rec.status == JobState::kQueued && !FindActive(rec.job_id)) {
      if (queue_.Push(std::move(rec))) ++requeued;  // claimed_by is this server: started as its own
    }
  }
  if (!adopted->empty()) {
    spdlog::info(R"({{"msg":"adopted the jobs of a dead server","reattached":{},"lost":{},"requeued":{}}})",
                 reattached, lost, requeued);
  }
}

}  // namespace alphalab

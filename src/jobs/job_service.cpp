#include "jobs/job_service.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "core/ids.hpp"
#include "jobs/job_dto.hpp"
#include "jobs/job_state_machine.hpp"
#include "jobs/log_reader.hpp"

namespace alphalab {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kArtifactScanBytes = 8 << 20;  // artifacts are looked for in the last 8 MiB
constexpr const char* kLostMessage = "server restarted and the process was gone";

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view line = text.substr(i, j - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    i = j + 1;
  }
  return lines;
}

// Names the calling thread (shown by top -H, perf, gdb); at most 15 characters.
void NameThread(const char* name) { pthread_setname_np(pthread_self(), name); }

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

bool LooksLikeError(std::string_view s) {
  static constexpr std::string_view kMarkers[] = {"Error", "error:", "ERROR", "Exception", "exception",
                                                  "Traceback", "FATAL", "Fatal", "panic", "failed"};
  for (auto m : kMarkers) {
    if (s.find(m) != std::string_view::npos) return true;
  }
  return false;
}


std::string Describe(const ProcessExit& e, int64_t timeout_sec) {
  if (!e.error.empty()) return e.error;
  if (e.timed_out) return "timed out after " + std::to_string(timeout_sec) + " s and was stopped";
  if (e.signal) return "killed by signal " + std::to_string(*e.signal);
  if (e.exit_code) return "exited with code " + std::to_string(*e.exit_code);
  return "ended without an exit status";
}

}  // namespace

Json ParseArtifacts(const JobTypeSpec& spec, std::string_view log_text) {
  Json out = Json::object();
  if (spec.artifacts.empty()) return out;
  for (std::string_view line : SplitLines(log_text)) {
    if (line.size() > 4096) continue;  // artifact lines are short; skip giant lines cheaply
    for (const ArtifactRule& rule : spec.artifacts) {
      std::match_results<std::string_view::const_iterator> m;
      if (std::regex_search(line.begin(), line.end(), m, rule.regex) && m.size() > 1 && m[1].matched) {
        out[rule.name] = m[1].str();
      }
    }
  }
  return out;
}

std::string SummarizeError(std::string_view log_text) {
  std::vector<std::string_view> lines;
  for (std::string_view l : SplitLines(log_text)) {
    if (!IsBlank(l)) lines.push_back(l);
  }
  if (lines.empty()) return "";
  size_t from = lines.size() > 5 ? lines.size() - 5 : 0;
  // Prefer the last traceback; else the last line that looks like an error.
  std::optional<size_t> marker;
  for (size_t i = lines.size(); i-- > 0;) {
    if (lines[i].find("Traceback") != std::string_view::npos) {
      marker = i;
      break;
    }
  }
  if (!marker) {
    for (size_t i = lines.size(); i-- > 0;) {
      if (LooksLikeError(lines[i])) {
        marker = i;
        break;
      }
    }
  }
  if (marker) from = *marker;
  if (lines.size() - from > 20) from = lines.size() - 20;
  std::string out;
  for (size_t i = from; i < lines.size(); ++i) {
    if (!out.empty()) out += "\n";
    out += lines[i];
  }
  if (out.size() > 2000) out = "..." + out.substr(out.size() - 1997);
  return SanitizeUtf8(out);
}

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
      starter_count_(std::max(1, tuning.starter_threads)),
      meta_delay_(tuning.meta_delay.count() >= 0 ? tuning.meta_delay : kMetaDelay),
      admit_backlog_(std::max(0, tuning.admit_backlog)),
      files_(workspace.JobsRuntimeDir() / ".scratch") {  // creates the runtime folder too
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
      NameThread("jobs-done");
      CompletionLoop();
    });
  }
  for (int i = 0; i < starter_count_; ++i) {
    starter_threads_.emplace_back([this] {
      NameThread("jobs-start");
      StarterLoop();
    });
  }
  meta_thread_ = std::thread([this] {
    NameThread("jobs-meta");
    MetaLoop();
  });
}

JobService::~JobService() { Shutdown(); }

void JobService::Shutdown() {
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
  }
  start_cv_.notify_all();
  admit_cv_.notify_all();
  for (auto& t : starter_threads_) {
    if (t.joinable()) t.join();  // a spawn in progress is completed and recorded first
  }
  starter_threads_.clear();
  {
    std::lock_guard lock(completions_mu_);
    completions_stop_ = true;
  }
  completions_cv_.notify_all();
  for (auto& t : completion_threads_) {
    if (t.joinable()) t.join();
  }
  completion_threads_.clear();
  {
    std::lock_guard lock(meta_mu_);
    meta_stop_ = true;
  }
  meta_cv_.notify_all();
  if (meta_thread_.joinable()) meta_thread_.join();  // writes what is still pending first
}

fs::path JobService::LogPath(const JobRecord& job) const { return workspace_.root() / job.log_path; }
fs::path JobService::MetaPath(const JobRecord& job) const { return workspace_.root() / job.meta_path; }

void JobService::AddFinishedListener(FinishedListener listener) {
  std::lock_guard lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

void JobService::NotifyFinished(const JobRecord& job) {
  std::vector<FinishedListener> listeners;
  {
    std::lock_guard lock(listeners_mu_);
    listeners = listeners_;
  }
  if (listeners.empty()) return;
  std::lock_guard serial(notify_mu_);
  for (auto& l : listeners) {
    try {
      l(job);
    } catch (const std::exception& e) {
      spdlog::error(R"({{"msg":"finished listener threw","job_id":"{}","what":"{}"}})", job.job_id.str(), e.what());
    }
  }
}

void JobService::WriteMetaFile(const JobRecord& job) {
  // No fsync: the database is the durable record, the meta file its mirror.
  Status s = files_.Write(MetaPath(job), DumpJson(JobDetailJson(job, clock_.Now()), 2));
  if (!s.ok()) {
    spdlog::error(R"({{"msg":"meta write failed","job_id":"{}","error":{}}})", job.job_id.str(),
                  Json(s.message()).dump());
  }
}

namespace {
int StateRank(JobState s) { return IsTerminal(s) ? 2 : s == JobState::kRunning ? 1 : 0; }
}  // namespace

void JobService::WriteMeta(const JobRecord& job) {
  {
    std::unique_lock lock(meta_mu_);
    // A pending older version must not be written after this one, and one the writer thread
    // is writing right now must land first (its rename would otherwise replace this file).
    meta_pending_.erase(job.job_id);
    meta_done_cv_.wait(lock, [&] { return meta_in_flight_.count(job.job_id) == 0; });
  }
  WriteMetaFile(job);
}

void JobService::WriteMetaLater(const JobRecord& job) {
  {
    std::lock_guard lock(meta_mu_);
    if (!meta_stop_) {
      auto [it, inserted] = meta_pending_.try_emplace(job.job_id);
      if (!inserted && StateRank(it->second.record.status) > StateRank(job.status)) return;
      if (inserted || it->second.record.status != job.status) {
        // A new state is written once it is meta_delay old (QUEUED: after submit, RUNNING:
        // after start), unless a newer version replaces it first. The old position in
        // meta_order_ goes stale (its due time no longer matches).
        const auto due = std::chrono::steady_clock::now() + meta_delay_;
        const bool was_empty = meta_order_.empty();
        it->second.due = due;
        meta_order_.emplace_back(job.job_id, due);
        // The writer sleeps until the oldest entry is due (entries are due in order); only
        // an empty queue needs a wake-up.
        if (was_empty) meta_cv_.notify_one();
      }
      it->second.record = job;
      return;
    }
  }
  WriteMeta(job);  // writer stopped (shutdown): write it now
}

void JobService::MetaLoop() {
  for (;;) {
    JobRecord rec;
    {
      std::unique_lock lock(meta_mu_);
      for (;;) {
        while (!meta_order_.empty()) {  // drop superseded positions
          auto it = meta_pending_.find(meta_order_.front().first);
          if (it != meta_pending_.end() && it->second.due == meta_order_.front().second) break;
          meta_order_.pop_front();
        }
        if (meta_order_.empty()) {
          if (meta_stop_) return;
          meta_cv_.wait(lock);
          continue;
        }
        const auto due = meta_order_.front().second;
        if (meta_stop_ || due <= std::chrono::steady_clock::now()) break;
        meta_cv_.wait_until(lock, due);
      }
      auto it = meta_pending_.find(meta_order_.front().first);
      meta_order_.pop_front();
      rec = std::move(it->second.record);
      meta_pending_.erase(it);
      meta_in_flight_.insert(rec.job_id);  // a synchronous write of this job waits for it
    }
    WriteMetaFile(rec);
    {
      std::lock_guard lock(meta_mu_);
      meta_in_flight_.erase(rec.job_id);
    }
    meta_done_cv_.notify_all();
  }
}

void JobService::CachePut(const JobRecord& job) {
  auto entry = std::make_shared<CachedJob>();
  entry->record = job;
  std::lock_guard lock(cache_mu_);
  auto [it, inserted] = cache_.try_emplace(job.job_id);
  if (!inserted && it->second && StateRank(it->second->record.status) > StateRank(job.status)) {
    return;  // never move backwards
  }
  it->second = std::move(entry);
  if (inserted) {
    cache_order_.push_back(job.job_id);
    while (cache_.size() > kCacheCapacity && !cache_order_.empty()) {
      cache_.erase(cache_order_.front());
      cache_order_.pop_front();
    }
  }
}

void JobService::CacheDrop(const JobId& id) {
  std::lock_guard lock(cache_mu_);
  cache_.erase(id);  // its cache_order_ entry is harmless (erasing a missing id is a no-op)
}

std::shared_ptr<const JobService::CachedJob> JobService::CacheGet(const JobId& id) const {
  std::lock_guard lock(cache_mu_);
  auto it = cache_.find(id);
  return it == cache_.end() ? nullptr : it->second;
}

Status JobService::Persist(JobRecord& job, JobState expected) {
  const bool terminal = IsTerminal(job.status);
  // A terminal meta file is complete before anyone can see the terminal state (store or cache).
  if (terminal) WriteMeta(job);
  Status s = store_.UpdateJob(job, expected);
  if (!s.ok()) {
    spdlog::error(R"({{"msg":"job update failed","job_id":"{}","error":{}}})", job.job_id.str(),
                  Json(s.ToString()).dump());
    CacheDrop(job.job_id);  // the store knows better now
    if (terminal) {
      auto stored = store_.GetJob(job.job_id);  // mirror what the store really holds
      if (stored.ok()) WriteMeta(*stored);
    }
    return s;
  }
  if (!terminal) WriteMetaLater(job);
  CachePut(job);
  LogEvent(job);
  return s;
}

// One structured line per recorded state: {"msg":"job","job_id",...,"status",...}; RUNNING
// adds the queue wait, terminal states the exit code, duration and the first line of the error.
void JobService::LogEvent(const JobRecord& job) const {
  nlohmann::ordered_json e = {{"msg", "job"}, {"job_id", job.job_id.str()}, {"job_type", job.job_type},
                              {"status", JobStateName(job.status)}};  // in this order on the line
  if (job.dry_run) e["dry_run"] = true;
  if (job.status == JobState::kRunning && job.started_at) {
    e["queue_wait_sec"] = SecondsBetween(job.created_at, *job.started_at);
  }
  if (IsTerminal(job.status)) {
    if (job.exit_code) e["exit_code"] = *job.exit_code;
    if (job.started_at && job.ended_at) e["duration_sec"] = SecondsBetween(*job.started_at, *job.ended_at);
    if (job.error_message) e["error"] = job.error_message->substr(0, job.error_message->find('\n')).substr(0, 300);
    if (job.artifacts_parse_error) e["artifacts_parse_error"] = *job.artifacts_parse_error;
  }
  if (IsTerminal(job.status) && job.status != JobState::kSuccess) {
    spdlog::warn("{}", e.dump());
  } else {
    spdlog::info("{}", e.dump());
  }
}

Result<JobRecord> JobService::Submit(std::string_view job_type, const Json& params,
                                     const SubmitOptions& options) {
  ASSIGN_OR_RETURN(ResolvedJob resolved, catalog_.Resolve(job_type, params));
  if (!resolved.dry_run) AwaitAdmission();
  const TimePoint now = clock_.Now();
  JobRecord rec;
  rec.job_id = NewJobId(now);
  const std::string& id = rec.job_id.str();
  for (std::string& a : resolved.argv) {
    for (size_t p; (p = a.find("{job_id}")) != std::string::npos;) a.replace(p, 8, id);
  }
  rec.job_type = resolved.job_type;
  rec.status = JobState::kQueued;
  rec.created_at = now;
  rec.cwd = resolved.cwd.string();
  rec.command = resolved.argv;
  rec.args_preview = ArgsPreview(resolved.argv);
  rec.params = resolved.params;
  rec.log_path = "reports/jobs/runtime/" + id + ".log";
  rec.meta_path = "reports/jobs/runtime/" + id + ".json";
  rec.parent_id = options.parent_id;
  rec.source_job_id = options.source_job_id;
  rec.owner_id = options.owner_id;
  rec.dry_run = resolved.dry_run;
  rec.timeout_sec = resolved.timeout_sec;
  rec.env = Json::object();
  for (auto& [k, v] : resolved.env) {
    for (size_t p; (p = v.find("{job_id}")) != std::string::npos;) v.replace(p, 8, id);
    rec.env[k] = v;
  }
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return Status::Unavailable("the server is shutting down");
  }
  RETURN_IF_ERROR(store_.InsertJob(rec));
  CachePut(rec);
  LogEvent(rec);
  if (metrics_) metrics_->Increment("alphalab_jobs_submitted_total", {{"job_type", rec.job_type}});
  if (rec.dry_run) return RunDry(std::move(rec));
  // The QUEUED meta goes through the writer (due in meta_delay; replaced by the RUNNING or
  // terminal version if the job moves on sooner). Before the job is queued, so no newer
  // version of it can be pending yet.
  WriteMetaLater(rec);
  {
    std::lock_guard lock(mu_);
    if (pending_.empty()) last_progress_ = std::chrono::steady_clock::now();
    queue_.push_back(rec.job_id);
    pending_.emplace(rec.job_id, rec);
  }
  start_cv_.notify_one();
  // A starter may already have moved it on; the cache has the newest version then.
  if (auto c = CacheGet(rec.job_id); c && StateRank(c->record.status) > StateRank(rec.status)) {
    return c->record;
  }
  return rec;
}

void JobService::AwaitAdmission() {
  if (admit_backlog_ <= 0) return;
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + kAdmitMaxWait;
  while (!shutting_down_ && static_cast<int>(pending_.size()) >= admit_backlog_) {
    const auto now = std::chrono::steady_clock::now();
    // Not moving (every slot is held by a running job) or waited long enough: accept.
    if (now - last_progress_ >= kAdmitStall || now >= deadline) return;
    ++admit_waiters_;
    admit_cv_.wait_until(lock, std::min(deadline, last_progress_ + kAdmitStall));
    --admit_waiters_;
  }
}

Result<JobRecord> JobService::RunDry(JobRecord rec) {
  const Json argv_json = rec.command;
  std::string log = "[dry-run] job " + rec.job_id.str() + " (type " + rec.job_type +
                    ") would run the command below; nothing was executed.\n";
  log += "cwd: " + rec.cwd + "\n";
  log += "argv: " + DumpJson(argv_json) + "\n";
  log += "command: " + rec.args_preview + "\n";
  if (!rec.env.empty()) log += "env: " + DumpJson(rec.env) + "\n";
  if (rec.timeout_sec > 0) log += "timeout_sec: " + std::to_string(rec.timeout_sec) + "\n";
  log += "[dry-run] validation passed; status SUCCESS\n";
  RETURN_IF_ERROR(files_.Write(LogPath(rec), log));
  ASSIGN_OR_RETURN(JobState running, Transition(rec.status, JobEvent::kJobStarted));
  ASSIGN_OR_RETURN(JobState done, Transition(running, JobEvent::kJobSucceeded));
  const TimePoint now = clock_.Now();
  rec.status = done;
  rec.started_at = now;
  rec.ended_at = now;
  RETURN_IF_ERROR(Persist(rec, JobState::kQueued));
  if (metrics_) {
    metrics_->Increment("alphalab_jobs_finished_total", {{"job_type", rec.job_type}, {"status", "SUCCESS"}});
  }
  NotifyFinished(rec);
  return rec;
}

void JobService::StarterLoop() {
  for (;;) {
    std::shared_ptr<Active> a;
    std::unique_lock<std::mutex> alock;
    {
      std::unique_lock lock(mu_);
      start_cv_.wait(lock, [this] { return shutting_down_ || (running_ < capacity_ && !queue_.empty()); });
      if (shutting_down_) return;
      JobId id = std::move(queue_.front());
      queue_.pop_front();
      auto it = pending_.find(id);
      if (it == pending_.end()) continue;  // canceled while queued
      a = std::make_shared<Active>();
      a->record = std::move(it->second);
      // Locked before it is visible in active_: a Cancel() that finds it there waits until
      // the spawn is recorded (RUNNING, or FAILED when the spawn failed) and then stops it
      // through the executor; there is no moment where it is neither queued nor spawned.
      alock = std::unique_lock(a->mu);
      pending_.erase(it);
      active_.emplace(std::move(id), a);
      ++running_;
      last_progress_ = std::chrono::steady_clock::now();
      if (admit_waiters_ > 0) admit_cv_.notify_all();
    }
    const JobRecord& rec = a->record;
    ProcessSpec spec;
    spec.job_id = rec.job_id;
    spec.argv = rec.command;
    spec.cwd = rec.cwd;
    for (const auto& [k, v] : rec.env.items()) spec.env[k] = v.get<std::string>();
    spec.log_path = LogPath(rec);
    spec.timeout = std::chrono::seconds(rec.timeout_sec);
    // Starters spawn concurrently: the executor's Submit is mostly a wait (LocalExecutor: a
    // round trip to its process supervisor, which pipelines concurrent requests).
    const Result<std::string> ref = executor_.Submit(spec, MakeExitCallback(a));
    Started(a, alock, ref);
  }
}

ExitCallback JobService::MakeExitCallback(const std::shared_ptr<Active>& a) {
  return [this, a](const ProcessExit& exit) { OnExit(a, exit); };
}

void JobService::ReleaseSlot(const JobId& id) {
  {
    std::lock_guard lock(mu_);
    if (active_.erase(id) > 0) --running_;
  }
  idle_cv_.notify_all();
  start_cv_.notify_one();
}

void JobService::Started(const std::shared_ptr<Active>& a, std::unique_lock<std::mutex>& alock,
                         const Result<std::string>& ref) {
  JobRecord& rec = a->record;
  const TimePoint now = clock_.Now();
  if (!ref.ok()) {
    // Spawn failed: the job never ran (QUEUED -> FAILED), the reason is the spawn error.
    auto next = Transition(rec.status, JobEvent::kJobFailed);
    rec.status = next.ok() ? *next : JobState::kFailed;
    rec.ended_at = now;
    rec.error_message = "could not start: " + ref.status().message();
    Persist(rec, JobState::kQueued).ok();
    JobRecord done = rec;
    a->cv.notify_all();
    alock.unlock();
    ReleaseSlot(done.job_id);
    if (metrics_) {
      metrics_->Increment("alphalab_jobs_finished_total",
                          {{"job_type", done.job_type}, {"status", std::string(JobStateName(done.status))}});
    }
    NotifyFinished(done);
    return;
  }
  auto next = Transition(rec.status, JobEvent::kJobStarted);
  if (!next.ok()) {
    spdlog::error(R"({{"msg":"start refused","job_id":"{}","error":{}}})", rec.job_id.str(),
                  Json(next.status().message()).dump());
    return;
  }
  rec.status = *next;
  rec.started_at = now;
  rec.executor_ref = *ref;
  if (metrics_) {
    metrics_->Observe("queue_wait_seconds", SecondsBetween(rec.created_at, now), {{"job_type", rec.job_type}});
  }
  Persist(rec, JobState::kQueued).ok();
  alock.unlock();
}

void JobService::OnExit(const std::shared_ptr<Active>& a, const ProcessExit& exit) {
  {
    std::lock_guard lock(completions_mu_);
    completions_.push_back(Completion{a, exit});
  }
  completions_cv_.notify_one();
}

void JobService::CompletionLoop() {
  // One completion at a time; a second thread finishes another job meanwhile (the file and
  // database work of Finish waits on the kernel a lot). The freed slot goes to a starter.
  for (;;) {
    std::optional<Completion> c;
    {
      std::unique_lock lock(completions_mu_);
      completions_cv_.wait(lock, [this] { return completions_stop_ || !completions_.empty(); });
      if (completions_.empty() && completions_stop_) return;
      c = std::move(completions_.front());
      completions_.pop_front();
    }
    Finish(c->active, c->exit);  // frees the slot: a starter refills it
  }
}

void JobService::Finish(const std::shared_ptr<Active>& a, const ProcessExit& exit_in) {
  ProcessExit exit = exit_in;
  if (a->reattached && !exit.exit_code && !exit.signal && !exit.canceled && !exit.timed_out &&
      exit.error.rfind(kLostMessage, 0) != 0) {
    // A re-attached process that ended without leaving an exit record.
    exit.error = exit.error.empty() ? kLostMessage : std::string(kLostMessage) + " (" + exit.error + ")";
  }
  JobRecord done;
  {
    std::lock_guard alock(a->mu);
    JobRecord& rec = a->record;
    const JobState before = rec.status;
    JobEvent event = JobEvent::kJobFailed;
    if (exit.canceled) {
      event = JobEvent::kJobCanceled;
    } else if (exit.timed_out) {
      event = JobEvent::kJobTimedOut;
    } else if (exit.exit_code && *exit.exit_code == 0 && exit.error.empty()) {
      event = JobEvent::kJobSucceeded;
    } else if (!exit.exit_code && !exit.signal && exit.error.rfind(kLostMessage, 0) == 0) {
      event = JobEvent::kJobLost;
    }
    auto next = Transition(before, event);
    if (!next.ok() || *next == before) {
      a->cv.notify_all();
      return;  // terminal already (absorbed) or refused: nothing to record
    }
    const TimePoint now = clock_.Now();
    rec.status = *next;
    rec.ended_at = now;
    if (exit.exit_code) {
      rec.exit_code = *exit.exit_code;
    } else if (exit.signal) {
      rec.exit_code = -*exit.signal;  // like Python's Popen.returncode
    }
    const JobTypeSpec* spec = catalog_.Find(rec.job_type);
    // The log is only read when something is taken from it (artifacts, error summary).
    const bool need_tail = rec.status == JobState::kFailed || !spec || !spec->artifacts.empty();
    const std::string tail = need_tail ? ReadFileTail(LogPath(rec), kArtifactScanBytes) : std::string();
    if (spec) {
      rec.artifacts = ParseArtifacts(*spec, tail);
      if (rec.status != JobState::kCanceled) {
        std::string missing;
        for (const std::string& name : spec->required_artifacts) {
          if (!rec.artifacts.contains(name)) missing += (missing.empty() ? "" : ", ") + name;
        }
        if (!missing.empty()) {
          std::string patterns;
          for (const ArtifactRule& r : spec->artifacts) {
            if (!rec.artifacts.contains(r.name)) patterns += (patterns.empty() ? "" : "; ") + r.name + ": /" + r.pattern + "/";
          }
          rec.artifacts_parse_error = "missing artifact(s) " + missing +
                                      ": no log line matched (" + patterns + ")";
        }
      }
    } else {
      rec.artifacts_parse_error = "job type '" + rec.job_type + "' is no longer in the catalog";
    }
    if (rec.status == JobState::kFailed) {
      const std::string summary = SummarizeError(tail);
      const std::string why = Describe(exit, rec.timeout_sec);
      if (!exit.error.empty() || exit.timed_out || exit.signal) {
        rec.error_message = summary.empty() ? why : why + "; last output:\n" + summary;
      } else {
        rec.error_message = summary.empty() ? "process " + why + " and printed nothing" : summary;
      }
    }
    Persist(rec, before).ok();
    done = rec;
    a->cv.notify_all();
  }
  if (metrics_) {
    if (done.started_at && done.ended_at) {
      metrics_->Observe("job_exec_seconds", SecondsBetween(*done.started_at, *done.ended_at),
                        {{"job_type", done.job_type}});
    }
    metrics_->Increment("alphalab_jobs_finished_total",
                        {{"job_type", done.job_type}, {"status", std::string(JobStateName(done.status))}});
  }
  ReleaseSlot(done.job_id);
  NotifyFinished(done);
}

Result<JobRecord> JobService::Get(const JobId& id) {
  if (auto c = CacheGet(id)) return c->record;
  return store_.GetJob(id);
}

Result<std::string> JobService::DetailBody(const JobId& id, TimePoint now) {
  if (auto c = CacheGet(id)) {
    if (c->record.status == JobState::kRunning) return DumpJson(JobDetailJson(c->record, now));
    // Any other state's detail does not depend on `now`: serialized once, on first use.
    std::call_once(c->body_once, [&] { c->body = DumpJson(JobDetailJson(c->record, now)); });
    return c->body;
  }
  ASSIGN_OR_RETURN(JobRecord rec, store_.GetJob(id));
  return DumpJson(JobDetailJson(rec, now));
}

Result<std::vector<JobRecord>> JobService::List(const JobQuery& query) { return store_.ListJobs(query); }

Result<int64_t> JobService::Count(const JobQuery& query) { return store_.CountJobs(query); }

Result<JobRecord> JobService::Cancel(const JobId& id) {
  std::shared_ptr<Active> a;
  {
    std::unique_lock lock(mu_);
    auto pit = pending_.find(id);
    if (pit != pending_.end()) {
      JobRecord rec = std::move(pit->second);
      pending_.erase(pit);
      lock.unlock();
      ASSIGN_OR_RETURN(JobState next, Transition(rec.status, JobEvent::kJobCanceled));
      rec.status = next;
      rec.ended_at = clock_.Now();
      RETURN_IF_ERROR(Persist(rec, JobState::kQueued));
      if (metrics_) {
        metrics_->Increment("alphalab_jobs_finished_total", {{"job_type", rec.job_type}, {"status", "CANCELED"}});
      }
      idle_cv_.notify_all();
      NotifyFinished(rec);
      return rec;
    }
    auto ait = active_.find(id);
    if (ait != active_.end()) a = ait->second;
  }
  if (!a) {
    ASSIGN_OR_RETURN(JobRecord rec, Get(id));
    if (IsTerminal(rec.status)) {
      return Status::FailedPrecondition(
          "job " + id.str() + " already ended with status " + std::string(JobStateName(rec.status)),
          Json{{"job_id", id.str()}, {"status", std::string(JobStateName(rec.status))}});
    }
    return Status::FailedPrecondition("job " + id.str() + " is not managed by this server",
                                      Json{{"job_id", id.str()}});
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

bool JobService::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return running_ == 0 && pending_.empty(); });
}

Status JobService::Recover() {
  ASSIGN_OR_RETURN(std::vector<JobRecord> running, store_.ListJobsInStates({JobState::kRunning}, 1000000));
  int reattached = 0, lost = 0;
  for (JobRecord& rec : running) {
    auto a = std::make_shared<Active>();
    a->record = rec;
    a->reattached = true;
    bool alive = false;
    std::string why = kLostMessage;
    if (rec.executor_ref && !rec.executor_ref->empty()) {
      {
        std::lock_guard lock(mu_);
        active_.emplace(rec.job_id, a);
        ++running_;
      }
      auto r = executor_.Reattach(rec.job_id, *rec.executor_ref, LogPath(rec), MakeExitCallback(a));
      if (r.ok() && *r) {
        alive = true;
        ++reattached;
        std::lock_guard alock(a->mu);
        auto next = Transition(a->record.status, JobEvent::kJobReattached);
        if (next.ok()) a->record.status = *next;
      } else {
        if (!r.ok()) why = std::string(kLostMessage) + " (" + r.status().message() + ")";
        std::lock_guard lock(mu_);
        active_.erase(rec.job_id);
        --running_;
      }
    }
    if (!alive) {
      ++lost;
      ProcessExit exit;
      exit.job_id = rec.job_id;
      exit.error = why;
      {
        std::lock_guard lock(mu_);
        active_.emplace(rec.job_id, a);
        ++running_;
      }
      Finish(a, exit);
    }
  }
  ASSIGN_OR_RETURN(std::vector<JobRecord> queued, store_.ListJobsInStates({JobState::kQueued}, 1000000));
  {
    std::lock_guard lock(mu_);
    for (JobRecord& rec : queued) {
      if (pending_.count(rec.job_id) || active_.count(rec.job_id)) continue;
      queue_.push_back(rec.job_id);
      pending_.emplace(rec.job_id, std::move(rec));
    }
  }
  start_cv_.notify_one();
  spdlog::info(R"({{"msg":"recovery","reattached":{},"lost":{},"requeued":{}}})", reattached, lost, queued.size());
  return Status::Ok();
}

}  // namespace alphalab

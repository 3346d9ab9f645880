#include "optimize/builtin_backtest_runner.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "core/ids.hpp"
#include "core/parallel_for.hpp"
#include "engine/backtest/job_config.hpp"
#include "engine/backtest/runner.hpp"
#include "jobs/inprocess_jobs.hpp"
#include "jobs/inprocess_journal.hpp"
#include "jobs/job_results.hpp"

namespace alphalab::optimize {

namespace {

constexpr std::string_view kBacktest = "backtest";

// One task of a chunk on its way to a recorded job.
struct Slot {
  JobRecord job;
  bool created = false;                            // the catalog accepted its parameters
  std::optional<engine::PreparedBacktest> run;     // prepared: it runs
  std::string output;                              // what the process would have printed
  int exit_code = 0;
  TimePoint started{}, ended{};
  bool finished = false;                           // log written, terminal fields set
  Result<ParsedResult> result = Status::FailedPrecondition("the task did not succeed");
  std::string result_summary_id;                   // its bt_run_id, from its result file
  std::string bt_run_id;                           // its backtests/<bt_run_id>/, chosen when prepared
  std::string summary_json;                        // the summary.json text it wrote ("" when none)
  Json summary;                                    // the tree that text was dumped from (null when none)
  KnownResult known;                               // its result file and summary.json text, once ended
  std::optional<JobResult> written_result;         // the result file WriteSingleRun wrote
};

// The data one group of tasks reads, loaded once per Run.
struct LoadedContext {
  engine::BacktestSpec spec;
  Result<engine::BacktestContext> context = Status::Internal("not loaded");
};

}  // namespace

BuiltinBacktestBatchRunner::BuiltinBacktestBatchRunner(JobService& jobs, const JobCatalog& catalog,
                                                       const Workspace& workspace, const Clock& clock, int threads)
    : jobs_(jobs), catalog_(catalog), workspace_(workspace), clock_(clock), threads_(threads) {}

bool BuiltinBacktestBatchRunner::Accepts(std::string_view job_type, const Json& base_params) const {
  if (job_type != kBacktest || !base_params.is_object()) return false;
  auto config = base_params.find("config_path");
  if (config == base_params.end() || !config->is_string() || config->get<std::string>().empty()) return false;
  if (auto dry = base_params.find("dry_run"); dry != base_params.end()) {
    if (*dry == true || *dry == "true") return false;
  }
  return true;
}

Status BuiltinBacktestBatchRunner::Run(const std::string& optimization_id, std::optional<std::string> owner_id,
                                       const std::string& project,
                                       std::span<const BatchTask> tasks,
                                       const std::function<void(BatchTaskResult&&)>& on_done,
                                       const std::function<bool()>& should_stop) {
  engine::ModelCache models(workspace_);
  engine::ConfigFileCache files;
  const engine::ScorerFactory scorers = models.Factory();
  std::vector<std::unique_ptr<LoadedContext>> contexts;
  // backtests/ opened confined once for all the tasks' folders; when it cannot be, each task
  // tries again and fails as `alphalab backtest` would (WriteSingleRun).
  auto backtests = engine::OpenBacktestsFolder(workspace_);
  const int backtests_fd = backtests.ok() ? backtests->get() : -1;
  const size_t workers =
      threads_ > 0 ? static_cast<size_t>(threads_) : std::max(1u, std::thread::hardware_concurrency());
  SubmitOptions options;
  options.parent_id = optimization_id;
  options.owner_id = std::move(owner_id);
  if (!project.empty()) options.project = project;  // the task jobs carry the optimization's project

  // Ends a slot as the process would have ended: its log, its terminal fields, its result.
  auto finish = [&](Slot& s) {
    if (!s.created) return;  // FailedToStart made it terminal already
    if (Status w = WriteInProcessLog(workspace_, s.job, s.output); !w.ok()) {
      // The process path would have failed to start without a log: the same end here.
      s.job = FailedToStart(jobs_, kBacktest, s.job.params, options, w, s.ended);
      s.created = false;
      return;
    }
    FinishInProcess(s.job, catalog_, s.output, s.exit_code, s.started, s.ended,
                    s.written_result ? &*s.written_result : nullptr);
    if (s.job.status == JobState::kSuccess && !s.summary_json.empty()) {
      // What ReadJobMetrics would read back from the files just written: the result file
      // names backtests/<bt_run_id>/summary.json, whose text is in memory.
      // (From the tree the text was dumped from: the same result without parsing the text.)
      auto parsed = s.summary.is_object() ? ParseAlphalabSummaryJson(s.summary)
                                          : ParseResultText(ResultParserKind::kAlphalabSummary, s.summary_json);
      s.summary = Json();
      if (parsed.ok()) {
        s.result = std::move(*parsed);
        s.result_summary_id = s.bt_run_id;
      } else {
        s.result = parsed.status().WithContext("backtests/" + s.bt_run_id + "/summary.json");
      }
      // The registry indexes the folder from this text (KnownResult), not from the files.
      s.known.result = JobResult::Backtest(s.job.job_id.str(), s.bt_run_id);
      s.known.summary_text = std::move(s.summary_json);
    } else if (s.job.status == JobState::kSuccess) {
      auto read = ReadJobMetrics(workspace_, *catalog_.Find(kBacktest), s.job);
      if (read.ok()) {
        s.result = std::move(read->parsed);
        s.result_summary_id = std::move(read->result_summary_id);
      } else {
        s.result = read.status();
      }
    }
  };
  auto fail = [&](Slot& s, const Status& why) {
    s.output = engine::FailureText(why);
    s.exit_code = engine::FailureExitCode(why);
    s.ended = clock_.Now();
  };

  for (size_t from = 0; from < tasks.size(); from += kChunk) {
    if (should_stop && should_stop()) return Status::Ok();
    const size_t n = std::min(kChunk, tasks.size() - from);
    std::vector<Slot> slots(n);
    const TimePoint created = clock_.Now();
    // 1. catalog and preparation on all cores (the model and config caches lock).
    ParallelFor(n, workers, [&](size_t i) {
      Slot& s = slots[i];
      const Json& params = tasks[from + i].params;
      auto job = CreateInProcess(jobs_, catalog_, kBacktest, params, options, created, &files.paths());
      if (!job.ok()) {
        s.job = FailedToStart(jobs_, kBacktest, params, options, job.status(), created);
        return;
      }
      s.job = std::move(*job);
      s.created = true;
      s.started = clock_.Now();
      auto run = engine::PrepareBacktest(workspace_, engine::FlagsFromJobParams(s.job.params), models, &files);
      if (!run.ok()) {
        fail(s, run.status());
        return;
      }
      s.run = std::move(*run);
      s.bt_run_id = MakeTimestampedId("bt", clock_.Now());
    });
    // The chunk's jobs are journaled before any of their files is written: a kill before
    // their rows exist leaves files that the next start deletes and the registry skips.
    std::vector<InProcessJournalEntry> entries;
    entries.reserve(n);
    for (const Slot& s : slots) entries.push_back({s.job.job_id.str(), s.bt_run_id});
    ASSIGN_OR_RETURN(InProcessJournal journal, InProcessJournal::Begin(workspace_, entries));
    // 2. groups by the data they load, in order of first appearance.
    std::vector<std::vector<size_t>> groups;
    for (size_t i = 0; i < n; ++i) {
      if (!slots[i].run) continue;
      bool placed = false;
      for (auto& g : groups) {
        if (engine::SameContext(slots[g.front()].run->spec, slots[i].run->spec)) {
          g.push_back(i);
          placed = true;
          break;
        }
      }
      if (!placed) groups.push_back({i});
    }
    // Tasks that failed in preparation end now (refused by the catalog: nothing to do).
    for (Slot& s : slots) {
      if (s.run) continue;
      finish(s);
      s.finished = true;
    }
    // 3. each group on all cores, on a compute thread: outputs and logs written by the
    // workers; 4. meanwhile this thread records the chunk in task order, kRecordBatch tasks at
    // a time as soon as they have all ended, and reports them (a pipeline: the rows and the
    // registry of the first tasks are written while the later ones still run).
    std::mutex done_mu;
    std::condition_variable done_cv;
    bool compute_over = false;  // the compute thread returned (under done_mu)
    std::vector<char> ended_flag(n, 0);  // per slot: it has ended (under done_mu)
    for (size_t i = 0; i < n; ++i) ended_flag[i] = slots[i].finished ? 1 : 0;
    auto mark_ended = [&](size_t i) {
      {
        std::lock_guard<std::mutex> lock(done_mu);
        ended_flag[i] = 1;
      }
      done_cv.notify_one();
    };
    Status ran = Status::Ok();
    std::thread compute([&] {
      // The sweep yields to the server's request threads: this thread and the engine workers it
      // starts (threads inherit it) run at nice +5, so status polls and pages stay quick while
      // the backtests fill every core; with nothing else to run they still take all of it.
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 5);
      for (const auto& group : groups) {
        const engine::BacktestSpec& first = slots[group.front()].run->spec;
        LoadedContext* loaded = nullptr;
        for (auto& c : contexts) {
          if (engine::SameContext(c->spec, first)) loaded = c.get();
        }
        if (!loaded) {
          contexts.push_back(std::make_unique<LoadedContext>());
          loaded = contexts.back().get();
          loaded->spec = first;
          loaded->context = engine::BacktestContext::Load(workspace_, first);
        }
        if (!loaded->context.ok()) {
          for (size_t i : group) {
            fail(slots[i], loaded->context.status());
            finish(slots[i]);
            slots[i].finished = true;
            mark_ended(i);
          }
          continue;
        }
        engine::BacktestContext& context = *loaded->context;
        std::vector<engine::BacktestSpec> specs;
        specs.reserve(group.size());
        for (size_t i : group) specs.push_back(slots[i].run->spec);
        Status st = engine::RunSpecs(
            context, specs, scorers, engine::RunOptions{.threads = threads_, .record_curves = true},
            [&](size_t k, Result<engine::BacktestResult>&& result) {
              Slot& s = slots[group[k]];
              if (!result.ok()) {
                fail(s, result.status());
              } else {
                const TimePoint now = clock_.Now();
                JobResult written;  // its id is set once the result file is written
                auto out = engine::WriteSingleRun(workspace_, *s.run, context, *result, s.bt_run_id, now,
                                                  models.RunId(s.run->spec.model_path), s.job.job_id.str(),
                                                  &s.summary_json, backtests_fd, &s.summary, &written);
                if (!out.ok()) {
                  fail(s, out.status());
                } else {
                  if (!written.id.empty()) s.written_result = std::move(written);
                  s.output = std::move(*out);
                  s.exit_code = 0;
                  s.ended = clock_.Now();
                }
              }
              finish(s);
              s.finished = true;
              // Its prepared run (the config tree above all) is freed here, on the worker, in
              // parallel: freed with the chunk's slots it would be serial work between chunks.
              // RunSpecs is done with specs[k] once this callback runs.
              s.run.reset();
              specs[k].config.reset();
              mark_ended(group[k]);
            });
        if (!st.ok()) {  // the groups share their data: cannot happen
          ran = st;
          break;
        }
      }
      {
        std::lock_guard<std::mutex> lock(done_mu);
        compute_over = true;
      }
      done_cv.notify_one();
    });
    Status recorded = Status::Ok();
    for (size_t b = 0, e = 0; b < n && recorded.ok(); b = e) {
      e = RecordBatchEnd(b, n);
      {
        std::unique_lock<std::mutex> lock(done_mu);
        done_cv.wait(lock, [&] {
          return compute_over || std::all_of(ended_flag.begin() + static_cast<std::ptrdiff_t>(b),
                                             ended_flag.begin() + static_cast<std::ptrdiff_t>(e),
                                             [](char f) { return f != 0; });
        });
        if (!std::all_of(ended_flag.begin() + static_cast<std::ptrdiff_t>(b),
                         ended_flag.begin() + static_cast<std::ptrdiff_t>(e), [](char f) { return f != 0; })) {
          break;  // the compute thread stopped early (its error is returned below)
        }
      }
      std::vector<JobRecord> records;
      std::vector<KnownResult> known;
      records.reserve(e - b);
      known.reserve(e - b);
      for (size_t i = b; i < e; ++i) {
        records.push_back(slots[i].job);
        known.push_back(std::move(slots[i].known));
      }
      recorded = jobs_.RecordFinished(records, known);
      if (!recorded.ok()) break;
      for (size_t i = b; i < e; ++i) {
        BatchTaskResult r;
        r.index = tasks[from + i].index;
        r.job = std::move(slots[i].job);
        r.result = std::move(slots[i].result);
        r.result_summary_id = std::move(slots[i].result_summary_id);
        on_done(std::move(r));
      }
    }
    compute.join();
    RETURN_IF_ERROR(recorded);
    RETURN_IF_ERROR(ran);
    // Every row is in. A journal left behind (its removal failed) is harmless: all its jobs
    // have rows, so nothing of it is skipped or deleted, and the next start removes it.
    (void)journal.Commit();
  }
  return Status::Ok();
}

std::unique_ptr<TaskBatchRunner> MakeBuiltinBacktestBatchRunner(JobService& jobs, const JobCatalog& catalog,
                                                                const Workspace& workspace, const Clock& clock) {
  return std::make_unique<BuiltinBacktestBatchRunner>(jobs, catalog, workspace, clock);
}

}  // namespace alphalab::optimize

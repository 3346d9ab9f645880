// The optimization fast path (optimize/builtin_backtest_runner.hpp) against the real thing:
// every task runs BOTH as a process job through JobService (local executor, the real
// `bin/alphalab backtest`) AND through the runner, and the two are compared: the job row
// (status, end_reason, exit code, artifacts, command, params, error), the log bytes, the meta
// file, summary.json and every file in backtests/<bt_run_id>/ byte for byte, with ids and
// timestamps masked. Plus chunking and should_stop, on_done order, listeners and metrics.
#include "optimize/builtin_backtest_runner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <span>
#include <string>
#include <vector>

#include "app/composition_root.hpp"
#include "core/job_result.hpp"
#include "exec/local/local_executor.hpp"
#include "flows/flow_support.hpp"
#include "jobs/inprocess_journal.hpp"
#include "jobs/metrics.hpp"
#include "registry/registry_service.hpp"
#include "store/job_store.hpp"

namespace alphalab::optimize {
namespace {

namespace fs = std::filesystem;
using flows::FlowWorkspace;
using flows::Slurp;
using namespace std::chrono_literals;

// Ids (bt_..., job_...) and ISO timestamps replaced by placeholders.
std::string Mask(std::string text) {
  static const std::regex id(R"((bt|job)_\d{8}_\d{6}__[0-9a-f]{8})");
  static const std::regex ts(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z)");
  text = std::regex_replace(text, id, "$1_<id>");
  return std::regex_replace(text, ts, "<time>");
}

struct Harness {
  FlowWorkspace dir;
  Workspace ws = Workspace::Open(dir.root()).value();
  std::unique_ptr<app::Stores> stores =
      app::Stores::Open(ws, DbUrl::Parse("sqlite:alphalab.db").value()).value();
  std::unique_ptr<LocalExecutor> executor = [] {
    LocalExecutorOptions o;
    o.slots = 2;
    return LocalExecutor::Create(o).value();
  }();
  JobCatalog catalog{ws, flows::AlphalabBin()};
  Metrics metrics;
  JobService jobs{stores->jobs(), *executor, catalog, ws, SystemClock::Instance(), &metrics};
  BuiltinBacktestBatchRunner runner{jobs, catalog, ws, SystemClock::Instance(), 2};

  ~Harness() {
    jobs.Shutdown();
    executor->Shutdown();
  }

  // The task as a process job, to its end.
  JobRecord RunAsProcess(const Json& params) {
    SubmitOptions options;
    options.parent_id = "opt_process";
    options.project = "p18";  // as the process path gives its task jobs the optimization's project
    auto submitted = jobs.Submit("backtest", params, options);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    if (!submitted.ok()) return {};
    EXPECT_TRUE(jobs.WaitIdle(120s));
    return stores->jobs().GetJob(submitted->job_id).value();
  }

  std::vector<BatchTaskResult> RunFast(const std::vector<Json>& params, const std::function<bool()>& stop = {}) {
    std::vector<BatchTask> tasks;
    for (size_t i = 0; i < params.size(); ++i) tasks.push_back(BatchTask{static_cast<int64_t>(i) + 100, params[i]});
    std::vector<BatchTaskResult> out;
    Status s = runner.Run("opt_fast", std::string("alice"), "p18", tasks, [&](BatchTaskResult&& r) { out.push_back(std::move(r)); },
                          stop ? stop : [] { return false; });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
};

Json Params(std::vector<std::string> overrides, Json extra = Json::object()) {
  Json p = {{"config_path", "configs/backtest/base.yaml"}, {"tickers", {"SPX"}}, {"overrides", overrides}};
  for (auto it = extra.begin(); it != extra.end(); ++it) p[it.key()] = it.value();
  return p;
}

// Files of a backtest folder, summary.json masked (bt_run_id, created_at).
std::map<std::string, std::string> Folder(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files[e.path().filename().string()] = Mask(Slurp(e.path()));
  return files;
}

void ExpectSameJob(Harness& h, const JobRecord& process, const BatchTaskResult& fast, const std::string& what) {
  SCOPED_TRACE(what);
  const JobRecord& job = fast.job;
  // The row as stored, not only what on_done carried.
  const JobRecord stored = h.stores->jobs().GetJob(job.job_id).value();
  for (const JobRecord* r : {&job, &stored}) {
    EXPECT_EQ(r->status, process.status);
    EXPECT_EQ(r->end_reason, process.end_reason);
    EXPECT_EQ(r->exit_code, process.exit_code);
    EXPECT_EQ(r->command, process.command);
    EXPECT_EQ(r->args_preview, process.args_preview);
    EXPECT_EQ(r->params, process.params);
    EXPECT_EQ(r->cwd, process.cwd);
    EXPECT_EQ(r->job_type, process.job_type);
    EXPECT_EQ(r->artifacts_parse_error.has_value(), process.artifacts_parse_error.has_value());
    EXPECT_EQ(Mask(r->artifacts_parse_error.value_or("")), Mask(process.artifacts_parse_error.value_or("")));
    EXPECT_EQ(Mask(r->error_message.value_or("")), Mask(process.error_message.value_or("")));
    EXPECT_EQ(Mask(r->artifacts.dump()), Mask(process.artifacts.dump()));
    EXPECT_EQ(r->parent_id, std::optional<std::string>("opt_fast"));
    EXPECT_EQ(r->owner_id, std::optional<std::string>("alice"));
    EXPECT_EQ(r->project, "p18");  // the optimization's project, as on the process path
    EXPECT_EQ(r->project, process.project);
    EXPECT_EQ(r->log_path, "reports/jobs/runtime/" + job.job_id.str() + ".log");
    EXPECT_TRUE(r->started_at && r->ended_at);
    EXPECT_LE(r->created_at, *r->started_at);
    EXPECT_LE(*r->started_at, *r->ended_at);
  }
  EXPECT_EQ(stored.artifacts, job.artifacts);
  // Log bytes.
  const std::string process_log = Slurp(h.ws.root() / process.log_path);
  const std::string fast_log = Slurp(h.ws.root() / job.log_path);
  EXPECT_FALSE(fast_log.empty());
  EXPECT_EQ(Mask(fast_log), Mask(process_log));
  // Meta file: the same document apart from ids, times and what differs by design.
  auto meta_fast = ParseJson(Slurp(h.ws.root() / job.meta_path)).value();
  auto meta_process = ParseJson(Slurp(h.ws.root() / process.meta_path)).value();
  for (auto* m : {&meta_fast, &meta_process}) {
    for (const char* k : {"parent_id", "owner_id", "executor_ref", "max_inflight", "duration_sec"}) m->erase(k);
  }
  EXPECT_EQ(Mask(meta_fast.dump()), Mask(meta_process.dump()));
  // Result files (core/job_result.hpp): the same document apart from ids, or none for both.
  const fs::path result_fast = h.ws.root() / JobResultPath(job.job_id.str());
  const fs::path result_process = h.ws.root() / JobResultPath(process.job_id.str());
  EXPECT_EQ(fs::exists(result_fast), fs::exists(result_process));
  EXPECT_EQ(fs::exists(result_fast), process.status == JobState::kSuccess);
  if (fs::exists(result_fast) && fs::exists(result_process)) {
    EXPECT_EQ(Mask(Slurp(result_fast)), Mask(Slurp(result_process)));
    EXPECT_EQ(ReadJobResult(h.ws.root(), job.job_id.str()).value().Artifacts(), job.artifacts);
  }
  // Outputs.
  if (process.status == JobState::kSuccess) {
    const std::string id = job.artifacts.at("bt_run_id").get<std::string>();
    EXPECT_EQ(fast.result_summary_id, id);
    const fs::path fast_dir = h.ws.BacktestsDir() / id;
    const fs::path process_dir = h.ws.BacktestsDir() / process.artifacts.at("bt_run_id").get<std::string>();
    EXPECT_EQ(Folder(fast_dir), Folder(process_dir));
    auto s_fast = ParseJson(Slurp(fast_dir / "summary.json")).value();
    auto s_process = ParseJson(Slurp(process_dir / "summary.json")).value();
    EXPECT_EQ(s_fast["bt_run_id"], id);
    // each names the job that ran it (the fast path's task job, the process's own job)
    EXPECT_EQ(s_fast["job_id"], job.job_id.str());
    EXPECT_EQ(s_process["job_id"], process.job_id.str());
    for (auto* s : {&s_fast, &s_process}) {
      s->erase("bt_run_id");
      s->erase("created_at");
      s->erase("job_id");
    }
    EXPECT_EQ(s_fast, s_process);
    ASSERT_TRUE(fast.result.ok()) << fast.result.status().ToString();
    EXPECT_EQ(fast.result->metrics.at("final_equity"), s_process["final_equity"].get<double>());
  } else {
    EXPECT_EQ(fast.result_summary_id, "");
    EXPECT_FALSE(fast.result.ok());
  }
}

TEST(FastPathTest, EachTaskEqualsTheSameJobRunAsAProcess) {
  Harness h;
  const std::vector<std::pair<std::string, Json>> cases = {
      {"sma_cross", Params({"strategy.params.fast=5", "strategy.params.slow=40"})},
      {"sma_cross with dates and fees",
       Params({"strategy.params.fast=20", "fee_bps=25"}, {{"start", "2005-01-03"}, {"end", "2012-06-29"}})},
      {"signal on momentum scores (scores.csv)",
       Params({"strategy={type: signal, params: {score: momentum, momentum_window: 40, cutoff: 0.01}}"})},
      {"bad override value", Params({"strategy.params.fast=abc"})},
      {"unknown ticker (fails when the data loads)", Params({}, {{"tickers", {"NOPE"}}})},
      {"missing model file", Params({}, {{"overrides", {"strategy={type: signal, params: {model_path: runs/x/model.json}}"}}})},
  };
  std::vector<Json> params;
  for (const auto& c : cases) params.push_back(c.second);
  const auto fast = h.RunFast(params);
  ASSERT_EQ(fast.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(fast[i].index, static_cast<int64_t>(i) + 100);  // task order
    const JobRecord process = h.RunAsProcess(cases[i].second);
    ExpectSameJob(h, process, fast[i], cases[i].first);
  }
  // The expected outcomes themselves (so equal-but-wrong cannot pass).
  EXPECT_EQ(fast[0].job.status, JobState::kSuccess);
  EXPECT_EQ(fast[1].job.status, JobState::kSuccess);
  EXPECT_EQ(fast[2].job.status, JobState::kSuccess);
  EXPECT_TRUE(fs::exists(h.ws.BacktestsDir() / fast[2].result_summary_id / "scores.csv"));
  for (size_t i : {3u, 4u, 5u}) {
    EXPECT_EQ(fast[i].job.status, JobState::kFailed) << i;
    EXPECT_EQ(fast[i].job.end_reason, EndReason::kExitCode) << i;
    EXPECT_EQ(fast[i].job.exit_code, 2) << i;
    EXPECT_EQ(Slurp(h.ws.root() / fast[i].job.log_path).rfind("error: ", 0), 0u) << i;
  }
}

TEST(FastPathTest, ModelTasksEqualTheSameJobsRunAsProcesses) {
  Harness h;
  // A small real model (5 rounds on the demo data).
  flows::CmdResult t = flows::RunAlphalab({"train", "--config", "configs/base.yaml", "--set", "model.params.num_round=5",
                                           "--set", "model.params.nthread=1", "--workspace", h.ws.root().string()},
                                          h.ws.root());
  ASSERT_EQ(t.exit_code, 0) << flows::Describe(t);
  const std::string run_id = flows::OutputValue(t.out, "run_id");
  const std::string model = "runs/" + run_id + "/model_SPX.json";
  const std::vector<std::pair<std::string, Json>> cases = {
      {"--model: sma_cross becomes signal", Params({}, {{"model_path", model}})},
      {"signal with a cutoff", Params({"strategy={type: signal, params: {model_path: " + model + ", cutoff: 0.45}}"})},
      {"topn on the model", Params({"strategy={type: topn, params: {model_path: " + model + ", top_n: 1}}"})},
  };
  std::vector<Json> params;
  for (const auto& c : cases) params.push_back(c.second);
  const auto fast = h.RunFast(params);
  ASSERT_EQ(fast.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(fast[i].job.status, JobState::kSuccess) << cases[i].first << ": " << fast[i].job.error_message.value_or("");
    ExpectSameJob(h, h.RunAsProcess(cases[i].second), fast[i], cases[i].first);
    if (fast[i].job.status != JobState::kSuccess) continue;
    const auto summary = ParseJson(Slurp(h.ws.BacktestsDir() / fast[i].result_summary_id / "summary.json")).value();
    EXPECT_EQ(summary["model_run_id"], run_id) << cases[i].first;
    EXPECT_TRUE(fs::exists(h.ws.BacktestsDir() / fast[i].result_summary_id / "scores.csv"));
  }
}

TEST(FastPathTest, ChunksStopWhenAskedAndReportInTaskOrder) {
  Harness h;
  std::atomic<int> finished{0};
  h.jobs.AddFinishedListener([&](const JobRecord& j) {
    if (j.parent_id == std::optional<std::string>("opt_fast")) ++finished;
  });
  // The recording steps as the registry sees them (batch listeners run on Run's thread).
  std::vector<std::vector<std::string>> batches;
  h.jobs.AddFinishedBatchListener([&](std::span<const JobRecord> done) {
    if (done.empty() || done.front().parent_id != std::optional<std::string>("opt_fast")) return;
    std::vector<std::string> ids;
    for (const JobRecord& j : done) ids.push_back(j.job_id.str());
    batches.push_back(std::move(ids));
  });
  std::vector<Json> params;
  const size_t n = BuiltinBacktestBatchRunner::kChunk + 20;
  for (size_t i = 0; i < n; ++i) {
    params.push_back(Params({"strategy.params.fast=" + std::to_string(2 + i % 40),
                             "strategy.params.slow=" + std::to_string(50 + i / 40)}));
  }
  int asked = 0;
  const auto fast = h.RunFast(params, [&] { return ++asked > 1; });  // stop before the second chunk
  ASSERT_EQ(fast.size(), BuiltinBacktestBatchRunner::kChunk);
  for (size_t i = 0; i < fast.size(); ++i) {
    EXPECT_EQ(fast[i].index, static_cast<int64_t>(i) + 100);
    EXPECT_EQ(fast[i].job.status, JobState::kSuccess);
  }
  JobQuery q;
  q.parent_id = "opt_fast";
  EXPECT_EQ(h.jobs.Count(q).value(), static_cast<int64_t>(BuiltinBacktestBatchRunner::kChunk));  // nothing else started
  EXPECT_EQ(finished.load(), static_cast<int>(BuiltinBacktestBatchRunner::kChunk));
  EXPECT_EQ(h.metrics.CounterValue("alphalab_jobs_finished_total", {{"job_type", "backtest"}, {"status", "SUCCESS"}}),
            static_cast<double>(BuiltinBacktestBatchRunner::kChunk));
  // A folder with its 6 files (sma_cross writes no scores.csv) per started task, no more.
  EXPECT_EQ(flows::Tree(h.ws.BacktestsDir()).size(), BuiltinBacktestBatchRunner::kChunk * 7);
  // The cache answers like the store.
  EXPECT_EQ(h.jobs.Get(fast[7].job.job_id).value().artifacts, fast[7].job.artifacts);
  // Recorded while the chunk ran: in task order, each job once, kRecordBatch jobs at a time and
  // halving toward the chunk's end (64, 64, 64, 32, 16, 8, 8 of 256).
  std::vector<size_t> sizes;
  for (const auto& b : batches) sizes.push_back(b.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{64, 64, 64, 32, 16, 8, 8}));
  EXPECT_EQ(BuiltinBacktestBatchRunner::RecordBatchEnd(0, 5), 5u);
  EXPECT_EQ(BuiltinBacktestBatchRunner::RecordBatchEnd(0, 20), 10u);
  EXPECT_EQ(BuiltinBacktestBatchRunner::RecordBatchEnd(10, 20), 18u);
  EXPECT_EQ(BuiltinBacktestBatchRunner::RecordBatchEnd(18, 20), 20u);
  std::vector<std::string> order;
  for (const auto& b : batches) order.insert(order.end(), b.begin(), b.end());
  ASSERT_EQ(order.size(), fast.size());
  for (size_t i = 0; i < fast.size(); ++i) EXPECT_EQ(order[i], fast[i].job.job_id.str()) << i;
}

// The registry indexes each fast-path backtest from the summary.json text the runner hands it
// (KnownResult) instead of reading the folder back: the texts are the files, the result is the
// result file's, and the rows equal those a full index reads from the folders.
TEST(FastPathTest, TheRegistryIndexesFromTheTextsTheRowsItsFoldersGive) {
  Harness h;
  RegistryService registry(h.ws, h.stores->registry(), &h.stores->jobs(), SystemClock::Instance());
  std::vector<KnownResult> handed;
  h.jobs.AddFinishedBatchListener([&](std::span<const JobRecord> done, std::span<const KnownResult> known) {
    EXPECT_EQ(known.size(), done.size());
    handed.insert(handed.end(), known.begin(), known.end());
    auto r = registry.OnJobsFinished(done, known);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      EXPECT_TRUE(r->problems.empty());
    }
  });
  std::vector<Json> params;
  for (int i = 0; i < 5; ++i) {
    params.push_back(Params({"strategy.params.fast=" + std::to_string(5 + i), "strategy.params.slow=" + std::to_string(40 + 7 * i)}));
  }
  params.push_back(Params({"strategy.params.fast=0", "strategy.params.slow=20"}));  // fails: no result
  const auto fast = h.RunFast(params);
  ASSERT_EQ(fast.size(), params.size());
  ASSERT_EQ(handed.size(), params.size());
  std::map<std::string, BacktestSummaryRow> by_text;
  for (size_t i = 0; i < fast.size(); ++i) {
    if (fast[i].job.status != JobState::kSuccess) {
      EXPECT_TRUE(handed[i].result.id.empty());
      continue;
    }
    const std::string id = fast[i].result_summary_id;
    ASSERT_FALSE(id.empty());
    const auto file = ReadJobResult(h.ws.root(), fast[i].job.job_id.str()).value();
    EXPECT_EQ(handed[i].result.kind, file.kind);
    EXPECT_EQ(handed[i].result.id, file.id);
    EXPECT_EQ(handed[i].summary_text, Slurp(h.ws.BacktestsDir() / id / "summary.json"));
    auto row = h.stores->registry().GetBacktest(id);
    ASSERT_TRUE(row.ok()) << id;
    by_text[id] = *row;
  }
  EXPECT_EQ(by_text.size(), 5u);
  ASSERT_TRUE(registry.IndexAll().ok());  // every folder read back from disk
  for (auto& [id, row] : by_text) {
    auto from_disk = h.stores->registry().GetBacktest(id).value();
    from_disk.indexed_at = row.indexed_at;  // the time of the indexing pass
    EXPECT_EQ(from_disk, row) << id;
  }
  ASSERT_TRUE(registry.WaitForExports().ok());
}

TEST(FastPathTest, AcceptsBuiltinBacktestsOnly) {
  Harness h;
  EXPECT_TRUE(h.runner.Accepts("backtest", Params({})));
  EXPECT_FALSE(h.runner.Accepts("train", Params({})));
  EXPECT_FALSE(h.runner.Accepts("backtest", Json{{"tickers", {"SPX"}}}));
  Json dry = Params({});
  dry["dry_run"] = true;
  EXPECT_FALSE(h.runner.Accepts("backtest", dry));
  dry["dry_run"] = "true";
  EXPECT_FALSE(h.runner.Accepts("backtest", dry));
}

TEST(FastPathTest, ParametersTheCatalogRefusesFailToStart) {
  Harness h;
  const auto fast = h.RunFast({Json{{"config_path", "configs/backtest/nope.yaml"}}});
  ASSERT_EQ(fast.size(), 1u);
  const JobRecord stored = h.stores->jobs().GetJob(fast[0].job.job_id).value();
  EXPECT_EQ(stored.status, JobState::kFailed);
  EXPECT_EQ(stored.end_reason, EndReason::kSpawnFailed);
  EXPECT_NE(stored.error_message.value_or("").find("config_path"), std::string::npos);
  // The same parameters are refused by Submit (nothing created there).
  EXPECT_FALSE(h.jobs.Submit("backtest", Json{{"config_path", "configs/backtest/nope.yaml"}}).ok());
}


// A job store that can refuse every insert: the state a server killed after a chunk's files
// and before its rows leaves (files of jobs that have no row).
class RefusingJobStore final : public JobStore {
 public:
  explicit RefusingJobStore(JobStore& inner) : inner_(inner) {}
  std::atomic<bool> refuse{false};
  Status InsertJob(const JobRecord& job) override {
    if (refuse) return Status::Unavailable("killed before the rows");
    return inner_.InsertJob(job);
  }
  Result<JobRecord> GetJob(const JobId& id) override { return inner_.GetJob(id); }
  Result<std::vector<JobRecord>> ListJobs(const JobQuery& q) override { return inner_.ListJobs(q); }
  Status UpdateJob(const JobRecord& job, JobState expected) override { return inner_.UpdateJob(job, expected); }
  Status ClaimQueued(const JobId& id, const std::string& claimer) override { return inner_.ClaimQueued(id, claimer); }
  Result<std::optional<JobRecord>> ClaimNext(const std::string& claimer) override { return inner_.ClaimNext(claimer); }
  Result<std::vector<JobRecord>> ListJobsInStates(const std::vector<JobState>& states, int limit) override {
    return inner_.ListJobsInStates(states, limit);
  }
  Result<std::map<JobState, int64_t>> CountJobsByState() override { return inner_.CountJobsByState(); }
  Result<int64_t> CountJobs(const JobQuery& q) override { return inner_.CountJobs(q); }

 private:
  JobStore& inner_;
};

std::set<std::string> Dirs(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) out.insert(it->path().filename().string());
  }
  return out;
}

TEST(FastPathTest, FilesOfAChunkWhoseRowsWereNeverWrittenAreNotResultsAndGoAtTheNextStart) {
  Harness h;
  RefusingJobStore store(h.stores->jobs());
  JobService jobs{store, *h.executor, h.catalog, h.ws, SystemClock::Instance()};
  BuiltinBacktestBatchRunner runner{jobs, h.catalog, h.ws, SystemClock::Instance(), 2};
  RegistryService registry(h.ws, h.stores->registry(), &h.stores->jobs(), SystemClock::Instance());
  auto run = [&](int from, int count) {
    std::vector<BatchTask> tasks;
    for (int i = from; i < from + count; ++i) {
      tasks.push_back(BatchTask{i, Params({"strategy.params.fast=" + std::to_string(2 + i),
                                           "strategy.params.slow=" + std::to_string(60 + i)})});
    }
    int reported = 0;
    Status st = runner.Run("opt_fast", std::nullopt, "", tasks, [&](BatchTaskResult&&) { ++reported; }, [] { return false; });
    return std::make_pair(st, reported);
  };
  // Killed between the files and the rows: 3 folders, logs and result files, no row.
  store.refuse = true;
  auto [killed, killed_reported] = run(0, 3);
  EXPECT_FALSE(killed.ok());
  EXPECT_EQ(killed_reported, 0);
  const std::set<std::string> stray = Dirs(h.ws.BacktestsDir());
  ASSERT_EQ(stray.size(), 3u);
  // A chunk that is recorded.
  store.refuse = false;
  auto [ok, ok_reported] = run(3, 2);
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  EXPECT_EQ(ok_reported, 2);
  std::set<std::string> committed;
  for (const auto& id : Dirs(h.ws.BacktestsDir())) {
    if (!stray.count(id)) committed.insert(id);
  }
  ASSERT_EQ(committed.size(), 2u);
  EXPECT_EQ(UncommittedBacktests(h.ws, h.stores->jobs()), stray);
  // The registry's full index takes the recorded ones only (before any recovery).
  auto report = registry.IndexAll();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->backtests_indexed, 2);
  auto listed = h.stores->registry().ListBacktestIds();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(std::set<std::string>(listed->begin(), listed->end()), committed);
  // The next start deletes the stray files (folders, logs, result files) and the journal.
  JobQuery all;
  const int64_t rows = h.stores->jobs().CountJobs(all).value();
  JobService restarted{h.stores->jobs(), *h.executor, h.catalog, h.ws, SystemClock::Instance()};
  ASSERT_TRUE(restarted.Recover().ok());
  EXPECT_EQ(Dirs(h.ws.BacktestsDir()), committed);
  EXPECT_TRUE(UncommittedBacktests(h.ws, h.stores->jobs()).empty());
  EXPECT_TRUE(fs::is_empty(h.ws.root() / kInProcessJournalDir));
  // What is left in reports/jobs/runtime: the log, meta and result file of each recorded job.
  std::set<std::string> runtime;
  for (const auto& e : fs::directory_iterator(h.ws.JobsRuntimeDir())) {
    if (e.is_regular_file()) runtime.insert(e.path().filename().string());
  }
  std::set<std::string> expected;
  const std::vector<JobRecord> recorded = h.stores->jobs().ListJobs(all).value();
  EXPECT_EQ(recorded.size(), 2u);
  for (const auto& job : recorded) {
    expected.insert(job.job_id.str() + ".log");
    expected.insert(job.job_id.str() + ".json");
    expected.insert(fs::path(JobResultPath(job.job_id.str())).filename().string());
  }
  EXPECT_EQ(runtime, expected);
  EXPECT_EQ(h.stores->jobs().CountJobs(all).value(), rows);  // rows untouched
  restarted.Shutdown();
  jobs.Shutdown();
}

TEST(FastPathTest, AJournalAnotherRunnerHoldsIsLeftAloneByRecovery) {
  Harness h;
  fs::create_directories(h.ws.BacktestsDir() / "bt_20260101_000000__0000abcd");
  std::vector<InProcessJournalEntry> entries{{"job_20260101_000000__0000abcd", "bt_20260101_000000__0000abcd"}};
  auto held = InProcessJournal::Begin(h.ws, entries);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  auto rec = RecoverInProcessJournals(h.ws, h.stores->jobs());
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->journals_skipped, 1);
  EXPECT_EQ(rec->jobs_removed, 0);
  EXPECT_TRUE(fs::exists(h.ws.BacktestsDir() / "bt_20260101_000000__0000abcd"));  // still being written
  // Still not a result while it is in flight.
  EXPECT_EQ(UncommittedBacktests(h.ws, h.stores->jobs()), std::set<std::string>{"bt_20260101_000000__0000abcd"});
  // Its holder died (the lock went with it): recovered.
  { InProcessJournal gone = std::move(*held); }
  rec = RecoverInProcessJournals(h.ws, h.stores->jobs());
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->journals, 1);
  EXPECT_EQ(rec->jobs_removed, 1);
  EXPECT_FALSE(fs::exists(h.ws.BacktestsDir() / "bt_20260101_000000__0000abcd"));
}

}  // namespace
}  // namespace alphalab::optimize

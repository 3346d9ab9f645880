// OptimizationService over fakes at its seams: FakeOptimizationStore, a real JobService on a
// FakeJobStore and a FakeExecutor (the test decides when each task's "process" ends and what
// its summary.json says), and a fake TaskBatchRunner for the runner path.
#include "optimize/optimization_service.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/job_result.hpp"
#include "exec/fake_executor.hpp"
#include "optimize/export_zip.hpp"
#include "store/fake_job_store.hpp"
#include "store/fake_optimization_store.hpp"

namespace alphalab::optimize {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

// "strategy.params.fast=5" -> {"strategy.params.fast": "5"} from a submitted argv.
std::map<std::string, std::string> OverridesOf(const std::vector<std::string>& argv) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] != "--set") continue;
    const std::string& kv = argv[i + 1];
    out[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  }
  return out;
}

class FakeRunner final : public TaskBatchRunner {
 public:
  explicit FakeRunner(const fs::path& root, int batch) : root_(root), batch_(batch) {}
  bool Accepts(std::string_view job_type, const Json&) const override { return job_type == "backtest"; }
  Status Run(const std::string& optimization_id, std::optional<std::string>, const std::string&, std::span<const BatchTask> tasks,
             const std::function<void(BatchTaskResult&&)>& on_done, const std::function<bool()>& should_stop) override {
    std::vector<int64_t> call;
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (i % batch_ == 0 && should_stop()) break;
      const BatchTask& t = tasks[i];
      call.push_back(t.index);
      BatchTaskResult r;
      r.index = t.index;
      ++seq_;
      r.job.job_id = JobId("job_fake_" + std::to_string(++global_seq_));
      r.job.job_type = "backtest";
      r.job.parent_id = optimization_id;
      r.job.status = JobState::kSuccess;
      r.job.started_at = std::chrono::system_clock::now();
      r.job.ended_at = *r.job.started_at + 2ms;
      r.result_summary_id = "bt_fake_" + std::to_string(seq_);
      ParsedResult parsed;
      double fast = 0;
      for (const auto& o : t.params["overrides"]) {
        const std::string s = o.get<std::string>();
        if (s.rfind("strategy.params.fast=", 0) == 0) fast = std::stod(s.substr(21));
      }
      parsed.metrics["final_equity"] = 1000 + fast;
      parsed.metrics["max_drawdown"] = 0.1;
      parsed.strings["bt_run_id"] = r.result_summary_id;
      r.result = parsed;
      on_done(std::move(r));
    }
    calls.push_back(call);
    return Status::Ok();
  }
  std::vector<std::vector<int64_t>> calls;

 private:
  fs::path root_;
  size_t batch_;
  int seq_ = 0;
  static inline int global_seq_ = 0;
};

class OptimizationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("optsvc_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "configs" / "backtest");
    std::ofstream(root_ / "configs" / "backtest" / "base.yaml")
        << "dataset: demo\ntickers: [SPX]\ninitial_cash: 1000000\nfee_bps: 10\n"
           "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n";
    ws_ = std::make_unique<Workspace>(*Workspace::Open(root_));
    catalog_ = std::make_unique<JobCatalog>(*ws_, "/usr/bin/alphalab");
  }
  void TearDown() override {
    StopAll();
    fs::remove_all(root_);
  }
  void StopAll() {
    if (opt_) opt_->Shutdown();
    opt_.reset();
    if (jobs_) jobs_->Shutdown();
    jobs_.reset();
    if (exec_) exec_->Shutdown();
    exec_.reset();
  }
  void Make(int capacity = 4, TaskBatchRunner* runner = nullptr, OptimizationServiceOptions options = {},
            std::function<void(FakeExecutor&)> before_recover = {}) {
    exec_ = std::make_unique<FakeExecutor>(capacity);
    exec_->set_finish_on_cancel(true);
    if (before_recover) before_recover(*exec_);
    jobs_ = std::make_unique<JobService>(job_store_, *exec_, *catalog_, *ws_, SystemClock::Instance(), &metrics_);
    ASSERT_TRUE(jobs_->Recover().ok());
    options.calibration_timeout = 200ms;
    opt_ = std::make_unique<OptimizationService>(opt_store_, *jobs_, *catalog_, *ws_, SystemClock::Instance(),
                                                 &metrics_, runner, options);
    ASSERT_TRUE(opt_->Start().ok());
  }
  static Json Request(Json space, int64_t max_inflight = 2) {
    return Json{{"name", "sweep"},
                {"project", "demo"},
                {"job_type", "backtest"},
                {"base_params", {{"config_path", "configs/backtest/base.yaml"}}},
                {"param_space", std::move(space)},
                {"objective", {{"metric", "final_equity"}, {"direction", "max"}}},
                {"max_inflight", max_inflight}};
  }
  std::string CreateOk(const Json& req) {
    auto r = opt_->Create(req, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["id"].get<std::string>() : std::string();
  }
  // Ends a running task's job as the backtest would: log lines, summary.json, its result file
  // (core/job_result.hpp), exit code.
  // `sharpe`: also a sharpe in summary.json and a varying equity.csv (the deflated Sharpe's inputs).
  void Finish(const JobId& id, double equity, int exit_code = 0, double drawdown = 0.1,
              std::optional<double> sharpe = std::nullopt) {
    const std::string bt = "bt_" + id.str();
    fs::create_directories(root_ / "backtests" / bt);
    Json summary{{"bt_run_id", bt}, {"final_equity", equity}, {"max_drawdown", drawdown}, {"cagr", 0.05}};
    if (sharpe) summary["sharpe"] = *sharpe;
    std::ofstream(root_ / "backtests" / bt / "summary.json") << summary.dump();
    std::ofstream csv(root_ / "backtests" / bt / "equity.csv");
    csv << "date,equity\n";
    if (sharpe) csv << "2019-12-27,1000\n2019-12-30,1010\n2019-12-31,1003\n";
    csv << "2020-01-01," << equity << "\n";
    csv.close();
    ASSERT_TRUE(exec_->AppendLog(id, "bt_run_id: " + bt + "\nout_dir: backtests/" + bt + "\n").ok());
    if (exit_code == 0) {
      ASSERT_TRUE(WriteJobResult(root_, JobResult::Backtest(id.str(), bt)).ok());
    }
    ASSERT_TRUE(exec_->FinishWithExitCode(id, exit_code).ok());
  }
  // The "fast" override of a task's job, from its stored params.
  double Fast(const JobId& id) {
    auto job = job_store_.GetJob(id);
    if (!job.ok()) {
      ADD_FAILURE() << "no job " << id.str();
      return 0;
    }
    for (const auto& o : job->params["overrides"]) {
      const std::string s = o.get<std::string>();
      if (s.rfind("strategy.params.fast=", 0) == 0) return std::stod(s.substr(21));
    }
    ADD_FAILURE() << "no fast override in " << job->params.dump();
    return 0;
  }
  Json Status(const std::string& id) { return *opt_->StatusOf(id); }
  Json Summary(const std::string& id) { return Status(id)["summary"]; }
  static bool InvariantHolds(const Json& s) {
    return s["finished"].get<int64_t>() + s["failed"].get<int64_t>() + s["canceled"].get<int64_t>() +
               s["running"].get<int64_t>() + s["queued"].get<int64_t>() ==
           s["total"].get<int64_t>();
  }
  bool WaitStatus(const std::string& id, const std::string& status) {
    return WaitFor([&] { return Status(id)["status"] == status; });
  }
  std::vector<OptimizationTaskRecord> Tasks(const std::string& id) {
    OptimizationTaskQuery q;
    q.limit = 1000;
    return *opt_store_.ListTasks(id, q);
  }

  // The server goes away (its processes keep running) and a new one starts on the same stores.
  void Restart(const std::function<void()>& while_down = {}) {
    opt_->Shutdown();
    if (while_down) while_down();
    std::vector<std::string> alive;
    for (const auto& r : exec_->running()) alive.push_back(exec_->RefOf(r));
    jobs_->Shutdown();
    opt_.reset();
    jobs_.reset();
    exec_.reset();
    Make(4, nullptr, {}, [&](FakeExecutor& e) {
      for (const auto& ref : alive) e.SetAlive(ref);
    });
  }

  static constexpr const char* kHoldout = "2016-03-01";
  static Json HoldoutRequest() {
    Json req = Request({{"strategy.params.fast", {1, 2, 3}}}, 1);
    req["top_n"] = 3;
    req["validation"] = Json{{"holdout_start", kHoldout}};
    return req;
  }
  bool IsRerun(const JobId& j) { return job_store_.GetJob(j)->params.value("start", "") == kHoldout; }
  std::string ValidationStatus(const std::string& id) {
    const Json v = (*opt_->Get(id))["validation"];
    return v.is_object() ? v.value("status", "") : "";
  }
  // The holdout scenario: search fast 1, 2, 3 (in sample 1000 + 100 * fast: fast 3 first), then
  // the Top-3 re-run one at a time (out of sample fast 3 -> 900, 2 -> 1200, 1 -> 1100).
  // `at_rerun(k)` is called once for each k when the (k+1)-th re-run is running and k have ended
  // (it may restart the service), and `at_end` once the phase has ended.
  std::string HoldoutScenario(const std::function<void(int)>& at_rerun = {},
                              const std::function<void(const std::string&)>& at_end = {}) {
    const std::string id = CreateOk(HoldoutRequest());
    last_id_ = id;
    const std::map<double, double> oos = {{3, 900}, {2, 1200}, {1, 1100}};
    int reruns_done = 0;
    std::set<int> called;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string vs = ValidationStatus(id);
      if (vs == "succeeded" || vs == "failed") break;
      std::vector<JobId> running;
      for (const auto& r : exec_->running()) {
        if (job_store_.GetJob(r)->parent_id == id) running.push_back(r);
      }
      if (running.empty()) {
        std::this_thread::sleep_for(2ms);
        continue;
      }
      const JobId j = running.front();
      if (IsRerun(j)) {
        if (at_rerun && called.insert(reruns_done).second) {
          at_rerun(reruns_done);
          continue;
        }
        Finish(j, oos.at(Fast(j)));
        ++reruns_done;
      } else {
        Finish(j, 1000 + 100 * Fast(j));
      }
    }
    EXPECT_TRUE(opt_->WaitIdle(5s));
    if (at_end) at_end(id);
    EXPECT_TRUE(opt_->WaitIdle(5s));
    return id;
  }
  // What must be the same whether or not the server restarted: the optimization (scores,
  // oos_score, validation runs, counts) and its report, ids and times masked.
  static void Mask(Json& j) {
    if (j.is_object()) {
      for (const char* k : {"task_id", "job_id", "result_summary_id", "oos_result_summary_id", "optimization_id",
                            "id", "files", "created_at", "started_at", "ended_at", "updated_at", "estimate"}) {
        j.erase(k);
      }
      for (auto& [k, v] : j.items()) Mask(v);
    } else if (j.is_array()) {
      for (auto& v : j) Mask(v);
    }
  }
  Json Outcome(const std::string& id) {
    Json opt = *opt_->Get(id);
    Json out{{"status", opt["status"]}, {"summary", opt["summary"]}, {"validation", opt["validation"]},
             {"deflated_sharpe", opt["deflated_sharpe"]}, {"report", *opt_->Report(id)}};
    auto file = ReadFile(root_ / "reports" / "optimizations" / id / "report.json");
    out["report_file"] = file.ok() ? Json::parse(*file) : Json("missing");
    Mask(out);
    return out;
  }
  // Manifest lines of the holdout re-runs: {event, index} -> count, and every line's task_id.
  std::map<std::pair<std::string, int64_t>, int> RerunManifest(const std::string& id) {
    std::map<std::pair<std::string, int64_t>, int> out;
    std::ifstream in(root_ / "reports" / "optimizations" / id / "manifest.jsonl");
    for (std::string line; std::getline(in, line);) {
      const Json j = Json::parse(line);
      if (j["validation"].get<bool>()) ++out[{j["event"].get<std::string>(), j["index"].get<int64_t>()}];
    }
    return out;
  }
  // One job per search task and per re-run, each recorded on its task; the re-runs succeeded.
  void ExpectOneJobPerTask(const std::string& id) {
    JobQuery q;
    q.parent_id = id;
    EXPECT_EQ(*jobs_->Count(q), 6) << "3 search tasks + 3 re-runs, none twice";
    std::set<std::string> job_ids;
    int reruns = 0;
    for (const auto& t : Tasks(id)) {
      ASSERT_TRUE(t.job_id) << t.index;
      job_ids.insert(*t.job_id);
      EXPECT_EQ(t.status, "succeeded") << t.index;
      reruns += t.validation;
    }
    EXPECT_EQ(reruns, 3);
    EXPECT_EQ(job_ids.size(), 6u);
    std::map<std::pair<std::string, int64_t>, int> want;
    for (int64_t index : {0, 1, 2}) {
      want[{"start", index}] = 1;
      want[{"end", index}] = 1;
    }
    EXPECT_EQ(RerunManifest(id), want) << "one start and one end line per re-run";
  }

  std::string last_id_;  // the optimization HoldoutScenario runs
  std::string orphan_;
  fs::path root_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<JobCatalog> catalog_;
  FakeJobStore job_store_;
  FakeOptimizationStore opt_store_;
  Metrics metrics_;
  std::unique_ptr<FakeExecutor> exec_;
  std::unique_ptr<JobService> jobs_;
  std::unique_ptr<OptimizationService> opt_;
};

TEST(TaskJobParamsTest, AppendsOverridesAsJsonTextAndStringsRaw) {
  Json base = {{"config_path", "c.yaml"}, {"overrides", {"fee_bps=5"}}};
  Json p = TaskJobParams(base, Json{{"a.b", 5}, {"c", 0.25}, {"d", "sma"}, {"e", true}, {"f", Json::array({1, 2})}});
  EXPECT_EQ(p["config_path"], "c.yaml");
  EXPECT_EQ(p["overrides"], Json({"fee_bps=5", "a.b=5", "c=0.25", "d=sma", "e=true", "f=[1,2]"}));
  EXPECT_EQ(TaskJobParams(Json{{"overrides", "x=1"}}, Json{{"y", 2}})["overrides"], Json({"x=1", "y=2"}));
  EXPECT_EQ(OverrideText("k", Json(0.30000000000000004)), "k=0.30000000000000004");
}

TEST_F(OptimizationServiceTest, SubmitsInIndexOrderWithinTheInflightBoundAndKeepsTheInvariant) {
  Make(/*capacity=*/4);
  const std::string id = CreateOk(Request({{"strategy.params.fast", {1, 2, 3}}, {"strategy.params.slow", {10, 20}}}, 2));
  // Grid order: the last key varies fastest.
  const std::vector<std::pair<std::string, std::string>> want = {{"1", "10"}, {"1", "20"}, {"2", "10"},
                                                                 {"2", "20"}, {"3", "10"}, {"3", "20"}};
  for (int step = 0; step < 6; ++step) {
    ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == std::min<size_t>(2, 6 - step); })) << step;
    std::this_thread::sleep_for(20ms);  // nothing beyond the bound is started meanwhile
    EXPECT_LE(exec_->running().size(), 2u);
    EXPECT_LE(jobs_->InFlight(id), 2);
    const Json s = Summary(id);
    EXPECT_TRUE(InvariantHolds(s)) << s.dump();
    // The tasks that got a job are a prefix of the index order, each with its grid point.
    std::map<std::string, int64_t> index_of_job;
    int64_t submitted = 0;
    for (const auto& t : Tasks(id)) {
      if (!t.job_id) continue;
      EXPECT_EQ(t.index, submitted++) << "submitted out of index order";
      index_of_job[*t.job_id] = t.index;
      const Json job = job_store_.GetJob(JobId(*t.job_id))->params;
      std::map<std::string, std::string> o;
      for (const auto& kv : job["overrides"]) {
        const std::string text = kv.get<std::string>();
        o[text.substr(0, text.find('='))] = text.substr(text.find('=') + 1);
      }
      EXPECT_EQ(o["strategy.params.fast"], want[t.index].first) << t.index;
      EXPECT_EQ(o["strategy.params.slow"], want[t.index].second) << t.index;
    }
    EXPECT_EQ(submitted, std::min(6, step + 2));
    // End the lowest-index running task (its equity grows with fast).
    JobId first = exec_->running().front();
    for (const auto& r : exec_->running()) {
      if (index_of_job[r.str()] < index_of_job[first.str()]) first = r;
    }
    Finish(first, 1000 + 10 * Fast(first));
    ASSERT_TRUE(WaitFor([&] { return Summary(id)["finished"] == step + 1; })) << Summary(id).dump();
    EXPECT_TRUE(InvariantHolds(Summary(id)));
  }
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  const Json s = Summary(id);
  EXPECT_EQ(s["total"], 6);
  EXPECT_EQ(s["finished"], 6);
  EXPECT_EQ(s["best_score"], 1030.0);
  ASSERT_EQ(s["top_n"].size(), 6u);
  EXPECT_EQ(s["top_n"][0]["index"], 4);  // fast 3 slow 10: ties broken by the lower index
  EXPECT_EQ(s["top_n"][1]["index"], 5);
  EXPECT_EQ(s["top_n"][0]["task_id"].get<std::string>().rfind("job_", 0), 0u);
  EXPECT_EQ(s["top_n"][0]["result_summary_id"], "bt_" + s["top_n"][0]["task_id"].get<std::string>());
  // Every task is a job of the optimization, recorded on its task once.
  JobQuery q;
  q.parent_id = id;
  EXPECT_EQ(*jobs_->Count(q), 6);
  std::set<std::string> job_ids;
  for (const auto& t : Tasks(id)) {
    EXPECT_EQ(t.status, "succeeded");
    ASSERT_TRUE(t.job_id);
    job_ids.insert(*t.job_id);
    EXPECT_TRUE(t.ranked);
    EXPECT_EQ(t.metrics["bt_run_id"], "bt_" + *t.job_id);
  }
  EXPECT_EQ(job_ids.size(), 6u);
  EXPECT_TRUE(opt_->WaitIdle(5s));
  EXPECT_EQ(metrics_.CounterValue("alphalab_optimization_tasks_total", {{"event", "ended"}, {"status", "succeeded"}}), 6);
}

// A store that cannot read the pending tasks for a moment (a locked or briefly unreadable
// database) does not leave the optimization queued for good: the driver tries again with a
// growing delay, on the process path and on the runner path alike.
TEST_F(OptimizationServiceTest, AFailedReadOfPendingTasksIsTriedAgain) {
  Make(4);
  opt_store_.FailTasksToRun(3, alphalab::Status::Unavailable("database is locked"));
  const std::string id = CreateOk(Request({{"strategy.params.fast", {1, 2, 3}}}, 2));
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& r : exec_->running()) Finish(r, 1000 + 10 * Fast(r));
    return Status(id)["status"] == "succeeded";
  })) << Status(id).dump();
  EXPECT_EQ(Summary(id)["finished"], 3);

  FakeRunner runner(root_, /*batch=*/50);
  StopAll();
  Make(4, &runner);
  opt_store_.FailTasksToRun(2, alphalab::Status::Unavailable("database is locked"));
  const std::string id2 = CreateOk(Request({{"strategy.params.fast", {{"min", 1}, {"max", 60}, {"step", 1}}}}, 2));
  ASSERT_TRUE(WaitStatus(id2, "succeeded")) << Status(id2).dump();
  EXPECT_EQ(Summary(id2)["finished"], 60);
  ASSERT_TRUE(opt_->WaitIdle(5s));
}

TEST_F(OptimizationServiceTest, EarlyStopByPatienceCancelsQueuedAndStopsRunningTasks) {
  Make(4);
  Json req = Request({{"strategy.params.fast", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}}, 2);
  req["early_stop_policy"] = {{"patience", 2}, {"min_tasks", 1}};
  const std::string id = CreateOk(req);
  // Tasks end in index order with falling equity: task 0 is the best, 1 and 2 do not improve.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(WaitFor([&] {
      for (const auto& r : exec_->running()) {
        if (Fast(r) == i + 1) return true;
      }
      return false;
    })) << i;
    for (const auto& r : exec_->running()) {
      if (Fast(r) == i + 1) Finish(r, 2000 - 10 * i);
    }
    // One end at a time: the policy counts tasks in the order the service sees them end.
    ASSERT_TRUE(WaitFor([&] { return Summary(id)["finished"] == i + 1; }));
    EXPECT_TRUE(InvariantHolds(Summary(id)));
  }
  ASSERT_TRUE(WaitStatus(id, "early-stopped")) << Status(id).dump();
  ASSERT_TRUE(WaitFor([&] { return Summary(id)["running"] == 0; })) << Summary(id).dump();
  EXPECT_TRUE(exec_->running().empty());
  EXPECT_FALSE(exec_->cancels().empty());  // the running task 3 was stopped
  const Json st = Status(id);
  EXPECT_EQ(st["stop_reason"], "patience");
  const Json s = st["summary"];
  EXPECT_EQ(s["finished"], 3);
  EXPECT_EQ(s["canceled"], 7);
  EXPECT_EQ(s["queued"], 0);
  EXPECT_EQ(s["best_score"], 2000.0);
  for (const auto& t : Tasks(id)) {
    if (t.index < 3) {
      EXPECT_EQ(t.status, "succeeded") << t.index;
    } else {
      EXPECT_EQ(t.status, "canceled") << t.index;
    }
  }
  JobQuery q;
  q.parent_id = id;
  EXPECT_EQ(*jobs_->Count(q), 4);  // 3 finished + the one that was running; no more started
  EXPECT_TRUE(opt_->WaitIdle(5s));
}

TEST_F(OptimizationServiceTest, EarlyStopByTargetAfterMinTasks) {
  Make(4);
  Json req = Request({{"strategy.params.fast", {1, 2, 3, 4, 5, 6}}}, 1);
  req["early_stop_policy"] = {{"target", 1500}, {"min_tasks", 2}};
  const std::string id = CreateOk(req);
  // Task 0 reaches the target but min_tasks is 2: the sweep goes on; task 1 ends it.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 1; }));
    Finish(exec_->running().front(), 1600 + i);
    if (i == 0) {
      ASSERT_TRUE(WaitFor([&] { return Summary(id)["finished"] == 1; }));
      EXPECT_EQ(Status(id)["status"], "running");
    }
  }
  ASSERT_TRUE(WaitStatus(id, "early-stopped"));
  EXPECT_EQ(Status(id)["stop_reason"], "target");
  ASSERT_TRUE(WaitFor([&] { return Summary(id)["canceled"] == 4; })) << Summary(id).dump();
  EXPECT_EQ(exec_->submits().size(), 2u);  // max_inflight 1: nothing else had started
}

TEST_F(OptimizationServiceTest, CancelFreezesTheSummaryAndStopsEverything) {
  Make(4);
  const std::string id = CreateOk(Request({{"strategy.params.fast", {1, 2, 3, 4, 5, 6, 7, 8}}}, 2));
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 2; }));
  Finish(exec_->running().front(), 1234);
  ASSERT_TRUE(WaitFor([&] { return Summary(id)["finished"] == 1 && exec_->running().size() == 2; }));
  auto canceled = opt_->Cancel(id);
  ASSERT_TRUE(canceled.ok()) << canceled.status().ToString();
  EXPECT_EQ((*canceled)["status"], "canceled");
  EXPECT_TRUE(exec_->running().empty());
  const Json s = (*canceled)["summary"];
  EXPECT_EQ(s["finished"], 1);
  EXPECT_EQ(s["canceled"], 7);
  EXPECT_EQ(s["running"], 0);
  EXPECT_EQ(s["best_score"], 1234.0);
  EXPECT_TRUE(InvariantHolds(s));
  EXPECT_TRUE(opt_->WaitIdle(5s));
  EXPECT_EQ(Summary(id), s);  // frozen
  EXPECT_EQ(opt_->Cancel(id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(exec_->submits().size(), 3u);
}

TEST_F(OptimizationServiceTest, RestartResumesWithoutDuplicatesAndLinksAnOrphanJob) {
  Make(4);
  const std::string id = CreateOk(Request({{"strategy.params.fast", {1, 2, 3, 4, 5, 6}}}, 2));
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 2; }));
  Finish(exec_->running().front(), 1001);
  ASSERT_TRUE(WaitFor([&] { return Summary(id)["finished"] == 1 && exec_->running().size() == 2; }));
  std::vector<std::string> alive;
  for (const auto& r : exec_->running()) alive.push_back(exec_->RefOf(r));
  // A crash between Submit and MarkTaskQueued: a job of the last task exists, unrecorded.
  SubmitOptions o;
  o.parent_id = id;
  o.max_inflight = 2;
  auto orphan = jobs_->Submit("backtest",
                              TaskJobParams(Json{{"config_path", "configs/backtest/base.yaml"}},
                                            Json{{"strategy.params.fast", 6}}),
                              o);
  ASSERT_TRUE(orphan.ok()) << orphan.status().ToString();
  // The server goes away (its processes keep running) and a new one starts on the same stores.
  opt_->Shutdown();
  jobs_->Shutdown();
  opt_.reset();
  jobs_.reset();
  exec_.reset();
  Make(4, nullptr, {}, [&](FakeExecutor& e) {
    for (const auto& ref : alive) e.SetAlive(ref);
  });
  // Finish whatever runs until the optimization ends; the resumed service submits the rest.
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& r : exec_->running()) Finish(r, 1000 + Fast(r));
    return Status(id)["status"] == "succeeded";
  }, 20s)) << Status(id).dump();
  const Json s = Summary(id);
  EXPECT_EQ(s["total"], 6);
  EXPECT_EQ(s["finished"], 6);
  EXPECT_EQ(s["best_score"], 1006.0);
  JobQuery q;
  q.parent_id = id;
  EXPECT_EQ(*jobs_->Count(q), 6) << "no task ran twice";
  std::set<std::string> job_ids;
  for (const auto& t : Tasks(id)) {
    ASSERT_TRUE(t.job_id);
    job_ids.insert(*t.job_id);
    if (t.index == 5) {
      EXPECT_EQ(*t.job_id, orphan->job_id.str());
    }
  }
  EXPECT_EQ(job_ids.size(), 6u);
  // manifest.jsonl: one start and one end line per task, with the task's job, the linked orphan's
  // included (its start line is written at the resume).
  std::map<std::pair<std::string, int64_t>, std::vector<std::string>> lines;
  std::ifstream in(root_ / "reports" / "optimizations" / id / "manifest.jsonl");
  for (std::string line; std::getline(in, line);) {
    const Json j = Json::parse(line);
    lines[{j["event"].get<std::string>(), j["index"].get<int64_t>()}].push_back(j["task_id"].get<std::string>());
  }
  EXPECT_EQ(lines.size(), 12u);
  for (const auto& t : Tasks(id)) {
    const std::vector<std::string> want{*t.job_id};
    EXPECT_EQ(lines[std::make_pair(std::string("start"), t.index)], want) << t.index;
    EXPECT_EQ(lines[std::make_pair(std::string("end"), t.index)], want) << t.index;
  }
}

TEST_F(OptimizationServiceTest, JobsThatAreNotRunningTasksAreAbsorbed) {
  Make(4);
  const std::string id = CreateOk(Request({{"strategy.params.fast", {1, 2}}}, 1));
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 1; }));
  const JobId task_job = exec_->running().front();
  // A job that names the optimization as its parent but is none of its tasks (as a batch
  // runner's jobs are when their end is reported a second time by the job service).
  SubmitOptions o;
  o.parent_id = id;
  o.max_inflight = 2;  // room beside the running task (the group's newest bound wins)
  auto stray = jobs_->Submit("backtest", TaskJobParams(Json{{"config_path", "configs/backtest/base.yaml"}},
                                                       Json{{"strategy.params.fast", 99}}), o);
  ASSERT_TRUE(stray.ok());
  ASSERT_TRUE(WaitFor([&] { return exec_->IsRunning(stray->job_id); }));
  Finish(stray->job_id, 9999);
  ASSERT_TRUE(WaitFor([&] { return jobs_->Get(stray->job_id)->status == JobState::kSuccess; }));
  std::this_thread::sleep_for(50ms);
  Json s = Summary(id);
  EXPECT_EQ(s["finished"], 0);
  EXPECT_EQ(s["running"], 1);
  EXPECT_TRUE(s["best_score"].is_null());
  Finish(task_job, 1001);
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 1; }));
  Finish(exec_->running().front(), 1002);
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  s = Summary(id);
  EXPECT_EQ(s["finished"], 2);
  EXPECT_EQ(s["best_score"], 1002.0);
  EXPECT_TRUE(InvariantHolds(s));
  for (const auto& t : Tasks(id)) EXPECT_NE(*t.job_id, stray->job_id.str());
}

TEST_F(OptimizationServiceTest, RetryFailedRerunsOnlyTheFailedTasks) {
  Make(4);
  const std::string id = CreateOk(Request({{"strategy.params.fast", {1, 2, 3, 4}}}, 4));
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 4; }));
  for (const auto& r : exec_->running()) {
    if (Fast(r) <= 2) {
      Finish(r, 1000 + Fast(r), /*exit_code=*/1);
    } else {
      Finish(r, 1000 + Fast(r));
    }
  }
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  EXPECT_EQ(Summary(id)["failed"], 2);
  const size_t before = exec_->submits().size();
  auto retried = opt_->RetryFailed(id);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ((*retried)["requeued"], 2);
  // Reopened: no longer ended (queued, or running once the driver submitted the tasks).
  EXPECT_NE((*retried)["optimization"]["status"], "succeeded");
  EXPECT_TRUE((*retried)["optimization"]["ended_at"].is_null());
  ASSERT_TRUE(WaitFor([&] { return exec_->submits().size() == before + 2; }));
  std::set<double> rerun;
  for (const auto& r : exec_->running()) rerun.insert(Fast(r));
  EXPECT_EQ(rerun, (std::set<double>{1, 2}));
  for (const auto& r : exec_->running()) Finish(r, 5000 + Fast(r));
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  const Json s = Summary(id);
  EXPECT_EQ(s["finished"], 4);
  EXPECT_EQ(s["failed"], 0);
  EXPECT_EQ(s["best_score"], 5002.0);
  for (const auto& t : Tasks(id)) EXPECT_EQ(t.attempt, t.index <= 1 ? 1 : 0) << t.index;
  EXPECT_EQ(opt_->RetryFailed(id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(exec_->submits().size(), before + 2);
}

// The report and the deflated Sharpe written when an optimization ends come from the live
// state (counts, the ranked tasks' sharpes), not from reading every task back: they equal what
// the stored tasks give (Report reads them), through failures, a constraint, retry-failed and
// an extension.
TEST_F(OptimizationServiceTest, TheReportWrittenAtTheEndIsWhatTheStoredTasksGive) {
  Make(8);
  Json req = Request({{"strategy.params.fast", {1, 2, 3, 4, 5, 6}}}, 8);
  req["constraints"] = Json::array({"max_drawdown <= 0.2"});
  const std::string id = CreateOk(req);
  auto end_all = [&](int round) {
    for (const auto& r : exec_->running()) {
      const int fast = static_cast<int>(Fast(r));
      const bool fails = round == 0 ? fast <= 2 : fast == 1;  // fast 2 succeeds when retried
      Finish(r, 1000 + fast + 100 * round, fails ? 1 : 0, fast == 3 ? 0.3 : 0.1, 0.1 * fast + round);
    }
  };
  auto expect_file_as_read = [&](const Json& counts) {
    ASSERT_TRUE(opt_->WaitIdle(5s));
    auto read = opt_->Report(id);  // from the stored tasks
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    auto file = ReadFile(root_ / "reports" / "optimizations" / id / "report.json");
    ASSERT_TRUE(file.ok());
    const Json written = Json::parse(*file);
    EXPECT_EQ(written["counts"], counts);
    EXPECT_EQ((*read)["counts"], counts);
    EXPECT_EQ(written["top"], (*read)["top"]);
    const Json d = (*opt_->Get(id))["deflated_sharpe"];
    ASSERT_TRUE(d.is_object()) << d.dump();
    EXPECT_EQ(d["trials"], counts["passing"]);
    EXPECT_EQ(written["deflated_sharpe"], d);
  };
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 6; }));
  end_all(0);
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  // 6 tasks: fast 1 and 2 failed, fast 3 breaks the constraint, 4..6 ranked
  expect_file_as_read(Json{{"total", 6}, {"models", 0}, {"succeeded", 4}, {"failed", 2}, {"canceled", 0},
                           {"passing", 3}});
  ASSERT_TRUE(opt_->RetryFailed(id).ok());
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 2; }));
  end_all(1);
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  expect_file_as_read(Json{{"total", 6}, {"models", 0}, {"succeeded", 5}, {"failed", 1}, {"canceled", 0},
                           {"passing", 4}});
  ASSERT_TRUE(opt_->Extend(id, Json{{"param_space", {{"strategy.params.fast", {1, 2, 3, 4, 5, 6, 7, 8}}}}}).ok());
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 2; }));
  end_all(2);
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  expect_file_as_read(Json{{"total", 8}, {"models", 0}, {"succeeded", 7}, {"failed", 1}, {"canceled", 0},
                           {"passing", 6}});
}

TEST_F(OptimizationServiceTest, ExtendAddsOnlyNewCombinations) {
  Make(4);
  const std::string id = CreateOk(Request({{"strategy.params.fast", {1, 2}}, {"strategy.params.slow", {10}}}, 4));
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 2; }));
  for (const auto& r : exec_->running()) Finish(r, 1000 + Fast(r));
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  EXPECT_EQ(opt_->Extend(id, Json{{"param_space", {{"strategy.params.fast", {1, 2}}, {"strategy.params.slow", {10}}}}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(opt_->Extend(id, Json{{"bogus", 1}}).status().code(), StatusCode::kInvalidArgument);
  auto ext = opt_->Extend(id, Json{{"param_space", {{"strategy.params.fast", {1, 2, 3}}, {"strategy.params.slow", {10, 20}}}}});
  ASSERT_TRUE(ext.ok()) << ext.status().ToString();
  EXPECT_EQ((*ext)["added"], 4);
  ASSERT_TRUE(WaitFor([&] { return exec_->submits().size() == 6; }));
  std::set<std::pair<std::string, std::string>> added;
  for (size_t i = 2; i < 6; ++i) {
    auto o = OverridesOf(exec_->submits()[i].argv);
    added.insert({o["strategy.params.fast"], o["strategy.params.slow"]});
  }
  EXPECT_EQ(added, (std::set<std::pair<std::string, std::string>>{{"1", "20"}, {"2", "20"}, {"3", "10"}, {"3", "20"}}));
  for (const auto& r : exec_->running()) Finish(r, 1000 + Fast(r));
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  EXPECT_EQ(Summary(id)["total"], 6);
  EXPECT_EQ(Summary(id)["finished"], 6);
  const auto tasks = Tasks(id);
  ASSERT_EQ(tasks.size(), 6u);
  EXPECT_EQ(tasks[5].index, 5);
}

TEST_F(OptimizationServiceTest, RerunCopiesTheSourceAndLinksBothWays) {
  Make(4);
  Json req = Request({{"strategy.params.fast", {1, 2}}}, 1);
  req["early_stop_policy"] = {{"patience", 5}};
  const std::string src = CreateOk(req);
  auto rerun = opt_->Create(Json{{"source_job_id", src}, {"name", "again"}}, std::nullopt);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  EXPECT_EQ((*rerun)["source_id"], src);
  EXPECT_EQ((*rerun)["name"], "again");
  EXPECT_EQ((*rerun)["request"]["param_space"], req["param_space"]);
  EXPECT_EQ((*rerun)["request"]["early_stop_policy"]["patience"], 5);
  auto source = opt_->Get(src);
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)["reruns"], Json::array({(*rerun)["id"]}));
  OptimizationQuery q;
  q.source_id = src;
  EXPECT_EQ((*opt_->List(q))["total"], 1);
  const int64_t count = *opt_store_.Count({});
  EXPECT_EQ(opt_->Create(Json{{"source_job_id", "opt_20990101_000000__deadbeef"}}, std::nullopt).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(opt_->Create(Json{{"source_job_id", src}, {"top_n", 0}}, std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*opt_store_.Count({}), count);
}

TEST_F(OptimizationServiceTest, InvalidRequestsCreateNothing) {
  Make(4);
  std::vector<Json> bad;
  bad.push_back(Request({{"strategy.params.fast", {{"min", 1}, {"max", 5}, {"step", 0}}}}));
  Json unknown_metric = Request({{"strategy.params.fast", {1}}});
  unknown_metric["objective"]["metric"] = "no_such_metric";
  bad.push_back(unknown_metric);
  Json bad_config = Request({{"strategy.params.fast", {1}}});
  bad_config["base_params"]["config_path"] = "configs/missing.yaml";
  bad.push_back(bad_config);
  Json dry = Request({{"strategy.params.fast", {1}}});
  dry["base_params"]["dry_run"] = true;
  bad.push_back(dry);
  Json bad_type = Request({{"strategy.params.fast", {1}}});
  bad_type["job_type"] = "train";
  bad.push_back(bad_type);
  bad.push_back(Request({{"strategy.params.fast", Json::array()}}));
  Json too_many = Request({{"a", {{"min", 0}, {"max", 999}, {"step", 1}}}, {"b", {{"min", 0}, {"max", 999}, {"step", 1}}},
                           {"c", {{"min", 0}, {"max", 9}, {"step", 1}}}});
  bad.push_back(too_many);
  Json bad_value = Request({{"strategy.params.fast", {"a\nb"}}});
  bad.push_back(bad_value);
  Json unknown_key = Request({{"strategy.params.fast", {1, 2}}, {"strategy.params.nope", {1}}});
  bad.push_back(unknown_key);
  Json unknown_base = Request({{"strategy.params.fast", {1}}});
  unknown_base["base_params"]["overrides"] = {"strategy.params.bogus=3"};
  bad.push_back(unknown_base);
  for (const Json& b : bad) {
    auto r = opt_->Create(b, std::nullopt);
    ASSERT_FALSE(r.ok()) << b.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_TRUE(r.status().details().contains("field")) << r.status().ToString();
  }
  EXPECT_EQ(opt_->Create(unknown_key, std::nullopt).status().details()["field"], "param_space.strategy.params.nope");
  EXPECT_EQ(opt_->Create(unknown_base, std::nullopt).status().details()["field"], "base_params.overrides");
  EXPECT_EQ(*opt_store_.Count({}), 0);
  EXPECT_TRUE(exec_->submits().empty());
  // A value the base sets that the engine refuses would fail every task: a 400 on where it is set.
  Json bad_base_value = Request({{"strategy.params.fast", {1, 2}}});
  bad_base_value["base_params"]["overrides"] = {"fee_bps=-5"};
  auto refused = opt_->Create(bad_base_value, std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().details()["field"], "base_params.overrides") << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("fails every task"), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(*opt_store_.Count({}), 0);
  // A value a task sets that the engine refuses is not a request error: that task fails when
  // it runs (the other tasks may be fine).
  EXPECT_TRUE(opt_->Create(Request({{"strategy.params.fast", {0, 5}}}), std::nullopt).ok());
  // A strategy that needs a model (topn) with the model from base_params: whole as the job
  // resolves it (the job's model_path flag), not a base value every task would fail on.
  std::ofstream(root_ / "configs" / "backtest" / "topn.yaml")
      << "dataset: demo\ntickers: [SPX]\ninitial_cash: 1000000\nstrategy: {type: topn, params: {top_n: 1}}\n";
  fs::create_directories(root_ / "runs" / "r1");
  std::ofstream(root_ / "runs" / "r1" / "model.json") << "{}";
  Json with_model = Request({{"strategy.params.top_n", {1, 2}}});
  with_model["base_params"] = {{"config_path", "configs/backtest/topn.yaml"}, {"model_path", "runs/r1/model.json"}};
  auto accepted = opt_->Create(with_model, std::nullopt);
  EXPECT_TRUE(accepted.ok()) << accepted.status().ToString();
}

TEST_F(OptimizationServiceTest, ExportIsBuiltFromTheStoredTasks) {
  Make(4);
  const std::string id = CreateOk(Request({{"strategy.params.fast", {1, 2, 3}}}, 3));
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 3; }));
  for (const auto& r : exec_->running()) Finish(r, 1000 + Fast(r), Fast(r) == 2 ? 1 : 0);
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  auto zip = opt_->Export(id);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  EXPECT_EQ(zip->filename, id + ".zip");
  auto entries = ReadZip(zip->bytes);
  ASSERT_TRUE(entries.ok());
  std::map<std::string, std::string> files;
  for (auto& e : *entries) files[e.name] = e.data;
  ASSERT_TRUE(files.count("manifest.jsonl"));
  ASSERT_TRUE(files.count("report.md"));
  ASSERT_TRUE(files.count("top_n.json"));
  std::istringstream lines(files["manifest.jsonl"]);
  std::string line;
  const auto tasks = Tasks(id);
  size_t n = 0;
  for (; std::getline(lines, line); ++n) {
    const Json j = Json::parse(line);
    ASSERT_LT(n, tasks.size());
    EXPECT_EQ(j["index"], tasks[n].index);
    EXPECT_EQ(j["task_id"], *tasks[n].job_id);
    EXPECT_EQ(j["status"], tasks[n].status);
    EXPECT_EQ(j["params"], tasks[n].params);
    if (tasks[n].ranked) {
      EXPECT_EQ(j["score"], *tasks[n].score);
      EXPECT_EQ(j["result_paths"], Json::array({"backtests/" + tasks[n].metrics["bt_run_id"].get<std::string>() + "/summary.json"}));
    } else {
      EXPECT_TRUE(j["score"].is_null());
    }
  }
  EXPECT_EQ(n, 3u);
  // The Top-N tasks' small output files travel along.
  const Json top = Json::parse(files["top_n.json"]);
  ASSERT_EQ(top["top_n"].size(), 2u);
  const std::string best_bt = top["top_n"][0]["result_summary_id"];
  EXPECT_TRUE(files.count("artifacts/" + best_bt + "/summary.json"));
  EXPECT_TRUE(files.count("artifacts/" + best_bt + "/equity.csv"));
  EXPECT_NE(files["report.md"].find("failed"), std::string::npos);
  // A failure is an error, counted.
  EXPECT_EQ(opt_->Export("opt_20990101_000000__deadbeef").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(metrics_.CounterValue("alphalab_optimization_export_failures_total", {{"code", "NOT_FOUND"}}), 1);
  EXPECT_EQ(metrics_.HistogramCount("alphalab_optimization_export_seconds"), 2u);
}

TEST_F(OptimizationServiceTest, EstimateIsNeverZeroWithOrWithoutHistory) {
  Make(4);
  Json req = Request({{"strategy.params.fast", {1, 2, 3, 4}}}, 2);
  // No history: the first task calibrates (here it does not end within the timeout: a lower bound).
  auto first = opt_->Create(req, std::nullopt);
  ASSERT_TRUE(first.ok());
  const Json e1 = (*first)["estimate"];
  EXPECT_EQ(e1["basis"], "calibration");
  EXPECT_GT(e1["seconds"].get<double>(), 0);
  EXPECT_EQ(e1["tasks"], 4);
  EXPECT_EQ(e1["slots"], 2);
  EXPECT_EQ(e1["lower_bound"], true);
  const std::string id = (*first)["id"];
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& r : exec_->running()) Finish(r, 1000);
    return Status(id)["status"] == "succeeded";
  }));
  // History: ended backtest jobs.
  auto second = opt_->Create(req, std::nullopt);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)["estimate"]["basis"], "history");
  EXPECT_GE((*second)["estimate"]["samples"], 4);
  EXPECT_GT((*second)["estimate"]["seconds"].get<double>(), 0);
  ASSERT_TRUE(opt_->Cancel((*second)["id"]).ok());
}

// The estimate before launch: Create's validation (the same errors), nothing stored,
// submitted or run; history only ("none" first, then the ended jobs' median).
TEST_F(OptimizationServiceTest, EstimateBeforeCreateValidatesLikeCreateAndLeavesNoTrace) {
  Make(4);
  const Json req = Request({{"strategy.params.fast", {1, 2, 3, 4, 5, 6}}}, 2);
  auto none = opt_->EstimateBeforeCreate(req);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, (Json{{"tasks", 6}, {"slots", 2}, {"median_task_seconds", nullptr}, {"seconds", nullptr},
                         {"basis", "none"}, {"samples", 0}}));
  EXPECT_EQ(*opt_store_.Count({}), 0);
  EXPECT_TRUE(exec_->running().empty());
  EXPECT_EQ(*jobs_->Count({}), 0);
  // Every invalid request: the error Create gives, and still nothing.
  for (const Json& bad : {Json::array(), Request({{"strategy.params.fast", Json::array()}}, 2),
                          Request({{"strategy.params.fast", {1}}}, 0), Json{{"source_job_id", "opt_20990101_000000__deadbeef"}},
                          Json{{"bogus", 1}}}) {
    SCOPED_TRACE(bad.dump());
    auto e = opt_->EstimateBeforeCreate(bad);
    auto c = opt_->Create(bad, std::nullopt);
    ASSERT_FALSE(e.ok());
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(e.status().code(), c.status().code());
    EXPECT_EQ(e.status().message(), c.status().message());
    EXPECT_EQ(e.status().details(), c.status().details());
  }
  EXPECT_EQ(*opt_store_.Count({}), 0);
  EXPECT_EQ(*jobs_->Count({}), 0);
  // History: a sweep of 4 tasks; then the estimate is 6 x their median / 2.
  auto first = opt_->Create(Request({{"strategy.params.fast", {1, 2, 3, 4}}}, 2), std::nullopt);
  ASSERT_TRUE(first.ok());
  const std::string id = (*first)["id"];
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& r : exec_->running()) Finish(r, 1000);
    return Status(id)["status"] == "succeeded";
  }));
  const int64_t jobs_after_sweep = *jobs_->Count({});
  auto hist = opt_->EstimateBeforeCreate(req);
  ASSERT_TRUE(hist.ok());
  EXPECT_EQ((*hist)["basis"], "history");
  EXPECT_EQ((*hist)["samples"], 4);
  EXPECT_EQ((*hist)["slots"], 2);
  EXPECT_GT((*hist)["median_task_seconds"].get<double>(), 0);
  EXPECT_DOUBLE_EQ((*hist)["seconds"].get<double>(), 6 * (*hist)["median_task_seconds"].get<double>() / 2);
  EXPECT_EQ(*opt_store_.Count({}), 1);
  EXPECT_EQ(*jobs_->Count({}), jobs_after_sweep);
}

// On the runner path tasks overlap on every core: the estimate is tasks x the runner's wall
// seconds per task (its first chunk calibrates), never a task's own duration over the slots.
class SlowRunner final : public TaskBatchRunner {
 public:
  explicit SlowRunner(FakeRunner& inner) : inner_(inner) {}
  bool Accepts(std::string_view t, const Json& p) const override { return inner_.Accepts(t, p); }
  Status Run(const std::string& id, std::optional<std::string> owner, const std::string& project, std::span<const BatchTask> tasks,
             const std::function<void(BatchTaskResult&&)>& on_done, const std::function<bool()>& should_stop) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(5) * tasks.size());  // 5 ms of wall time a task
    return inner_.Run(id, std::move(owner), project, tasks, on_done, should_stop);
  }

 private:
  FakeRunner& inner_;
};

TEST_F(OptimizationServiceTest, RunnerPathEstimateIsTheRunnersThroughput) {
  FakeRunner inner(root_, 50);
  SlowRunner runner(inner);
  Make(4, &runner);  // calibration timeout 200 ms: the first chunk (20 x 5 ms) ends within it
  const Json req = Request({{"strategy.params.fast", {{"min", 1}, {"max", 20}, {"step", 1}}}}, 2);
  auto first = opt_->Create(req, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const Json e1 = (*first)["estimate"];
  EXPECT_EQ(e1["basis"], "calibration");
  EXPECT_EQ(e1["slots"], 1);
  EXPECT_EQ(e1["lower_bound"], false);
  // 20 tasks x ~5 ms: 0.1 s (a task's own duration over the slots would be far off).
  EXPECT_GE(e1["seconds"].get<double>(), 0.095);
  EXPECT_LT(e1["seconds"].get<double>(), 0.3);
  ASSERT_TRUE(WaitStatus((*first)["id"], "succeeded"));
  Json req2 = Request({{"strategy.params.fast", {{"min", 1}, {"max", 40}, {"step", 1}}}}, 2);
  auto second = opt_->Create(req2, std::nullopt);
  ASSERT_TRUE(second.ok());
  const Json e2 = (*second)["estimate"];
  EXPECT_EQ(e2["basis"], "history");
  EXPECT_GE(e2["seconds"].get<double>(), 0.19);
  EXPECT_LT(e2["seconds"].get<double>(), 0.6);
  ASSERT_TRUE(WaitStatus((*second)["id"], "succeeded"));
  ASSERT_TRUE(opt_->WaitIdle(5s));
}

// A runner whose call stops for a while after its first `pause_after` reported tasks (a long
// call: the built-in runner's 768 tasks take about a second).
class PausingRunner final : public TaskBatchRunner {
 public:
  PausingRunner(FakeRunner& inner, size_t pause_after, std::chrono::milliseconds pause)
      : inner_(inner), pause_after_(pause_after), pause_(pause) {}
  bool Accepts(std::string_view t, const Json& p) const override { return inner_.Accepts(t, p); }
  Status Run(const std::string& id, std::optional<std::string> owner, const std::string& project, std::span<const BatchTask> tasks,
             const std::function<void(BatchTaskResult&&)>& on_done, const std::function<bool()>& should_stop) override {
    size_t reported = 0;
    return inner_.Run(
        id, std::move(owner), project, tasks,
        [&](BatchTaskResult&& r) {
          on_done(std::move(r));
          if (++reported == pause_after_) std::this_thread::sleep_for(pause_);
        },
        should_stop);
  }

 private:
  FakeRunner& inner_;
  size_t pause_after_;
  std::chrono::milliseconds pause_;
};

TEST_F(OptimizationServiceTest, RunnerCalibrationIsTheFirstTasksOfTheFirstCall) {
  FakeRunner inner(root_, 50);
  PausingRunner runner(inner, 10, 1500ms);
  OptimizationServiceOptions options;
  options.runner_calibration_tasks = 10;
  Make(4, &runner, options);  // calibration timeout 200 ms: far shorter than the call
  const auto t0 = std::chrono::steady_clock::now();
  auto created = opt_->Create(Request({{"strategy.params.fast", {{"min", 1}, {"max", 40}, {"step", 1}}}}, 2), std::nullopt);
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const Json e = (*created)["estimate"];
  // The runner's throughput over its first 10 tasks (slots 1), not the fallback a Create takes
  // when no call has ended within the timeout (a task's own duration over the 2 slots).
  EXPECT_EQ(e["basis"], "calibration");
  EXPECT_EQ(e["slots"], 1);
  EXPECT_EQ(e["lower_bound"], false);
  EXPECT_LT(waited, 1200ms);  // answered at the 10th task, not after the call's pause
  ASSERT_TRUE(WaitStatus((*created)["id"], "succeeded"));
  ASSERT_TRUE(opt_->WaitIdle(5s));
  ASSERT_EQ(inner.calls.size(), 1u);  // the 40 tasks went to one call
  EXPECT_EQ(inner.calls[0].size(), 40u);
}

TEST_F(OptimizationServiceTest, RunnerPathRunsChunksInIndexOrderAndStopsBetweenBatches) {
  FakeRunner runner(root_, /*batch=*/50);
  OptimizationServiceOptions options;
  options.runner_chunk = 256;
  Make(4, &runner, options);
  const std::string id = CreateOk(Request({{"strategy.params.fast", {{"min", 1}, {"max", 600}, {"step", 1}}}}, 2));
  ASSERT_TRUE(WaitStatus(id, "succeeded")) << Status(id).dump();
  ASSERT_TRUE(opt_->WaitIdle(5s));
  ASSERT_EQ(runner.calls.size(), 3u);
  EXPECT_EQ(runner.calls[0].size(), 256u);
  EXPECT_EQ(runner.calls[1].size(), 256u);
  EXPECT_EQ(runner.calls[2].size(), 88u);
  int64_t expect = 0;
  for (const auto& call : runner.calls) {
    for (int64_t idx : call) EXPECT_EQ(idx, expect++);
  }
  const Json s = Summary(id);
  EXPECT_EQ(s["finished"], 600);
  EXPECT_EQ(s["best_score"], 1600.0);
  EXPECT_EQ(s["top_n"][0]["result_summary_id"], "bt_fake_600");
  EXPECT_TRUE(exec_->submits().empty());  // no process

  // Early stop by target: the runner is told to stop before its next batch.
  FakeRunner runner2(root_, 50);
  StopAll();
  Make(4, &runner2, options);
  Json req = Request({{"strategy.params.fast", {{"min", 1}, {"max", 600}, {"step", 1}}}}, 2);
  req["early_stop_policy"] = {{"target", 1070}};
  const std::string id2 = CreateOk(req);
  ASSERT_TRUE(WaitStatus(id2, "early-stopped")) << Status(id2).dump();
  ASSERT_TRUE(opt_->WaitIdle(5s));
  ASSERT_EQ(runner2.calls.size(), 1u);
  EXPECT_EQ(runner2.calls[0].size(), 100u);  // task 69 reached it inside the second batch of 50
  const Json s2 = Summary(id2);
  EXPECT_EQ(s2["finished"], 100);
  EXPECT_EQ(s2["canceled"], 500);
  EXPECT_TRUE(InvariantHolds(s2));
  EXPECT_EQ(Status(id2)["stop_reason"], "target");

  // Early stop inside the last chunk, with no task left to cancel: the tasks the runner
  // finished after the stop are stored as finished (the stored summary is not left stale).
  FakeRunner runner3(root_, 50);
  StopAll();
  Make(4, &runner3, options);
  Json req3 = Request({{"strategy.params.fast", {{"min", 1}, {"max", 100}, {"step", 1}}}}, 2);
  req3["early_stop_policy"] = {{"target", 1070}};
  const std::string id3 = CreateOk(req3);
  ASSERT_TRUE(WaitStatus(id3, "early-stopped")) << Status(id3).dump();
  ASSERT_TRUE(opt_->WaitIdle(5s));
  ASSERT_EQ(runner3.calls.size(), 1u);
  EXPECT_EQ(runner3.calls[0].size(), 100u);
  const Json s3 = Summary(id3);
  EXPECT_EQ(s3["finished"], 100);
  EXPECT_EQ(s3["queued"], 0);
  EXPECT_EQ(s3["running"], 0);
  EXPECT_TRUE(InvariantHolds(s3));
}

TEST_F(OptimizationServiceTest, TaskPagesSortByScoreAndMetrics) {
  Make(4);
  const std::string id = CreateOk(Request({{"strategy.params.fast", {1, 2, 3}}}, 3));
  ASSERT_TRUE(WaitFor([&] { return exec_->running().size() == 3; }));
  for (const auto& r : exec_->running()) Finish(r, 1000 + Fast(r), 0, 0.5 - Fast(r) / 10);
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  OptimizationTaskQuery q;
  q.sort = {"score", true};
  auto page = opt_->Tasks(id, q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ((*page)["total"], 3);
  EXPECT_EQ((*page)["items"][0]["index"], 2);
  EXPECT_EQ((*page)["items"][0]["metrics"]["final_equity"], 1003.0);
  EXPECT_FALSE((*page)["items"][0]["metrics"].contains("bt_run_id"));
  EXPECT_EQ((*page)["items"][0]["result_summary_id"].get<std::string>().rfind("bt_", 0), 0u);
  q.sort = {"max_drawdown", false};
  page = opt_->Tasks(id, q);
  EXPECT_EQ((*page)["items"][0]["index"], 2);
  EXPECT_EQ(opt_->Tasks("opt_20990101_000000__deadbeef", {}).status().code(), StatusCode::kNotFound);
}

// The models dimension: one task per model file, the model passed as the job's model_path (as
// "backtest this model" does, so the backtest takes the model's dataset, tickers and test period),
// never more than max_inflight at once, model_run_id on tasks and Top-N rows, manifest.jsonl
// appended as tasks start and end, report.md / report.json written when it ends.
TEST_F(OptimizationServiceTest, ModelsDimensionRunsEachModelAsTheJobsModelPathAndWritesManifestAndReport) {
  const std::vector<ModelChoice> models = {{"runs/r1/model.json", "r1"},
                                           {"runs/r2/model_A.json", "r2"},
                                           {"runs/r2/model_B.json", "r2"},
                                           {"runs/r3/model.json", "r3"},
                                           {"runs/r4/model.json", "r4"}};
  for (const auto& m : models) {
    fs::create_directories((root_ / m.path).parent_path());
    std::ofstream(root_ / m.path) << "{}";
  }
  OptimizationServiceOptions options;
  Json filter_seen;
  options.limits.resolve_models = [&](const Json& filter, const std::string&) -> Result<std::vector<ModelChoice>> {
    filter_seen = filter;
    return models;
  };
  FakeRunner runner(root_, 4);  // a models dimension never takes the fast path
  Make(/*capacity=*/4, &runner, options);
  Json req = Request({{"strategy.params.model_path", {{"models", {{"project", "p18"}}}}}}, 2);
  req["project"] = "p18";
  req["constraints"] = Json::array({"max_drawdown <= 0.15"});
  const std::string id = CreateOk(req);
  EXPECT_EQ(filter_seen, Json({{"project", "p18"}}));
  // equity by model; model r3's drawdown breaks the constraint
  const std::map<std::string, double> equity = {{"runs/r1/model.json", 1100},   {"runs/r2/model_A.json", 1300},
                                                {"runs/r2/model_B.json", 1200}, {"runs/r3/model.json", 1500},
                                                {"runs/r4/model.json", 900}};
  std::set<std::string> seen_models;
  size_t max_running = 0;
  for (int ended = 0; ended < 5; ++ended) {
    ASSERT_TRUE(WaitFor([&] { return !exec_->running().empty(); })) << ended;
    std::this_thread::sleep_for(20ms);
    max_running = std::max(max_running, exec_->running().size());
    const JobId j = exec_->running().front();
    const Json params = job_store_.GetJob(j)->params;
    EXPECT_EQ(job_store_.GetJob(j)->project, "p18");  // the optimization's project
    const std::string model = params.value("model_path", "");
    ASSERT_TRUE(equity.count(model)) << params.dump();
    for (const auto& o : params["overrides"]) EXPECT_EQ(o.get<std::string>().find("model_path"), std::string::npos);
    seen_models.insert(model);
    Finish(j, equity.at(model), 0, model == "runs/r3/model.json" ? 0.3 : 0.1);
    ASSERT_TRUE(WaitFor([&] { return Summary(id)["finished"] == ended + 1; }));
  }
  EXPECT_LE(max_running, 2u);
  EXPECT_TRUE(runner.calls.empty());
  EXPECT_EQ(seen_models.size(), 5u);
  ASSERT_TRUE(WaitStatus(id, "succeeded"));
  ASSERT_TRUE(opt_->WaitIdle(5s));

  // tasks: model_run_id from the model path
  auto tasks = opt_->Tasks(id, {});
  ASSERT_TRUE(tasks.ok());
  for (const Json& t : (*tasks)["items"]) {
    const std::string path = t["params"]["strategy.params.model_path"];
    for (const auto& m : models) {
      if (m.path == path) {
        EXPECT_EQ(t["model_run_id"], m.run_id) << t.dump();
      }
    }
  }
  // Top-N: r2/A (1300) then r2/B (1200), r1 (1100), r4; r3 is finished but violates the constraint
  const Json opt = *opt_->Get(id);
  const Json top = opt["summary"]["top_n"];
  ASSERT_EQ(top.size(), 4u) << top.dump();
  EXPECT_EQ(top[0]["params"]["strategy.params.model_path"], "runs/r2/model_A.json");
  EXPECT_EQ(top[0]["model_run_id"], "r2");
  EXPECT_EQ(top[0]["metrics"]["final_equity"], 1300.0);
  EXPECT_EQ(top[0]["metrics"]["max_drawdown"], 0.1);
  EXPECT_TRUE(top[0]["oos_score"].is_null());
  EXPECT_EQ(top[2]["model_run_id"], "r1");
  EXPECT_TRUE(opt["validation"].is_null());

  // the report: counts and Top 3
  auto report = opt_->Report(id);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ((*report)["counts"], Json({{"total", 5}, {"models", 5}, {"succeeded", 5}, {"failed", 0},
                                      {"canceled", 0}, {"passing", 4}}));
  ASSERT_EQ((*report)["top"].size(), 3u);
  EXPECT_EQ((*report)["top"][1]["params"]["strategy.params.model_path"], "runs/r2/model_B.json");
  EXPECT_EQ((*report)["project"], "p18");
  EXPECT_EQ((*report)["files"]["manifest"], "reports/optimizations/" + id + "/manifest.jsonl");
  const fs::path dir = root_ / "reports" / "optimizations" / id;
  ASSERT_TRUE(fs::is_regular_file(dir / "report.json"));
  const Json on_disk = Json::parse(std::ifstream(dir / "report.json"));
  EXPECT_EQ(on_disk["counts"], (*report)["counts"]);
  EXPECT_EQ(on_disk["top"], (*report)["top"]);
  std::ifstream md_in(dir / "report.md");
  const std::string md((std::istreambuf_iterator<char>(md_in)), std::istreambuf_iterator<char>());
  EXPECT_NE(md.find("| 5 | 5 | 5 | 0 | 0 | 4 |"), std::string::npos) << md;
  EXPECT_NE(md.find("[r2](/runs/r2)"), std::string::npos) << md;

  // manifest.jsonl: a start and an end line per task, in the order they happened
  std::ifstream in(dir / "manifest.jsonl");
  std::string line;
  std::map<int64_t, std::vector<std::string>> events;
  int inflight = 0, max_inflight = 0;
  while (std::getline(in, line)) {
    const Json j = Json::parse(line);
    events[j["index"].get<int64_t>()].push_back(j["event"]);
    inflight += j["event"] == "start" ? 1 : -1;
    max_inflight = std::max(max_inflight, inflight);
    EXPECT_FALSE(j["validation"].get<bool>());
    if (j["event"] == "end") {
      EXPECT_EQ(j["status"], "succeeded");
      EXPECT_EQ(j["backtest_id"], "bt_" + j["task_id"].get<std::string>());
      EXPECT_TRUE(j["train_run_id"].is_string());
      EXPECT_TRUE(j["metrics"].contains("final_equity"));
    }
  }
  EXPECT_EQ(events.size(), 5u);
  for (const auto& [index, ev] : events) EXPECT_EQ(ev, (std::vector<std::string>{"start", "end"})) << index;
  EXPECT_LE(max_inflight, 2);
}

TEST_F(OptimizationServiceTest, ModelsDimensionWithoutMatchingModelsIsA400AndCreatesNothing) {
  OptimizationServiceOptions options;
  options.limits.resolve_models = [](const Json&, const std::string&) -> Result<std::vector<ModelChoice>> {
    return std::vector<ModelChoice>{};
  };
  Make(2, nullptr, options);
  auto r = opt_->Create(Request({{"strategy.params.model_path", {{"models", {{"project", "none"}}}}}}), std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().details()["field"], "param_space.strategy.params.model_path.models");
  EXPECT_EQ(*opt_store_.Count({}), 0);
}

// Holdout validation: search tasks end the day before holdout_start; when the search has ended
// its Top-N re-run from the date (no end), outside `total`; oos_score on every Top-N row.
TEST_F(OptimizationServiceTest, HoldoutSearchEndsBeforeTheDateAndTheTopNReRunFromIt) {
  Make(/*capacity=*/4);
  Json req = Request({{"strategy.params.fast", {1, 2, 3}}}, 3);
  req["top_n"] = 2;
  req["validation"] = Json{{"holdout_start", "2016-03-01"}};
  const std::string id = CreateOk(req);
  // the search: three tasks, each ending 2016-02-29 (a leap day)
  for (int ended = 0; ended < 3; ++ended) {
    ASSERT_TRUE(WaitFor([&] { return !exec_->running().empty(); }));
    const JobId j = exec_->running().front();
    const Json params = job_store_.GetJob(j)->params;
    EXPECT_EQ(params.value("end", ""), "2016-02-29") << params.dump();
    EXPECT_FALSE(params.contains("start")) << params.dump();
    Finish(j, 1000 + 100 * Fast(j));  // in sample: fast 3 best, then 2
    ASSERT_TRUE(WaitFor([&] { return Summary(id)["finished"] == ended + 1; }));
  }
  // the re-runs of the Top-2 (fast 3, fast 2), in Top-N order: out of sample fast 2 wins
  std::map<double, double> oos_equity = {{3, 900}, {2, 1200}};
  std::vector<double> rerun_fast;
  for (int ended = 0; ended < 2; ++ended) {
    ASSERT_TRUE(WaitFor([&] { return !exec_->running().empty(); })) << ended;
    const JobId j = exec_->running().front();
    const Json params = job_store_.GetJob(j)->params;
    EXPECT_EQ(params.value("start", ""), "2016-03-01") << params.dump();
    EXPECT_FALSE(params.contains("end")) << params.dump();
    rerun_fast.push_back(Fast(j));
    Finish(j, oos_equity.at(Fast(j)));
  }
  std::sort(rerun_fast.begin(), rerun_fast.end());
  EXPECT_EQ(rerun_fast, (std::vector<double>{2, 3}));  // the Top-2 only (runs[] below is in Top-N order)
  ASSERT_TRUE(WaitFor([&] { return (*opt_->Get(id))["validation"]["status"] == "succeeded"; }));
  ASSERT_TRUE(opt_->WaitIdle(5s));
  const Json opt = *opt_->Get(id);
  EXPECT_EQ(opt["status"], "succeeded");
  EXPECT_EQ(opt["total_tasks"], 3);
  EXPECT_EQ(opt["summary"]["total"], 3);
  const Json top = opt["summary"]["top_n"];
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0]["score"], 1300.0);
  EXPECT_EQ(top[0]["oos_score"], 900.0);
  EXPECT_EQ(top[1]["score"], 1200.0);
  EXPECT_EQ(top[1]["oos_score"], 1200.0);
  EXPECT_TRUE(top[0]["oos_result_summary_id"].is_string());
  const Json v = opt["validation"];
  EXPECT_EQ(v["holdout_start"], "2016-03-01");
  ASSERT_EQ(v["runs"].size(), 2u);
  EXPECT_EQ(v["runs"][0]["index"], top[0]["index"]);
  EXPECT_EQ(v["runs"][0]["task_id"], top[0]["task_id"]);
  EXPECT_EQ(v["runs"][0]["oos_score"], 900.0);
  EXPECT_EQ(v["runs"][0]["metrics"]["final_equity"], 900.0);
  EXPECT_TRUE(v["runs"][0]["job_id"].is_string());
  EXPECT_NE(v["runs"][0]["job_id"], top[0]["task_id"]);
  // /tasks lists the search tasks only; the store holds the re-runs as validation tasks
  EXPECT_EQ((*opt_->Tasks(id, {}))["total"], 3);
  OptimizationTaskQuery vq;
  vq.validation = true;
  EXPECT_EQ(*opt_store_.CountTasks(id, vq), 2);
}

// A server restart during the holdout re-runs resumes them: at every step of the phase (before
// each re-run ends, and after the last), the optimization, its oos_scores and its report end up
// as in an uninterrupted run, with one job per re-run.
TEST_F(OptimizationServiceTest, HoldoutReRunsResumeAfterARestartAtEveryStep) {
  Make(4);
  const std::string ref = HoldoutScenario();
  const Json want = Outcome(ref);
  ASSERT_EQ(want["validation"]["status"], "succeeded") << want.dump();
  ASSERT_EQ(want["summary"]["top_n"].size(), 3u);
  EXPECT_EQ(want["summary"]["top_n"][0]["oos_score"], 900.0);
  EXPECT_EQ(want["summary"]["top_n"][1]["oos_score"], 1200.0);
  EXPECT_EQ(want["summary"]["top_n"][2]["oos_score"], 1100.0);
  EXPECT_EQ(want["report_file"], want["report"]);
  ExpectOneJobPerTask(ref);
  for (int k = 0; k < 3; ++k) {
    SCOPED_TRACE("restart before re-run " + std::to_string(k) + " ends");
    const std::string id = HoldoutScenario([&](int done) {
      if (done == k) Restart();
    });
    EXPECT_EQ(Outcome(id), want);
    ExpectOneJobPerTask(id);
  }
  // Restarts before every re-run's end in one optimization.
  {
    SCOPED_TRACE("restart before each re-run ends");
    const std::string id = HoldoutScenario([&](int) { Restart(); });
    EXPECT_EQ(Outcome(id), want);
    ExpectOneJobPerTask(id);
  }
  // After the end: nothing runs again, nothing changes.
  {
    SCOPED_TRACE("restart after the end");
    const std::string id = HoldoutScenario({}, [&](const std::string&) { Restart(); });
    EXPECT_EQ(Outcome(id), want);
    ExpectOneJobPerTask(id);
  }
}

// The windows between the steps: the search ended but its re-runs were not stored yet; a re-run's
// job was submitted but not recorded on its task; the re-runs ended but the report was not
// written. Each is resumed to the same outcome.
TEST_F(OptimizationServiceTest, HoldoutCrashWindowsResumeToTheSameOutcome) {
  Make(4);
  const Json want = Outcome(HoldoutScenario());
  {
    SCOPED_TRACE("the search ended, its re-runs not stored");
    opt_store_.FailValidationAddTasks(1, alphalab::Status::Unavailable("disk gone"));
    const std::string id = CreateOk(HoldoutRequest());
    ASSERT_TRUE(WaitFor([&] {
      for (const auto& r : exec_->running()) Finish(r, 1000 + 100 * Fast(r));
      return Status(id)["status"] == "succeeded";
    }));
    ASSERT_TRUE(WaitFor([&] { return ValidationStatus(id) == "pending"; })) << ValidationStatus(id);
    OptimizationTaskQuery vq;
    vq.validation = true;
    EXPECT_EQ(*opt_store_.CountTasks(id, vq), 0);
    EXPECT_EQ(*opt_store_.ListOpenValidations(), std::vector<std::string>{id});
    Restart();
    const std::map<double, double> oos = {{3, 900}, {2, 1200}, {1, 1100}};
    ASSERT_TRUE(WaitFor([&] {
      for (const auto& r : exec_->running()) Finish(r, oos.at(Fast(r)));
      return ValidationStatus(id) == "succeeded";
    })) << ValidationStatus(id);
    ASSERT_TRUE(opt_->WaitIdle(5s));
    EXPECT_EQ(Outcome(id), want);
    ExpectOneJobPerTask(id);
    EXPECT_TRUE(opt_store_.ListOpenValidations()->empty());
  }
  {
    SCOPED_TRACE("a re-run's job submitted, not recorded on its task");
    const std::string id = HoldoutScenario([&](int done) {
      if (done != 0) return;
      // While the first re-run (fast 3) runs, the job of the second (fast 2) is submitted and
      // the server dies before recording it.
      Restart([&] {
        SubmitOptions o;
        o.parent_id = last_id_;
        o.max_inflight = 1;
        auto orphan = jobs_->Submit("backtest",
                                    TaskJobParams(Json{{"config_path", "configs/backtest/base.yaml"}, {"start", kHoldout}},
                                                  Json{{"strategy.params.fast", 2}}),
                                    o);
        ASSERT_TRUE(orphan.ok()) << orphan.status().ToString();
        orphan_ = orphan->job_id.str();
      });
    });
    EXPECT_EQ(Outcome(id), want);
    ExpectOneJobPerTask(id);
    bool linked = false;
    for (const auto& t : Tasks(id)) linked = linked || (t.validation && t.job_id == orphan_);
    EXPECT_TRUE(linked) << "the orphan job is the second re-run's job";
  }
  {
    SCOPED_TRACE("the re-runs ended, the report not written");
    const std::string id = HoldoutScenario({}, [&](const std::string& id) {
      Restart([&] {
        // The state a crash right before the report leaves: the phase still running in the
        // stored summary, no report file.
        OptimizationRecord rec = *opt_store_.Get(id);
        rec.summary["validation"]["status"] = "running";
        rec.summary["deflated_sharpe"] = nullptr;
        ASSERT_TRUE(opt_store_.UpdateSummary(id, rec.summary, rec.updated_at).ok());
        fs::remove(root_ / "reports" / "optimizations" / id / "report.json");
        fs::remove(root_ / "reports" / "optimizations" / id / "report.md");
      });
    });
    EXPECT_EQ(Outcome(id), want);
    ExpectOneJobPerTask(id);
    EXPECT_TRUE(fs::exists(root_ / "reports" / "optimizations" / id / "report.md"));
  }
}

}  // namespace
}  // namespace alphalab::optimize

// Optimizations over HTTP against a real `alphalab serve` on a temporary workspace with the
// demo data (S&P 500 from vega-datasets): real `sma_cross` sweeps where every task is a
// backtest process (the server runs with --no-fast-path; the fast path has its own tests).
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "integration/server_harness.hpp"
#include "optimize/export_zip.hpp"

namespace alphalab::testing {
namespace {

fs::path DemoCsv() {
  return fs::path(ALPHALAB_SOURCE_DIR) / "ui" / "node_modules" / "vega-datasets" / "data" / "sp500-2000.csv";
}

const char* kDatasets = "datasets:\n  demo:\n    format: csv\n    path: data/demo\n";

// Processes whose working directory is `dir` (the server's job processes run in the workspace).
std::vector<int> ProcessesIn(const fs::path& dir) {
  std::vector<int> out;
  std::error_code ec;
  const fs::path want = fs::canonical(dir, ec);
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::error_code ec2;
    const fs::path cwd = fs::read_symlink(e.path() / "cwd", ec2);
    if (!ec2 && cwd == want && !ProcessDead(std::stoi(name))) out.push_back(std::stoi(name));
  }
  return out;
}

class OptimizationsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(DemoCsv())) << "run `make ui` (npm ci) first: " << DemoCsv();
    ws_ = std::make_unique<TempWorkspace>(kDatasets);
    fs::create_directories(ws_->root() / "data" / "demo");
    fs::copy_file(DemoCsv(), ws_->root() / "data" / "demo" / "SPX.csv", fs::copy_options::overwrite_existing);
    StartServer();
  }
  void TearDown() override {
    server_.reset();
    ws_.reset();
  }
  // Every task a process (--no-fast-path), or with `fast_path` the server's default: built-in
  // backtests through the in-process batch runner.
  void StartServer(bool fast_path = false) {
    std::vector<std::string> args{"--slots", "2"};
    if (!fast_path) args.push_back("--no-fast-path");
    server_ = std::make_unique<ServerProcess>(ws_->root(), args);
    ASSERT_TRUE(server_->Start());
  }
  ServerProcess& s() { return *server_; }

  static Json Sweep(Json space, int max_inflight = 2) {
    return Json{{"name", "sma sweep"},
                {"project", "demo"},
                {"job_type", "backtest"},
                {"base_params", {{"config_path", "configs/backtest/base.yaml"}, {"tickers", {"SPX"}}}},
                {"param_space", std::move(space)},
                {"objective", {{"metric", "final_equity"}, {"direction", "max"}}},
                {"max_inflight", max_inflight},
                {"top_n", 5}};
  }
  static Json BigGrid() {
    return Json{{"strategy.params.fast", {{"min", 5}, {"max", 50}, {"step", 5}}},
                {"strategy.params.slow", {100, 150, 200, 250}}};
  }
  Json Create(const Json& body) {
    auto r = s().Post("/api/v1/optimizations", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.JsonBody().ok() ? *r.JsonBody() : Json();
  }
  Json Status(const std::string& id) { return s().GetJson("/api/v1/optimizations/" + id + "/status"); }
  static bool Ended(const std::string& st) {
    return st == "succeeded" || st == "failed" || st == "early-stopped" || st == "canceled";
  }
  // Polls /status until the optimization ended; checks the summary invariant on every poll.
  Json WaitEnded(const std::string& id, std::chrono::seconds timeout = 120s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Json st;
    while (std::chrono::steady_clock::now() < deadline) {
      st = Status(id);
      const Json& m = st["summary"];
      EXPECT_EQ(m["finished"].get<int64_t>() + m["failed"].get<int64_t>() + m["canceled"].get<int64_t>() +
                    m["running"].get<int64_t>() + m["queued"].get<int64_t>(),
                m["total"].get<int64_t>())
          << st.dump();
      if (Ended(st.value("status", ""))) return st;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "optimization " << id << " did not end: " << st.dump();
    return st;
  }
  Json WaitFinished(const std::string& id, int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    Json st;
    while (std::chrono::steady_clock::now() < deadline) {
      st = Status(id);
      if (st["summary"]["finished"].get<int64_t>() >= n) return st;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "fewer than " << n << " finished: " << st.dump();
    return st;
  }
  // Jobs of the optimization (its tasks), from the jobs API (every page).
  std::vector<Json> JobsOf(const std::string& id) {
    std::vector<Json> out;
    for (int offset = 0;; offset += 1000) {
      const Json page = s().GetJson("/api/jobs/recent?limit=1000&offset=" + std::to_string(offset));
      for (const Json& j : page["items"]) {
        if (j["parent_id"] == id) out.push_back(j);
      }
      if (page["items"].size() < 1000) break;
    }
    return out;
  }
  std::vector<Json> TasksOf(const std::string& id, const std::string& query = "") {
    std::vector<Json> out;
    for (int offset = 0;; offset += 1000) {
      Json page = s().GetJson("/api/v1/optimizations/" + id + "/tasks?limit=1000&offset=" + std::to_string(offset) + query);
      for (Json& t : page["items"]) out.push_back(std::move(t));
      if (page["items"].size() < 1000) break;
    }
    return out;
  }
  // A single backtest job run alone with these overrides: its summary.json.
  Json SingleBacktest(const Json& params) {
    Json overrides = Json::array();
    for (const auto& [k, v] : params.items()) overrides.push_back(k + "=" + v.dump());
    auto r = s().Post("/api/jobs/backtest", {{"config_path", "configs/backtest/base.yaml"},
                                              {"tickers", {"SPX"}},
                                              {"overrides", overrides}});
    EXPECT_EQ(r.status, 200) << r.body;
    Json job = s().WaitTerminal(Json::parse(r.body)["job_id"], 60s);
    EXPECT_EQ(job["status"], "SUCCESS") << job.dump();
    EXPECT_EQ(job["parent_id"], nullptr);
    auto text = ReadFile(ws_->root() / "backtests" / job["artifacts"]["bt_run_id"].get<std::string>() / "summary.json");
    EXPECT_TRUE(text.ok());
    return text.ok() ? Json::parse(*text) : Json();
  }

  std::unique_ptr<TempWorkspace> ws_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(OptimizationsApiTest, GridSweepEndToEndWinnerEqualsASingleBacktest) {
  Json created = Create(Sweep({{"strategy.params.fast", {5, 10, 20}}, {"strategy.params.slow", {50, 100, 200}}}, 2));
  const std::string id = created["id"];
  EXPECT_EQ(id.rfind("opt_", 0), 0u);
  EXPECT_EQ(created["total_tasks"], 9);
  EXPECT_GT(created["estimate"]["seconds"].get<double>(), 0);
  EXPECT_EQ(created["estimate"]["tasks"], 9);
  // At most max_inflight tasks run at once.
  int max_running = 0;
  for (Json st = Status(id); !Ended(st["status"]); st = Status(id)) {
    int running = 0;
    for (const Json& j : JobsOf(id)) running += j["status"] == "RUNNING";
    max_running = std::max(max_running, running);
    EXPECT_LE(st["summary"]["running"].get<int64_t>(), 2);
  }
  EXPECT_LE(max_running, 2);
  const Json st = WaitEnded(id);
  ASSERT_EQ(st["status"], "succeeded") << st.dump();
  const Json& summary = st["summary"];
  EXPECT_EQ(summary["finished"], 9);
  ASSERT_EQ(summary["top_n"].size(), 5u);
  // Every task is a job of the optimization; Top-N is ordered by score.
  EXPECT_EQ(JobsOf(id).size(), 9u);
  const auto tasks = TasksOf(id, "&sort=score_desc");
  ASSERT_EQ(tasks.size(), 9u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(summary["top_n"][i]["index"], tasks[i]["index"]);
    EXPECT_EQ(summary["top_n"][i]["score"], tasks[i]["score"]);
    EXPECT_EQ(summary["top_n"][i]["task_id"], tasks[i]["job_id"]);
  }
  for (size_t i = 1; i < tasks.size(); ++i) EXPECT_GE(tasks[i - 1]["score"], tasks[i]["score"]);
  // The winner and its final equity equal a single backtest run alone with the same overrides.
  const Json& best = summary["top_n"][0];
  const Json alone = SingleBacktest(best["params"]);
  EXPECT_EQ(alone["final_equity"].get<double>(), best["score"].get<double>());
  EXPECT_EQ(alone["final_equity"].get<double>(), summary["best_score"].get<double>());
  // And so does another task (the last in the ranking).
  const Json alone_last = SingleBacktest(tasks.back()["params"]);
  EXPECT_EQ(alone_last["final_equity"].get<double>(), tasks.back()["metrics"]["final_equity"].get<double>());
  // The history shows it with its progress and best score.
  Json history = s().GetJson("/api/v1/optimizations?status=succeeded");
  ASSERT_EQ(history["total"], 1);
  EXPECT_EQ(history["items"][0]["id"], id);
  EXPECT_EQ(history["items"][0]["progress"], 1.0);
  EXPECT_EQ(history["items"][0]["best_score"], summary["best_score"]);
  // Metrics: task counts and the job timing histograms.
  auto metrics = s().Get("/metrics");
  EXPECT_NE(metrics.body.find("alphalab_optimization_tasks_total{event=\"ended\",status=\"succeeded\"} 9"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("queue_wait_seconds_count"), std::string::npos);
  EXPECT_NE(metrics.body.find("job_exec_seconds_count"), std::string::npos);
}

TEST_F(OptimizationsApiTest, EarlyStopByTargetCancelsTheRest) {
  Json body = Sweep(BigGrid(), 1);
  // Any positive equity reaches the target; min_tasks 2 lets exactly two tasks finish.
  body["early_stop_policy"] = {{"target", 1}, {"min_tasks", 2}};
  const std::string id = Create(body)["id"];
  const Json st = WaitEnded(id);
  ASSERT_EQ(st["status"], "early-stopped") << st.dump();
  EXPECT_EQ(st["stop_reason"], "target");
  EXPECT_EQ(st["summary"]["finished"], 2);
  EXPECT_EQ(st["summary"]["canceled"], 38);
  EXPECT_EQ(JobsOf(id).size(), 2u);
  for (const Json& t : TasksOf(id, "&status=canceled")) EXPECT_EQ(t["job_id"], nullptr);
}

TEST_F(OptimizationsApiTest, CancelMidRunStopsEveryProcessAndFreezesTheSummary) {
  const std::string id = Create(Sweep(BigGrid(), 2))["id"];
  WaitFinished(id, 2);
  auto r = s().Post("/api/v1/optimizations/" + id + "/cancel", Json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  const Json canceled = Json::parse(r.body);
  EXPECT_EQ(canceled["status"], "canceled");
  EXPECT_EQ(canceled["summary"]["running"], 0);
  EXPECT_EQ(canceled["summary"]["queued"], 0);
  EXPECT_GE(canceled["summary"]["finished"].get<int64_t>(), 2);
  EXPECT_FALSE(canceled["ended_at"].is_null());
  // No job of the sweep is left running, and no process runs in the workspace.
  for (const Json& j : JobsOf(id)) {
    EXPECT_TRUE(j["status"] == "SUCCESS" || j["status"] == "CANCELED" || j["status"] == "FAILED") << j.dump();
  }
  EXPECT_TRUE(ProcessesIn(ws_->root()).empty());
  std::this_thread::sleep_for(500ms);
  const Json later = s().GetJson("/api/v1/optimizations/" + id);
  EXPECT_EQ(later["summary"], canceled["summary"]) << "the summary keeps its final values";
  EXPECT_EQ(later["status"], "canceled");
  // A second cancel is a conflict (envelope), nothing changes.
  auto again = s().Post("/api/v1/optimizations/" + id + "/cancel", Json::object());
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(Json::parse(again.body)["error"]["code"], "FAILED_PRECONDITION");
}

TEST_F(OptimizationsApiTest, KillNineMidSweepThenRestartResumesWithoutDuplicates) {
  const std::string id = Create(Sweep(BigGrid(), 2))["id"];
  WaitFinished(id, 3);
  s().Kill9();
  StartServer();
  const Json st = WaitEnded(id);
  ASSERT_EQ(st["status"], "succeeded") << st.dump();
  EXPECT_EQ(st["summary"]["total"], 40);
  EXPECT_EQ(st["summary"]["finished"].get<int64_t>() + st["summary"]["failed"].get<int64_t>(), 40);
  // One job per task, never two: every task's job is distinct and the jobs of the sweep are
  // exactly the tasks' jobs.
  const auto tasks = TasksOf(id);
  ASSERT_EQ(tasks.size(), 40u);
  std::set<std::string> task_jobs;
  std::set<std::string> params;
  for (const Json& t : tasks) {
    ASSERT_TRUE(t["job_id"].is_string()) << t.dump();
    task_jobs.insert(t["job_id"].get<std::string>());
    params.insert(t["params"].dump());
    EXPECT_EQ(t["attempt"], 0);
  }
  EXPECT_EQ(task_jobs.size(), 40u);
  EXPECT_EQ(params.size(), 40u);
  std::set<std::string> jobs;
  for (const Json& j : JobsOf(id)) jobs.insert(j["job_id"].get<std::string>());
  EXPECT_EQ(jobs, task_jobs);
}

// The same on the fast path (tasks run in chunks inside the server): the server is killed
// once the first chunk is recorded and while later chunks run; after the restart the sweep
// resumes and every task ends with exactly one job and its backtests/<id>/ folder.
TEST_F(OptimizationsApiTest, FastPathKillNineMidSweepThenRestartResumesWithoutDuplicates) {
  StartServer(/*fast_path=*/true);
  // 30 x 100 = 3,000 tasks: about 12 runner chunks, seconds of work on this machine.
  const Json space{{"strategy.params.fast", {{"min", 2}, {"max", 31}, {"step", 1}}},
                   {"strategy.params.slow", {{"min", 60}, {"max", 159}, {"step", 1}}}};
  const int64_t total = 3000;
  const std::string id = Create(Sweep(space, 8))["id"];
  Json before;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  do {
    before = Status(id);
    if (before["summary"]["finished"].get<int64_t>() + before["summary"]["failed"].get<int64_t>() > 0) break;
    std::this_thread::sleep_for(5ms);
  } while (std::chrono::steady_clock::now() < deadline);
  // Tasks recorded as ended by now must keep their jobs across the restart (never run again).
  const std::vector<Json> recorded = TasksOf(id, "&status=succeeded");
  s().Kill9();
  ASSERT_EQ(before["status"], "running") << "the sweep must be mid-way when the server is killed: " << before.dump();
  const int64_t ended_before = before["summary"]["finished"].get<int64_t>() + before["summary"]["failed"].get<int64_t>();
  ASSERT_GT(ended_before, 0);
  ASSERT_LT(ended_before, total);
  ASSERT_FALSE(recorded.empty());
  ASSERT_LT(static_cast<int64_t>(recorded.size()), total);
  StartServer(/*fast_path=*/true);
  const Json st = WaitEnded(id, 300s);
  ASSERT_EQ(st["status"], "succeeded") << st.dump();
  EXPECT_EQ(st["summary"]["total"], total);
  EXPECT_EQ(st["summary"]["finished"].get<int64_t>() + st["summary"]["failed"].get<int64_t>(), total);
  EXPECT_EQ(st["summary"]["failed"], 0) << st.dump();
  const auto tasks = TasksOf(id);
  ASSERT_EQ(static_cast<int64_t>(tasks.size()), total);
  std::set<std::string> task_jobs, params, folders;
  for (const Json& t : tasks) {
    ASSERT_TRUE(t["job_id"].is_string()) << t.dump();
    EXPECT_EQ(t["status"], "succeeded") << t.dump();
    EXPECT_EQ(t["attempt"], 0);
    task_jobs.insert(t["job_id"].get<std::string>());
    params.insert(t["params"].dump());
    ASSERT_TRUE(t["result_summary_id"].is_string()) << t.dump();
    const std::string bt = t["result_summary_id"].get<std::string>();
    folders.insert(bt);
    EXPECT_TRUE(fs::exists(ws_->root() / "backtests" / bt / "summary.json")) << bt;
    EXPECT_EQ(t["result_paths"], Json::array({"backtests/" + bt + "/summary.json"})) << t.dump();
  }
  EXPECT_EQ(static_cast<int64_t>(task_jobs.size()), total);  // one job per task
  EXPECT_EQ(static_cast<int64_t>(params.size()), total);
  EXPECT_EQ(static_cast<int64_t>(folders.size()), total);  // one output folder per task
  // The jobs of the sweep are exactly the tasks' jobs: none ran twice, none is unaccounted for;
  // each succeeded with the folder its task names, and its log is on disk.
  std::set<std::string> jobs;
  std::set<std::string> job_folders;
  for (const Json& j : JobsOf(id)) {
    jobs.insert(j["job_id"].get<std::string>());
    EXPECT_EQ(j["status"], "SUCCESS") << j.dump();
    job_folders.insert(j["artifacts"]["bt_run_id"].get<std::string>());
    EXPECT_TRUE(fs::exists(ws_->root() / j["runtime"]["log_path"].get<std::string>())) << j.dump();
  }
  EXPECT_EQ(jobs, task_jobs);
  EXPECT_EQ(job_folders, folders);
  std::map<int64_t, Json> by_index;
  for (const Json& t : tasks) by_index[t["index"].get<int64_t>()] = t;
  for (const Json& t : recorded) {
    const Json& now = by_index[t["index"].get<int64_t>()];
    EXPECT_EQ(now["job_id"], t["job_id"]) << "task " << t["index"] << " ran again after the restart";
    EXPECT_EQ(now["result_summary_id"], t["result_summary_id"]);
  }
}

// Holdout re-runs are durable: the server is killed (-9) while the Top-N re-run on the holdout
// period and restarted; the missing re-runs resume, none runs twice (one job per re-run), and the
// oos_scores and the report equal those of the same sweep run without interruption.
TEST_F(OptimizationsApiTest, KillNineDuringTheHoldoutReRunsResumesThemOnce) {
  Json body = Sweep({{"strategy.params.fast", {5, 10, 20}}, {"strategy.params.slow", {50, 100}}}, 1);
  body["top_n"] = 3;
  body["validation"] = {{"holdout_start", "2016-01-01"}};
  const std::string id = Create(body)["id"];
  auto phase_ended = [&](const std::string& opt_id) {
    const Json o = s().GetJson("/api/v1/optimizations/" + opt_id);
    const std::string v = o["validation"].is_object() ? o["validation"].value("status", "") : "";
    return Ended(o.value("status", "")) && v != "pending" && v != "running" ? o : Json();
  };
  // Killed once the first re-run has started (the search has ended, its re-runs are stored).
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  Json before;
  while (std::chrono::steady_clock::now() < deadline) {
    before = s().GetJson("/api/v1/optimizations/" + id);
    if (before["validation"]["status"] == "running" && !before["validation"]["runs"].empty() &&
        before["validation"]["runs"][0]["job_id"].is_string()) {
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  s().Kill9();
  ASSERT_EQ(before["validation"]["status"], "running") << before.dump();
  ASSERT_TRUE(Ended(before["status"])) << before.dump();
  StartServer();
  Json after;
  const auto deadline2 = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline2 && (after = phase_ended(id)).is_null()) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(after.is_null()) << s().GetJson("/api/v1/optimizations/" + id).dump();
  ASSERT_EQ(after["validation"]["status"], "succeeded") << after.dump();
  const Json runs = after["validation"]["runs"];
  ASSERT_EQ(runs.size(), 3u);
  // One job per search task and per re-run: 6 + 3, each re-run's job distinct and its own.
  std::set<std::string> rerun_jobs;
  for (const Json& r : runs) {
    EXPECT_EQ(r["status"], "succeeded") << r.dump();
    ASSERT_TRUE(r["job_id"].is_string()) << r.dump();
    rerun_jobs.insert(r["job_id"].get<std::string>());
  }
  EXPECT_EQ(rerun_jobs.size(), 3u);
  EXPECT_EQ(runs[0]["job_id"], before["validation"]["runs"][0]["job_id"]) << "the first re-run kept its job";
  const auto jobs = JobsOf(id);
  EXPECT_EQ(jobs.size(), 9u) << "6 search tasks + 3 re-runs, none twice";
  for (const Json& j : jobs) EXPECT_EQ(j["status"], "SUCCESS") << j.dump();
  // The report: counts of the search, the Top 3 with their oos_score.
  const Json report = s().GetJson("/api/v1/optimizations/" + id + "/report");
  EXPECT_EQ(report["counts"]["total"], 6);
  EXPECT_EQ(report["counts"]["succeeded"], 6);
  EXPECT_EQ(report["counts"]["failed"], 0);
  EXPECT_EQ(report["counts"]["passing"], 6);
  ASSERT_EQ(report["top"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(report["top"][i]["oos_score"], runs[i]["oos_score"]) << i;
    EXPECT_TRUE(report["top"][i]["oos_score"].is_number()) << report.dump();
  }
  auto file = ReadFile(ws_->root() / "reports" / "optimizations" / id / "report.json");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(Json::parse(*file), report);
  // Manifest: one start and one end line per re-run.
  std::map<std::pair<std::string, int64_t>, int> lines;
  auto manifest = ReadFile(ws_->root() / "reports" / "optimizations" / id / "manifest.jsonl");
  ASSERT_TRUE(manifest.ok());
  std::istringstream in(*manifest);
  for (std::string line; std::getline(in, line);) {
    const Json m = Json::parse(line);
    if (m["validation"].get<bool>()) ++lines[{m["event"].get<std::string>(), m["index"].get<int64_t>()}];
  }
  EXPECT_EQ(lines.size(), 6u);
  for (const auto& [k, n] : lines) EXPECT_EQ(n, 1) << k.first << " " << k.second;
  // The same sweep without interruption gives the same scores, oos_scores and report.
  const std::string again = Create({{"source_job_id", id}})["id"];
  Json ref;
  const auto deadline3 = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline3 && (ref = phase_ended(again)).is_null()) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(ref.is_null());
  ASSERT_EQ(ref["summary"]["top_n"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(after["summary"]["top_n"][i]["params"], ref["summary"]["top_n"][i]["params"]) << i;
    EXPECT_EQ(after["summary"]["top_n"][i]["score"], ref["summary"]["top_n"][i]["score"]) << i;
    EXPECT_EQ(after["summary"]["top_n"][i]["oos_score"], ref["summary"]["top_n"][i]["oos_score"]) << i;
  }
  Json ref_report = s().GetJson("/api/v1/optimizations/" + again + "/report");
  for (Json* r : {&ref_report, const_cast<Json*>(&report)}) {
    r->erase("optimization_id");
    r->erase("files");
    for (Json& t : (*r)["top"]) {
      t.erase("task_id");
      t.erase("result_summary_id");
      t.erase("oos_result_summary_id");
    }
  }
  EXPECT_EQ(report, ref_report);
}

// Fast-path sweeps write manifest.jsonl like process sweeps: the same lines in the same order
// (a start and an end line per task, index order with max_inflight 1), ids and times masked.
TEST_F(OptimizationsApiTest, FastPathManifestEqualsTheProcessPathManifest) {
  auto masked_manifest = [&](const std::string& opt_id) {
    std::vector<Json> out;
    auto text = ReadFile(ws_->root() / "reports" / "optimizations" / opt_id / "manifest.jsonl");
    EXPECT_TRUE(text.ok()) << opt_id;
    if (!text.ok()) return out;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      Json m = Json::parse(line);
      EXPECT_TRUE(m["time"].is_string());
      EXPECT_TRUE(m["task_id"].is_string());
      if (m["event"] == "end") {
        EXPECT_TRUE(m["backtest_id"].is_string()) << m.dump();
      }
      m.erase("time");
      m.erase("task_id");
      m.erase("backtest_id");
      out.push_back(std::move(m));
    }
    return out;
  };
  const Json body = Sweep({{"strategy.params.fast", {5, 10, 20}}, {"strategy.params.slow", {50, 100}}}, 1);
  const std::string process = Create(body)["id"];  // this server runs every task as a process
  ASSERT_EQ(WaitEnded(process)["status"], "succeeded");
  const auto want = masked_manifest(process);
  ASSERT_EQ(want.size(), 12u);
  server_.reset();
  StartServer(/*fast_path=*/true);
  const std::string fast = Create(body)["id"];
  ASSERT_EQ(WaitEnded(fast)["status"], "succeeded");
  const auto got = masked_manifest(fast);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << i;
  // Each end line names the task's job and backtest folder, as the task does.
  auto text = ReadFile(ws_->root() / "reports" / "optimizations" / fast / "manifest.jsonl");
  ASSERT_TRUE(text.ok());
  std::map<int64_t, Json> tasks;
  for (const Json& t : TasksOf(fast)) tasks[t["index"].get<int64_t>()] = t;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    const Json m = Json::parse(line);
    const Json& t = tasks[m["index"].get<int64_t>()];
    EXPECT_EQ(m["task_id"], t["job_id"]);
    if (m["event"] == "end") {
      EXPECT_EQ(m["backtest_id"], t["result_summary_id"]);
    }
  }
}

TEST_F(OptimizationsApiTest, RetryFailedRerunsOnlyFailedTasksAndExtendAddsOnlyNewOnes) {
  // fast=0 is refused by the engine: that task fails.
  const std::string id = Create(Sweep({{"strategy.params.fast", {0, 10}}, {"strategy.params.slow", {50}}}, 1))["id"];
  Json st = WaitEnded(id);
  ASSERT_EQ(st["status"], "succeeded");
  EXPECT_EQ(st["summary"]["failed"], 1);
  const auto failed = TasksOf(id, "&status=failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["params"]["strategy.params.fast"], 0);
  EXPECT_FALSE(failed[0]["reason"].is_null());
  auto r = s().Post("/api/v1/optimizations/" + id + "/retry-failed", Json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["requeued"], 1);
  st = WaitEnded(id);
  EXPECT_EQ(st["summary"]["failed"], 1);  // it fails again, as it must
  EXPECT_EQ(JobsOf(id).size(), 3u);       // only the failed task ran again
  for (const Json& t : TasksOf(id)) {
    EXPECT_EQ(t["attempt"], t["params"]["strategy.params.fast"] == 0 ? 1 : 0) << t.dump();
  }
  // Extend: a wider grid adds exactly the new combinations.
  r = s().Post("/api/v1/optimizations/" + id + "/extend",
               {{"param_space", {{"strategy.params.fast", {0, 10, 20}}, {"strategy.params.slow", {50, 100}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["added"], 4);
  st = WaitEnded(id);
  ASSERT_EQ(st["status"], "succeeded") << st.dump();
  EXPECT_EQ(st["summary"]["total"], 6);
  EXPECT_EQ(st["summary"]["finished"], 4);
  EXPECT_EQ(st["summary"]["failed"], 2);  // fast=0 with slow 50 and 100
  EXPECT_EQ(JobsOf(id).size(), 7u);
  std::set<std::string> params;
  for (const Json& t : TasksOf(id)) params.insert(t["params"].dump());
  EXPECT_EQ(params.size(), 6u);
}

TEST_F(OptimizationsApiTest, RerunLinksToItsSourceAndExportMatchesTheTasks) {
  Json body = Sweep({{"strategy.params.fast", {5, 10}}, {"strategy.params.slow", {100, 200}}}, 2);
  body["constraints"] = {"max_drawdown <= 0.9"};
  body["early_stop_policy"] = {{"patience", 10}};
  const std::string src = Create(body)["id"];
  WaitEnded(src);
  // Re-run: only source_job_id (and a new name); the rest is copied.
  Json rerun = Create({{"source_job_id", src}, {"name", "again"}});
  const std::string rid = rerun["id"];
  EXPECT_EQ(rerun["source_id"], src);
  EXPECT_EQ(rerun["name"], "again");
  EXPECT_EQ(rerun["request"]["param_space"], body["param_space"]);
  EXPECT_EQ(rerun["request"]["early_stop_policy"]["patience"], 10);
  EXPECT_EQ(rerun["request"]["constraints"], body["constraints"]);
  WaitEnded(rid);
  EXPECT_EQ(s().GetJson("/api/v1/optimizations/" + src)["reruns"], Json::array({rid}));
  Json linked = s().GetJson("/api/v1/optimizations?source_id=" + src);
  ASSERT_EQ(linked["total"], 1);
  EXPECT_EQ(linked["items"][0]["id"], rid);
  EXPECT_EQ(s().GetJson("/api/v1/optimizations")["total"], 2);
  // Export: a zip whose manifest.jsonl is the task list.
  auto zip = s().Get("/api/v1/optimizations/" + src + "/export");
  ASSERT_EQ(zip.status, 200) << zip.body.substr(0, 300);
  EXPECT_EQ(zip.content_type, "application/zip");
  auto entries = optimize::ReadZip(zip.body);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::map<std::string, std::string> files;
  for (auto& e : *entries) files[e.name] = e.data;
  ASSERT_TRUE(files.count("manifest.jsonl") && files.count("report.md") && files.count("top_n.json"));
  const auto tasks = TasksOf(src);
  std::istringstream lines(files["manifest.jsonl"]);
  std::string line;
  size_t n = 0;
  for (; std::getline(lines, line); ++n) {
    ASSERT_LT(n, tasks.size());
    const Json m = Json::parse(line);
    EXPECT_EQ(m["task_id"], tasks[n]["job_id"]);
    EXPECT_EQ(m["index"], tasks[n]["index"]);
    EXPECT_EQ(m["params"], tasks[n]["params"]);
    EXPECT_EQ(m["status"], tasks[n]["status"]);
    EXPECT_EQ(m["score"], tasks[n]["score"]);
    EXPECT_EQ(m["result_summary_id"], tasks[n]["result_summary_id"]);
    EXPECT_EQ(m["result_paths"], tasks[n]["result_paths"]);
    // Each referenced result file exists in the workspace and travels in the zip (Top-N).
    for (const Json& p : m["result_paths"]) EXPECT_TRUE(fs::exists(ws_->root() / p.get<std::string>())) << p;
  }
  EXPECT_EQ(n, 4u);
  const Json top = Json::parse(files["top_n.json"]);
  const std::string best_bt = top["top_n"][0]["result_summary_id"];
  EXPECT_EQ(files["artifacts/" + best_bt + "/summary.json"], *ReadFile(ws_->root() / "backtests" / best_bt / "summary.json"));
  EXPECT_NE(files["report.md"].find(src), std::string::npos);
  // An export failure is an envelope and is counted.
  auto missing = s().Get("/api/v1/optimizations/opt_20000101_000000__00000000/export");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json::parse(missing.body)["error"]["code"], "NOT_FOUND");
  EXPECT_NE(s().Get("/metrics").body.find("alphalab_optimization_export_failures_total{code=\"NOT_FOUND\"} 1"),
            std::string::npos);
}

TEST_F(OptimizationsApiTest, EveryInvalidRequestGetsTheEnvelopeAndCreatesNothing) {
  const Json good = Sweep({{"strategy.params.fast", {5, 10}}}, 1);
  auto with = [&](const std::string& key, Json value) {
    Json b = good;
    b[key] = std::move(value);
    return b;
  };
  std::vector<std::pair<std::string, std::string>> bodies = {
      {"not json", "{"},
      {"not an object", "[1]"},
      {"unknown field", with("bogus", 1).dump()},
      {"step 0", with("param_space", {{"strategy.params.fast", {{"min", 1}, {"max", 5}, {"step", 0}}}}).dump()},
      {"empty range", with("param_space", {{"strategy.params.fast", {{"min", 5}, {"max", 1}, {"step", 1}}}}).dump()},
      {"empty list", with("param_space", {{"strategy.params.fast", Json::array()}}).dump()},
      {"bad key", with("param_space", {{"strategy..fast", {1}}}).dump()},
      {"unknown override key", with("param_space", {{"strategy.params.fast", {5}}, {"strategy.params.nope", {1}}}).dump()},
      {"unknown metric", with("objective", {{"metric", "nope"}, {"direction", "max"}}).dump()},
      {"mode mismatch", with("early_stop_policy", {{"mode", "min"}}).dump()},
      {"bad constraint", with("constraints", {"sharpe => 1"}).dump()},
      {"too many tasks",
       with("param_space", {{"a", {{"min", 0}, {"max", 1999}, {"step", 1}}}, {"b", {{"min", 0}, {"max", 999}, {"step", 1}}}})
           .dump()},
      {"unknown job type", with("job_type", "nope").dump()},
      {"missing config", with("base_params", {{"config_path", "configs/nope.yaml"}}).dump()},
      {"dry run", with("base_params", {{"config_path", "configs/backtest/base.yaml"}, {"dry_run", true}}).dump()},
      {"unknown source", Json{{"source_job_id", "opt_20000101_000000__00000000"}}.dump()},
  };
  for (const auto& [what, body] : bodies) {
    SCOPED_TRACE(what);
    auto r = s().PostRaw("/api/v1/optimizations", body);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << r.status << " " << r.body;
    auto j = r.JsonBody();
    ASSERT_TRUE(j.ok()) << r.body;
    ASSERT_TRUE((*j)["error"].is_object()) << r.body;
    EXPECT_TRUE((*j)["error"]["code"].is_string());
    EXPECT_FALSE((*j)["error"]["message"].get<std::string>().empty());
    EXPECT_TRUE((*j)["error"].contains("details"));
    // The estimate before launch validates exactly the same way: the same status and envelope.
    auto e = s().PostRaw("/api/v1/optimizations/estimate", body);
    EXPECT_EQ(e.status, r.status) << e.body;
    auto ej = e.JsonBody();
    ASSERT_TRUE(ej.ok()) << e.body;
    EXPECT_EQ((*ej)["error"], (*j)["error"]);
  }
  // Field errors name the field.
  auto r = s().Post("/api/v1/optimizations", with("param_space", {{"strategy.params.fast", {{"min", 1}, {"max", 5}, {"step", 0}}}}));
  EXPECT_EQ(Json::parse(r.body)["error"]["details"]["field"], "param_space.strategy.params.fast.step") << r.body;
  r = s().Post("/api/v1/optimizations", with("param_space", {{"strategy.params.nope", {1, 2}}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"]["details"]["field"], "param_space.strategy.params.nope") << r.body;
  // Bad ids, query parameters and bodies on the other routes.
  const std::vector<std::tuple<std::string, std::string, std::string, int>> others = {
      {"GET", "/api/v1/optimizations/bad$id", "", 400},
      {"GET", "/api/v1/optimizations/opt_20000101_000000__00000000", "", 404},
      {"GET", "/api/v1/optimizations/opt_20000101_000000__00000000/status", "", 404},
      {"GET", "/api/v1/optimizations/opt_20000101_000000__00000000/tasks", "", 404},
      {"GET", "/api/v1/optimizations?status=done", "", 400},
      {"GET", "/api/v1/optimizations?limit=5000", "", 400},
      {"GET", "/api/v1/optimizations?owner=x", "", 400},
      {"GET", "/api/v1/optimizations/opt_x/tasks?sort=score", "", 400},
      {"GET", "/api/v1/optimizations/opt_x/tasks?status=done", "", 400},
      {"POST", "/api/v1/optimizations/opt_20000101_000000__00000000/cancel", "{}", 404},
      {"POST", "/api/v1/optimizations/opt_20000101_000000__00000000/cancel", "{\"bogus\":1}", 400},
      {"POST", "/api/v1/optimizations/opt_20000101_000000__00000000/retry-failed", "{}", 404},
      {"POST", "/api/v1/optimizations/opt_20000101_000000__00000000/extend", "{\"bogus\":1}", 400},
      {"POST", "/api/v1/optimizations/opt_20000101_000000__00000000/extend", "{}", 400},
  };
  for (const auto& [method, target, body, status] : others) {
    SCOPED_TRACE(method + " " + target);
    auto resp = s().client().Request(method, target, body);
    ASSERT_TRUE(resp.ok());
    EXPECT_EQ(resp->status, status) << resp->body;
    auto j = resp->JsonBody();
    ASSERT_TRUE(j.ok()) << resp->body;
    EXPECT_TRUE((*j)["error"]["code"].is_string()) << resp->body;
  }
  EXPECT_EQ(s().GetJson("/api/v1/optimizations")["total"], 0);
  EXPECT_EQ(s().GetJson("/api/jobs/recent")["total"], 0);
}

// POST /api/v1/optimizations/estimate: the creation body, nothing created (no optimization,
// no job, no process, no file under backtests/); history only: "none" on a fresh server, then,
// after a sweep, the median of its tasks' run times x tasks / min(max_inflight, slots).
// Then the history list's comma lists (IN) on status and project.
TEST_F(OptimizationsApiTest, EstimateBeforeLaunchCreatesNothingAndUsesHistory) {
  const Json body = Sweep({{"strategy.params.fast", {5, 10, 20}}, {"strategy.params.slow", {100, 200}}}, 1);
  auto r = s().Post("/api/v1/optimizations/estimate", body);
  ASSERT_EQ(r.status, 200) << r.body;
  Json e = Json::parse(r.body);
  EXPECT_EQ(e, (Json{{"tasks", 6}, {"slots", 1}, {"median_task_seconds", nullptr}, {"seconds", nullptr},
                     {"basis", "none"}, {"samples", 0}}));
  EXPECT_EQ(s().GetJson("/api/v1/optimizations")["total"], 0);
  EXPECT_EQ(s().GetJson("/api/jobs/recent")["total"], 0);
  EXPECT_FALSE(fs::exists(ws_->root() / "backtests") && !fs::is_empty(ws_->root() / "backtests"));
  EXPECT_TRUE(ProcessesIn(ws_->root()).empty());

  // A 2-task sweep gives the history (2 successful backtest jobs).
  const Json created = Create(Sweep({{"strategy.params.fast", {5, 10}}}, 2));
  const std::string id = created["id"];
  EXPECT_EQ(WaitEnded(id)["status"], "succeeded");
  std::vector<double> runs;
  for (const Json& j : JobsOf(id)) {
    const double secs = std::chrono::duration<double>(*ParseIso8601(j["ended_at"].get<std::string>()) -
                                                      *ParseIso8601(j["started_at"].get<std::string>()))
                            .count();
    runs.push_back(secs);
  }
  ASSERT_EQ(runs.size(), 2u);
  const double median = (runs[0] + runs[1]) / 2;
  const int64_t jobs_before = s().GetJson("/api/jobs/recent")["total"];
  for (int max_inflight : {1, 2, 8}) {
    SCOPED_TRACE(max_inflight);
    Json b = body;
    b["max_inflight"] = max_inflight;
    r = s().Post("/api/v1/optimizations/estimate", b);
    ASSERT_EQ(r.status, 200) << r.body;
    e = Json::parse(r.body);
    const int64_t slots = std::min(max_inflight, 2);  // the server runs with --slots 2
    EXPECT_EQ(e["basis"], "history");
    EXPECT_EQ(e["samples"], 2);
    EXPECT_EQ(e["tasks"], 6);
    EXPECT_EQ(e["slots"], slots);
    EXPECT_NEAR(e["median_task_seconds"].get<double>(), std::max(median, 0.001), 0.002);
    EXPECT_NEAR(e["seconds"].get<double>(), 6 * e["median_task_seconds"].get<double>() / static_cast<double>(slots),
                1e-9);
  }
  EXPECT_EQ(s().GetJson("/api/jobs/recent")["total"], jobs_before);
  EXPECT_EQ(s().GetJson("/api/v1/optimizations")["total"], 1);

  // The history list: a comma list is IN.
  EXPECT_EQ(s().GetJson("/api/v1/optimizations?status=succeeded,canceled")["total"], 1);
  EXPECT_EQ(s().GetJson("/api/v1/optimizations?status=queued,running")["total"], 0);
  EXPECT_EQ(s().GetJson("/api/v1/optimizations?project=other,demo")["total"], 1);
  EXPECT_EQ(s().GetJson("/api/v1/optimizations?project=other")["total"], 0);
  auto bad_status = s().Get("/api/v1/optimizations?status=succeeded,done");
  EXPECT_EQ(bad_status.status, 400);
  EXPECT_EQ(Json::parse(bad_status.body)["error"]["details"]["parameter"], "status") << bad_status.body;
}

// A job type declared in alphalab.yaml whose results are a LEAN `*-summary.json` (the fixture
// program writes one from its --set fast/slow, see tests/fixtures/fixture_job.cpp): swept by
// POST /api/v1/optimizations, ranked by a LEAN statistic, a quoted LEAN name as constraint.
class UserTypeOptimizationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string fixture = (BinDir() / "alphalab-fixture-job").string();
    ws_ = std::make_unique<TempWorkspace>(
        "  lean-sma:\n"
        "    description: LEAN-format fixture backtest\n"
        "    argv: [\"" + fixture + "\", \"{overrides}\", --lean-summary, \"results/{job_id}\"]\n"
        "    results: {parser: lean_summary, path: \"results/{job_id}/*-summary.json\"}\n");
    server_ = std::make_unique<ServerProcess>(ws_->root(), std::vector<std::string>{"--slots", "2"});
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override {
    server_.reset();
    ws_.reset();
  }
  // What the fixture prints for (fast, slow), computed here independently (and rounded as printed).
  static double Sharpe(double f, double s) {
    return std::round((2.0 - 0.1 * std::fabs(f - 10) - 0.01 * std::fabs(s - 40)) * 1000) / 1000;
  }
  static double Drawdown(double f) { return std::round((0.05 + 0.01 * f) * 1000) / 1000; }

  std::unique_ptr<TempWorkspace> ws_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(UserTypeOptimizationTest, LeanSummarySweepRankedByAQuotedStatisticWithAConstraint) {
  ServerProcess& s = *server_;
  // The job type advertises how its results are read.
  bool listed = false;
  const Json types = s.GetJson("/api/job-types");
  for (const Json& t : types["job_types"]) {
    if (t["name"] != "lean-sma") continue;
    listed = true;
    EXPECT_EQ(t["results"], (Json{{"kind", nullptr}, {"parser", "lean_summary"}, {"path", "results/{job_id}/*-summary.json"}}));
  }
  EXPECT_TRUE(listed);
  const Json body = {{"name", "lean sweep"},
                     {"job_type", "lean-sma"},
                     {"param_space", {{"fast", {5, 10, 15}}, {"slow", {20, 40, 60}}}},
                     {"objective", {{"metric", "Sharpe Ratio"}, {"direction", "max"}}},
                     {"constraints", {"\"Drawdown\" <= 0.12"}},
                     {"max_inflight", 2},
                     {"top_n", 5}};
  // Unknown LEAN names are refused naming the field, and nothing is created.
  Json bad = body;
  bad["objective"]["metric"] = "Sharpe";
  auto r = s.Post("/api/v1/optimizations", bad);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json::parse(r.body)["error"]["details"]["field"], "objective.metric") << r.body;
  bad = body;
  bad["constraints"] = {"\"Draw down\" <= 0.12"};
  r = s.Post("/api/v1/optimizations", bad);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json::parse(r.body)["error"]["details"]["field"], "constraints[0]") << r.body;
  EXPECT_EQ(s.GetJson("/api/v1/optimizations")["total"], 0);

  r = s.Post("/api/v1/optimizations", body);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = Json::parse(r.body)["id"];
  Json st;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    st = s.GetJson("/api/v1/optimizations/" + id + "/status");
    const std::string status = st.value("status", "");
    if (status == "succeeded" || status == "failed" || status == "early-stopped" || status == "canceled") break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(st["status"], "succeeded") << st.dump();
  EXPECT_EQ(st["summary"]["finished"], 9);
  EXPECT_EQ(st["summary"]["failed"], 0);

  // Every task's metrics are its LEAN statistics as numbers (percentages as fractions).
  const Json page = s.GetJson("/api/v1/optimizations/" + id + "/tasks?limit=100");
  ASSERT_EQ(page["items"].size(), 9u);
  std::vector<std::pair<double, int64_t>> expected;  // (score, index) of the tasks that pass
  for (const Json& t : page["items"]) {
    const double f = t["params"]["fast"].get<double>(), sl = t["params"]["slow"].get<double>();
    EXPECT_DOUBLE_EQ(t["metrics"]["Sharpe Ratio"].get<double>(), Sharpe(f, sl)) << t.dump();
    EXPECT_DOUBLE_EQ(t["metrics"]["Drawdown"].get<double>(), Drawdown(f)) << t.dump();
    EXPECT_DOUBLE_EQ(t["metrics"]["Compounding Annual Return"].get<double>(),
                     std::round(0.05 * Sharpe(f, sl) * 100 * 1000) / 1000 / 100);
    EXPECT_DOUBLE_EQ(t["metrics"]["runtimeStatistics.Equity"].get<double>(),
                     std::round(100000.0 * (1 + 0.05 * (2.0 - 0.1 * std::fabs(f - 10) - 0.01 * std::fabs(sl - 40))) * 100) / 100);
    const bool passes = Drawdown(f) <= 0.12;
    EXPECT_EQ(t["ranked"], passes) << t.dump();
    if (passes) {
      expected.emplace_back(Sharpe(f, sl), t["index"].get<int64_t>());
    } else {
      EXPECT_NE(t["reason"].get<std::string>().find("Drawdown"), std::string::npos) << t.dump();
    }
    const std::string job_id = t["job_id"];
    EXPECT_EQ(t["result_paths"], Json::array({"results/" + job_id + "/FixtureSmaAlgorithm-summary.json"}));
    EXPECT_EQ(t["result_summary_id"], nullptr);
  }
  // Ranked by score (descending), ties by task index: only fast=5 passes the constraint (the
  // unconstrained best, fast=10, has a 15% drawdown).
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  ASSERT_EQ(expected.size(), 3u);
  const Json& top = st["summary"]["top_n"];
  ASSERT_EQ(top.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(top[i]["index"], expected[i].second) << top.dump();
    EXPECT_DOUBLE_EQ(top[i]["score"].get<double>(), expected[i].first);
  }
  EXPECT_EQ(top[0]["params"], (Json{{"fast", 5}, {"slow", 40}}));
  EXPECT_DOUBLE_EQ(st["summary"]["best_score"].get<double>(), 1.5);

  // The export's manifest lists every task with its LEAN result file.
  auto zip = s.Get("/api/v1/optimizations/" + id + "/export");
  ASSERT_EQ(zip.status, 200) << zip.body.substr(0, 300);
  auto entries = optimize::ReadZip(zip.body);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::map<std::string, std::string> files;
  for (auto& e : *entries) files[e.name] = e.data;
  std::istringstream lines(files["manifest.jsonl"]);
  std::string line;
  size_t n = 0;
  for (; std::getline(lines, line); ++n) {
    ASSERT_LT(n, page["items"].size());
    const Json m = Json::parse(line);
    const Json& t = page["items"][n];
    EXPECT_EQ(m["task_id"], t["job_id"]);
    EXPECT_EQ(m["index"], t["index"]);
    EXPECT_EQ(m["status"], "succeeded");
    EXPECT_EQ(m["score"], t["score"]);
    EXPECT_EQ(m["result_paths"], t["result_paths"]);
    for (const Json& p : m["result_paths"]) EXPECT_TRUE(fs::exists(ws_->root() / p.get<std::string>())) << p;
  }
  EXPECT_EQ(n, 9u);
  const Json top_file = Json::parse(files["top_n.json"]);
  EXPECT_EQ(top_file["top_n"][0]["params"], (Json{{"fast", 5}, {"slow", 40}}));
}

}  // namespace
}  // namespace alphalab::testing

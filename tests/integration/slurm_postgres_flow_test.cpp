// Issue 18 "Done when" as one test: `alphalab serve --db postgresql://...` with `executor: slurm`
// on a copy of the example workspace runs a train, a backtest of that model and the example
// sweep (configs/sweeps/sma_grid.yaml through `alphalab optimize`, i.e. POST
// /api/v1/optimizations) end to end: every job SUCCESS as a Slurm job (executor_state
// COMPLETED, executor_ref slurm:<id> in the PostgreSQL jobs table; the sweep's tasks as job
// array tasks, slurm:<arrayid>_<index>), the sweep ended with its
// Top-N, every log readable through the API. Needs both test services (make test starts them):
// skips without ALPHALAB_TEST_SLURM_CONF / ALPHALAB_TEST_PG_URL, fails without them when CI=true.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "exec/slurm_test_cluster.hpp"
#include "flows/flow_support.hpp"
#include "integration/pg_test_database.hpp"
#include "store/postgres/pg_job_store.hpp"

namespace alphalab::testing {
namespace {

using flows::CmdResult;
using flows::FlowWorkspace;

// The workspace's own alphalab.yaml with `executor.type: local` turned into slurm.
void UseSlurm(const FlowWorkspace& ws) {
  const std::string yaml = flows::Slurp(ws / "alphalab.yaml");
  const std::string changed = std::regex_replace(yaml, std::regex("\n  type: local\\b"), "\n  type: slurm");
  ASSERT_NE(changed, yaml) << "no `type: local` under executor: in examples/workspace/alphalab.yaml";
  ws.Write("alphalab.yaml", changed);
}

// The job as the PostgreSQL store holds it.
JobRecord StoredJob(const std::string& db_url, const std::string& id) {
  auto pg = PgDb::Open(db_url);
  EXPECT_TRUE(pg.ok()) << pg.status().ToString();
  if (!pg.ok()) return {};
  auto store = PostgresJobStore::Open(**pg);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return {};
  auto job = (*store)->GetJob(JobId(id));
  EXPECT_TRUE(job.ok()) << id << ": " << job.status().ToString();
  return job.ok() ? *job : JobRecord{};
}

// A finished job ran on Slurm, succeeded, and its log reads through the API.
// An optimization's task (`array_task`) ran as a job array's task: slurm:<arrayid>_<index>.
void ExpectRanOnSlurm(ServerProcess& server, const std::string& db_url, const std::string& id,
                      const std::string& log_text, bool array_task = false) {
  const Json j = server.GetJson("/api/jobs/" + id);
  EXPECT_EQ(j.value("status", ""), "SUCCESS") << j.dump();
  EXPECT_EQ(j["artifacts"].value("executor_state", ""), "COMPLETED") << j.dump();
  const JobRecord rec = StoredJob(db_url, id);
  const std::string ref = rec.executor_ref.value_or("(none)");
  EXPECT_TRUE(std::regex_match(ref, std::regex(array_task ? "slurm:[0-9]+_[0-9]+" : "slurm:[0-9]+"))) << id << ": " << ref;
  const Json log = server.GetJson("/api/jobs/" + id + "/log?offset=0&tail=20000");
  EXPECT_NE(log.value("content", "").find(log_text), std::string::npos) << id << " log: " << log.dump();
}

Json RunJob(ServerProcess& server, const std::string& path, const Json& body) {
  auto r = server.Post(path, body);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  const std::string id = Json::parse(r.body, nullptr, false).value("job_id", "");
  if (id.empty()) return Json();
  Json j = server.WaitTerminal(id, 180s);
  if (j.value("status", "") != "SUCCESS") {
    ADD_FAILURE() << path << " " << j.dump() << "\nlog:\n" << server.Get("/api/jobs/" + id + "/log?offset=0&tail=4000").body;
  }
  return j;
}

TEST(SlurmPostgresFlow, TrainBacktestAndTheExampleSweepRunOnSlurmWithStateInPostgres) {
  ALPHALAB_REQUIRE_SLURM();
  ALPHALAB_REQUIRE_PG();
  PgTestDatabase db;
  FlowWorkspace ws;
  UseSlurm(ws);
  ServerProcess server(ws.root(), {"--db", db.url()});
  ASSERT_TRUE(server.Start());

  // Train on the demo data (S&P 500), a small model so the test stays short.
  const Json train = RunJob(server, "/api/jobs/train",
                            Json{{"config_path", "configs/base.yaml"},
                                 {"overrides", Json::array({"model.params.num_round=20", "model.params.nthread=1"})}});
  const std::string run_id = train["artifacts"].value("run_id", "");
  ASSERT_FALSE(run_id.empty()) << train.dump();
  ExpectRanOnSlurm(server, db.url(), train.value("job_id", ""), run_id);
  const Json manifest = flows::ReadJsonFile(ws / ("runs/" + run_id + "/manifest.json"));
  ASSERT_TRUE(manifest.contains("models") && manifest["models"].contains("SPX")) << manifest.dump();
  // The run is in the registry (PostgreSQL) through the API. The registry indexes a run after
  // its job's end is stored (docs/registry.md), so a loaded machine may show SUCCESS first.
  Json runs;
  for (const auto until = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(100ms)) {
    runs = server.GetJson("/api/runs?limit=50");
    if (runs.dump().find(run_id) != std::string::npos) break;
  }
  EXPECT_NE(runs.dump().find(run_id), std::string::npos) << runs.dump().substr(0, 2000);

  // A backtest of that model.
  const Json bt = RunJob(server, "/api/jobs/backtest",
                         Json{{"config_path", "configs/backtest/base.yaml"},
                              {"model_path", manifest["models"]["SPX"].get<std::string>()}});
  const std::string bt_id = bt["artifacts"].value("bt_run_id", "");
  ASSERT_FALSE(bt_id.empty()) << bt.dump();
  ExpectRanOnSlurm(server, db.url(), bt.value("job_id", ""), bt_id);
  EXPECT_EQ(server.GetJson("/api/backtests/" + bt_id).value("bt_run_id", ""), bt_id);

  // The example sweep, as a user runs it against a server.
  const CmdResult opt = flows::RunAlphalab({"optimize", "--config", "configs/sweeps/sma_grid.yaml", "--server",
                                            server.url(), "--workspace", ws.root().string(), "--json", "--no-progress"},
                                           ws.root(), 900s);
  ASSERT_EQ(opt.exit_code, 0) << flows::Describe(opt);
  const Json end = Json::parse(opt.out, nullptr, false);
  ASSERT_TRUE(end.is_object()) << opt.out;
  const std::string status = end.value("status", "");
  EXPECT_TRUE(status == "succeeded" || status == "early-stopped") << end.dump();
  const Json& summary = end["summary"];
  EXPECT_EQ(summary.value("failed", -1), 0) << summary.dump();
  EXPECT_GE(summary.value("finished", 0), 30) << summary.dump();  // early stop waits for 30
  ASSERT_TRUE(summary["top_n"].is_array()) << summary.dump();
  EXPECT_EQ(summary["top_n"].size(), 10u) << summary.dump();
  // The ranked tasks ran on Slurm like any job; their logs read through the API.
  for (const Json& row : summary["top_n"]) {
    const std::string task = row.value("task_id", "");
    ExpectRanOnSlurm(server, db.url(), task, row.value("result_summary_id", "bt_"), /*array_task=*/true);
  }
  const std::string opt_id = end.value("id", "");
  const Json stored = server.GetJson("/api/v1/optimizations/" + opt_id);
  EXPECT_EQ(stored.value("status", ""), status) << stored.dump().substr(0, 2000);
  // An early stop cancels the tasks still in Slurm (scancel of the array's tasks): soon none runs.
  Json now;
  const auto until = std::chrono::steady_clock::now() + 60s;
  do {
    now = server.GetJson("/api/v1/optimizations/" + opt_id + "/status")["summary"];
    if (now.value("running", -1) == 0) break;
    std::this_thread::sleep_for(200ms);
  } while (std::chrono::steady_clock::now() < until);
  EXPECT_EQ(now.value("running", -1), 0) << now.dump().substr(0, 1000);
  EXPECT_EQ(now.value("failed", -1), 0) << now.dump().substr(0, 1000);
  EXPECT_EQ(now.value("finished", 0) + now.value("canceled", 0), 100) << now.dump().substr(0, 1000);
  EXPECT_TRUE(fs::exists(end.value("export_path", ""))) << end.dump().substr(0, 2000);
}

}  // namespace
}  // namespace alphalab::testing

// The external-agent job end to end: a real `alphalab serve`, real HTTP on 127.0.0.1 and the
// RD-Agent stand-in (bin/alphalab-rdagent-standin, src/tools) as the job's program: params reach
// argv, the work folder is its cwd, loop progress is visible while it runs, qlib_res.csv is
// parsed into the task's metrics, artifacts are listed and downloaded (traversal and symlinks
// refused), a failing run fails, a cancel stops its process tree.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "server_harness.hpp"

namespace alphalab::testing {
namespace {

std::string RdagentYaml() {
  const std::string standin = (BinDir() / "alphalab-rdagent-standin").string();
  return "storage:\n  db: sqlite:alphalab.db\n"
         "roots:\n  rdagent: tools/rdagent\n"
         "configs:\n  rdagent:\n    root: rdagent\n    files:\n      - {path: .env, kind: env}\n"
         "job_types:\n"
         "  rdagent-fin-quant:\n"
         "    tool: rdagent\n"
         "    argv: [\"" + standin + "\", fin_quant, [--loop-n, \"{loop_n}\"], [--all-duration, \"{all_duration}\"]]\n"
         "    params:\n"
         "      dataset_ids: {type: list}\n"
         "      loop_n: {type: int, min: 1, default: 1}\n"
         "      all_duration: {type: string}\n"
         "      step_seconds: {type: string, default: '0.05'}\n"
         "      fail: {type: enum, choices: ['0', '1'], default: '0'}\n"
         "      pid_file: {type: string}\n"
         "    results: {parser: qlib_res, path: 'reports/jobs/runtime/{job_id}/work/qlib_res.csv'}\n"
         "    env: {STANDIN_STEP_SECONDS: '{step_seconds}', STANDIN_FAIL: '{fail}', STANDIN_PID_FILE: '{pid_file}'}\n";
}

class RdagentApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = std::make_unique<TempWorkspace>();
    fs::create_directories(ws_->root() / "tools" / "rdagent");
    std::ofstream(ws_->root() / "tools" / "rdagent" / ".env") << "OPENAI_API_BASE=http://127.0.0.1:9/v1\n";
    std::ofstream(ws_->root() / "alphalab.yaml") << RdagentYaml();
    server_ = std::make_unique<ServerProcess>(ws_->root());
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override { server_->Stop(); }
  std::string Submit(const Json& body) {
    auto r = server_->Post("/api/rdagent/tasks", body);
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = r.JsonBody();
    return j.ok() ? j->value("job_id", "") : "";
  }
  std::unique_ptr<TempWorkspace> ws_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(RdagentApiTest, RunsTheStandInWithItsParamsInItsWorkFolderAndParsesItsResults) {
  // Slow enough steps to watch a loop while it runs.
  const std::string id = Submit(Json{{"loop_n", 2}, {"all_duration", "1h"}, {"dataset_ids", {"synthetic"}},
                                     {"step_seconds", "0.25"}});
  ASSERT_FALSE(id.empty());
  const std::string task = "/api/rdagent/tasks/" + id;
  Json running;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    running = server_->GetJson(task);
    if (running["job"]["status"] == "RUNNING" && running["progress"]["loop"].is_number()) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(running["job"]["status"], "RUNNING") << running.dump();
  EXPECT_TRUE(running["progress"]["step_name"].is_string()) << running.dump();
  EXPECT_TRUE(running["metrics"].is_null());

  const Json done = server_->WaitTerminal(id, 30s);
  ASSERT_EQ(done["status"], "SUCCESS") << done.dump();
  const fs::path work = ws_->root() / "reports" / "jobs" / "runtime" / id / "work";
  EXPECT_EQ(done["command"], Json({(BinDir() / "alphalab-rdagent-standin").string(), "fin_quant", "--loop-n", "2",
                                   "--all-duration", "1h"}));
  EXPECT_EQ(done["cwd"], "reports/jobs/runtime/" + id + "/work");  // workspace-relative
  EXPECT_EQ(done["params"]["dataset_ids"], Json({"synthetic"}));
  EXPECT_EQ(done["artifacts"]["work_dir"], "reports/jobs/runtime/" + id + "/work");

  const Json view = server_->GetJson(task);
  EXPECT_EQ(view["progress"]["loops_started"], 2);
  EXPECT_EQ(view["progress"]["step_name"], "record");
  ASSERT_TRUE(view["metrics"].is_object()) << view.dump();
  EXPECT_NEAR(view["metrics"]["IC"].get<double>(), 0.025, 1e-9);  // the stand-in's second loop
  EXPECT_NEAR(view["metrics"]["1day.excess_return_with_cost.annualized_return"].get<double>(), 0.063, 1e-9);
  ASSERT_EQ(view["loop_results"].size(), 2u);
  EXPECT_EQ(view["loop_results"][0]["path"], "work/RD-Agent_workspace/loop_0/qlib_res.csv");
  EXPECT_NEAR(view["loop_results"][0]["metrics"]["IC"].get<double>(), 0.021, 1e-9);

  const Json log = server_->GetJson(task + "/logs?offset=0");
  const std::string content = log["content"];
  EXPECT_NE(content.find("Start Loop 1, Step 4: record"), std::string::npos) << content;
  EXPECT_NE(content.find("cwd: " + work.string()), std::string::npos) << content;
  EXPECT_NE(content.find("Qlib templates in the workspace: 0"), std::string::npos) << content;
  // With all_duration, RD-Agent's timer line before each step (loop.py _check_exit_conditions_on_step).
  EXPECT_NE(content.find("rdagent.utils.workflow.loop:_check_exit_conditions_on_step:192 - Timer remaining time: 0:59:"),
            std::string::npos)
      << content;
  // Accept: text/event-stream on the same path selects the SSE stream of the log (ended job: all of it).
  std::string streamed;
  auto sse = server_->client().Stream(task + "/logs", [&](std::string_view d) {
    streamed.append(d);
    return streamed.find("Start Loop 1, Step 4: record") == std::string::npos;
  });
  ASSERT_TRUE(sse.ok()) << sse.status().ToString();
  EXPECT_EQ(*sse, 200);
  EXPECT_NE(streamed.find("data: "), std::string::npos) << streamed.substr(0, 300);
  EXPECT_NE(streamed.find("Start Loop 1, Step 4: record"), std::string::npos) << streamed.substr(0, 300);

  // Listed in the task's and the job's artifacts; ret.pkl downloads byte for byte, unparsed.
  const Json arts = server_->GetJson(task + "/artifacts");
  std::set<std::string> paths;
  for (const Json& a : arts["items"]) paths.insert(a["path"].get<std::string>());
  EXPECT_TRUE(paths.count("job.log") && paths.count("work/qlib_res.csv") && paths.count("work/ret.pkl") &&
              paths.count("work/RD-Agent_workspace/loop_1/ret.pkl"))
      << arts.dump();
  EXPECT_EQ(server_->GetJson("/api/jobs/" + id + "/artifacts?limit=1&offset=1")["items"].size(), 1u);
  auto pkl = server_->Get("/api/jobs/" + id + "/artifacts/work/ret.pkl");
  ASSERT_EQ(pkl.status, 200);
  auto expected = ReadFile(work / "ret.pkl");
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(pkl.body, *expected);
  EXPECT_EQ(pkl.body.substr(0, 2), "\x80\x04");
  auto csv = server_->Get("/api/jobs/" + id + "/artifacts/work%2Fqlib_res.csv");  // encoded slash too
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body.substr(0, 3), ",0\n");

  // Nothing outside the job's folder: '..' is a 400, a symlink out a 404, both enveloped.
  auto up = server_->Get("/api/jobs/" + id + "/artifacts/work/..%2F..%2F..%2F..%2F..%2Falphalab.yaml");
  EXPECT_EQ(up.status, 400) << up.body;
  EXPECT_NE(up.body.find("\"error\""), std::string::npos);
  fs::create_symlink(ws_->root() / "alphalab.yaml", work / "config_link.yaml");
  auto link = server_->Get("/api/jobs/" + id + "/artifacts/work/config_link.yaml");
  EXPECT_EQ(link.status, 404) << link.body;
  EXPECT_EQ(link.body.find("storage"), std::string::npos);
  EXPECT_EQ(server_->Get("/api/jobs/" + id + "/artifacts/work/nope.csv").status, 404);
}

// The datasets API over HTTP through the RD-Agent views: an instruments upload reports each bad
// or unknown symbol with its line and writes nothing; the new dataset is listed; deleting it is a
// 409 naming the task while a task uses it, and works once the task has ended.
TEST_F(RdagentApiTest, DatasetUploadsReportBadLinesAndADeleteWaitsForTheTaskUsingIt) {
  for (const char* sym : {"AAA", "BBB"}) {
    fs::create_directories(ws_->root() / "data" / "mkt");
    std::ofstream(ws_->root() / "data" / "mkt" / (std::string(sym) + ".csv"))
        << "date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,1000\n2020-01-03,10.5,11.5,10,11,1200\n";
  }
  auto made = server_->Post("/api/datasets", Json{{"name", "mkt"}, {"format", "csv"}, {"path", "data/mkt"}});
  ASSERT_EQ(made.status, 200) << made.body;
  auto bad = server_->Post("/api/rdagent/datasets/upload-instruments",
                           Json{{"name", "pick"}, {"dataset", "mkt"}, {"content", "AAA\nZZZ\nbad sym!\n"}});
  ASSERT_EQ(bad.status, 400) << bad.body;
  const Json problems = bad.JsonBody().value()["error"]["details"]["problems"];
  ASSERT_EQ(problems.size(), 2u) << problems.dump();
  EXPECT_EQ(problems[0]["line"], 2);
  EXPECT_EQ(problems[0]["symbol"], "ZZZ");
  EXPECT_EQ(problems[1]["line"], 3);
  EXPECT_FALSE(fs::exists(ws_->root() / "datasets" / "pick.yaml"));
  auto good = server_->Post("/api/rdagent/datasets/upload-instruments",
                            Json{{"name", "pick"}, {"dataset", "mkt"}, {"content", "AAA\n"}});
  ASSERT_EQ(good.status, 200) << good.body;
  std::set<std::string> names;
  const Json listed = server_->GetJson("/api/rdagent/datasets");
  for (const Json& d : listed["items"]) names.insert(d["name"].get<std::string>());
  EXPECT_TRUE(names.count("pick") && names.count("mkt")) << listed.dump();

  const std::string id = Submit(Json{{"loop_n", 3}, {"dataset_ids", {"pick"}}, {"step_seconds", "0.3"}});
  ASSERT_FALSE(id.empty());
  auto in_use = server_->client().Request("DELETE", "/api/datasets/pick");
  ASSERT_TRUE(in_use.ok());
  EXPECT_EQ(in_use->status, 409) << in_use->body;
  EXPECT_NE(in_use->body.find(id), std::string::npos) << in_use->body;
  EXPECT_TRUE(fs::exists(ws_->root() / "datasets" / "pick.yaml"));
  ASSERT_TRUE(server_->Post("/api/rdagent/tasks/" + id + "/cancel", Json::object()).status == 200);
  server_->WaitTerminal(id, 20s);
  auto gone = server_->client().Request("DELETE", "/api/datasets/pick");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 200) << gone->body;
  EXPECT_FALSE(fs::exists(ws_->root() / "datasets" / "pick.yaml"));
}

TEST_F(RdagentApiTest, AFailingRunFailsAndBadParamsAreRefusedBeforeAnythingRuns) {
  const std::string id = Submit(Json{{"loop_n", 1}, {"fail", "1"}, {"dataset_ids", {"demo", "synthetic"}}});
  const Json done = server_->WaitTerminal(id, 30s);
  EXPECT_EQ(done["status"], "FAILED") << done.dump();
  EXPECT_EQ(done["exit_code"], 1);
  const Json view = server_->GetJson("/api/rdagent/tasks/" + id);
  EXPECT_TRUE(view["metrics"].is_null());
  EXPECT_NE(server_->GetJson("/api/rdagent/tasks/" + id + "/logs")["content"].get<std::string>().find("Traceback"),
            std::string::npos);

  auto bad = server_->Post("/api/rdagent/tasks", Json{{"loop_n", 0}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("loop_n"), std::string::npos);
  auto unknown = server_->Post("/api/rdagent/tasks", Json{{"command", "rm -rf /"}});
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  const Json list = server_->GetJson("/api/rdagent/tasks");
  EXPECT_EQ(list["total"], 1);  // only the failed run exists
  auto dry = server_->Post("/api/rdagent/tasks", Json{{"loop_n", 3}, {"dry_run", true}});
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(dry.JsonBody()->value("status", ""), "SUCCESS");
  EXPECT_EQ(server_->Get("/api/rdagent/tasks/job_20000101_000000__00000000").status, 404);
}

TEST_F(RdagentApiTest, CancelStopsTheAgentAndItsChildren) {
  const fs::path pid_file = ws_->root() / "pids" / "agent.pid";
  const std::string id = Submit(Json{{"loop_n", 100}, {"step_seconds", "0.5"}, {"pid_file", pid_file.string()}});
  int agent = 0, child = 0;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline && child == 0) {
    std::ifstream in(pid_file);
    in >> agent >> child;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GT(child, 0);
  EXPECT_FALSE(ProcessDead(agent));
  auto canceled = server_->Post("/api/rdagent/tasks/" + id + "/cancel", Json::object());
  EXPECT_EQ(canceled.status, 200) << canceled.body;
  const Json done = server_->WaitTerminal(id, 15s);
  EXPECT_EQ(done["status"], "CANCELED");
  for (int i = 0; i < 100 && !(ProcessDead(agent) && ProcessDead(child)); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(ProcessDead(agent));
  EXPECT_TRUE(ProcessDead(child));
  EXPECT_EQ(server_->Post("/api/rdagent/tasks/" + id + "/cancel", Json::object()).status, 409);
}

// The config center and the agent together (seed 003's flow): a template is edited through the
// API (backed up), the task runs from the version before the edit (source_history_id) with
// n_epochs set; the live files stay as edited, the job records the hashes it used, and the
// managed .env reaches the process.
TEST(RdagentFromHistoryTest, ATaskRunsOnAHistoricalTemplateVersionWithTheManagedEnv) {
  TempWorkspace ws;
  fs::copy(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools", ws.root() / "tools", fs::copy_options::recursive);
  const std::string tpl = "rdagent/scenarios/qlib/experiment/model_template/conf_baseline_factors_model.yaml";
  const std::string standin = (BinDir() / "alphalab-rdagent-standin").string();
  std::ofstream(ws.root() / "alphalab.yaml")
      << "storage:\n  db: sqlite:alphalab.db\n"
         "roots:\n  rdagent: tools/rdagent\n"
         "configs:\n  rdagent:\n    root: rdagent\n    files:\n      - {path: .env, kind: env}\n      - " + tpl + "\n"
         "job_types:\n  rdagent-fin-quant:\n    tool: rdagent\n"
         "    argv: [\"" + standin + "\", fin_quant, [--loop-n, \"{loop_n}\"]]\n"
         "    params:\n      loop_n: {type: int, min: 1, default: 1}\n      source_history_id: {type: int, min: 1}\n"
         "      n_epochs: {type: int, min: 1}\n"
         "    env: {STANDIN_STEP_SECONDS: '0.01'}\n";
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  auto put = [&](const std::string& target, const Json& body) {
    auto r = server.client().Request("PUT", target, DumpJson(body));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : http::ClientResponse{};
  };
  const fs::path live = ws.root() / "tools/rdagent" / tpl;
  const std::string original = ReadFile(live).value();
  const Json file = server.GetJson("/api/configs/file?path=rdagent:" + tpl);
  ASSERT_EQ(file["content"], original);
  // Edit: the backup of the original is history entry `history_id`.
  std::string edited = original + "\n# edited through alphalab\n";
  auto w = put("/api/configs/file", Json{{"path", "rdagent:" + tpl}, {"content", edited}, {"base_sha256", file["sha256"]}});
  ASSERT_EQ(w.status, 200) << w.body;
  const Json written = w.JsonBody().value();
  ASSERT_TRUE(written["history_id"].is_number()) << written.dump();
  const int64_t hid = written["history_id"];
  ASSERT_EQ(ReadFile(live).value(), edited);

  auto sub = server.Post("/api/rdagent/tasks", Json{{"loop_n", 1}, {"source_history_id", hid}, {"n_epochs", 7}});
  ASSERT_EQ(sub.status, 200) << sub.body;
  const std::string id = sub.JsonBody().value()["job_id"];
  const Json done = server.WaitTerminal(id, 30s);
  ASSERT_EQ(done["status"], "SUCCESS") << done.dump();

  // The task's copy: the original version with n_epochs 7 written in; the live file is the edit.
  const fs::path copy = ws.root() / "reports/jobs/runtime" / id / "work" / tpl;
  const std::string used = ReadFile(copy).value();
  EXPECT_EQ(used.find("# edited through alphalab"), std::string::npos);
  EXPECT_NE(used.find("n_epochs: 7"), std::string::npos) << used;
  EXPECT_EQ(original.find("n_epochs: 7"), std::string::npos);
  EXPECT_EQ(ReadFile(live).value(), edited);
  // The hash recorded is the historical version's (as saved), not the live one's.
  const Json hist = server.GetJson("/api/configs/history?path=rdagent:" + tpl);
  std::string saved_sha;
  for (const Json& h : hist["items"]) {
    if (h["id"] == hid) saved_sha = h["sha256"];
  }
  ASSERT_FALSE(saved_sha.empty()) << hist.dump();
  EXPECT_EQ(done["artifacts"]["config_sha256:rdagent:" + tpl], saved_sha) << done.dump();
  EXPECT_NE(saved_sha, written["sha256"]);
  // The managed .env reached the process (the stand-in logs the base URL, never the key).
  const std::string log = server.GetJson("/api/rdagent/tasks/" + id + "/logs?offset=0")["content"];
  EXPECT_NE(log.find("LLM: base https://xxx-litellm.com/v1"), std::string::npos) << log;
  EXPECT_EQ(log.find("sk-chat-key"), std::string::npos);

  // An unknown history id is refused before anything is queued.
  auto bad = server.Post("/api/rdagent/tasks", Json{{"loop_n", 1}, {"source_history_id", 999999}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  server.Stop();
}

}  // namespace
}  // namespace alphalab::testing

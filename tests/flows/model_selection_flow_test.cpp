// Model selection (the models dimension, `alphalab select-models`, the report) and the holdout
// check over real HTTP against `bin/alphalab serve`, with real training on a small synthetic
// universe and real backtests:
//   - a project of trained models (two pooled runs, one per-ticker run with two model files, and
//     a run of another project), trained through the jobs API so the jobs carry the project;
//   - `alphalab select-models --server URL` and the same request posted to the API: every model
//     backtested out of sample on its own dataset, tickers and test period, never more than
//     max_inflight at once (start/end times), the drawdown constraint applied, the ranking by
//     CAGR, the manifest and the report's counts and Top 3 checked against the backtests' own
//     summary.json files;
//   - a sweep with a holdout on a constructed dataset whose in-sample winner loses after the date.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/clock.hpp"
#include "flows/flow_support.hpp"

namespace alphalab::flows {
namespace {

std::string SubmitJob(ServerProcess& server, const std::string& path, const Json& body) {
  auto r = server.Post(path, body);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  auto j = r.JsonBody();
  return j.ok() ? Q(*j, "job_id") : "";
}

Json Train(ServerProcess& server, const Json& body) {
  const std::string id = SubmitJob(server, "/api/jobs/train", body);
  if (id.empty()) return Json();
  Json j = WaitJob(server, id, 180s);
  EXPECT_EQ(j.value("status", ""), "SUCCESS") << j.dump() << "\n"
                                              << server.Get("/api/jobs/" + id + "/log?offset=0&tail=4000").body;
  return j;
}

// Waits until the optimization (and its holdout re-runs) ended and its report was written.
Json WaitOptimization(ServerProcess& server, const fs::path& ws, const std::string& id,
                      std::chrono::seconds timeout = 300s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Json o;
  while (std::chrono::steady_clock::now() < deadline) {
    o = server.GetJson("/api/v1/optimizations/" + id);
    const std::string s = o.value("status", "");
    const bool ended = s == "succeeded" || s == "failed" || s == "canceled" || s == "early-stopped";
    const bool validating = o.contains("validation") && o["validation"].is_object() &&
                            (o["validation"]["status"] == "pending" || o["validation"]["status"] == "running");
    if (ended && !validating && fs::exists(ws / "reports" / "optimizations" / id / "report.json")) {
      return server.GetJson("/api/v1/optimizations/" + id);
    }
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "optimization " << id << " did not end: " << o.dump();
  return o;
}

Json AllTasks(ServerProcess& server, const std::string& id) {
  return server.GetJson("/api/v1/optimizations/" + id + "/tasks?limit=1000")["items"];
}

// Largest number of tasks whose [started_at, ended_at) intervals overlap.
int MaxOverlap(const Json& tasks) {
  std::vector<std::pair<std::string, int>> events;
  for (const Json& t : tasks) {
    if (!t["started_at"].is_string() || !t["ended_at"].is_string()) continue;
    events.push_back({t["started_at"].get<std::string>(), +1});
    events.push_back({t["ended_at"].get<std::string>(), -1});
  }
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;  // an end before a start at a tie
  });
  int now = 0, most = 0;
  for (const auto& [t, d] : events) most = std::max(most, now += d);
  return most;
}

struct ModelInfo {
  std::string run_id;
  std::set<std::string> tickers;
  std::string test_start;  // the day after the run's valid_end
};

// Checks an ended model selection against the backtests' own files; returns the report.
Json CheckSelection(ServerProcess& server, FlowWorkspace& ws, const std::string& id,
                    const std::map<std::string, ModelInfo>& models, double max_dd, int max_inflight) {
  const Json opt = WaitOptimization(server, ws.root(), id);
  EXPECT_EQ(opt["status"], "succeeded") << opt.dump();
  const Json tasks = AllTasks(server, id);
  EXPECT_EQ(tasks.size(), models.size());
  EXPECT_LE(MaxOverlap(tasks), max_inflight);
  EXPECT_GE(MaxOverlap(tasks), 1);
  // Every task: the model of one registry file, backtested out of sample on its own data.
  std::set<std::string> seen;
  std::vector<std::pair<double, std::string>> passing;  // (cagr, bt id)
  int succeeded = 0;
  for (const Json& t : tasks) {
    const std::string path = t["params"]["strategy.params.model_path"];
    EXPECT_TRUE(models.count(path)) << path;
    if (!models.count(path)) continue;
    seen.insert(path);
    const ModelInfo& m = models.at(path);
    EXPECT_EQ(t["model_run_id"], m.run_id);
    EXPECT_EQ(t["status"], "succeeded") << t.dump();
    if (t["status"] != "succeeded") continue;
    ++succeeded;
    const std::string bt = t["result_summary_id"];
    const Json summary = ReadJsonFile(ws / ("backtests/" + bt + "/summary.json"));
    EXPECT_EQ(summary["dataset"], "synthetic");
    EXPECT_EQ(summary["model_path"], path);
    EXPECT_EQ(summary["model_run_id"], m.run_id);
    EXPECT_EQ(summary["model_test_start"], m.test_start);
    EXPECT_EQ(summary["in_sample_overlap_days"], 0) << "a model task must run out of sample";
    EXPECT_GE(summary["start"].get<std::string>(), m.test_start);
    std::set<std::string> tickers;
    // the model's tickers, plus the market filter's symbol and the defensive sleeve topn.yaml adds
    for (const Json& tk : summary["tickers"]) tickers.insert(tk.get<std::string>());
    std::set<std::string> want = m.tickers;
    want.insert({"SYNMKT", "SYNBOND", "SYNGOLD"});
    EXPECT_EQ(tickers, want) << path;
    EXPECT_EQ(t["metrics"]["cagr"], summary["cagr"]);
    EXPECT_EQ(t["metrics"]["max_drawdown"], summary["max_drawdown"]);
    const bool ok = summary["max_drawdown"].get<double>() <= max_dd;
    EXPECT_EQ(t["ranked"].get<bool>(), ok) << t.dump();
    if (ok) passing.push_back({summary["cagr"].get<double>(), bt});
  }
  EXPECT_EQ(seen.size(), models.size());
  std::sort(passing.begin(), passing.end(), [](const auto& a, const auto& b) { return a.first > b.first; });

  const Json report = server.GetJson("/api/v1/optimizations/" + id + "/report");
  EXPECT_EQ(report["counts"]["models"], static_cast<int64_t>(models.size()));
  EXPECT_EQ(report["counts"]["total"], static_cast<int64_t>(models.size()));
  EXPECT_EQ(report["counts"]["succeeded"], succeeded);
  EXPECT_EQ(report["counts"]["failed"], static_cast<int64_t>(models.size()) - succeeded);
  EXPECT_EQ(report["counts"]["passing"], static_cast<int64_t>(passing.size()));
  EXPECT_EQ(report["top"].size(), std::min<size_t>(3, passing.size()));
  for (size_t i = 0; i < report["top"].size() && i < passing.size(); ++i) {
    EXPECT_EQ(report["top"][i]["result_summary_id"], passing[i].second) << i;
    EXPECT_EQ(report["top"][i]["score"], passing[i].first) << i;
    EXPECT_TRUE(report["top"][i]["model_run_id"].is_string());
  }
  // the files: report.json as served, report.md, and the manifest's start/end lines
  const fs::path dir = ws / ("reports/optimizations/" + id);
  EXPECT_EQ(ReadJsonFile(dir / "report.json")["counts"], report["counts"]);
  const std::string md = Slurp(dir / "report.md");
  EXPECT_NE(md.find("## Top 3"), std::string::npos) << md;
  if (!passing.empty()) {
    EXPECT_NE(md.find(passing[0].second), std::string::npos) << md;
  }
  std::map<std::string, std::vector<std::string>> lines;  // task id -> events
  std::istringstream in(Slurp(dir / "manifest.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    const Json j = ParseJson(line).value();
    lines[j["task_id"].get<std::string>()].push_back(j["event"]);
    if (j["event"] == "end") {
      EXPECT_TRUE(j["train_run_id"].is_string());
      EXPECT_TRUE(j["backtest_id"].is_string());
      EXPECT_TRUE(j["params"].contains("strategy.params.model_path"));
      EXPECT_TRUE(j["metrics"].contains("cagr"));
    }
  }
  EXPECT_EQ(lines.size(), models.size());
  for (const auto& [task, ev] : lines) EXPECT_EQ(ev, (std::vector<std::string>{"start", "end"})) << task;
  return report;
}

TEST(ModelSelectionFlow, SeedFlowOnTheSyntheticUniverseThroughTheCliAndTheApi) {
  FlowWorkspace ws;
  ASSERT_TRUE(ws.Synth("", 4, 8, 11));  // SYN0001..SYN0004 + SYNMKT/SYNBOND/SYNGOLD, 2005-2012
  ServerProcess server(ws.root(), {"--slots", "4"});
  ASSERT_TRUE(server.Start());

  const Json small = Json::array({"model.params.num_round=10", "model.params.nthread=1", "split.train_end=2009-12-31",
                                  "split.valid_end=2010-12-31", "tickers=[SYN0001, SYN0002, SYN0003, SYN0004]"});
  auto with = [&](std::vector<std::string> extra) {
    Json o = small;
    for (auto& e : extra) o.push_back(e);
    return o;
  };
  // Two pooled runs of p18 (the project comes from the config file), a per-ticker run made p18
  // by its override, and a run of another project.
  const Json p1 = Train(server, {{"config_path", "configs/train/synthetic_pooled.yaml"}, {"overrides", small}});
  const Json p2 = Train(server, {{"config_path", "configs/train/synthetic_pooled.yaml"},
                                 {"overrides", with({"label.threshold=0.04"})}});
  const Json per = Train(server, {{"config_path", "configs/base.yaml"},
                                  {"overrides", with({"dataset=synthetic", "tickers=[SYN0001, SYN0002]", "project=p18",
                                                      "label.threshold=0.02"})}});
  const Json other = Train(server, {{"config_path", "configs/train/synthetic_pooled.yaml"},
                                    {"overrides", with({"project=p19"})}, {"project", "p19"}});
  for (const Json* j : {&p1, &p2, &per}) EXPECT_EQ(j->value("project", ""), "p18") << j->dump();
  EXPECT_EQ(other.value("project", ""), "p19");
  const Json recent = server.GetJson("/api/jobs/recent?project=p18");
  EXPECT_EQ(recent["total"], 3) << recent.dump();
  for (const Json& j : recent["items"]) EXPECT_EQ(j["project"], "p18");

  const std::string r1 = p1["artifacts"]["run_id"], r2 = p2["artifacts"]["run_id"], r3 = per["artifacts"]["run_id"];
  const std::set<std::string> pooled_tickers = {"SYN0001", "SYN0002", "SYN0003", "SYN0004"};
  const std::map<std::string, ModelInfo> models = {
      {"runs/" + r1 + "/model.json", {r1, pooled_tickers, "2011-01-01"}},
      {"runs/" + r2 + "/model.json", {r2, pooled_tickers, "2011-01-01"}},
      {"runs/" + r3 + "/model_SYN0001.json", {r3, {"SYN0001"}, "2011-01-01"}},
      {"runs/" + r3 + "/model_SYN0002.json", {r3, {"SYN0002"}, "2011-01-01"}}};
  for (const auto& [path, m] : models) ASSERT_TRUE(fs::is_regular_file(ws / path)) << path;

  // --- the CLI against the server, the seed's command line ---------------------------------
  CmdResult cli = RunAlphalab({"select-models", "--server", server.url(), "--workspace", ws.root().string(),
                               "--project", "p18", "--max-drawdown", "0.15", "--objective", "cagr", "--config",
                               "configs/backtest/topn.yaml", "--max-inflight", "8", "--no-progress"},
                              ws.root(), 300s);
  ASSERT_EQ(cli.exit_code, 0) << Describe(cli);
  const std::string cli_id = OutputValue(cli.out, "optimization");
  ASSERT_FALSE(cli_id.empty()) << cli.out;
  EXPECT_NE(cli.out.find("counts: models 4,"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("report: reports/optimizations/" + cli_id + "/report.md"), std::string::npos) << cli.out;
  const Json cli_opt = server.GetJson("/api/v1/optimizations/" + cli_id);
  EXPECT_EQ(cli_opt["request"]["param_space"],
            Json::parse(R"({"strategy.params.model_path": {"models": {"project": "p18", "status": "success"}}})"));
  EXPECT_EQ(cli_opt["request"]["constraints"], Json::array({"max_drawdown <= 0.15"}));
  EXPECT_EQ(cli_opt["request"]["max_inflight"], 8);
  const Json cli_report = CheckSelection(server, ws, cli_id, models, 0.15, 8);

  // --- the same request through the API, with a constraint that splits the models ----------
  std::vector<double> dds;
  for (const Json& t : AllTasks(server, cli_id)) dds.push_back(t["metrics"]["max_drawdown"].get<double>());
  std::sort(dds.begin(), dds.end());
  const double cut = (dds[1] + dds[2]) / 2;  // two pass, two do not (unless drawdowns tie)
  Json body = Json::parse(R"({"name": "select models p18", "project": "p18", "job_type": "backtest",
    "base_params": {"config_path": "configs/backtest/topn.yaml"},
    "param_space": {"strategy.params.model_path": {"models": {"project": "p18", "status": "success"}}},
    "objective": {"metric": "cagr", "direction": "max"}, "max_inflight": 2, "top_n": 3})");
  body["constraints"] = Json::array({"max_drawdown <= " + std::to_string(cut)});
  auto created = server.Post("/api/v1/optimizations", body);
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string api_id = Q(created.JsonBody().value(), "id");
  const double parsed_cut = std::stod(std::to_string(cut));
  const Json api_report = CheckSelection(server, ws, api_id, models, parsed_cut, 2);
  if (dds[1] != dds[2]) {
    EXPECT_EQ(api_report["counts"]["passing"], 2);
  }
  // the same backtests give the same numbers: the CLI's ranking restricted to the passing set
  EXPECT_EQ(cli_report["counts"]["models"], api_report["counts"]["models"]);

  // A filter that keeps nothing is a 400 naming the axis; an unknown key too.
  Json none = body;
  none["param_space"]["strategy.params.model_path"]["models"]["project"] = "p404";
  auto refused = server.Post("/api/v1/optimizations", none);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("no trained model matches"), std::string::npos) << refused.body;
  Json unknown = body;
  unknown["param_space"]["strategy.params.model_path"]["models"]["colour"] = "red";
  auto refused2 = server.Post("/api/v1/optimizations", unknown);
  EXPECT_EQ(refused2.status, 400);
  EXPECT_NE(refused2.body.find("param_space.strategy.params.model_path.models.colour"), std::string::npos);

  // Projects: jobs (train + task backtests), runs and optimizations of p18.
  const Json projects = server.GetJson("/api/projects");
  bool found = false;
  for (const Json& p : projects["items"]) {
    if (p["name"] != "p18") continue;
    found = true;
    EXPECT_EQ(p["runs"], 3);
    EXPECT_EQ(p["successful_runs"], 3);
    EXPECT_EQ(p["optimizations"], 2);
    EXPECT_EQ(p["jobs"], 3 + 4 + 4);  // 3 trainings + 4 backtests per selection
  }
  EXPECT_TRUE(found) << projects.dump();
}

// A constructed dataset: AAA rises then falls at 2020-01-01, BBB falls then rises; both swing
// on a 20-day cycle so sma_cross(3, 10) trades. The sweep over the ticker ranks AAA first on the
// data before the holdout; its re-run from the holdout date loses to BBB's.
std::string Series(double drift_before, double drift_after) {
  std::string csv = "date,open,high,low,close,volume\n";
  double trend = 100;
  int i = 0;
  for (int32_t d = DaysFromCivil(2017, 1, 2); d <= DaysFromCivil(2021, 12, 31); ++d) {
    const int wd = static_cast<int>((d + 4) % 7);  // 1970-01-01 was a Thursday (4)
    if (wd == 0 || wd == 6) continue;
    trend *= 1 + (d < DaysFromCivil(2020, 1, 1) ? drift_before : drift_after);
    const double close = trend * (1 + 0.03 * std::sin(2 * M_PI * i / 20.0));
    ++i;
    char row[160];
    std::snprintf(row, sizeof row, "%s,%.4f,%.4f,%.4f,%.4f,1000\n", FormatDate(d).c_str(), close, close * 1.001,
                  close * 0.999, close);
    csv += row;
  }
  return csv;
}

TEST(ModelSelectionFlow, HoldoutReRunsTheTopNFromTheDateAndTheInSampleWinnerFailsOutOfSample) {
  FlowWorkspace ws;
  ws.Write("data/cons/AAA.csv", Series(0.002, -0.002));
  ws.Write("data/cons/BBB.csv", Series(-0.002, 0.002));
  std::string yaml = Slurp(ws / "alphalab.yaml");
  yaml.replace(yaml.find("datasets:\n"), 10, "datasets:\n  cons:\n    format: csv\n    path: data/cons\n");
  ws.Write("alphalab.yaml", yaml);
  ws.Write("configs/backtest/cons.yaml",
           "dataset: cons\ntickers: [AAA]\nstart: 2017-03-01\ninitial_cash: 100000\nfee_bps: 1\n"
           "strategy: {type: sma_cross, params: {fast: 3, slow: 10}}\n");
  ServerProcess server(ws.root(), {"--slots", "2"});
  ASSERT_TRUE(server.Start());
  Json body = Json::parse(R"({"name": "holdout", "job_type": "backtest",
    "base_params": {"config_path": "configs/backtest/cons.yaml"},
    "param_space": {"tickers": [["AAA"], ["BBB"]], "strategy.params.slow": [10, 12]},
    "objective": {"metric": "final_equity", "direction": "max"}, "top_n": 4,
    "validation": {"holdout_start": "2020-01-01"}})");
  auto created = server.Post("/api/v1/optimizations", body);
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = Q(created.JsonBody().value(), "id");
  const Json opt = WaitOptimization(server, ws.root(), id);
  EXPECT_EQ(opt["status"], "succeeded");
  EXPECT_EQ(opt["total_tasks"], 4);  // the re-runs are not counted
  EXPECT_EQ(opt["summary"]["total"], 4);
  // The search saw data before the date only.
  for (const Json& t : AllTasks(server, id)) {
    const Json s = ReadJsonFile(ws / ("backtests/" + t["result_summary_id"].get<std::string>() + "/summary.json"));
    EXPECT_LE(s["end"].get<std::string>(), "2019-12-31") << s.dump();
  }
  const Json top = opt["summary"]["top_n"];
  ASSERT_EQ(top.size(), 4u);
  // In sample, AAA (rising until the date) wins: both of its rows rank first.
  EXPECT_EQ(top[0]["params"]["tickers"], Json::array({"AAA"})) << top.dump();
  EXPECT_EQ(top[1]["params"]["tickers"], Json::array({"AAA"})) << top.dump();
  const Json v = opt["validation"];
  ASSERT_TRUE(v.is_object()) << opt.dump();
  EXPECT_EQ(v["holdout_start"], "2020-01-01");
  EXPECT_EQ(v["status"], "succeeded");
  ASSERT_EQ(v["runs"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(v["runs"][i]["index"], top[i]["index"]);  // Top-N order
  std::map<int64_t, double> oos;
  for (const Json& r : v["runs"]) {
    EXPECT_EQ(r["status"], "succeeded") << r.dump();
    const Json s = ReadJsonFile(ws / ("backtests/" + r["result_summary_id"].get<std::string>() + "/summary.json"));
    EXPECT_EQ(s["start"].get<std::string>().substr(0, 7), "2020-01") << s.dump();
    EXPECT_GT(s["warmup_bars"].get<int64_t>(), 10) << "the indicators are ready on the first holdout bar";
    EXPECT_EQ(r["oos_score"], s["final_equity"]);
    oos[r["index"].get<int64_t>()] = r["oos_score"].get<double>();
  }
  // Every Top-N row carries its out-of-sample score; the in-sample winner is worse out of sample.
  double worst_bbb = 1e300, best_aaa = -1e300;
  for (const Json& e : top) {
    EXPECT_EQ(e["oos_score"], oos.at(e["index"].get<int64_t>()));
    if (e["params"]["tickers"] == Json::array({"AAA"})) {
      best_aaa = std::max(best_aaa, e["oos_score"].get<double>());
    } else {
      worst_bbb = std::min(worst_bbb, e["oos_score"].get<double>());
    }
  }
  EXPECT_LT(best_aaa, worst_bbb) << "the in-sample winner loses out of sample: " << top.dump();
  // The deflated Sharpe of the best search task.
  const Json d = opt["deflated_sharpe"];
  ASSERT_TRUE(d.is_object()) << opt.dump();
  EXPECT_EQ(d["trials"], 4);
  EXPECT_GE(d["value"].get<double>(), 0.0);
  EXPECT_LE(d["value"].get<double>(), 1.0);
  EXPECT_EQ(d["reading"], d["value"].get<double>() < 0.95 ? "likely luck" : "likely skill");
  const Json report = server.GetJson("/api/v1/optimizations/" + id + "/report");
  EXPECT_EQ(report["deflated_sharpe"], d);
  EXPECT_NE(Slurp(ws / ("reports/optimizations/" + id + "/report.md")).find("## Deflated Sharpe"), std::string::npos);
  // An impossible holdout date is refused.
  Json bad = body;
  bad["validation"]["holdout_start"] = "2020-02-30";
  EXPECT_EQ(server.Post("/api/v1/optimizations", bad).status, 400);
}

}  // namespace
}  // namespace alphalab::flows

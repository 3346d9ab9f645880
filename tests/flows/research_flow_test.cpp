// Issues 3 and 4 "Done when" over real HTTP against `bin/alphalab serve`: real training on the
// demo data (S&P 500) and on a small synthetic universe containing TSM, eval-metrics, a model
// backtest, then the registry / runs / backtests / dashboard APIs on what those jobs produced,
// checked against the files the engine wrote, and a server restart that keeps everything.
#include <cmath>
#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "flows/flow_support.hpp"

namespace alphalab::flows {
namespace {

const char* kRegistryFields[] = {"ticker", "run_id", "mode", "label_horizon_days", "label_threshold", "precision",
                                 "recall", "f1", "accuracy", "buy_rate", "positive_rate", "lift", "tp", "fp", "tn",
                                 "fn", "support", "model_final_path", "config_path", "metrics_path", "manifest_path",
                                 "start_time", "end_time", "status", "project"};
const char* kNumericMetrics[] = {"precision", "recall", "f1", "accuracy", "buy_rate", "positive_rate",
                                 "lift", "tp", "fp", "tn", "fn", "support"};

std::string Submit(ServerProcess& server, const std::string& path, const Json& body) {
  auto r = server.Post(path, body);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  auto j = r.JsonBody();
  return j.ok() ? Q(*j, "job_id") : "";
}

// Submits, waits, and asserts SUCCESS with no artifacts_parse_error.
Json RunJob(ServerProcess& server, const std::string& path, const Json& body) {
  const std::string id = Submit(server, path, body);
  if (id.empty()) return Json();
  Json j = WaitJob(server, id);
  EXPECT_EQ(j.value("status", ""), "SUCCESS") << j.dump();
  EXPECT_TRUE(!j.contains("artifacts_parse_error") || j["artifacts_parse_error"].is_null()) << j.dump();
  if (j.value("status", "") != "SUCCESS") {
    auto log = server.Get("/api/jobs/" + id + "/log?offset=0&tail=4000");
    ADD_FAILURE() << "log of " << id << ":\n" << log.body;
  }
  return j;
}

Json TrainOverrides(std::vector<std::string> extra) {
  Json o = Json::array({"model.params.num_round=20", "model.params.nthread=1"});
  for (auto& e : extra) o.push_back(e);
  return o;
}

// Default registry order: precision desc, lift desc, buy_rate asc, support desc.
bool DefaultOrdered(const Json& a, const Json& b) {
  auto d = [](const Json& j, const char* k) { return j[k].get<double>(); };
  if (d(a, "precision") != d(b, "precision")) return d(a, "precision") > d(b, "precision");
  if (d(a, "lift") != d(b, "lift")) return d(a, "lift") > d(b, "lift");
  if (d(a, "buy_rate") != d(b, "buy_rate")) return d(a, "buy_rate") < d(b, "buy_rate");
  return d(a, "support") >= d(b, "support");
}

TEST(ResearchFlow, TrainEvalBacktestThenRegistryRunsBacktestsDashboardSurviveRestart) {
  FlowWorkspace ws;
  ASSERT_TRUE(ws.Synth("TSM", 3, 8, 7));  // TSM, SYN0002, SYN0003 + SYNMKT/SYNBOND/SYNGOLD, 2005-2012
  auto server = std::make_unique<ServerProcess>(ws.root());
  ASSERT_TRUE(server->Start());

  // --- Issue 3: train on the demo data through the API --------------------------------------
  Json train = RunJob(*server, "/api/jobs/train",
                      Json{{"config_path", "configs/base.yaml"}, {"overrides", TrainOverrides({})}, {"dry_run", false}});
  const std::string run_id = train["artifacts"].value("run_id", "");
  const std::string run_dir = train["artifacts"].value("run_dir", "");
  ASSERT_FALSE(run_id.empty()) << train.dump();
  EXPECT_EQ(run_dir, "runs/" + run_id);
  EXPECT_EQ(train.value("exit_code", -1), 0);
  ASSERT_TRUE(fs::is_directory(ws.root() / run_dir));
  const Json manifest = ReadJsonFile(ws.root() / run_dir / "manifest.json");
  const Json metrics = ReadJsonFile(ws.root() / run_dir / "metrics.json");
  ASSERT_TRUE(manifest.contains("models") && manifest["models"].contains("SPX")) << manifest.dump();
  const std::string model_path = manifest["models"]["SPX"].get<std::string>();

  // Synthetic universe with TSM (split inside 2005-2012).
  Json train_syn = RunJob(*server, "/api/jobs/train",
                          Json{{"config_path", "configs/base.yaml"},
                               {"overrides", TrainOverrides({"dataset=synthetic", "tickers=[TSM, SYN0002, SYN0003]",
                                                             "split.train_end=2009-12-31", "split.valid_end=2010-12-31",
                                                             "label.threshold=0.02"})}});
  const std::string syn_run = train_syn["artifacts"].value("run_id", "");
  ASSERT_FALSE(syn_run.empty()) << train_syn.dump();
  const Json syn_metrics = ReadJsonFile(ws.root() / "runs" / syn_run / "metrics.json");

  // eval-metrics {run_id, mode: base}.
  Json eval = RunJob(*server, "/api/jobs/eval-metrics", Json{{"run_id", run_id}, {"mode", "base"}, {"dry_run", false}});
  EXPECT_EQ(eval["artifacts"].value("run_id", ""), run_id) << eval.dump();
  ASSERT_TRUE(fs::is_regular_file(ws.root() / run_dir / "metrics_eval_base.json"));

  // backtest with the run's model.
  Json bt = RunJob(*server, "/api/jobs/backtest",
                   Json{{"config_path", "configs/backtest/base.yaml"}, {"model_path", model_path},
                        {"overrides", Json::array()}, {"dry_run", false}});
  const std::string bt_id = bt["artifacts"].value("bt_run_id", "");
  const std::string bt_dir = bt["artifacts"].value("bt_dir", "");
  ASSERT_FALSE(bt_id.empty()) << bt.dump();
  EXPECT_EQ(bt_dir, "backtests/" + bt_id);
  ASSERT_TRUE(fs::is_directory(ws.root() / bt_dir));
  const Json summary = ReadJsonFile(ws.root() / bt_dir / "summary.json");
  EXPECT_EQ(summary["strategy"]["type"], "signal") << summary["strategy"].dump();
  EXPECT_EQ(summary.value("model_path", ""), model_path);
  EXPECT_EQ(summary.value("model_run_id", ""), run_id);
  // A backtest given only a model runs over the model's test period (after valid_end 2016-12-31).
  EXPECT_EQ(summary.value("model_valid_end", ""), "2016-12-31");
  EXPECT_EQ(summary.value("model_test_start", ""), "2017-01-01");
  EXPECT_GE(summary.value("start", ""), std::string("2017-01-01"));
  EXPECT_EQ(summary.value("in_sample_overlap_days", -1), 0);


  // --- Issue 4: registry --------------------------------------------------------------------
  Json all = server->GetJson("/api/registry/models?limit=1000");
  ASSERT_EQ(all.value("total", -1), 4) << all.dump().substr(0, 3000);  // SPX + TSM, SYN0002, SYN0003
  ASSERT_EQ(all["items"].size(), 4u);
  EXPECT_EQ(all["limit"], 1000);
  EXPECT_EQ(all["offset"], 0);
  for (const Json& row : all["items"]) {
    for (const char* f : kRegistryFields) EXPECT_TRUE(row.contains(f)) << f << " missing in " << row.dump();
    for (const char* p : {"model_final_path", "config_path", "metrics_path", "manifest_path"}) {
      EXPECT_TRUE(fs::is_regular_file(ws.root() / row.value(p, "?"))) << p << " = " << row.value(p, "?");
    }
    EXPECT_EQ(row["mode"], "base");
    EXPECT_EQ(row["status"], "success");
  }
  for (size_t i = 1; i < all["items"].size(); ++i) {
    EXPECT_TRUE(DefaultOrdered(all["items"][i - 1], all["items"][i])) << "default sort at " << i;
  }

  // The demo run's row equals its metrics.json (after eval-metrics re-indexed it).
  Json spx = server->GetJson("/api/registry/models?run_id=" + run_id);
  ASSERT_EQ(spx["items"].size(), 1u) << spx.dump();
  const Json& row = spx["items"][0];
  EXPECT_EQ(row["ticker"], "SPX");
  EXPECT_EQ(row["run_id"], run_id);
  EXPECT_EQ(row["label_horizon_days"], 20);
  EXPECT_NEAR(row["label_threshold"].get<double>(), 0.05, 1e-12);
  EXPECT_EQ(row["model_final_path"], model_path);
  for (const char* f : kNumericMetrics) {
    EXPECT_NEAR(row[f].get<double>(), metrics["per_ticker"]["SPX"][f].get<double>(), 1e-12) << f;
  }

  // The models curl of docs/api.md, checked against the unfiltered TSM rows.
  Json tsm_all = server->GetJson("/api/registry/models?ticker=TSM");
  ASSERT_EQ(tsm_all["items"].size(), 1u) << tsm_all.dump();
  EXPECT_EQ(tsm_all["items"][0]["run_id"], syn_run);
  for (const char* f : kNumericMetrics) {
    EXPECT_NEAR(tsm_all["items"][0][f].get<double>(), syn_metrics["per_ticker"]["TSM"][f].get<double>(), 1e-12) << f;
  }
  Json seed = server->GetJson(
      "/api/registry/models?ticker=TSM&min_lift=1.1&min_precision=0.6&min_support=30&limit=50&offset=0");
  int expected = 0;
  for (const Json& r : tsm_all["items"]) {
    if (r["lift"].get<double>() >= 1.1 && r["precision"].get<double>() >= 0.6 && r["support"].get<double>() >= 30) {
      ++expected;
    }
  }
  EXPECT_EQ(seed.value("total", -1), expected) << seed.dump();
  EXPECT_EQ(seed["items"].size(), static_cast<size_t>(expected));
  EXPECT_EQ(seed["limit"], 50);
  EXPECT_EQ(seed["offset"], 0);
  // Each threshold filters exactly like the client-side check.
  for (const auto& [param, field] : std::vector<std::pair<std::string, std::string>>{
           {"min_lift", "lift"}, {"min_precision", "precision"}, {"min_support", "support"}}) {
    for (const Json& cut_row : all["items"]) {
      const double cut = cut_row[field].get<double>();
      char num[64];
      std::snprintf(num, sizeof num, "%.17g", cut);
      Json f = server->GetJson("/api/registry/models?limit=1000&" + param + "=" + num);
      size_t want = 0;
      for (const Json& r : all["items"]) want += r[field].get<double>() >= cut;
      EXPECT_EQ(f["items"].size(), want) << param << "=" << num;
    }
  }
  Json maxbuy = server->GetJson("/api/registry/models?limit=1000&max_buy_rate=0");
  for (const Json& r : maxbuy["items"]) EXPECT_LE(r["buy_rate"].get<double>(), 0.0);
  Json two = server->GetJson("/api/registry/models?ticker=TSM,SPX&limit=1000");
  EXPECT_EQ(two.value("total", -1), 2) << two.dump();

  // Sort orders and paging.
  Json by_lift = server->GetJson("/api/registry/models?sort=lift_asc&limit=1000");
  ASSERT_EQ(by_lift["items"].size(), 4u) << by_lift.dump();
  for (size_t i = 1; i < 4; ++i) EXPECT_LE(by_lift["items"][i - 1]["lift"].get<double>(), by_lift["items"][i]["lift"].get<double>());
  Json by_support = server->GetJson("/api/registry/models?sort=support_desc&limit=1000");
  for (size_t i = 1; i < by_support["items"].size(); ++i) {
    EXPECT_GE(by_support["items"][i - 1]["support"].get<double>(), by_support["items"][i]["support"].get<double>());
  }
  Json page = server->GetJson("/api/registry/models?limit=2&offset=1");
  EXPECT_EQ(page.value("total", -1), 4);
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["items"][0], all["items"][1]);
  EXPECT_EQ(page["items"][1], all["items"][2]);
  Json beyond = server->GetJson("/api/registry/models?limit=2&offset=10");
  EXPECT_TRUE(beyond["items"].empty());
  EXPECT_EQ(beyond.value("total", -1), 4);
  for (const char* bad : {"sort=bogus_desc", "sort=lift_sideways", "sort=lift", "limit=-1", "limit=1001",
                          "offset=-1", "min_lift=abc", "min_support=1e", "max_buy_rate=x"}) {
    auto r = server->Get(std::string("/api/registry/models?") + bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    auto j = r.JsonBody();
    EXPECT_TRUE(j.ok() && j->contains("error")) << bad << ": " << r.body;
  }

  // Compare drawer: one ticker across runs; runs without a common ticker are a 400 that says so.
  Json cmp = server->GetJson("/api/registry/compare?run_ids=" + run_id);
  ASSERT_EQ(cmp["items"].size(), 1u) << cmp.dump();
  EXPECT_EQ(cmp["ticker"], "SPX");
  auto mixed = server->Get("/api/registry/compare?run_ids=" + run_id + "," + syn_run);
  EXPECT_EQ(mixed.status, 400) << mixed.body;
  EXPECT_NE(mixed.body.find("ticker"), std::string::npos) << mixed.body;

  // Exports with the same column names.
  const fs::path exports = ws.root() / "reports" / "registry";
  ASSERT_TRUE(fs::is_regular_file(exports / "models.csv"));
  ASSERT_TRUE(fs::is_regular_file(exports / "models.json"));
  Csv csv = ReadCsv(exports / "models.csv");
  for (const char* f : kRegistryFields) EXPECT_GE(csv.Col(f), 0) << "models.csv lacks " << f;
  EXPECT_EQ(csv.rows.size(), 4u);

  // --- runs ---------------------------------------------------------------------------------
  Json runs = server->GetJson("/api/runs");
  EXPECT_EQ(runs.value("total", -1), 2);
  ASSERT_EQ(runs["items"].size(), 2u);
  EXPECT_EQ(runs["items"][0]["run_id"], syn_run) << "newest first";
  Json run = server->GetJson("/api/runs/" + run_id);
  EXPECT_EQ(run["run_id"], run_id);
  EXPECT_EQ(run["manifest"]["run_id"], run_id);
  ASSERT_TRUE(run["metrics"].contains("base")) << run["metrics"].dump().substr(0, 1000);
  EXPECT_EQ(run["metrics"]["base"]["data"]["per_ticker"]["SPX"]["tp"], metrics["per_ticker"]["SPX"]["tp"]);
  EXPECT_TRUE(run.contains("config"));
  std::set<std::string> run_jobs;
  for (const Json& j : run["jobs"]) run_jobs.insert(j.is_string() ? j.get<std::string>() : j.value("job_id", ""));
  EXPECT_TRUE(run_jobs.count(Q(train, "job_id"))) << "the train job that produced it: " << run["jobs"].dump();
  EXPECT_TRUE(run_jobs.count(Q(eval, "job_id"))) << "the eval-metrics job that re-evaluated it: " << run["jobs"].dump();
  EXPECT_EQ(server->Get("/api/runs/run_20990101_000000__deadbeef").status, 404);
  EXPECT_GE(server->Get("/api/runs/..%2F..%2Fetc").status, 400);

  // --- backtests ----------------------------------------------------------------------------
  Json bts = server->GetJson("/api/backtests");
  ASSERT_GE(bts["items"].size(), 1u);
  EXPECT_EQ(bts["items"][0]["bt_run_id"], bt_id);
  Json btd = server->GetJson("/api/backtests/" + bt_id + "?points=200");
  EXPECT_EQ(btd["summary"]["final_equity"], summary["final_equity"]);
  EXPECT_EQ(btd["statistics"], summary["statistics"]);
  Csv eq = ReadCsv(ws.root() / bt_dir / "equity.csv");
  ASSERT_GT(eq.rows.size(), 200u);
  EXPECT_EQ(btd.value("equity_points_total", 0u), eq.rows.size());
  const Json& curve = btd["equity_curve"];
  ASSERT_GT(curve.size(), 10u);
  EXPECT_LE(curve.size(), 200u);
  EXPECT_EQ(btd["drawdown"].size(), curve.size());
  EXPECT_EQ(curve.front()["date"], eq.rows.front()[eq.Col("date")]);
  EXPECT_EQ(curve.back()["date"], eq.rows.back()[eq.Col("date")]);
  // The deepest drawdown survives downsampling.
  double deepest_file = 0, deepest_api = 0, peak = 0;
  for (const auto& r : eq.rows) {
    const double e = std::stod(r[eq.Col("equity")]);
    peak = std::max(peak, e);
    deepest_file = std::max(deepest_file, 1 - e / peak);
  }
  for (const Json& p : btd["drawdown"]) deepest_api = std::max(deepest_api, std::fabs(p["drawdown"].get<double>()));
  EXPECT_NEAR(deepest_api, deepest_file, 1e-5);
  EXPECT_NEAR(deepest_file, summary["max_drawdown"].get<double>(), 1e-5);
  Csv trades = ReadCsv(ws.root() / bt_dir / "trades.csv");
  EXPECT_EQ(btd["trades"].size(), trades.rows.size());
  EXPECT_EQ(btd.value("trades_total", 0u), trades.rows.size());
  size_t closed_trades = 0;
  for (const auto& row : trades.rows) closed_trades += row[trades.Col("exit_reason")] != "end";
  EXPECT_EQ(static_cast<double>(closed_trades), summary["trades"].get<double>());
  EXPECT_EQ(trades.rows.size() - closed_trades, summary["open_positions"].size());
  auto raw = server->Get("/api/backtests/" + bt_id + "/files/equity.csv");
  EXPECT_EQ(raw.status, 200);
  EXPECT_EQ(raw.body, Slurp(ws.root() / bt_dir / "equity.csv"));
  EXPECT_EQ(server->Get("/api/backtests/bt_20990101_000000__deadbeef").status, 404);
  EXPECT_GE(server->Get("/api/backtests/" + bt_id + "/files/..%2F..%2Falphalab.yaml").status, 400);

  // The synthetic run's model through the API with only model_path: the base config names the
  // demo dataset and SPX, the backtest still runs on the model's dataset and ticker.
  const Json syn_manifest = ReadJsonFile(ws.root() / "runs" / syn_run / "manifest.json");
  const std::string syn_model = syn_manifest["models"].value("SYN0002", "");
  ASSERT_FALSE(syn_model.empty()) << syn_manifest.dump();
  Json syn_bt = RunJob(*server, "/api/jobs/backtest",
                       Json{{"config_path", "configs/backtest/base.yaml"}, {"model_path", syn_model}});
  const std::string syn_bt_id = syn_bt["artifacts"].value("bt_run_id", "");
  ASSERT_FALSE(syn_bt_id.empty()) << syn_bt.dump();
  const Json syn_detail = server->GetJson("/api/backtests/" + syn_bt_id);
  const Json& syn_summary = syn_detail["summary"];
  EXPECT_EQ(syn_summary["dataset"], "synthetic");
  EXPECT_EQ(syn_summary["tickers"], Json::array({"SYN0002"}));
  EXPECT_EQ(syn_summary["model_train_end"], "2009-12-31");
  EXPECT_EQ(syn_summary["model_valid_end"], "2010-12-31");
  EXPECT_GE(syn_summary.value("start", ""), std::string("2011-01-01"));
  EXPECT_EQ(syn_summary["in_sample_overlap_days"], 0);

  // --- dashboard ----------------------------------------------------------------------------
  Json dash = server->GetJson("/api/dashboard");
  std::set<std::string> dash_jobs, dash_tickers, dash_bts;
  for (const Json& j : dash["recent_jobs"]) dash_jobs.insert(j.value("job_id", ""));
  for (const Json& m : dash["best_models"]) dash_tickers.insert(m.value("ticker", ""));
  for (const Json& b : dash["recent_backtests"]) dash_bts.insert(b.value("bt_run_id", ""));
  for (const Json* j : {&train, &train_syn, &eval, &bt}) EXPECT_TRUE(dash_jobs.count(Q(*j, "job_id"))) << Q(*j, "job_id");
  EXPECT_EQ(dash_tickers, (std::set<std::string>{"SPX", "TSM", "SYN0002", "SYN0003"}));
  EXPECT_TRUE(dash_bts.count(bt_id));

  // --- restart keeps everything --------------------------------------------------------------
  Json jobs_before = server->GetJson("/api/jobs/recent?limit=100");
  Json runs_before = server->GetJson("/api/runs");
  server->Stop();
  server = std::make_unique<ServerProcess>(ws.root());
  ASSERT_TRUE(server->Start());
  Json all_after = server->GetJson("/api/registry/models?limit=1000");
  EXPECT_EQ(all_after["items"], all["items"]);
  Json jobs_after = server->GetJson("/api/jobs/recent?limit=100");
  ASSERT_EQ(jobs_after["items"].size(), jobs_before["items"].size());
  for (size_t i = 0; i < jobs_before["items"].size(); ++i) {
    for (const char* k : {"job_id", "status", "artifacts", "exit_code", "command", "created_at", "ended_at"}) {
      EXPECT_EQ(jobs_after["items"][i][k], jobs_before["items"][i][k]) << k << " of job " << i;
    }
  }
  // Same runs (indexed_at is the time of the start-up re-index, so it may move).
  auto strip = [](Json items) {
    for (Json& r : items) r.erase("indexed_at");
    return items;
  };
  EXPECT_EQ(strip(server->GetJson("/api/runs")["items"]), strip(runs_before["items"]));
  EXPECT_EQ(server->GetJson("/api/backtests/" + bt_id + "?points=200")["equity_curve"], curve);
  Json log = server->GetJson("/api/jobs/" + Q(train, "job_id") + "/log?offset=0&tail=20000");
  EXPECT_EQ(OutputValue(log.value("content", ""), "run_id"), run_id);
  server->Stop();
}

TEST(ResearchFlow, TrainJobSurvivesServerKill9AndIsIndexedWhenItEnds) {
  FlowWorkspace ws;
  auto server = std::make_unique<ServerProcess>(ws.root());
  ASSERT_TRUE(server->Start());
  // A few seconds of training, so it is still running when the server dies.
  const std::string id = Submit(*server, "/api/jobs/train",
                                Json{{"config_path", "configs/base.yaml"},
                                     {"overrides", TrainOverrides({"model.params.num_round=1500",
                                                                   "model.params.max_depth=8"})}});
  ASSERT_FALSE(id.empty());
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline &&
         server->GetJson("/api/jobs/" + id).value("status", "") != "RUNNING") {
    std::this_thread::sleep_for(20ms);
  }
  server->Kill9();
  EXPECT_TRUE(ws.Runs().empty()) << "still training when the server died";
  server = std::make_unique<ServerProcess>(ws.root());
  ASSERT_TRUE(server->Start());
  Json j = WaitJob(*server, id, 120s);
  ASSERT_EQ(j.value("status", ""), "SUCCESS") << j.dump();
  EXPECT_EQ(j.value("exit_code", -1), 0);
  const std::string run_id = j["artifacts"].value("run_id", "");
  ASSERT_FALSE(run_id.empty()) << j.dump();
  EXPECT_TRUE(fs::is_directory(ws.root() / "runs" / run_id));
  // The re-attached job's end triggers indexing like any other.
  Json rows;
  for (int i = 0; i < 100; ++i) {
    rows = server->GetJson("/api/registry/models?run_id=" + run_id);
    if (!rows["items"].empty()) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(rows["items"].size(), 1u) << rows.dump();
  EXPECT_EQ(rows["items"][0]["ticker"], "SPX");
  server->Stop();
}

TEST(ResearchFlow, FinetuneRunGetsItsOwnRegistryRow) {
  FlowWorkspace ws;
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  Json base = RunJob(server, "/api/jobs/train", Json{{"config_path", "configs/base.yaml"}, {"overrides", TrainOverrides({})}});
  const std::string base_run = base["artifacts"].value("run_id", "");
  ASSERT_FALSE(base_run.empty());
  Json ft = RunJob(server, "/api/jobs/train",
                   Json{{"config_path", "configs/base.yaml"},
                        {"overrides", TrainOverrides({"mode=finetune", "finetune.base_run=" + base_run,
                                                      "finetune.start=2010-01-01"})}});
  const std::string ft_run = ft["artifacts"].value("run_id", "");
  ASSERT_FALSE(ft_run.empty());
  EXPECT_EQ(ReadJsonFile(ws.root() / "runs" / ft_run / "manifest.json").value("base_run", ""), base_run);
  // eval-metrics without a mode evaluates the run in its own mode (finetune here).
  Json eval = RunJob(server, "/api/jobs/eval-metrics", Json{{"run_id", ft_run}});
  EXPECT_EQ(eval["artifacts"].value("run_id", ""), ft_run);
  EXPECT_TRUE(fs::is_regular_file(ws.root() / "runs" / ft_run / "metrics_eval_finetune.json"));
  Json fts = server.GetJson("/api/registry/models?mode=finetune");
  ASSERT_EQ(fts["items"].size(), 1u) << fts.dump();
  EXPECT_EQ(fts["items"][0]["run_id"], ft_run);
  Json bases = server.GetJson("/api/registry/models?mode=base");
  ASSERT_EQ(bases["items"].size(), 1u) << bases.dump();
  EXPECT_EQ(bases["items"][0]["run_id"], base_run);
  EXPECT_EQ(server.Get("/api/registry/models?mode=sideways").status == 400 ||
                server.GetJson("/api/registry/models?mode=sideways")["items"].empty(),
            true);
  server.Stop();
}

TEST(ResearchFlow, RunsWrittenOutsideTheServerAreIndexed) {
  FlowWorkspace ws;
  CmdResult t = RunAlphalab({"train", "--config", "configs/base.yaml", "--set", "model.params.num_round=5", "--set",
                             "model.params.nthread=1", "--workspace", ws.root().string()},
                            ws.root());
  ASSERT_EQ(t.exit_code, 0) << Describe(t);
  const std::string run_id = OutputValue(t.out, "run_id");
  CmdResult b = RunAlphalab({"backtest", "--config", "configs/backtest/base.yaml", "--workspace", ws.root().string()},
                            ws.root());
  ASSERT_EQ(b.exit_code, 0) << Describe(b);
  const std::string bt_id = OutputValue(b.out, "bt_run_id");

  // `alphalab index` indexes and exports; a broken run folder is reported (file + problem) and
  // does not stop the rest; running it twice changes nothing.
  ws.Write("runs/run_broken/metrics.json", "{not json");
  CmdResult idx = RunAlphalab({"index", "--workspace", ws.root().string()}, ws.root());
  ASSERT_EQ(idx.exit_code, 0) << Describe(idx);
  EXPECT_NE((idx.out + idx.err).find("runs/run_broken/metrics.json"), std::string::npos) << Describe(idx);
  const std::string csv1 = Slurp(ws.root() / "reports/registry/models.csv");
  EXPECT_NE(csv1.find(run_id), std::string::npos) << csv1;
  CmdResult idx2 = RunAlphalab({"index", "--workspace", ws.root().string()}, ws.root());
  ASSERT_EQ(idx2.exit_code, 0) << Describe(idx2);
  EXPECT_EQ(Slurp(ws.root() / "reports/registry/models.csv"), csv1);

  // A run written while the server is down appears after it starts.
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  Json rows = server.GetJson("/api/registry/models?run_id=" + run_id);
  ASSERT_EQ(rows["items"].size(), 1u) << rows.dump();
  EXPECT_EQ(rows["items"][0]["ticker"], "SPX");
  EXPECT_EQ(server.GetJson("/api/backtests/" + bt_id)["bt_run_id"], bt_id);
  server.Stop();
  CmdResult t2 = RunAlphalab({"train", "--config", "configs/base.yaml", "--set", "model.params.num_round=5", "--set",
                              "model.params.nthread=1", "--workspace", ws.root().string()},
                             ws.root());
  ASSERT_EQ(t2.exit_code, 0) << Describe(t2);
  ServerProcess again(ws.root());
  ASSERT_TRUE(again.Start());
  Json all = again.GetJson("/api/registry/models?limit=1000");
  EXPECT_EQ(all.value("total", -1), 2) << all.dump().substr(0, 2000);
  again.Stop();
}

}  // namespace
}  // namespace alphalab::flows

// Registry and results API over real HTTP: a workspace with a synthetic universe
// (`alphalab data synth`, instruments named TSM and ACME), two real training runs
// (`alphalab train`) and a real backtest (`alphalab backtest`), then the real
// `bin/alphalab serve` (which indexes on start). Expectations are computed from the run
// folders' own metrics.json files, independently of the registry code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "integration/server_harness.hpp"

namespace alphalab::testing {
namespace {

std::string RunAlphalab(const std::string& args, const fs::path& log) {
  const std::string cmd = (BinDir() / "alphalab").string() + " " + args + " > " + log.string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::string out = ReadFile(log).value_or("");
  return rc == 0 ? "" : "command failed (" + std::to_string(rc) + "): " + cmd + "\n" + out;
}

struct Expected {
  std::string run_id, ticker;
  double precision, lift, buy_rate;
  int64_t support;
};

class RegistryHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ws_ = new TempWorkspace("datasets:\n  synthetic:\n    format: csv\n    path: data/synthetic\n");
    const fs::path root = ws_->root();
    fs::remove_all(root / "runs");  // the harness' empty demo run folder is not a run
    std::ofstream(root / "configs" / "registry_it.yaml")
        << "dataset: synthetic\ntickers: [TSM, ACME]\nlabel: {horizon_days: 5, threshold: 0.01}\n"
           "split: {train_end: 2009-12-31, valid_end: 2010-12-31, gap_days: 5}\n"
           "model: {type: xgboost, params: {max_depth: 3, eta: 0.2, num_round: 30}}\nmode: base\nproject: it\n";
    std::ofstream(root / "configs" / "backtest" / "registry_it.yaml")
        << "dataset: synthetic\ntickers: [TSM]\nstart: 2005-01-03\nend: 2012-12-31\ninitial_cash: 100000\n"
           "fee_bps: 10\nstrategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n";
    std::ofstream(root / "configs" / "backtest" / "registry_it_acme.yaml")
        << "dataset: synthetic\ntickers: [ACME]\nstart: 2005-01-03\nend: 2012-12-31\ninitial_cash: 100000\n"
           "fee_bps: 10\nstrategy: {type: sma_cross, params: {fast: 5, slow: 20}}\n";
    const std::string ws = " --workspace " + root.string();
    setup_error_ = RunAlphalab("data synth --instruments 4 --years 8 --seed 7 --symbols TSM,ACME" + ws, root / "synth.log");
    if (setup_error_.empty()) setup_error_ = RunAlphalab("train --config configs/registry_it.yaml" + ws, root / "train1.log");
    if (setup_error_.empty()) {
      setup_error_ = RunAlphalab("train --config configs/registry_it.yaml --set label.threshold=0.02" + ws, root / "train2.log");
    }
    if (setup_error_.empty()) {
      setup_error_ = RunAlphalab("backtest --config configs/backtest/registry_it.yaml" + ws, root / "backtest.log");
    }
    if (setup_error_.empty()) {
      setup_error_ = RunAlphalab("backtest --config configs/backtest/registry_it_acme.yaml" + ws, root / "backtest2.log");
    }
    if (!setup_error_.empty()) return;
    server_ = new ServerProcess(root);
    auto started = server_->Start();
    if (!started) setup_error_ = started.message();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete ws_;
    ws_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static std::vector<std::string> RunIds() {
    std::vector<std::string> ids;
    for (const auto& e : fs::directory_iterator(ws_->root() / "runs")) ids.push_back(e.path().filename().string());
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  // Every (run, ticker) of the base mode, read straight from metrics.json.
  static std::vector<Expected> FromDisk() {
    std::vector<Expected> out;
    for (const auto& id : RunIds()) {
      Json m = ParseJson(ReadFile(ws_->root() / "runs" / id / "metrics.json").value()).value();
      for (const auto& [ticker, t] : m["per_ticker"].items()) {
        auto num = [&](const char* k) { return t[k].is_number() ? t[k].get<double>() : -1.0; };
        out.push_back({id, ticker, num("precision"), num("lift"), num("buy_rate"), t["support"].get<int64_t>()});
      }
    }
    return out;
  }

  static TempWorkspace* ws_;
  static ServerProcess* server_;
  static std::string setup_error_;
};
TempWorkspace* RegistryHttpTest::ws_ = nullptr;
ServerProcess* RegistryHttpTest::server_ = nullptr;
std::string RegistryHttpTest::setup_error_;

TEST_F(RegistryHttpTest, SeedCurlFiltersSortsAndPagesInTheDatabase) {
  const auto all = FromDisk();
  ASSERT_EQ(all.size(), 4u);  // 2 runs x 2 tickers
  auto resp = server_->Get("/api/registry/models?ticker=TSM&min_lift=1.1&min_precision=0.6&min_support=30&limit=50&offset=0");
  ASSERT_EQ(resp.status, 200) << resp.body;
  Json page = resp.JsonBody().value();
  std::vector<Expected> want;
  for (const auto& e : all) {
    if (e.ticker == "TSM" && e.lift >= 1.1 && e.precision >= 0.6 && e.support >= 30) want.push_back(e);
  }
  std::sort(want.begin(), want.end(), [](const Expected& a, const Expected& b) {
    if (a.precision != b.precision) return a.precision > b.precision;
    if (a.lift != b.lift) return a.lift > b.lift;
    if (a.buy_rate != b.buy_rate) return a.buy_rate < b.buy_rate;
    if (a.support != b.support) return a.support > b.support;
    return a.run_id < b.run_id;
  });
  EXPECT_EQ(page["total"], want.size());
  EXPECT_EQ(page["limit"], 50);
  EXPECT_EQ(page["offset"], 0);
  ASSERT_EQ(page["items"].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(page["items"][i]["run_id"], want[i].run_id);
    EXPECT_EQ(page["items"][i]["precision"], want[i].precision);
  }

  // Unfiltered: every row, with every docs/registry.md column.
  Json everything = server_->GetJson("/api/registry/models");
  ASSERT_EQ(everything["total"], 4);
  for (const char* col : {"ticker", "run_id", "mode", "label_horizon_days", "label_threshold", "precision", "recall",
                          "f1", "accuracy", "buy_rate", "positive_rate", "lift", "tp", "fp", "tn", "fn", "support",
                          "model_final_path", "config_path", "metrics_path", "manifest_path", "start_time",
                          "end_time", "status", "project"}) {
    EXPECT_TRUE(everything["items"][0].contains(col)) << col;
  }
  EXPECT_EQ(everything["items"][0]["project"], "it");
  std::set<double> thresholds;
  for (const auto& r : everything["items"]) thresholds.insert(r["label_threshold"].get<double>());
  EXPECT_EQ(thresholds, (std::set<double>{0.01, 0.02}));

  // Paging: two pages of two, sorted by support ascending, no overlap.
  Json p1 = server_->GetJson("/api/registry/models?sort=support_asc&limit=2&offset=0");
  Json p2 = server_->GetJson("/api/registry/models?sort=support_asc&limit=2&offset=2");
  ASSERT_EQ(p1["items"].size(), 2u);
  ASSERT_EQ(p2["items"].size(), 2u);
  EXPECT_LE(p1["items"][1]["support"].get<int64_t>(), p2["items"][0]["support"].get<int64_t>());
  EXPECT_EQ(server_->GetJson("/api/registry/models?ticker=TSM,ACME&limit=0")["total"], 4);
}

TEST_F(RegistryHttpTest, BadParametersAre400sInTheErrorEnvelope) {
  for (const char* q : {"min_lift=abc", "min_precision=0.5x", "min_support=1.5", "limit=-1", "limit=1001", "offset=-3",
                        "sort=colour_desc", "sort=precision_sideways", "max_buy_rate=nan"}) {
    auto resp = server_->Get(std::string("/api/registry/models?") + q);
    EXPECT_EQ(resp.status, 400) << q << " " << resp.body;
    Json body = resp.JsonBody().value_or(Json());
    EXPECT_EQ(body["error"]["code"], "INVALID_ARGUMENT") << q << " " << resp.body;
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
  }
}

TEST_F(RegistryHttpTest, CompareIsSameTickerOnly) {
  const auto ids = RunIds();
  auto mixed = server_->Get("/api/registry/compare?run_ids=" + ids[0] + "," + ids[1]);
  EXPECT_EQ(mixed.status, 400) << mixed.body;  // each run has ACME and TSM rows
  EXPECT_NE(mixed.ErrorMessage().find("same ticker"), std::string::npos) << mixed.body;
  auto tsm = server_->Get("/api/registry/compare?run_ids=" + ids[0] + "," + ids[1] + "&ticker=TSM");
  ASSERT_EQ(tsm.status, 200) << tsm.body;
  Json j = tsm.JsonBody().value();
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][0]["ticker"], "TSM");
  EXPECT_EQ(j["items"][1]["ticker"], "TSM");
  EXPECT_EQ(server_->Get("/api/registry/compare?run_ids=" + ids[0] + "&ticker=NOPE").status, 400);
  EXPECT_EQ(server_->Get("/api/registry/compare?run_ids=nope_run").status, 404);
}

TEST_F(RegistryHttpTest, RunsListAndDetail) {
  Json runs = server_->GetJson("/api/runs?limit=1");
  EXPECT_EQ(runs["total"], 2);
  ASSERT_EQ(runs["items"].size(), 1u);
  Json all_runs = server_->GetJson("/api/runs");
  EXPECT_GE(all_runs["items"][0]["start_time"].get<std::string>(), all_runs["items"][1]["start_time"].get<std::string>());
  const std::string id = RunIds()[0];
  auto resp = server_->Get("/api/runs/" + id);
  ASSERT_EQ(resp.status, 200) << resp.body;
  Json d = resp.JsonBody().value();
  EXPECT_EQ(d["config"]["parsed"]["dataset"], "synthetic");
  EXPECT_NE(d["config"]["raw"].get<std::string>().find("synthetic"), std::string::npos);
  EXPECT_TRUE(d["metrics"]["base"]["data"]["per_ticker"].contains("TSM"));
  EXPECT_EQ(d["manifest"]["run_id"], id);
  bool has_metrics = false;
  for (const auto& f : d["files"]) has_metrics = has_metrics || f["name"] == "metrics.json";
  EXPECT_TRUE(has_metrics);
  EXPECT_TRUE(d["jobs"].is_array());
  EXPECT_EQ(server_->Get("/api/runs/run_does_not_exist").status, 404);
  EXPECT_EQ(server_->Get("/api/runs/bad%20id").status, 400);
}

TEST_F(RegistryHttpTest, BacktestsListDetailDownsampleAndFiles) {
  Json list = server_->GetJson("/api/backtests?ticker=TSM");
  ASSERT_EQ(list["total"], 1) << list.dump();
  const std::string bt = list["items"][0]["bt_run_id"];
  EXPECT_EQ(list["items"][0]["strategy"], "sma_cross");
  EXPECT_EQ(server_->GetJson("/api/backtests?strategy=signal")["total"], 0);

  Json full = server_->GetJson("/api/backtests/" + bt);
  const size_t n = full["equity_points_total"].get<size_t>();
  ASSERT_GT(n, 1000u);
  EXPECT_EQ(full["equity_curve"].size(), n);
  EXPECT_TRUE(full["statistics"].is_object());
  EXPECT_TRUE(full["summary"].contains("cagr"));
  Json small = server_->GetJson("/api/backtests/" + bt + "?points=100");
  EXPECT_LE(small["equity_curve"].size(), 100u);
  EXPECT_EQ(small["equity_curve"][0], full["equity_curve"][0]);
  EXPECT_EQ(small["equity_curve"].back(), full["equity_curve"].back());
  EXPECT_EQ(small["drawdown"].size(), small["equity_curve"].size());

  auto csv = server_->Get("/api/backtests/" + bt + "/files/equity.csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type.rfind("text/csv", 0), 0u);
  EXPECT_EQ(csv.body.rfind("date,", 0), 0u);
  // The engine's order and holdings files download the same way.
  auto fills = server_->Get("/api/backtests/" + bt + "/files/fills.csv");
  ASSERT_EQ(fills.status, 200);
  EXPECT_EQ(fills.body.rfind("date,symbol,side,shares,price,fee,reason\n", 0), 0u);
  auto positions = server_->Get("/api/backtests/" + bt + "/files/positions.csv");
  ASSERT_EQ(positions.status, 200);
  EXPECT_EQ(positions.body.rfind("date,symbol,shares,price,weight\n", 0), 0u);
  // Traversal never serves a file (the router may refuse it before the handler: 400 or 404).
  const int traversal = server_->Get("/api/backtests/" + bt + "/files/..%2F..%2Falphalab.yaml").status;
  EXPECT_TRUE(traversal == 400 || traversal == 404) << traversal;
  EXPECT_EQ(server_->Get("/api/backtests/" + bt + "/files/bad%20name.csv").status, 400);
  EXPECT_EQ(server_->Get("/api/backtests/" + bt + "/files/nope.csv").status, 404);
  EXPECT_EQ(server_->Get("/api/backtests/bt_nope").status, 404);
}

// sort / min_ / max_ on the numeric summary fields and comma lists, checked against the two
// backtests' own summary.json files.
TEST_F(RegistryHttpTest, BacktestsSortAndBoundByTheirSummaryMetrics) {
  std::vector<std::pair<double, std::string>> by_sharpe;  // (sharpe, bt_run_id) from disk
  for (const auto& e : fs::directory_iterator(ws_->root() / "backtests")) {
    Json summary = ParseJson(ReadFile(e.path() / "summary.json").value()).value();
    ASSERT_TRUE(summary["sharpe"].is_number()) << summary.dump();
    by_sharpe.emplace_back(summary["sharpe"].get<double>(), e.path().filename().string());
  }
  ASSERT_EQ(by_sharpe.size(), 2u);
  std::sort(by_sharpe.begin(), by_sharpe.end());
  ASSERT_LT(by_sharpe[0].first, by_sharpe[1].first) << "the two strategies should differ";
  auto ids = [](const Json& list) {
    std::vector<std::string> out;
    for (const auto& b : list["items"]) out.push_back(b["bt_run_id"]);
    return out;
  };
  EXPECT_EQ(ids(server_->GetJson("/api/backtests?sort=sharpe_desc")),
            (std::vector<std::string>{by_sharpe[1].second, by_sharpe[0].second}));
  EXPECT_EQ(ids(server_->GetJson("/api/backtests?sort=sharpe_asc")),
            (std::vector<std::string>{by_sharpe[0].second, by_sharpe[1].second}));
  const double mid = (by_sharpe[0].first + by_sharpe[1].first) / 2;
  char bound[64];
  std::snprintf(bound, sizeof bound, "%.17g", mid);
  EXPECT_EQ(ids(server_->GetJson(std::string("/api/backtests?min_sharpe=") + bound)),
            std::vector<std::string>{by_sharpe[1].second});
  EXPECT_EQ(ids(server_->GetJson(std::string("/api/backtests?max_sharpe=") + bound)),
            std::vector<std::string>{by_sharpe[0].second});
  // Inclusive bounds: exactly the lower value keeps it.
  std::snprintf(bound, sizeof bound, "%.17g", by_sharpe[0].first);
  EXPECT_EQ(server_->GetJson(std::string("/api/backtests?min_sharpe=") + bound + "&max_sharpe=" + bound)["total"], 1);
  EXPECT_EQ(server_->GetJson("/api/backtests?ticker=TSM,ACME")["total"], 2);
  EXPECT_EQ(server_->GetJson("/api/backtests?ticker=ACME")["total"], 1);
  EXPECT_EQ(server_->GetJson("/api/backtests?strategy=signal,sma_cross")["total"], 2);
  EXPECT_EQ(server_->GetJson("/api/backtests?min_trades=0&max_max_drawdown=1")["total"], 2);
  // Bad values are 400s naming the parameter; undeclared names too.
  for (const char* bad : {"sort=sharpe", "sort=precision_desc", "sort=sharpe_desc,sharpe_asc", "min_sharpe=abc",
                          "max_cagr=nan", "min_colour=1"}) {
    auto r = server_->Get(std::string("/api/backtests?") + bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
}

TEST_F(RegistryHttpTest, RunFilesDownloadThroughTheFilesRoute) {
  const std::string id = RunIds()[0];
  auto metrics = server_->Get("/api/runs/" + id + "/files/metrics.json");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_EQ(metrics.content_type.rfind("application/json", 0), 0u);
  EXPECT_TRUE(Json::parse(metrics.body).is_object());
  const int traversal = server_->Get("/api/runs/" + id + "/files/..%2F..%2Falphalab.yaml").status;
  EXPECT_TRUE(traversal == 400 || traversal == 404) << traversal;
  EXPECT_EQ(server_->Get("/api/runs/" + id + "/files/bad%20name.json").status, 400);
  EXPECT_EQ(server_->Get("/api/runs/" + id + "/files/nope.json").status, 404);
  EXPECT_EQ(server_->Get("/api/runs/run_nope/files/metrics.json").status, 404);
}

TEST_F(RegistryHttpTest, DashboardAndEvalMetricsJobReindexesTheRun) {
  Json dash = server_->GetJson("/api/dashboard");
  ASSERT_EQ(dash["best_models"].size(), 2u);
  EXPECT_EQ(dash["best_models"][0]["ticker"], "ACME");
  EXPECT_EQ(dash["recent_backtests"].size(), 2u);

  const std::string id = RunIds()[0];
  auto submit = server_->Post("/api/jobs/eval-metrics", Json{{"run_id", id}, {"mode", "base"}});
  ASSERT_EQ(submit.status, 200) << submit.body;
  Json job = server_->WaitTerminal(submit.JsonBody().value()["job_id"].get<std::string>(), std::chrono::seconds(60));
  ASSERT_EQ(job["status"], "SUCCESS") << job.dump();
  // The finished hook re-indexes the run: its base rows now come from metrics_eval_base.json.
  std::string metrics_path;
  for (int i = 0; i < 100; ++i) {
    Json rows = server_->GetJson("/api/registry/models?run_id=" + id + "&ticker=TSM");
    metrics_path = rows["items"][0]["metrics_path"];
    if (metrics_path.find("metrics_eval_base.json") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(metrics_path, "runs/" + id + "/metrics_eval_base.json");
  EXPECT_EQ(server_->GetJson("/api/registry/models")["total"], 4);  // replaced, not added
  Json detail = server_->GetJson("/api/runs/" + id);
  bool found = false;
  for (const auto& j : detail["jobs"]) found = found || j["job_type"] == "eval-metrics";
  EXPECT_TRUE(found) << detail["jobs"].dump();
  // The export follows the store update (same hook, written right after).
  bool exported = false;
  for (int i = 0; i < 100 && !exported; ++i) {
    exported = ReadFile(ws_->root() / "reports/registry/models.csv").value_or("").find("metrics_eval_base.json") !=
               std::string::npos;
    if (!exported) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(exported);
}

}  // namespace
}  // namespace alphalab::testing

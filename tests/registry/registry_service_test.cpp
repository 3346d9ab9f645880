// RegistryService without HTTP: query-parameter validation (400s), compare, run detail with
// the jobs that produced / re-evaluated a run, backtest detail (downsampling, drawdown,
// trades), raw file access confinement, the job-finished hook and the dashboard.
#include <fstream>
#include <gtest/gtest.h>

#include <unistd.h>

#include "core/clock.hpp"
#include "core/job_result.hpp"
#include "registry/registry_service.hpp"
#include "registry/run_fixtures.hpp"  // tests/registry/run_fixtures.hpp
#include "store/fake_job_store.hpp"
#include "store/fake_registry_store.hpp"
#include "store/temp_dir.hpp"

namespace alphalab::registry {
namespace {

using testing::TickerMetrics;
using testing::WriteBacktest;
using testing::WriteRun;
using testing::WriteText;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = std::make_unique<Workspace>(Workspace::Open(tmp_.path()).value());
    svc_ = std::make_unique<RegistryService>(*ws_, store_, &jobs_, clock_);
  }
  JobRecord Job(const std::string& id, const std::string& type, JobState state, Json artifacts, Json params,
                int seconds) {
    JobRecord j;
    j.job_id = JobId(id);
    j.job_type = type;
    j.status = state;
    j.created_at = TimePoint(std::chrono::seconds(1'800'000'000 + seconds));
    j.artifacts = std::move(artifacts);
    j.params = std::move(params);
    j.cwd = tmp_.path().string();
    return j;
  }

  testing::TempDir tmp_;
  FakeClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<Workspace> ws_;
  FakeRegistryStore store_;
  FakeJobStore jobs_;
  std::unique_ptr<RegistryService> svc_;
};

TEST(ParseModelsParams, AcceptsTheSeedQueryAndCommaLists) {
  auto q = ParseModelsParams({{"ticker", "TSM"}, {"min_lift", "1.1"}, {"min_precision", "0.6"},
                              {"min_support", "30"}, {"limit", "50"}, {"offset", "0"}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->tickers, std::vector<std::string>{"TSM"});
  EXPECT_EQ(q->min_lift, 1.1);
  EXPECT_EQ(q->min_precision, 0.6);
  EXPECT_EQ(q->min_support, 30);
  EXPECT_EQ(q->limit, 50);
  EXPECT_TRUE(q->sort.empty());  // default applied by the store
  auto list = ParseModelsParams({{"ticker", "AAA, BBB,,AAA"}, {"sort", "lift_desc,support_asc"}, {"max_buy_rate", ""}});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->tickers, (std::vector<std::string>{"AAA", "BBB"}));
  EXPECT_EQ(FormatRegistrySort(list->sort), "lift_desc,support_asc");
  EXPECT_FALSE(list->max_buy_rate.has_value());  // empty value = absent (UI sends empty inputs)
}

TEST(ParseModelsParams, RefusesBadValuesNamingTheParameter) {
  const std::vector<std::pair<Params, std::string>> bad = {
      {{{"min_lift", "abc"}}, "min_lift"},
      {{{"min_precision", "0.6x"}}, "min_precision"},
      {{{"max_buy_rate", "nan"}}, "max_buy_rate"},
      {{{"min_support", "3.5"}}, "min_support"},
      {{{"limit", "-1"}}, "limit"},
      {{{"limit", "1001"}}, "limit"},
      {{{"offset", "-5"}}, "offset"},
      {{{"sort", "colour_desc"}}, "sort"},
      {{{"sort", "precision_up"}}, "sort"},
      {{{"sort", "ticker_asc"}}, "sort"},
      {{{"sort", "precision_desc,"}}, "sort"},
      {{{"run_id", "../x"}}, "run_id"},
  };
  for (const auto& [params, name] : bad) {
    auto q = ParseModelsParams(params);
    ASSERT_FALSE(q.ok()) << name;
    EXPECT_TRUE(q.status().IsInvalidArgument()) << name;
    EXPECT_NE(q.status().message().find(name), std::string::npos) << q.status().message();
  }
  auto unknown = ParseModelsParams({{"sort", "colour_desc"}});
  EXPECT_NE(unknown.status().message().find("colour"), std::string::npos);
}

TEST_F(ServiceTest, ModelsReturnsThePageEnvelope) {
  TickerMetrics a, b;
  a.precision = 0.7;
  a.lift = 1.3;
  a.support = 40;
  b.precision = 0.65;
  b.lift = 1.05;  // fails min_lift
  WriteRun(tmp_.path(), "run_1", {{"TSM", a}, {"SYNA", a}});
  WriteRun(tmp_.path(), "run_2", {{"TSM", b}});
  ASSERT_TRUE(svc_->IndexAll().ok());
  auto page = svc_->Models({{"ticker", "TSM"}, {"min_lift", "1.1"}, {"min_precision", "0.6"}, {"min_support", "30"},
                            {"limit", "50"}, {"offset", "0"}});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ((*page)["total"], 1);
  EXPECT_EQ((*page)["limit"], 50);
  EXPECT_EQ((*page)["offset"], 0);
  ASSERT_EQ((*page)["items"].size(), 1u);
  EXPECT_EQ((*page)["items"][0]["run_id"], "run_1");
  EXPECT_EQ((*page)["items"][0]["ticker"], "TSM");
  EXPECT_TRUE(svc_->Models({{"limit", "5000"}}).status().IsInvalidArgument());
}

TEST_F(ServiceTest, CompareRefusesDifferentTickersAndSaysWhich) {
  WriteRun(tmp_.path(), "run_1", {{"TSM", {}}});
  WriteRun(tmp_.path(), "run_2", {{"TSM", {}}});
  WriteRun(tmp_.path(), "run_3", {{"SYNA", {}}});
  WriteRun(tmp_.path(), "run_4", {{"SYNA", {}}, {"TSM", {}}});
  ASSERT_TRUE(svc_->IndexAll().ok());

  auto ok = svc_->Compare({{"run_ids", "run_2,run_1"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)["ticker"], "TSM");
  ASSERT_EQ((*ok)["items"].size(), 2u);
  EXPECT_EQ((*ok)["items"][0]["run_id"], "run_2");  // in the order asked

  auto mixed = svc_->Compare({{"run_ids", "run_1,run_3"}});
  ASSERT_TRUE(mixed.status().IsInvalidArgument());
  EXPECT_NE(mixed.status().message().find("run_1 -> TSM"), std::string::npos) << mixed.status().message();
  EXPECT_NE(mixed.status().message().find("run_3 -> SYNA"), std::string::npos);

  auto with_ticker = svc_->Compare({{"run_ids", "run_1,run_4"}, {"ticker", "TSM"}});
  ASSERT_TRUE(with_ticker.ok());
  EXPECT_EQ((*with_ticker)["items"].size(), 2u);
  auto missing = svc_->Compare({{"run_ids", "run_1,run_3"}, {"ticker", "TSM"}});
  ASSERT_TRUE(missing.status().IsInvalidArgument());
  EXPECT_NE(missing.status().message().find("run_3 has no rows for ticker TSM"), std::string::npos)
      << missing.status().message();
  EXPECT_TRUE(svc_->Compare({{"run_ids", "run_1,run_nope"}}).status().IsNotFound());
  EXPECT_TRUE(svc_->Compare({}).status().IsInvalidArgument());
}

TEST_F(ServiceTest, RunDetailHasConfigMetricsManifestFilesAndJobs) {
  WriteRun(tmp_.path(), "run_1", {{"TSM", {}}});
  Json eval = testing::MetricsJson("run_1", "base", {{"TSM", {}}});
  eval["evaluated_at"] = "2026-11-21T00:00:00.000Z";
  WriteText(tmp_.path() / "runs/run_1/metrics_eval_base.json", eval.dump());
  ASSERT_TRUE(svc_->IndexAll().ok());
  ASSERT_TRUE(jobs_.InsertJob(Job("job_train", "train", JobState::kSuccess, {{"run_id", "run_1"}}, {}, 1)).ok());
  ASSERT_TRUE(jobs_.InsertJob(Job("job_eval", "eval-metrics", JobState::kSuccess, {}, {{"run_id", "run_1"}}, 2)).ok());
  ASSERT_TRUE(jobs_.InsertJob(Job("job_other", "train", JobState::kSuccess, {{"run_id", "run_9"}}, {}, 3)).ok());

  auto d = svc_->RunDetail("run_1");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)["config"]["path"], "runs/run_1/config.yaml");
  EXPECT_EQ((*d)["config"]["parsed"]["label"]["horizon_days"], 20);
  EXPECT_EQ((*d)["config"]["parsed"]["tickers"][0], "TSM");
  EXPECT_NE((*d)["config"]["raw"].get<std::string>().find("dataset: synthetic"), std::string::npos);
  EXPECT_EQ((*d)["metrics"]["base"]["source"], "runs/run_1/metrics_eval_base.json");
  EXPECT_EQ((*d)["metrics"]["base"]["evaluated_at"], "2026-11-21T00:00:00.000Z");
  EXPECT_EQ((*d)["manifest"]["run_id"], "run_1");
  std::set<std::string> names;
  for (const auto& f : (*d)["files"]) names.insert(f["name"].get<std::string>());
  EXPECT_TRUE(names.count("metrics.json") && names.count("model_TSM.json") && names.count("config.yaml"));
  for (const auto& f : (*d)["files"]) {
    if (f["name"] == "model_TSM.json") {
      EXPECT_EQ(f["size"], 2);
    }
  }
  ASSERT_EQ((*d)["jobs"].size(), 2u);
  EXPECT_EQ((*d)["jobs"][0]["job_id"], "job_eval");
  EXPECT_EQ((*d)["jobs"][0]["relation"], "re-evaluated");
  EXPECT_EQ((*d)["jobs"][1]["job_id"], "job_train");
  EXPECT_EQ((*d)["registry_rows"].size(), 1u);

  EXPECT_TRUE(svc_->RunDetail("run_nope").status().IsNotFound());
  EXPECT_TRUE(svc_->RunDetail("..").status().IsInvalidArgument());
}

TEST_F(ServiceTest, JobFinishedHookIndexesBySuccessfulJobsResultKind) {
  WriteRun(tmp_.path(), "run_1", {{"TSM", {}}});
  std::filesystem::create_directories(tmp_.path() / "reports/jobs/runtime");
  auto result = [&](const JobResult& r) { ASSERT_TRUE(WriteJobResult(tmp_.path(), r).ok()); };
  result(JobResult::Run("j1", "run_1"));
  auto failed = svc_->OnJobFinished(Job("j1", "train", JobState::kFailed, {{"run_id", "run_1"}}, {}, 0));
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(store_.QueryModels({})->total, 0);
  // No result file: nothing is indexed, whatever the job type is called or its artifacts say.
  auto unwritten = svc_->OnJobFinished(Job("j0", "train", JobState::kSuccess, {{"run_id", "run_1"}}, {}, 0));
  ASSERT_TRUE(unwritten.ok());
  EXPECT_EQ(unwritten->runs_indexed, 0);
  EXPECT_TRUE(unwritten->problems.empty());
  EXPECT_EQ(store_.QueryModels({})->total, 0);
  result(JobResult::Run("j2", "run_1"));
  auto ok = svc_->OnJobFinished(Job("j2", "train", JobState::kSuccess, {}, {}, 0));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->runs_indexed, 1);
  EXPECT_EQ(store_.QueryModels({})->total, 1);
  ASSERT_TRUE(svc_->WaitForExports().ok());
  EXPECT_TRUE(std::filesystem::exists(tmp_.path() / "reports/registry/models.csv"));

  TickerMetrics re;
  re.precision = 0.99;
  WriteText(tmp_.path() / "runs/run_1/metrics_eval_base.json", testing::MetricsJson("run_1", "base", {{"TSM", re}}).dump());
  result(JobResult::Evaluation("j3", "run_1", "runs/run_1/metrics_eval_base.json"));
  ASSERT_TRUE(svc_->OnJobFinished(Job("j3", "eval-metrics", JobState::kSuccess, {}, {}, 0)).ok());
  EXPECT_EQ(store_.QueryModels({})->items.at(0).precision, 0.99);
  ASSERT_TRUE(svc_->WaitForExports().ok());
  EXPECT_NE(ReadFile(tmp_.path() / "reports/registry/models.csv").value().find("metrics_eval_base.json"),
            std::string::npos);

  // A backtest result indexes a backtest, also for a job type with another name.
  WriteBacktest(tmp_.path(), "bt_1", "sma_cross", {"TSM"});
  result(JobResult::Backtest("j4", "bt_1"));
  ASSERT_TRUE(svc_->OnJobFinished(Job("j4", "my-backtester", JobState::kSuccess, {}, {}, 0)).ok());
  EXPECT_EQ(store_.ListBacktests({})->total, 1);

  // A corrupt result file is a problem in the report, not an error.
  WriteText(tmp_.path() / JobResultPath("j5"), "{\"schema\": 1, \"kind\": \"model\"}");
  auto bad = svc_->OnJobFinished(Job("j5", "backtest", JobState::kSuccess, {}, {}, 0));
  ASSERT_TRUE(bad.ok());
  ASSERT_EQ(bad->problems.size(), 1u);
  EXPECT_NE(bad->problems[0].message.find("unknown kind 'model'"), std::string::npos) << bad->problems[0].message;
}

TEST_F(ServiceTest, JobsFinishedTogetherIndexTheirBacktestsAndRunsAsOneByOne) {
  WriteRun(tmp_.path(), "run_1", {{"TSM", {}}});
  WriteBacktest(tmp_.path(), "bt_1", "sma_cross", {"TSM"});
  WriteBacktest(tmp_.path(), "bt_2", "sma_cross", {"SYNA"});
  // What is indexed comes from each job's result file (its kind), never from its type's name.
  std::filesystem::create_directories(tmp_.path() / "reports/jobs/runtime");
  for (const JobResult& r : {JobResult::Backtest("j1", "bt_1"), JobResult::Backtest("j2", "bt_2"),
                             JobResult::Run("j3", "run_1"), JobResult::Backtest("j4", "bt_gone")}) {
    ASSERT_TRUE(WriteJobResult(tmp_.path(), r).ok());
  }
  Json unsafe = JobResult::Backtest("j5", "bt_x").ToJson();
  unsafe["ids"]["bt_run_id"] = "../x";
  WriteText(tmp_.path() / JobResultPath("j5"), unsafe.dump());
  const std::vector<JobRecord> jobs = {
      Job("j1", "backtest", JobState::kSuccess, {{"bt_run_id", "bt_1"}}, {}, 0),
      Job("j2", "backtest", JobState::kFailed, {{"bt_run_id", "bt_2"}}, {}, 0),    // not indexed: failed
      Job("j3", "train", JobState::kSuccess, {{"run_id", "run_1"}}, {}, 0),
      Job("j4", "backtest", JobState::kSuccess, {{"bt_run_id", "bt_gone"}}, {}, 0),  // no folder: a problem
      Job("j5", "backtest", JobState::kSuccess, {{"bt_run_id", "../x"}}, {}, 0),     // unsafe: a problem
  };
  auto r = svc_->OnJobsFinished(jobs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->backtests_indexed, 1);
  EXPECT_EQ(r->runs_indexed, 1);
  EXPECT_EQ(r->problems.size(), 2u);
  auto listed = store_.ListBacktests({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->total, 1);
  EXPECT_EQ(listed->items.at(0).bt_run_id, "bt_1");
  EXPECT_EQ(store_.QueryModels({})->total, 1);
  // A failed job alone indexes nothing.
  auto one = svc_->OnJobsFinished(std::span<const JobRecord>(&jobs[1], 1));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->backtests_indexed, 0);
  ASSERT_TRUE(svc_->WaitForExports().ok());
}

TEST_F(ServiceTest, BacktestDetailDownsamplesKeepingEndsAndExtremes) {
  WriteBacktest(tmp_.path(), "bt_1", "sma_cross", {"SYNA"}, "", "2026-11-20T11:00:00.000Z", 1000);
  ASSERT_TRUE(svc_->IndexAll().ok());
  auto full = svc_->BacktestDetail("bt_1", {});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ((*full)["equity_points_total"], 1000);
  EXPECT_EQ((*full)["equity_curve"].size(), 1000u);
  EXPECT_EQ((*full)["downsampled"], false);
  EXPECT_EQ((*full)["statistics"]["Drawdown"], "12.0%");
  EXPECT_EQ((*full)["trades"].size(), 2u);
  EXPECT_EQ((*full)["trades"][0]["pnl"], 95.5);
  EXPECT_TRUE((*full)["trades"][1]["exit_date"].is_null());  // open position

  auto small = svc_->BacktestDetail("bt_1", {{"points", "50"}});
  ASSERT_TRUE(small.ok());
  const Json& curve = (*small)["equity_curve"];
  EXPECT_LE(curve.size(), 50u);
  EXPECT_GE(curve.size(), 40u);
  EXPECT_EQ((*small)["downsampled"], true);
  EXPECT_EQ(curve.front(), (*full)["equity_curve"][0]);
  EXPECT_EQ(curve.back(), (*full)["equity_curve"][999]);
  double max_e = 0, min_e = 1e18, min_dd = 0;
  for (const auto& p : curve) {
    max_e = std::max(max_e, p["equity"].get<double>());
    min_e = std::min(min_e, p["equity"].get<double>());
    min_dd = std::min(min_dd, p["drawdown"].get<double>());
  }
  EXPECT_EQ(max_e, 2000000.0);  // the peak survived
  EXPECT_EQ(min_e, 500000.0);   // the trough survived
  EXPECT_DOUBLE_EQ(min_dd, -0.75);
  EXPECT_EQ((*small)["drawdown"].size(), curve.size());
  EXPECT_TRUE(svc_->BacktestDetail("bt_1", {{"points", "2"}}).status().IsInvalidArgument());
  EXPECT_TRUE(svc_->BacktestDetail("bt_1", {{"points", "many"}}).status().IsInvalidArgument());
  EXPECT_TRUE(svc_->BacktestDetail("bt_none", {}).status().IsNotFound());
}

TEST(DownsampleIndices, BoundsAndMustKeepPoints) {
  std::vector<double> v(10001);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<double>(i) / 300.0) * (1 + i % 7);
  v[4321] = 100;   // spike
  v[7777] = -100;  // dip
  for (size_t points : {4u, 5u, 10u, 101u, 1000u}) {
    auto keep = DownsampleIndices(v, nullptr, points);
    EXPECT_LE(keep.size(), points) << points;
    EXPECT_EQ(keep.front(), 0u);
    EXPECT_EQ(keep.back(), v.size() - 1);
    EXPECT_TRUE(std::is_sorted(keep.begin(), keep.end()));
    EXPECT_NE(std::find(keep.begin(), keep.end(), 4321u), keep.end()) << points;
    if (points >= 6) {
      EXPECT_NE(std::find(keep.begin(), keep.end(), 7777u), keep.end()) << points;
    }
  }
  EXPECT_EQ(DownsampleIndices({1, 2, 3}, nullptr, 10).size(), 3u);
}

TEST_F(ServiceTest, BacktestFilesAreConfinedToTheBacktestFolder) {
  WriteBacktest(tmp_.path(), "bt_1", "sma_cross", {"SYNA"});
  WriteText(tmp_.path() / "secret.txt", "top secret");
  ASSERT_EQ(::symlink((tmp_.path() / "secret.txt").c_str(), (tmp_.path() / "backtests/bt_1/leak.csv").c_str()), 0);
  auto f = svc_->BacktestFile("bt_1", "trades.csv");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(f->body.rfind("symbol,entry_date", 0), 0u);
  EXPECT_TRUE(svc_->BacktestFile("bt_1", "leak.csv").status().IsInvalidArgument());
  EXPECT_TRUE(svc_->BacktestFile("bt_1", "../secret.txt").status().IsInvalidArgument());
  EXPECT_TRUE(svc_->BacktestFile("bt_1", "..").status().IsInvalidArgument());
  EXPECT_TRUE(svc_->BacktestFile("bt_1", "nope.csv").status().IsNotFound());
  EXPECT_TRUE(svc_->BacktestFile("bt_x", "trades.csv").status().IsNotFound());
}

TEST_F(ServiceTest, RunFilesAreConfinedToTheRunFolderLikeBacktestFiles) {
  WriteRun(tmp_.path(), "run_1", {{"TSM", {}}, {"SYNA", {}}});
  WriteText(tmp_.path() / "secret.txt", "top secret");
  ASSERT_EQ(::symlink((tmp_.path() / "secret.txt").c_str(), (tmp_.path() / "runs/run_1/leak.json").c_str()), 0);
  auto f = svc_->RunFile("run_1", "model_SYNA.json");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->content_type, "application/json");
  EXPECT_EQ(f->body, "{}");
  auto cfg = svc_->RunFile("run_1", "config.yaml");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->content_type, "application/yaml");
  EXPECT_EQ(cfg->body.rfind("dataset: synthetic", 0), 0u);
  EXPECT_TRUE(svc_->RunFile("run_1", "leak.json").status().IsInvalidArgument());
  EXPECT_TRUE(svc_->RunFile("run_1", "../secret.txt").status().IsInvalidArgument());
  EXPECT_TRUE(svc_->RunFile("run_1", "..").status().IsInvalidArgument());
  EXPECT_TRUE(svc_->RunFile("run_1", "nope.json").status().IsNotFound());
  EXPECT_NE(svc_->RunFile("run_1", "nope.json").status().message().find("run 'run_1' has no file 'nope.json'"),
            std::string::npos);
  EXPECT_TRUE(svc_->RunFile("run_x", "metrics.json").status().IsNotFound());
  EXPECT_FALSE(svc_->RunFile("../backtests", "x").ok());
}

TEST_F(ServiceTest, DashboardHasRecentJobsBestModelsAndRecentBacktests) {
  TickerMetrics lo, hi;
  lo.precision = 0.55;
  hi.precision = 0.8;
  WriteRun(tmp_.path(), "run_1", {{"TSM", lo}, {"SYNA", hi}});
  WriteRun(tmp_.path(), "run_2", {{"TSM", hi}});
  WriteBacktest(tmp_.path(), "bt_old", "sma_cross", {"TSM"}, "", "2026-11-20T11:00:00.000Z");
  WriteBacktest(tmp_.path(), "bt_new", "sma_cross", {"TSM"}, "", "2026-11-20T12:00:00.000Z");
  ASSERT_TRUE(svc_->IndexAll().ok());
  ASSERT_TRUE(jobs_.InsertJob(Job("job_a", "train", JobState::kSuccess, {}, {}, 1)).ok());
  ASSERT_TRUE(jobs_.InsertJob(Job("job_b", "backtest", JobState::kRunning, {}, {}, 2)).ok());
  auto d = svc_->Dashboard({});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ((*d)["recent_jobs"].size(), 2u);
  EXPECT_EQ((*d)["recent_jobs"][0]["job_id"], "job_b");
  ASSERT_EQ((*d)["best_models"].size(), 2u);
  EXPECT_EQ((*d)["best_models"][0]["ticker"], "SYNA");
  EXPECT_EQ((*d)["best_models"][1]["ticker"], "TSM");
  EXPECT_EQ((*d)["best_models"][1]["run_id"], "run_2");
  ASSERT_EQ((*d)["recent_backtests"].size(), 2u);
  EXPECT_EQ((*d)["recent_backtests"][0]["bt_run_id"], "bt_new");
}

// The server owns one default min_support (30): the models list applies it when the parameter
// is absent or empty and says so; the Dashboard's best model per ticker skips rows under it (a
// 100%-precision model on 14 test rows does not outrank one on 400).
TEST_F(ServiceTest, DefaultMinSupportForModelsAndDashboard) {
  TickerMetrics tiny, solid, few;
  tiny.precision = 1.0;
  tiny.tp = 7;
  tiny.fp = 0;
  tiny.support = 14;
  solid.precision = 0.62;
  solid.support = 400;
  few.support = 29;
  WriteRun(tmp_.path(), "run_tiny", {{"TSM", tiny}, {"SYNA", few}});
  WriteRun(tmp_.path(), "run_solid", {{"TSM", solid}});
  ASSERT_TRUE(svc_->IndexAll().ok());
  for (const Params& p : {Params{}, Params{{"min_support", ""}}}) {
    auto page = svc_->Models(p);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ((*page)["min_support"], kDefaultMinSupport);
    EXPECT_EQ(kDefaultMinSupport, 30);
    ASSERT_EQ((*page)["total"], 1) << page->dump();
    EXPECT_EQ((*page)["items"][0]["run_id"], "run_solid");
  }
  auto all = svc_->Models({{"min_support", "0"}});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["min_support"], 0);
  EXPECT_EQ((*all)["total"], 3);
  EXPECT_EQ((*all)["items"][0]["run_id"], "run_tiny");  // precision 1.0 first without the floor

  auto d = svc_->Dashboard({});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)["best_models_min_support"], 30);
  ASSERT_EQ((*d)["best_models"].size(), 1u) << (*d)["best_models"].dump();  // SYNA has no row >= 30
  EXPECT_EQ((*d)["best_models"][0]["ticker"], "TSM");
  EXPECT_EQ((*d)["best_models"][0]["run_id"], "run_solid");
}

TEST_F(ServiceTest, RunsListCarriesEachRunsModelsLabelAndHeadlineMetrics) {
  auto row = [](const std::string& run, const std::string& ticker, const std::string& mode, int64_t horizon,
                double precision, double lift, int64_t tp, int64_t fp, int64_t support) {
    RegistryRow r;
    r.run_id = run;
    r.ticker = ticker;
    r.mode = mode;
    r.project = "p";
    r.label_horizon_days = horizon;
    r.label_threshold = 0.05;
    r.precision = precision;
    r.lift = lift;
    r.tp = tp;
    r.fp = fp;
    r.support = support;
    return r;
  };
  auto run = [](const std::string& id, const std::string& start, std::vector<RegistryRow> rows) {
    IndexedRun ir;
    ir.run.run_id = id;
    ir.run.project = "p";
    ir.run.mode = "base";
    ir.run.status = "success";
    ir.run.start_time = start;
    ir.run.dataset = "synthetic";
    for (const auto& r : rows) ir.run.tickers.push_back(r.ticker);
    ir.rows = std::move(rows);
    return ir;
  };
  ASSERT_TRUE(store_
                  .ReplaceRuns({run("run_a", "2026-01-03T00:00:00Z",
                                    {row("run_a", "TSM", "base", 20, 0.6, 1.2, 6, 4, 40),
                                     row("run_a", "AAA", "base", 20, 0.5, 1.0, 5, 5, 30),
                                     row("run_a", "ZZZ", "base", 20, 0.0, 0.0, 0, 0, 20),  // no positive: left out
                                     row("run_a", "TSM", "finetune", 20, 0.9, 3.0, 9, 1, 40)}),  // other mode
                                run("run_b", "2026-01-02T00:00:00Z",
                                    {row("run_b", "TSM", "base", 20, 0.7, 1.4, 7, 3, 50),
                                     row("run_b", "AAA", "base", 60, 0.6, 1.1, 6, 4, 50)}),
                                run("run_c", "2026-01-01T00:00:00Z", {})})
                  .ok());
  auto page = svc_->Runs({});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ((*page)["items"].size(), 3u);
  const Json& a = (*page)["items"][0]["models"];
  EXPECT_EQ(a["count"], 3);
  EXPECT_EQ(a["label_horizon_days"], 20);
  EXPECT_DOUBLE_EQ(a["label_threshold"].get<double>(), 0.05);
  EXPECT_EQ(a["label_mixed"], false);
  EXPECT_DOUBLE_EQ(a["precision"].get<double>(), (0.6 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(a["lift"].get<double>(), (1.2 + 1.0) / 2);
  EXPECT_EQ(a["support"], 90);
  const Json& b = (*page)["items"][1]["models"];
  EXPECT_EQ(b["count"], 2);
  EXPECT_TRUE(b["label_horizon_days"].is_null());
  EXPECT_EQ(b["label_mixed"], true);
  EXPECT_DOUBLE_EQ(b["precision"].get<double>(), 0.65);
  const Json& c = (*page)["items"][2]["models"];
  EXPECT_EQ(c, (Json{{"count", 0}, {"label_horizon_days", nullptr}, {"label_threshold", nullptr}, {"label_mixed", false},
                     {"precision", nullptr}, {"lift", nullptr}, {"support", nullptr}}));
  // q and sort reach the store; bad ones are 400s naming the parameter.
  auto found = svc_->Runs({{"q", "RUN_B"}});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ((*found)["total"], 1);
  EXPECT_EQ((*found)["items"][0]["run_id"], "run_b");
  auto asc = svc_->Runs({{"sort", "start_time_asc"}, {"limit", "1"}});
  ASSERT_TRUE(asc.ok());
  EXPECT_EQ((*asc)["items"][0]["run_id"], "run_c");
  auto bad_sort = svc_->Runs({{"sort", "lift_desc"}});
  EXPECT_TRUE(bad_sort.status().IsInvalidArgument());
  EXPECT_NE(bad_sort.status().message().find("sort"), std::string::npos);
  EXPECT_TRUE(svc_->Runs({{"q", std::string(201, 'x')}}).status().IsInvalidArgument());
}

TEST_F(ServiceTest, RunsAndBacktestsListsPageAndFilter) {
  WriteRun(tmp_.path(), "run_old", {{"TSM", {}}}, "base", "2026-11-19T10:00:00.000Z");
  WriteRun(tmp_.path(), "run_new", {{"SYNA", {}}}, "base", "2026-11-20T10:00:00.000Z");
  WriteBacktest(tmp_.path(), "bt_1", "sma_cross", {"TSM"});
  WriteBacktest(tmp_.path(), "bt_2", "signal", {"SYNA"}, "runs/run_new/model_SYNA.json");
  ASSERT_TRUE(svc_->IndexAll().ok());
  auto runs = svc_->Runs({{"limit", "1"}});
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ((*runs)["total"], 2);
  EXPECT_EQ((*runs)["items"][0]["run_id"], "run_new");
  EXPECT_EQ((*svc_->Runs({{"ticker", "TSM"}}))["items"][0]["run_id"], "run_old");
  EXPECT_TRUE(svc_->Runs({{"offset", "-1"}}).status().IsInvalidArgument());
  auto bts = svc_->Backtests({{"model_run_id", "run_new"}});
  ASSERT_TRUE(bts.ok());
  ASSERT_EQ((*bts)["total"], 1);
  EXPECT_EQ((*bts)["items"][0]["bt_run_id"], "bt_2");
  EXPECT_EQ((*svc_->Backtests({{"strategy", "sma_cross"}}))["items"][0]["bt_run_id"], "bt_1");
  EXPECT_EQ((*svc_->Backtests({{"ticker", "SYNA"}}))["total"], 1);
  EXPECT_TRUE(svc_->Backtests({{"model_run_id", "a/b"}}).status().IsInvalidArgument());
}

TEST_F(ServiceTest, RunsListCarriesTheModelParamsOfEachRunsConfig) {
  WriteRun(tmp_.path(), "run_a", {{"TSM", {}}}, "base", "2026-11-19T10:00:00.000Z");
  WriteRun(tmp_.path(), "run_b", {{"SYNA", {}}}, "base", "2026-11-20T10:00:00.000Z");
  // run_a's resolved config names its model params; run_b's has none.
  std::ofstream(tmp_.path() / "runs/run_a/config.yaml", std::ios::app)
      << "model: {type: xgboost, params: {max_depth: 4, eta: 0.1, tree_method: hist, monotone: [1, 0]}}\n";
  ASSERT_TRUE(svc_->IndexAll().ok());
  auto runs = svc_->Runs({});
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ((*runs)["items"].size(), 2u);
  EXPECT_EQ((*runs)["items"][1]["run_id"], "run_a");
  // scalars only (the list is left out), typed as YAML reads them
  EXPECT_EQ((*runs)["items"][1]["model_params"], (Json{{"max_depth", 4}, {"eta", 0.1}, {"tree_method", "hist"}}));
  EXPECT_EQ((*runs)["items"][0]["model_params"], Json::object());
  // Stored with the run, so the list sorts by them: a run with the numeric param first in both
  // directions (run_b, newer, has none); a bad name is a 400 naming the parameter.
  for (const char* sort : {"param.max_depth_asc", "param.max_depth_desc"}) {
    auto sorted = svc_->Runs({{"sort", sort}});
    ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
    EXPECT_EQ((*sorted)["items"][0]["run_id"], "run_a") << sort;
  }
  EXPECT_EQ((*svc_->Runs({{"sort", "param.tree_method_asc"}}))["items"][0]["run_id"], "run_a");  // text: run_id order
  auto bad = svc_->Runs({{"sort", "param.a b_asc"}});
  ASSERT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_EQ(bad.status().details().value("parameter", ""), "sort");
}

}  // namespace
}  // namespace alphalab::registry

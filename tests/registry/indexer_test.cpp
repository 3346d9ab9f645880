// Indexer: run folders -> registry rows (field mapping, eval-metrics re-evaluation, broken
// folders, idempotence, pruning) and the reports/registry exports. Real files in a temp
// workspace, the real SQLite store.
#include <set>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "registry/indexer.hpp"
#include "registry/registry_json.hpp"
#include "registry/run_fixtures.hpp"  // tests/registry/run_fixtures.hpp
#include "store/sqlite/sqlite_registry_store.hpp"
#include "store/temp_dir.hpp"

namespace alphalab::registry {
namespace {

using testing::TickerMetrics;
using testing::WriteRun;
using testing::WriteText;

class IndexerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = std::make_unique<Workspace>(Workspace::Open(tmp_.path()).value());
    db_ = SqliteDb::Open(tmp_.path() / "alphalab.db").value();
    store_ = SqliteRegistryStore::Open(*db_).value();
    indexer_ = std::make_unique<Indexer>(*ws_, *store_, clock_);
  }
  std::vector<RegistryRow> AllRows() {
    RegistryQuery q;
    q.limit = 1000;
    return store_->QueryModels(q).value().items;
  }
  std::optional<RegistryRow> Row(const std::string& run, const std::string& ticker, const std::string& mode) {
    for (const auto& r : AllRows()) {
      if (r.run_id == run && r.ticker == ticker && r.mode == mode) return r;
    }
    return std::nullopt;
  }
  std::string ReadText(const std::string& rel) { return ReadFile(tmp_.path() / rel).value(); }

  testing::TempDir tmp_;
  FakeClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<SqliteRegistryStore> store_;
  std::unique_ptr<Indexer> indexer_;
};

TEST_F(IndexerTest, MapsEveryFieldOfARun) {
  TickerMetrics m;
  m.precision = 0.625;
  m.lift = 1.25;
  m.support = 48;
  WriteRun(tmp_.path(), "run_a", {{"SYNA", m}, {"SYNB", TickerMetrics{}}});
  auto report = indexer_->IndexAll();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->runs_indexed, 1);
  EXPECT_EQ(report->rows_indexed, 2);
  EXPECT_TRUE(report->problems.empty());
  auto row = Row("run_a", "SYNA", "base");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->precision, 0.625);
  EXPECT_EQ(row->lift, 1.25);
  EXPECT_EQ(row->support, 48);
  EXPECT_EQ(row->tp, 30);
  EXPECT_EQ(row->fn, 10);
  EXPECT_EQ(row->label_horizon_days, 20);
  EXPECT_EQ(row->label_threshold, 0.05);
  EXPECT_EQ(row->project, "demo");
  EXPECT_EQ(row->status, "success");
  EXPECT_EQ(row->start_time, "2026-11-20T10:00:00.000Z");
  EXPECT_EQ(row->model_final_path, "runs/run_a/model_SYNA.json");
  EXPECT_EQ(row->config_path, "runs/run_a/config.yaml");
  EXPECT_EQ(row->metrics_path, "runs/run_a/metrics.json");
  EXPECT_EQ(row->manifest_path, "runs/run_a/manifest.json");
  auto run = store_->GetRun("run_a");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->tickers, (std::vector<std::string>{"SYNA", "SYNB"}));
  EXPECT_EQ(run->dataset, "synthetic");
}

TEST_F(IndexerTest, ReindexIsIdempotentIncludingExports) {
  WriteRun(tmp_.path(), "run_a", {{"SYNA", {}}, {"SYNB", {}}});
  WriteRun(tmp_.path(), "run_b", {{"SYNA", {}}}, "finetune");
  testing::WriteBacktest(tmp_.path(), "bt_1", "sma_cross", {"SYNA"});
  ASSERT_TRUE(indexer_->IndexAll().ok());
  const auto rows1 = AllRows();
  const std::string csv1 = ReadText("reports/registry/models.csv");
  const std::string json1 = ReadText("reports/registry/models.json");
  auto again = indexer_->IndexAll();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->runs_indexed, 2);
  EXPECT_EQ(again->backtests_indexed, 1);
  EXPECT_EQ(AllRows(), rows1);
  EXPECT_EQ(rows1.size(), 3u);
  EXPECT_EQ(ReadText("reports/registry/models.csv"), csv1);
  EXPECT_EQ(ReadText("reports/registry/models.json"), json1);
  EXPECT_EQ(store_->ListBacktests({})->total, 1);
}

TEST_F(IndexerTest, BrokenRunsAreReportedWithFileAndReasonAndDoNotStopTheRest) {
  WriteRun(tmp_.path(), "run_good", {{"SYNA", {}}});
  // 1: no metrics.json at all (unfinished)
  WriteText(tmp_.path() / "runs/run_nometrics/config.yaml", "x: 1\n");
  // 2: invalid JSON
  WriteText(tmp_.path() / "runs/run_badjson/metrics.json", "{\"run_id\": ");
  // 3: a metric of the wrong type
  Json wrong = testing::MetricsJson("run_wrongtype", "base", {{"SYNA", {}}});
  wrong["per_ticker"]["SYNA"]["precision"] = "high";
  WriteText(tmp_.path() / "runs/run_wrongtype/metrics.json", wrong.dump());
  // 4: run_id inside differs from the folder
  WriteText(tmp_.path() / "runs/run_renamed/metrics.json", testing::MetricsJson("run_other", "base", {{"SYNA", {}}}).dump());
  // 5: per_ticker missing
  Json noper = testing::MetricsJson("run_noper", "base", {});
  noper.erase("per_ticker");
  WriteText(tmp_.path() / "runs/run_noper/metrics.json", noper.dump());
  // 6: broken eval file
  WriteRun(tmp_.path(), "run_badeval", {{"SYNA", {}}});
  WriteText(tmp_.path() / "runs/run_badeval/metrics_eval_base.json", "[1,2]");

  auto report = indexer_->IndexAll();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->runs_indexed, 1);
  ASSERT_EQ(AllRows().size(), 1u);
  EXPECT_EQ(AllRows()[0].run_id, "run_good");

  std::map<std::string, IndexProblem> by_id;
  for (const auto& p : report->problems) by_id[p.id] = p;
  ASSERT_EQ(by_id.size(), 6u) << report->ToJson().dump(2);
  EXPECT_EQ(by_id["run_nometrics"].file, "runs/run_nometrics/metrics.json");
  EXPECT_NE(by_id["run_nometrics"].message.find("missing"), std::string::npos);
  EXPECT_EQ(by_id["run_badjson"].file, "runs/run_badjson/metrics.json");
  EXPECT_NE(by_id["run_badjson"].message.find("invalid JSON"), std::string::npos);
  EXPECT_NE(by_id["run_wrongtype"].message.find("per_ticker.SYNA.precision"), std::string::npos)
      << by_id["run_wrongtype"].message;
  EXPECT_NE(by_id["run_renamed"].message.find("run_other"), std::string::npos);
  EXPECT_NE(by_id["run_noper"].message.find("per_ticker"), std::string::npos);
  EXPECT_EQ(by_id["run_badeval"].file, "runs/run_badeval/metrics_eval_base.json");
  EXPECT_NE(by_id["run_badeval"].message.find("expected a JSON object"), std::string::npos);
  for (const auto& p : report->problems) EXPECT_EQ(p.kind, "run");
}

TEST_F(IndexerTest, ARunThatBreaksLaterLosesItsRowsAndAVanishedRunIsPruned) {
  WriteRun(tmp_.path(), "run_a", {{"SYNA", {}}});
  WriteRun(tmp_.path(), "run_b", {{"SYNA", {}}});
  ASSERT_TRUE(indexer_->IndexAll().ok());
  ASSERT_EQ(AllRows().size(), 2u);
  WriteText(tmp_.path() / "runs/run_a/metrics.json", "not json");
  std::filesystem::remove_all(tmp_.path() / "runs/run_b");
  auto report = indexer_->IndexAll();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->runs_removed, 1);  // run_b (run_a is a problem, removed as such)
  EXPECT_TRUE(AllRows().empty());
  EXPECT_TRUE(store_->ListRunIds()->empty());
}

TEST_F(IndexerTest, EvalMetricsReindexReplacesTheRowForItsMode) {
  TickerMetrics m;
  m.precision = 0.5;
  WriteRun(tmp_.path(), "run_a", {{"SYNA", m}, {"SYNB", m}});
  ASSERT_TRUE(indexer_->IndexAll().ok());
  ASSERT_EQ(Row("run_a", "SYNA", "base")->precision, 0.5);

  // eval-metrics --mode base writes metrics_eval_base.json: it replaces the base rows.
  TickerMetrics re;
  re.precision = 0.75;
  re.support = 321;
  Json eval = testing::MetricsJson("run_a", "base", {{"SYNA", re}, {"SYNB", re}});
  eval["evaluated_at"] = "2026-11-21T00:00:00.000Z";
  WriteText(tmp_.path() / "runs/run_a/metrics_eval_base.json", eval.dump());
  auto report = indexer_->IndexRun("run_a");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty());
  auto row = Row("run_a", "SYNA", "base");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->precision, 0.75);
  EXPECT_EQ(row->support, 321);
  EXPECT_EQ(row->metrics_path, "runs/run_a/metrics_eval_base.json");
  EXPECT_EQ(AllRows().size(), 2u);  // replaced, not added

  // --mode finetune adds rows for that mode next to the base ones.
  Json ft = testing::MetricsJson("run_a", "finetune", {{"SYNA", m}});
  WriteText(tmp_.path() / "runs/run_a/metrics_eval_finetune.json", ft.dump());
  ASSERT_TRUE(indexer_->IndexRun("run_a").ok());
  EXPECT_EQ(AllRows().size(), 3u);
  EXPECT_EQ(Row("run_a", "SYNA", "finetune")->metrics_path, "runs/run_a/metrics_eval_finetune.json");
  EXPECT_EQ(store_->GetRun("run_a")->eval_modes, (std::vector<std::string>{"base", "finetune"}));
  // The export followed.
  EXPECT_NE(ReadText("reports/registry/models.csv").find("metrics_eval_finetune.json"), std::string::npos);
}

TEST_F(IndexerTest, ExportsUseTheApiColumnNames) {
  TickerMetrics hi;
  hi.precision = 0.9;
  WriteRun(tmp_.path(), "run_a", {{"SYNA", hi}, {"SYN,Q", {}}});  // a comma forces CSV quoting
  ASSERT_TRUE(indexer_->IndexAll().ok());
  const std::string csv = ReadText("reports/registry/models.csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_EQ(header,
            "ticker,run_id,mode,label_horizon_days,label_threshold,precision,recall,f1,accuracy,buy_rate,"
            "positive_rate,lift,tp,fp,tn,fn,support,model_final_path,config_path,metrics_path,manifest_path,"
            "start_time,end_time,status,project");
  // Default sort: SYNA (precision .9) first; the quoted ticker second.
  const std::string line1 = csv.substr(header.size() + 1, csv.find('\n', header.size() + 1) - header.size() - 1);
  EXPECT_EQ(line1.rfind("SYNA,run_a,base,20,0.05,0.9,", 0), 0u) << line1;
  EXPECT_NE(csv.find("\"SYN,Q\",run_a,base"), std::string::npos);

  Json doc = ParseJson(ReadText("reports/registry/models.json")).value();
  ASSERT_EQ(doc["items"].size(), 2u);
  EXPECT_EQ(doc["total"], 2);
  EXPECT_EQ(doc["items"][0], RegistryRowToJson(*Row("run_a", "SYNA", "base")));
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc["items"][0].items()) keys.push_back(k);
  std::vector<std::string> columns = RegistryColumns();
  std::sort(columns.begin(), columns.end());
  EXPECT_EQ(keys, columns);
}

TEST_F(IndexerTest, BacktestsAreIndexedAndBrokenOnesReported) {
  testing::WriteBacktest(tmp_.path(), "bt_sma", "sma_cross", {"SYNA"}, "", "2026-11-20T11:00:00.000Z");
  testing::WriteBacktest(tmp_.path(), "bt_sig", "signal", {"SYNB", "SYNA"}, "runs/run_x/model_SYNB.json",
                         "2026-11-20T12:00:00.000Z");
  WriteText(tmp_.path() / "backtests/bt_broken/summary.json", R"({"cagr": "ten percent"})");
  WriteText(tmp_.path() / "backtests/bt_unfinished/equity.csv", "date,equity\n");
  auto report = indexer_->IndexAll();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->backtests_indexed, 2);
  ASSERT_EQ(report->problems.size(), 2u) << report->ToJson().dump(2);
  EXPECT_EQ(report->problems[0].file, "backtests/bt_broken/summary.json");
  EXPECT_NE(report->problems[0].message.find("cagr"), std::string::npos);
  EXPECT_EQ(report->problems[1].file, "backtests/bt_unfinished/summary.json");
  auto sig = store_->GetBacktest("bt_sig");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->model_run_id, "run_x");  // derived from the model path
  EXPECT_EQ(sig->tickers, (std::vector<std::string>{"SYNA", "SYNB"}));
  EXPECT_EQ(sig->strategy_type, "signal");
  EXPECT_EQ(sig->cagr, 0.071);
  EXPECT_EQ(sig->trades, 7);
  BacktestQuery q;
  q.model_run_ids = {"run_x"};
  EXPECT_EQ(store_->ListBacktests(q)->total, 1);
}

// The fast path hands the registry each summary.json text it has just written
// (ReadWrittenBacktest / IndexWrittenBacktests): the row and the problems must be exactly what
// reading the folder gives, for good summaries and broken ones alike.
TEST_F(IndexerTest, AWrittenBacktestIndexesFromItsTextExactlyWhatItsFolderIndexes) {
  testing::WriteBacktest(tmp_.path(), "bt_sma", "sma_cross", {"SYNA"}, "", "2026-11-20T11:00:00.000Z");
  testing::WriteBacktest(tmp_.path(), "bt_sig", "signal", {"SYNB", "SYNA", "SYNB"}, "runs/run_x/model_SYNB.json",
                         "2026-11-20T12:00:00.000Z");
  // A NaN metric (written as null), integers where doubles are read, unicode, an unknown field.
  Json odd = ParseJson(ReadText("backtests/bt_sma/summary.json")).value();
  odd["bt_run_id"] = "bt_odd";
  odd["sharpe"] = nullptr;
  odd["final_equity"] = 1500000;
  odd["dataset"] = "démo \"quoted\"";
  odd["extra"] = {{"nested", {1, 2.5, "x"}}};
  WriteText(tmp_.path() / "backtests/bt_odd/summary.json", odd.dump(2) + "\n");
  WriteText(tmp_.path() / "backtests/bt_odd/config.yaml", "x: 1\n");
  std::vector<std::pair<std::string, std::string>> broken = {
      {"bt_wrongtype", R"({"cagr": "ten percent"})"},
      {"bt_array", "[1, 2]"},
      {"bt_badjson", "{\"cagr\": "},
      {"bt_empty", ""},
      {"bt_renamed", R"({"bt_run_id": "bt_other", "cagr": 0.1})"},
      {"bad name", R"({"cagr": 0.1})"},
  };
  for (const auto& [id, text] : broken) {
    WriteText(tmp_.path() / "backtests" / id / "summary.json", text);
    WriteText(tmp_.path() / "backtests" / id / "config.yaml", "x: 1\n");
  }
  std::vector<std::string> ids = {"bt_sma", "bt_sig", "bt_odd"};
  for (const auto& b : broken) ids.push_back(b.first);
  const std::string now = "2026-12-03T15:00:00.000Z";
  for (const std::string& id : ids) {
    const auto dir = ws_->BacktestsDir() / id;
    std::vector<IndexProblem> from_dir, from_text;
    auto a = ReadBacktestDir(*ws_, dir, now, from_dir);
    auto b = ReadWrittenBacktest(*ws_, id, ReadText("backtests/" + id + "/summary.json"), now, from_text);
    EXPECT_EQ(a.has_value(), b.has_value()) << id;
    if (a && b) {
      EXPECT_EQ(*a, *b) << id;
    }
    ASSERT_EQ(from_dir.size(), from_text.size()) << id;
    for (size_t i = 0; i < from_dir.size(); ++i) {
      EXPECT_EQ(from_dir[i].kind, from_text[i].kind) << id;
      EXPECT_EQ(from_dir[i].id, from_text[i].id) << id;
      EXPECT_EQ(from_dir[i].file, from_text[i].file) << id;
      EXPECT_EQ(from_dir[i].message, from_text[i].message) << id;
    }
  }
  // Through the store: the texts index the rows (and report the problems) the folders do.
  std::vector<std::string> texts;
  for (const std::string& id : ids) texts.push_back(ReadText("backtests/" + id + "/summary.json"));
  std::vector<WrittenBacktest> written;
  for (size_t i = 0; i < ids.size(); ++i) written.push_back({ids[i], texts[i]});
  auto by_text = indexer_->IndexWrittenBacktests(written);
  ASSERT_TRUE(by_text.ok()) << by_text.status().ToString();
  EXPECT_EQ(by_text->backtests_indexed, 3);
  EXPECT_EQ(by_text->problems.size(), broken.size());
  BacktestQuery q;
  q.limit = 100;
  const auto rows_by_text = store_->ListBacktests(q).value().items;
  ASSERT_EQ(rows_by_text.size(), 3u);
  EXPECT_EQ(store_->GetBacktest("bt_odd")->config_path, "backtests/bt_odd/config.yaml");
  EXPECT_EQ(store_->GetBacktest("bt_sig")->tickers, (std::vector<std::string>{"SYNA", "SYNB"}));
  for (const std::string& id : ids) ASSERT_TRUE(store_->DeleteBacktest(id).ok());
  auto by_dir = indexer_->IndexBacktests(ids);
  ASSERT_TRUE(by_dir.ok());
  EXPECT_EQ(by_dir->backtests_indexed, 3);
  EXPECT_EQ(by_dir->problems.size(), broken.size());
  EXPECT_EQ(store_->ListBacktests(q).value().items, rows_by_text);
}

TEST_F(IndexerTest, SymlinksLeadingOutsideAreNotIndexedInsideOnesAre) {
  // A backtest and a run folder elsewhere on disk, linked into the workspace; a run whose
  // metrics.json is /etc/passwd; a backtest linked to another folder of the workspace.
  testing::TempDir outside;
  testing::WriteBacktest(outside.path(), "bt_far", "sma_cross", {"SYNA"});
  std::filesystem::create_directories(tmp_.path() / "backtests");
  std::filesystem::create_directory_symlink(outside.path() / "backtests" / "bt_far", tmp_.path() / "backtests" / "bt_link");
  WriteRun(outside.path(), "run_far", {{"SYNA", TickerMetrics{}}});
  std::filesystem::create_directories(tmp_.path() / "runs");
  std::filesystem::create_directory_symlink(outside.path() / "runs" / "run_far", tmp_.path() / "runs" / "run_link");
  std::filesystem::create_directories(tmp_.path() / "runs" / "run_passwd");
  std::filesystem::create_symlink("/etc/passwd", tmp_.path() / "runs" / "run_passwd" / "metrics.json");
  testing::WriteBacktest(tmp_.path(), "bt_real", "sma_cross", {"SYNA"});
  // A summary that is a symlink to another file of the workspace still counts.
  testing::WriteBacktest(tmp_.path(), "bt_linked_file", "sma_cross", {"SYNA"});
  std::filesystem::create_directories(tmp_.path() / "shared");
  std::filesystem::rename(tmp_.path() / "backtests" / "bt_linked_file" / "summary.json",
                          tmp_.path() / "shared" / "bt_linked_file.json");
  std::filesystem::create_symlink("../../shared/bt_linked_file.json",
                                  tmp_.path() / "backtests" / "bt_linked_file" / "summary.json");
  auto report = indexer_->IndexAll();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->runs_indexed, 0) << report->ToJson().dump(2);
  EXPECT_EQ(report->backtests_indexed, 2) << report->ToJson().dump(2);  // bt_real, bt_linked_file
  EXPECT_FALSE(store_->GetBacktest("bt_link").ok());
  EXPECT_TRUE(store_->GetBacktest("bt_linked_file").ok());
  std::set<std::string> flagged;
  for (const auto& p : report->problems) {
    flagged.insert(p.id);
    EXPECT_NE(p.message.find("outside the workspace"), std::string::npos) << p.message;
  }
  EXPECT_EQ(flagged, (std::set<std::string>{"bt_link", "run_link", "run_passwd"}));
}

TEST_F(IndexerTest, UnsafeDirectoryNamesAreProblemsNotCrashes) {
  WriteRun(tmp_.path(), "run_ok", {{"SYNA", {}}});
  WriteText(tmp_.path() / "runs/bad name with spaces/metrics.json", "{}");
  auto report = indexer_->IndexAll();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->runs_indexed, 1);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].message.find("safe identifier"), std::string::npos);
  EXPECT_TRUE(indexer_->IndexRun("../etc").status().IsInvalidArgument());
}

TEST_F(IndexerTest, EmptyWorkspaceIndexesNothingAndStillExports) {
  auto report = indexer_->IndexAll();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->runs_indexed, 0);
  EXPECT_TRUE(report->problems.empty());
  EXPECT_EQ(ReadText("reports/registry/models.csv").find('\n'), ReadText("reports/registry/models.csv").size() - 1);
}

}  // namespace
}  // namespace alphalab::registry

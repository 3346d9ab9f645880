// The engine CLI through the real binary: `alphalab train | eval-metrics | backtest` as child
// processes on a temporary copy of examples/workspace with the real demo data (S&P 500 daily,
// vega-datasets). Checks the files each command writes against the docs/engine.md contract and against
// independent recomputations (confusion matrix from predictions.csv, a plain sma_cross loop over
// the raw CSV), and that bad input exits non-zero with one stderr line and writes nothing.
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "core/job_result.hpp"
#include "flows/flow_support.hpp"

namespace alphalab::flows {
namespace {

const char* kMetricFields[] = {"precision", "recall", "f1", "accuracy", "buy_rate", "positive_rate",
                               "lift", "tp", "fp", "tn", "fn", "support"};
const char* kBacktestMetrics[] = {"cagr", "max_drawdown", "sharpe", "sortino", "volatility", "total_return",
                                  "trades", "win_rate", "exposure", "final_equity"};
const char* kLeanNames[] = {"Total Orders", "Average Win", "Average Loss", "Compounding Annual Return",
                            "Drawdown", "Expectancy", "Start Equity", "End Equity", "Net Profit",
                            "Sharpe Ratio", "Sortino Ratio", "Loss Rate", "Win Rate", "Profit-Loss Ratio",
                            "Annual Standard Deviation", "Annual Variance", "Total Fees"};

class EngineCli : public ::testing::Test {
 protected:
  CmdResult Alphalab(std::vector<std::string> args) {
    args.push_back("--workspace");
    args.push_back(ws_.root().string());
    return RunAlphalab(args, ws_.root(), 120s);
  }
  CmdResult Train(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"train", "--config", "configs/base.yaml", "--set", "model.params.num_round=20",
                                     "--set", "model.params.nthread=1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Alphalab(args);
  }
  CmdResult Backtest(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"backtest", "--config", "configs/backtest/base.yaml"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Alphalab(args);
  }
  FlowWorkspace ws_;
};

TEST_F(EngineCli, TrainWritesTheRunFolderAndEvalMetricsReproducesIt) {
  CmdResult r = Train();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string run_id = OutputValue(r.out, "run_id");
  const std::string run_dir = OutputValue(r.out, "run_dir");
  ASSERT_FALSE(run_id.empty()) << r.out;
  EXPECT_EQ(run_dir, "runs/" + run_id);
  EXPECT_EQ(run_id.rfind("run_", 0), 0u) << run_id;
  const fs::path dir = ws_.root() / run_dir;
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  for (const char* f : {"config.yaml", "metrics.json", "predictions.csv", "manifest.json"}) {
    EXPECT_TRUE(fs::is_regular_file(dir / f)) << f;
  }
  EXPECT_EQ(ws_.Runs().size(), Tree(dir).size() + 1) << "exactly one run folder";

  // The resolved config records the override.
  EXPECT_NE(Slurp(dir / "config.yaml").find("num_round: 20"), std::string::npos) << Slurp(dir / "config.yaml");

  // Model file named by the manifest exists and is an XGBoost JSON model.
  Json manifest = ReadJsonFile(dir / "manifest.json");
  EXPECT_EQ(manifest.value("run_id", ""), run_id);
  ASSERT_TRUE(manifest.contains("models") && manifest["models"].contains("SPX")) << manifest.dump();
  const fs::path model = ws_.root() / manifest["models"]["SPX"].get<std::string>();
  ASSERT_TRUE(fs::is_regular_file(model)) << model;
  Json model_json = ReadJsonFile(model);
  EXPECT_TRUE(model_json.contains("learner")) << "not an XGBoost JSON model";

  // metrics.json: every docs/engine.md metric for SPX, consistent with its own confusion matrix...
  Json metrics = ReadJsonFile(dir / "metrics.json");
  ASSERT_TRUE(metrics.contains("per_ticker") && metrics["per_ticker"].contains("SPX")) << metrics.dump();
  const Json m = metrics["per_ticker"]["SPX"];
  for (const char* f : kMetricFields) {
    ASSERT_TRUE(m.contains(f) && m[f].is_number()) << f << " in " << m.dump();
  }
  const double tp = m["tp"], fp = m["fp"], tn = m["tn"], fn = m["fn"];
  EXPECT_EQ(tp + fp + tn + fn, m["support"].get<double>());
  EXPECT_GT(m["support"].get<double>(), 100);
  auto ratio = [](double a, double b) { return b == 0 ? 0.0 : a / b; };
  const double precision = ratio(tp, tp + fp), recall = ratio(tp, tp + fn);
  const double support = tp + fp + tn + fn;
  EXPECT_NEAR(m["precision"].get<double>(), precision, 1e-9);
  EXPECT_NEAR(m["recall"].get<double>(), recall, 1e-9);
  EXPECT_NEAR(m["f1"].get<double>(), ratio(2 * precision * recall, precision + recall), 1e-9);
  EXPECT_NEAR(m["accuracy"].get<double>(), ratio(tp + tn, support), 1e-9);
  EXPECT_NEAR(m["buy_rate"].get<double>(), ratio(tp + fp, support), 1e-9);
  EXPECT_NEAR(m["positive_rate"].get<double>(), ratio(tp + fn, support), 1e-9);
  EXPECT_NEAR(m["lift"].get<double>(), ratio(precision, ratio(tp + fn, support)), 1e-9);
  EXPECT_EQ(metrics.value("label_horizon_days", -1), 20);
  EXPECT_NEAR(metrics.value("label_threshold", -1.0), 0.05, 1e-12);

  // ...and with predictions.csv (test rows): the confusion matrix recounted independently.
  Csv pred = ReadCsv(dir / "predictions.csv");
  const int c_split = pred.Col("split"), c_label = pred.Col("label"), c_pred = pred.Col("pred"),
            c_proba = pred.Col("proba"), c_ticker = pred.Col("ticker");
  ASSERT_TRUE(c_split >= 0 && c_label >= 0 && c_pred >= 0 && c_proba >= 0 && c_ticker >= 0)
      << "predictions.csv header";
  double ctp = 0, cfp = 0, ctn = 0, cfn = 0;
  for (const auto& row : pred.rows) {
    if (row[c_split] != "test" || row[c_ticker] != "SPX") continue;
    const bool label = std::stod(row[c_label]) >= 0.5;
    const bool p = std::stod(row[c_pred]) >= 0.5;
    EXPECT_EQ(p, std::stod(row[c_proba]) >= 0.5) << "pred must be proba >= decision_threshold (0.5)";
    (label ? (p ? ctp : cfn) : (p ? cfp : ctn)) += 1;
  }
  EXPECT_EQ(ctp, tp);
  EXPECT_EQ(cfp, fp);
  EXPECT_EQ(ctn, tn);
  EXPECT_EQ(cfn, fn);

  // eval-metrics reproduces the stored metrics from the saved model.
  CmdResult e = Alphalab({"eval-metrics", "--run-dir", run_dir, "--mode", "base"});
  ASSERT_EQ(e.exit_code, 0) << Describe(e);
  EXPECT_EQ(OutputValue(e.out, "run_id"), run_id);
  ASSERT_TRUE(fs::is_regular_file(dir / "metrics_eval_base.json"));
  Json eval = ReadJsonFile(dir / "metrics_eval_base.json");
  ASSERT_TRUE(eval.contains("per_ticker") && eval["per_ticker"].contains("SPX")) << eval.dump();
  for (const char* f : kMetricFields) {
    EXPECT_NEAR(eval["per_ticker"]["SPX"][f].get<double>(), m[f].get<double>(), 1e-12) << f;
  }
  // A finished run is never rewritten: metrics.json is byte-identical after eval-metrics.
  EXPECT_EQ(ReadJsonFile(dir / "metrics.json"), metrics);
}

// Independent sma_cross on the raw CSV, exactly as docs/engine.md states it.
struct RefResult {
  double final_equity = 0;
  int trades = 0;
  int orders = 0;
};
RefResult ReferenceSmaCross(const fs::path& csv_path, int fast, int slow, double cash, double fee_bps) {
  Csv csv = ReadCsv(csv_path);
  const int c_open = csv.Col("open"), c_close = csv.Col("close");
  std::vector<double> open, close;
  for (const auto& r : csv.rows) {
    open.push_back(std::stod(r[c_open]));
    close.push_back(std::stod(r[c_close]));
  }
  const double fee = fee_bps / 10000.0;
  auto sma = [&](size_t t, int w) -> long double {
    long double s = 0;
    for (size_t i = t + 1 - w; i <= t; ++i) s += close[i];
    return s / w;
  };
  RefResult res;
  double shares = 0;
  int pending = 0;  // +1 buy, -1 sell at the next open
  for (size_t t = 0; t < close.size(); ++t) {
    if (pending == 1 && shares == 0) {
      const double n = std::floor(cash / (open[t] * (1 + fee)));
      if (n > 0) {
        cash -= n * open[t] * (1 + fee);
        shares = n;
        ++res.orders;
      }
    } else if (pending == -1 && shares > 0) {
      cash += shares * open[t] * (1 - fee);
      shares = 0;
      ++res.trades;
      ++res.orders;
    }
    pending = 0;
    if (t + 1 >= close.size() || t < static_cast<size_t>(std::max(fast, slow))) continue;
    const long double f0 = sma(t - 1, fast), s0 = sma(t - 1, slow), f1 = sma(t, fast), s1 = sma(t, slow);
    if (f0 < s0 && f1 > s1) pending = 1;
    if (f0 > s0 && f1 < s1) pending = -1;
  }
  res.final_equity = cash + shares * close.back();
  return res;
}

TEST_F(EngineCli, BacktestWritesSummaryEquityTradesAndMatchesAReferenceLoop) {
  CmdResult r = Backtest();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string bt_id = OutputValue(r.out, "bt_run_id");
  const std::string out_dir = OutputValue(r.out, "out_dir");
  ASSERT_FALSE(bt_id.empty()) << r.out;
  EXPECT_EQ(out_dir, "backtests/" + bt_id);
  const fs::path dir = ws_.root() / out_dir;
  for (const char* f : {"summary.json", "equity.csv", "trades.csv", "config.yaml"}) {
    EXPECT_TRUE(fs::is_regular_file(dir / f)) << f;
  }
  Json s = ReadJsonFile(dir / "summary.json");
  for (const char* f : kBacktestMetrics) {
    ASSERT_TRUE(s.contains(f) && s[f].is_number()) << f << " in " << s.dump().substr(0, 2000);
    EXPECT_TRUE(std::isfinite(s[f].get<double>())) << f;
  }
  ASSERT_TRUE(s.contains("statistics") && s["statistics"].is_object());
  for (const char* name : kLeanNames) {
    ASSERT_TRUE(s["statistics"].contains(name) && s["statistics"][name].is_string()) << name;
  }
  // LEAN string formats, derived from the numeric metrics.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f%%", s["cagr"].get<double>() * 100);
  EXPECT_EQ(s["statistics"]["Compounding Annual Return"], buf);
  std::snprintf(buf, sizeof buf, "%.3f%%", s["max_drawdown"].get<double>() * 100);
  EXPECT_EQ(s["statistics"]["Drawdown"], buf);
  EXPECT_EQ(s["statistics"]["Start Equity"], "1000000");

  // equity.csv / trades.csv agree with the summary.
  Csv eq = ReadCsv(dir / "equity.csv");
  ASSERT_GT(eq.rows.size(), 5000u);
  const int c_eq = eq.Col("equity");
  ASSERT_GE(c_eq, 0);
  double peak = 0, mdd = 0;
  for (const auto& row : eq.rows) {
    const double e = std::stod(row[c_eq]);
    peak = std::max(peak, e);
    mdd = std::max(mdd, 1 - e / peak);
  }
  EXPECT_NEAR(std::stod(eq.rows.back()[c_eq]), s["final_equity"].get<double>(), 0.01);
  EXPECT_NEAR(mdd, s["max_drawdown"].get<double>(), 1e-6);
  EXPECT_NEAR(s["total_return"].get<double>(), s["final_equity"].get<double>() / 1e6 - 1, 1e-9);
  // trades.csv: the closed round trips, then one `end` row per position still open (marked
  // at the last close: its pnl is the summary's unrealized pnl).
  Csv trades = ReadCsv(dir / "trades.csv");
  const int c_reason = trades.Col("exit_reason");
  ASSERT_GE(c_reason, 0);
  size_t closed = 0, open = 0;
  for (const auto& row : trades.rows) (row[c_reason] == "end" ? open : closed) += 1;
  EXPECT_EQ(static_cast<double>(closed), s["trades"].get<double>());
  ASSERT_EQ(open, s["open_positions"].size());
  if (open == 1) {
    const auto& row = trades.rows.back();
    EXPECT_EQ(row[trades.Col("exit_date")], s["end"].get<std::string>());
    EXPECT_NEAR(std::stod(row[trades.Col("pnl")]), s["open_position"]["unrealized_pnl"].get<double>(), 1e-4);
    EXPECT_NEAR(std::stod(row[trades.Col("exit_price")]), s["open_position"]["last_close"].get<double>(), 1e-6);
  }

  // A plain loop over the raw CSV gives the same trades and final equity to the cent.
  RefResult ref = ReferenceSmaCross(ws_.root() / "data/demo/SPX.csv", 10, 50, 1e6, 10);
  EXPECT_EQ(ref.trades, s["trades"].get<int>());
  EXPECT_NEAR(ref.final_equity, s["final_equity"].get<double>(), 0.01);
}

TEST_F(EngineCli, WithAJobIdTrainAndBacktestWriteTheJobsResultFile) {
  // The job service passes the job id in ALPHALAB_JOB_ID (the children inherit this environment).
  ::setenv("ALPHALAB_JOB_ID", "job_cli_train", 1);
  CmdResult t = Train();
  ::setenv("ALPHALAB_JOB_ID", "job_cli_bt", 1);
  CmdResult b = Backtest();
  ::unsetenv("ALPHALAB_JOB_ID");
  ASSERT_EQ(t.exit_code, 0) << Describe(t);
  ASSERT_EQ(b.exit_code, 0) << Describe(b);
  auto run = ReadJobResult(ws_.root(), "job_cli_train");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->kind, ResultKind::kRun);
  EXPECT_EQ(run->id, OutputValue(t.out, "run_id"));
  EXPECT_EQ(run->Artifacts(), (Json{{"run_id", OutputValue(t.out, "run_id")}, {"run_dir", OutputValue(t.out, "run_dir")}}));
  auto bt = ReadJobResult(ws_.root(), "job_cli_bt");
  ASSERT_TRUE(bt.ok()) << bt.status().ToString();
  EXPECT_EQ(bt->kind, ResultKind::kBacktest);
  EXPECT_EQ(bt->id, OutputValue(b.out, "bt_run_id"));
  EXPECT_EQ(bt->Dir(), OutputValue(b.out, "out_dir"));
  // Its headline metrics are summary.json's numbers.
  const Json s = ReadJsonFile(ws_.root() / bt->SummaryPath());
  ASSERT_EQ(bt->metrics.size(), 10u);
  for (const auto& [name, value] : bt->metrics) EXPECT_EQ(value, s[name].get<double>()) << name;
  // summary.json names the job that ran it (the Backtest detail links it).
  EXPECT_EQ(s["job_id"], "job_cli_bt");
  // Run by hand (no job id), nothing is written and summary.json has job_id null.
  const size_t files = Tree(ws_.root() / "reports/jobs/runtime").size();
  CmdResult by_hand = Backtest();
  ASSERT_EQ(by_hand.exit_code, 0);
  EXPECT_EQ(Tree(ws_.root() / "reports/jobs/runtime").size(), files);
  EXPECT_TRUE(ReadJsonFile(ws_.root() / OutputValue(by_hand.out, "out_dir") / "summary.json")["job_id"].is_null());
}

TEST_F(EngineCli, SetOverridesTakeEffect) {
  CmdResult base = Backtest();
  ASSERT_EQ(base.exit_code, 0) << Describe(base);
  CmdResult fast20 = Backtest({"--set", "strategy.params.fast=20"});
  ASSERT_EQ(fast20.exit_code, 0) << Describe(fast20);
  const fs::path d0 = ws_.root() / OutputValue(base.out, "out_dir");
  const fs::path d1 = ws_.root() / OutputValue(fast20.out, "out_dir");
  ASSERT_NE(d0, d1);
  Json s0 = ReadJsonFile(d0 / "summary.json"), s1 = ReadJsonFile(d1 / "summary.json");
  EXPECT_NE(Slurp(d0 / "trades.csv"), Slurp(d1 / "trades.csv"));
  EXPECT_NE(s0["trades"], s1["trades"]);
  EXPECT_EQ(s1["strategy"]["params"]["fast"], 20) << s1["strategy"].dump();
  EXPECT_NE(Slurp(d1 / "config.yaml").find("fast: 20"), std::string::npos) << Slurp(d1 / "config.yaml");
  RefResult ref = ReferenceSmaCross(ws_.root() / "data/demo/SPX.csv", 20, 50, 1e6, 10);
  EXPECT_EQ(ref.trades, s1["trades"].get<int>());
  EXPECT_NEAR(ref.final_equity, s1["final_equity"].get<double>(), 0.01);

  // Flags and --set on dates/tickers: a shorter window gives fewer bars.
  CmdResult window = Backtest({"--start", "2010-01-01", "--end", "2012-12-31", "--ticker", "SPX"});
  ASSERT_EQ(window.exit_code, 0) << Describe(window);
  Json sw = ReadJsonFile(ws_.root() / OutputValue(window.out, "out_dir") / "summary.json");
  EXPECT_EQ(sw.value("start", ""), "2010-01-04");
  EXPECT_EQ(sw.value("end", ""), "2012-12-31");

  // Training overrides: label.horizon_days reaches metrics.json.
  CmdResult t = Train({"--set", "label.horizon_days=10"});
  ASSERT_EQ(t.exit_code, 0) << Describe(t);
  Json metrics = ReadJsonFile(ws_.root() / OutputValue(t.out, "run_dir") / "metrics.json");
  EXPECT_EQ(metrics.value("label_horizon_days", -1), 10);
}

TEST_F(EngineCli, DataSynthValidateAndList) {
  // Seeded synthetic universe: the same seed gives identical files, --symbols names the first ones.
  ASSERT_TRUE(ws_.Synth("TSM,ACME", 3, 2, 11));
  const std::string tsm = Slurp(ws_.root() / "data/synthetic/TSM.csv");
  ASSERT_FALSE(tsm.empty());
  for (const char* f : {"ACME.csv", "SYN0003.csv", "SYNMKT.csv", "SYNBOND.csv", "SYNGOLD.csv"}) {
    EXPECT_TRUE(fs::is_regular_file(ws_.root() / "data/synthetic" / f)) << f;
  }
  ASSERT_TRUE(ws_.Synth("TSM,ACME", 3, 2, 11));
  EXPECT_EQ(Slurp(ws_.root() / "data/synthetic/TSM.csv"), tsm) << "bit-identical for a seed";
  CmdResult list = Alphalab({"data", "list", "--dataset", "synthetic"});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  EXPECT_NE(list.out.find("TSM"), std::string::npos);
  EXPECT_NE(list.out.find("SYNMKT"), std::string::npos);

  CmdResult ok = Alphalab({"data", "validate", "--dataset", "demo"});
  EXPECT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_EQ(ok.out.rfind("OK", 0), 0u) << ok.out;

  // A broken instrument: the message names the file (workspace-relative, as docs/engine.md
  // shows: "data/x/S.csv:3: ...") and the line; exit 1.
  const std::string csv = Slurp(ws_.root() / "data/synthetic/ACME.csv");
  std::istringstream in(csv);
  std::string header, l1, l2, l3;
  std::getline(in, header);
  std::getline(in, l1);
  std::getline(in, l2);
  std::getline(in, l3);
  ws_.Write("data/synthetic/ACME.csv", header + "\n" + l1 + "\n" + l2 + "\n" + l2 + "\n" + l3 + "\n");
  CmdResult bad = Alphalab({"data", "validate", "--dataset", "synthetic"});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_NE(bad.out.find("duplicate date"), std::string::npos) << Describe(bad);
  EXPECT_NE(bad.out.find("ACME.csv:4"), std::string::npos) << "names the file and line: " << Describe(bad);
  // Training on the broken dataset is refused before any run folder exists.
  CmdResult t = Train({"--set", "dataset=synthetic", "--set", "tickers=[ACME]"});
  EXPECT_NE(t.exit_code, 0);
  EXPECT_NE(t.err.find("data/synthetic/ACME.csv"), std::string::npos) << Describe(t);
  EXPECT_TRUE(ws_.Runs().empty());
}

// docs/engine.md: every validation message names the file workspace-relative ("data/x/S.csv:3:
// ..."), as `train`/`backtest` do, so a user can open it.
TEST_F(EngineCli, DataValidateNamesTheWorkspaceRelativeFile) {
  ASSERT_TRUE(ws_.Synth("", 2, 2, 3));
  const std::string csv = Slurp(ws_.root() / "data/synthetic/SYN0001.csv");
  std::istringstream in(csv);
  std::string header, l1, l2;
  std::getline(in, header);
  std::getline(in, l1);
  std::getline(in, l2);
  ws_.Write("data/synthetic/SYN0001.csv", header + "\n" + l1 + "\n" + l2 + "\n" + l2 + "\n");
  CmdResult bad = Alphalab({"data", "validate", "--dataset", "synthetic"});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_NE(bad.out.find("data/synthetic/SYN0001.csv:4: duplicate date"), std::string::npos) << Describe(bad);
  CmdResult t = Train({"--set", "dataset=synthetic", "--set", "tickers=[SYN0001]"});
  EXPECT_NE(t.err.find("data/synthetic/SYN0001.csv:4: duplicate date"), std::string::npos) << Describe(t);
}

TEST(EngineCliSetup, PrepareDataScriptPreparesBothDatasetsIdempotently) {
  FlowWorkspace ws;
  fs::remove_all(ws.root() / "data");
  const std::vector<std::string> args = {"/bin/bash", (SourceDir() / "scripts" / "prepare-data.sh").string(),
                                         ws.root().string(), AlphalabBin().string()};
  CmdResult first = RunProcess(args, ws.root(), 120s);
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  EXPECT_EQ(Slurp(ws.root() / "data/demo/SPX.csv"), Slurp(DemoCsv()));
  EXPECT_TRUE(fs::is_regular_file(ws.root() / "data/synthetic/SYN0050.csv"));
  EXPECT_TRUE(fs::is_regular_file(ws.root() / "data/synthetic/SYNMKT.csv"));
  const std::string syn = Slurp(ws.root() / "data/synthetic/SYN0001.csv");
  const auto mtime = fs::last_write_time(ws.root() / "data/synthetic/SYN0001.csv");
  CmdResult second = RunProcess(args, ws.root(), 120s);
  ASSERT_EQ(second.exit_code, 0) << Describe(second);
  EXPECT_NE(second.out.find("up to date"), std::string::npos) << second.out;
  EXPECT_EQ(fs::last_write_time(ws.root() / "data/synthetic/SYN0001.csv"), mtime) << "second run rewrote data";
  EXPECT_EQ(Slurp(ws.root() / "data/synthetic/SYN0001.csv"), syn);
  for (const char* ds : {"demo", "synthetic"}) {
    CmdResult v = RunAlphalab({"data", "validate", "--dataset", ds, "--workspace", ws.root().string()}, ws.root());
    EXPECT_EQ(v.exit_code, 0) << ds << ": " << Describe(v);
  }
  // The example configs work as written on the prepared workspace.
  CmdResult bt = RunAlphalab({"backtest", "--config", "configs/backtest/base.yaml", "--workspace", ws.root().string()},
                             ws.root());
  EXPECT_EQ(bt.exit_code, 0) << Describe(bt);
}

struct BadCase {
  std::string name;
  std::vector<std::string> args;  // after `alphalab`; --workspace is appended
  std::string mention;            // the stderr line must mention this (case-insensitive)
};

// Test names show the case name, not the struct's bytes.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class EngineCliBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(EngineCliBadInput, ExitsNonZeroWithOneLineAndWritesNothing) {
  FlowWorkspace ws;
  // A valid config just outside the workspace (a sibling temp file).
  const fs::path outside = ws.root().parent_path() / (ws.root().filename().string() + "_outside.yaml");
  fs::copy_file(ws.root() / "configs" / "base.yaml", outside, fs::copy_options::overwrite_existing);
  // A run to point eval-metrics at for the cases that need one is not made: every case must
  // fail before work starts.
  const auto before = Tree(ws.root());
  std::vector<std::string> args;
  for (std::string a : GetParam().args) {
    if (a == "@OUTSIDE_REL") a = "../" + outside.filename().string();
    if (a == "@OUTSIDE_ABS") a = outside.string();
    args.push_back(a);
  }
  args.push_back("--workspace");
  args.push_back(ws.root().string());
  CmdResult r = RunAlphalab(args, ws.root(), 60s);
  std::error_code ec;
  fs::remove(outside, ec);
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(NonEmptyLines(r.err), 1u) << "one clear stderr line: " << Describe(r);
  EXPECT_NE(Lower(r.err).find(Lower(GetParam().mention)), std::string::npos)
      << "stderr should mention '" << GetParam().mention << "': " << r.err;
  EXPECT_TRUE(ws.Runs().empty()) << "no run folder may be written";
  EXPECT_TRUE(ws.Backtests().empty()) << "no backtest folder may be written";
  auto after = Tree(ws.root());
  std::vector<std::string> added;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(added));
  for (const auto& a : added) {
    // A binary cache of the parsed CSV (data/<ds>/.cache) is not a result; anything else is.
    EXPECT_TRUE(a.find(".cache") != std::string::npos) << "unexpected file written: " << a;
  }
}

const std::string kTrain = "train";
const std::string kBt = "backtest";
const std::string kTrainCfg = "configs/base.yaml";
const std::string kBtCfg = "configs/backtest/base.yaml";

INSTANTIATE_TEST_SUITE_P(
    Cases, EngineCliBadInput,
    ::testing::Values(
        BadCase{"train_unknown_key", {kTrain, "--config", kTrainCfg, "--set", "bogus_key=1"}, "bogus_key"},
        BadCase{"train_unknown_nested_key", {kTrain, "--config", kTrainCfg, "--set", "model.params.bogus=1"}, "bogus"},
        BadCase{"train_wrong_type", {kTrain, "--config", kTrainCfg, "--set", "model.params.num_round=abc"}, "num_round"},
        BadCase{"train_out_of_range", {kTrain, "--config", kTrainCfg, "--set", "model.params.max_depth=0"}, "max_depth"},
        BadCase{"train_unknown_ticker", {kTrain, "--config", kTrainCfg, "--set", "tickers=[TSM]"}, "TSM"},
        BadCase{"train_unknown_dataset", {kTrain, "--config", kTrainCfg, "--set", "dataset=nosuch"}, "nosuch"},
        BadCase{"train_split_order", {kTrain, "--config", kTrainCfg, "--set", "split.train_end=2018-01-01"}, "train_end"},
        BadCase{"train_bad_date", {kTrain, "--config", kTrainCfg, "--set", "split.valid_end=2016-02-30"}, "valid_end"},
        BadCase{"train_malformed_set", {kTrain, "--config", kTrainCfg, "--set", "novalue"}, "novalue"},
        BadCase{"train_malformed_set_empty_key", {kTrain, "--config", kTrainCfg, "--set", "=3"}, "=3"},
        BadCase{"train_missing_config", {kTrain, "--config", "configs/nope.yaml"}, "nope.yaml"},
        BadCase{"train_config_outside_rel", {kTrain, "--config", "@OUTSIDE_REL"}, "outside"},
        BadCase{"train_config_outside_abs", {kTrain, "--config", "@OUTSIDE_ABS"}, "outside"},
        BadCase{"bt_unknown_key", {kBt, "--config", kBtCfg, "--set", "strategy.params.bogus=1"}, "bogus"},
        BadCase{"bt_unknown_top_key", {kBt, "--config", kBtCfg, "--set", "bogus_key=1"}, "bogus_key"},
        BadCase{"bt_wrong_type", {kBt, "--config", kBtCfg, "--set", "fee_bps=abc"}, "fee_bps"},
        BadCase{"bt_unknown_ticker", {kBt, "--config", kBtCfg, "--ticker", "TSM"}, "TSM"},
        BadCase{"bt_start_after_end", {kBt, "--config", kBtCfg, "--start", "2010-01-01", "--end", "2005-01-01"}, "start"},
        BadCase{"bt_malformed_set", {kBt, "--config", kBtCfg, "--set", "strategy.params.fast"}, "strategy.params.fast"},
        BadCase{"bt_missing_config", {kBt, "--config", "configs/backtest/nope.yaml"}, "nope.yaml"},
        BadCase{"bt_config_outside", {kBt, "--config", "@OUTSIDE_REL"}, "outside"},
        BadCase{"bt_model_outside", {kBt, "--config", kBtCfg, "--model", "/etc/hostname"}, "outside"},
        BadCase{"bt_missing_model", {kBt, "--config", kBtCfg, "--model", "runs/nope/model_SPX.json"}, "runs/nope"},
        BadCase{"eval_missing_run", {"eval-metrics", "--run-dir", "runs/run_nope"}, "run_nope"},
        BadCase{"eval_run_outside", {"eval-metrics", "--run-dir", "/tmp"}, "outside"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(EngineCliHelp, EverySubcommandHasHelp) {
  const fs::path cwd = fs::temp_directory_path();
  CmdResult top = RunAlphalab({"--help"}, cwd, 10s);
  EXPECT_EQ(top.exit_code, 0) << Describe(top);
  const std::vector<std::vector<std::string>> commands = {
      {"serve"}, {"submit"}, {"jobs"}, {"logs"}, {"cancel"}, {"train"}, {"backtest"}, {"eval-metrics"},
      {"data"}, {"data", "synth"}, {"data", "validate"}, {"data", "list"}, {"index"}};
  for (const auto& cmd : commands) {
    EXPECT_NE(top.out.find(cmd[0]), std::string::npos) << "`alphalab --help` should list " << cmd[0];
    std::vector<std::string> args = cmd;
    args.push_back("--help");
    CmdResult r = RunAlphalab(args, cwd, 10s);
    EXPECT_EQ(r.exit_code, 0) << cmd.back() << ": " << Describe(r);
    EXPECT_NE(r.out.find("--help"), std::string::npos) << cmd.back() << ": " << r.out;
    EXPECT_NE(r.out.find(cmd.back()), std::string::npos) << cmd.back() << ": " << r.out;
  }
  // An unknown subcommand is an error, not silence.
  CmdResult bad = RunAlphalab({"no-such-command"}, cwd, 10s);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_FALSE(bad.err.empty());
}

}  // namespace
}  // namespace alphalab::flows

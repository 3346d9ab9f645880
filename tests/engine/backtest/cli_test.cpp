// Runs the real `alphalab` binary: data synth, backtest (single and grid), bad configs.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

const std::string kBin = std::string(ALPHALAB_BINARY_DIR) + "/bin/alphalab";

struct ExecResult {
  int code;
  std::string out, err;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    ws_ = fs::temp_directory_path() / ("alphalab_cli_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(ws_ / "configs");
    std::ofstream(ws_ / "alphalab.yaml") << "datasets:\n  synthetic: {format: csv, path: data/synthetic}\n";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(ws_, ec);
  }
  ExecResult Exec(const std::string& args) {
    const auto out = ws_ / "stdout.txt", err = ws_ / "stderr.txt";
    const std::string cmd = "cd '" + ws_.string() + "' && '" + kBin + "' " + args + " >'" + out.string() +
                            "' 2>'" + err.string() + "'";
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(out), Slurp(err)};
  }
  void Config(const std::string& name, const std::string& text) { std::ofstream(ws_ / "configs" / name) << text; }
  fs::path ws_;
};

TEST_F(CliTest, SynthBacktestGridAndErrors) {
  auto synth = Exec("data synth --out data/synthetic --instruments 5 --years 4 --seed 3 --symbols TSM");
  ASSERT_EQ(synth.code, 0) << synth.err;
  EXPECT_TRUE(fs::exists(ws_ / "data/synthetic/TSM.csv"));
  EXPECT_TRUE(fs::exists(ws_ / "data/synthetic/SYNBOND.csv"));
  EXPECT_EQ(Exec("data validate --dataset synthetic").code, 0);

  Config("bt.yaml", "dataset: synthetic\ntickers: [TSM]\ninitial_cash: 100000\nfee_bps: 10\n"
                    "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");
  auto bt = Exec("backtest --config configs/bt.yaml --set strategy.params.fast=5 --start 2006-01-01");
  ASSERT_EQ(bt.code, 0) << bt.err;
  ASSERT_EQ(bt.out.rfind("bt_run_id: bt_", 0), 0u) << bt.out;
  const std::string id = bt.out.substr(11, bt.out.find('\n') - 11);
  EXPECT_NE(bt.out.find("out_dir: backtests/" + id), std::string::npos);
  const auto summary = nlohmann::json::parse(Slurp(ws_ / "backtests" / id / "summary.json"));
  EXPECT_EQ(summary["bt_run_id"], id);
  EXPECT_EQ(summary["strategy"]["params"]["fast"], 5);
  EXPECT_EQ(summary["config_path"], "configs/bt.yaml");
  EXPECT_EQ(summary["tickers"], nlohmann::json::array({"TSM"}));
  EXPECT_TRUE(summary["statistics"].contains("Compounding Annual Return"));
  EXPECT_TRUE(fs::exists(ws_ / "backtests" / id / "equity.csv"));
  EXPECT_NE(Slurp(ws_ / "backtests" / id / "config.yaml").find("fast: 5"), std::string::npos);

  auto grid = Exec("backtest --config configs/bt.yaml --grid strategy.params.fast=5:15:5 "
                   "--grid strategy.params.slow=20,40 --out-jsonl grid.jsonl");
  ASSERT_EQ(grid.code, 0) << grid.err;
  std::stringstream lines(Slurp(ws_ / "grid.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_TRUE(j["metrics"]["final_equity"].is_number());
    ++n;
  }
  EXPECT_EQ(n, 6);

  // Bad input: one line on stderr, exit code 2, nothing written.
  const auto before = std::distance(fs::directory_iterator(ws_ / "backtests"), fs::directory_iterator());
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"backtest --config configs/bt.yaml --set strategy.params.speed=3",
            "error: unknown config key 'strategy.params.speed' (allowed: fast, slow, initial_cash, fee_bps)\n"},
           {"backtest --config configs/bt.yaml --ticker NOPE",
            "error: unknown ticker 'NOPE' in dataset 'synthetic' (available: SYN0002, SYN0003, SYN0004, SYN0005, "
            "SYNBOND, SYNGOLD, SYNMKT, TSM)\n"},
           {"backtest --config configs/bt.yaml --start 2010-01-01 --end 2009-01-01",
            "error: start 2010-01-01 is after end 2009-01-01\n"},
           {"backtest --config configs/bt.yaml --model runs/none/model.json",
            "error: model file 'runs/none/model.json' does not exist or is outside the workspace\n"},
           {"backtest --config configs/bt.yaml --set dataset=nope", "error: unknown dataset 'nope' (known: synthetic)\n"},
           {"backtest --config configs/bt.yaml --set strategy.params.fast=abc",
            "error: config key 'strategy.params.fast' must be an integer, got 'abc'\n"},
           {"backtest --config configs/bt.yaml --set novalue", "error: override 'novalue' must look like key=value\n"},
       }) {
    auto r = Exec(args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(r.err, message) << args;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(ws_ / "backtests"), fs::directory_iterator()), before);
  EXPECT_NE(Exec("backtest --config ../outside.yaml").code, 0);
}

std::string Line(const std::string& out, const std::string& prefix) {
  std::stringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

TEST_F(CliTest, SummaryLinesScoresFileAndNewFiles) {
  ASSERT_EQ(Exec("data synth --out data/synthetic --instruments 8 --years 4 --seed 9").code, 0);
  // A momentum topn: the printed summary agrees with summary.json.
  Config("topn.yaml", "dataset: synthetic\nstart: 2006-01-02\ninitial_cash: 100000\n"
                      "strategy: {type: topn, params: {score: momentum, top_n: 3}}\n");
  auto bt = Exec("backtest --config configs/topn.yaml");
  ASSERT_EQ(bt.code, 0) << bt.err;
  const std::string id = bt.out.substr(11, bt.out.find('\n') - 11);
  const fs::path dir = ws_ / "backtests" / id;
  const auto s = nlohmann::json::parse(Slurp(dir / "summary.json"));
  const std::string summary = Line(bt.out, "summary: ");
  ASSERT_FALSE(summary.empty()) << bt.out;
  char buf[64];
  std::snprintf(buf, sizeof buf, "CAGR %.2f%%", s["cagr"].get<double>() * 100);
  EXPECT_NE(summary.find(buf), std::string::npos) << summary;
  std::snprintf(buf, sizeof buf, "final equity %.2f", s["final_equity"].get<double>());
  EXPECT_NE(summary.find(buf), std::string::npos) << summary;
  EXPECT_NE(summary.find("trades " + std::to_string(s["trades"].get<int>())), std::string::npos) << summary;
  EXPECT_EQ(Line(bt.out, "note: "), "");  // fully invested: no note
  EXPECT_GT(s["avg_invested_share"].get<double>(), 0.5);
  EXPECT_GT(s["warmup_bars"].get<int>(), 200);
  for (const char* f : {"fills.csv", "positions.csv", "scores.csv"}) EXPECT_TRUE(fs::exists(dir / f)) << f;

  // The run's scores.csv as a scores file (the CLI path): the same final equity.
  fs::create_directories(ws_ / "preds");
  fs::copy_file(dir / "scores.csv", ws_ / "preds" / "scores.csv");
  Config("file.yaml", "dataset: synthetic\nstart: 2006-01-02\ninitial_cash: 100000\n"
                      "strategy: {type: topn, params: {scores_path: preds/scores.csv, top_n: 3}}\n");
  auto by_file = Exec("backtest --config configs/file.yaml");
  ASSERT_EQ(by_file.code, 0) << by_file.err;
  const std::string id2 = by_file.out.substr(11, by_file.out.find('\n') - 11);
  const auto s2 = nlohmann::json::parse(Slurp(ws_ / "backtests" / id2 / "summary.json"));
  EXPECT_EQ(s2["final_equity"], s["final_equity"]);
  EXPECT_EQ(s2["scores_path"], "preds/scores.csv");

  // Low exposure: one note line.
  auto low = Exec("backtest --config configs/topn.yaml --set strategy.params.max_exposure=0.3");
  ASSERT_EQ(low.code, 0) << low.err;
  EXPECT_EQ(Line(low.out, "note: ").rfind("note: the portfolio was only ", 0), 0u) << low.out;

  // Bad scores files: one line, exit 2, nothing written.
  const auto before = std::distance(fs::directory_iterator(ws_ / "backtests"), fs::directory_iterator());
  std::ofstream(ws_ / "preds" / "bad.csv") << "date,symbol,score\n2006-01-02,SYN0001,0.5\n2006-01-02,SYN0001,0.7\n";
  auto dup = Exec("backtest --config configs/file.yaml --set strategy.params.scores_path=preds/bad.csv");
  EXPECT_EQ(dup.code, 2);
  EXPECT_EQ(dup.err, "error: preds/bad.csv:3: duplicate score for SYN0001 on 2006-01-02 (first on line 2)\n");
  auto missing = Exec("backtest --config configs/file.yaml --set strategy.params.scores_path=preds/none.csv");
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.err, "error: scores file 'preds/none.csv' does not exist or is outside the workspace\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(ws_ / "backtests"), fs::directory_iterator()), before);
}

// A backtest given only a model takes the dataset, the tickers and the test period from the
// model's training run (a config for another dataset, as the UI's base config is, still works),
// and summary.json says how many traded bars the model had seen.
TEST_F(CliTest, ModelBacktestDefaultsToTheModelsDatasetTickersAndTestPeriod) {
  ASSERT_EQ(Exec("data synth --out data/synthetic --instruments 3 --years 5 --seed 5").code, 0);
  Config("train.yaml", "dataset: synthetic\ntickers: [SYN0001, SYN0002]\n"
                       "label: {horizon_days: 10, threshold: 0.02}\n"
                       "split: {train_end: 2007-06-30, valid_end: 2008-06-30, gap_days: 10}\n"
                       "model: {type: xgboost, params: {num_round: 8, max_depth: 3, nthread: 1}}\n");
  auto train = Exec("train --config configs/train.yaml");
  ASSERT_EQ(train.code, 0) << train.err;
  const auto run_id_at = train.out.find("run_id: ");
  ASSERT_NE(run_id_at, std::string::npos) << train.out;
  const std::string run_id = train.out.substr(run_id_at + 8, train.out.find('\n', run_id_at) - run_id_at - 8);
  const std::string model = "runs/" + run_id + "/model_SYN0002.json";
  ASSERT_TRUE(fs::exists(ws_ / model)) << model;
  // The UI's generic config: another dataset and ticker, the whole 2000-2020 range.
  Config("base.yaml", "dataset: demo\ntickers: [SPX]\nstart: 2000-01-01\nend: 2020-12-31\n"
                      "strategy: {type: sma_cross, params: {fast: 10, slow: 50}}\n");

  auto run = [&](const std::string& extra) {
    auto bt = Exec("backtest --config configs/base.yaml --model " + model + extra);
    EXPECT_EQ(bt.code, 0) << extra << ": " << bt.err;
    const std::string id = bt.out.substr(11, bt.out.find('\n') - 11);
    return std::make_pair(ws_ / "backtests" / id, bt.code == 0 ? nlohmann::json::parse(Slurp(ws_ / "backtests" / id / "summary.json"))
                                                               : nlohmann::json());
  };
  auto [dir, s] = run("");
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["dataset"], "synthetic");
  EXPECT_EQ(s["tickers"], nlohmann::json::array({"SYN0002"}));  // the ticker this model file serves
  EXPECT_EQ(s["strategy"]["type"], "signal");
  EXPECT_EQ(s["model_run_id"], run_id);
  EXPECT_EQ(s["model_train_end"], "2007-06-30");
  EXPECT_EQ(s["model_valid_end"], "2008-06-30");
  EXPECT_EQ(s["model_test_start"], "2008-07-01");
  EXPECT_EQ(s["start"], "2008-07-01");  // first business day after valid_end
  EXPECT_EQ(s["in_sample_overlap_days"], 0);
  EXPECT_GT(s["warmup_bars"].get<int>(), 800) << "history before the test period warms the features up";

  // The request's own dates win; the overlap is the traded bars dated <= valid_end, counted here
  // from equity.csv.
  auto [dir2, s2] = run(" --start 2007-01-02");
  ASSERT_TRUE(s2.is_object());
  EXPECT_EQ(s2["start"], "2007-01-02");
  std::stringstream eq(Slurp(dir2 / "equity.csv"));
  std::string line;
  std::getline(eq, line);
  int by_hand = 0, bars = 0;
  while (std::getline(eq, line)) {
    ++bars;
    if (line.substr(0, 10) <= "2008-06-30") ++by_hand;
  }
  EXPECT_EQ(bars, s2["bars"].get<int>());
  EXPECT_GT(by_hand, 300);
  EXPECT_EQ(s2["in_sample_overlap_days"], by_hand);

  // The request's tickers and dataset win over the model's.
  auto [dir3, s3] = run(" --ticker SYN0001 --end 2009-06-30");
  ASSERT_TRUE(s3.is_object());
  EXPECT_EQ(s3["tickers"], nlohmann::json::array({"SYN0001"}));
  EXPECT_EQ(s3["end"], "2009-06-30");
  auto other = Exec("backtest --config configs/base.yaml --model " + model + " --set dataset=nope");
  EXPECT_EQ(other.code, 2);
  EXPECT_EQ(other.err, "error: unknown dataset 'nope' (known: synthetic)\n");

  // Without --model nothing changes: the config's demo dataset does not exist here.
  auto plain = Exec("backtest --config configs/base.yaml");
  EXPECT_EQ(plain.code, 2);
  EXPECT_NE(plain.err.find("demo"), std::string::npos) << plain.err;
}

}  // namespace

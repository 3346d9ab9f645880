// Training benchmark: writes a synthetic universe into a temporary workspace (untimed),
// then runs the real `alphalab train` pipeline (RunTraining, scope pooled, default feature
// set) --reps times and prints rows/s and the share of wall time spent outside XGBoost.
// Figures (bench/common/bench_report.hpp): median / p95 / best wall time per training, with
// XGBoost's own time in the same trainings as the in-run reference (the ratio is the share of
// the wall time inside XGBoost; the goal is an outside share under 20%, a ratio above 0.8).
//
//   bench_engine_ml_train [--instruments 500] [--years 20] [--rounds 200] [--nthread 0] [--reps 3] [--keep]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "../common/bench_report.hpp"
#include "core/clock.hpp"
#include "core/workspace.hpp"
#include "engine/data/synth.hpp"
#include "engine/model/trainer.hpp"

namespace fs = std::filesystem;
using namespace alphalab;
using namespace alphalab::engine;

int main(int argc, char** argv) {
  int instruments = 500, years = 20, rounds = 200, nthread = 0, reps = 3;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--instruments") instruments = next();
    else if (a == "--years") years = next();
    else if (a == "--rounds") rounds = next();
    else if (a == "--nthread") nthread = next();
    else if (a == "--reps") reps = std::max(1, next());
    else if (a == "--keep") keep = true;
    else {
      std::cerr << "usage: bench_engine_ml_train [--instruments N] [--years Y] [--rounds R] [--nthread T] [--reps N] [--keep]\n";
      return 2;
    }
  }
  const fs::path root = fs::temp_directory_path() / ("alphalab_bench_train_" + std::to_string(::getpid()));
  fs::create_directories(root / "configs");
  SynthOptions opt;
  opt.instruments = instruments;
  opt.years = years;
  opt.seed = 2024;
  opt.start = 10960;  // 2000-01-03
  const Universe u = MakeSyntheticUniverse(opt);
  if (Status st = WriteUniverseCsv(u, root / "data" / "synthetic"); !st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  const int last_year = 2000 + years - 1;
  std::ofstream(root / "configs" / "bench.yaml")
      << "dataset: synthetic\n"
         "tickers: all\n"
         "label: {horizon_days: 20, threshold: 0.05}\n"
         "split: {train_end: "
      << (last_year - 4) << "-12-31, valid_end: " << (last_year - 2)
      << "-12-31, gap_days: 20}\n"
         "model: {type: xgboost, params: {max_depth: 4, eta: 0.1, num_round: "
      << rounds << ", nthread: " << nthread
      << "}}\n"
         "scope: pooled\n"
         "mode: base\n";
  auto ws = Workspace::Open(root);
  if (!ws.ok()) return 1;
  std::printf("instruments=%zu years=%d rounds=%d nthread=%d (0 = all cores), %d trainings\n", u.series.size(), years,
              rounds, nthread, reps);
  std::vector<double> total_s, xgboost_s;
  for (int r = 0; r < reps; ++r) {
    std::ostringstream progress;
    auto out = RunTraining(*ws, TrainRequest{"configs/bench.yaml", {}}, SystemClock::Instance(), progress);
    if (!out.ok()) {
      std::cerr << out.status().ToString() << "\n" << progress.str();
      return 1;
    }
    const TrainProfile& p = out->profile;
    const double outside = p.total_s - p.xgboost_s;
    total_s.push_back(p.total_s);
    xgboost_s.push_back(p.xgboost_s);
    std::printf("training %d: train_rows=%zu total_s=%.3f xgboost_s=%.3f data_load_s=%.3f features_s=%.3f other_s=%.3f\n",
                r + 1, p.train_rows, p.total_s, p.xgboost_s, p.load_s, p.features_s, outside - p.load_s - p.features_s);
    std::printf("  rows_per_s=%.0f (train rows / total wall time), row_rounds_per_s=%.0f (train rows x rounds / xgboost time)\n",
                static_cast<double>(p.train_rows) / p.total_s, static_cast<double>(p.train_rows) * rounds / p.xgboost_s);
    std::printf("  outside_xgboost_share=%.1f%% of wall time (goal < 20%%); cpu: total_cpu_s=%.3f xgboost_cpu_s=%.3f"
                " outside_xgboost_cpu_share=%.1f%%\n",
                100.0 * outside / p.total_s, p.total_cpu_s, p.xgboost_cpu_s,
                100.0 * (p.total_cpu_s - p.xgboost_cpu_s) / p.total_cpu_s);
  }
  bench::Report("bench_engine_ml_train",
                "training " + std::to_string(instruments) + " x " + std::to_string(years) + " years, " +
                    std::to_string(rounds) + " rounds, pooled: wall time",
                total_s, "s", "XGBoost's own time in the same trainings (ratio = share inside XGBoost)", xgboost_s);
  if (!keep) fs::remove_all(root);
  else std::printf("workspace kept: %s\n", root.c_str());
  return 0;
}

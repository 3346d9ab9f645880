// bench_seed_jobs: fills a workspace's job store (alphalab.db) with N finished jobs, as if
// the server had run them, and writes their ids one per line, so that a freshly started
// server (empty read cache) serves GET /api/jobs/{id} for them from the store: the path
// users hit after a restart or on older jobs. Used by bench/http/bench_get_job.sh.
// With --runs N it also fills the registry with N indexed runs (one model row each), for the
// 100,000-row Runs and Jobs tables benchmark (ui/e2e/bench_tables.mjs; serve it with
// registry.index_on_start: false, the runs have no folders). Jobs and runs vary by ticker
// T000..T499 so a text search matches a few hundred of them.
//
//   bench_seed_jobs --workspace DIR --jobs 100000 --ids-out FILE [--threads 4] [--runs N]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_job_store.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"

using namespace alphalab;

int main(int argc, char** argv) {
  std::filesystem::path ws, ids_out;
  int jobs = 100000, threads = 4, runs = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--workspace") ws = argv[i + 1];
    if (a == "--jobs") jobs = std::atoi(argv[i + 1]);
    if (a == "--ids-out") ids_out = argv[i + 1];
    if (a == "--threads") threads = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--runs") runs = std::max(0, std::atoi(argv[i + 1]));
  }
  if (ws.empty() || ids_out.empty() || jobs <= 0) {
    std::fprintf(stderr, "usage: bench_seed_jobs --workspace DIR --jobs N --ids-out FILE [--threads T]\n");
    return 2;
  }
  auto db = SqliteDb::Open(ws / "alphalab.db");
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().message().c_str());
    return 1;
  }
  auto store = SqliteJobStore::Open(**db);
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.status().message().c_str());
    return 1;
  }
  // Ids in the server's format (job_YYYYMMDD_HHMMSS__<8 hex>), one second apart per 1000.
  std::vector<std::string> ids(static_cast<size_t>(jobs));
  for (int k = 0; k < jobs; ++k) {
    char id[64];
    std::snprintf(id, sizeof id, "job_20261101_%02d%02d%02d__%08x", (k / 1000 / 3600) % 24, (k / 1000 / 60) % 60,
                  (k / 1000) % 60, static_cast<unsigned>(k) * 2654435761u);
    ids[static_cast<size_t>(k)] = id;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> next{0}, failed{0};
  auto work = [&] {
    for (int k = next++; k < jobs; k = next++) {
      const std::string& id = ids[static_cast<size_t>(k)];
      JobRecord job;
      job.job_id = JobId(id);
      job.job_type = "train";
      job.created_at = std::chrono::system_clock::now() - std::chrono::hours(24 * 30);
      job.cwd = ws.string();
      char ticker[8];
      std::snprintf(ticker, sizeof ticker, "T%03d", k % 500);
      const std::string set = std::string("tickers=[") + ticker + "]";
      job.command = {"/usr/bin/alphalab", "train", "--config", "configs/base.yaml", "--set", set};
      job.args_preview = "alphalab train --config configs/base.yaml --set " + set;
      job.params = Json{{"config_path", "configs/base.yaml"}, {"overrides", Json::array({set})}, {"dry_run", false}};
      job.log_path = "reports/jobs/runtime/" + id + ".log";
      job.meta_path = "reports/jobs/runtime/" + id + ".json";
      bool ok = (*store)->InsertJob(job).ok();
      job.status = JobState::kRunning;
      job.started_at = job.created_at + std::chrono::milliseconds(3);
      job.executor_ref = "local:12345:67890";
      ok = ok && (*store)->UpdateJob(job, JobState::kQueued).ok();
      job.status = JobState::kSuccess;
      job.ended_at = job.created_at + std::chrono::milliseconds(253);
      job.exit_code = 0;
      job.artifacts = Json{{"run_id", "run_" + id}, {"run_dir", "runs/run_" + id}};
      ok = ok && (*store)->UpdateJob(job, JobState::kRunning).ok();
      if (!ok) ++failed;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (runs > 0) {
    auto registry = SqliteRegistryStore::Open(**db);
    if (!registry.ok()) {
      std::fprintf(stderr, "registry: %s\n", registry.status().message().c_str());
      return 1;
    }
    const auto t_runs = std::chrono::steady_clock::now();
    std::vector<IndexedRun> batch;
    for (int r = 0; r < runs; ++r) {
      char id[48], ticker[8], ts[40];
      std::snprintf(id, sizeof id, "run_20261101_%06d__%08x", r, static_cast<unsigned>(r) * 2654435761u);
      std::snprintf(ticker, sizeof ticker, "T%03d", r % 500);
      std::snprintf(ts, sizeof ts, "2026-%02d-%02dT%02d:%02d:00.000Z", 1 + r % 12, 1 + r % 28, r % 24, r % 60);
      IndexedRun ir;
      ir.run.run_id = id;
      ir.run.project = "p" + std::to_string(r % 20);
      ir.run.mode = "base";
      ir.run.status = "success";
      ir.run.start_time = ts;
      ir.run.end_time = ts;
      ir.run.dataset = r % 2 ? "synthetic" : "demo";
      ir.run.config_path = "configs/base.yaml";
      ir.run.tickers = {ticker};
      ir.run.indexed_at = ts;
      // Model params as the indexer stores them (the param.<name> sorts).
      ir.run.model_params = Json{{"max_depth", 3 + r % 8}, {"eta", 0.01 * static_cast<double>(1 + r % 30)},
                                 {"tree_method", "hist"}};
      RegistryRow row;
      row.ticker = ticker;
      row.run_id = id;
      row.mode = "base";
      row.project = ir.run.project;
      row.label_horizon_days = 20;
      row.label_threshold = 0.05;
      row.precision = 0.4 + 0.3 * ((r * 7919) % 1000) / 1000.0;
      row.positive_rate = 0.3;
      row.lift = *row.precision / 0.3;
      row.buy_rate = 0.2;
      row.support = 200 + r % 300;
      row.tp = 30;
      row.fp = 20;
      row.tn = 100;
      row.fn = *row.support - 150;
      row.model_final_path = std::string("runs/") + id + "/model_" + ticker + ".json";
      row.config_path = "configs/base.yaml";
      row.metrics_path = std::string("runs/") + id + "/metrics.json";
      row.manifest_path = std::string("runs/") + id + "/manifest.json";
      row.start_time = ts;
      row.end_time = ts;
      row.status = "success";
      ir.rows.push_back(std::move(row));
      batch.push_back(std::move(ir));
      if (batch.size() == 1000 || r + 1 == runs) {
        if (auto st = (*registry)->ReplaceRuns(batch); !st.ok()) {
          std::fprintf(stderr, "ReplaceRuns: %s\n", st.message().c_str());
          return 1;
        }
        batch.clear();
      }
    }
    std::printf("seeded %d indexed runs in %.1f s\n", runs,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t_runs).count());
  }
  std::ofstream out(ids_out);
  for (const auto& id : ids) out << id << '\n';
  std::printf("seeded %d finished jobs in %.1f s (%d failed)\n", jobs,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), failed.load());
  return failed ? 1 : 0;
}

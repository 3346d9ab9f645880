// bench_seed_jobs: fills a workspace's job store (alphalab.db) with N finished jobs, as if
// the server had run them, and writes their ids one per line, so that a freshly started
// server (empty read cache) serves GET /api/jobs/{id} for them from the store: the path
// users hit after a restart or on older jobs. Used by bench/http/bench_get_job.sh.
//
//   bench_seed_jobs --workspace DIR --jobs 100000 --ids-out FILE [--threads 4]
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

using namespace alphalab;

int main(int argc, char** argv) {
  std::filesystem::path ws, ids_out;
  int jobs = 100000, threads = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--workspace") ws = argv[i + 1];
    if (a == "--jobs") jobs = std::atoi(argv[i + 1]);
    if (a == "--ids-out") ids_out = argv[i + 1];
    if (a == "--threads") threads = std::max(1, std::atoi(argv[i + 1]));
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
      job.command = {"/usr/bin/alphalab", "train", "--config", "configs/base.yaml", "--set", "model.eta=0.1"};
      job.args_preview = "alphalab train --config configs/base.yaml --set model.eta=0.1";
      job.params = Json{{"config_path", "configs/base.yaml"}, {"overrides", Json::array({"model.eta=0.1"})},
                        {"dry_run", false}};
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
  std::ofstream out(ids_out);
  for (const auto& id : ids) out << id << '\n';
  std::printf("seeded %d finished jobs in %.1f s (%d failed)\n", jobs,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), failed.load());
  return failed ? 1 : 0;
}

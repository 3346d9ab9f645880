// SqliteJobStore write throughput: each job is inserted QUEUED, moved to RUNNING and then to
// SUCCESS (3 autocommit writes, as the jobs service does), from 1 and from several threads;
// then GetJob and the recent-jobs page (limit 100) as reads.
//
//   bench_store_write [--jobs 5000] [--threads 2] [--checkpoint 1000] [--db PATH]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_job_store.hpp"

namespace {

using BenchClock = std::chrono::steady_clock;
using namespace alphalab;

JobRecord MakeJob(const std::string& id) {
  JobRecord job;
  job.job_id = JobId(id);
  job.job_type = "train";
  job.created_at = std::chrono::system_clock::now();
  job.cwd = "/home/user/workspace";
  job.command = {"/usr/bin/alphalab", "train", "--config", "configs/base.yaml", "--set", "model.eta=0.1"};
  job.args_preview = "alphalab train --config configs/base.yaml --set model.eta=0.1";
  job.params = Json{{"config_path", "configs/base.yaml"}, {"overrides", Json::array({"model.eta=0.1"})},
                    {"dry_run", false}};
  job.log_path = "reports/jobs/runtime/" + id + ".log";
  job.meta_path = "reports/jobs/runtime/" + id + ".json";
  return job;
}

bool Lifecycle(JobStore& store, const std::string& id) {
  JobRecord job = MakeJob(id);
  if (!store.InsertJob(job).ok()) return false;
  job.status = JobState::kRunning;
  job.started_at = std::chrono::system_clock::now();
  job.executor_ref = "local:12345:67890";
  if (!store.UpdateJob(job, JobState::kQueued).ok()) return false;
  job.status = JobState::kSuccess;
  job.ended_at = std::chrono::system_clock::now();
  job.exit_code = 0;
  job.artifacts = Json{{"run_id", "run_" + id}, {"run_dir", "runs/run_" + id}};
  return store.UpdateJob(job, JobState::kRunning).ok();
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 5000;
  int threads = 2;
  int checkpoint_pages = 1000;
  std::filesystem::path db_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--jobs" && i + 1 < argc) {
      jobs = std::atoi(argv[++i]);
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--checkpoint" && i + 1 < argc) {
      checkpoint_pages = std::atoi(argv[++i]);
    } else if (arg == "--db" && i + 1 < argc) {
      db_path = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--jobs N] [--threads T] [--checkpoint PAGES] [--db PATH]\n", argv[0]);
      return 2;
    }
  }
  const bool temp = db_path.empty();
  if (temp) {
    db_path = std::filesystem::temp_directory_path() /
              ("alphalab_store_bench_" + std::to_string(getpid())) / "alphalab.db";
  }
  SqliteDb::Options options;
  options.wal_autocheckpoint_pages = checkpoint_pages;
  auto db = SqliteDb::Open(db_path, options);
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  auto store = SqliteJobStore::Open(**db);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  std::printf("SQLite %s (WAL, synchronous=NORMAL), file %s\n", "job store", db_path.c_str());

  // 1 thread
  auto t0 = BenchClock::now();
  for (int i = 0; i < jobs; ++i) {
    if (!Lifecycle(**store, "job_a_" + std::to_string(i))) {
      std::fprintf(stderr, "write failed\n");
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(BenchClock::now() - t0).count();
  std::printf("1 thread : %d jobs (insert + 2 CAS updates) in %.3f s = %.0f jobs/s = %.0f writes/s\n",
              jobs, secs, jobs / secs, 3 * jobs / secs);

  // N threads
  t0 = BenchClock::now();
  std::vector<std::thread> pool;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = t; i < jobs; i += threads) {
        if (!Lifecycle(**store, "job_b_" + std::to_string(i))) ++failures;
      }
    });
  }
  for (auto& th : pool) th.join();
  secs = std::chrono::duration<double>(BenchClock::now() - t0).count();
  std::printf("%d threads: %d jobs in %.3f s = %.0f jobs/s = %.0f writes/s (%d failures)\n", threads,
              jobs, secs, jobs / secs, 3 * jobs / secs, failures.load());

  // Reads on a table of 2*jobs rows.
  std::vector<double> get_us, list_us;
  for (int i = 0; i < 2000; ++i) {
    const auto s = BenchClock::now();
    auto job = (*store)->GetJob(JobId("job_a_" + std::to_string((i * 7919) % jobs)));
    get_us.push_back(std::chrono::duration<double, std::micro>(BenchClock::now() - s).count());
    if (!job.ok()) return 1;
  }
  for (int i = 0; i < 200; ++i) {
    JobQuery q;
    q.limit = 100;
    if (i % 2 == 1) q.status = JobState::kSuccess;
    const auto s = BenchClock::now();
    auto page = (*store)->ListJobs(q);
    list_us.push_back(std::chrono::duration<double, std::micro>(BenchClock::now() - s).count());
    if (!page.ok() || page->size() != 100) return 1;
  }
  std::printf("GetJob            p50 %.1f us  p99 %.1f us\n", Percentile(get_us, 0.5), Percentile(get_us, 0.99));
  std::printf("ListJobs(100)     p50 %.1f us  p99 %.1f us  (recent and status=SUCCESS, %d rows)\n",
              Percentile(list_us, 0.5), Percentile(list_us, 0.99), 2 * jobs);
  db->reset();
  if (temp) {
    std::error_code ec;
    std::filesystem::remove_all(db_path.parent_path(), ec);
  }
  return 0;
}

// SqliteJobStore write throughput: each job is inserted QUEUED, moved to RUNNING and then to
// SUCCESS (3 writes, as the jobs service does), from 1, 2, 4 and 8 writer threads, with
// group commit + background checkpoints ("grouped", the default) and with one transaction
// per write + SQLite's inline auto-checkpoint ("ungrouped", the behaviour before group
// commit), in the same run. Every (mode, threads) cell uses a fresh database file; each thread
// count runs --rounds rounds, the modes alternating within a round, so a reference and its
// figure see the same minutes of the machine. Then GetJob and the recent-jobs page (limit 100)
// as reads. Each thread count is also reported through bench/common/bench_report.hpp: the wall
// time per write of a round (the cell's wall time / its writes: what group commit is for) of
// "grouped", median over the rounds, with "ungrouped" (same threads, same rounds) as its
// reference. A single write's latency under group commit depends on whether it led or joined
// a batch, so its median moves from run to run; it stays in the table (p50, p99), not judged.
//
//   bench_store_write [--jobs 5000] [--threads 1,2,4,8] [--mode both|grouped|ungrouped|all]
//                     [--rounds 3] [--checkpoint 1000] [--extra 1] [--dir PATH]
//
// --mode all adds the two mixed configurations (grouped with inline checkpoints, ungrouped
// with background checkpoints) to tell the two effects apart; --extra sets
// SqliteDb::Options::leader_extra_batches.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/bench_report.hpp"
#include "store/sqlite/sqlite_job_store.hpp"

namespace {

using BenchClock = std::chrono::steady_clock;
using namespace alphalab;

struct Mode {
  const char* name;
  bool group_commit;
  bool background_checkpoint;
};

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

// One job's three writes; appends each write's latency (microseconds) to `lat_us`.
bool Lifecycle(JobStore& store, const std::string& id, std::vector<double>& lat_us) {
  auto timed = [&](auto&& write) {
    const auto s = BenchClock::now();
    const bool ok = write().ok();
    lat_us.push_back(std::chrono::duration<double, std::micro>(BenchClock::now() - s).count());
    return ok;
  };
  JobRecord job = MakeJob(id);
  if (!timed([&] { return store.InsertJob(job); })) return false;
  job.status = JobState::kRunning;
  job.started_at = std::chrono::system_clock::now();
  job.executor_ref = "local:12345:67890";
  if (!timed([&] { return store.UpdateJob(job, JobState::kQueued); })) return false;
  job.status = JobState::kSuccess;
  job.ended_at = std::chrono::system_clock::now();
  job.exit_code = 0;
  job.artifacts = Json{{"run_id", "run_" + id}, {"run_dir", "runs/run_" + id}};
  return timed([&] { return store.UpdateJob(job, JobState::kRunning); });
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

std::vector<int> ParseList(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const int v = std::atoi(item.c_str());
    if (v > 0) out.push_back(v);
  }
  return out;
}

double LoadAverage() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 5000;
  std::vector<int> thread_counts = {1, 2, 4, 8};
  std::string mode_arg = "both";
  int checkpoint_pages = 1000;
  int rounds = 3;
  int extra_batches = SqliteDb::Options{}.leader_extra_batches;
  std::filesystem::path dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--jobs" && i + 1 < argc) {
      jobs = std::max(100, std::atoi(argv[++i]));
    } else if (arg == "--threads" && i + 1 < argc) {
      thread_counts = ParseList(argv[++i]);
    } else if (arg == "--mode" && i + 1 < argc) {
      mode_arg = argv[++i];
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--checkpoint" && i + 1 < argc) {
      checkpoint_pages = std::atoi(argv[++i]);
    } else if (arg == "--extra" && i + 1 < argc) {
      extra_batches = std::atoi(argv[++i]);
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--jobs N] [--threads 1,2,4,8] [--mode both|grouped|ungrouped|all]"
                   " [--rounds N] [--checkpoint PAGES] [--extra BATCHES] [--dir PATH]\n",
                   argv[0]);
      return 2;
    }
  }
  std::vector<Mode> modes;
  if (mode_arg == "ungrouped" || mode_arg == "both" || mode_arg == "all") {
    modes.push_back({"ungrouped", false, false});
  }
  if (mode_arg == "all") {
    modes.push_back({"ungrouped+bgckpt", false, true});
    modes.push_back({"grouped+inlineckpt", true, false});
  }
  if (mode_arg == "grouped" || mode_arg == "both" || mode_arg == "all") {
    modes.push_back({"grouped", true, true});
  }
  if (modes.empty() || thread_counts.empty()) {
    std::fprintf(stderr, "nothing to run (check --mode / --threads)\n");
    return 2;
  }
  const bool temp = dir.empty();
  if (temp) {
    dir = std::filesystem::temp_directory_path() /
          ("alphalab_store_bench_" + std::to_string(getpid()));
  }
  std::printf("SqliteJobStore writes: %d jobs per cell, each insert QUEUED + CAS RUNNING + CAS SUCCESS\n"
              "(WAL, synchronous=NORMAL, checkpoint threshold %d pages), files under %s, load average %.2f\n",
              jobs, checkpoint_pages, dir.c_str(), LoadAverage());
  std::printf("%-19s %3s %5s %9s %9s %9s %9s %9s %8s %7s %6s %8s\n", "mode", "thr", "round", "jobs/s", "writes/s",
              "p50 us", "p99 us", "max us", "commits", "w/commit", "ckpts", "peak WAL");

  std::unique_ptr<SqliteDb> last_db;
  std::unique_ptr<SqliteJobStore> last_store;
  int cell = 0;
  for (int threads : thread_counts) {
    std::vector<double> grouped_s, ungrouped_s;  // wall per write of each round, seconds
    for (int round = 1; round <= rounds; ++round) {
    for (const Mode& mode : modes) {
      const auto db_path = dir / ("cell" + std::to_string(cell++)) / "alphalab.db";
      SqliteDb::Options options;
      options.wal_autocheckpoint_pages = checkpoint_pages;
      options.group_commit = mode.group_commit;
      options.background_checkpoint = mode.background_checkpoint;
      options.leader_extra_batches = extra_batches;
      last_store.reset();
      last_db.reset();
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
      const SqliteDb::WriteStats before = (*db)->write_stats();
      std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
      std::atomic<int> failures{0};
      std::vector<std::thread> pool;
      const auto t0 = BenchClock::now();
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          lat[static_cast<size_t>(t)].reserve(static_cast<size_t>(3 * jobs / threads + 3));
          for (int i = t; i < jobs; i += threads) {
            if (!Lifecycle(**store, "job_" + std::to_string(i), lat[static_cast<size_t>(t)])) ++failures;
          }
        });
      }
      for (auto& th : pool) th.join();
      const double secs = std::chrono::duration<double>(BenchClock::now() - t0).count();
      const SqliteDb::WriteStats after = (*db)->write_stats();
      std::vector<double> all;
      for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
      std::error_code ec;
      const auto wal_bytes = std::filesystem::file_size(db_path.string() + "-wal", ec);
      const uint64_t commits = after.group_commits - before.group_commits;
      const uint64_t writes = after.grouped_writes - before.grouped_writes;
      std::printf("%-19s %3d %5d %9.0f %9.0f %9.1f %9.1f %9.0f %8ju %7.2f %6ju %6.1fMB%s\n", mode.name,
                  threads, round, jobs / secs, 3 * jobs / secs, Percentile(all, 0.5), Percentile(all, 0.99),
                  *std::max_element(all.begin(), all.end()), static_cast<uintmax_t>(commits),
                  commits > 0 ? static_cast<double>(writes) / static_cast<double>(commits) : 0.0,
                  static_cast<uintmax_t>(after.checkpoints - before.checkpoints),
                  ec ? 0.0 : static_cast<double>(wal_bytes) / (1 << 20),
                  failures.load() > 0 ? "  FAILURES" : "");
      std::fflush(stdout);
      if (failures.load() > 0) return 1;
      if (mode.group_commit && mode.background_checkpoint) {
        grouped_s.push_back(secs / (3.0 * jobs));
      } else if (!mode.group_commit && !mode.background_checkpoint) {
        ungrouped_s.push_back(secs / (3.0 * jobs));
      }
      last_db = std::move(db).value();
      last_store = std::move(store).value();
    }
    }
    if (!grouped_s.empty()) {
      bench::Report("bench_store_write",
                    "wall time per write (insert or CAS), grouped, " + std::to_string(threads) + " threads",
                    grouped_s, "us", ungrouped_s.empty() ? "" : "ungrouped (a transaction per write)", ungrouped_s);
    }
  }
  std::printf("(ckpts: background passes for grouped modes; inline auto-checkpoints are not counted."
              " peak WAL: size of the -wal file after the run, it never shrinks while open)\n");

  // Reads on the last cell's table (`jobs` rows): GetStoredJob (the detail read of an uncached
  // job) interleaved with GetJob (decodes every JSON column) as its reference.
  std::vector<double> get_s, stored_s, list_s;
  for (int i = 0; i < 2000; ++i) {
    const JobId id("job_" + std::to_string((i * 7919) % jobs));
    auto s = BenchClock::now();
    auto job = last_store->GetJob(id);
    get_s.push_back(std::chrono::duration<double>(BenchClock::now() - s).count());
    s = BenchClock::now();
    auto stored = last_store->GetStoredJob(id);
    stored_s.push_back(std::chrono::duration<double>(BenchClock::now() - s).count());
    if (!job.ok() || !stored.ok()) return 1;
  }
  for (int i = 0; i < 200; ++i) {
    JobQuery q;
    q.limit = 100;
    if (i % 2 == 1) q.statuses = {JobState::kSuccess};
    const auto s = BenchClock::now();
    auto page = last_store->ListJobs(q);
    list_s.push_back(std::chrono::duration<double>(BenchClock::now() - s).count());
    if (!page.ok() || page->size() != 100) return 1;
  }
  bench::Report("bench_store_write", "GetStoredJob (JSON columns as stored)", stored_s, "us", "GetJob", get_s);
  bench::Report("bench_store_write", "ListJobs(100), recent and status=SUCCESS, " + std::to_string(jobs) + " rows",
                list_s, "us");
  std::printf("load average at the end: %.2f\n", LoadAverage());
  last_store.reset();
  last_db.reset();
  if (temp) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return 0;
}

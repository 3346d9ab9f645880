// bench_postgres: the PostgreSQL stores beside the SQLite ones, measured in the same run.
//   1. registry page: N model rows (10 tickers) seeded with one server-side statement in each
//      database (the same generator), then RegistryStore::QueryModels (page + total) for three
//      query shapes; p50/p95 per store (target: PostgreSQL p95 < 10 ms at 1,000,000 rows).
//   2. job claims: J queued jobs; two "servers" (two stores, two connection pools) with T
//      claimer threads each run ClaimNext + UpdateJob(RUNNING) until the queue is empty;
//      claims/s and duplicates (target: >= 1,000/s, none). SQLite reference: one store, the same
//      2 x T threads.
// Usage: bench_postgres [--url postgresql://...] [--rows 1000000] [--jobs 4000] [--threads 4]
//                       [--iterations 200]
// The URL defaults to $ALPHALAB_TEST_PG_URL; everything lives in a fresh schema, dropped after.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../common/bench_report.hpp"
#include "store/postgres/pg_db.hpp"
#include "store/postgres/pg_job_store.hpp"
#include "store/postgres/pg_registry_store.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_job_store.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"

namespace fs = std::filesystem;
using namespace alphalab;

namespace {

void Die(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// The seed, as SQL over a row number n in [0, rows): 10 tickers, 100,000 runs per 1,000,000 rows.
// `series` is the dialect's row source (a column n).
std::string SeedSql(const std::string& series, const std::string& rnd) {
  const std::string r = rnd;
  return "INSERT INTO registry_models (ticker, run_id, mode, project, label_horizon_days, label_threshold,"
         " precision, recall, f1, accuracy, buy_rate, positive_rate, lift, tp, fp, tn, fn, support,"
         " model_final_path, config_path, metrics_path, manifest_path, start_time, end_time, status)"
         " SELECT t, run_id, 'base', 'alpha', 20, 0.05, prec, " + r + ", " + r + ", " + r + ", 0.05 + 0.5 * " + r +
         ", pos, prec / pos, 1, 1, 1, 1, support, 'm', 'c', 'x', 'y', '2026-01-01', '2026-01-01', 'success'"
         " FROM (SELECT (CASE n % 10 WHEN 0 THEN 'TSM' WHEN 1 THEN 'AAPL' WHEN 2 THEN 'MSFT' WHEN 3 THEN 'NVDA'"
         " WHEN 4 THEN 'AMZN' WHEN 5 THEN 'GOOG' WHEN 6 THEN 'META' WHEN 7 THEN 'TSLA' WHEN 8 THEN 'AMD'"
         " ELSE 'INTC' END) AS t, 'run_' || (n / 10) AS run_id, pos, pos * (0.6 + 0.9 * " + r + ") AS prec,"
         " 20 + ((n % 1000) * 7919) % 400 AS support FROM (SELECT n, 0.2 + 0.3 * " + r + " AS pos FROM " + series +
         ") AS a) AS b";
}

struct Shape {
  const char* name;
  RegistryQuery query;
};

std::vector<Shape> Shapes() {
  std::vector<Shape> out;
  RegistryQuery seed;
  seed.tickers = {"TSM"};
  seed.min_lift = 1.1;
  seed.min_precision = 0.6;
  seed.min_support = 30;
  out.push_back({"seed: ticker=TSM lift>=1.1 prec>=0.6 sup>=30", seed});
  out.push_back({"no filter, default sort", RegistryQuery{}});
  RegistryQuery three;
  three.tickers = {"TSM", "AAPL", "NVDA"};
  out.push_back({"3 tickers IN, default sort", three});
  RegistryQuery deep;
  deep.tickers = {"TSM"};
  deep.offset = 5000;
  out.push_back({"ticker=TSM, offset 5000", deep});
  return out;
}

std::vector<double> TimeQueries(RegistryStore& store, const RegistryQuery& q, int iterations, int64_t* total) {
  return bench::Sample(iterations, [&] {
    auto page = store.QueryModels(q);
    Die(page.status(), "QueryModels");
    *total = page->total;
  });
}

JobRecord QueuedJob(int i) {
  JobRecord j;
  char id[32];
  std::snprintf(id, sizeof id, "job_%08d", i);
  j.job_id = JobId(id);
  j.job_type = "bench";
  j.created_at = TimePoint(std::chrono::seconds(1'000'000 + i));
  j.cwd = "/";
  j.log_path = std::string("reports/jobs/runtime/") + id + ".log";
  j.meta_path = std::string("reports/jobs/runtime/") + id + ".json";
  return j;
}

// Claims every queued job with `threads_per_server` threads on each store; claims/s and duplicates.
double Claim(const std::vector<JobStore*>& servers, int threads_per_server, int jobs, int* duplicates) {
  std::mutex mu;
  std::multiset<std::string> taken;
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t s = 0; s < servers.size(); ++s) {
    for (int t = 0; t < threads_per_server; ++t) {
      threads.emplace_back([&, s, t] {
        const std::string me = "server" + std::to_string(s) + "/" + std::to_string(t);
        while (true) {
          auto next = servers[s]->ClaimNext(me);
          Die(next.status(), "ClaimNext");
          if (!*next) return;
          JobRecord running = **next;
          running.status = JobState::kRunning;
          running.started_at = std::chrono::system_clock::now();
          Die(servers[s]->UpdateJob(running, JobState::kQueued), "UpdateJob");
          std::lock_guard lock(mu);
          taken.insert(running.job_id.str());
        }
      });
    }
  }
  for (auto& th : threads) th.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *duplicates = static_cast<int>(taken.size() - std::set<std::string>(taken.begin(), taken.end()).size());
  if (static_cast<int>(taken.size()) != jobs) {
    std::fprintf(stderr, "claimed %zu of %d jobs\n", taken.size(), jobs);
    std::exit(1);
  }
  return jobs / secs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url = std::getenv("ALPHALAB_TEST_PG_URL") ? std::getenv("ALPHALAB_TEST_PG_URL") : "";
  int64_t rows = 1'000'000;
  int jobs = 4000, threads = 4, iterations = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--url") url = argv[i + 1];
    else if (a == "--rows") rows = std::atoll(argv[i + 1]);
    else if (a == "--jobs") jobs = std::atoi(argv[i + 1]);
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
    else if (a == "--iterations") iterations = std::atoi(argv[i + 1]);
  }
  if (url.empty()) {
    std::fprintf(stderr, "bench_postgres: give --url postgresql://... or set ALPHALAB_TEST_PG_URL\n");
    return 2;
  }
  const std::string schema = "bench_" + std::to_string(::getpid());
  const fs::path dir = fs::temp_directory_path() / schema;
  fs::create_directories(dir);
  PgDb::Options options;
  options.schema = schema;
  options.pool_size = threads + 2;
  auto pg = PgDb::Open(url, options);
  Die(pg.status(), "PgDb::Open");
  auto sqlite = SqliteDb::Open(dir / "alphalab.db");
  Die(sqlite.status(), "SqliteDb::Open");
  std::printf("bench_postgres: %lld registry rows, %d jobs, 2 x %d claimer threads, %d iterations\n",
              static_cast<long long>(rows), jobs, threads, iterations);

  // ---- 1. registry page ----
  {
    auto pg_reg = PostgresRegistryStore::Open(**pg).value();
    auto sq_reg = SqliteRegistryStore::Open(**sqlite).value();
    auto t0 = std::chrono::steady_clock::now();
    // The per-row count trigger is left out of the bulk seed (1,000,000 updates of 10 count rows
    // in one transaction make long version chains); the counts are computed once after it.
    Die((*pg)->Exec("ALTER TABLE registry_models DISABLE TRIGGER USER;" +
                    SeedSql("generate_series(0, " + std::to_string(rows - 1) + ") AS g(n)", "random()") +
                    ";ALTER TABLE registry_models ENABLE TRIGGER USER;"
                    "INSERT INTO registry_model_counts (ticker, n) SELECT ticker, COUNT(*) FROM registry_models"
                    " GROUP BY ticker ON CONFLICT (ticker) DO UPDATE SET n = excluded.n"),
        "seed pg");
    Die((*pg)->Exec("ANALYZE"), "ANALYZE pg");
    const double pg_seed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t0 = std::chrono::steady_clock::now();
    Die((*sqlite)->Exec("WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < " +
                        std::to_string(rows - 1) + ") " +
                        SeedSql("g", "(abs(random()) % 1000000 / 1000000.0)").substr(0)),
        "seed sqlite");
    Die((*sqlite)->Exec("ANALYZE"), "ANALYZE sqlite");
    const double sq_seed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("seed: postgres %.1f s, sqlite %.1f s\n", pg_seed, sq_seed);
    for (const Shape& shape : Shapes()) {
      int64_t pg_total = 0, sq_total = 0;
      const auto sq = TimeQueries(*sq_reg, shape.query, iterations, &sq_total);
      const auto pq = TimeQueries(*pg_reg, shape.query, iterations, &pg_total);
      bench::Report("postgres", std::string("registry page, postgres: ") + shape.name, pq, "ms", "sqlite", sq);
      if (pg_total != sq_total) std::printf("    (totals differ: postgres %lld, sqlite %lld: random seeds)\n",
                                            static_cast<long long>(pg_total), static_cast<long long>(sq_total));
    }
  }

  // ---- 2. job claims ----
  {
    auto pg_a = PostgresJobStore::Open(**pg).value();
    PgDb::Options second = options;
    auto pg2 = PgDb::Open(url, second);
    Die(pg2.status(), "PgDb::Open (second server)");
    auto pg_b = PostgresJobStore::Open(**pg2).value();
    auto sq = SqliteJobStore::Open(**sqlite).value();
    for (int i = 0; i < jobs; ++i) {
      Die(pg_a->InsertJob(QueuedJob(i)), "insert pg");
      Die(sq->InsertJob(QueuedJob(i)), "insert sqlite");
    }
    int pg_dup = 0, sq_dup = 0;
    const double sq_rate = Claim({sq.get()}, 2 * threads, jobs, &sq_dup);
    const double pg_rate = Claim({pg_a.get(), pg_b.get()}, threads, jobs, &pg_dup);
    std::printf("job claims (ClaimNext + UpdateJob RUNNING): postgres 2 servers x %d threads %.0f/s (%d duplicates)"
                " | sqlite 1 store x %d threads %.0f/s (%d duplicates) -> ratio %.2f (postgres / sqlite)\n",
                threads, pg_rate, pg_dup, 2 * threads, sq_rate, sq_dup, pg_rate / sq_rate);
    if (const char* path = std::getenv("ALPHALAB_BENCH_JSONL"); path && *path) {
      if (FILE* f = std::fopen(path, "a")) {
        std::fprintf(f, "{\"bench\": \"postgres\", \"figure\": \"job claims/s, 2 servers\", \"unit\": \"1/s\", "
                        "\"median\": %.1f, \"reference\": \"sqlite\", \"reference_median\": %.1f, \"duplicates\": %d}\n",
                     pg_rate, sq_rate, pg_dup);
        std::fclose(f);
      }
    }
  }
  Die((*pg)->DropSchema(), "drop schema");
  fs::remove_all(dir);
  return 0;
}

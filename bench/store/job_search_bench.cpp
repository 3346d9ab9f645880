// The jobs text search (JobQuery::text, GET /api/jobs/recent?q=) over N jobs: the store's
// query (trigram index jobs_text narrows the rows, instr() decides) against the reference,
// the plain instr() scan the store ran before the index, on the same database in the same
// run. Each case is what the API does for a page: the first 50 matches newest first plus
// the COUNT. Then the write cost of keeping the index: N inserts with the index triggers
// against N inserts into a database whose triggers were dropped.
//
//   bench_job_search [--jobs 100000] [--reps 7] [--dir PATH]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_job_store.hpp"

namespace {

using BenchClock = std::chrono::steady_clock;
using namespace alphalab;

// The jobs bench_seed_jobs writes (ui/e2e/bench_tables.mjs): train jobs of 500 tickers.
JobRecord MakeJob(int k) {
  char id[64];
  std::snprintf(id, sizeof id, "job_20261101_%06d__%08x", k, static_cast<unsigned>(k) * 2654435761u);
  char ticker[8];
  std::snprintf(ticker, sizeof ticker, "T%03d", k % 500);
  const std::string set = std::string("tickers=[") + ticker + "]";
  JobRecord job;
  job.job_id = JobId(id);
  job.job_type = "train";
  job.created_at = TimePoint(std::chrono::seconds(1'780'000'000 + k));
  job.cwd = "/ws";
  job.command = {"/usr/bin/alphalab", "train", "--config", "configs/base.yaml", "--set", set};
  job.args_preview = "alphalab train --config configs/base.yaml --set " + set;
  job.params = Json{{"config_path", "configs/base.yaml"}, {"overrides", Json::array({set})}, {"dry_run", false}};
  job.log_path = "reports/jobs/runtime/" + std::string(id) + ".log";
  job.meta_path = "reports/jobs/runtime/" + std::string(id) + ".json";
  return job;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double Ms(BenchClock::time_point t0) { return std::chrono::duration<double, std::milli>(BenchClock::now() - t0).count(); }

struct Db {
  std::unique_ptr<SqliteDb> db;
  std::unique_ptr<SqliteJobStore> store;
};

Db OpenDb(const std::filesystem::path& path) {
  std::filesystem::remove(path);
  Db d;
  d.db = SqliteDb::Open(path).value();
  d.store = SqliteJobStore::Open(*d.db).value();
  return d;
}

// Inserts n jobs one after the other (one writer); returns milliseconds.
double Seed(JobStore& store, int n) {
  const auto t0 = BenchClock::now();
  for (int k = 0; k < n; ++k) {
    if (!store.InsertJob(MakeJob(k)).ok()) {
      std::fprintf(stderr, "insert %d failed\n", k);
      std::exit(1);
    }
  }
  return Ms(t0);
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 100000;
  int reps = 7;
  std::filesystem::path dir = std::filesystem::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--jobs" && i + 1 < argc) {
      jobs = std::max(100, std::atoi(argv[++i]));
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--jobs N] [--reps R] [--dir PATH]\n", argv[0]);
      return 2;
    }
  }
  const auto path = dir / ("bench_job_search_" + std::to_string(::getpid()) + ".db");
  const auto ref_path = dir / ("bench_job_search_ref_" + std::to_string(::getpid()) + ".db");

  // Write cost: the same inserts with and without the index triggers.
  Db ref = OpenDb(ref_path);
  if (!ref.db->WithWriter([](SqliteConnection& c) {
        return c.Exec("DROP TRIGGER jobs_text_insert; DROP TRIGGER jobs_text_update;");
      }).ok()) {
    std::fprintf(stderr, "cannot drop the triggers\n");
    return 1;
  }
  const double ref_insert_ms = Seed(*ref.store, jobs);
  ref = {};
  std::filesystem::remove(ref_path);
  Db d = OpenDb(path);
  const double insert_ms = Seed(*d.store, jobs);
  std::printf("inserts of %d jobs: %.0f ms with the index (%.1f us/job), %.0f ms without (%.1f us/job): x%.2f\n",
              jobs, insert_ms, 1000 * insert_ms / jobs, ref_insert_ms, 1000 * ref_insert_ms / jobs,
              insert_ms / ref_insert_ms);

  // The reference: the store's query before the index (instr() over every row).
  const std::string where =
      " WHERE (instr(lower(job_id), ?1) > 0 OR instr(lower(job_type), ?1) > 0 OR instr(lower(args_preview), ?1) > 0"
      " OR instr(lower(params), ?1) > 0)";
  const std::string page_sql = "SELECT job_id FROM jobs" + where + " ORDER BY created_at_us DESC, job_id DESC LIMIT 50";
  const std::string count_sql = "SELECT COUNT(*) FROM jobs" + where;
  std::printf("\n| q | matches | store (index) median | reference (scan) median | ratio |\n|---|---|---|---|---|\n");
  for (const std::string q : {"T123]", "t0427", "job_20261101_0999", "no such text", "configs/base", "train"}) {
    std::vector<double> fast, slow;
    int64_t total = -1, ref_total = -2;
    std::vector<std::string> ids, ref_ids;
    for (int r = 0; r < reps; ++r) {
      JobQuery query;
      query.text = q;
      query.limit = 50;
      auto t0 = BenchClock::now();
      auto page = d.store->ListJobs(query);
      auto count = d.store->CountJobs(query);
      fast.push_back(Ms(t0));
      if (!page.ok() || !count.ok()) {
        std::fprintf(stderr, "query failed\n");
        return 1;
      }
      total = *count;
      ids.clear();
      for (const auto& j : *page) ids.push_back(j.job_id.str());
      std::string needle = q;
      for (char& c : needle) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      t0 = BenchClock::now();
      ref_ids.clear();
      Status st = d.db->WithReader([&](SqliteConnection& c) -> Status {
        RETURN_IF_ERROR(c.Query(page_sql, [&](SqliteStatement& s) { ref_ids.push_back(s.ColumnText(0)); }, needle));
        ASSIGN_OR_RETURN(ref_total, c.QueryInt64(count_sql, needle));
        return Status::Ok();
      });
      slow.push_back(Ms(t0));
      if (!st.ok()) {
        std::fprintf(stderr, "reference failed: %s\n", st.ToString().c_str());
        return 1;
      }
    }
    if (ids != ref_ids || total != ref_total) {
      std::fprintf(stderr, "q=%s: the store and the reference disagree (%lld vs %lld rows)\n", q.c_str(),
                   static_cast<long long>(total), static_cast<long long>(ref_total));
      return 1;
    }
    std::printf("| `%s` | %lld | %.2f ms | %.2f ms | %.1fx faster |\n", q.c_str(), static_cast<long long>(total),
                Median(fast), Median(slow), Median(slow) / Median(fast));
  }
  d = {};
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  std::filesystem::remove(ref_path.string() + "-wal");
  std::filesystem::remove(ref_path.string() + "-shm");
  return 0;
}

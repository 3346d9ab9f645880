// The jobs text search (GET /api/jobs/recent?q=) at 100,000 rows against the scan it replaced,
// and what the search column costs a job's writes, in the same run (issue 13).
//
// Reference: the schema and SQL before the search column (the "jobs" migrations v1..v3, the
// insert and update without search_text, the needle tested with lower() on job_id, job_type,
// args_preview and params, and the page answered as the handler did: the page, a COUNT(*) and
// one COUNT(*) per state). This: SqliteJobStore as shipped and the handler's order
// (CountJobsPerState, then ListJobs when the page has rows).
//  1. Writes: a job's lifecycle (insert QUEUED, update RUNNING, update SUCCESS, each its own
//     grouped transaction, one writer) on fresh databases, reference and this in alternating
//     rounds; microseconds per lifecycle.
//  2. Search: N jobs shaped like bench_seed_jobs' (train jobs over tickers T000..T499) written
//     once into the reference schema, the file copied and opened by SqliteJobStore (the v4
//     migration fills the column; its time is printed); then per needle the page of 50 newest
//     matches plus the counts, this and the reference alternating, checked to give the same
//     ids, total and per-state counts.
//
//   bench_job_search [--jobs 100000] [--lifecycles 2000] [--rounds 4] [--reps 15] [--dir PATH]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../common/bench_report.hpp"
#include "store/job_sql.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_job_store.hpp"

namespace {

using namespace alphalab;
using namespace alphalab::job_sql;  // NOLINT: the shared job row helpers
using BenchClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}
template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(*r);
}
void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}

JobRecord MakeJob(int k, TimePoint created) {
  char id[64];
  std::snprintf(id, sizeof id, "job_20261101_%06d__%08x", k, static_cast<unsigned>(k) * 2654435761u);
  char ticker[8];
  std::snprintf(ticker, sizeof ticker, "T%03d", k % 500);
  const std::string set = std::string("tickers=[") + ticker + "]";
  JobRecord job;
  job.job_id = JobId(id);
  job.job_type = "train";
  job.created_at = created;
  job.cwd = "/home/user/workspace";
  job.command = {"/usr/bin/alphalab", "train", "--config", "configs/base.yaml", "--set", set};
  job.args_preview = "alphalab train --config configs/base.yaml --set " + set;
  job.params = Json{{"config_path", "configs/base.yaml"}, {"overrides", Json::array({set})}, {"dry_run", false}};
  job.log_path = "reports/jobs/runtime/" + std::string(id) + ".log";
  job.meta_path = "reports/jobs/runtime/" + std::string(id) + ".json";
  return job;
}

// The reference store's writes: the SQL before the search column.
const std::string kRefInsert = "INSERT INTO jobs (" + std::string(kColumns) +
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const std::string kRefUpdate =
    "UPDATE jobs SET status = ?, started_at_us = ?,"
    " ended_at_us = ?, exit_code = ?, error_message = ?, cwd = ?, command = ?,"
    " args_preview = ?, params = ?, artifacts = ?, artifacts_parse_error = ?, log_path = ?,"
    " meta_path = ?, source_job_id = ?, owner_id = ?, dry_run = ?,"
    " executor_ref = ?, timeout_sec = ?, env = ?, end_reason = ?, max_inflight = ?"
    " WHERE job_id = ? AND status = ?";

Status RefInsert(SqliteConnection& conn, const JobRecord& job) {
  const EncodedJob e = Encode(job);
  ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(kRefInsert));
  RETURN_IF_ERROR(stmt.Bind(1, e.job_id));
  RETURN_IF_ERROR(BindMutable(stmt, 2, job, e));
  return stmt.Run();
}

Status RefUpdate(SqliteConnection& conn, const JobRecord& job, JobState expected) {
  const EncodedJob e = Encode(job);
  ASSIGN_OR_RETURN(SqliteStatement stmt, conn.Prepare(kRefUpdate));
  RETURN_IF_ERROR(BindMutable(stmt, 1, job, e, /*for_update=*/true));
  RETURN_IF_ERROR(stmt.Bind(22, e.job_id));
  RETURN_IF_ERROR(stmt.Bind(23, StateText(expected)));
  return stmt.Run();
}

std::vector<std::string> RefMigrations() {
  const std::vector<std::string>& all = SqliteJobStore::Migrations();
  return {all.begin(), all.begin() + 3};  // v1..v3: before the search column
}

// Microseconds per lifecycle of `n` jobs (one writer) on a fresh database at `path`.
double Lifecycles(const std::filesystem::path& path, int n, bool reference) {
  std::filesystem::remove(path);
  auto db = Must(SqliteDb::Open(path), "open");
  std::unique_ptr<SqliteJobStore> store;
  if (reference) {
    Must(db->Migrate("jobs", RefMigrations()), "migrate");
  } else {
    store = Must(SqliteJobStore::Open(*db), "store");
  }
  const TimePoint now = std::chrono::system_clock::now();
  const auto t0 = BenchClock::now();
  for (int k = 0; k < n; ++k) {
    JobRecord job = MakeJob(k, now + std::chrono::microseconds(k));
    const auto step = [&](JobState expected) -> Status {
      if (!reference) return store->UpdateJob(job, expected);
      return db->WriteGrouped([&](SqliteConnection& c) { return RefUpdate(c, job, expected); });
    };
    Must(reference ? db->WriteGrouped([&](SqliteConnection& c) { return RefInsert(c, job); }) : store->InsertJob(job),
         "insert");
    job.status = JobState::kRunning;
    job.started_at = job.created_at + std::chrono::milliseconds(3);
    Must(step(JobState::kQueued), "update running");
    job.status = JobState::kSuccess;
    job.ended_at = *job.started_at + std::chrono::seconds(2);
    job.exit_code = 0;
    job.end_reason = EndReason::kExitCode;
    Must(step(JobState::kRunning), "update success");
  }
  const double us = std::chrono::duration<double, std::micro>(BenchClock::now() - t0).count() / n;
  store.reset();
  db.reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  return us;
}

struct Page {
  std::vector<std::string> ids;
  int64_t total = 0;
  std::map<JobState, int64_t> per_state;
};

// What the handler did before: the page, COUNT(*), then a COUNT(*) per state.
Page RefPage(SqliteDb& db, const std::string& q) {
  const std::string needle = AsciiLower(q);
  const std::string where =
      " WHERE (instr(lower(job_id), ?) > 0 OR instr(lower(job_type), ?) > 0 OR instr(lower(args_preview), ?) > 0"
      " OR instr(lower(params), ?) > 0)";
  return Must(db.WithReader([&](SqliteConnection& c) -> Result<Page> {
    Page p;
    const auto bind4 = [&](SqliteStatement& s) -> Status {
      for (int i = 1; i <= 4; ++i) RETURN_IF_ERROR(s.Bind(i, needle));
      return Status::Ok();
    };
    ASSIGN_OR_RETURN(SqliteStatement list, c.Prepare("SELECT job_id FROM jobs" + where +
                                                     " ORDER BY created_at_us DESC, job_id DESC LIMIT 50"));
    RETURN_IF_ERROR(bind4(list));
    while (Must(list.Step(), "step")) p.ids.push_back(list.ColumnText(0));
    ASSIGN_OR_RETURN(SqliteStatement count, c.Prepare("SELECT COUNT(*) FROM jobs" + where));
    RETURN_IF_ERROR(bind4(count));
    (void)Must(count.Step(), "step");
    p.total = count.ColumnInt64(0);
    for (JobState st : kAllJobStates) {
      ASSIGN_OR_RETURN(SqliteStatement one, c.Prepare("SELECT COUNT(*) FROM jobs" + where + " AND status = ?"));
      RETURN_IF_ERROR(bind4(one));
      RETURN_IF_ERROR(one.Bind(5, StateText(st)));
      (void)Must(one.Step(), "step");
      p.per_state[st] = one.ColumnInt64(0);
    }
    return p;
  }), "reference page");
}

Page StorePage(SqliteJobStore& store, const std::string& q) {
  JobQuery query;
  query.text = q;
  query.limit = 50;
  Page p;  // as the handler does: the counts first, the listing only when the page has rows
  p.per_state = Must(store.CountJobsPerState(query), "per state");
  for (const auto& [st, n] : p.per_state) p.total += n;
  if (query.offset < p.total) {
    for (const JobRecord& j : Must(store.ListJobs(query), "list")) p.ids.push_back(j.job_id.str());
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 100000, lifecycles = 2000, rounds = 4, reps = 15;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "alphalab-bench-job-search";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--jobs") jobs = std::atoi(argv[i + 1]);
    if (a == "--lifecycles") lifecycles = std::atoi(argv[i + 1]);
    if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
    if (a == "--dir") dir = argv[i + 1];
  }
  std::filesystem::create_directories(dir);

  // 1. Writes, alternating.
  std::vector<double> ref_us, this_us;
  for (int r = 0; r < rounds; ++r) {
    ref_us.push_back(Lifecycles(dir / "write.db", lifecycles, true) / 1e6);
    this_us.push_back(Lifecycles(dir / "write.db", lifecycles, false) / 1e6);
  }
  bench::Report("job_search", "job lifecycle (insert + 2 updates), search column", this_us, "us",
                "before the column", ref_us);

  // 2. Search at `jobs` rows.
  const auto ref_path = dir / "ref.db", new_path = dir / "new.db";
  for (const auto& p : {ref_path, new_path}) {
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + ext);
  }
  {
    auto db = Must(SqliteDb::Open(ref_path), "open ref");
    Must(db->Migrate("jobs", RefMigrations()), "migrate ref");
    const TimePoint base = std::chrono::system_clock::now() - std::chrono::hours(24 * 30);
    Must(db->WithWriter([&](SqliteConnection& c) -> Status {
      RETURN_IF_ERROR(c.Exec("BEGIN"));
      for (int k = 0; k < jobs; ++k) {
        JobRecord job = MakeJob(k, base + std::chrono::milliseconds(k));
        job.status = k % 97 == 0 ? JobState::kFailed : JobState::kSuccess;
        RETURN_IF_ERROR(RefInsert(c, job));
      }
      return c.Exec("COMMIT");
    }), "fill");
  }
  std::filesystem::copy_file(ref_path, new_path);
  auto ref_db = Must(SqliteDb::Open(ref_path), "reopen ref");
  auto new_db = Must(SqliteDb::Open(new_path), "open new");
  const auto m0 = BenchClock::now();
  auto store = Must(SqliteJobStore::Open(*new_db), "migrate to the search column");
  std::printf("%d jobs; the v4 migration (fill the column, rebuild jobs_recent) took %.0f ms\n", jobs,
              std::chrono::duration<double, std::milli>(BenchClock::now() - m0).count());
  for (const std::string q : {"T123]", "t0427", "no such text", "job_20261101_0999", "train"}) {
    const Page want = RefPage(*ref_db, q), got = StorePage(*store, q);
    if (want.ids != got.ids || want.total != got.total || want.per_state != got.per_state) {
      std::fprintf(stderr, "q=%s: different answers (total %lld vs %lld, %zu vs %zu ids)\n", q.c_str(),
                   static_cast<long long>(got.total), static_cast<long long>(want.total), got.ids.size(),
                   want.ids.size());
      return 1;
    }
    std::vector<double> mine, theirs;
    for (int i = 0; i < reps; ++i) {
      auto t = BenchClock::now();
      (void)StorePage(*store, q);
      mine.push_back(std::chrono::duration<double>(BenchClock::now() - t).count());
      t = BenchClock::now();
      (void)RefPage(*ref_db, q);
      theirs.push_back(std::chrono::duration<double>(BenchClock::now() - t).count());
    }
    bench::Report("job_search", "page of q=" + q + " (" + std::to_string(want.total) + " matches)", mine, "ms",
                  "scan of 4 lower()ed columns, 7 queries", theirs);
  }
  return 0;
}

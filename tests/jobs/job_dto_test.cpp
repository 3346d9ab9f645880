// The uncached detail read (JobDetailBody over a store's StoredJob) writes exactly the bytes
// of DumpJson(JobDetailJson(GetJob(...))), the path it replaces, for every kind of field value,
// through the SQLite store (its StoredJobReader: the stored text, and the row as a view of the
// statement, what the server reads) and through StoredJobOf (a decoded record, what stores
// without the reader give). The record writer (JobDetailBody of a JobRecord: the reply to a
// submit, a cached job's detail) gives the same bytes, and IndentJson over it the meta file's
// text, DumpJson(JobDetailJson(...), 2).
#include "jobs/job_detail_body.hpp"
#include "jobs/job_dto.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store/fake_job_store.hpp"
#include "store/file_job_store.hpp"
#include "store/pg_test_db.hpp"
#include "store/postgres/pg_job_store.hpp"
#include "store/sqlite/sqlite_job_store.hpp"
#include "store/temp_dir.hpp"

namespace alphalab {
namespace {

TimePoint Us(int64_t us) { return TimePoint(std::chrono::microseconds(us)); }

std::vector<JobRecord> Variety() {
  std::vector<JobRecord> out;
  JobRecord plain;
  plain.job_id = JobId("job_20261203_000001__0000000a");
  plain.job_type = "train";
  plain.created_at = Us(1764720000123456);
  plain.cwd = "/ws";
  plain.command = {"alphalab", "train", "--config", "configs/base.yaml"};
  plain.args_preview = "train configs/base.yaml";
  plain.log_path = "reports/jobs/runtime/a.log";
  plain.meta_path = "reports/jobs/runtime/a.json";
  out.push_back(plain);  // QUEUED, every optional null

  JobRecord done = plain;  // terminal: every optional set, nested JSON, numbers of each kind
  done.job_id = JobId("job_20261203_000002__0000000b");
  done.status = JobState::kFailed;
  done.started_at = Us(1764720000223456);
  done.ended_at = Us(1764720003723999);
  done.exit_code = -9;
  done.end_reason = EndReason::kSignal;
  done.error_message = "killed: \"signal\" 9\n\ttab \\ back\x01\x1f\x7f";
  done.params = Json{{"tickers", {"TSM", "AAPL"}}, {"eta", 0.1}, {"rounds", 200}, {"big", 1e300},
                     {"neg", -0.0}, {"u", 18446744073709551615ULL}, {"nested", {{"a", nullptr}, {"b", true}}}};
  done.artifacts = Json{{"run_id", "r_1"}, {"run_dir", "runs/r_1"}};
  done.artifacts_parse_error = "line 3: bad";
  done.parent_id = "job_parent";
  done.source_job_id = "job_source";
  done.owner_id = "user:ann";
  done.dry_run = true;
  done.timeout_sec = 3600;
  done.project = "alpha";
  out.push_back(done);

  JobRecord running = plain;  // RUNNING: duration_sec from `now`
  running.job_id = JobId("job_20261203_000003__0000000c");
  running.status = JobState::kRunning;
  running.started_at = Us(1764720000000001);
  out.push_back(running);

  JobRecord odd = done;  // non-ASCII and invalid UTF-8; params and artifacts not objects
  odd.job_id = JobId("job_20261203_000004__0000000d");
  odd.status = JobState::kSuccess;
  odd.exit_code = 0;
  odd.end_reason = EndReason::kExitCode;
  odd.args_preview = "train 训练 \xe2\x82\xac \xff\xfe broken";
  odd.cwd = "/ws/数据";
  odd.command = {"a\"b", "c\\d", "é", "\n"};
  odd.params = Json::array({1, 2});
  odd.artifacts = "text";
  odd.error_message = std::string("nul\0inside", 10);
  out.push_back(odd);
  return out;
}

// read_body(id, now) -> Result<std::string>: the detail body the way under test.
// `jobs`: how many of Variety() (the last holds a NUL and invalid UTF-8, which PostgreSQL text
// cannot store: its insert is refused there, with or without this read path).
template <typename ReadBody>
void ExpectSameBodies(JobStore& store, ReadBody read_body, size_t jobs = Variety().size()) {
  const TimePoint now = Us(1764720012345678);
  const std::vector<JobRecord> all = Variety();
  for (const JobRecord& job : std::vector<JobRecord>(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(jobs))) {
    ASSERT_TRUE(store.InsertJob(job).ok()) << job.job_id.str();
    Result<JobRecord> rec = store.GetJob(job.job_id);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    Result<std::string> body = read_body(job.job_id, now);
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    EXPECT_EQ(*body, DumpJson(JobDetailJson(*rec, now))) << job.job_id.str();
  }
  EXPECT_TRUE(read_body(JobId("job_missing"), now).status().IsNotFound());
}

// The body from a StoredJob read by `read_stored`.
template <typename ReadStored>
auto FromStored(ReadStored read_stored) {
  return [read_stored](const JobId& id, TimePoint now) -> Result<std::string> {
    ASSIGN_OR_RETURN(StoredJob stored, read_stored(id));
    return JobDetailBody(stored, now);
  };
}

using SqliteJobs = testing::FileJobStore;  // a SQLite job store on a file

// The log line as the server built it before JobEventJson: a Json tree, dumped.
std::string EventLineOfTheJsonTree(const JobRecord& job) {
  nlohmann::ordered_json e = {{"msg", "job"}, {"job_id", job.job_id.str()}, {"job_type", job.job_type},
                              {"status", JobStateName(job.status)}};
  if (job.dry_run) e["dry_run"] = true;
  if (job.status == JobState::kRunning && job.started_at) {
    e["queue_wait_sec"] = SecondsBetween(job.created_at, *job.started_at);
  }
  if (IsTerminal(job.status)) {
    if (job.end_reason) e["end_reason"] = EndReasonName(*job.end_reason);
    if (job.exit_code) e["exit_code"] = *job.exit_code;
    if (job.started_at && job.ended_at) e["duration_sec"] = SecondsBetween(*job.started_at, *job.ended_at);
    if (job.error_message) e["error"] = job.error_message->substr(0, job.error_message->find('\n')).substr(0, 300);
    if (job.artifacts_parse_error) e["artifacts_parse_error"] = *job.artifacts_parse_error;
  }
  return e.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

TEST(JobEventJsonTest, GivesTheBytesOfTheJsonTree) {
  std::vector<JobRecord> jobs = Variety();
  JobRecord queued_dry = jobs[0];
  queued_dry.dry_run = true;
  jobs.push_back(queued_dry);
  JobRecord long_error = jobs[1];  // first line longer than 300 bytes, ends without exit code
  long_error.status = JobState::kCanceled;
  long_error.error_message = std::string(400, 'x') + "\nsecond line";
  long_error.exit_code.reset();
  long_error.end_reason = EndReason::kCanceled;
  long_error.started_at.reset();
  long_error.artifacts_parse_error.reset();
  jobs.push_back(long_error);
  JobRecord fast = jobs[2];  // RUNNING, queue wait under a microsecond and above a day
  fast.started_at = fast.created_at + std::chrono::nanoseconds(250);
  jobs.push_back(fast);
  fast.started_at = fast.created_at + std::chrono::hours(30) + std::chrono::microseconds(7);
  jobs.push_back(fast);
  for (JobState s : kAllJobStates) {  // every state, with every field set
    JobRecord any = jobs[1];
    any.status = s;
    jobs.push_back(any);
  }
  for (const JobRecord& job : jobs) {
    EXPECT_EQ(JobEventJson(job), EventLineOfTheJsonTree(job)) << job.job_id.str();
  }
  EXPECT_EQ(JobEventJson(jobs[2]).rfind(R"({"msg":"job","job_id":"job_20261203_000003__0000000c","job_type":"train",)"
                                        R"("status":"RUNNING","queue_wait_sec":)", 0),
            0u);
}

TEST(JobDetailBodyTest, SqliteStoredTextGivesTheBytesOfTheJsonTree) {
  SqliteJobs t;
  ASSERT_NE(t.store, nullptr);
  SqliteJobStore& sqlite = *t.store;
  ExpectSameBodies(sqlite, FromStored([&](const JobId& id) { return sqlite.GetStoredJob(id); }));
}

// The body from the row as a view of the statement (ReadStoredJob), written before the read ends.
auto FromView(StoredJobReader& reader) {
  return [&reader](const JobId& id, TimePoint now) -> Result<std::string> {
    std::string body;
    RETURN_IF_ERROR(reader.ReadStoredJob(id, [&](const StoredJobView& row) { body = JobDetailBody(row, now); }));
    return body;
  };
}

// What GET /api/jobs/{id} uses: the row as a view of the statement, written before the read ends.
TEST(JobDetailBodyTest, SqliteRowViewGivesTheBytesOfTheJsonTree) {
  SqliteJobs t;
  ASSERT_NE(t.store, nullptr);
  ExpectSameBodies(*t.store, FromView(*t.store));
}

// The same through the PostgreSQL store (ALPHALAB_TEST_PG_URL): the view and the stored text.
TEST(JobDetailBodyTest, PostgresRowViewAndStoredTextGiveTheBytesOfTheJsonTree) {
  ALPHALAB_REQUIRE_PG();
  for (const bool view : {true, false}) {
    testing::PgTestDb db;
    ASSERT_TRUE(db.ok());
    auto store = PostgresJobStore::Open(db.db());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    PostgresJobStore& pg = **store;
    const size_t storable = Variety().size() - 1;
    if (view) {
      ExpectSameBodies(pg, FromView(pg), storable);
    } else {
      ExpectSameBodies(pg, FromStored([&](const JobId& id) { return pg.GetStoredJob(id); }), storable);
    }
  }
}

TEST(JobDetailBodyTest, DecodedRecordGivesTheBytesOfTheJsonTree) {
  FakeJobStore store;
  ExpectSameBodies(store, FromStored([&](const JobId& id) -> Result<StoredJob> {
    ASSIGN_OR_RETURN(JobRecord rec, store.GetJob(id));
    return StoredJobOf(std::move(rec));
  }));
}

// The strings are scanned 8 bytes at a time for a byte that needs escaping: every such byte at
// every position of a string longer than two words (before, on and after each word boundary)
// gives the bytes of the JSON tree.
TEST(JobDetailBodyTest, EscapesAtEveryPositionGiveTheBytesOfTheJsonTree) {
  const TimePoint now = Us(1764720012345678);
  JobRecord job = Variety()[1];
  for (const std::string special : {"\"", "\\", "\n", "\x01", "\x1f", "\xc3\xa9", "\xff"}) {
    for (size_t pos = 0; pos <= 20; ++pos) {
      for (size_t len : {pos, pos + 1, pos + 7, size_t{20}}) {
        if (len < pos) continue;
        std::string text(len, 'a');
        text.insert(pos, special);
        job.args_preview = text;
        job.cwd = text + text;
        job.error_message = text.substr(pos);
        EXPECT_EQ(JobDetailBody(StoredJobOf(job), now), DumpJson(JobDetailJson(job, now)))
            << "special byte " << static_cast<int>(static_cast<unsigned char>(special[0])) << " at " << pos
            << " of " << text.size();
        job.command = {text, "x", text.substr(pos)};
        EXPECT_EQ(JobDetailBody(job, now), DumpJson(JobDetailJson(job, now)))
            << "special byte " << static_cast<int>(static_cast<unsigned char>(special[0])) << " at " << pos
            << " of " << text.size();
        EXPECT_EQ(IndentJson(JobDetailBody(job, now)), DumpJson(JobDetailJson(job, now), 2));
      }
    }
  }
}

// The POST reply, the cached detail and the meta file are written from the record: the bytes of
// the Json tree they replace (compact; the meta file indented as DumpJson(j, 2) writes it).
std::vector<JobRecord> MoreVariety() {
  std::vector<JobRecord> out = Variety();
  JobRecord bare = out[0];  // no command, empty params and artifacts
  bare.command.clear();
  bare.params = Json::object();
  bare.artifacts = Json::object();
  out.push_back(bare);
  JobRecord nulls = out[1];  // params and artifacts null; strings full of JSON punctuation
  nulls.params = nullptr;
  nulls.artifacts = nullptr;
  nulls.args_preview = "{\"a\": [1, {}], \"b\\\": \"c\"}";
  nulls.cwd = "[],:{}\\";
  nulls.command = {"{", "}", "[", "]", ",", ":", "\"", "\\\"", ""};
  out.push_back(nulls);
  JobRecord nested = out[1];  // empty and nested containers inside params and artifacts
  nested.params = Json{{"e", Json::object()},
                       {"l", Json::array()},
                       {"ll", Json::array({Json::array(), Json::object()})},
                       {"s", "x: {y, [z]}"},
                       {"k:{", "v\"}"}};
  nested.artifacts = Json{{"deep", {{"a", {{"b", Json::array({1, 2.5, "c", nullptr, false})}}}}}};
  out.push_back(nested);
  return out;
}

TEST(JobDetailBodyTest, RecordGivesTheBytesOfTheJsonTree) {
  for (const TimePoint now : {Us(1764720012345678), Us(1764720000000001)}) {
    for (const JobRecord& job : MoreVariety()) {
      EXPECT_EQ(JobDetailBody(job, now), DumpJson(JobDetailJson(job, now))) << job.job_id.str();
    }
  }
}

TEST(JobDetailBodyTest, IndentedRecordGivesTheMetaFileOfTheJsonTree) {
  const TimePoint now = Us(1764720012345678);
  for (const JobRecord& job : MoreVariety()) {
    EXPECT_EQ(IndentJson(JobDetailBody(job, now)), DumpJson(JobDetailJson(job, now), 2)) << job.job_id.str();
  }
}

TEST(JobDetailBodyTest, IndentJsonWritesWhatDumpJsonIndents) {
  const std::vector<Json> values = {
      Json::object(),
      Json::array(),
      nullptr,
      "a \"quoted\" {string}, with: [punctuation] \\",
      Json::array({Json::object(), Json::array(), Json::array({Json::array({1})}), "", "\\", "\\\""}),
      Json{{"", Json::object()}, {"a", Json{{"b", Json::array({1, -2.5e-7, true, nullptr})}}}, {"c\"", "}"}},
      Json::parse(R"({"x":[[],[{}],{"y":{"z":[1,2,{"w":"\u0001\n"}]}}],"q":"\\\"","r":1e300})"),
  };
  for (const Json& v : values) EXPECT_EQ(IndentJson(DumpJson(v)), DumpJson(v, 2)) << DumpJson(v);
}

}  // namespace
}  // namespace alphalab

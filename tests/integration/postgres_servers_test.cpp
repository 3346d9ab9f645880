// Several `alphalab serve` processes on one PostgreSQL database and one workspace (issue 18):
//   - two servers claim 1,000 queued jobs between them: every job runs exactly once (one
//     RUNNING event per job in the servers' logs) and ends SUCCESS, and both took a share;
//   - `kill -9` of a server with running and queued jobs: the other adopts them once the dead
//     server's lease expires (re-attached or ended `lost`, queued ones run) and records it;
//   - a cancel posted to the server that does not run the job is carried out by the one that does.
// Real processes, real HTTP on loopback, a fresh database per test (CREATE DATABASE on the
// server of ALPHALAB_TEST_PG_URL). Skips without the variable, fails without it in CI.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/ids.hpp"
#include "integration/pg_test_database.hpp"
#include "integration/server_harness.hpp"
#include "store/postgres/pg_job_store.hpp"

namespace alphalab::testing {
namespace {

class PostgresServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ALPHALAB_REQUIRE_PG();
    db_ = std::make_unique<PgTestDatabase>();
    auto pg = PgDb::Open(db_->url());
    ASSERT_TRUE(pg.ok()) << pg.status().ToString();
    pg_ = std::move(pg).value();
    auto store = PostgresJobStore::Open(*pg_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    for (auto& s : servers_) s->Stop();
    servers_.clear();
    store_.reset();
    pg_.reset();
    db_.reset();
  }

  ServerProcess& StartServer() {
    servers_.push_back(std::make_unique<ServerProcess>(ws_.root(), std::vector<std::string>{"--db", db_->url()}));
    EXPECT_TRUE(servers_.back()->Start());
    return *servers_.back();
  }

  JobRecord Stored(const std::string& id) {
    auto r = store_->GetJob(JobId(id));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : JobRecord{};
  }

  // The QUEUED, unclaimed row a submit would make for the fixture job (as a server left it).
  JobRecord QueuedFixtureJob(int i) {
    JobRecord j;
    j.job_id = NewJobId(std::chrono::system_clock::now());
    const std::string id = j.job_id.str();
    j.job_type = "fixture";
    j.created_at = std::chrono::system_clock::now() + std::chrono::microseconds(i);
    j.cwd = ws_.root().string();
    j.command = {(BinDir() / "alphalab-fixture-job").string(), "--run-id", id};
    j.args_preview = "fixture --run-id " + id;
    j.params = Json{{"run_id", id}};
    j.log_path = "reports/jobs/runtime/" + id + ".log";
    j.meta_path = "reports/jobs/runtime/" + id + ".json";
    return j;
  }

  // job_id -> how many RUNNING events the servers logged (they share server.stderr.log).
  std::map<std::string, int> RunningEvents() {
    std::map<std::string, int> out;
    std::ifstream log(ws_.root() / "server.stderr.log");
    std::string line;
    while (std::getline(log, line)) {
      if (line.find("\"msg\":\"job\"") == std::string::npos || line.find("\"status\":\"RUNNING\"") == std::string::npos) {
        continue;
      }
      Json j = Json::parse(line, nullptr, false);  // {"ts", "level", "event": {"msg": "job", "job_id", ...}}
      if (j.is_object() && j.contains("event") && j["event"].is_object()) ++out[j["event"].value("job_id", "")];
    }
    return out;
  }

  std::string ServerLog() {
    std::ifstream log(ws_.root() / "server.stderr.log");
    std::stringstream ss;
    ss << log.rdbuf();
    return ss.str();
  }

  TempWorkspace ws_;
  std::unique_ptr<PgTestDatabase> db_;
  std::unique_ptr<PgDb> pg_;
  std::unique_ptr<PostgresJobStore> store_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

TEST_F(PostgresServersTest, TwoServersClaimAThousandJobsWithNoDuplicateAndNoLoss) {
  constexpr int kJobs = 1000;
  std::set<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    JobRecord j = QueuedFixtureJob(i);
    ids.insert(j.job_id.str());
    ASSERT_TRUE(store_->InsertJob(j).ok());
  }
  StartServer();
  StartServer();
  const auto deadline = std::chrono::steady_clock::now() + 300s;
  std::map<JobState, int64_t> counts;
  while (std::chrono::steady_clock::now() < deadline) {
    counts = store_->CountJobsByState().value();
    if (counts[JobState::kSuccess] + counts[JobState::kFailed] + counts[JobState::kCanceled] == kJobs) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(counts[JobState::kSuccess], kJobs) << "failed " << counts[JobState::kFailed] << ", queued "
                                               << counts[JobState::kQueued] << ", running " << counts[JobState::kRunning];
  std::map<std::string, int> per_server;
  JobQuery all;
  all.limit = kJobs + 10;
  auto listed = store_->ListJobs(all);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  for (const JobRecord& j : *listed) ++per_server[j.claimed_by.value_or("(none)")];
  EXPECT_EQ(per_server.size(), 2u) << "both servers should have claimed jobs";
  for (const auto& [claimer, n] : per_server) EXPECT_GT(n, 0) << claimer;
  for (auto& server : servers_) server->Stop();  // their logs flushed
  const std::map<std::string, int> running = RunningEvents();
  EXPECT_EQ(running.size(), static_cast<size_t>(kJobs));
  int duplicates = 0;
  for (const auto& [id, n] : running) {
    EXPECT_TRUE(ids.count(id)) << id;
    if (n != 1) ++duplicates;
  }
  EXPECT_EQ(duplicates, 0) << "jobs started more than once";
}

TEST_F(PostgresServersTest, AKilledServersJobsAreRecoveredByTheOther) {
  ServerProcess& a = StartServer();
  ServerProcess& b = StartServer();
  std::vector<std::string> jobs;
  for (int i = 0; i < 5; ++i) {
    auto r = a.Post("/api/jobs", Json{{"job_type", "fixture"}, {"params", {{"run_id", "r" + std::to_string(i)}, {"sleep", 3}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    jobs.push_back(Json::parse(r.body)["job_id"].get<std::string>());
  }
  // Wait until A runs at least one of them, then kill it without a word.
  const auto running_by = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < running_by && Stored(jobs[0]).status != JobState::kRunning) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(Stored(jobs[0]).status, JobState::kRunning);
  const std::string dead = Stored(jobs[0]).claimed_by.value_or("");
  ASSERT_FALSE(dead.empty());
  a.Kill9();
  // B adopts them once A's lease (10 s) has expired: every job ends, none is left to A.
  for (const std::string& id : jobs) {
    Json end = b.WaitTerminal(id, 60s);
    const std::string status = end.value("status", "");
    EXPECT_TRUE(status == "SUCCESS" || (status == "FAILED" && end.value("end_reason", "") == "lost")) << end.dump();
    const JobRecord stored = Stored(id);
    EXPECT_NE(stored.claimed_by.value_or(""), dead) << id << " still belongs to the dead server";
  }
  EXPECT_NE(ServerLog().find("adopted the jobs of a dead server"), std::string::npos);
}

TEST_F(PostgresServersTest, ACancelPostedToTheOtherServerIsCarriedOutByTheOwner) {
  ServerProcess& a = StartServer();
  ServerProcess& b = StartServer();
  auto r = a.Post("/api/jobs", Json{{"job_type", "fixture"}, {"params", {{"run_id", "long"}, {"sleep", 60}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = Json::parse(r.body)["job_id"].get<std::string>();
  const auto running_by = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < running_by && Stored(id).status != JobState::kRunning) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(Stored(id).status, JobState::kRunning);
  const auto posted = std::chrono::steady_clock::now();
  auto canceled = b.Post("/api/jobs/" + id + "/cancel", Json::object());
  EXPECT_EQ(canceled.status, 200) << canceled.body;
  Json end = b.WaitTerminal(id, 15s);
  EXPECT_EQ(end.value("status", ""), "CANCELED") << end.dump();
  EXPECT_EQ(end.value("end_reason", ""), "canceled") << end.dump();
  EXPECT_LT(std::chrono::steady_clock::now() - posted, 10s);
  EXPECT_EQ(a.GetJson("/api/jobs/" + id).value("status", ""), "CANCELED");
}

}  // namespace
}  // namespace alphalab::testing

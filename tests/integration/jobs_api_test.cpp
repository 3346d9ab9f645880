// The Jobs API over real HTTP against a real `alphalab serve` on a temporary workspace.
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "integration/server_harness.hpp"

namespace alphalab::testing {
namespace {

class JobsApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ui_dir_ = new fs::path(fs::temp_directory_path() / ("alphalab_ui_" + std::to_string(::getpid())));
    fs::create_directories(*ui_dir_ / "assets");
    std::ofstream(*ui_dir_ / "index.html") << "<!doctype html><title>alphalab</title>";
    std::ofstream(*ui_dir_ / "assets" / "app.js") << "console.log(1)";
    ws_ = new TempWorkspace();
    server_ = new ServerProcess(ws_->root(), {"--slots", "4", "--ui-dir", ui_dir_->string()});
    ASSERT_TRUE(server_->Start());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete ws_;
    fs::remove_all(*ui_dir_);
    delete ui_dir_;
  }
  ServerProcess& s() { return *server_; }
  fs::path ws() { return ws_->root(); }

  // POST that must succeed; returns the job.
  Json Submit(const std::string& path, const Json& body) {
    auto r = s().Post(path, body);
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = r.JsonBody();
    return j.ok() ? *j : Json();
  }
  // POST that must fail with `status`; returns the error envelope's "error".
  Json Refused(const std::string& path, const Json& body, int status) {
    auto r = s().Post(path, body);
    EXPECT_EQ(r.status, status) << path << " " << body.dump() << " -> " << r.body;
    auto j = r.JsonBody();
    if (!j.ok() || !j->contains("error")) {
      ADD_FAILURE() << "no error envelope: " << r.body;
      return Json();
    }
    EXPECT_TRUE((*j)["error"].contains("code"));
    EXPECT_TRUE((*j)["error"].contains("message"));
    EXPECT_TRUE((*j)["error"].contains("details"));
    return (*j)["error"];
  }

  static TempWorkspace* ws_;
  static ServerProcess* server_;
  static fs::path* ui_dir_;
};
TempWorkspace* JobsApiTest::ws_ = nullptr;
ServerProcess* JobsApiTest::server_ = nullptr;
fs::path* JobsApiTest::ui_dir_ = nullptr;

TEST_F(JobsApiTest, DryRunTrainWritesMetaAndLog) {
  Json job = Submit("/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"overrides", {"model.params.eta=0.2"}},
                                        {"dry_run", true}});
  ASSERT_EQ(job["status"], "SUCCESS");
  EXPECT_EQ(job["end_reason"], "exit_code");
  EXPECT_EQ(job["exit_code"], 0) << "a dry run ends like a successful exit";
  const std::string id = job["job_id"];
  EXPECT_TRUE(std::regex_match(id, std::regex(R"(job_\d{8}_\d{6}__[0-9a-f]{8})"))) << id;
  EXPECT_EQ(job["command"][1], "train");
  EXPECT_EQ(job["command"][2], "--config");
  EXPECT_EQ(job["command"][3], "configs/base.yaml");
  EXPECT_EQ(job["command"][4], "--set");
  EXPECT_EQ(job["command"][5], "model.params.eta=0.2");
  EXPECT_EQ(job["cwd"], ".");  // the workspace, relative: no server path in the API
  EXPECT_EQ(job["runtime"]["log_path"], "reports/jobs/runtime/" + id + ".log");
  EXPECT_EQ(job["runtime"]["meta_path"], "reports/jobs/runtime/" + id + ".json");
  auto meta = ReadFile(ws() / "reports/jobs/runtime" / (id + ".json"));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(Json::parse(*meta)["status"], "SUCCESS");
  auto log = ReadFile(ws() / "reports/jobs/runtime" / (id + ".log"));
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("alphalab train --config configs/base.yaml --set model.params.eta=0.2"), std::string::npos) << *log;
  Json detail = s().GetJson("/api/jobs/" + id);
  EXPECT_EQ(detail["status"], "SUCCESS");
  EXPECT_TRUE(detail["duration_sec"].is_number());
}

TEST_F(JobsApiTest, SeedCurlFlows) {
  // docs/api.md: dry-run backtest for TSM, log by offset, recent with limit.
  Json bt = Submit("/api/jobs/backtest", {{"config_path", "configs/backtest/base.yaml"}, {"tickers", {"TSM"}},
                                          {"dry_run", true}});
  ASSERT_EQ(bt["status"], "SUCCESS");
  const std::string id = bt["job_id"];
  const std::vector<std::string> cmd = bt["command"];
  ASSERT_GE(cmd.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(cmd.begin() + 1, cmd.end()),
            (std::vector<std::string>{"backtest", "--config", "configs/backtest/base.yaml", "--tickers", "TSM"}));
  Json log = s().GetJson("/api/jobs/" + id + "/log?offset=0&tail=20000");
  const int64_t size = static_cast<int64_t>(fs::file_size(ws() / "reports/jobs/runtime" / (id + ".log")));
  EXPECT_EQ(log["job_id"], id);
  EXPECT_EQ(log["next_offset"], size);
  EXPECT_EQ(log["is_truncated"], false);
  EXPECT_EQ(log["log_path"], "reports/jobs/runtime/" + id + ".log");
  EXPECT_NE(log["content"].get<std::string>().find("--tickers TSM"), std::string::npos);
  Json tail = s().GetJson("/api/jobs/" + id + "/log?offset=0&tail=10");
  EXPECT_EQ(tail["is_truncated"], true);
  EXPECT_EQ(tail["content"].get<std::string>().size(), 10u);
  EXPECT_EQ(tail["next_offset"], size);
  Json again = s().GetJson("/api/jobs/" + id + "/log?offset=" + std::to_string(size));
  EXPECT_EQ(again["content"], "");
  EXPECT_EQ(again["next_offset"], size);
  Json ahead = s().GetJson("/api/jobs/" + id + "/log?offset=" + std::to_string(size + 1000));
  EXPECT_EQ(ahead["content"], "");
  EXPECT_EQ(ahead["next_offset"], size);

  Submit("/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"dry_run", true}});
  Json recent = s().GetJson("/api/jobs/recent?limit=1");
  ASSERT_EQ(recent["items"].size(), 1u);
  EXPECT_EQ(recent["limit"], 1);
  EXPECT_GE(recent["total"].get<int>(), 2);
  EXPECT_EQ(recent["items"][0]["job_type"], "train");  // newest first
  Json only_bt = s().GetJson("/api/jobs/recent?job_type=backtest&status=SUCCESS&limit=100");
  ASSERT_GE(only_bt["items"].size(), 1u);
  for (const Json& j : only_bt["items"]) {
    EXPECT_EQ(j["job_type"], "backtest");
    EXPECT_EQ(j["status"], "SUCCESS");
  }
  EXPECT_EQ(s().GetJson("/api/jobs/recent?status=RUNNING&job_type=backtest")["items"].size(), 0u);
}

TEST_F(JobsApiTest, FixtureJobSucceedsWithArtifacts) {
  Json job = Submit("/api/jobs", {{"job_type", "fixture"},
                                  {"params", {{"lines", 3}, {"run_id", "run_fixture_1"}, {"print", "日本語 ok"}}}});
  const std::string id = job["job_id"];
  Json done = s().WaitTerminal(id);
  EXPECT_EQ(done["status"], "SUCCESS") << done.dump();
  EXPECT_EQ(done["exit_code"], 0);
  EXPECT_EQ(done["end_reason"], "exit_code");
  EXPECT_EQ(done["artifacts"]["run_id"], "run_fixture_1");
  EXPECT_EQ(done["artifacts"]["run_dir"], "runs/run_fixture_1");
  EXPECT_TRUE(done["artifacts_parse_error"].is_null());
  EXPECT_TRUE(done["error_message"].is_null());
  EXPECT_GE(done["duration_sec"].get<double>(), 0.0);
  Json log = s().GetJson("/api/jobs/" + id + "/log");
  EXPECT_EQ(log["content"], "line 0\nline 1\nline 2\n日本語 ok\nrun_id: run_fixture_1\nrun_dir: runs/run_fixture_1\n");
  auto meta = ReadFile(ws() / "reports/jobs/runtime" / (id + ".json"));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(Json::parse(*meta)["status"], "SUCCESS");
  EXPECT_EQ(Json::parse(*meta)["artifacts"]["run_id"], "run_fixture_1");
}

TEST_F(JobsApiTest, FailedJobShowsExitCodeAndErrorMessage) {
  Json job = Submit("/api/jobs", {{"job_type", "fixture"},
                                  {"params", {{"lines", 2}, {"stderr", "ValueError: horizon must be > 0"}, {"exit_code", 3}}}});
  Json done = s().WaitTerminal(job["job_id"]);
  EXPECT_EQ(done["status"], "FAILED");
  EXPECT_EQ(done["exit_code"], 3);
  EXPECT_EQ(done["end_reason"], "exit_code");
  ASSERT_TRUE(done["error_message"].is_string());
  EXPECT_NE(done["error_message"].get<std::string>().find("ValueError: horizon must be > 0"), std::string::npos);
  ASSERT_TRUE(done["artifacts_parse_error"].is_string());
}

TEST_F(JobsApiTest, MissingArtifactIsReported) {
  Json job = Submit("/api/jobs", {{"job_type", "fixture"}, {"params", {{"lines", 1}}}});
  Json done = s().WaitTerminal(job["job_id"]);
  EXPECT_EQ(done["status"], "SUCCESS");
  ASSERT_TRUE(done["artifacts_parse_error"].is_string()) << done.dump();
  EXPECT_NE(done["artifacts_parse_error"].get<std::string>().find("run_id"), std::string::npos);
}

TEST_F(JobsApiTest, EvalMetricsDryRunCommand) {
  Json job = Submit("/api/jobs/eval-metrics", {{"run_id", "run_demo"}, {"mode", "base"}, {"dry_run", true}});
  EXPECT_EQ(job["status"], "SUCCESS");
  const std::vector<std::string> cmd = job["command"];
  EXPECT_EQ(std::vector<std::string>(cmd.begin() + 1, cmd.end()),
            (std::vector<std::string>{"eval-metrics", "--run-dir", "runs/run_demo", "--mode", "base"}));
}

TEST_F(JobsApiTest, BadRequestsAreRefusedBeforeAnythingStarts) {
  const int before = s().GetJson("/api/jobs/recent?limit=1000")["total"];
  Json e = Refused("/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"overrides", {"no_equals"}}}, 400);
  EXPECT_EQ(e["code"], "INVALID_ARGUMENT");
  EXPECT_NE(e["message"].get<std::string>().find("no_equals"), std::string::npos);
  Refused("/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"overrides", {"a.b=1\nc=2"}}}, 400);
  Refused("/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"overrides", {"$(rm)=1"}}}, 400);
  Refused("/api/jobs/train", {{"config_path", "../../etc/passwd"}}, 400);
  Refused("/api/jobs/train", {{"config_path", "/etc/passwd"}}, 400);
  Refused("/api/jobs/train", {{"config_path", "configs/%2e%2e/%2e%2e/x"}}, 400);
  Json missing = Refused("/api/jobs/train", {{"config_path", "configs/missing.yaml"}}, 404);
  EXPECT_NE(missing["message"].get<std::string>().find("configs/missing.yaml"), std::string::npos);
  Refused("/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"command", "rm -rf /"}}, 400);
  Refused("/api/jobs/train", Json::object(), 400);
  Refused("/api/jobs", {{"job_type", "bash"}, {"params", Json::object()}}, 400);
  Refused("/api/jobs", {{"job_type", "fixture"}, {"params", {{"lines", -1}}}}, 400);
  Refused("/api/jobs", {{"job_type", "fixture"}, {"params", {{"lines", "many"}}}}, 400);
  Refused("/api/jobs", {{"job_type", "fixture"}, {"argv", {"sh"}}}, 400);
  Refused("/api/jobs/backtest", {{"config_path", "configs/backtest/base.yaml"}, {"start", "2020-13-01"}}, 400);
  Refused("/api/jobs/backtest", {{"config_path", "configs/backtest/base.yaml"}, {"tickers", {"A B"}}}, 400);
  Refused("/api/jobs/eval-metrics", {{"run_id", "../runs"}}, 400);
  Refused("/api/jobs/eval-metrics", {{"run_id", "no_such_run"}}, 404);
  Refused("/api/jobs/eval-metrics", {{"run_id", "run_demo"}, {"mode", "other"}}, 400);
  auto bad_json = s().PostRaw("/api/jobs/train", "{\"config_path\": ");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(bad_json.body.find("not valid JSON"), std::string::npos);
  auto array_body = s().PostRaw("/api/jobs/train", "[1,2]");
  EXPECT_EQ(array_body.status, 400);
  EXPECT_EQ(s().GetJson("/api/jobs/recent?limit=1000")["total"], before);  // nothing was created
}

TEST_F(JobsApiTest, RecentSearchesTextAndDateRangeWithStatusCounts) {
  Json job = Submit("/api/jobs/train", {{"config_path", "configs/base.yaml"},
                                        {"overrides", {"label.threshold=0.04217"}}, {"dry_run", true}});
  const std::string id = job["job_id"];
  const std::string day = job["created_at"].get<std::string>().substr(0, 10);
  Json found = s().GetJson("/api/jobs/recent?q=0.04217");
  ASSERT_EQ(found["items"].size(), 1u) << found.dump();
  EXPECT_EQ(found["items"][0]["job_id"], id);
  EXPECT_EQ(found["total"], 1);
  EXPECT_EQ(found["status_counts"],
            (Json{{"QUEUED", 0}, {"RUNNING", 0}, {"SUCCESS", 1}, {"FAILED", 0}, {"CANCELED", 0}}));
  // The status filter narrows items and total, not the per-status counts.
  Json failed = s().GetJson("/api/jobs/recent?q=0.04217&status=FAILED");
  EXPECT_EQ(failed["total"], 0);
  EXPECT_EQ(failed["status_counts"]["SUCCESS"], 1);
  // Case-insensitive over the job id too.
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(s().GetJson("/api/jobs/recent?q=" + upper)["items"][0]["job_id"], id);
  // Date range: the job's own UTC day holds it (to = through the day's end); other days do not.
  EXPECT_EQ(s().GetJson("/api/jobs/recent?q=0.04217&from=" + day + "&to=" + day)["total"], 1);
  EXPECT_EQ(s().GetJson("/api/jobs/recent?q=0.04217&from=2999-01-01")["total"], 0);
  EXPECT_EQ(s().GetJson("/api/jobs/recent?q=0.04217&to=2000-01-01")["total"], 0);
  EXPECT_EQ(s().GetJson("/api/jobs/recent?q=0.04217&from=2000-01-01T00:00:00Z")["total"], 1);
  // Every job of all time is in the unfiltered counts.
  Json all = s().GetJson("/api/jobs/recent?limit=0");
  int64_t sum = 0;
  for (const auto& [k, v] : all["status_counts"].items()) sum += v.get<int64_t>();
  EXPECT_EQ(sum, all["total"].get<int64_t>());
  // Refused, naming the parameter.
  for (const char* bad : {"from=2026-13-01", "to=yesterday", "from=2026-01-01T00:00:00+05:00"}) {
    auto r = s().Get(std::string("/api/jobs/recent?") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find(std::string(bad).substr(0, std::string(bad).find('='))), std::string::npos) << r.body;
  }
  auto long_q = s().Get("/api/jobs/recent?q=" + std::string(201, 'a'));
  EXPECT_EQ(long_q.status, 400);
  EXPECT_NE(long_q.body.find("\"parameter\":\"q\""), std::string::npos) << long_q.body;
}

// The list convention on GET /api/jobs/recent: a comma list is IN on status / job_type /
// owner_id / project; sort=<field>_<asc|desc> over the numeric fields (NULL last, ties newest
// first); min_/max_ bounds; an unknown sort field or a bad bound is a 400 naming it.
TEST_F(JobsApiTest, RecentTakesInListsSortAndBounds) {
  const std::string tag = "gaps-sort-" + std::to_string(::getpid());
  auto run = [&](int exit_code, double sleep) {
    Json job = Submit("/api/jobs", {{"job_type", "fixture"},
                                    {"project", exit_code == 0 ? "p-a" : "p-b"},
                                    {"params", {{"lines", 1}, {"print", tag}, {"exit_code", exit_code}, {"sleep", sleep}}}});
    return s().WaitTerminal(job["job_id"]);
  };
  const Json a = run(0, 0), b = run(2, 0), c = run(3, 0.4);
  ASSERT_EQ(a["status"], "SUCCESS");
  ASSERT_EQ(c["status"], "FAILED");
  const std::string base = "/api/jobs/recent?q=" + tag;
  auto ids = [&](const std::string& query) {
    std::vector<std::string> out;
    const Json page = s().GetJson(base + query);
    for (const Json& j : page["items"]) out.push_back(j["job_id"]);
    return out;
  };
  const std::string A = a["job_id"], B = b["job_id"], C = c["job_id"];
  EXPECT_EQ(ids(""), (std::vector<std::string>{C, B, A}));  // newest first
  EXPECT_EQ(ids("&status=FAILED,CANCELED"), (std::vector<std::string>{C, B}));
  EXPECT_EQ(s().GetJson(base + "&status=failed,SUCCESS")["total"], 3);
  EXPECT_EQ(ids("&job_type=train,fixture"), (std::vector<std::string>{C, B, A}));
  EXPECT_TRUE(ids("&job_type=train,backtest").empty());
  EXPECT_EQ(ids("&project=p-a,p-x"), (std::vector<std::string>{A}));
  EXPECT_EQ(s().GetJson(base + "&project=p-b,p-a")["total"], 3);
  EXPECT_TRUE(ids("&owner_id=alice,bob").empty());  // no owner (auth none)
  // Sort and bounds.
  EXPECT_EQ(ids("&sort=exit_code_desc"), (std::vector<std::string>{C, B, A}));
  EXPECT_EQ(ids("&sort=exit_code_asc"), (std::vector<std::string>{A, B, C}));
  EXPECT_EQ(ids("&sort=created_at_asc"), (std::vector<std::string>{A, B, C}));
  EXPECT_EQ(ids("&min_exit_code=1&sort=exit_code_asc"), (std::vector<std::string>{B, C}));
  EXPECT_EQ(ids("&min_exit_code=2&max_exit_code=2"), (std::vector<std::string>{B}));
  EXPECT_EQ(ids("&status=FAILED&sort=duration_sec_desc"), (std::vector<std::string>{C, B}));
  EXPECT_EQ(ids("&min_duration_sec=0.3"), (std::vector<std::string>{C}));
  EXPECT_EQ(s().GetJson(base + "&min_duration_sec=0.3")["total"], 1);
  // Refused, naming the parameter (and the unknown field).
  for (const auto& [query, param] : std::vector<std::pair<std::string, std::string>>{
           {"sort=bogus_desc", "sort"}, {"sort=exit_code_up", "sort"}, {"sort=exit_code_asc,exit_code_desc", "sort"},
           {"min_exit_code=abc", "min_exit_code"}, {"max_duration_sec=inf", "max_duration_sec"},
           {"status=SUCCESS,DONE", "status"}, {"job_type=,", "job_type"}}) {
    SCOPED_TRACE(query);
    auto r = s().Get("/api/jobs/recent?" + query);
    ASSERT_EQ(r.status, 400) << r.body;
    const Json details = Json::parse(r.body)["error"]["details"];
    EXPECT_FALSE(details.contains("param")) << r.body;
    EXPECT_EQ(details["parameter"], param) << r.body;
  }
  auto unknown = s().Get("/api/jobs/recent?sort=bogus_desc");
  EXPECT_NE(unknown.body.find("unknown sort field 'bogus'"), std::string::npos) << unknown.body;
  EXPECT_EQ(s().Get("/api/jobs/recent?min_bogus=1").status, 400);  // not declared
}

// POST /api/jobs: `dry_run` is a submit option. The top-level field wins; `params.dry_run`
// (older clients) is read only when there is no top-level one; neither is kept in the params.
TEST_F(JobsApiTest, DryRunTopLevelWinsOverParamsDryRun) {
  auto submit = [&](const Json& body) {
    Json job = Submit("/api/jobs", body);
    return s().WaitTerminal(job["job_id"]);
  };
  const Json params = {{"lines", 1}, {"run_id", "run_dry_precedence"}};
  auto with_params_dry = [&](Json v) {
    Json p = params;
    p["dry_run"] = std::move(v);
    return p;
  };
  // Top level only; params only (both orders of the keys).
  Json j = submit({{"job_type", "fixture"}, {"dry_run", true}, {"params", params}});
  EXPECT_TRUE(j["dry_run"].get<bool>()) << j.dump();
  j = submit({{"params", with_params_dry(true)}, {"job_type", "fixture"}});
  EXPECT_TRUE(j["dry_run"].get<bool>()) << j.dump();
  EXPECT_FALSE(j["params"].contains("dry_run")) << j.dump();
  // A conflicting pair: the top-level value wins, whichever it is and in either order.
  j = submit({{"dry_run", false}, {"params", with_params_dry(true)}, {"job_type", "fixture"}});
  EXPECT_FALSE(j["dry_run"].get<bool>()) << j.dump();
  EXPECT_EQ(j["status"], "SUCCESS");
  EXPECT_EQ(j["exit_code"], 0);  // it ran
  EXPECT_FALSE(j["params"].contains("dry_run"));
  j = submit({{"job_type", "fixture"}, {"params", with_params_dry(false)}, {"dry_run", true}});
  EXPECT_TRUE(j["dry_run"].get<bool>()) << j.dump();
  EXPECT_FALSE(j["params"].contains("dry_run"));
  // A bad value is refused wherever it is, even when the other one would decide.
  Json err = Refused("/api/jobs", {{"job_type", "fixture"}, {"dry_run", true}, {"params", with_params_dry("maybe")}}, 400);
  EXPECT_EQ(err["details"]["field"], "params.dry_run") << err.dump();
  err = Refused("/api/jobs", {{"job_type", "fixture"}, {"dry_run", 1}, {"params", params}}, 400);
  EXPECT_NE(err["message"].get<std::string>().find("dry_run"), std::string::npos) << err.dump();
}

TEST_F(JobsApiTest, LogSearchFindsLinesOfTheWholeLogByOffset) {
  Json job = Submit("/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"dry_run", true}});
  const std::string id = job["job_id"];
  const std::string log = ReadFile(ws() / "reports/jobs/runtime" / (id + ".log")).value();
  const std::string word = "CONFIGS/BASE.YAML";  // in the logged command, other case
  Json found = s().GetJson("/api/jobs/" + id + "/log/search?q=" + word);
  ASSERT_FALSE(found["matches"].empty()) << found.dump() << "\n" << log;
  EXPECT_EQ(found["complete"], true);
  EXPECT_EQ(found["file_size"], static_cast<int64_t>(log.size()));
  for (const auto& m : found["matches"]) {
    const size_t at = m["offset"].get<size_t>();
    EXPECT_TRUE(at == 0 || log[at - 1] == '\n') << "a line start";
    EXPECT_EQ(log.compare(at, m["line"].get<std::string>().size(), m["line"].get<std::string>()), 0);
  }
  EXPECT_TRUE(s().GetJson("/api/jobs/" + id + "/log/search?q=zzz_not_there")["matches"].empty());
  EXPECT_EQ(s().Get("/api/jobs/" + id + "/log/search").status, 400);
  EXPECT_EQ(s().Get("/api/jobs/" + id + "/log/search?q=a&limit=0").status, 400);
  EXPECT_EQ(s().Get("/api/jobs/job_20200101_000000__deadbeef/log/search?q=a").status, 404);
}

TEST_F(JobsApiTest, NotFoundAndQueryErrors) {
  auto unknown = s().Get("/api/jobs/job_20200101_000000__deadbeef");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("NOT_FOUND"), std::string::npos);
  EXPECT_EQ(s().Get("/api/jobs/job_20200101_000000__deadbeef/log").status, 404);
  EXPECT_EQ(s().Get("/api/nope").status, 404);
  EXPECT_EQ(s().Get("/api/jobs/a/b/c/d").status, 404);
  EXPECT_EQ(s().client().Request("DELETE", "/api/jobs/recent")->status, 405);
  EXPECT_EQ(s().Get("/api/jobs/recent?limit=abc").status, 400);
  EXPECT_EQ(s().Get("/api/jobs/recent?limit=-1").status, 400);
  EXPECT_EQ(s().Get("/api/jobs/recent?status=DONE").status, 400);
  // A log that went missing is a clear 404.
  Json job = Submit("/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"dry_run", true}});
  const std::string id = job["job_id"];
  EXPECT_EQ(s().Get("/api/jobs/" + id + "/log?offset=-5").status, 400);
  EXPECT_EQ(s().Get("/api/jobs/" + id + "/log?tail=-5").status, 400);
  fs::remove(ws() / "reports/jobs/runtime" / (id + ".log"));
  auto gone = s().Get("/api/jobs/" + id + "/log");
  EXPECT_EQ(gone.status, 404);
  EXPECT_NE(gone.ErrorMessage().find(id + ".log"), std::string::npos) << gone.body;
  // Cancel of a finished job is a conflict.
  EXPECT_EQ(s().Post("/api/jobs/" + id + "/cancel", Json::object()).status, 409);
}

TEST_F(JobsApiTest, CancelKillsTheWholeProcessTree) {
  Json job = Submit("/api/jobs", {{"job_type", "fixture-tree"},
                                  {"params", {{"pid_file", "pids/cancel.txt"}, {"sleep", 60}, {"print", "started"}}}});
  const std::string id = job["job_id"];
  const fs::path pid_file = ws() / "pids" / "cancel.txt";
  for (int i = 0; i < 500 && !fs::exists(pid_file); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(fs::exists(pid_file));
  int pid = 0, grandchild = 0;
  std::ifstream(pid_file) >> pid >> grandchild;
  ASSERT_GT(pid, 0);
  ASSERT_GT(grandchild, 0);
  EXPECT_FALSE(ProcessDead(pid));
  EXPECT_FALSE(ProcessDead(grandchild));
  auto r = s().Post("/api/jobs/" + id + "/cancel", Json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  Json done = s().WaitTerminal(id);
  EXPECT_EQ(done["status"], "CANCELED");
  EXPECT_EQ(done["end_reason"], "canceled");
  for (int i = 0; i < 300 && !(ProcessDead(pid) && ProcessDead(grandchild)); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(ProcessDead(pid));
  EXPECT_TRUE(ProcessDead(grandchild));
}

TEST_F(JobsApiTest, JobCanceledWhileQueuedHasAnEmptyLogNotA404) {
  // Four sleepers take the four slots, so the fifth job waits in the queue and is canceled there.
  std::vector<std::string> sleepers;
  for (int i = 0; i < 4; ++i) {
    sleepers.push_back(Submit("/api/jobs", {{"job_type", "fixture"}, {"params", {{"lines", 1}, {"sleep", 30}}}})["job_id"]);
  }
  Json queued = Submit("/api/jobs", {{"job_type", "fixture"}, {"params", {{"lines", 1}}}});
  const std::string id = queued["job_id"];
  auto r = s().Post("/api/jobs/" + id + "/cancel", Json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  Json done = s().WaitTerminal(id);
  EXPECT_EQ(done["status"], "CANCELED");
  EXPECT_TRUE(done["started_at"].is_null()) << done.dump();
  auto log = s().Get("/api/jobs/" + id + "/log?offset=0&tail=1000");
  EXPECT_EQ(log.status, 200) << log.body;
  auto body = log.JsonBody();
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["content"], "");
  EXPECT_EQ((*body)["next_offset"], 0);
  for (const std::string& sleeper : sleepers) (void)s().Post("/api/jobs/" + sleeper + "/cancel", Json::object());
  for (const std::string& sleeper : sleepers) s().WaitTerminal(sleeper);
}

TEST_F(JobsApiTest, LogStreamSendsAppendedBytesAndEnds) {
  Json job = Submit("/api/jobs", {{"job_type", "fixture"},
                                  {"params", {{"lines", 5}, {"sleep", 0.3}, {"run_id", "r_sse"}}}});
  const std::string id = job["job_id"];
  std::string received;
  auto status = s().client().Stream("/api/jobs/" + id + "/log/stream", [&](std::string_view d) {
    received.append(d);
    return true;
  });
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, 200);
  // Reassemble the content of every `log` event.
  std::string content;
  size_t pos = 0;
  while ((pos = received.find("event: log\ndata: ", pos)) != std::string::npos) {
    pos += 17;
    const size_t end = received.find('\n', pos);
    content += Json::parse(received.substr(pos, end - pos))["content"].get<std::string>();
  }
  EXPECT_EQ(content, "line 0\nline 1\nline 2\nline 3\nline 4\nrun_id: r_sse\nrun_dir: runs/r_sse\n");
  EXPECT_NE(received.find("event: end\ndata: "), std::string::npos) << received;
  EXPECT_NE(received.find("\"status\":\"SUCCESS\""), std::string::npos);
}

TEST_F(JobsApiTest, JobTypesHealthAndMetrics) {
  Json types = s().GetJson("/api/job-types");
  std::set<std::string> names;
  for (const Json& t : types["job_types"]) names.insert(t["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"train", "backtest", "eval-metrics", "fixture", "fixture-tree"}));
  EXPECT_EQ(s().GetJson("/api/health")["status"], "ok");
  Submit("/api/jobs/train", {{"config_path", "configs/base.yaml"}, {"dry_run", true}});
  auto m = s().Get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.content_type.find("text/plain"), std::string::npos);
  EXPECT_TRUE(std::regex_search(m.body, std::regex(R"(alphalab_jobs\{state="SUCCESS"\} [1-9])"))) << m.body;
  EXPECT_NE(m.body.find("# TYPE queue_wait_seconds histogram"), std::string::npos);
  EXPECT_NE(m.body.find("# TYPE job_exec_seconds histogram"), std::string::npos);
  EXPECT_NE(m.body.find("alphalab_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"200\"}"),
            std::string::npos);
}

TEST_F(JobsApiTest, StaticUiWithSpaFallbackAndNoEscape) {
  auto index = s().Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.content_type.find("text/html"), std::string::npos);
  EXPECT_NE(index.body.find("<title>alphalab</title>"), std::string::npos);
  auto js = s().Get("/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.content_type.find("javascript"), std::string::npos);
  EXPECT_EQ(js.body, "console.log(1)");
  auto route = s().Get("/jobs/job_20200101_000000__deadbeef");
  EXPECT_EQ(route.status, 200);
  EXPECT_NE(route.body.find("<title>alphalab</title>"), std::string::npos);
  for (const char* evil : {"/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/../../etc/passwd"}) {
    auto r = s().Get(evil);
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << evil;
  }
  EXPECT_EQ(s().Get("/api/unknown/route").status, 404);  // /api never falls back to the UI
}

}  // namespace
}  // namespace alphalab::testing

// Every route of src/http/openapi.json against a real `alphalab serve` in auth.mode token, with
// two user tokens (alice, bob) and one admin (root): one table names, for each route, who may
// call it (docs/security.md, "What a token allows"), and the test walks every route:
//   - no credentials                   -> 401 (public routes: their answer);
//   - kSignedIn: any token             -> its answer (shared things: runs, registry, configs);
//   - kAdmin: a user token             -> 403 (nothing changed), the admin -> its answer;
//   - kOwner: a user who does not own the object -> 403, its owner and the admin -> its answer;
//   - kOwnerList: everyone gets the list, but a user's never shows another owner's item.
// The route list comes from openapi.json (which the server refuses to start without), so a
// route added later without a row here fails the test; a row for a route that is gone does too.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/auth_harness.hpp"
#include "registry/run_fixtures.hpp"

namespace alphalab::testing {
namespace {

enum class Actor { kAnonymous, kAlice, kBob, kRoot };
enum class Who { kPublic, kSignedIn, kAdmin, kOwner, kOwnerList };

const char* Name(Actor a) {
  switch (a) {
    case Actor::kAnonymous: return "anonymous";
    case Actor::kAlice: return "alice";
    case Actor::kBob: return "bob";
    case Actor::kRoot: return "root";
  }
  return "?";
}

// One request of a route: its target (path + query) and JSON body ("" for GET).
struct Call {
  Call(std::string t, std::string b, std::vector<std::string> h = {}, std::string u = "")
      : target(std::move(t)), body(std::move(b)), headers(std::move(h)), until(std::move(u)) {}
  std::string target;
  std::string body;
  std::vector<std::string> headers;  // extra, e.g. Accept: text/event-stream
  std::string until;                 // a streamed answer: read until this shows up
};

struct Rule {
  Rule(Who w, std::function<Call()> c, std::set<int> k = {200}, Actor o = Actor::kAlice, std::string l = "")
      : who(w), call(std::move(c)), ok(std::move(k)), owner(o), listed(std::move(l)) {}
  Who who;
  // Makes the request; called once per caller, so a change (cancel, delete) gets a fresh object
  // (owned by `owner`) each time.
  std::function<Call()> call;
  // What a caller who may call the route gets. Some answers depend on timing (an optimization
  // may end before its cancel); those rows list every answer that means "let through".
  std::set<int> ok = {200};
  Actor owner = Actor::kAlice;  // kOwner / kOwnerList: whose object the call names
  std::string listed;           // kOwnerList: the owner's item that must (not) be in the list
};

std::string Q(const std::string& s) { return QueryEscape(s); }

const std::string kTemplate = "rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml";

class AuthRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = std::make_unique<TempWorkspace>();
    const fs::path root = ws_->root();
    fs::copy(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools", root / "tools", fs::copy_options::recursive);
    const std::string standin = (BinDir() / "alphalab-rdagent-standin").string();
    std::ofstream(root / "alphalab.yaml")
        << "storage:\n  db: sqlite:alphalab.db\n"
        << "auth:\n  mode: token\n"
        << "roots:\n  rdagent: tools/rdagent\n"
        << "configs:\n  rdagent:\n    root: rdagent\n    files:\n      - {path: .env, kind: env}\n"
        << "      - " << kTemplate << "\n"
        << FixtureJobTypesYaml()
        << "  rdagent-fin-quant:\n"
           "    tool: rdagent\n"
           "    argv: [\"" << standin << "\", fin_quant, [--loop-n, \"{loop_n}\"], [--all-duration, \"{all_duration}\"]]\n"
           "    params:\n"
           "      dataset_ids: {type: list}\n"
           "      loop_n: {type: int, min: 1, default: 1}\n"
           "      all_duration: {type: string}\n"
           "      step_seconds: {type: string, default: '0.05'}\n"
           "    results: {parser: qlib_res, path: 'reports/jobs/runtime/{job_id}/work/qlib_res.csv'}\n"
           "    env: {STANDIN_STEP_SECONDS: '{step_seconds}'}\n";
    // Shared things: a run, a backtest, a CSV dataset folder.
    WriteRun(root, "run_auth", {{"AAA", TickerMetrics{}}});
    WriteBacktest(root, "bt_auth", "sma_cross", {"AAA"});
    fs::create_directories(root / "data" / "mine");
    std::ofstream(root / "data" / "mine" / "AAA.csv") << "date,open,high,low,close,volume\n"
                                                         "2020-01-02,10,11,9,10.5,1000\n"
                                                         "2020-01-03,10.5,11.5,10,11,1200\n";
    tokens_[Actor::kAlice] = CreateToken(root, "alice", "user");
    tokens_[Actor::kBob] = CreateToken(root, "bob", "user");
    tokens_[Actor::kRoot] = CreateToken(root, "root", "admin");
    server_ = std::make_unique<ServerProcess>(root, std::vector<std::string>{"--slots", "4"});
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override { server_->Stop(); }

  RawResponse Send(Actor who, const std::string& method, const Call& c) {
    std::vector<std::string> h = c.headers;
    if (who != Actor::kAnonymous) h.push_back(Bearer(tokens_[who]));
    if (method != "GET") h.push_back(kJson);
    return Raw(server_->port(), method, c.target, h, c.body, c.until, c.until.empty() ? 10s : 20s);
  }
  // A request the fixtures need to succeed; its JSON answer.
  Json Must(Actor who, const std::string& method, const std::string& target, const Json& body = Json()) {
    RawResponse r = Send(who, method, Call{target, body.is_null() ? "" : DumpJson(body)});
    EXPECT_EQ(r.status, 200) << method << " " << target << ": " << r.body;
    auto j = ParseJson(r.body);
    return j.ok() ? *j : Json();
  }
  Json WaitEnded(const std::string& job_id) {
    Json j;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      j = Must(Actor::kRoot, "GET", "/api/jobs/" + job_id);
      const std::string s = j.value("status", "");
      if (s == "SUCCESS" || s == "FAILED" || s == "CANCELED") return j;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "job " << job_id << " did not end: " << j.dump();
    return j;
  }
  std::string Unique(const std::string& prefix) { return prefix + std::to_string(++counter_); }

  // Alice's things.
  std::string FixtureJob(double sleep_s) {
    return Must(Actor::kAlice, "POST", "/api/jobs",
                Json{{"job_type", "fixture"}, {"params", {{"lines", 2}, {"run_id", "run_x"}, {"sleep", sleep_s}}}})
        .value("job_id", "");
  }
  std::string RdagentTask(const std::string& step_seconds) {
    return Must(Actor::kAlice, "POST", "/api/rdagent/tasks",
                Json{{"loop_n", 1}, {"all_duration", "1h"}, {"dataset_ids", {"synthetic"}}, {"step_seconds", step_seconds}})
        .value("job_id", "");
  }
  static Json Sweep() {
    return Json{{"name", "alice sweep"},
                {"job_type", "backtest"},
                {"base_params", {{"config_path", "configs/backtest/base.yaml"}}},
                {"param_space", {{"strategy.params.fast", Json::array({5, 10})}, {"strategy.params.slow", Json::array({50})}}},
                {"objective", {{"metric", "final_equity"}, {"direction", "max"}}}};
  }
  std::string Optimization() { return Must(Actor::kAlice, "POST", "/api/v1/optimizations", Sweep()).value("id", ""); }
  // Root's: a dataset over data/mine.
  std::string Dataset() {
    const std::string name = Unique("ds");
    Must(Actor::kRoot, "POST", "/api/datasets", Json{{"name", name}, {"format", "csv"}, {"path", "data/mine"}});
    return name;
  }

  std::unique_ptr<TempWorkspace> ws_;
  std::unique_ptr<ServerProcess> server_;
  std::map<Actor, std::string> tokens_;
  int counter_ = 0;
};

TEST_F(AuthRoutesTest, EveryRouteInOpenapiHasARuleAndKeepsIt) {
  // ---- fixtures: alice's job, RD-Agent task and optimization; root's config history entry.
  const std::string job = FixtureJob(0);
  WaitEnded(job);
  const Json artifacts = Must(Actor::kRoot, "GET", "/api/jobs/" + job + "/artifacts");
  ASSERT_FALSE(artifacts["items"].empty()) << artifacts.dump();
  const std::string artifact = artifacts["items"][0]["path"];
  const std::string task = RdagentTask("0.01");
  WaitEnded(task);
  const std::string opt = Optimization();
  ASSERT_FALSE(opt.empty());
  const std::string tpl = "rdagent:" + kTemplate;
  const Json file = Must(Actor::kRoot, "GET", "/api/configs/file?path=" + Q(tpl));
  const Json wrote = Must(Actor::kRoot, "PUT", "/api/configs/file",
                          Json{{"path", tpl}, {"content", file.value("content", "") + "# root\n"},
                               {"base_sha256", file["sha256"]}});
  const std::string hid = std::to_string(wrote.value("history_id", int64_t{0}));
  const std::string dataset = Dataset();
  Must(Actor::kRoot, "POST", "/api/registry/index", Json::object());

  auto get = [](std::string target) { return [target] { return Call{target, ""}; }; };
  auto post = [](std::string target, Json body) { return [target, body] { return Call{target, DumpJson(body)}; }; };
  const std::string J = "/api/jobs/" + job, T = "/api/rdagent/tasks/" + task, O = "/api/v1/optimizations/" + opt;
  const std::string stream_accept = "Accept: text/event-stream";

  const std::map<std::string, Rule> rules = {
      // Public.
      {"GET /api/health", {Who::kPublic, get("/api/health")}},
      {"GET /api/openapi.json", {Who::kPublic, get("/api/openapi.json")}},
      {"GET /api/session", {Who::kPublic, get("/api/session")}},
      // Signing in is public too (its own test: a valid token -> 200, AuthTest.*).
      {"POST /api/session", {Who::kPublic, post("/api/session", Json{{"token", "alk_wrong"}}), {401}}},
      {"DELETE /api/session", {Who::kPublic, post("/api/session", Json::object())}},
      // Any token: the metrics, catalog, shared results, registry, projects, config reads.
      {"GET /metrics", {Who::kSignedIn, get("/metrics")}},
      {"GET /api/job-types", {Who::kSignedIn, get("/api/job-types")}},
      {"GET /api/registry/models", {Who::kSignedIn, get("/api/registry/models")}},
      {"GET /api/registry/compare", {Who::kSignedIn, get("/api/registry/compare?run_ids=run_auth")}},
      {"GET /api/registry/tickers", {Who::kSignedIn, get("/api/registry/tickers")}},
      {"POST /api/registry/index", {Who::kSignedIn, post("/api/registry/index", Json::object())}},
      {"GET /api/runs", {Who::kSignedIn, get("/api/runs")}},
      {"GET /api/runs/{run_id}", {Who::kSignedIn, get("/api/runs/run_auth")}},
      {"GET /api/runs/{run_id}/files/{name}", {Who::kSignedIn, get("/api/runs/run_auth/files/config.yaml")}},
      {"GET /api/backtests", {Who::kSignedIn, get("/api/backtests")}},
      {"GET /api/backtests/{bt_run_id}", {Who::kSignedIn, get("/api/backtests/bt_auth")}},
      {"GET /api/backtests/{bt_run_id}/files/{name}", {Who::kSignedIn, get("/api/backtests/bt_auth/files/summary.json")}},
      {"GET /api/projects", {Who::kSignedIn, get("/api/projects")}},
      {"GET /api/datasets", {Who::kSignedIn, get("/api/datasets")}},
      {"GET /api/rdagent/datasets", {Who::kSignedIn, get("/api/rdagent/datasets")}},
      {"GET /api/datasets/{name}/validation", {Who::kSignedIn, get("/api/datasets/" + dataset + "/validation")}},
      {"GET /api/configs", {Who::kSignedIn, get("/api/configs")}},
      {"GET /api/configs/file", {Who::kSignedIn, get("/api/configs/file?path=" + Q(tpl))}},
      {"POST /api/configs/check", {Who::kSignedIn, post("/api/configs/check", Json{{"tool", "rdagent"}, {"check", "consistency"}})}},
      {"GET /api/rdagent/env", {Who::kSignedIn, get("/api/rdagent/env")}},
      {"GET /api/rdagent/templates", {Who::kSignedIn, get("/api/rdagent/templates")}},
      // Submits: any token; what it creates is its own (owner_id; AuthTest.*).
      {"POST /api/jobs", {Who::kSignedIn, post("/api/jobs", Json{{"job_type", "fixture"}, {"params", {{"run_id", "run_x"}}}, {"dry_run", true}})}},
      {"POST /api/jobs/train", {Who::kSignedIn, post("/api/jobs/train", Json{{"config_path", "configs/base.yaml"}, {"dry_run", true}})}},
      {"POST /api/jobs/backtest", {Who::kSignedIn, post("/api/jobs/backtest", Json{{"config_path", "configs/backtest/base.yaml"}, {"dry_run", true}})}},
      {"POST /api/jobs/eval-metrics", {Who::kSignedIn, post("/api/jobs/eval-metrics", Json{{"run_id", "run_auth"}, {"dry_run", true}})}},
      {"POST /api/rdagent/tasks", {Who::kSignedIn, post("/api/rdagent/tasks", Json{{"loop_n", 1}, {"all_duration", "1h"}, {"dataset_ids", {"synthetic"}}, {"dry_run", true}})}},
      {"POST /api/v1/optimizations", {Who::kSignedIn, post("/api/v1/optimizations", Sweep())}},
      {"POST /api/v1/optimizations/estimate", {Who::kSignedIn, post("/api/v1/optimizations/estimate", Sweep())}},
      // Lists: a user's shows only their own.
      {"GET /api/jobs/recent", {Who::kOwnerList, get("/api/jobs/recent?limit=1000"), {200}, Actor::kAlice, job}},
      {"GET /api/dashboard", {Who::kOwnerList, get("/api/dashboard?jobs_limit=100"), {200}, Actor::kAlice, job}},
      {"GET /api/rdagent/tasks", {Who::kOwnerList, get("/api/rdagent/tasks?limit=1000"), {200}, Actor::kAlice, task}},
      {"GET /api/v1/optimizations", {Who::kOwnerList, get("/api/v1/optimizations?limit=100"), {200}, Actor::kAlice, opt}},
      {"GET /api/configs/history", {Who::kOwnerList, get("/api/configs/history?path=" + Q(tpl)), {200}, Actor::kRoot, "\"id\":" + hid + ","}},
      {"GET /api/rdagent/templates/history", {Who::kOwnerList, get("/api/rdagent/templates/history?file=conf_baseline.yaml"), {200}, Actor::kRoot, "\"id\":" + hid + ","}},
      // One owner's things: 403 for another user.
      {"GET /api/jobs/{job_id}", {Who::kOwner, get(J)}},
      {"GET /api/jobs/{job_id}/log", {Who::kOwner, get(J + "/log")}},
      {"GET /api/jobs/{job_id}/log/search", {Who::kOwner, get(J + "/log/search?q=line")}},
      {"GET /api/jobs/{job_id}/log/stream", {Who::kOwner, [&] { return Call{J + "/log/stream", "", {stream_accept}, "event: end"}; }}},
      {"GET /api/jobs/{job_id}/artifacts", {Who::kOwner, get(J + "/artifacts")}},
      {"GET /api/jobs/{job_id}/artifacts/{path}", {Who::kOwner, get(J + "/artifacts/" + artifact)}},
      // The fixture type declares no results: its owner gets the 409 envelope, after the owner check.
      {"GET /api/jobs/{job_id}/results", {Who::kOwner, get(J + "/results"), {200, 409}}},
      {"POST /api/jobs/{job_id}/cancel", {Who::kOwner, [&] { return Call{"/api/jobs/" + FixtureJob(30) + "/cancel", "{}"}; }}},
      {"GET /api/rdagent/tasks/{task_id}", {Who::kOwner, get(T)}},
      {"GET /api/rdagent/tasks/{task_id}/logs", {Who::kOwner, get(T + "/logs")}},
      {"GET /api/rdagent/tasks/{task_id}/artifacts", {Who::kOwner, get(T + "/artifacts")}},
      {"POST /api/rdagent/tasks/{task_id}/cancel", {Who::kOwner, [&] { return Call{"/api/rdagent/tasks/" + RdagentTask("5") + "/cancel", "{}"}; }}},
      {"GET /api/v1/optimizations/{optimization_id}", {Who::kOwner, get(O)}},
      {"GET /api/v1/optimizations/{optimization_id}/status", {Who::kOwner, get(O + "/status")}},
      {"GET /api/v1/optimizations/{optimization_id}/tasks", {Who::kOwner, get(O + "/tasks")}},
      {"GET /api/v1/optimizations/{optimization_id}/export", {Who::kOwner, get(O + "/export")}},
      {"GET /api/v1/optimizations/{optimization_id}/report", {Who::kOwner, get(O + "/report")}},
      // A fresh sweep each time; it may have ended (409) before the cancel or have no failed task.
      {"POST /api/v1/optimizations/{optimization_id}/cancel", {Who::kOwner, [&] { return Call{"/api/v1/optimizations/" + Optimization() + "/cancel", "{}"}; }, {200, 409}}},
      {"POST /api/v1/optimizations/{optimization_id}/retry-failed", {Who::kOwner, [&] { return Call{"/api/v1/optimizations/" + Optimization() + "/retry-failed", "{}"}; }, {200, 409}}},
      {"POST /api/v1/optimizations/{optimization_id}/extend", {Who::kOwner, [&] {
         return Call{"/api/v1/optimizations/" + Optimization() + "/extend",
                     DumpJson(Json{{"param_space", {{"strategy.params.fast", Json::array({5, 10, 20})}, {"strategy.params.slow", Json::array({50})}}}})};
       }}},
      {"GET /api/configs/diff", {Who::kOwner, get("/api/configs/diff?path=" + Q(tpl) + "&from=" + hid + "&to=current"), {200}, Actor::kRoot}},
      // Admin only: tokens, config writes and rollbacks, dataset changes.
      {"GET /api/tokens", {Who::kAdmin, get("/api/tokens")}},
      {"POST /api/tokens", {Who::kAdmin, [&] { return Call{"/api/tokens", DumpJson(Json{{"name", Unique("t")}, {"role", "user"}})}; }}},
      {"DELETE /api/tokens/{token_id}", {Who::kAdmin, [&] {
         const Json t = Must(Actor::kRoot, "POST", "/api/tokens", Json{{"name", Unique("gone")}});
         return Call{"/api/tokens/" + t.value("id", ""), "{}"};
       }}},
      {"PUT /api/configs/file", {Who::kAdmin, [&] {
         const Json f = Must(Actor::kRoot, "GET", "/api/configs/file?path=" + Q(tpl));
         return Call{"/api/configs/file", DumpJson(Json{{"path", tpl}, {"content", f.value("content", "") + "# " + Unique("w") + "\n"},
                                                        {"base_sha256", f["sha256"]}})};
       }}},
      {"POST /api/configs/rollback", {Who::kAdmin, post("/api/configs/rollback", Json{{"path", tpl}, {"history_id", std::stoll(hid)}})}},
      {"PUT /api/rdagent/env", {Who::kAdmin, [&] {
         const Json e = Must(Actor::kRoot, "GET", "/api/rdagent/env");
         return Call{"/api/rdagent/env", DumpJson(Json{{"content", e.value("content", "") + Unique("AUTH_TEST_") + "=1\n"},
                                                       {"base_sha256", e["sha256"]}})};
       }}},
      {"POST /api/rdagent/templates/rollback", {Who::kAdmin, post("/api/rdagent/templates/rollback", Json{{"file", "conf_baseline.yaml"}, {"history_id", std::stoll(hid)}})}},
      {"POST /api/datasets", {Who::kAdmin, [&] { return Call{"/api/datasets", DumpJson(Json{{"name", Unique("ds")}, {"format", "csv"}, {"path", "data/mine"}})}; }}},
      {"POST /api/datasets/upload-instruments", {Who::kAdmin, [&] {
         return Call{"/api/datasets/upload-instruments", DumpJson(Json{{"name", Unique("up")}, {"dataset", dataset}, {"content", "AAA\n"}})};
       }}},
      {"POST /api/rdagent/datasets/upload-instruments", {Who::kAdmin, [&] {
         return Call{"/api/rdagent/datasets/upload-instruments", DumpJson(Json{{"name", Unique("rup")}, {"dataset", dataset}, {"content", "AAA\n"}})};
       }}},
      {"POST /api/datasets/{name}/default", {Who::kAdmin, post("/api/datasets/" + dataset + "/default", Json::object())}},
      {"DELETE /api/datasets/{name}", {Who::kAdmin, [&] { return Call{"/api/datasets/" + Dataset(), "{}"}; }}},
  };

  // ---- the routes: from openapi.json, each with a rule; no rule without a route.
  auto doc = ParseJson(ReadFile(fs::path(ALPHALAB_SOURCE_DIR) / "src/http/openapi.json").value());
  ASSERT_TRUE(doc.ok());
  std::set<std::string> routes;
  for (const auto& [path, item] : (*doc)["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "get" || method == "post" || method == "put" || method == "delete" || method == "patch") {
        std::string m = method;
        for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        routes.insert(m + " " + path);
      }
    }
  }
  ASSERT_GT(routes.size(), 60u);
  for (const auto& [route, rule] : rules) EXPECT_TRUE(routes.count(route)) << "a rule for a route openapi.json does not have: " << route;

  int checked = 0;
  for (const std::string& route : routes) {
    auto it = rules.find(route);
    if (it == rules.end()) {
      ADD_FAILURE() << route << " has no authorization rule: add it to this table and docs/security.md";
      continue;
    }
    const Rule& rule = it->second;
    const std::string method = route.substr(0, route.find(' '));
    auto expect = [&](Actor who, const std::set<int>& want, const std::string& why) -> RawResponse {
      RawResponse r = Send(who, method, rule.call());
      EXPECT_TRUE(want.count(r.status)) << route << " as " << Name(who) << " (" << why << "): got " << r.status << " "
                                        << r.body.substr(0, 400);
      ++checked;
      return r;
    };
    if (rule.who == Who::kPublic) {
      expect(Actor::kAnonymous, rule.ok, "public");
      continue;
    }
    RawResponse anon = expect(Actor::kAnonymous, {401}, "no credentials");
    if (anon.status == 401) {
      EXPECT_NE(anon.body.find("UNAUTHENTICATED"), std::string::npos) << route;
    }
    const std::set<int> denied{403};
    switch (rule.who) {
      case Who::kSignedIn:
        expect(Actor::kAlice, rule.ok, "any token");
        expect(Actor::kRoot, rule.ok, "any token");
        break;
      case Who::kAdmin: {
        RawResponse r = expect(Actor::kAlice, denied, "a user on an admin route");
        if (r.status == 403) {
          EXPECT_NE(r.body.find("PERMISSION_DENIED"), std::string::npos) << route;
        }
        expect(Actor::kBob, denied, "a user on an admin route");
        expect(Actor::kRoot, rule.ok, "the admin");
        break;
      }
      case Who::kOwner:
        for (Actor a : {Actor::kAlice, Actor::kBob}) {
          if (a != rule.owner) expect(a, denied, "a user on another owner's object");
        }
        if (rule.owner != Actor::kRoot) expect(rule.owner, rule.ok, "the owner");
        expect(Actor::kRoot, rule.ok, "the admin");
        break;
      case Who::kOwnerList:
        for (Actor a : {Actor::kAlice, Actor::kBob, Actor::kRoot}) {
          const bool sees = a == rule.owner || a == Actor::kRoot;
          RawResponse r = expect(a, rule.ok, "a list");
          EXPECT_EQ(r.body.find(rule.listed) != std::string::npos, sees)
              << route << " as " << Name(a) << ": " << rule.listed << (sees ? " missing" : " shown to another user");
        }
        break;
      case Who::kPublic:
        break;
    }
  }
  EXPECT_GT(checked, 200);

  // What the refusals would have made was never made: of the tokens, the table made one through
  // POST /api/tokens (root's) and four to revoke (one per caller), and revoked only root's; of
  // the datasets, one in the fixtures, one by root's POST, four to delete (one deleted by root).
  int tokens = 0, revoked = 0;
  const Json all_tokens = Must(Actor::kRoot, "GET", "/api/tokens");
  for (const Json& t : all_tokens["items"]) {
    ++tokens;
    if (t.value("revoked", false)) ++revoked;
  }
  EXPECT_EQ(tokens, 3 + 1 + 4);
  EXPECT_EQ(revoked, 1);
  int made = 0;
  const Json all_datasets = Must(Actor::kRoot, "GET", "/api/datasets");
  for (const Json& d : all_datasets["items"]) {
    if (d.value("name", "").rfind("ds", 0) == 0) ++made;
  }
  EXPECT_EQ(made, 1 + 1 + 4 - 1);
  EXPECT_EQ(Must(Actor::kRoot, "GET", "/api/jobs/" + job).value("owner_id", ""), "alice");
}

// Who did what, in reports/audit.log: submits, cancels, rollbacks, token creation and
// revocation over HTTP, dataset changes, each refusal as "denied".
TEST_F(AuthRoutesTest, EveryChangeIsAuditedWithItsActorAndRefusalsAsDenied) {
  const std::string job = FixtureJob(30);
  EXPECT_EQ(Send(Actor::kBob, "POST", Call{"/api/jobs/" + job + "/cancel", "{}"}).status, 403);
  Must(Actor::kAlice, "POST", "/api/jobs/" + job + "/cancel", Json::object());
  const Json token = Must(Actor::kRoot, "POST", "/api/tokens", Json{{"name", "dave"}, {"role", "user"}});
  const std::string dave = token.value("token", "");
  ASSERT_EQ(dave.rfind("alk_", 0), 0u) << token.dump();
  EXPECT_EQ(token.value("name", ""), "dave");
  // The new token works at once; revoked over HTTP it stops at once (no 5 s cache wait).
  EXPECT_EQ(Raw(server_->port(), "GET", "/api/jobs/recent", {Bearer(dave)}).status, 200);
  EXPECT_EQ(Send(Actor::kAlice, "POST", Call{"/api/tokens", DumpJson(Json{{"name", "mallory"}, {"role", "admin"}})}).status, 403);
  EXPECT_EQ(Send(Actor::kAlice, "DELETE", Call{"/api/tokens/" + token.value("id", ""), "{}"}).status, 403);
  EXPECT_EQ(Raw(server_->port(), "GET", "/api/jobs/recent", {Bearer(dave)}).status, 200);
  EXPECT_EQ(Send(Actor::kRoot, "POST", Call{"/api/tokens", DumpJson(Json{{"name", "dave"}})}).status, 409);
  EXPECT_EQ(Send(Actor::kRoot, "POST", Call{"/api/tokens", DumpJson(Json{{"name", "a b"}})}).status, 400);
  EXPECT_EQ(Send(Actor::kRoot, "POST", Call{"/api/tokens", DumpJson(Json{{"name", "x"}, {"role", "root"}})}).status, 400);
  EXPECT_EQ(Must(Actor::kRoot, "DELETE", "/api/tokens/" + token.value("id", ""), Json::object()).value("revoked", false), true);
  EXPECT_EQ(Raw(server_->port(), "GET", "/api/jobs/recent", {Bearer(dave)}).status, 401);
  EXPECT_EQ(Send(Actor::kRoot, "DELETE", Call{"/api/tokens/tok_nope", "{}"}).status, 404);
  const std::string ds = Dataset();
  EXPECT_EQ(Send(Actor::kAlice, "DELETE", Call{"/api/datasets/" + ds, "{}"}).status, 403);
  Must(Actor::kRoot, "DELETE", "/api/datasets/" + ds, Json::object());

  auto audit = ReadFile(ws_->root() / "reports" / "audit.log");
  ASSERT_TRUE(audit.ok());
  std::multiset<std::string> lines;
  std::istringstream in(*audit);
  for (std::string line; std::getline(in, line);) {
    const Json j = ParseJson(line).value();
    lines.insert(j.value("actor", "") + " " + j.value("action", "") + " " + j.value("outcome", "") + " " + j.value("target", ""));
  }
  const std::string tok = token.value("id", "");
  for (const std::string& want : std::vector<std::string>{
           "alice job.submit ok " + job, "bob job.cancel denied " + job, "alice job.cancel ok " + job,
        "root token.create ok " + tok, "alice token.create denied ", "alice token.revoke denied " + tok,
        "root token.revoke ok " + tok, "root token.create failed ", "root dataset.create ok " + ds,
        "alice dataset.delete denied " + ds, "root dataset.delete ok " + ds}) {
    EXPECT_TRUE(lines.count(want)) << "missing audit line: " << want << "\n" << *audit;
  }
  EXPECT_EQ(audit->find(dave.substr(4)), std::string::npos) << "a token's secret never reaches the audit log";
}

}  // namespace
}  // namespace alphalab::testing

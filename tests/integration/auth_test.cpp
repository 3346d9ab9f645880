// Auth against a real `alphalab serve` in auth.mode token (docs/security.md): 401 without a
// token, bearer tokens, user vs admin (403 on another owner's job and on admin routes), the
// session cookie for reads and the SSE log stream, cross-site requests (text/plain, foreign
// Origin) refused with no job created, a foreign Host answered 421, a non-loopback bind
// refused with auth none unless --insecure, and `alphalab token create | list | revoke`.

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "integration/auth_harness.hpp"

namespace alphalab::testing {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ws_ = new TempWorkspace("auth:\n  mode: token\nserver:\n  hosts: [lab.example.org]\n");
    alice_ = new std::string(CreateToken(ws_->root(), "alice", "user"));
    bob_ = new std::string(CreateToken(ws_->root(), "bob", "user"));
    root_ = new std::string(CreateToken(ws_->root(), "root", "admin"));
    server_ = new ServerProcess(ws_->root(), {"--slots", "2"});
    ASSERT_TRUE(server_->Start());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete ws_;
    delete alice_;
    delete bob_;
    delete root_;
  }
  int port() { return server_->port(); }
  RawResponse As(const std::string& token, const std::string& method, const std::string& target,
                 const std::string& body = "") {
    std::vector<std::string> h{Bearer(token)};
    if (method != "GET") h.push_back(kJson);
    return Raw(port(), method, target, h, body);
  }
  Json JsonOf(const RawResponse& r) {
    auto j = ParseJson(r.body);
    EXPECT_TRUE(j.ok()) << r.head << "\n" << r.body;
    return j.ok() ? *j : Json();
  }
  std::string Submit(const std::string& token, int lines = 1) {
    RawResponse r = As(token, "POST", "/api/jobs",
                       DumpJson(Json{{"job_type", "fixture"}, {"params", {{"lines", lines}, {"run_id", "run_x"}}}}));
    EXPECT_EQ(r.status, 200) << r.body;
    return JsonOf(r).value("job_id", "");
  }
  int64_t TotalJobs() { return JsonOf(As(*root_, "GET", "/api/jobs/recent?limit=0")).value("total", int64_t{-1}); }
  std::vector<std::string> AuditActions(const std::string& actor) {
    std::ifstream in(ws_->root() / "reports" / "audit.log");
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
      auto j = ParseJson(line);
      if (j.ok() && j->value("actor", "") == actor) out.push_back(j->value("action", "") + ":" + j->value("outcome", ""));
    }
    return out;
  }

  static TempWorkspace* ws_;
  static ServerProcess* server_;
  static std::string* alice_;
  static std::string* bob_;
  static std::string* root_;
};
TempWorkspace* AuthTest::ws_ = nullptr;
ServerProcess* AuthTest::server_ = nullptr;
std::string* AuthTest::alice_ = nullptr;
std::string* AuthTest::bob_ = nullptr;
std::string* AuthTest::root_ = nullptr;

TEST_F(AuthTest, WithoutATokenApiRoutesAre401AndHealthStaysPublic) {
  const int64_t before = TotalJobs();
  for (const char* target : {"/api/jobs/recent", "/metrics", "/api/job-types", "/api/runs"}) {
    RawResponse r = Raw(port(), "GET", target, {});
    EXPECT_EQ(r.status, 401) << target << ": " << r.body;
    EXPECT_EQ(JsonOf(r)["error"]["code"], "UNAUTHENTICATED") << target;
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer") << target;
  }
  EXPECT_EQ(Raw(port(), "GET", "/api/jobs/recent", {Bearer("alk_not_a_real_token")}).status, 401);
  EXPECT_EQ(Raw(port(), "GET", "/api/jobs/recent", {"Authorization: Basic YTpi"}).status, 401);
  RawResponse post = Raw(port(), "POST", "/api/jobs", {kJson}, R"({"job_type":"fixture","params":{}})");
  EXPECT_EQ(post.status, 401);
  EXPECT_EQ(TotalJobs(), before);
  EXPECT_EQ(Raw(port(), "GET", "/api/health", {}).status, 200);
  EXPECT_EQ(Raw(port(), "GET", "/api/openapi.json", {}).status, 200);
  Json session = JsonOf(Raw(port(), "GET", "/api/session", {}));
  EXPECT_EQ(session["auth"], "token");
  EXPECT_EQ(session["authenticated"], false);
  EXPECT_EQ(session["insecure"], false);
  Json me = JsonOf(Raw(port(), "GET", "/api/session", {Bearer(*alice_)}));
  EXPECT_EQ(me["principal"]["name"], "alice");
  EXPECT_EQ(me["principal"]["role"], "user");
}

TEST_F(AuthTest, UsersSeeAndChangeOnlyTheirOwnJobsAdminsEverything) {
  const std::string job = Submit(*alice_, 1);
  ASSERT_FALSE(job.empty());
  EXPECT_EQ(JsonOf(As(*alice_, "GET", "/api/jobs/" + job))["owner_id"], "alice");
  // Bob (another user): 403 on every read and change of alice's job.
  for (const std::string& target : {"/api/jobs/" + job, "/api/jobs/" + job + "/log", "/api/jobs/" + job + "/log/stream"}) {
    RawResponse r = As(*bob_, "GET", target);
    EXPECT_EQ(r.status, 403) << target << ": " << r.body;
    EXPECT_EQ(JsonOf(r)["error"]["code"], "PERMISSION_DENIED");
  }
  EXPECT_EQ(As(*bob_, "POST", "/api/jobs/" + job + "/cancel").status, 403);
  EXPECT_EQ(As(*bob_, "POST", "/api/jobs", DumpJson(Json{{"job_type", "fixture"}, {"source_job_id", job}})).status, 403);
  // Lists: a user's own jobs only; an admin's, everyone's.
  const std::string bobs = Submit(*bob_, 1);
  auto ids = [&](const std::string& token, const std::string& query) {
    std::vector<std::string> out;
    const Json page = JsonOf(As(token, "GET", "/api/jobs/recent" + query));
    for (const Json& j : page["items"]) out.push_back(j["job_id"]);
    return out;
  };
  auto has = [](const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  EXPECT_TRUE(has(ids(*alice_, ""), job));
  EXPECT_FALSE(has(ids(*alice_, ""), bobs));
  EXPECT_TRUE(has(ids(*bob_, ""), bobs));
  EXPECT_FALSE(has(ids(*bob_, ""), job));
  EXPECT_TRUE(has(ids(*root_, ""), job));
  EXPECT_TRUE(has(ids(*root_, ""), bobs));
  EXPECT_EQ(ids(*root_, "?owner_id=bob"), std::vector<std::string>{bobs});
  EXPECT_EQ(As(*bob_, "GET", "/api/jobs/recent?owner_id=alice").status, 403);
  auto dashboard_jobs = [&](const std::string& token) {
    std::vector<std::string> out;
    const Json d = JsonOf(As(token, "GET", "/api/dashboard?jobs_limit=100"));
    for (const Json& j : d["recent_jobs"]) out.push_back(j["job_id"]);
    return out;
  };
  EXPECT_FALSE(has(dashboard_jobs(*bob_), job));  // the dashboard's recent jobs: own only
  EXPECT_TRUE(has(dashboard_jobs(*bob_), bobs));
  EXPECT_TRUE(has(dashboard_jobs(*root_), job));
  EXPECT_EQ(As(*root_, "GET", "/api/jobs/" + job).status, 200);
  EXPECT_EQ(As(*root_, "GET", "/api/jobs/" + job + "/log").status, 200);
  // Admin routes.
  EXPECT_EQ(As(*alice_, "GET", "/api/tokens").status, 403);
  RawResponse tokens = As(*root_, "GET", "/api/tokens");
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  EXPECT_EQ(JsonOf(tokens)["items"].size(), 3u);
  EXPECT_EQ(tokens.body.find(*alice_), std::string::npos);
  // The audit log names who did what.
  const auto alice = AuditActions("alice");
  EXPECT_TRUE(has(alice, "job.submit:ok"));
  EXPECT_TRUE(has(AuditActions("bob"), "job.cancel:denied"));
}

TEST_F(AuthTest, UsersSeeAndChangeOnlyTheirOwnOptimizationsAdminsEverything) {
  const Json sweep = {{"name", "alice sweep"},
                      {"job_type", "backtest"},
                      {"base_params", {{"config_path", "configs/backtest/base.yaml"}}},
                      {"param_space", {{"strategy.params.fast", Json::array({5, 10})}, {"strategy.params.slow", Json::array({50})}}},
                      {"objective", {{"metric", "final_equity"}, {"direction", "max"}}}};
  RawResponse created = As(*alice_, "POST", "/api/v1/optimizations", DumpJson(sweep));
  ASSERT_EQ(created.status, 200) << created.body;
  const Json opt = JsonOf(created);
  const std::string id = opt.value("id", "");
  EXPECT_EQ(opt["owner_id"], "alice");
  const std::string base = "/api/v1/optimizations/" + id;
  for (const std::string& target : {base, base + "/status", base + "/tasks", base + "/export"}) {
    EXPECT_EQ(As(*bob_, "GET", target).status, 403) << target;
    EXPECT_EQ(As(*root_, "GET", target).status, 200) << target;
  }
  EXPECT_EQ(As(*alice_, "GET", base + "/status").status, 200);
  EXPECT_EQ(As(*bob_, "POST", base + "/cancel", "{}").status, 403);
  EXPECT_EQ(As(*bob_, "POST", "/api/v1/optimizations", DumpJson(Json{{"source_job_id", id}})).status, 403);
  auto ids = [&](const std::string& token) {
    std::vector<std::string> out;
    const Json page = JsonOf(As(token, "GET", "/api/v1/optimizations"));
    for (const Json& o : page["items"]) out.push_back(o["id"]);
    return out;
  };
  auto has = [](const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  EXPECT_TRUE(has(ids(*alice_), id));
  EXPECT_FALSE(has(ids(*bob_), id));
  EXPECT_TRUE(has(ids(*root_), id));
  const auto alice = AuditActions("alice");
  EXPECT_TRUE(has(alice, "optimization.submit:ok"));
  EXPECT_TRUE(has(AuditActions("bob"), "optimization.cancel:denied"));
}

// /api/projects counts for a `user` only what its lists show: its own jobs and optimizations
// (runs are shared). Before: bob saw alice's project with her counts.
TEST_F(AuthTest, ProjectCountsOfAUserAreItsOwnAdminsCountEverything) {
  auto submit = [&](const std::string& token, const std::string& project) {
    RawResponse r = As(token, "POST", "/api/jobs",
                       DumpJson(Json{{"job_type", "fixture"}, {"params", {{"lines", 1}, {"run_id", "run_x"}}},
                                     {"dry_run", true}, {"project", project}}));
    EXPECT_EQ(r.status, 200) << r.body;
  };
  submit(*alice_, "p-alice");
  submit(*bob_, "p-bob");
  submit(*bob_, "p-bob");
  const Json sweep = {{"name", "alice's project sweep"},
                      {"job_type", "backtest"},
                      {"project", "p-alice"},
                      {"base_params", {{"config_path", "configs/backtest/base.yaml"}}},
                      {"param_space", {{"strategy.params.fast", Json::array({5})}, {"strategy.params.slow", Json::array({50})}}},
                      {"objective", {{"metric", "final_equity"}, {"direction", "max"}}}};
  RawResponse created = As(*alice_, "POST", "/api/v1/optimizations", DumpJson(sweep));
  ASSERT_EQ(created.status, 200) << created.body;
  auto projects = [&](const std::string& token) {
    std::map<std::string, Json> out;
    RawResponse r = As(token, "GET", "/api/projects");
    EXPECT_EQ(r.status, 200) << r.body;
    const Json page = JsonOf(r);
    for (const Json& p : page["items"]) out[p["name"].get<std::string>()] = p;
    return out;
  };
  const auto alice = projects(*alice_);
  const auto bob = projects(*bob_);
  const auto root = projects(*root_);
  EXPECT_EQ(alice.count("p-bob"), 0u) << "a user sees no other owner's project";
  ASSERT_EQ(alice.count("p-alice"), 1u);
  EXPECT_GE(alice.at("p-alice")["jobs"], 1);  // the dry run (and any task job of her sweep: hers too)
  EXPECT_EQ(alice.at("p-alice")["optimizations"], 1);
  EXPECT_EQ(bob.count("p-alice"), 0u);
  ASSERT_EQ(bob.count("p-bob"), 1u);
  EXPECT_EQ(bob.at("p-bob")["jobs"], 2);
  EXPECT_EQ(bob.at("p-bob")["optimizations"], 0);
  ASSERT_EQ(root.count("p-alice"), 1u);
  ASSERT_EQ(root.count("p-bob"), 1u);
  EXPECT_EQ(root.at("p-bob")["jobs"], 2);
  EXPECT_EQ(root.at("p-alice")["optimizations"], 1);
  EXPECT_GE(root.at("p-alice")["jobs"], alice.at("p-alice")["jobs"]);  // her sweep may add task jobs meanwhile
}

TEST_F(AuthTest, TheSessionCookieWorksForReadsAndTheLogStreamUntilSignOut) {
  const std::string job = Submit(*alice_, 3);
  EXPECT_EQ(Raw(port(), "POST", "/api/session", {kJson}, R"({"token":"alk_wrong"})").status, 401);
  RawResponse login = Raw(port(), "POST", "/api/session", {kJson}, DumpJson(Json{{"token", *alice_}}));
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string set_cookie = login.Header("set-cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("Path=/"), std::string::npos) << set_cookie;
  EXPECT_EQ(login.body.find(*alice_), std::string::npos);
  const std::string cookie = "Cookie: " + set_cookie.substr(0, set_cookie.find(';'));
  EXPECT_EQ(JsonOf(Raw(port(), "GET", "/api/session", {cookie}))["principal"]["name"], "alice");
  RawResponse recent = Raw(port(), "GET", "/api/jobs/recent", {cookie});
  EXPECT_EQ(recent.status, 200) << recent.body;
  // EventSource sends the cookie: the SSE stream runs to the job's end.
  RawResponse stream = Raw(port(), "GET", "/api/jobs/" + job + "/log/stream", {cookie, "Accept: text/event-stream"},
                           "", "event: end", 20s);
  EXPECT_EQ(stream.status, 200) << stream.head;
  EXPECT_NE(stream.body.find("event: end"), std::string::npos) << stream.body;
  EXPECT_NE(stream.body.find("event: log"), std::string::npos) << stream.body;
  // Cookie-authenticated state changes still need JSON (and a same-origin Origin, if any).
  const std::string origin = "Origin: http://127.0.0.1:" + std::to_string(port());
  EXPECT_EQ(Raw(port(), "POST", "/api/jobs/" + job + "/cancel", {cookie, kJson, origin}, "{}").status, 409);
  RawResponse out = Raw(port(), "DELETE", "/api/session", {cookie, kJson});
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.Header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Raw(port(), "GET", "/api/jobs/recent", {cookie}).status, 401);
  const auto alice = AuditActions("alice");
  EXPECT_NE(std::find(alice.begin(), alice.end(), "session.login:ok"), alice.end());
  EXPECT_NE(std::find(alice.begin(), alice.end(), "session.logout:ok"), alice.end());
}

TEST_F(AuthTest, CrossSiteRequestsAreRefusedAndCreateNoJob) {
  const int64_t before = TotalJobs();
  const std::string body = R"({"job_type":"fixture","params":{"lines":1}})";
  // A cross-site form/fetch "simple request": text/plain, foreign Origin, with or without a token.
  RawResponse plain = Raw(port(), "POST", "/api/jobs", {"Content-Type: text/plain", "Origin: http://evil.example"}, body);
  EXPECT_TRUE(plain.status == 403 || plain.status == 415) << plain.status;
  EXPECT_EQ(Raw(port(), "POST", "/api/jobs", {"Content-Type: text/plain", Bearer(*alice_)}, body).status, 415);
  EXPECT_EQ(Raw(port(), "POST", "/api/jobs", {Bearer(*alice_)}, body).status, 415);
  RawResponse evil = Raw(port(), "POST", "/api/jobs", {kJson, Bearer(*alice_), "Origin: http://evil.example"}, body);
  EXPECT_EQ(evil.status, 403) << evil.body;
  EXPECT_EQ(JsonOf(evil)["error"]["details"]["origin"], "http://evil.example");
  EXPECT_EQ(Raw(port(), "POST", "/api/session", {kJson, "Origin: http://evil.example"},
                DumpJson(Json{{"token", *alice_}})).status, 403);
  EXPECT_EQ(Raw(port(), "GET", "/api/jobs/recent", {Bearer(*alice_), "Origin: null"}).status, 403);
  EXPECT_EQ(TotalJobs(), before);
  // The server's own origin is fine.
  RawResponse same = Raw(port(), "POST", "/api/jobs",
                         {kJson, Bearer(*alice_), "Origin: http://127.0.0.1:" + std::to_string(port())}, body);
  EXPECT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(TotalJobs(), before + 1);
}

TEST_F(AuthTest, AHostThatIsNotTheServersIsAnswered421) {
  RawResponse evil = Raw(port(), "GET", "/api/health", {"Host: evil.example"});
  EXPECT_EQ(evil.status, 421) << evil.head;
  EXPECT_EQ(JsonOf(evil)["error"]["code"], "PERMISSION_DENIED");
  EXPECT_EQ(Raw(port(), "GET", "/api/jobs/recent", {"Host: evil.example:" + std::to_string(port()), Bearer(*alice_)}).status, 421);
  EXPECT_EQ(Raw(port(), "GET", "/", {"Host: evil.example"}).status, 421);
  EXPECT_EQ(Raw(port(), "GET", "/api/health", {"Host: localhost:" + std::to_string(port())}).status, 200);
  EXPECT_EQ(Raw(port(), "GET", "/api/health", {"Host: lab.example.org"}).status, 200);  // server.hosts
  EXPECT_EQ(Raw(port(), "GET", "/api/health", {"Host: [::1]:8000"}).status, 200);
}

TEST_F(AuthTest, RevokedTokensStopWorking) {
  const std::string carol = CreateToken(ws_->root(), "carol", "user");
  CliResult revoke = RunCli({"token", "revoke", "carol", "--workspace", ws_->root().string()});
  EXPECT_EQ(revoke.exit_code, 0) << revoke.out;
  RawResponse r = Raw(port(), "GET", "/api/jobs/recent", {Bearer(carol)});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(JsonOf(r)["error"]["message"].get<std::string>().find("revoked"), std::string::npos);
}

TEST_F(AuthTest, TheCliClientSendsTheTokenFromTheEnvironmentOrTheConfigFile) {
  const std::string job = Submit(*alice_, 1);
  const std::string server = "--server=" + server_->url();
  const std::string clean = "env -u ALPHALAB_TOKEN -u XDG_CONFIG_HOME HOME=" + (ws_->root() / "home").string() + " ";
  CliResult anonymous = RunCli({"jobs", "--json", server}, clean);
  EXPECT_EQ(anonymous.exit_code, 1);
  CliResult by_env = RunCli({"jobs", "--json", server}, clean + "ALPHALAB_TOKEN=" + *alice_ + " ");
  EXPECT_EQ(by_env.exit_code, 0);
  EXPECT_NE(by_env.out.find(job), std::string::npos) << by_env.out;
  fs::create_directories(ws_->root() / "home" / ".config" / "alphalab");
  std::ofstream(ws_->root() / "home" / ".config" / "alphalab" / "token") << *bob_ << "\n";
  CliResult by_file = RunCli({"jobs", "--json", server}, clean);
  EXPECT_EQ(by_file.exit_code, 0);
  EXPECT_EQ(by_file.out.find(job), std::string::npos) << "bob must not see alice's job";
  EXPECT_EQ(RunCli({"cancel", job, server}, clean).exit_code, 1);  // bob: 403
}

TEST(AuthBindTest, ANonLoopbackBindNeedsAuthOrInsecure) {
  TempWorkspace ws;
  ServerProcess refused(ws.root());
  refused.WithHost("0.0.0.0");
  EXPECT_FALSE(refused.Start());
  auto log = ReadFile(ws.root() / "server.stderr.log");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("refusing to serve on 0.0.0.0 with auth.mode none"), std::string::npos) << *log;

  ServerProcess insecure(ws.root(), {"--insecure"});
  insecure.WithHost("0.0.0.0");
  ASSERT_TRUE(insecure.Start());
  Json session = insecure.GetJson("/api/session");
  EXPECT_EQ(session["auth"], "none");
  EXPECT_EQ(session["insecure"], true);
  auto warn = ReadFile(ws.root() / "server.stderr.log");
  EXPECT_NE(warn->find("WARNING: serving on 0.0.0.0 without authentication"), std::string::npos);
  // With auth none every caller is anonymous: no token is minted over HTTP (one made during an
  // --insecure spell would outlive it as an admin credential).
  EXPECT_EQ(Raw(insecure.port(), "POST", "/api/tokens", {kJson}, R"({"name":"eve","role":"admin"})").status, 409);
  EXPECT_EQ(Raw(insecure.port(), "GET", "/api/tokens", {}).body.find("eve"), std::string::npos);
  insecure.Stop();

  TempWorkspace tokens("auth:\n  mode: token\n");
  ServerProcess with_auth(tokens.root());
  with_auth.WithHost("0.0.0.0");
  ASSERT_TRUE(with_auth.Start());
  EXPECT_EQ(with_auth.GetJson("/api/session")["insecure"], false);
}

// Failed sign-ins from one address: 10 answered 401, then 429 with Retry-After and the
// envelope, and then even the right token is refused from that address.
TEST(AuthRateLimitTest, FailedSignInsFromOneAddressAreAnswered429WithRetryAfter) {
  TempWorkspace ws("auth: {mode: token}\n");
  const std::string alice = CreateToken(ws.root(), "alice", "user");
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  const std::string json = "Content-Type: application/json";
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Raw(server.port(), "POST", "/api/session", {json}, R"({"token":"alk_wrong"})").status, 401) << i;
  }
  RawResponse limited = Raw(server.port(), "POST", "/api/session", {json}, R"({"token":"alk_wrong"})");
  EXPECT_EQ(limited.status, 429) << limited.head << limited.body;
  const std::string retry = limited.Header("retry-after");
  ASSERT_FALSE(retry.empty()) << limited.head;
  EXPECT_GE(std::stoi(retry), 1);
  EXPECT_LE(std::stoi(retry), 6);
  auto body = ParseJson(limited.body);
  ASSERT_TRUE(body.ok()) << limited.body;
  EXPECT_EQ((*body)["error"]["code"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(Raw(server.port(), "POST", "/api/session", {json}, DumpJson(Json{{"token", alice}})).status, 429)
      << "while limited the right token is not even checked";
  // Bearer requests are not sign-ins: they still work.
  EXPECT_EQ(Raw(server.port(), "GET", "/api/jobs/recent", {"Authorization: Bearer " + alice}).status, 200);
}

TEST(TokenCliTest, CreateListRevoke) {
  TempWorkspace ws;
  const std::string dir = ws.root().string();
  CliResult created = RunCli({"token", "create", "--name", "dana", "--workspace", dir});
  ASSERT_EQ(created.exit_code, 0);
  ASSERT_EQ(created.out.rfind("alk_", 0), 0u) << created.out;
  EXPECT_EQ(created.out.size(), 4u + 43u + 1u);  // "alk_" + 32 bytes base64url + newline
  EXPECT_EQ(RunCli({"token", "create", "--name", "dana", "--workspace", dir}).exit_code, 1);  // name in use
  EXPECT_NE(RunCli({"token", "create", "--name", "eve", "--role", "root", "--workspace", dir}).exit_code, 0);
  EXPECT_NE(RunCli({"token", "create", "--name", "a b", "--workspace", dir}).exit_code, 0);
  ASSERT_EQ(RunCli({"token", "create", "--name", "erin", "--role", "admin", "--workspace", dir}).exit_code, 0);
  CliResult list = RunCli({"token", "list", "--json", "--workspace", dir});
  ASSERT_EQ(list.exit_code, 0);
  Json items = ParseJson(list.out).value()["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["name"], "erin");
  EXPECT_EQ(items[0]["role"], "admin");
  EXPECT_EQ(items[1]["name"], "dana");
  EXPECT_EQ(items[1]["revoked"], false);
  EXPECT_EQ(list.out.find(created.out.substr(4, 43)), std::string::npos);  // never the secret
  const std::string id = items[1]["id"];
  EXPECT_EQ(RunCli({"token", "revoke", id, "--workspace", dir}).exit_code, 0);
  EXPECT_EQ(RunCli({"token", "revoke", "nobody", "--workspace", dir}).exit_code, 1);
  Json after = ParseJson(RunCli({"token", "list", "--json", "--workspace", dir}).out).value()["items"];
  EXPECT_EQ(after[1]["revoked"], true);
  CliResult table = RunCli({"token", "list", "--workspace", dir});
  EXPECT_NE(table.out.find("revoked"), std::string::npos);
  // The name of a revoked token can be given to its replacement.
  EXPECT_EQ(RunCli({"token", "create", "--name", "dana", "--workspace", dir}).exit_code, 0);
  // Creating and revoking are audited.
  auto audit = ReadFile(ws.root() / "reports" / "audit.log");
  ASSERT_TRUE(audit.ok());
  EXPECT_NE(audit->find("\"action\":\"token.create\""), std::string::npos);
  EXPECT_NE(audit->find("\"action\":\"token.revoke\""), std::string::npos);
}

// The config center with auth on (docs/security.md): every signed-in caller reads (list, file,
// the rdagent views); history is per owner (a user sees only entries they made, a diff against
// another's is 403); writes and rollbacks are admin-only, a user's are 403 with nothing changed
// and audited "denied" like a refused job.cancel.
TEST(AuthConfigsTest, UsersReadConfigsAdminsWriteAndRollBackRefusalsAreAudited) {
  TempWorkspace ws(
      "auth:\n  mode: token\n"
      "roots:\n  rdagent: tools/rdagent\n"
      "configs:\n  rdagent:\n    root: rdagent\n    files:\n      - {path: .env, kind: env}\n"
      "      - rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml\n");
  fs::copy(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools", ws.root() / "tools", fs::copy_options::recursive);
  const std::string user = CreateToken(ws.root(), "carol", "user");
  const std::string admin = CreateToken(ws.root(), "root", "admin");
  ServerProcess server(ws.root());
  ASSERT_TRUE(server.Start());
  auto as = [&](const std::string& token, const std::string& method, const std::string& target, const Json& body = Json()) {
    std::vector<std::string> h{Bearer(token)};
    if (method != "GET") h.push_back(kJson);
    return Raw(server.port(), method, target, h, body.is_null() ? "" : DumpJson(body));
  };
  const std::string tpl = "rdagent:rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml";
  const std::string tpl_q = "rdagent%3Ardagent%2Fscenarios%2Fqlib%2Fexperiment%2Ffactor_template%2Fconf_baseline.yaml";
  const fs::path disk = ws.root() / "tools/rdagent/rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml";
  RawResponse read = as(user, "GET", "/api/configs/file?path=" + tpl_q);
  ASSERT_EQ(read.status, 200) << read.body;
  const Json file = ParseJson(read.body).value();
  const std::string v1 = file["content"];

  // A user's write and rollback: 403, file untouched.
  const Json edit{{"path", tpl}, {"content", v1 + "# carol\n"}, {"base_sha256", file["sha256"]}};
  RawResponse denied = as(user, "PUT", "/api/configs/file", edit);
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_EQ(ParseJson(denied.body).value()["error"]["code"], "PERMISSION_DENIED");
  EXPECT_EQ(as(user, "PUT", "/api/rdagent/env", Json{{"content", "A=1\n"}, {"base_sha256", "x"}}).status, 403);
  EXPECT_EQ(as(user, "POST", "/api/configs/rollback", Json{{"path", tpl}, {"history_id", 1}}).status, 403);
  EXPECT_EQ(as(user, "POST", "/api/rdagent/templates/rollback", Json{{"file", "conf_baseline.yaml"}, {"history_id", 1}}).status,
            403);
  EXPECT_EQ(ReadFile(disk).value(), v1);

  // The admin writes and reads its history and diff; the user sees none of the admin's history
  // entries (issue 12: 403 on another owner's config history); the admin rolls back.
  RawResponse wrote = as(admin, "PUT", "/api/configs/file", edit);
  ASSERT_EQ(wrote.status, 200) << wrote.body;
  const int64_t hid = ParseJson(wrote.body).value()["history_id"];
  RawResponse hist = as(admin, "GET", "/api/configs/history?path=" + tpl_q);
  ASSERT_EQ(hist.status, 200) << hist.body;
  EXPECT_EQ(ParseJson(hist.body).value()["items"][0]["operator"], "root");
  RawResponse user_hist = as(user, "GET", "/api/configs/history?path=" + tpl_q);
  ASSERT_EQ(user_hist.status, 200) << user_hist.body;
  EXPECT_EQ(ParseJson(user_hist.body).value()["items"].size(), 0u) << user_hist.body;
  EXPECT_EQ(ParseJson(user_hist.body).value()["total"], 0) << user_hist.body;
  const std::string diff_q = "/api/configs/diff?path=" + tpl_q + "&from=" + std::to_string(hid) + "&to=current";
  EXPECT_EQ(as(user, "GET", diff_q).status, 403);
  RawResponse diff = as(admin, "GET", diff_q);
  ASSERT_EQ(diff.status, 200) << diff.body;
  EXPECT_NE(ParseJson(diff.body).value()["diff"].get<std::string>().find("+# carol"), std::string::npos);
  RawResponse user_tpl_hist = as(user, "GET", "/api/rdagent/templates/history?file=conf_baseline.yaml");
  EXPECT_EQ(user_tpl_hist.status, 200);
  EXPECT_EQ(ParseJson(user_tpl_hist.body).value()["items"].size(), 0u) << user_tpl_hist.body;
  EXPECT_EQ(as(user, "GET", "/api/rdagent/env").status, 200);
  EXPECT_EQ(as(user, "POST", "/api/configs/rollback", Json{{"path", tpl}, {"history_id", hid}}).status, 403);
  RawResponse rolled = as(admin, "POST", "/api/configs/rollback", Json{{"path", tpl}, {"history_id", hid}});
  ASSERT_EQ(rolled.status, 200) << rolled.body;
  EXPECT_EQ(ReadFile(disk).value(), v1);

  // The audit log: the user's refusals as denied (with their target), the admin's actions as ok.
  auto audit = ReadFile(ws.root() / "reports" / "audit.log");
  ASSERT_TRUE(audit.ok());
  std::vector<std::string> carol, root;
  std::istringstream lines(*audit);
  for (std::string line; std::getline(lines, line);) {
    const Json j = ParseJson(line).value();
    const std::string entry = j.value("action", "") + ":" + j.value("outcome", "") + ":" + j.value("target", "");
    (j.value("actor", "") == "carol" ? carol : root).push_back(entry);
  }
  const std::vector<std::string> want_carol{"config.write:denied:" + tpl, "config.write:denied:rdagent:.env",
                                            "config.rollback:denied:" + tpl, "config.rollback:denied:rdagent:conf_baseline.yaml",
                                            "config.rollback:denied:" + tpl};
  EXPECT_EQ(carol, want_carol);
  EXPECT_NE(std::find(root.begin(), root.end(), "config.write:ok:" + tpl), root.end());
  EXPECT_NE(std::find(root.begin(), root.end(), "config.rollback:ok:" + tpl), root.end());
  EXPECT_EQ(audit->find("# carol"), std::string::npos);  // never the content
}

}  // namespace
}  // namespace alphalab::testing

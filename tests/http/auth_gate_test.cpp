// The auth gate (http/auth.hpp) on a Router with the in-memory token store and a fake clock:
// the Host, Origin and Content-Type checks, bearer and cookie authentication, session expiry,
// revocation, and the owner accessors handlers use.
#include "http/auth.hpp"

#include <gtest/gtest.h>

#include "core/json.hpp"
#include "core/secret.hpp"
#include "http/api_error.hpp"
#include "store/fake_token_store.hpp"

namespace alphalab::http {
namespace {

class AuthGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddToken("tok_a", "alice", "user", "alk_alice");
    AddToken("tok_r", "root", "admin", "alk_root");
  }
  void AddToken(const std::string& id, const std::string& name, const std::string& role, const std::string& secret) {
    TokenRecord t;
    t.id = id;
    t.name = name;
    t.role = role;
    t.hash = Sha256Hex(secret);
    t.created_at = clock_.Now();
    ASSERT_TRUE(tokens_.CreateToken(t).ok());
  }
  AuthGate MakeGate(AuthMode mode, std::chrono::milliseconds ttl = std::chrono::milliseconds(5000)) {
    AuthGateOptions o;
    o.mode = mode;
    o.bound_host = "127.0.0.1";
    o.hosts = {"lab.example.org", "other.example:9000"};
    o.origins = {"https://lab.example.org"};
    o.session_hours = 1;
    o.cache_ttl = ttl;
    return AuthGate(o, &tokens_, clock_, nullptr);
  }
  static HttpRequest Req(HttpMethod m, std::string path, std::map<std::string, std::string> headers) {
    HttpRequest r;
    r.method = m;
    r.method_name = std::string(HttpMethodName(m));
    r.path = std::move(path);
    r.headers = std::move(headers);
    if (!r.headers.count("host")) r.headers["host"] = "127.0.0.1:8000";
    return r;
  }
  static int StatusOf(const std::optional<HttpResponse>& r) { return r ? r->status : 0; }

  FakeClock clock_{TimePoint(std::chrono::seconds(1796083200))};
  FakeTokenStore tokens_;
};

TEST_F(AuthGateTest, HostMustNameTheServer) {
  AuthGate gate = MakeGate(AuthMode::kNone);
  for (const char* ok : {"127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "10.1.2.3:80",
                         "lab.example.org", "lab.example.org:8443", "other.example:9000", ""}) {
    EXPECT_TRUE(gate.HostAllowed(ok)) << ok;
  }
  for (const char* bad : {"evil.example", "evil.example:8000", "127.0.0.1.evil.example", "other.example:9001",
                          "localhost.evil.example"}) {
    EXPECT_FALSE(gate.HostAllowed(bad)) << bad;
    auto req = Req(HttpMethod::kGet, "/api/health", {{"host", bad}});
    EXPECT_EQ(StatusOf(gate.Check(req, true)), 421) << bad;
  }
}

TEST_F(AuthGateTest, OriginMustBeTheServersOwnOrConfigured) {
  AuthGate gate = MakeGate(AuthMode::kNone);
  EXPECT_TRUE(gate.OriginAllowed("http://127.0.0.1:8000", "127.0.0.1:8000"));
  EXPECT_TRUE(gate.OriginAllowed("https://lab.example.org", "127.0.0.1:8000"));
  EXPECT_FALSE(gate.OriginAllowed("http://127.0.0.1:9999", "127.0.0.1:8000"));
  EXPECT_FALSE(gate.OriginAllowed("null", "127.0.0.1:8000"));
  EXPECT_FALSE(gate.OriginAllowed("http://evil.example", "127.0.0.1:8000"));
  auto req = Req(HttpMethod::kGet, "/api/jobs/recent", {{"origin", "http://evil.example"}});
  EXPECT_EQ(StatusOf(gate.Check(req, false)), 403);
  auto same = Req(HttpMethod::kPost, "/api/jobs", {{"origin", "http://127.0.0.1:8000"}, {"content-type", "application/json"}});
  EXPECT_EQ(StatusOf(gate.Check(same, false)), 0);
}

TEST_F(AuthGateTest, StateChangingRequestsNeedJson) {
  AuthGate gate = MakeGate(AuthMode::kNone);
  for (HttpMethod m : {HttpMethod::kPost, HttpMethod::kPut, HttpMethod::kPatch, HttpMethod::kDelete}) {
    auto plain = Req(m, "/api/jobs", {{"content-type", "text/plain"}});
    EXPECT_EQ(StatusOf(gate.Check(plain, false)), 415);
    auto none = Req(m, "/api/jobs", {});
    EXPECT_EQ(StatusOf(gate.Check(none, false)), 415);
    auto form = Req(m, "/api/jobs", {{"content-type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(StatusOf(gate.Check(form, false)), 415);
    auto json = Req(m, "/api/jobs", {{"content-type", "Application/JSON; charset=utf-8"}});
    EXPECT_EQ(StatusOf(gate.Check(json, false)), 0);
  }
  auto get = Req(HttpMethod::kGet, "/api/jobs/recent", {});
  EXPECT_EQ(StatusOf(gate.Check(get, false)), 0);
  EXPECT_FALSE(get.principal.has_value());  // auth none: nobody, and everything allowed
  EXPECT_TRUE(CheckOwner(get, std::string("bob"), "job x").ok());
  EXPECT_FALSE(OwnerId(get).has_value());
}

TEST_F(AuthGateTest, BearerTokensAndThePrincipalAccessors) {
  AuthGate gate = MakeGate(AuthMode::kToken);
  auto none = Req(HttpMethod::kGet, "/api/jobs/recent", {});
  auto refused = gate.Check(none, false);
  ASSERT_EQ(StatusOf(refused), 401);
  auto wrong = Req(HttpMethod::kGet, "/api/jobs/recent", {{"authorization", "Bearer alk_nope"}});
  EXPECT_EQ(StatusOf(gate.Check(wrong, false)), 401);
  for (const char* path : {"/api/health", "/api/session", "/api/openapi.json", "/", "/jobs/x"}) {
    auto pub = Req(HttpMethod::kGet, path, {});
    EXPECT_EQ(StatusOf(gate.Check(pub, false)), 0) << path;
  }
  auto metrics = Req(HttpMethod::kGet, "/metrics", {});
  EXPECT_EQ(StatusOf(gate.Check(metrics, true)), 401);
  auto alice = Req(HttpMethod::kGet, "/api/jobs/recent", {{"authorization", "Bearer alk_alice"}});
  ASSERT_EQ(StatusOf(gate.Check(alice, false)), 0);
  EXPECT_EQ(OwnerId(alice), "alice");
  EXPECT_EQ(OwnerFilter(alice), "alice");
  EXPECT_TRUE(CheckOwner(alice, std::string("alice"), "job x").ok());
  EXPECT_EQ(CheckOwner(alice, std::string("bob"), "job x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckOwner(alice, std::nullopt, "job x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(RequireAdmin(alice).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(tokens_.GetToken("tok_a")->last_used, clock_.Now());  // not an inline route: recorded
  auto root = Req(HttpMethod::kGet, "/api/jobs/recent", {{"authorization", "bearer alk_root"}});
  ASSERT_EQ(StatusOf(gate.Check(root, true)), 0);
  EXPECT_EQ(OwnerId(root), "root");
  EXPECT_FALSE(OwnerFilter(root).has_value());
  EXPECT_TRUE(CheckOwner(root, std::string("bob"), "job x").ok());
  EXPECT_TRUE(RequireAdmin(root).ok());
  EXPECT_FALSE(tokens_.GetToken("tok_r")->last_used.has_value());  // inline route: no write
}

TEST_F(AuthGateTest, RevocationTakesEffectAfterTheCacheTtl) {
  AuthGate gate = MakeGate(AuthMode::kToken, std::chrono::milliseconds(0));
  auto first = Req(HttpMethod::kGet, "/api/jobs/recent", {{"authorization", "Bearer alk_alice"}});
  ASSERT_EQ(StatusOf(gate.Check(first, false)), 0);
  ASSERT_TRUE(tokens_.RevokeToken("tok_a", clock_.Now()).ok());
  auto again = Req(HttpMethod::kGet, "/api/jobs/recent", {{"authorization", "Bearer alk_alice"}});
  EXPECT_EQ(StatusOf(gate.Check(again, false)), 401);
}

TEST_F(AuthGateTest, SessionsLogInExpireAndLogOut) {
  AuthGate gate = MakeGate(AuthMode::kToken, std::chrono::milliseconds(0));
  auto login = Req(HttpMethod::kPost, "/api/session", {{"content-type", "application/json"}});
  login.body = R"({"token":"alk_alice"})";
  auto res = gate.Login(login);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  std::string cookie;
  for (const auto& [k, v] : res->headers) {
    if (k == "Set-Cookie") cookie = v.substr(0, v.find(';'));
  }
  ASSERT_EQ(cookie.rfind("alphalab_session=", 0), 0u);
  auto with = Req(HttpMethod::kGet, "/api/jobs/recent", {{"cookie", "theme=dark; " + cookie}});
  ASSERT_EQ(StatusOf(gate.Check(with, false)), 0);
  EXPECT_EQ(OwnerId(with), "alice");
  clock_.Advance(std::chrono::minutes(61));  // session_hours: 1
  auto expired = Req(HttpMethod::kGet, "/api/jobs/recent", {{"cookie", cookie}});
  EXPECT_EQ(StatusOf(gate.Check(expired, false)), 401);

  auto relogin = gate.Login(login);
  ASSERT_TRUE(relogin.ok());
  std::string cookie2;
  for (const auto& [k, v] : relogin->headers) {
    if (k == "Set-Cookie") cookie2 = v.substr(0, v.find(';'));
  }
  auto logout = Req(HttpMethod::kDelete, "/api/session", {{"cookie", cookie2}});
  ASSERT_TRUE(gate.Logout(logout).ok());
  auto after = Req(HttpMethod::kGet, "/api/jobs/recent", {{"cookie", cookie2}});
  EXPECT_EQ(StatusOf(gate.Check(after, false)), 401);

  auto bad = Req(HttpMethod::kPost, "/api/session", {});
  bad.body = R"({"token":"alk_wrong"})";
  EXPECT_EQ(gate.Login(bad).status().code(), StatusCode::kUnauthenticated);
  AuthGate off = MakeGate(AuthMode::kNone);
  EXPECT_EQ(off.Login(login).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(AuthGateTest, SignInAttemptsAreLimitedPerClientAddress) {
  AuthGateOptions o;
  o.mode = AuthMode::kToken;
  o.login_burst = 3;
  o.login_refill = std::chrono::seconds(10);
  AuthGate gate(o, &tokens_, clock_, nullptr);
  auto login = [&](const std::string& remote, const std::string& token) {
    auto r = Req(HttpMethod::kPost, "/api/session", {{"content-type", "application/json"}});
    r.remote = remote;
    r.body = "{\"token\":\"" + token + "\"}";
    return gate.Login(r);
  };
  auto status_of = [](const Result<HttpResponse>& r) { return r.ok() ? r->status : HttpStatusFor(r.status().code()); };
  auto retry_after = [](const Result<HttpResponse>& r) {
    if (!r.ok()) return std::string();
    for (const auto& [k, v] : r->headers) {
      if (k == "Retry-After") return v;
    }
    return std::string();
  };
  // Successful sign-ins never use the budget up.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(status_of(login("10.0.0.1:4000", "alk_alice")), 200) << i;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status_of(login("10.0.0.1:4001", "alk_wrong")), 401) << i;
  auto limited = login("10.0.0.1:4002", "alk_wrong");
  EXPECT_EQ(status_of(limited), 429);
  EXPECT_EQ(retry_after(limited), "10");
  ASSERT_TRUE(limited.ok());
  auto body = ParseJson(limited->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["error"]["code"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ((*body)["error"]["details"]["retry_after_s"], 10);
  // While limited even the right token is refused (no guessing through), from that address only.
  EXPECT_EQ(status_of(login("10.0.0.1:4003", "alk_alice")), 429);
  EXPECT_EQ(status_of(login("10.0.0.2:4000", "alk_alice")), 200);
  EXPECT_EQ(status_of(login("10.0.0.2:4000", "alk_wrong")), 401);
  // Half the refill: still 5 s to wait; a whole one: one more attempt.
  clock_.Advance(std::chrono::seconds(5));
  EXPECT_EQ(retry_after(login("10.0.0.1:1", "alk_wrong")), "5");
  clock_.Advance(std::chrono::seconds(5));
  EXPECT_EQ(status_of(login("10.0.0.1:1", "alk_alice")), 200);
  EXPECT_EQ(status_of(login("10.0.0.1:1", "alk_wrong")), 401);  // the success gave its attempt back
  EXPECT_EQ(status_of(login("10.0.0.1:1", "alk_wrong")), 429);
}

TEST(ClientAddressTest, StripsThePort) {
  EXPECT_EQ(ClientAddress("127.0.0.1:53422"), "127.0.0.1");
  EXPECT_EQ(ClientAddress("[::1]:8000"), "::1");
  EXPECT_EQ(ClientAddress("::1"), "::1");
  EXPECT_EQ(ClientAddress("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(ClientAddress(""), "");
}

}  // namespace
}  // namespace alphalab::http

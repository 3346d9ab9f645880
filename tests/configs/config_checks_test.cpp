// The Test actions (configs/config_checks.hpp through ConfigService::Check): the template
// consistency check with a deliberate mismatch, the Qlib layout on a generated folder (good and
// broken), and the LLM check against a local stand-in endpoint (reachable, 401, refused, slow).
#include "configs/config_checks.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "configs/configs_fixture.hpp"

namespace alphalab::testing {
namespace {

// One-connection-at-a-time stand-in for an OpenAI-compatible /models endpoint.
class StandInLlm {
 public:
  enum class Mode { kOk, kUnauthorized, kSlow, kNotJson };
  explicit StandInLlm(Mode mode) : mode_(mode) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~StandInLlm() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string last_request() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  void Serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_ = req;
      }
      std::string body, status = "200 OK";
      switch (mode_) {
        case Mode::kOk: body = R"({"object":"list","data":[{"id":"gpt-4o"},{"id":"gpt-4.1"}]})"; break;
        case Mode::kUnauthorized: status = "401 Unauthorized"; body = R"({"error":"bad key"})"; break;
        case Mode::kNotJson: body = "<html>hello</html>"; break;
        case Mode::kSlow:
          for (int i = 0; i < 60 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
          body = "{}";
          break;
      }
      const std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      (void)!::write(c, resp.data(), resp.size());
      ::close(c);
    }
  }
  Mode mode_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::string last_;
};

class ConfigChecksTest : public ConfigsFixture {
 protected:
  void PointEnvAt(const std::string& base_url) {
    std::string env = Slurp(Disk(kEnv));
    env.replace(env.find("https://xxx-litellm.com/v1"), 26, base_url);
    Spit(Disk(kEnv), env);
  }
  Json Llm(std::chrono::milliseconds timeout) {
    configs::ConfigServiceOptions o;
    o.llm_timeout = timeout;
    Rebuild(probe_.get(), o);
    auto r = svc_->Check("rdagent", "llm", std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["checks"]["llm"] : Json();
  }
  std::unique_ptr<configs::LlmProbe> probe_ = configs::MakeBeastLlmProbe();
};

TEST_F(ConfigChecksTest, TheExampleTemplatesAgree) {
  auto r = svc_->Check("rdagent", "consistency", std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Json& c = (*r)["checks"]["consistency"];
  EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
  EXPECT_EQ(c["files"].size(), 5u);
  EXPECT_EQ(c["values"]["market"], "csi300");
}

TEST_F(ConfigChecksTest, AMarketMismatchIsNamedWithBothFiles) {
  std::string t = Slurp(Disk(kModelTpl));
  t.replace(t.find("market: &market csi300"), 22, "market: &market csi500");
  Spit(Disk(kModelTpl), t);
  auto r = svc_->Check("rdagent", "consistency", std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)["ok"].get<bool>());
  const Json& m = (*r)["checks"]["consistency"]["mismatches"];
  ASSERT_EQ(m.size(), 1u) << m.dump();
  EXPECT_EQ(m[0]["key"], "market");
  EXPECT_EQ(m[0]["file"], kModelTpl);
  EXPECT_EQ(m[0]["value"], "csi500");
  EXPECT_EQ(m[0]["expected"], "csi300");
}

TEST_F(ConfigChecksTest, ASegmentMismatchIsFound) {
  std::string t = Slurp(Disk(kBaseline));
  const std::string from = "train_end | default(\"2014-12-31\", true)";
  t.replace(t.find(from, t.find("segments:")), from.size(), "train_end | default(\"2015-06-30\", true)");
  Spit(Disk(kBaseline), t);
  auto r = svc_->Check("rdagent", "consistency", std::nullopt);
  ASSERT_TRUE(r.ok());
  bool segments = false;
  for (const Json& m : (*r)["checks"]["consistency"]["mismatches"]) segments = segments || m["key"] == "segments";
  EXPECT_TRUE(segments) << r->dump();
}

void MakeQlibDir(const fs::path& dir, bool complete) {
  Spit(dir / "calendars/day.txt", "2020-01-02\n2020-01-03\n");
  Spit(dir / "instruments/csi300.txt", "SH600000\t2008-01-02\t2020-09-25\nSZ000001\t2008-01-02\t2020-09-25\n");
  Spit(dir / "features/sh600000/close.day.bin", "bin");
  if (complete) Spit(dir / "features/sz000001/close.day.bin", "bin");
  else fs::create_directories(dir / "features/sz000001");
}

TEST_F(ConfigChecksTest, QlibLayoutGoodAndBroken) {
  MakeQlibDir(ws_ / "data/qlib_ok", true);
  auto ok = svc_->Check("rdagent", "qlib", (ws_ / "data/qlib_ok").string());
  ASSERT_TRUE(ok.ok());
  const Json& q = (*ok)["checks"]["qlib"];
  EXPECT_TRUE(q["ok"].get<bool>()) << q.dump();
  EXPECT_EQ(q["checked_instruments"], 2);

  MakeQlibDir(ws_ / "data/qlib_bad", false);
  fs::remove(ws_ / "data/qlib_bad/calendars/day.txt");
  auto bad = svc_->Check("rdagent", "qlib", std::string("data/qlib_bad"));
  ASSERT_TRUE(bad.ok());
  const Json& b = (*bad)["checks"]["qlib"];
  EXPECT_FALSE(b["ok"].get<bool>());
  EXPECT_EQ(b["missing"], Json::array({"calendars/day.txt", "features/sz000001/*.day.bin (instrument SZ000001)"}))
      << b.dump();

  fs::remove(ws_ / "data/qlib_bad/instruments/csi300.txt");
  auto no_inst = svc_->Check("rdagent", "qlib", std::string("data/qlib_bad"));
  EXPECT_NE((*no_inst)["checks"]["qlib"]["missing"].dump().find("instruments/csi300.txt"), std::string::npos);
}

TEST_F(ConfigChecksTest, QlibFolderOutsideEveryRootIsNotRead) {
  TempDir elsewhere;
  MakeQlibDir(elsewhere.path(), true);
  auto r = svc_->Check("rdagent", "qlib", elsewhere.path().string());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)["checks"]["qlib"]["ok"].get<bool>());
  EXPECT_NE((*r)["checks"]["qlib"]["error"].get<std::string>().find("not inside the workspace"), std::string::npos);
  // The templates' own default (~/.qlib/...) is outside too: reported, not read.
  auto dflt = svc_->Check("rdagent", "qlib", std::nullopt);
  EXPECT_FALSE((*dflt)["checks"]["qlib"]["ok"].get<bool>());
}

TEST_F(ConfigChecksTest, LlmReachableSendsTheConfiguredKey) {
  StandInLlm llm(StandInLlm::Mode::kOk);
  PointEnvAt("http://127.0.0.1:" + std::to_string(llm.port()) + "/v1");
  const Json r = Llm(std::chrono::milliseconds(2000));
  EXPECT_EQ(r["outcome"], "reachable") << r.dump();
  EXPECT_EQ(r["api_key"], "********");
  EXPECT_NE(llm.last_request().find("GET /v1/models HTTP/1.1"), std::string::npos) << llm.last_request();
  EXPECT_NE(llm.last_request().find("Bearer sk-chat-key"), std::string::npos);
  EXPECT_EQ(r.dump().find("sk-chat-key"), std::string::npos);
}

TEST_F(ConfigChecksTest, LlmAuthFailedRefusedTimedOutAndBadResponse) {
  {
    StandInLlm llm(StandInLlm::Mode::kUnauthorized);
    PointEnvAt("http://127.0.0.1:" + std::to_string(llm.port()) + "/v1");
    const Json r = Llm(std::chrono::milliseconds(2000));
    EXPECT_EQ(r["outcome"], "auth_failed") << r.dump();
    EXPECT_EQ(r["http_status"], 401);
  }
  {
    // A port nobody listens on.
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    const int port = ntohs(addr.sin_port);
    ::close(s);
    Spit(Disk(kEnv), Slurp(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools/rdagent/.env"));
    PointEnvAt("http://127.0.0.1:" + std::to_string(port) + "/v1");
    const Json r = Llm(std::chrono::milliseconds(2000));
    EXPECT_EQ(r["outcome"], "refused") << r.dump();
  }
  {
    StandInLlm llm(StandInLlm::Mode::kSlow);
    Spit(Disk(kEnv), Slurp(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools/rdagent/.env"));
    PointEnvAt("http://127.0.0.1:" + std::to_string(llm.port()) + "/v1");
    const auto start = std::chrono::steady_clock::now();
    const Json r = Llm(std::chrono::milliseconds(300));  // the 5 s default, made short for the test
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r["outcome"], "timed_out") << r.dump();
    EXPECT_LT(took, std::chrono::milliseconds(2000));
  }
  {
    StandInLlm llm(StandInLlm::Mode::kNotJson);
    Spit(Disk(kEnv), Slurp(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools/rdagent/.env"));
    PointEnvAt("http://127.0.0.1:" + std::to_string(llm.port()) + "/v1");
    const Json r = Llm(std::chrono::milliseconds(2000));
    EXPECT_EQ(r["outcome"], "bad_response") << r.dump();
  }
}

TEST(ConfigChecksUnitTest, ValidateYamlNamesTheLine) {
  EXPECT_TRUE(configs::ValidateYaml("a: {{ x }}\nb: [{{ y | default(\"1\", true) }}, 2]\n").ok());
  auto bad = configs::ValidateYaml("a: 1\nb: [1, 2\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.details().contains("line"));
}

}  // namespace
}  // namespace alphalab::testing

// The config center over real HTTP: a real `alphalab serve` on a temp workspace with a copy of
// the example RD-Agent stand-in declared under roots:/configs:. Read (masked), stale 409, write,
// history, diff, rollback, the rdagent views, hostile paths, and history + drift across a kill -9
// and restart.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "integration/server_harness.hpp"

namespace alphalab::testing {
namespace {

constexpr const char* kTools =
    "roots:\n"
    "  rdagent: tools/rdagent\n"
    "configs:\n"
    "  rdagent:\n"
    "    root: rdagent\n"
    "    files:\n"
    "      - {path: .env, kind: env}\n"
    "      - rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml\n"
    "      - rdagent/scenarios/qlib/experiment/model_template/conf_baseline_factors_model.yaml\n"
    "      - {path: rdagent/scenarios/qlib/prompts.yaml, readonly: true}\n";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Q(const std::string& s) { return QueryEscape(s); }

class ConfigsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools", ws_.root() / "tools",
             fs::copy_options::recursive);
    server_ = std::make_unique<ServerProcess>(ws_.root());
    ASSERT_TRUE(server_->Start());
  }
  http::ClientResponse Put(const std::string& target, const Json& body) {
    auto r = server_->client().Request("PUT", target, DumpJson(body));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : http::ClientResponse{};
  }
  TempWorkspace ws_{kTools};
  std::unique_ptr<ServerProcess> server_;
  const std::string tpl_ = "rdagent:rdagent/scenarios/qlib/experiment/model_template/conf_baseline_factors_model.yaml";
  fs::path Disk(const std::string& rel) { return ws_.root() / "tools/rdagent" / rel; }
};

TEST_F(ConfigsApiTest, EditHistoryDiffRollbackOverHttp) {
  const Json list = server_->GetJson("/api/configs");
  ASSERT_EQ(list["tools"][0]["files"].size(), 4u);

  const Json env = server_->GetJson("/api/configs/file?path=" + Q("rdagent:.env"));
  const std::string shown = env["content"];
  EXPECT_EQ(shown.find("sk-chat-key"), std::string::npos);
  std::string edited = shown;
  edited.replace(edited.find("MAX_RETRY=10"), 12, "MAX_RETRY=3");
  auto put = Put("/api/rdagent/env", Json{{"content", edited}, {"base_sha256", env["sha256"]}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_NE(Slurp(Disk(".env")).find("OPENAI_API_KEY=\"sk-chat-key\""), std::string::npos);
  EXPECT_NE(Slurp(Disk(".env")).find("MAX_RETRY=3"), std::string::npos);
  // The same base again is stale.
  auto stale = Put("/api/rdagent/env", Json{{"content", edited}, {"base_sha256", env["sha256"]}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_NE(stale.body.find(Json::parse(put.body)["sha256"].get<std::string>()), std::string::npos);

  const Json tpl = server_->GetJson("/api/configs/file?path=" + Q(tpl_));
  const std::string v1 = tpl["content"];
  auto w = Put("/api/configs/file", Json{{"path", tpl_}, {"content", v1 + "# tuned\n"}, {"base_sha256", tpl["sha256"]},
                                         {"note", "tune"}});
  ASSERT_EQ(w.status, 200) << w.body;
  const int64_t id = Json::parse(w.body)["history_id"];
  const Json hist = server_->GetJson("/api/configs/history?path=" + Q(tpl_));
  ASSERT_EQ(hist["items"].size(), 1u);
  EXPECT_EQ(hist["items"][0]["note"], "tune");
  EXPECT_EQ(hist["items"][0]["operator"], "local");
  EXPECT_EQ(Slurp(ws_.root() / hist["items"][0]["history_path"].get<std::string>()), v1);
  const Json diff = server_->GetJson("/api/configs/diff?path=" + Q(tpl_) + "&from=" + std::to_string(id) + "&to=current");
  EXPECT_NE(diff["diff"].get<std::string>().find("+# tuned\n"), std::string::npos);
  auto rb = server_->Post("/api/rdagent/templates/rollback",
                          Json{{"file", "conf_baseline_factors_model.yaml"}, {"history_id", id}});
  ASSERT_EQ(rb.status, 200) << rb.body;
  EXPECT_EQ(Slurp(Disk("rdagent/scenarios/qlib/experiment/model_template/conf_baseline_factors_model.yaml")), v1);
  const Json th = server_->GetJson("/api/rdagent/templates/history?file=conf_baseline_factors_model.yaml");
  EXPECT_EQ(th["total"], 2);
  EXPECT_EQ(th["items"][0]["event"], "rollback");

  // Survives a kill -9; a hand edit meanwhile shows as drift and is backed up by the next write.
  server_->Kill9();
  const fs::path base = Disk("rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml");
  {
    std::ofstream(base, std::ios::app) << "# by hand\n";
  }
  ASSERT_TRUE(server_->Start());
  const Json th2 = server_->GetJson("/api/rdagent/templates/history?file=conf_baseline_factors_model.yaml");
  EXPECT_EQ(th2["total"], 2);
  const std::string basep = "rdagent:rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml";
  const Json b = server_->GetJson("/api/configs/file?path=" + Q(basep));
  EXPECT_TRUE(b["drift"].get<bool>()) << b.dump().substr(0, 300);
  auto w2 = Put("/api/configs/file", Json{{"path", basep}, {"content", b["content"].get<std::string>() + "# 2\n"},
                                          {"base_sha256", b["sha256"]}});
  ASSERT_EQ(w2.status, 200) << w2.body;
  EXPECT_FALSE(Json::parse(w2.body)["drift_history_id"].is_null());
}

TEST_F(ConfigsApiTest, BadRequestsAreEnvelopesAndWriteNothing) {
  const std::string before = Slurp(Disk(".env"));
  for (const std::string& p : {std::string("rdagent:../../alphalab.yaml"), std::string("rdagent:/etc/passwd"),
                               std::string("nope:.env")}) {
    auto r = server_->Get("/api/configs/file?path=" + Q(p));
    EXPECT_EQ(r.status, 404) << p << " " << r.body;
  }
  EXPECT_EQ(server_->Get("/api/configs/file?path=noColon").status, 400);
  EXPECT_EQ(server_->Get("/api/configs/file").status, 400);
  EXPECT_EQ(server_->Get("/api/configs/file?path=" + Q("rdagent:.env") + "&colour=1").status, 400);
  const Json env = server_->GetJson("/api/configs/file?path=" + Q("rdagent:.env"));
  auto bad = Put("/api/configs/file", Json{{"path", "rdagent:.env"}, {"content", "A=1\nbroken line\n"},
                                           {"base_sha256", env["sha256"]}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("line 2"), std::string::npos) << bad.body;
  auto ro = Put("/api/configs/file", Json{{"path", "rdagent:rdagent/scenarios/qlib/prompts.yaml"}, {"content", "a: 1\n"},
                                          {"base_sha256", "x"}});
  EXPECT_EQ(ro.status, 403) << ro.body;
  auto unknown = Put("/api/configs/file", Json{{"path", "rdagent:.env"}, {"content", "A=1\n"}, {"base_sha256", "x"},
                                               {"colour", "red"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Slurp(Disk(".env")), before);
  EXPECT_FALSE(fs::exists(ws_.root() / "history"));
  // A symlink planted among the managed files that points outside is refused.
  fs::remove(Disk("rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml"));
  fs::create_symlink("/etc/passwd", Disk("rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml"));
  auto leak = server_->Get("/api/configs/file?path=" +
                           Q("rdagent:rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml"));
  EXPECT_EQ(leak.status, 403) << leak.body;
  EXPECT_EQ(leak.body.find("root:"), std::string::npos);
}

}  // namespace
}  // namespace alphalab::testing

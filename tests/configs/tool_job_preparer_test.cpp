// configs/tool_job_preparer.hpp on a temp copy of the example RD-Agent stand-in: the .env into
// the job's environment, template copies (live or historical) with n_epochs/batch_size/n_jobs
// written in, hashes recorded, live files untouched, and Check's refusals.
#include "configs/tool_job_preparer.hpp"

#include "configs/configs_fixture.hpp"
#include "core/ids.hpp"

namespace alphalab::testing {
namespace {

class ToolJobPreparerTest : public ConfigsFixture {
 protected:
  JobTypeDecl Type() {
    JobTypeDecl t;
    t.key = "rdagent-fin-quant";
    t.tool = "rdagent";
    return t;
  }
  PreparedJob Job(Json params) {
    PreparedJob j;
    j.job_id = "job_1";
    j.type = "rdagent-fin-quant";
    j.tool = "rdagent";
    j.params = std::move(params);
    j.work_dir = ws_ / "reports/jobs/runtime/job_1/work";
    fs::create_directories(j.work_dir);
    return j;
  }
};

TEST_F(ToolJobPreparerTest, EnvTemplatesParamsAndHashes) {
  configs::ToolJobPreparer prep(*svc_);
  const std::string live = Slurp(Disk(kModelTpl));
  PreparedJob job = Job(Json{{"n_epochs", 7}, {"batch_size", 512}, {"n_jobs", 3}});
  ASSERT_TRUE(prep.Check(Type(), job.params).ok());
  ASSERT_TRUE(prep.Prepare(Type(), job).ok());
  EXPECT_EQ(job.env["OPENAI_API_KEY"], "sk-chat-key");
  EXPECT_EQ(job.env["CHAT_MODEL"], "gpt-4o");
  EXPECT_EQ(job.env["MAX_RETRY"], "10");
  const std::string copy =
      Slurp(job.work_dir / "rdagent/scenarios/qlib/experiment/model_template/conf_baseline_factors_model.yaml");
  EXPECT_NE(copy.find("            n_epochs: 7\n"), std::string::npos) << copy;
  EXPECT_NE(copy.find("            batch_size: 512\n"), std::string::npos);
  EXPECT_NE(copy.find("            n_jobs: 3\n"), std::string::npos);
  EXPECT_EQ(copy.find("{{ n_epochs }}"), std::string::npos);
  EXPECT_TRUE(configs::ValidateYaml(copy).ok());
  // The LightGBM baseline has none of these keys: copied unchanged.
  EXPECT_EQ(Slurp(job.work_dir / "rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml"),
            Slurp(Disk(kBaseline)));
  // Read-only prompts are not copied; the live files are untouched.
  EXPECT_FALSE(fs::exists(job.work_dir / "rdagent/scenarios/qlib/experiment/prompts.yaml"));
  EXPECT_EQ(Slurp(Disk(kModelTpl)), live);
  EXPECT_EQ(job.config_hashes[kModelTpl], Sha256Hex(live));
  EXPECT_EQ(job.config_hashes[kEnv], Sha256Hex(Slurp(Disk(kEnv))));
  EXPECT_EQ(job.config_hashes.size(), 6u);
}

TEST_F(ToolJobPreparerTest, ASourceHistoryIdRunsOnThatVersionAndLeavesTheLiveFile) {
  const std::string v1 = Slurp(Disk(kModelTpl));
  auto w = Write(kModelTpl, v1 + "# v2\n");
  ASSERT_TRUE(w.ok());
  const int64_t old_id = (*w)["history_id"];
  const std::string live = Slurp(Disk(kModelTpl));
  configs::ToolJobPreparer prep(*svc_);
  PreparedJob job = Job(Json{{"source_history_id", old_id}});
  ASSERT_TRUE(prep.Prepare(Type(), job).ok());
  const std::string copy =
      Slurp(job.work_dir / "rdagent/scenarios/qlib/experiment/model_template/conf_baseline_factors_model.yaml");
  EXPECT_EQ(copy, v1);
  EXPECT_EQ(job.config_hashes[kModelTpl], Sha256Hex(v1));
  EXPECT_EQ(Slurp(Disk(kModelTpl)), live);
}

TEST_F(ToolJobPreparerTest, CheckRefusesUnknownHistoryAndDisagreeingTemplates) {
  configs::ToolJobPreparer prep(*svc_);
  auto unknown = prep.Check(Type(), Json{{"source_history_id", 99}});
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.details()["field"], "source_history_id");
  EXPECT_EQ(prep.Check(Type(), Json{{"source_history_id", "abc"}}).code(), StatusCode::kInvalidArgument);
  JobTypeDecl other = Type();
  other.tool = "nope";
  EXPECT_EQ(prep.Check(other, Json::object()).code(), StatusCode::kInvalidArgument);

  std::string t = Slurp(Disk(kModelTpl));
  t.replace(t.find("market: &market csi300"), 22, "market: &market csi500");
  Spit(Disk(kModelTpl), t);
  auto mismatch = prep.Check(Type(), Json::object());
  ASSERT_EQ(mismatch.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.message().find("disagree"), std::string::npos);
  EXPECT_NE(mismatch.message().find("csi500"), std::string::npos);
  PreparedJob job = Job(Json::object());
  EXPECT_FALSE(prep.Prepare(Type(), job).ok());
  EXPECT_TRUE(fs::is_empty(job.work_dir));
}

TEST(SetModelKwargsTest, OnlyTaskModelKwargsLinesChange) {
  std::string y =
      "n_epochs: 1\n"
      "task:\n"
      "    model:\n"
      "        class: X\n"
      "        kwargs:\n"
      "            n_epochs: {{ n_epochs }}\n"
      "            lr: 0.1\n"
      "    dataset:\n"
      "        kwargs:\n"
      "            n_epochs: 3\n";
  auto set = configs::SetModelKwargs(y, {{"n_epochs", "9"}, {"batch_size", "4"}});
  EXPECT_EQ(set, std::vector<std::string>{"n_epochs"});
  EXPECT_EQ(y,
            "n_epochs: 1\n"
            "task:\n"
            "    model:\n"
            "        class: X\n"
            "        kwargs:\n"
            "            n_epochs: 9\n"
            "            lr: 0.1\n"
            "    dataset:\n"
            "        kwargs:\n"
            "            n_epochs: 3\n");
}

}  // namespace
}  // namespace alphalab::testing

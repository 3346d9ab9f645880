// The models dimension's registry filter (optimize/model_axis.hpp) over a FakeRegistryStore: a
// pooled run counts once, a per-ticker run gives one model per file, and the filter keys
// (project, status, ticker, mode, min_/max_<metric>) keep exactly the rows they name.
#include "optimize/model_axis.hpp"

#include <gtest/gtest.h>

#include "store/fake_registry_store.hpp"

namespace alphalab::optimize {
namespace {

RegistryRow Row(const std::string& run, const std::string& ticker, const std::string& path, const std::string& project,
                const std::string& status = "success", const std::string& mode = "base",
                std::optional<double> precision = 0.5) {
  RegistryRow r;
  r.run_id = run;
  r.ticker = ticker;
  r.mode = mode;
  r.project = project;
  r.status = status;
  r.model_final_path = path;
  r.precision = precision;
  return r;
}

IndexedRun MakeRun(const std::string& id, const std::string& project, std::vector<RegistryRow> rows) {
  IndexedRun r;
  r.run.run_id = id;
  r.run.project = project;
  r.run.status = rows.empty() ? "success" : rows.front().status;
  r.rows = std::move(rows);
  return r;
}

class ModelAxisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // pooled: one model.json, one row per ticker, plus an eval-mode row of the same file
    auto pooled = MakeRun("run_pooled", "p18",
                      {Row("run_pooled", "A", "runs/run_pooled/model.json", "p18"),
                       Row("run_pooled", "B", "runs/run_pooled/model.json", "p18"),
                       Row("run_pooled", "C", "runs/run_pooled/model.json", "p18"),
                       Row("run_pooled", "A", "runs/run_pooled/model.json", "p18", "success", "finetune", 0.9)});
    // per ticker: one file per ticker
    auto per = MakeRun("run_per", "p18",
                   {Row("run_per", "A", "runs/run_per/model_A.json", "p18", "success", "base", 0.7),
                    Row("run_per", "B", "runs/run_per/model_B.json", "p18", "success", "base", 0.3)});
    auto failed = MakeRun("run_failed", "p18", {Row("run_failed", "A", "runs/run_failed/model_A.json", "p18", "failed")});
    auto other = MakeRun("run_other", "p19", {Row("run_other", "A", "runs/run_other/model_A.json", "p19")});
    ASSERT_TRUE(store_.ReplaceRuns({pooled, per, failed, other}).ok());
  }
  std::vector<std::string> Paths(const Json& filter) {
    auto r = ResolveRegistryModels(store_, filter, "param_space.k.models");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const auto& m : *r) out.push_back(m.path + "@" + m.run_id);
    }
    return out;
  }
  FakeRegistryStore store_;
};

TEST_F(ModelAxisTest, APooledRunCountsOnceAndPerTickerFilesEach) {
  EXPECT_EQ(Paths(Json{{"project", "p18"}}),
            (std::vector<std::string>{"runs/run_per/model_A.json@run_per", "runs/run_per/model_B.json@run_per",
                                      "runs/run_pooled/model.json@run_pooled"}));
}

TEST_F(ModelAxisTest, StatusDefaultsToSuccessAndAnyKeepsEvery) {
  EXPECT_EQ(Paths(Json{{"project", "p18"}, {"status", "failed"}}),
            (std::vector<std::string>{"runs/run_failed/model_A.json@run_failed"}));
  EXPECT_EQ(Paths(Json{{"project", "p18"}, {"status", "any"}}).size(), 4u);
  EXPECT_EQ(Paths(Json::object()).size(), 4u);  // every project's successful models
}

TEST_F(ModelAxisTest, TickerModeAndMetricBounds) {
  EXPECT_EQ(Paths(Json{{"project", "p18"}, {"ticker", "B"}}),
            (std::vector<std::string>{"runs/run_per/model_B.json@run_per", "runs/run_pooled/model.json@run_pooled"}));
  EXPECT_EQ(Paths(Json{{"project", "p18"}, {"mode", "finetune"}}),
            (std::vector<std::string>{"runs/run_pooled/model.json@run_pooled"}));
  EXPECT_EQ(Paths(Json{{"project", "p18"}, {"min_precision", 0.6}}),
            (std::vector<std::string>{"runs/run_per/model_A.json@run_per", "runs/run_pooled/model.json@run_pooled"}));
  EXPECT_EQ(Paths(Json{{"project", "p18"}, {"max_precision", 0.4}}),
            (std::vector<std::string>{"runs/run_per/model_B.json@run_per"}));
  EXPECT_TRUE(Paths(Json{{"project", "p20"}}).empty());  // the caller turns zero into a 400
}

TEST_F(ModelAxisTest, UnknownKeysAndWrongTypesNameTheField) {
  struct Case {
    Json filter;
    std::string field;
    std::string needle;
  } cases[] = {
      {Json{{"projekt", "p18"}}, "param_space.k.models.projekt", "unknown model filter key"},
      {Json{{"min_sharpe", 1}}, "param_space.k.models.min_sharpe", "unknown model filter key"},
      {Json{{"min_precision", "high"}}, "param_space.k.models.min_precision", "must be a number"},
      {Json{{"project", 18}}, "param_space.k.models.project", "non-empty string"},
      {Json{{"ticker", ""}}, "param_space.k.models.ticker", "non-empty string"},
  };
  for (const auto& c : cases) {
    auto r = ResolveRegistryModels(store_, c.filter, "param_space.k.models");
    ASSERT_FALSE(r.ok()) << c.filter.dump();
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_EQ(r.status().details().value("field", ""), c.field);
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace alphalab::optimize

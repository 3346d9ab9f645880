// The optimization request document: the documented example parses; every invalid field is an
// InvalidArgument naming it; the normalised document round-trips; re-run merge.
#include "optimize/request.hpp"

#include <functional>

#include <gtest/gtest.h>

namespace alphalab::optimize {
namespace {

std::string FieldOf(const Status& s) { return s.details().is_object() ? s.details().value("field", "") : ""; }

Json Example() {
  return Json::parse(R"({
    "name": "sma sweep", "project": "demo", "job_type": "backtest",
    "base_params": {"config_path": "configs/backtest/base.yaml", "tickers": ["SPX"]},
    "param_space": {"strategy.params.fast": {"min": 5, "max": 50, "step": 5},
                    "strategy.params.slow": [20, 40, 60, 80, 100, 120, 140, 160, 180, 200]},
    "sampler": {"type": "grid"},
    "objective": {"metric": "final_equity", "direction": "max"},
    "constraints": ["max_drawdown <= 0.35"],
    "early_stop_policy": {"mode": "max", "patience": 20, "min_tasks": 10, "target": null},
    "max_inflight": 8, "top_n": 10, "validation": {"holdout_start": "2016-01-01"}, "source_job_id": null})");
}

TEST(RequestTest, IssueExample) {
  auto r = ParseOptimizationRequest(Example());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "sma sweep");
  EXPECT_EQ(r->project, "demo");
  EXPECT_EQ(r->job_type, "backtest");
  EXPECT_EQ(r->base_params["tickers"][0], "SPX");
  EXPECT_EQ(r->param_space.axes.size(), 2u);
  EXPECT_EQ(r->sampler.type, SamplerType::kGrid);
  EXPECT_EQ(r->objective.metric, "final_equity");
  EXPECT_EQ(r->objective.direction, Direction::kMax);
  ASSERT_EQ(r->constraints.size(), 1u);
  EXPECT_EQ(r->constraints[0].metric, "max_drawdown");
  EXPECT_EQ(*r->early_stop.patience, 20);
  EXPECT_EQ(r->early_stop.min_tasks, 10);
  EXPECT_EQ(*r->max_inflight, 8);
  EXPECT_EQ(r->top_n, 10);
  EXPECT_EQ(*r->holdout_start, "2016-01-01");
  EXPECT_FALSE(r->source_job_id.has_value());
  EXPECT_EQ(r->task_count, 100u);
}

TEST(RequestTest, MinimalRequestGetsDefaults) {
  auto r = ParseOptimizationRequest(Json::parse(R"({"job_type": "backtest", "param_space": {"a": [1, 2]},
                                                    "objective": {"metric": "cagr", "direction": "min"}})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sampler.type, SamplerType::kGrid);
  EXPECT_EQ(r->early_stop.mode, Direction::kMin);
  EXPECT_FALSE(r->early_stop.enabled());
  EXPECT_FALSE(r->max_inflight.has_value());
  EXPECT_EQ(r->top_n, 10);
  EXPECT_TRUE(r->constraints.empty());
  EXPECT_TRUE(r->base_params.is_object());
  EXPECT_EQ(r->task_count, 2u);
}

TEST(RequestTest, NormalisedDocumentRoundTrips) {
  auto r = ParseOptimizationRequest(Example());
  ASSERT_TRUE(r.ok());
  const Json doc = r->ToJson();
  auto again = ParseOptimizationRequest(doc);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), doc);
  EXPECT_EQ(doc["sampler"], (Json{{"type", "grid"}}));
  EXPECT_EQ(doc["constraints"][0], "max_drawdown <= 0.35");
  EXPECT_EQ(doc["early_stop_policy"]["mode"], "max");
}

TEST(RequestTest, RandomSamplerTaskCount) {
  Json doc = Example();
  doc["sampler"] = Json{{"type", "random"}, {"n", 25}, {"seed", 4}};
  auto r = ParseOptimizationRequest(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->task_count, 25u);
}

struct BadCase {
  const char* name;
  std::function<void(Json&)> edit;
  const char* field;
  const char* needle;
};

TEST(RequestTest, EveryInvalidFieldIsNamed) {
  const std::vector<BadCase> cases = {
      {"not an object", [](Json& d) { d = Json::array(); }, "request", "JSON object"},
      {"unknown field", [](Json& d) { d["paramspace"] = 1; }, "paramspace", "unknown field"},
      {"name type", [](Json& d) { d["name"] = 5; }, "name", "must be a string"},
      {"project chars", [](Json& d) { d["project"] = "a/b"; }, "project", "may only hold"},
      {"job_type missing", [](Json& d) { d.erase("job_type"); }, "job_type", "missing"},
      {"job_type chars", [](Json& d) { d["job_type"] = "../x"; }, "job_type", "not a valid"},
      {"base_params type", [](Json& d) { d["base_params"] = Json::array(); }, "base_params", "must be an object"},
      {"param_space missing", [](Json& d) { d.erase("param_space"); }, "param_space", "missing"},
      {"empty range", [](Json& d) { d["param_space"]["strategy.params.fast"] = Json{{"min", 50}, {"max", 5}, {"step", 5}}; },
       "param_space.strategy.params.fast", "min must not be greater than max"},
      {"empty list", [](Json& d) { d["param_space"]["strategy.params.slow"] = Json::array(); },
       "param_space.strategy.params.slow", "empty"},
      {"step 0", [](Json& d) { d["param_space"]["strategy.params.fast"]["step"] = 0; },
       "param_space.strategy.params.fast.step", "greater than 0"},
      {"negative step", [](Json& d) { d["param_space"]["strategy.params.fast"]["step"] = -5; },
       "param_space.strategy.params.fast.step", "greater than 0"},
      {"bad override key", [](Json& d) { d["param_space"]["strategy..fast"] = Json::array({1}); },
       "param_space.strategy..fast", "empty segment"},
      {"models", [](Json& d) { d["param_space"]["strategy.params.model_path"] = Json{{"models", {{"project", "p"}}}}; },
       "param_space.strategy.params.model_path.models", "needs the model registry"},
      {"sampler", [](Json& d) { d["sampler"] = Json{{"type", "random"}}; }, "sampler.n", "missing"},
      {"objective missing", [](Json& d) { d.erase("objective"); }, "objective", "missing"},
      {"objective metric", [](Json& d) { d["objective"]["metric"] = ""; }, "objective.metric", "non-empty"},
      {"objective direction", [](Json& d) { d["objective"]["direction"] = "up"; }, "objective.direction", "max"},
      {"objective no direction", [](Json& d) { d["objective"].erase("direction"); }, "objective.direction", "missing"},
      {"objective unknown", [](Json& d) { d["objective"]["goal"] = 1; }, "objective.goal", "unknown field"},
      {"constraints type", [](Json& d) { d["constraints"] = "max_drawdown <= 0.35"; }, "constraints", "list"},
      {"constraint syntax", [](Json& d) { d["constraints"].push_back("sharpe => 1"); }, "constraints[1]",
       "comparison operator"},
      {"constraint type", [](Json& d) { d["constraints"][0] = 3; }, "constraints[0]", "must be a string"},
      {"mode mismatch", [](Json& d) { d["early_stop_policy"]["mode"] = "min"; }, "early_stop_policy.mode",
       "objective direction"},
      {"patience", [](Json& d) { d["early_stop_policy"]["patience"] = 0; }, "early_stop_policy.patience", ">= 1"},
      {"max_inflight 0", [](Json& d) { d["max_inflight"] = 0; }, "max_inflight", "from 1 to"},
      {"max_inflight type", [](Json& d) { d["max_inflight"] = "8"; }, "max_inflight", "from 1 to"},
      {"top_n", [](Json& d) { d["top_n"] = -1; }, "top_n", "from 1 to"},
      {"validation type", [](Json& d) { d["validation"] = "2016"; }, "validation", "must be an object"},
      {"holdout date", [](Json& d) { d["validation"]["holdout_start"] = "2016-02-30"; }, "validation.holdout_start",
       "YYYY-MM-DD"},
      {"validation unknown", [](Json& d) { d["validation"]["holdout_end"] = "2017-01-01"; }, "validation.holdout_end",
       "unknown field"},
      {"source id", [](Json& d) { d["source_job_id"] = "job_20260101_000000__abcdef12"; }, "source_job_id",
       "optimization id"},
      {"too many tasks",
       [](Json& d) {
         d["param_space"]["a"] = Json{{"min", 1}, {"max", 1000}, {"step", 1}};
         d["param_space"]["b"] = Json{{"min", 1}, {"max", 1000}, {"step", 1}};
       },
       "param_space", "more than the maximum of 1000000"},
      {"too many samples", [](Json& d) { d["sampler"] = Json{{"type", "random"}, {"n", 2000000}}; }, "sampler.n",
       "maximum of 1000000"},
      {"grid over continuous", [](Json& d) { d["param_space"]["fee_bps"] = Json{{"min", 0}, {"max", 2}}; },
       "param_space.fee_bps", "random sampler"},
  };
  for (const auto& c : cases) {
    Json doc = Example();
    c.edit(doc);
    auto r = ParseOptimizationRequest(doc);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << c.name;
    EXPECT_EQ(FieldOf(r.status()), c.field) << c.name << ": " << r.status().message();
    EXPECT_EQ(r.status().message().rfind(std::string(c.field) + ": ", 0), 0u) << c.name << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << c.name << ": " << r.status().message();
  }
}

TEST(RequestTest, KnownMetricsAndJobTypes) {
  RequestLimits limits;
  limits.known_metrics = std::set<std::string>{"final_equity", "cagr"};
  auto r = ParseOptimizationRequest(Example(), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(FieldOf(r.status()), "constraints[0]");
  EXPECT_NE(r.status().message().find("unknown metric 'max_drawdown'"), std::string::npos);
  limits.known_metrics->insert("max_drawdown");
  EXPECT_TRUE(ParseOptimizationRequest(Example(), limits).ok());
  Json doc = Example();
  doc["objective"]["metric"] = "sharp";
  auto bad = ParseOptimizationRequest(doc, limits);
  EXPECT_EQ(FieldOf(bad.status()), "objective.metric");
  limits.known_job_types = std::set<std::string>{"train"};
  auto jt = ParseOptimizationRequest(Example(), limits);
  EXPECT_EQ(FieldOf(jt.status()), "job_type");
  EXPECT_NE(jt.status().message().find("unknown job type 'backtest'"), std::string::npos);
}

TEST(RequestTest, ConfigurableTaskMaximum) {
  RequestLimits limits;
  limits.max_tasks = 99;
  auto r = ParseOptimizationRequest(Example(), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(FieldOf(r.status()), "param_space");
  EXPECT_NE(r.status().message().find("100 tasks"), std::string::npos);
  limits.max_tasks = 100;
  EXPECT_TRUE(ParseOptimizationRequest(Example(), limits).ok());
}

TEST(RequestTest, IsoDates) {
  EXPECT_TRUE(IsIsoDate("2016-01-01"));
  EXPECT_TRUE(IsIsoDate("2024-02-29"));
  EXPECT_FALSE(IsIsoDate("2023-02-29"));
  EXPECT_FALSE(IsIsoDate("1900-02-29"));
  EXPECT_TRUE(IsIsoDate("2000-02-29"));
  EXPECT_FALSE(IsIsoDate("2016-13-01"));
  EXPECT_FALSE(IsIsoDate("2016-00-10"));
  EXPECT_FALSE(IsIsoDate("2016-1-01"));
  EXPECT_FALSE(IsIsoDate("2016/01/01"));
}

TEST(RerunTest, MergesOverridesOntoTheSource) {
  auto source = ParseOptimizationRequest(Example());
  ASSERT_TRUE(source.ok());
  const Json stored = source->ToJson();
  const Json overrides = Json::parse(R"({"source_job_id": "opt_20261201_101010__0a1b2c3d", "name": "again",
                                         "top_n": 3, "max_inflight": null})");
  EXPECT_TRUE(IsRerunRequest(overrides));
  EXPECT_FALSE(IsRerunRequest(Example()));
  auto merged = MergeRerunRequest(stored, overrides);
  ASSERT_TRUE(merged.ok());
  auto r = ParseOptimizationRequest(*merged);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "again");
  EXPECT_EQ(r->top_n, 3);
  EXPECT_EQ(*r->max_inflight, 8);  // null keeps the source's value
  EXPECT_EQ(*r->source_job_id, "opt_20261201_101010__0a1b2c3d");
  EXPECT_EQ(r->param_space_json, stored["param_space"]);  // copied
  EXPECT_EQ(EarlyStopPolicyToJson(r->early_stop), stored["early_stop_policy"]);
  EXPECT_EQ(r->task_count, 100u);

  // an override replaces a whole field, and is validated like any request
  auto wider = MergeRerunRequest(stored, Json{{"source_job_id", "opt_20261201_101010__0a1b2c3d"},
                                              {"param_space", {{"strategy.params.fast", {5, 10}}}}});
  ASSERT_TRUE(wider.ok());
  EXPECT_EQ(ParseOptimizationRequest(*wider).value().task_count, 2u);
  auto bad = MergeRerunRequest(stored, Json{{"source_job_id", "opt_20261201_101010__0a1b2c3d"}, {"top_n", 0}});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(FieldOf(ParseOptimizationRequest(*bad).status()), "top_n");
  auto unknown = MergeRerunRequest(stored, Json{{"source_job_id", "opt_20261201_101010__0a1b2c3d"}, {"colour", 1}});
  EXPECT_EQ(FieldOf(ParseOptimizationRequest(*unknown).status()), "colour");
  EXPECT_EQ(FieldOf(MergeRerunRequest(stored, Json{{"name", "x"}}).status()), "source_job_id");
}

TEST(RequestTest, ModelsDimensionExpandsThroughTheResolver) {
  Json doc = Json::parse(R"({"job_type": "backtest", "project": "p18",
    "base_params": {"config_path": "configs/backtest/topn.yaml"},
    "param_space": {"strategy.params.model_path": {"models": {"project": "p18", "status": "success"}}},
    "objective": {"metric": "cagr", "direction": "max"}, "constraints": ["max_drawdown <= 0.15"],
    "max_inflight": 8, "top_n": 3})");
  RequestLimits limits;
  Json seen;
  limits.resolve_models = [&](const Json& filter, const std::string& field) -> Result<std::vector<ModelChoice>> {
    seen = filter;
    EXPECT_EQ(field, "param_space.strategy.params.model_path.models");
    return std::vector<ModelChoice>{{"runs/r1/model.json", "r1"}, {"runs/r2/model_A.json", "r2"}};
  };
  auto r = ParseOptimizationRequest(doc, limits);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(seen, doc["param_space"]["strategy.params.model_path"]["models"]);
  EXPECT_EQ(r->task_count, 2u);
  EXPECT_EQ(r->param_space.ModelsKey(), "strategy.params.model_path");
  EXPECT_EQ(r->param_space.ModelRunId("strategy.params.model_path", Json("runs/r2/model_A.json")), "r2");
  // the stored document keeps the filter (a re-run asks the registry again)
  EXPECT_EQ(r->ToJson()["param_space"], doc["param_space"]);
  auto tasks = Expand(r->param_space, r->sampler, {});
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[0].params["strategy.params.model_path"], "runs/r1/model.json");

  // zero models: a 400 on the axis
  limits.resolve_models = [](const Json&, const std::string&) -> Result<std::vector<ModelChoice>> {
    return std::vector<ModelChoice>{};
  };
  auto none = ParseOptimizationRequest(doc, limits);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(FieldOf(none.status()), "param_space.strategy.params.model_path.models");
  EXPECT_NE(none.status().message().find("no trained model matches"), std::string::npos);

  // models of a non-backtest job type, and two models dimensions
  Json other = doc;
  other["job_type"] = "train";
  EXPECT_NE(ParseOptimizationRequest(other, limits).status().message().find("job_type must be 'backtest'"),
            std::string::npos);
  Json two = doc;
  two["param_space"]["strategy.params.scores_path"] = Json{{"models", Json::object()}};
  EXPECT_NE(ParseOptimizationRequest(two, limits).status().message().find("only one models dimension"),
            std::string::npos);
  // a stored request parses again without the registry
  RequestLimits stored;
  stored.allow_unresolved_models = true;
  auto again = ParseOptimizationRequest(doc, stored);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->param_space.ModelsKey(), "strategy.params.model_path");
}

}  // namespace
}  // namespace alphalab::optimize

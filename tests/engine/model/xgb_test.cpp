#include "engine/model/xgb.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace alphalab::engine {
namespace {

// y = 1 when x0 + 0.5 * x1 > 0: learnable by shallow trees.
struct Toy {
  std::vector<float> x, y;
  size_t rows = 0, cols = 3;
};

Toy MakeToy(size_t rows, uint32_t seed) {
  Toy t;
  t.rows = rows;
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0, 1);
  for (size_t i = 0; i < rows; ++i) {
    const float a = n(rng), b = n(rng), c = n(rng);
    t.x.insert(t.x.end(), {a, b, c});
    t.y.push_back(a + 0.5f * b > 0 ? 1.0f : 0.0f);
  }
  return t;
}

Result<Booster> TrainToy(const Toy& t, int rounds) {
  ASSIGN_OR_RETURN(DMatrix d, DMatrix::FromDense(t.x, t.rows, t.cols, 1));
  RETURN_IF_ERROR(d.SetLabels(t.y));
  const DMatrix* cache[] = {&d};
  ASSIGN_OR_RETURN(Booster b, Booster::Create(cache));
  RETURN_IF_ERROR(b.SetParam("objective", "binary:logistic"));
  RETURN_IF_ERROR(b.SetParam("max_depth", "3"));
  RETURN_IF_ERROR(b.SetParam("nthread", "1"));
  for (int i = 0; i < rounds; ++i) RETURN_IF_ERROR(b.UpdateOneIter(i, d));
  return b;
}

TEST(XgbTest, TrainsPredictsAndRoundTripsJson) {
  const Toy train = MakeToy(2000, 1), test = MakeToy(500, 2);
  auto booster = TrainToy(train, 20);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  EXPECT_EQ(*booster->BoostedRounds(), 20);
  EXPECT_EQ(*booster->NumFeatures(), 3u);
  auto p = booster->PredictDense(test.x, test.rows, test.cols);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  size_t correct = 0;
  for (size_t i = 0; i < test.rows; ++i) {
    EXPECT_GE((*p)[i], 0.0f);
    EXPECT_LE((*p)[i], 1.0f);
    correct += ((*p)[i] >= 0.5f) == (test.y[i] == 1.0f);
  }
  EXPECT_GT(correct, 450u);  // > 90% on a learnable rule

  auto json = booster->SaveJson();
  ASSERT_TRUE(json.ok());
  auto reloaded = Booster::FromJson(*json);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  auto p2 = reloaded->PredictDense(test.x, test.rows, test.cols);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*p, *p2);  // bit-identical after a JSON round trip

  auto sliced = booster->Slice(0, 5);
  ASSERT_TRUE(sliced.ok()) << sliced.status().ToString();
  EXPECT_EQ(*sliced->BoostedRounds(), 5);
}

TEST(XgbTest, BadParameterValueIsAStatusWithXgboostMessage) {
  const Toy t = MakeToy(100, 3);
  auto d = DMatrix::FromDense(t.x, t.rows, t.cols, 1);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->SetLabels(t.y).ok());
  const DMatrix* cache[] = {&*d};
  auto b = Booster::Create(cache);
  ASSERT_TRUE(b.ok());
  // XGBoost validates some values at SetParam time and the rest on the first update.
  ASSERT_TRUE(b->SetParam("max_depth", "not-a-number").ok() == false ||
              !b->UpdateOneIter(0, *d).ok());
  auto b2 = Booster::Create(cache);
  ASSERT_TRUE(b2.ok());
  ASSERT_TRUE(b2->SetParam("objective", "binary:no_such_objective").ok());
  const Status st = b2->UpdateOneIter(0, *d);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no_such_objective"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("XGBoosterUpdateOneIter"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();  // one line
}

TEST(XgbTest, BadModelFilesAreStatuses) {
  EXPECT_TRUE(Booster::FromJson("").status().IsInvalidArgument());
  EXPECT_TRUE(Booster::FromJson("hello").status().IsInvalidArgument());
  const Status broken = Booster::FromJson("{\"learner\": 5}").status();
  EXPECT_TRUE(broken.IsInvalidArgument()) << broken.ToString();
  EXPECT_NE(broken.message().find("invalid XGBoost model"), std::string::npos);
  EXPECT_TRUE(Booster::FromJson("{not json").status().IsInvalidArgument());

  const auto dir = std::filesystem::temp_directory_path() / ("xgb_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_TRUE(Booster::LoadFile((dir / "missing.json").string()).status().IsNotFound());
  {
    std::ofstream(dir / "garbage.json") << "{\"version\": [1, 7, 4], \"learner\": {}}";
  }
  const Status garbage = Booster::LoadFile((dir / "garbage.json").string()).status();
  EXPECT_FALSE(garbage.ok());
  EXPECT_NE(garbage.message().find("garbage.json"), std::string::npos) << garbage.message();
  std::filesystem::remove_all(dir);
}

TEST(XgbTest, ShapeErrorsAreStatuses) {
  const Toy t = MakeToy(50, 4);
  EXPECT_TRUE(DMatrix::FromDense(t.x, t.rows + 1, t.cols).status().IsInvalidArgument());
  EXPECT_TRUE(DMatrix::FromDense({}, 0, 3).status().IsInvalidArgument());
  auto d = DMatrix::FromDense(t.x, t.rows, t.cols, 1);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->SetLabels(std::vector<float>(3, 0.0f)).IsInvalidArgument());
  auto b = TrainToy(t, 2);
  ASSERT_TRUE(b.ok());
  const std::vector<float> four(8, 0.0f);
  const auto wrong = b->PredictDense(four, 2, 4);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("expects 3 features"), std::string::npos);
}

TEST(XgbTest, ParseEvalMetric) {
  auto v = ParseEvalMetric("[12]\tvalid-logloss:0.51234", "valid-logloss");
  ASSERT_TRUE(v.ok());
  EXPECT_DOUBLE_EQ(*v, 0.51234);
  EXPECT_FALSE(ParseEvalMetric("[12]\ttrain-auc:0.5", "valid-logloss").ok());
}

}  // namespace
}  // namespace alphalab::engine

// The behavioural suite every ConfigHistoryStore implementation must pass (the in-memory fake
// and SQLite; see store/config_history_store.hpp for the rules it checks).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "store/config_history_store.hpp"

namespace alphalab::testing {

class ConfigHistoryStoreEnv {
 public:
  virtual ~ConfigHistoryStoreEnv() = default;
  virtual ConfigHistoryStore& store() = 0;
};

struct ConfigHistoryStoreFactory {
  std::string name;
  std::function<std::unique_ptr<ConfigHistoryStoreEnv>()> make;
};

inline std::string ConfigHistoryStoreFactoryName(const ::testing::TestParamInfo<ConfigHistoryStoreFactory>& info) {
  return info.param.name;
}

inline ConfigHistoryRecord MakeHistory(const std::string& path, const std::string& event, int64_t second) {
  ConfigHistoryRecord r;
  r.tool = "rdagent";
  r.path = path;
  r.history_path = "history/20261202/" + std::to_string(second) + "_manual_" + path;
  r.operator_name = "local";
  r.sha256 = std::string(64, 'a');
  r.note = "note " + std::to_string(second);
  r.event = event;
  r.created_at = TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(1796083200 + second) +
                                                                           std::chrono::microseconds(250)));
  return r;
}

class ConfigHistoryStoreConformance : public ::testing::TestWithParam<ConfigHistoryStoreFactory> {
 protected:
  void SetUp() override { env_ = GetParam().make(); }
  ConfigHistoryStore& store() { return env_->store(); }
  std::unique_ptr<ConfigHistoryStoreEnv> env_;
};

TEST_P(ConfigHistoryStoreConformance, AppendAssignsIncreasingIdsAndGetReturnsTheRow) {
  auto a = store().Append(MakeHistory(".env", "write", 1));
  auto b = store().Append(MakeHistory("conf.yaml", "drift", 2));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, 1);
  EXPECT_EQ(*b, 2);
  auto got = store().Get(2);
  ASSERT_TRUE(got.ok());
  ConfigHistoryRecord want = MakeHistory("conf.yaml", "drift", 2);
  want.id = 2;
  EXPECT_EQ(*got, want);
  EXPECT_EQ(store().Get(99).status().code(), StatusCode::kNotFound);
}

TEST_P(ConfigHistoryStoreConformance, ListIsPerFileNewestFirstAndPaged) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store().Append(MakeHistory(".env", "write", i)).ok());
  ASSERT_TRUE(store().Append(MakeHistory("other.yaml", "write", 9)).ok());
  auto all = store().List("rdagent", ".env", 100, 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ(all->front().id, 5);
  EXPECT_EQ(all->back().id, 1);
  auto page = store().List("rdagent", ".env", 2, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, 3);
  EXPECT_EQ((*page)[1].id, 2);
  EXPECT_TRUE(store().List("other", ".env", 10, 0)->empty());
  auto counts = store().CountByFile("rdagent");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[".env"], 5);
  EXPECT_EQ((*counts)["other.yaml"], 1);
  EXPECT_EQ(*store().LastId(), 6);
}

TEST_P(ConfigHistoryStoreConformance, LastIdIsZeroThenTheHighestAppendedId) {
  EXPECT_EQ(*store().LastId(), 0);
  ASSERT_TRUE(store().Append(MakeHistory(".env", "write", 1)).ok());
  ASSERT_TRUE(store().Append(MakeHistory("b.yaml", "write", 2)).ok());
  EXPECT_EQ(*store().LastId(), 2);
}

TEST_P(ConfigHistoryStoreConformance, KnownHashIsAbsentThenSetThenReplaced) {
  auto none = store().KnownHash("rdagent", ".env");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store().SetKnownHash("rdagent", ".env", "h1").ok());
  ASSERT_TRUE(store().SetKnownHash("rdagent", ".env", "h2").ok());
  EXPECT_EQ(store().KnownHash("rdagent", ".env")->value_or(""), "h2");
  EXPECT_FALSE(store().KnownHash("rdagent", "x.yaml")->has_value());
}

}  // namespace alphalab::testing

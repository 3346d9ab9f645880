// The behavioural suite every TokenStore implementation must pass (the in-memory fake and
// SQLite; see store/token_store.hpp for the rules it checks).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "store/token_store.hpp"

namespace alphalab::testing {

class TokenStoreEnv {
 public:
  virtual ~TokenStoreEnv() = default;
  virtual TokenStore& store() = 0;
};

struct TokenStoreFactory {
  std::string name;
  std::function<std::unique_ptr<TokenStoreEnv>()> make;
};

inline std::string TokenStoreFactoryName(const ::testing::TestParamInfo<TokenStoreFactory>& info) {
  return info.param.name;
}

// 2026-12-01T00:00:00Z plus `seconds` (and a sub-microsecond part the stores truncate).
inline TimePoint TokTime(int64_t seconds) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(1796083200 + seconds))) +
         std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(123456789));
}
inline TimePoint TokTimeStored(int64_t seconds) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(1796083200 + seconds) +
                                                                   std::chrono::microseconds(123456)));
}

inline TokenRecord MakeToken(const std::string& id, const std::string& name, const std::string& role,
                             int64_t created) {
  TokenRecord t;
  t.id = id;
  t.name = name;
  t.role = role;
  t.hash = "hash_of_" + id;
  t.created_at = TokTime(created);
  return t;
}

class TokenStoreConformance : public ::testing::TestWithParam<TokenStoreFactory> {
 protected:
  void SetUp() override { env_ = GetParam().make(); }
  TokenStore& store() { return env_->store(); }
  std::unique_ptr<TokenStoreEnv> env_;
};

TEST_P(TokenStoreConformance, CreateGetFindAndList) {
  ASSERT_TRUE(store().CreateToken(MakeToken("tok_a", "alice", "user", 1)).ok());
  ASSERT_TRUE(store().CreateToken(MakeToken("tok_b", "bob", "admin", 2)).ok());
  auto a = store().GetToken("tok_a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->name, "alice");
  EXPECT_EQ(a->role, "user");
  EXPECT_EQ(a->hash, "hash_of_tok_a");
  EXPECT_EQ(a->created_at, TokTimeStored(1));
  EXPECT_FALSE(a->last_used.has_value());
  EXPECT_FALSE(a->revoked);
  EXPECT_EQ(store().FindTokenByHash("hash_of_tok_b")->id, "tok_b");
  EXPECT_TRUE(store().FindTokenByHash("nope").status().IsNotFound());
  EXPECT_TRUE(store().GetToken("tok_x").status().IsNotFound());
  auto list = store().ListTokens();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "tok_b");  // newest first
  EXPECT_EQ((*list)[1].id, "tok_a");
}

TEST_P(TokenStoreConformance, IdsHashesAndLiveNamesAreUniqueAndRolesChecked) {
  ASSERT_TRUE(store().CreateToken(MakeToken("tok_a", "alice", "user", 1)).ok());
  EXPECT_EQ(store().CreateToken(MakeToken("tok_a", "other", "user", 2)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store().CreateToken(MakeToken("tok_c", "alice", "admin", 2)).code(), StatusCode::kAlreadyExists);
  TokenRecord same_hash = MakeToken("tok_d", "dora", "user", 2);
  same_hash.hash = "hash_of_tok_a";
  EXPECT_EQ(store().CreateToken(same_hash).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store().CreateToken(MakeToken("tok_e", "eve", "root", 2)).code(), StatusCode::kInvalidArgument);
  // A revoked token's name can be reused by its replacement.
  ASSERT_TRUE(store().RevokeToken("tok_a", TokTime(3)).ok());
  EXPECT_TRUE(store().CreateToken(MakeToken("tok_a2", "alice", "user", 4)).ok());
}

TEST_P(TokenStoreConformance, RevokeIsIdempotentAndEndsTheTokensSessions) {
  ASSERT_TRUE(store().CreateToken(MakeToken("tok_a", "alice", "user", 1)).ok());
  ASSERT_TRUE(store().CreateToken(MakeToken("tok_b", "bob", "user", 1)).ok());
  ASSERT_TRUE(store().CreateSession({"s1", "tok_a", TokTime(2), TokTime(100)}).ok());
  ASSERT_TRUE(store().CreateSession({"s2", "tok_b", TokTime(2), TokTime(100)}).ok());
  ASSERT_TRUE(store().RevokeToken("tok_a", TokTime(5)).ok());
  ASSERT_TRUE(store().RevokeToken("tok_a", TokTime(9)).ok());
  auto a = store().GetToken("tok_a");
  EXPECT_TRUE(a->revoked);
  EXPECT_EQ(a->revoked_at, TokTimeStored(5));
  EXPECT_TRUE(store().FindTokenByHash("hash_of_tok_a")->revoked);
  EXPECT_TRUE(store().FindSession("s1").status().IsNotFound());
  EXPECT_TRUE(store().FindSession("s2").ok());
  EXPECT_TRUE(store().RevokeToken("tok_x", TokTime(5)).IsNotFound());
  EXPECT_EQ(store().CreateSession({"s3", "tok_a", TokTime(6), TokTime(100)}).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store().CreateSession({"s4", "tok_x", TokTime(6), TokTime(100)}).IsNotFound());
}

TEST_P(TokenStoreConformance, TouchSetsLastUsed) {
  ASSERT_TRUE(store().CreateToken(MakeToken("tok_a", "alice", "user", 1)).ok());
  ASSERT_TRUE(store().TouchToken("tok_a", TokTime(7)).ok());
  EXPECT_EQ(store().GetToken("tok_a")->last_used, TokTimeStored(7));
  EXPECT_TRUE(store().TouchToken("tok_x", TokTime(7)).IsNotFound());
}

TEST_P(TokenStoreConformance, SessionsAreFoundDeletedAndExpire) {
  ASSERT_TRUE(store().CreateToken(MakeToken("tok_a", "alice", "user", 1)).ok());
  ASSERT_TRUE(store().CreateSession({"s1", "tok_a", TokTime(2), TokTime(10)}).ok());
  ASSERT_TRUE(store().CreateSession({"s2", "tok_a", TokTime(2), TokTime(20)}).ok());
  EXPECT_EQ(store().CreateSession({"s1", "tok_a", TokTime(3), TokTime(30)}).code(), StatusCode::kAlreadyExists);
  auto s1 = store().FindSession("s1");
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(*s1, (SessionRecord{"s1", "tok_a", TokTimeStored(2), TokTimeStored(10)}));
  EXPECT_EQ(store().DeleteExpiredSessions(TokTime(10)).value(), 1);
  EXPECT_TRUE(store().FindSession("s1").status().IsNotFound());
  ASSERT_TRUE(store().DeleteSession("s2").ok());
  EXPECT_TRUE(store().FindSession("s2").status().IsNotFound());
  EXPECT_TRUE(store().DeleteSession("s2").ok());
}

}  // namespace alphalab::testing

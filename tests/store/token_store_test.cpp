// Runs the TokenStore conformance suite against the in-memory fake and SQLite (file-backed
// with reader connections, and ":memory:"), plus: tokens survive reopening the file and the
// "auth" migrations apply once.
#include <filesystem>

#include "core/ids.hpp"

#include "store/fake_token_store.hpp"
#include "store/sqlite/sqlite_token_store.hpp"
#include "store/temp_dir.hpp"
#include "store/token_store_conformance.hpp"

namespace alphalab::testing {
namespace {

namespace fs = std::filesystem;

class FakeEnv : public TokenStoreEnv {
 public:
  TokenStore& store() override { return store_; }

 private:
  FakeTokenStore store_;
};

class SqliteEnv : public TokenStoreEnv {
 public:
  explicit SqliteEnv(bool in_memory) {
    auto db = SqliteDb::Open(in_memory ? fs::path(":memory:") : dir_.path() / "alphalab.db");
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto store = SqliteTokenStore::Open(*db_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  ~SqliteEnv() override {
    store_.reset();
    db_.reset();
  }
  TokenStore& store() override { return *store_; }

 private:
  TempDir dir_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<SqliteTokenStore> store_;
};

INSTANTIATE_TEST_SUITE_P(
    Stores, TokenStoreConformance,
    ::testing::Values(TokenStoreFactory{"fake", [] { return std::make_unique<FakeEnv>(); }},
                      TokenStoreFactory{"sqlite_file", [] { return std::make_unique<SqliteEnv>(false); }},
                      TokenStoreFactory{"sqlite_memory", [] { return std::make_unique<SqliteEnv>(true); }}),
    TokenStoreFactoryName);

TEST(SqliteTokenStore, TokensSurviveReopeningAndMigrationsApplyOnce) {
  TempDir dir;
  const fs::path path = dir.path() / "alphalab.db";
  {
    auto db = SqliteDb::Open(path).value();
    auto store = SqliteTokenStore::Open(*db).value();
    ASSERT_TRUE(store->CreateToken(MakeToken("tok_a", "alice", "admin", 1)).ok());
    ASSERT_TRUE(store->CreateSession({"s1", "tok_a", TokTime(2), TokTime(50)}).ok());
  }
  auto db = SqliteDb::Open(path).value();
  auto store = SqliteTokenStore::Open(*db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(db->SchemaVersion("auth").value(), static_cast<int64_t>(SqliteTokenStore::Migrations().size()));
  EXPECT_EQ((*store)->GetToken("tok_a")->role, "admin");
  EXPECT_EQ((*store)->FindSession("s1")->token_id, "tok_a");
}

// IssueToken (the CLI's `token create` and POST /api/tokens): only the secret's SHA-256 is stored,
// names and roles are checked before anything is written, a live name is taken once.
TEST(IssueTokenTest, StoresOnlyTheHashAndChecksNameAndRole) {
  FakeTokenStore store;
  auto issued = IssueToken(store, "carol", "user", TokTime(1));
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->secret.rfind("alk_", 0), 0u);
  EXPECT_EQ(issued->secret.size(), 4u + 43u);
  EXPECT_EQ(issued->record.id.rfind("tok_", 0), 0u);
  const TokenRecord stored = store.GetToken(issued->record.id).value();
  EXPECT_EQ(stored.hash, Sha256Hex(issued->secret));
  EXPECT_EQ(stored.role, "user");
  const Json shown = TokenJson(stored);
  EXPECT_FALSE(shown.contains("hash"));
  EXPECT_EQ(DumpJson(shown).find(stored.hash), std::string::npos);
  EXPECT_EQ(shown["revoked"], false);
  EXPECT_EQ(IssueToken(store, "carol", "admin", TokTime(2)).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(IssueToken(store, "a b", "user", TokTime(2)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueToken(store, std::string(65, 'x'), "user", TokTime(2)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueToken(store, "dave", "root", TokTime(2)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.ListTokens().value().size(), 1u);
}

}  // namespace
}  // namespace alphalab::testing

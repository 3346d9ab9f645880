// Runs the ConfigHistoryStore conformance suite against the in-memory fake and SQLite (file and
// ":memory:"), plus: rows survive reopening the file.
#include <filesystem>

#include "store/config_history_store_conformance.hpp"
#include "store/fake_config_history_store.hpp"
#include "store/sqlite/sqlite_config_history_store.hpp"
#include "store/temp_dir.hpp"

namespace alphalab::testing {
namespace {

namespace fs = std::filesystem;

class FakeEnv : public ConfigHistoryStoreEnv {
 public:
  ConfigHistoryStore& store() override { return store_; }

 private:
  FakeConfigHistoryStore store_;
};

class SqliteEnv : public ConfigHistoryStoreEnv {
 public:
  explicit SqliteEnv(bool in_memory) {
    auto db = SqliteDb::Open(in_memory ? fs::path(":memory:") : dir_.path() / "alphalab.db");
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto store = SqliteConfigHistoryStore::Open(*db_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  ~SqliteEnv() override {
    store_.reset();
    db_.reset();
  }
  ConfigHistoryStore& store() override { return *store_; }

 private:
  TempDir dir_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<SqliteConfigHistoryStore> store_;
};

INSTANTIATE_TEST_SUITE_P(
    Stores, ConfigHistoryStoreConformance,
    ::testing::Values(ConfigHistoryStoreFactory{"fake", [] { return std::make_unique<FakeEnv>(); }},
                      ConfigHistoryStoreFactory{"sqlite_file", [] { return std::make_unique<SqliteEnv>(false); }},
                      ConfigHistoryStoreFactory{"sqlite_memory", [] { return std::make_unique<SqliteEnv>(true); }}),
    ConfigHistoryStoreFactoryName);

TEST(SqliteConfigHistoryStoreTest, RowsSurviveReopening) {
  TempDir dir;
  const fs::path file = dir.path() / "alphalab.db";
  {
    auto db = SqliteDb::Open(file);
    ASSERT_TRUE(db.ok());
    auto store = SqliteConfigHistoryStore::Open(**db);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Append(MakeHistory(".env", "write", 1)).ok());
    ASSERT_TRUE((*store)->SetKnownHash("rdagent", ".env", "h").ok());
  }
  auto db = SqliteDb::Open(file);
  ASSERT_TRUE(db.ok());
  auto store = SqliteConfigHistoryStore::Open(**db);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Get(1)->path, ".env");
  EXPECT_EQ((*store)->KnownHash("rdagent", ".env")->value_or(""), "h");
}

}  // namespace
}  // namespace alphalab::testing

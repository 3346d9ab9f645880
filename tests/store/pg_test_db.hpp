// PostgreSQL for tests: the server `make test` starts (scripts/services/postgres.sh exports
// ALPHALAB_TEST_PG_URL). Each PgTestDb is a fresh schema in that database, dropped at the end,
// so tests running at once (ctest -j) never see each other's rows.
// Without the variable the PostgreSQL cases are not generated and PgTestUrlRequired skips
// with a message, except in CI (CI=true), where it fails: the suites skip neither in CI.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "store/postgres/pg_db.hpp"

namespace alphalab::testing {

inline std::optional<std::string> PgTestUrl() {
  const char* url = std::getenv("ALPHALAB_TEST_PG_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

// Call at the start of a test that needs PostgreSQL.
#define ALPHALAB_REQUIRE_PG()                                                                   \
  do {                                                                                          \
    if (!::alphalab::testing::PgTestUrl()) {                                                    \
      const char* ci = std::getenv("CI");                                                       \
      if (ci != nullptr && std::string(ci) == "true") {                                         \
        FAIL() << "ALPHALAB_TEST_PG_URL is not set in CI (run the suites through make test: "   \
                  "scripts/with-test-services.sh starts PostgreSQL)";                           \
      }                                                                                         \
      GTEST_SKIP() << "ALPHALAB_TEST_PG_URL is not set: PostgreSQL tests skipped (make test "   \
                      "starts a throwaway server; or scripts/services/postgres.sh start DIR)";  \
    }                                                                                           \
  } while (0)

inline std::string FreshPgSchema() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd() % 1000000);
}

// A PgDb on a fresh schema of the test database, dropped (with its tables) on destruction.
class PgTestDb {
 public:
  explicit PgTestDb(int pool_size = 4) {
    PgDb::Options options;
    options.schema = FreshPgSchema();
    options.pool_size = pool_size;
    auto db = PgDb::Open(*PgTestUrl(), options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (db.ok()) db_ = std::move(db).value();
  }
  ~PgTestDb() {
    if (db_) {
      Status dropped = db_->DropSchema();
      EXPECT_TRUE(dropped.ok()) << dropped.ToString();
    }
  }
  PgTestDb(const PgTestDb&) = delete;
  PgTestDb& operator=(const PgTestDb&) = delete;
  PgDb& db() { return *db_; }
  bool ok() const { return db_ != nullptr; }

 private:
  std::unique_ptr<PgDb> db_;
};

}  // namespace alphalab::testing

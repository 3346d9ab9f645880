// A PostgreSQL database of its own for a test that starts `alphalab serve --db ...`
// processes: CREATE DATABASE on the server of ALPHALAB_TEST_PG_URL, dropped (WITH FORCE) at the
// end. Call ALPHALAB_REQUIRE_PG() before making one.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/pg_test_db.hpp"
#include "store/postgres/pg_db.hpp"

namespace alphalab::testing {

// A database of its own on the test server, dropped at the end (servers stopped first).
class PgTestDatabase {
 public:
  PgTestDatabase() {
    const std::string base = *PgTestUrl();
    auto admin = PgDb::Open(base);
    EXPECT_TRUE(admin.ok()) << admin.status().ToString();
    if (!admin.ok()) return;
    admin_ = std::move(admin).value();
    name_ = "it_" + FreshPgSchema();
    Status created = admin_->Exec("CREATE DATABASE " + name_);
    EXPECT_TRUE(created.ok()) << created.ToString();
    const size_t slash = base.find('/', base.find("://") + 3);
    const size_t query = base.find('?', slash);
    url_ = base.substr(0, slash + 1) + name_ + (query == std::string::npos ? "" : base.substr(query));
  }
  ~PgTestDatabase() {
    if (admin_) (void)admin_->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<PgDb> admin_;
  std::string name_, url_;
};

}  // namespace alphalab::testing

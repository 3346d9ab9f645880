// A SqliteJobStore on a database file in a temporary directory, for tests that need the real
// file (WAL, reader connections) rather than ":memory:". Check `store != nullptr` first.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "store/sqlite/sqlite_job_store.hpp"
#include "store/temp_dir.hpp"

namespace alphalab::testing {

struct FileJobStore {
  TempDir dir;
  std::unique_ptr<SqliteDb> db;
  std::unique_ptr<SqliteJobStore> store;
  FileJobStore() {
    auto opened = SqliteDb::Open(dir.path() / "alphalab.db");
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return;
    db = std::move(opened).value();
    auto s = SqliteJobStore::Open(*db);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) store = std::move(s).value();
  }
};

}  // namespace alphalab::testing

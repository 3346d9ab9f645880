// Test helper: builds one SqliteDb::WriteGrouped batch deterministically.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "store/sqlite/sqlite_db.hpp"

namespace alphalab::testing {

// Builds one batch deterministically: a blocker write holds the writer (it is the leader of
// its own batch) until `followers` closures are queued behind it, then returns. The
// followers, all queued while a commit was in progress, form the next batch together.
class BatchBuilder {
 public:
  BatchBuilder(SqliteDb& db, size_t followers) : db_(db), followers_(followers) {
    blocker_ = std::thread([this] {
      blocker_status_ = db_.WriteGrouped([this](SqliteConnection&) -> Status {
        running_ = true;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (db_.QueuedGroupedWrites() < followers_) {
          if (std::chrono::steady_clock::now() > deadline) return Status::Internal("followers never queued");
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        return Status::Ok();
      });
    });
    while (!running_) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  // Call after starting every follower thread.
  Status Finish() {
    blocker_.join();
    return blocker_status_;
  }

 private:
  SqliteDb& db_;
  size_t followers_;
  std::atomic<bool> running_{false};
  std::thread blocker_;
  Status blocker_status_;
};

}  // namespace alphalab::testing

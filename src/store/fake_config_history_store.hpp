// In-memory ConfigHistoryStore for unit tests (same semantics as the SQLite one; both run
// tests/store/config_history_store_conformance.hpp).
#pragma once

#include <algorithm>
#include <mutex>

#include "store/config_history_store.hpp"

namespace alphalab {

class FakeConfigHistoryStore final : public ConfigHistoryStore {
 public:
  Result<int64_t> Append(const ConfigHistoryRecord& record) override {
    std::lock_guard<std::mutex> lock(mu_);
    ConfigHistoryRecord r = record;
    r.id = static_cast<int64_t>(rows_.size()) + 1;
    rows_.push_back(r);
    return r.id;
  }
  Result<ConfigHistoryRecord> Get(int64_t id) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (id < 1 || id > static_cast<int64_t>(rows_.size())) {
      return Status::NotFound("history entry " + std::to_string(id) + " does not exist");
    }
    return rows_[static_cast<size_t>(id - 1)];
  }
  Result<std::vector<ConfigHistoryRecord>> List(const std::string& tool, const std::string& path, int limit,
                                                int64_t offset) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ConfigHistoryRecord> out;
    int64_t skipped = 0;
    for (auto it = rows_.rbegin(); it != rows_.rend() && static_cast<int>(out.size()) < limit; ++it) {
      if (it->tool != tool || it->path != path) continue;
      if (skipped++ < offset) continue;
      out.push_back(*it);
    }
    return out;
  }
  Result<std::map<std::string, int64_t>> CountByFile(const std::string& tool) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, int64_t> out;
    for (const auto& r : rows_) {
      if (r.tool == tool) ++out[r.path];
    }
    return out;
  }
  Result<int64_t> LastId() override {
    std::lock_guard<std::mutex> lock(mu_);
    return rows_.empty() ? int64_t{0} : rows_.back().id;
  }
  Result<std::optional<std::string>> KnownHash(const std::string& tool, const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = known_.find(tool + "\n" + path);
    if (it == known_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status SetKnownHash(const std::string& tool, const std::string& path, const std::string& sha256) override {
    std::lock_guard<std::mutex> lock(mu_);
    known_[tool + "\n" + path] = sha256;
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::vector<ConfigHistoryRecord> rows_;
  std::map<std::string, std::string> known_;
};

}  // namespace alphalab

// ConfigHistoryStore on PostgreSQL (scale-out; same tables, migrations and semantics as the SQLite one): tables `config_history` and
// `config_known_hashes`, migrations under the component "configs". Times are integer
// microseconds since the epoch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/config_history_store.hpp"
#include "store/postgres/pg_db.hpp"

namespace alphalab {

class PostgresConfigHistoryStore final : public ConfigHistoryStore {
 public:
  // Applies the "configs" migrations; `db` must outlive the store.
  static Result<std::unique_ptr<PostgresConfigHistoryStore>> Open(PgDb& db);

  Result<int64_t> Append(const ConfigHistoryRecord& record) override;
  Result<ConfigHistoryRecord> Get(int64_t id) override;
  Result<std::vector<ConfigHistoryRecord>> List(const std::string& tool, const std::string& path, int limit,
                                                int64_t offset) override;
  Result<std::map<std::string, int64_t>> CountByFile(const std::string& tool) override;
  Result<int64_t> LastId() override;
  Result<std::optional<std::string>> KnownHash(const std::string& tool, const std::string& path) override;
  Status SetKnownHash(const std::string& tool, const std::string& path, const std::string& sha256) override;

  static const std::vector<std::string>& Migrations();

 private:
  explicit PostgresConfigHistoryStore(PgDb& db) : db_(db) {}
  PgDb& db_;
};

}  // namespace alphalab

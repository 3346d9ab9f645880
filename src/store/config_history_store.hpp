// ConfigHistoryStore: the config center's history rows (docs/configs.md) and the last-known hash
// of every managed file (drift detection). The backed-up file contents live under the
// workspace's history/ folder; a row names its file.
//
// Semantics every implementation keeps (the conformance suite,
// tests/store/config_history_store_conformance.hpp):
// - Append assigns increasing ids (1, 2, ...) and returns the id; Get of an unknown id is NotFound;
// - List(tool, path) returns that file's rows newest first (id descending), paged;
// - CountByFile(tool) counts the rows of every file of the tool that has any;
// - LastId() is the highest id appended so far (0 for none): rows are never deleted, so it is a
//   cheap change stamp (the config list keeps its counts while it stays the same);
// - the known hash of a file is absent until set, and Set replaces it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/status.hpp"

namespace alphalab {

struct ConfigHistoryRecord {
  int64_t id = 0;            // assigned by Append
  std::string tool;          // "rdagent"
  std::string path;          // relative to the tool's root: ".env"
  std::string history_path;  // the backup, relative to the workspace: history/20261202/..._manual_.env
  std::string task_id;       // the job the version was saved for; "" = manual
  std::string operator_name; // the principal's name, or "local"
  std::string sha256;        // of the backed-up content
  std::string note;
  std::string event;         // "write" | "drift" | "rollback" | "task": why the version was saved
  TimePoint created_at{};

  bool operator==(const ConfigHistoryRecord&) const = default;
};

class ConfigHistoryStore {
 public:
  virtual ~ConfigHistoryStore() = default;

  virtual Result<int64_t> Append(const ConfigHistoryRecord& record) = 0;
  virtual Result<ConfigHistoryRecord> Get(int64_t id) = 0;
  virtual Result<std::vector<ConfigHistoryRecord>> List(const std::string& tool, const std::string& path, int limit,
                                                        int64_t offset) = 0;
  virtual Result<std::map<std::string, int64_t>> CountByFile(const std::string& tool) = 0;
  virtual Result<int64_t> LastId() = 0;

  virtual Result<std::optional<std::string>> KnownHash(const std::string& tool, const std::string& path) = 0;
  virtual Status SetKnownHash(const std::string& tool, const std::string& path, const std::string& sha256) = 0;
};

}  // namespace alphalab

// The config center (docs/configs.md): the managed files of every tool declared under
// `configs:` in alphalab.yaml, read and written through the roots they live in
// (core/roots.hpp), every change validated, backed up under history/ and reversible.
//
// A managed file is named "<tool>:<path>" in the API ("rdagent:.env"); `path` is relative to the
// tool's root. History rows live in a ConfigHistoryStore; the backed-up bytes in
// history/YYYYMMDD/{ms}_{taskId|manual}_{filename} beneath the workspace.
//
// Write:   validate (env grammar / YAML) -> base_sha256 must be the file's current hash (else
//          FailedPrecondition 409 naming it) -> back up the current version (O_EXCL, never
//          overwritten) -> atomic replace (temp, fsync, rename, fsync folder) -> known hash.
// Drift:   the hash last written or seen by alphalab vs the file on disk; a drifted file's
//          unknown version is backed up (event "drift") before the next write or rollback.
// Secrets: `.env` and YAML values of secret-looking keys (dotenv.hpp, yaml_secrets.hpp) are
//          ******** in everything returned (read, diff); writing
//          ******** back keeps the stored value.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/workspace_config.hpp"
#include "configs/config_checks.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/roots.hpp"
#include "core/status.hpp"
#include "store/config_history_store.hpp"

namespace alphalab::configs {

struct ConfigServiceOptions {
  std::chrono::milliseconds llm_timeout{5000};
  size_t max_file_bytes = size_t{8} << 20;
  std::chrono::milliseconds racy_margin{2000};      // see FileStamp
  std::chrono::milliseconds counts_max_age{2000};   // see ConfigService::HistoryCounts
};

// What identifies a file's version without reading it: the config list reuses a file's hash while
// its device, inode, size, mtime and ctime stay the same, and only for a file whose ctime was at
// least ConfigServiceOptions::racy_margin old when it was hashed (a change within the same
// timestamp tick would keep the stamp).
struct FileStamp {
  uint64_t dev = 0, ino = 0;
  int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

struct ManagedRef {
  const ToolConfigDecl* tool = nullptr;
  const ManagedFileDecl* file = nullptr;
  std::string Name() const { return tool->name + ":" + file->path; }
};

struct WriteRequest {
  std::string path;         // "<tool>:<path>"
  std::string content;
  std::string base_sha256;  // of the version the edit started from
  std::string note;
  std::string operator_name = "local";
  std::string task_id;      // "" = manual
};

class ConfigService {
 public:
  // `probe` may be null (the LLM check then answers bad_response "no probe").
  ConfigService(std::vector<ToolConfigDecl> tools, ConfinedRoots roots, ConfigHistoryStore& store, const Clock& clock,
                LlmProbe* probe = nullptr, ConfigServiceOptions options = {});

  // Every tool and its files: {tools: [{name, description, root, files: [FileInfo]}]}.
  // FileInfo = {path, tool, file, kind, readonly, exists, sha256, size, mtime, drift, history_count}.
  Result<Json> List(const std::optional<std::string>& tool = std::nullopt);
  // FileInfo + content (masked for env files).
  Result<Json> Read(const std::string& path);
  // {path, sha256, previous_sha256, history_id (the backup, or null when nothing changed), drift_history_id}
  Result<Json> Write(const WriteRequest& req);
  // {path, items: [HistoryEntry], total}; HistoryEntry = {id, path, history_path, task_id, operator, sha256, note,
  // event, created_at}.
  Result<Json> History(const std::string& path, int limit, int64_t offset);
  // from/to: a history id of this file or "current". {path, from, to, diff, added, removed}.
  Result<Json> Diff(const std::string& path, const std::string& from, const std::string& to);
  // Puts the version of `history_id` back (current backed up first, event "rollback").
  Result<Json> Rollback(const std::string& path, int64_t history_id, const std::string& operator_name,
                        const std::string& note);
  // check: "consistency" | "qlib" | "llm" | "all". {tool, checks: {consistency?, qlib?, llm?}, ok}.
  Result<Json> Check(const std::string& tool, const std::string& check, const std::optional<std::string>& provider_uri);

  // For the job preparer and the views.
  Result<ManagedRef> Find(const std::string& path) const;
  Result<ManagedRef> Find(const std::string& tool, const std::string& file) const;
  const std::vector<ToolConfigDecl>& tools() const { return tools_; }
  Result<std::string> ReadRaw(const ManagedRef& ref) const;
  Result<ConfigHistoryRecord> HistoryEntry(int64_t id);
  Result<std::string> ReadHistoryContent(const ConfigHistoryRecord& rec) const;
  // The consistency check alone (the preparer runs it before a task starts).
  Result<Json> Consistency(const ToolConfigDecl& tool);

 private:
  Result<Json> FileInfo(const ManagedRef& ref, std::string* content_out);
  // The history rows per file of `tool`, counted again only when a row was added (the store's
  // LastId changed) or the counts are older than kCountsMaxAge (docs/configs.md, "Listing cost").
  Result<std::map<std::string, int64_t>> HistoryCounts(const std::string& tool);

  struct KnownVersion {
    FileStamp stamp;
    std::string sha256;
  };
  struct CountsEntry {
    int64_t last_id = -1;
    std::chrono::steady_clock::time_point at;
    std::map<std::string, int64_t> by_file;
  };
  Result<int64_t> Backup(const ManagedRef& ref, const std::string& content, const std::string& event,
                         const std::string& operator_name, const std::string& task_id, const std::string& note);
  Result<Json> ReplaceLocked(const ManagedRef& ref, const std::string& current, const std::string& next,
                             const std::string& event, const std::string& operator_name, const std::string& task_id,
                             const std::string& note);
  std::string BackupName(const ManagedRef& ref) const;
  Json EntryJson(const ConfigHistoryRecord& r) const;

  std::vector<ToolConfigDecl> tools_;
  ConfinedRoots roots_;
  ConfigHistoryStore& store_;
  const Clock& clock_;
  LlmProbe* probe_;
  ConfigServiceOptions options_;
  std::mutex write_mu_;  // one write / rollback at a time (backup + replace + row)
  std::mutex cache_mu_;  // guards the two caches below
  std::map<std::string, KnownVersion> hashes_;  // by managed name, List only
  std::map<std::string, CountsEntry> counts_;   // by tool
};

// "<tool>:<path>" -> {tool, path}; InvalidArgument naming `field` otherwise.
Result<std::pair<std::string, std::string>> SplitManagedPath(const std::string& path, const std::string& field = "path");

}  // namespace alphalab::configs

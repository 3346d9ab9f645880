// The detail read of a job not in the server's cache (GET /api/jobs/{id}): the row as the store
// holds it, without decoding its JSON columns. A separate interface beside JobStore, implemented
// by the SQL stores (SQLite, PostgreSQL); the jobs service asks its store for it and falls back
// to JobStore::GetJob for stores without it (the in-memory fake).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "core/status.hpp"
#include "store/job_store.hpp"

namespace alphalab {

// `record` without command, params, artifacts and env decoded (left empty), and the three the
// detail shows as the compact JSON text the store keeps (what DumpJson wrote), so a reader
// copies them into the response instead of parsing and serializing them again
// (jobs/job_detail_body.hpp).
struct StoredJob {
  JobRecord record;
  std::string command_json;    // a JSON array of strings
  std::string params_json;     // any JSON value (the detail shows {} unless an object)
  std::string artifacts_json;  // same
};

// The columns the detail shows, as views into the store's own row (the statement's memory):
// valid only inside the callback of StoredJobReader::ReadStoredJob. Nothing is copied or
// decoded; the JSON columns are their stored text.
struct StoredJobView {
  std::string_view job_id;
  std::string_view job_type;
  JobState status = JobState::kQueued;
  TimePoint created_at;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  std::optional<int> exit_code;
  std::optional<std::string_view> error_message;
  std::string_view cwd;
  std::string_view command_json;
  std::string_view args_preview;
  std::string_view params_json;
  std::string_view artifacts_json;
  std::optional<std::string_view> artifacts_parse_error;
  std::string_view log_path;
  std::string_view meta_path;
  std::optional<std::string_view> parent_id;
  std::optional<std::string_view> source_job_id;
  std::optional<std::string_view> owner_id;
  bool dry_run = false;
  int64_t timeout_sec = 0;
  std::optional<EndReason> end_reason;
  std::string_view project;
};

class StoredJobReader {
 public:
  virtual ~StoredJobReader() = default;
  // NotFound with a clear message for an unknown id (as JobStore::GetJob).
  virtual Result<StoredJob> GetStoredJob(const JobId& id) = 0;
  // The row as a view, handed to `use` while the read is still open (GET /api/jobs/{id} writes
  // its body from it: no copy of the row, no record); NotFound as GetStoredJob.
  virtual Status ReadStoredJob(const JobId& id, const std::function<void(const StoredJobView&)>& use) = 0;
};

}  // namespace alphalab

// The detail read of a job not in the server's cache (GET /api/jobs/{id}): the row as the store
// holds it, without decoding its JSON columns. A separate interface beside JobStore, implemented
// by the SQL stores (SQLite, PostgreSQL); the jobs service asks its store for it and falls back
// to JobStore::GetJob for stores without it (the in-memory fake).
#pragma once

#include <string>

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

class StoredJobReader {
 public:
  virtual ~StoredJobReader() = default;
  // NotFound with a clear message for an unknown id (as JobStore::GetJob).
  virtual Result<StoredJob> GetStoredJob(const JobId& id) = 0;
};

}  // namespace alphalab

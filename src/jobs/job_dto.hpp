// JobRecord -> the wire JSON (JobDetailResponse, docs/api.md). One function, used by the API and
// by the meta file reports/jobs/runtime/<job_id>.json, so both always agree.
#pragma once

#include "core/clock.hpp"
#include "core/json.hpp"
#include "store/job_store.hpp"

namespace alphalab {

// job_id, job_type, status, created_at, started_at, ended_at, duration_sec, exit_code,
// end_reason (EndReasonName, null while not terminal), error_message, cwd, command[],
// args_preview, artifacts{run_id?, run_dir?, bt_run_id?, bt_dir?},
// artifacts_parse_error, runtime{meta_path, log_path}, parent_id, source_job_id, owner_id,
// params, dry_run, timeout_sec. Absent optionals are null. duration_sec of a RUNNING job is
// the time so far (from `now`).
Json JobDetailJson(const JobRecord& job, TimePoint now);

// The structured log line of a recorded state (the server log's "msg":"job" event), written
// straight into a string: {"msg":"job","job_id","job_type","status"} in this order, then
// "dry_run":true for a dry run; RUNNING adds queue_wait_sec (created_at -> started_at);
// terminal states add end_reason, exit_code, duration_sec (started_at -> ended_at), error (the
// error message's first line, at most 300 bytes) and artifacts_parse_error, each when known.
// Strings and numbers as DumpJson writes them (invalid UTF-8 replaced).
std::string JobEventJson(const JobRecord& job);

}  // namespace alphalab

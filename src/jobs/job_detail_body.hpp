// The detail JSON of a job (JobDetailResponse, docs/api.md) written straight into one string,
// without a Json tree: the uncached GET /api/jobs/{id}. Byte for byte what
// DumpJson(JobDetailJson(...)) (jobs/job_dto.hpp) writes; tests/jobs/job_dto_test.cpp checks it.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "store/stored_job.hpp"

namespace alphalab {

// command, params and artifacts are copied from the stored JSON text.
std::string JobDetailBody(const StoredJobView& job, TimePoint now);
std::string JobDetailBody(const StoredJob& job, TimePoint now);
// From a record (the POST reply, the cached detail, the meta file): command, params and
// artifacts serialized on their own, the rest written straight.
std::string JobDetailBody(const JobRecord& job, TimePoint now);

// The StoredJob of a decoded record (for stores without StoredJobReader).
StoredJob StoredJobOf(JobRecord record);

}  // namespace alphalab

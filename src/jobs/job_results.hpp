// Reading what a finished job produced, by its type's declaration (never by its name):
//   - a built-in type writes a result file (core/job_result.hpp); its kind says what it is,
//     and for a backtest the numeric results are the alphalab_summary of its summary.json;
//   - a user type that declares `results: {parser, path}` (jobs/job_catalog.hpp) has them read
//     by that named parser (jobs/result_parsers.hpp) from the file its path template names,
//     "{job_id}" and "{param}" substituted, one '*' in the file name matched against the
//     directory (exactly one file must match), everything confined to the workspace.
// The job service uses ReadResultFileOf for a built-in's artifacts; optimizations rank tasks
// through ReadJobMetrics and check objective metrics with IsKnownMetricOf.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/job_result.hpp"
#include "core/status.hpp"
#include "core/workspace.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/result_parsers.hpp"
#include "store/job_store.hpp"

namespace alphalab {

// The result file of `job` when its type writes one (spec->result_kind), else nullopt.
std::optional<Result<JobResult>> ReadResultFileOf(const Workspace& ws, const JobTypeSpec* spec, const JobRecord& job);

// Whether a job of this type has numeric results to read (a built-in backtest, or a user
// type with `results:`).
bool HasReadableResults(const JobTypeSpec& spec);

// Whether `metric` can be a numeric result of this type (IsKnownMetricName of its parser: a
// built-in backtest reads alphalab_summary); false when the type has no readable results.
bool IsKnownMetricOf(const JobTypeSpec& spec, std::string_view metric);

struct JobMetrics {
  ParsedResult parsed;
  std::string result_summary_id;          // a backtest's bt_run_id, else ""
  std::vector<std::string> result_paths;  // workspace-relative files the metrics came from
};

// The numeric results of a finished, successful job. NotFound / InvalidArgument name the
// file and the parser when they cannot be read; FailedPrecondition when the type declares none.
Result<JobMetrics> ReadJobMetrics(const Workspace& ws, const JobTypeSpec& spec, const JobRecord& job);

// The workspace-relative file a `results:` path template names for `job` (the '*' still in
// it); InvalidArgument when a placeholder has no value.
Result<std::string> SubstituteResultsPath(const std::string& tmpl, const JobRecord& job);

}  // namespace alphalab

// The optimization request document (POST /api/v1/optimizations, or YAML for the CLI),
// parsed and validated into a typed OptimizationRequest. Every invalid field is an
// InvalidArgument whose message starts with the field path and whose details carry
// {"field": path}; nothing is half-parsed. See docs/optimizations.md for the document.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "optimize/early_stop.hpp"
#include "optimize/objective.hpp"
#include "optimize/param_space.hpp"
#include "optimize/sampler.hpp"

namespace alphalab::optimize {

struct RequestLimits {
  uint64_t max_tasks = kDefaultMaxTasks;
  int64_t max_inflight = 10'000;
  int64_t max_top_n = 1'000;
  // When set: objective.metric and constraint metrics must be among these (the numeric
  // fields the job type's result parser yields); job_type must be among known_job_types.
  std::optional<std::set<std::string>> known_metrics;
  std::optional<std::set<std::string>> known_job_types;
  // When set (and known_metrics is not): whether `metric` is a numeric result field of
  // `job_type` (the optimization service asks the job type's result parser).
  std::function<bool(const std::string& job_type, const std::string& metric)> is_known_metric;
  // Expands a models dimension (param_space.<key>: {"models": filter}) to the model files of
  // the registry. Without it a models dimension is a 400, unless allow_unresolved_models (a
  // stored request parsed again: its tasks exist, the axis keeps its filter and no values).
  ModelResolver resolve_models;
  bool allow_unresolved_models = false;
};

struct OptimizationRequest {
  std::string name;
  std::string project;
  std::string job_type;
  Json base_params = Json::object();
  Json param_space_json = Json::object();  // as given (the re-run copies it)
  ParamSpace param_space;
  SamplerSpec sampler;
  Objective objective;
  std::vector<Constraint> constraints;
  EarlyStopPolicy early_stop;
  std::optional<int64_t> max_inflight;  // none: the service's default
  int64_t top_n = 10;
  std::optional<std::string> holdout_start;  // validation.holdout_start, YYYY-MM-DD
  std::optional<std::string> source_job_id;  // the optimization this one re-runs
  uint64_t task_count = 0;                   // tasks the sampler will enumerate

  // The normalised document (defaults filled in); ParseOptimizationRequest of it gives
  // the same request. This is what a re-run copies.
  Json ToJson() const;
};

Result<OptimizationRequest> ParseOptimizationRequest(const Json& doc, const RequestLimits& limits = {});

// A re-run request: a document holding source_job_id (an optimization id) and optionally
// any other request field. True when source_job_id is present and not null.
bool IsRerunRequest(const Json& doc);

// Merges a re-run request onto the source optimization's stored request document: every
// top-level field of `overrides` that is present and not null replaces the source's (whole
// field, no deep merge); source_job_id is set to the source's id. Parse the result with
// ParseOptimizationRequest.
Result<Json> MergeRerunRequest(const Json& source_document, const Json& overrides);

// "YYYY-MM-DD" naming a real calendar day.
bool IsIsoDate(std::string_view s);

}  // namespace alphalab::optimize

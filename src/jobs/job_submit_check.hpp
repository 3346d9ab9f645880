// The seam through which a job's input is judged at submit by code the jobs service does not
// see: the built-in engine types' configs (train, backtest: the file, its overrides, every
// key and value, the dataset, a model) are checked by the engine (src/app/engine_job_check.hpp,
// wired by the composition root; jobs never include the engine).
//
//   submit -> catalog validates params -> JobPreparer::Check (types with `tool:`)
//          -> JobSubmitCheck::Check (unless SubmitOptions::checked_by_submitter: a task of an
//             optimization was checked when the optimization was created, and a value the
//             engine refuses fails that task alone; a request body cannot set it) -> queued
//
// Dry runs are checked too. A failure is a 400 before anything is written or queued.
#pragma once

#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab {

class JobSubmitCheck {
 public:
  virtual ~JobSubmitCheck() = default;
  // `params`: the catalog's validated params of a job of type `job_type`. Ok for types it does
  // not know; InvalidArgument naming the param (details.field) otherwise.
  virtual Status Check(std::string_view job_type, const Json& params) const = 0;
};

}  // namespace alphalab

// The durable home of optimizations (parameter sweeps) and their tasks. One interface,
// implemented by SQLite (sqlite/sqlite_optimization_store.hpp) and an in-memory fake
// (fake_optimization_store.hpp); one conformance suite
// (tests/store/optimization_store_conformance.hpp) runs against every implementation, and a
// PostgreSQL store will run it too.
//
// The store sits below src/optimize: records are plain strings, integers, doubles and Json;
// the optimize service converts to and from its own types. States are kept as their wire
// names and only checked for being known names: which transitions are allowed is decided by
// optimize/optimization_state.cpp, the store only guarantees compare-and-set (a write whose
// expected state is stale is refused, so two servers sharing one database never both move a
// row).
//
// Contract shared by every implementation:
// - Times keep microsecond precision; finer parts are truncated.
// - JSON fields (request, summary, params, metrics) round-trip exactly.
// - A task is identified by (optimization_id, index). Its params_key (the canonical text of
//   its params, optimize::CanonicalParamsKey) is unique among the optimization's search tasks
//   and, separately, among its validation tasks (a holdout re-run repeats a search task's
//   params), so a configuration is never stored twice.
// - total_tasks counts the non-validation tasks and is maintained by the store (the value
//   passed to Create is ignored).
// - Task ordering: by index ascending by default; by score or by a numeric metric in either
//   direction with rows lacking a value (NULL score, absent or non-numeric metric) LAST in
//   both directions and ties broken by index ascending, so pages never overlap or skip.
// - Optimization lists: newest first (created_at DESC, id DESC).
// - Every method is safe to call from many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab {

// Wire names of an optimization's states.
inline constexpr std::array<std::string_view, 6> kOptimizationStatuses = {
    "queued", "running", "succeeded", "failed", "early-stopped", "canceled"};
// Wire names of a task's states.
inline constexpr std::array<std::string_view, 6> kOptimizationTaskStatuses = {
    "pending", "queued", "running", "succeeded", "failed", "canceled"};

// "opt_YYYYMMDD_HHMMSS__hash8", the job id scheme with an "opt" prefix.
inline std::string NewOptimizationId(TimePoint now) { return MakeTimestampedId("opt", now); }

struct OptimizationRecord {
  std::string id;  // opt_YYYYMMDD_HHMMSS__hash8
  std::string name;
  std::string project;
  std::string owner_id;  // "" when anonymous
  std::string job_type;
  std::string status = "queued";
  Json request = Json::object();  // the full normalized request
  Json summary = Json::object();
  std::optional<std::string> source_id;  // the optimization this one re-runs
  TimePoint created_at{};
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  TimePoint updated_at{};
  int64_t total_tasks = 0;  // non-validation tasks (maintained by the store)

  friend bool operator==(const OptimizationRecord&, const OptimizationRecord&) = default;
};

struct OptimizationTaskRecord {
  std::string optimization_id;  // set by Create/AddTasks
  int64_t index = 0;
  Json params = Json::object();
  std::string params_key;
  std::string status = "pending";
  std::optional<std::string> job_id;
  std::optional<double> score;
  Json metrics = Json::object();
  bool ranked = false;
  std::string reason;
  int64_t attempt = 0;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  bool validation = false;  // holdout re-run; not counted in total_tasks

  friend bool operator==(const OptimizationTaskRecord&, const OptimizationTaskRecord&) = default;
};

inline constexpr int kMaxOptimizationPageLimit = 1000;

// Equality filters; `statuses` and `projects` with several values are IN, empty = any.
struct OptimizationQuery {
  std::vector<std::string> statuses;
  std::vector<std::string> projects;
  std::optional<std::string> owner_id;
  std::optional<std::string> source_id;
  int limit = 50;       // 0..1000
  int64_t offset = 0;   // >= 0
};

// "index" (the default), "score", or any metric key (a numeric field of `metrics`).
struct OptimizationTaskSort {
  std::string field = "index";
  bool descending = false;
  friend bool operator==(const OptimizationTaskSort&, const OptimizationTaskSort&) = default;
};

struct OptimizationTaskQuery {
  std::optional<std::string> status;
  std::optional<bool> validation;  // nullopt = both kinds
  OptimizationTaskSort sort;
  int limit = 50;       // 0..1000
  int64_t offset = 0;   // >= 0
};

// New state of the optimization and the times that go with it (UpdateStatus).
struct OptimizationStatusTimes {
  TimePoint updated_at{};
  std::optional<TimePoint> started_at;  // written when set
  std::optional<TimePoint> ended_at;    // written when set
  bool clear_ended_at = false;          // reopen (extend, retry-failed): ended_at becomes NULL
};

// What MarkTaskStatus writes besides the status: engaged fields replace the stored value,
// disengaged ones leave it as it is.
struct OptimizationTaskUpdate {
  std::optional<double> score;
  std::optional<Json> metrics;
  std::optional<bool> ranked;
  std::optional<std::string> reason;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
};

// One write of a batch (OptimizationStore::ApplyTaskWrites): a MarkTaskQueued (kQueued:
// index, job_id) or a MarkTaskStatus (kStatus: index, expected, next, update).
struct OptimizationTaskWrite {
  enum class Kind { kQueued, kStatus };
  Kind kind = Kind::kStatus;
  int64_t index = 0;
  std::string job_id;
  std::string expected;
  std::string next;
  OptimizationTaskUpdate update;
};

struct OptimizationTaskRef {
  std::string optimization_id;
  int64_t index = 0;
  friend bool operator==(const OptimizationTaskRef&, const OptimizationTaskRef&) = default;
};

inline bool IsOptimizationStatus(std::string_view s) {
  for (auto name : kOptimizationStatuses) {
    if (name == s) return true;
  }
  return false;
}

inline bool IsOptimizationTaskStatus(std::string_view s) {
  for (auto name : kOptimizationTaskStatuses) {
    if (name == s) return true;
  }
  return false;
}

// The checks every implementation applies before touching data, so bad input is refused the
// same way everywhere (InvalidArgument naming the field; nothing written).
inline Status CheckOptimizationStatus(std::string_view s, std::string_view field) {
  if (IsOptimizationStatus(s)) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + ": unknown optimization status '" +
                                     std::string(s.substr(0, 64)) + "'",
                                 {{"field", std::string(field)}});
}

inline Status CheckOptimizationTaskStatus(std::string_view s, std::string_view field) {
  if (IsOptimizationTaskStatus(s)) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + ": unknown task status '" + std::string(s.substr(0, 64)) + "'",
                                 {{"field", std::string(field)}});
}

inline Status CheckOptimizationPaging(int limit, int64_t offset) {
  if (limit < 0 || limit > kMaxOptimizationPageLimit) {
    return Status::InvalidArgument("limit must be between 0 and 1000, got " + std::to_string(limit),
                                   {{"parameter", "limit"}});
  }
  if (offset < 0) {
    return Status::InvalidArgument("offset must be >= 0, got " + std::to_string(offset), {{"parameter", "offset"}});
  }
  return Status::Ok();
}

// A metric key usable as a sort field: 1..128 characters, printable, no '"' or '\'
// (LEAN statistic names such as "Sharpe Ratio" qualify).
inline Status CheckTaskSortField(std::string_view field) {
  bool ok = !field.empty() && field.size() <= 128;
  for (char c : field) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ok = false;
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument("sort: invalid field '" + std::string(field.substr(0, 64)) + "'",
                                 {{"parameter", "sort"}});
}

inline Status CheckOptimizationTaskQuery(const OptimizationTaskQuery& q) {
  RETURN_IF_ERROR(CheckOptimizationPaging(q.limit, q.offset));
  if (q.status) RETURN_IF_ERROR(CheckOptimizationTaskStatus(*q.status, "status"));
  return CheckTaskSortField(q.sort.field);
}

inline Status CheckOptimizationQuery(const OptimizationQuery& q) {
  RETURN_IF_ERROR(CheckOptimizationPaging(q.limit, q.offset));
  for (const std::string& s : q.statuses) RETURN_IF_ERROR(CheckOptimizationStatus(s, "status"));
  if (q.statuses.size() > 1000 || q.projects.size() > 1000) {
    return Status::InvalidArgument("an IN list has at most 1000 values");
  }
  return Status::Ok();
}

inline Status CheckNewTasks(const std::vector<OptimizationTaskRecord>& tasks) {
  for (size_t i = 0; i < tasks.size(); ++i) {
    const auto& t = tasks[i];
    const std::string field = "tasks[" + std::to_string(i) + "]";
    if (t.params_key.empty()) {
      return Status::InvalidArgument(field + ".params_key: empty", {{"field", field + ".params_key"}});
    }
    if (t.index < 0) return Status::InvalidArgument(field + ".index: negative", {{"field", field + ".index"}});
    RETURN_IF_ERROR(CheckOptimizationTaskStatus(t.status, field + ".status"));
  }
  return Status::Ok();
}

class OptimizationStore {
 public:
  virtual ~OptimizationStore() = default;

  // Stores the optimization and its tasks atomically (all or nothing). Each task's
  // optimization_id is set to opt.id and its index is kept. AlreadyExists when the id is
  // taken or two tasks share an index or (kind, params_key); InvalidArgument for an unknown
  // status, an empty params_key or a negative index.
  virtual Status Create(const OptimizationRecord& opt, const std::vector<OptimizationTaskRecord>& tasks) = 0;
  // Appends tasks (extend): a task whose (kind, params_key) is already stored, or repeats an
  // earlier task of the same call, is skipped; the added ones get consecutive indices after
  // the highest stored one, in input order (their `index` is ignored). Atomic. Returns how
  // many were added. NotFound for an unknown optimization.
  virtual Result<int64_t> AddTasks(const std::string& opt_id, const std::vector<OptimizationTaskRecord>& tasks) = 0;

  // NotFound for an unknown id.
  virtual Result<OptimizationRecord> Get(const std::string& id) = 0;
  virtual Result<std::vector<OptimizationRecord>> List(const OptimizationQuery& query) = 0;
  // Rows matching the query's filters (limit/offset ignored).
  virtual Result<int64_t> Count(const OptimizationQuery& query) = 0;
  // Ids of ended optimizations (status succeeded, failed, early-stopped or canceled) whose
  // summary has "validation": {"status": "pending" | "running"}: a search that has ended but
  // whose holdout re-runs (or its report) have not (a restart resumes them). Oldest first.
  virtual Result<std::vector<std::string>> ListOpenValidations() = 0;

  // Compare-and-set: moves `id` from `expected` to `next` and writes the times.
  // NotFound for an unknown id; FailedPrecondition (details.status = the stored one) when the
  // stored status is not `expected`.
  virtual Status UpdateStatus(const std::string& id, const std::string& expected, const std::string& next,
                              const OptimizationStatusTimes& times) = 0;
  virtual Status UpdateSummary(const std::string& id, const Json& summary, TimePoint updated_at) = 0;

  // A page of the optimization's tasks (see the ordering rules above). NotFound for an
  // unknown optimization.
  virtual Result<std::vector<OptimizationTaskRecord>> ListTasks(const std::string& opt_id,
                                                                const OptimizationTaskQuery& query) = 0;
  // Tasks matching the status/validation filters (sort, limit, offset ignored).
  virtual Result<int64_t> CountTasks(const std::string& opt_id, const OptimizationTaskQuery& query) = 0;
  // NotFound for an unknown task.
  virtual Result<OptimizationTaskRecord> GetTask(const std::string& opt_id, int64_t index) = 0;
  // Up to `limit` pending tasks, index ascending (validation tasks included).
  virtual Result<std::vector<OptimizationTaskRecord>> TasksToRun(const std::string& opt_id, int limit) = 0;

  // Compare-and-set pending -> queued, recording the job. FailedPrecondition when the task is
  // no longer pending; AlreadyExists when the job id is already recorded on another task.
  virtual Status MarkTaskQueued(const std::string& opt_id, int64_t index, const std::string& job_id) = 0;
  // Compare-and-set expected -> next with the update's fields. NotFound / FailedPrecondition
  // (details.status = the stored one) as for UpdateStatus.
  virtual Status MarkTaskStatus(const std::string& opt_id, int64_t index, const std::string& expected,
                                const std::string& next, const OptimizationTaskUpdate& update) = 0;
  // The writes in order, each with the rules (and error) of its MarkTaskQueued / MarkTaskStatus:
  // returns one Status per write; a write that fails leaves the others applied. The SQLite
  // store runs them in one transaction (one commit instead of one per write: the fast path
  // records a chunk of tasks at once); this default applies them one by one.
  virtual Result<std::vector<Status>> ApplyTaskWrites(const std::string& opt_id,
                                                      const std::vector<OptimizationTaskWrite>& writes) {
    std::vector<Status> out;
    out.reserve(writes.size());
    for (const auto& w : writes) {
      out.push_back(w.kind == OptimizationTaskWrite::Kind::kQueued
                        ? MarkTaskQueued(opt_id, w.index, w.job_id)
                        : MarkTaskStatus(opt_id, w.index, w.expected, w.next, w.update));
    }
    return out;
  }
  // Every failed task back to pending with attempt + 1; job_id, score, metrics, ranked,
  // reason and times are cleared. Other states are untouched. Returns how many moved.
  virtual Result<int64_t> RequeueFailed(const std::string& opt_id) = 0;

  // Every pending task (validation ones included) to canceled, with `reason` and ended_at, in
  // one transaction (early stop and cancel of a large optimization). Returns the indices that
  // moved, ascending. NotFound for an unknown optimization.
  virtual Result<std::vector<int64_t>> CancelPending(const std::string& opt_id, const std::string& reason,
                                                     TimePoint ended_at) = 0;

  // The task that ran `job_id` (for the job-finished listener). NotFound when none.
  virtual Result<OptimizationTaskRef> TaskByJobId(const std::string& job_id) = 0;
};

}  // namespace alphalab

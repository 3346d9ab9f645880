// In-memory OptimizationStore for tests: the same semantics as the SQLite store (the
// conformance suite runs against both), with plain containers under one mutex.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include "store/optimization_store.hpp"

namespace alphalab {

class FakeOptimizationStore final : public OptimizationStore {
 public:
  Status Create(const OptimizationRecord& opt, const std::vector<OptimizationTaskRecord>& tasks) override {
    RETURN_IF_ERROR(CheckOptimizationStatus(opt.status, "status"));
    RETURN_IF_ERROR(CheckNewTasks(tasks));
    std::lock_guard<std::mutex> lock(mu_);
    if (opts_.count(opt.id) > 0) return Status::AlreadyExists("optimization " + opt.id + " already exists");
    Entry entry;
    entry.opt = Truncated(opt);
    entry.opt.total_tasks = 0;
    for (const auto& t : tasks) {
      if (entry.tasks.count(t.index) > 0) {
        return Status::AlreadyExists("optimization " + opt.id + ": task index " + std::to_string(t.index) +
                                     " given twice");
      }
      if (!entry.keys.insert({t.validation, t.params_key}).second) {
        return Status::AlreadyExists("optimization " + opt.id + ": params_key " + t.params_key + " given twice");
      }
      if (t.job_id && (job_index_.count(*t.job_id) > 0 || HasJobId(entry, *t.job_id))) {
        return Status::AlreadyExists("job " + *t.job_id + " is already recorded on a task");
      }
      OptimizationTaskRecord copy = TruncatedTask(t);
      copy.optimization_id = opt.id;
      if (!copy.validation) ++entry.opt.total_tasks;
      entry.tasks.emplace(copy.index, std::move(copy));
    }
    for (const auto& [index, t] : entry.tasks) {
      if (t.job_id) job_index_[*t.job_id] = {opt.id, index};
    }
    opts_.emplace(opt.id, std::move(entry));
    return Status::Ok();
  }

  Result<int64_t> AddTasks(const std::string& opt_id, const std::vector<OptimizationTaskRecord>& tasks) override {
    RETURN_IF_ERROR(CheckNewTasks(tasks));
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Entry * entry, Find(opt_id));
    if (fail_validation_adds_ > 0 && !tasks.empty() && tasks.front().validation) {
      --fail_validation_adds_;
      return fail_validation_status_;
    }
    Entry staged = *entry;
    int64_t next = staged.tasks.empty() ? 0 : staged.tasks.rbegin()->first + 1;
    int64_t added = 0;
    for (const auto& t : tasks) {
      if (!staged.keys.insert({t.validation, t.params_key}).second) continue;
      if (t.job_id && (job_index_.count(*t.job_id) > 0 || HasJobId(staged, *t.job_id))) {
        return Status::AlreadyExists("job " + *t.job_id + " is already recorded on a task");
      }
      OptimizationTaskRecord copy = TruncatedTask(t);
      copy.optimization_id = opt_id;
      copy.index = next++;
      if (!copy.validation) ++staged.opt.total_tasks;
      staged.tasks.emplace(copy.index, std::move(copy));
      ++added;
    }
    for (const auto& [index, t] : staged.tasks) {
      if (t.job_id) job_index_[*t.job_id] = {opt_id, index};
    }
    *entry = std::move(staged);
    return added;
  }

  Result<OptimizationRecord> Get(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Entry * entry, Find(id));
    return entry->opt;
  }

  Result<std::vector<OptimizationRecord>> List(const OptimizationQuery& query) override {
    RETURN_IF_ERROR(CheckOptimizationQuery(query));
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<OptimizationRecord> rows = Matching(query);
    std::sort(rows.begin(), rows.end(), [](const OptimizationRecord& a, const OptimizationRecord& b) {
      if (a.created_at != b.created_at) return a.created_at > b.created_at;
      return a.id > b.id;
    });
    return Page(std::move(rows), query.limit, query.offset);
  }

  Result<int64_t> Count(const OptimizationQuery& query) override {
    RETURN_IF_ERROR(CheckOptimizationQuery(query));
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int64_t>(Matching(query).size());
  }

  Result<std::vector<std::string>> ListOpenValidations() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<const OptimizationRecord*> rows;
    for (const auto& [id, e] : opts_) {
      const OptimizationRecord& o = e.opt;
      if (o.status == "queued" || o.status == "running") continue;
      if (!o.summary.is_object() || !o.summary.contains("validation")) continue;
      const Json& v = o.summary["validation"];
      if (!v.is_object() || !v.contains("status") || !v["status"].is_string()) continue;
      const std::string st = v["status"].get<std::string>();
      if (st == "pending" || st == "running") rows.push_back(&o);
    }
    std::sort(rows.begin(), rows.end(), [](const OptimizationRecord* a, const OptimizationRecord* b) {
      if (a->created_at != b->created_at) return a->created_at < b->created_at;
      return a->id < b->id;
    });
    std::vector<std::string> out;
    for (const auto* o : rows) out.push_back(o->id);
    return out;
  }

  // Tests: the next `n` AddTasks calls of validation tasks fail with `st` (a crash between the
  // end of a search and the storing of its holdout re-runs).
  // Tests: the next `n` TasksToRun calls fail with `st` (a database that is briefly unreadable).
  void FailTasksToRun(int n, Status st) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_tasks_to_run_ = n;
    fail_tasks_to_run_status_ = std::move(st);
  }
    void FailValidationAddTasks(int n, Status st) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_validation_adds_ = n;
    fail_validation_status_ = std::move(st);
  }

  Status UpdateStatus(const std::string& id, const std::string& expected, const std::string& next,
                      const OptimizationStatusTimes& times) override {
    RETURN_IF_ERROR(CheckOptimizationStatus(expected, "expected"));
    RETURN_IF_ERROR(CheckOptimizationStatus(next, "status"));
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Entry * entry, Find(id));
    OptimizationRecord& o = entry->opt;
    if (o.status != expected) {
      return Status::FailedPrecondition("optimization " + id + " is " + o.status + ", not " + expected,
                                        {{"status", o.status}});
    }
    o.status = next;
    o.updated_at = Micros(times.updated_at);
    if (times.started_at) o.started_at = Micros(*times.started_at);
    if (times.clear_ended_at) o.ended_at.reset();
    if (times.ended_at) o.ended_at = Micros(*times.ended_at);
    return Status::Ok();
  }

  Status UpdateSummary(const std::string& id, const Json& summary, TimePoint updated_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Entry * entry, Find(id));
    entry->opt.summary = summary;
    entry->opt.updated_at = Micros(updated_at);
    return Status::Ok();
  }

  Result<std::vector<OptimizationTaskRecord>> ListTasks(const std::string& opt_id,
                                                        const OptimizationTaskQuery& query) override {
    RETURN_IF_ERROR(CheckOptimizationTaskQuery(query));
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Entry * entry, Find(opt_id));
    // Sorts pointers and copies only the page.
    std::vector<const OptimizationTaskRecord*> rows = MatchingTasks(*entry, query);
    const OptimizationTaskSort& sort = query.sort;
    std::stable_sort(rows.begin(), rows.end(), [&](const OptimizationTaskRecord* a, const OptimizationTaskRecord* b) {
      if (sort.field == "index") return sort.descending ? a->index > b->index : a->index < b->index;
      std::optional<double> va = SortValue(*a, sort.field);
      std::optional<double> vb = SortValue(*b, sort.field);
      if (va.has_value() != vb.has_value()) return va.has_value();  // values first, NULLs last
      if (va && *va != *vb) return sort.descending ? *va > *vb : *va < *vb;
      return a->index < b->index;
    });
    std::vector<OptimizationTaskRecord> out;
    for (size_t i = static_cast<size_t>(query.offset); i < rows.size() && static_cast<int>(out.size()) < query.limit;
         ++i) {
      out.push_back(*rows[i]);
    }
    return out;
  }

  Result<int64_t> CountTasks(const std::string& opt_id, const OptimizationTaskQuery& query) override {
    if (query.status) RETURN_IF_ERROR(CheckOptimizationTaskStatus(*query.status, "status"));
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Entry * entry, Find(opt_id));
    return static_cast<int64_t>(MatchingTasks(*entry, query).size());
  }

  Result<OptimizationTaskRecord> GetTask(const std::string& opt_id, int64_t index) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(OptimizationTaskRecord * task, FindTask(opt_id, index));
    return *task;
  }

  Result<std::vector<OptimizationTaskRecord>> TasksToRun(const std::string& opt_id, int limit) override {
    RETURN_IF_ERROR(CheckOptimizationPaging(limit, 0));
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_tasks_to_run_ > 0) {
      --fail_tasks_to_run_;
      return fail_tasks_to_run_status_;
    }
    ASSIGN_OR_RETURN(Entry * entry, Find(opt_id));
    std::vector<OptimizationTaskRecord> out;
    for (const auto& [index, t] : entry->tasks) {
      if (static_cast<int>(out.size()) >= limit) break;
      if (t.status == "pending") out.push_back(t);
    }
    return out;
  }

  Status MarkTaskQueued(const std::string& opt_id, int64_t index, const std::string& job_id) override {
    if (job_id.empty()) return Status::InvalidArgument("job_id: empty", {{"field", "job_id"}});
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(OptimizationTaskRecord * task, FindTask(opt_id, index));
    if (task->status != "pending") return Stale(opt_id, index, task->status, "pending");
    if (job_index_.count(job_id) > 0) return Status::AlreadyExists("job " + job_id + " is already recorded on a task");
    task->status = "queued";
    task->job_id = job_id;
    job_index_[job_id] = {opt_id, index};
    return Status::Ok();
  }

  Status MarkTaskStatus(const std::string& opt_id, int64_t index, const std::string& expected,
                        const std::string& next, const OptimizationTaskUpdate& update) override {
    RETURN_IF_ERROR(CheckOptimizationTaskStatus(expected, "expected"));
    RETURN_IF_ERROR(CheckOptimizationTaskStatus(next, "status"));
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(OptimizationTaskRecord * task, FindTask(opt_id, index));
    if (task->status != expected) return Stale(opt_id, index, task->status, expected);
    task->status = next;
    if (update.score) task->score = Finite(update.score);
    if (update.metrics) task->metrics = *update.metrics;
    if (update.ranked) task->ranked = *update.ranked;
    if (update.reason) task->reason = *update.reason;
    if (update.started_at) task->started_at = Micros(*update.started_at);
    if (update.ended_at) task->ended_at = Micros(*update.ended_at);
    return Status::Ok();
  }

  Result<int64_t> RequeueFailed(const std::string& opt_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Entry * entry, Find(opt_id));
    int64_t moved = 0;
    for (auto& [index, t] : entry->tasks) {
      if (t.status != "failed") continue;
      if (t.job_id) job_index_.erase(*t.job_id);
      t.status = "pending";
      t.attempt += 1;
      t.job_id.reset();
      t.score.reset();
      t.metrics = Json::object();
      t.ranked = false;
      t.reason.clear();
      t.started_at.reset();
      t.ended_at.reset();
      ++moved;
    }
    return moved;
  }

  Result<std::vector<int64_t>> CancelPending(const std::string& opt_id, const std::string& reason,
                                             TimePoint ended_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Entry * entry, Find(opt_id));
    std::vector<int64_t> moved;
    for (auto& [index, t] : entry->tasks) {
      if (t.status != "pending") continue;
      t.status = "canceled";
      t.reason = reason;
      t.ended_at = Micros(ended_at);
      moved.push_back(index);
    }
    return moved;
  }

  Result<OptimizationTaskRef> TaskByJobId(const std::string& job_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = job_index_.find(job_id);
    if (it == job_index_.end()) return Status::NotFound("no optimization task ran job " + job_id);
    return it->second;
  }

 private:
  struct Entry {
    OptimizationRecord opt;
    std::map<int64_t, OptimizationTaskRecord> tasks;
    std::set<std::pair<bool, std::string>> keys;  // (validation, params_key)
  };

  static TimePoint Micros(TimePoint tp) {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch())));
  }
  static std::optional<TimePoint> Micros(const std::optional<TimePoint>& tp) {
    if (!tp) return std::nullopt;
    return Micros(*tp);
  }
  static OptimizationRecord Truncated(OptimizationRecord o) {
    o.created_at = Micros(o.created_at);
    o.updated_at = Micros(o.updated_at);
    o.started_at = Micros(o.started_at);
    o.ended_at = Micros(o.ended_at);
    return o;
  }
  // Non-finite scores have no SQL value; every store keeps them as "no score".
  static std::optional<double> Finite(const std::optional<double>& v) {
    if (v && !(*v == *v && *v - *v == 0)) return std::nullopt;
    return v;
  }
  static OptimizationTaskRecord TruncatedTask(OptimizationTaskRecord t) {
    t.score = Finite(t.score);
    t.started_at = Micros(t.started_at);
    t.ended_at = Micros(t.ended_at);
    return t;
  }
  static bool HasJobId(const Entry& entry, const std::string& job_id) {
    for (const auto& [index, t] : entry.tasks) {
      if (t.job_id == job_id) return true;
    }
    return false;
  }
  static std::optional<double> SortValue(const OptimizationTaskRecord& t, const std::string& field) {
    if (field == "score") return t.score;
    auto it = t.metrics.find(field);
    if (it == t.metrics.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
  }
  static Status Stale(const std::string& opt_id, int64_t index, const std::string& actual,
                      const std::string& expected) {
    return Status::FailedPrecondition(
        "task " + std::to_string(index) + " of optimization " + opt_id + " is " + actual + ", not " + expected,
        {{"status", actual}});
  }
  template <typename T>
  static std::vector<T> Page(std::vector<T> rows, int limit, int64_t offset) {
    std::vector<T> out;
    for (size_t i = static_cast<size_t>(offset); i < rows.size() && static_cast<int>(out.size()) < limit; ++i) {
      out.push_back(std::move(rows[i]));
    }
    return out;
  }

  Result<Entry*> Find(const std::string& id) {
    auto it = opts_.find(id);
    if (it == opts_.end()) return Status::NotFound("optimization " + id + " does not exist");
    return &it->second;
  }
  Result<OptimizationTaskRecord*> FindTask(const std::string& opt_id, int64_t index) {
    ASSIGN_OR_RETURN(Entry * entry, Find(opt_id));
    auto it = entry->tasks.find(index);
    if (it == entry->tasks.end()) {
      return Status::NotFound("optimization " + opt_id + " has no task " + std::to_string(index));
    }
    return &it->second;
  }
  std::vector<OptimizationRecord> Matching(const OptimizationQuery& q) const {
    std::vector<OptimizationRecord> rows;
    for (const auto& [id, e] : opts_) {
      const OptimizationRecord& o = e.opt;
      const auto in = [](const std::vector<std::string>& set, const std::string& v) {
        return set.empty() || std::find(set.begin(), set.end(), v) != set.end();
      };
      if (!in(q.statuses, o.status) || !in(q.projects, o.project)) continue;
      if (q.owner_id && o.owner_id != *q.owner_id) continue;
      if (q.source_id && o.source_id != *q.source_id) continue;
      rows.push_back(o);
    }
    return rows;
  }
  static std::vector<const OptimizationTaskRecord*> MatchingTasks(const Entry& entry, const OptimizationTaskQuery& q) {
    std::vector<const OptimizationTaskRecord*> rows;
    for (const auto& [index, t] : entry.tasks) {
      if (q.status && t.status != *q.status) continue;
      if (q.validation && t.validation != *q.validation) continue;
      rows.push_back(&t);
    }
    return rows;
  }

  std::mutex mu_;
  int fail_validation_adds_ = 0;
  int fail_tasks_to_run_ = 0;
  Status fail_tasks_to_run_status_ = Status::Ok();
  Status fail_validation_status_ = Status::Ok();
  std::map<std::string, Entry> opts_;
  std::unordered_map<std::string, OptimizationTaskRef> job_index_;
};

}  // namespace alphalab

// FakeExecutor: an Executor for unit tests of the jobs service. Nothing runs; the test
// decides when and how each "process" ends:
//
//   FakeExecutor exec(/*capacity=*/2);
//   service.Submit(...);                       // -> exec.Submit records the ProcessSpec
//   ASSERT_TRUE(exec.WaitForSubmits(1));       // the service may submit from its own thread
//   exec.AppendLog(id, "run_id: r1\n");        // write to the spec's log file, if a test needs it
//   exec.FinishWithExitCode(id, 0);            // fires on_exit on this thread (no lock held)
//
// Spawn failures: FailNextSubmit(Status). StartedRef: SetStarted(log, ref). Reattach: SetAlive(ref) marks refs as living
// processes; MarkExitRecorded(ref, exit) makes a dead ref report a recorded exit (like
// LocalExecutor's .exit file). Cancel only records unless set_finish_on_cancel(true), which
// reports {canceled, signal 15} from a separate thread, as a real executor would.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "exec/executor.hpp"

namespace alphalab {

class FakeExecutor final : public Executor {
 public:
  explicit FakeExecutor(int capacity = 4) : capacity_(capacity) {}
  ~FakeExecutor() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  Result<std::string> Submit(const ProcessSpec& spec, ExitCallback on_exit) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_) return Status::Unavailable("fake executor is shut down");
    if (!fail_next_submit_.ok()) {
      Status failure = std::move(fail_next_submit_);
      fail_next_submit_ = Status::Ok();
      failed_submits_.push_back(spec);
      return failure;
    }
    if (running_.count(spec.job_id) != 0) {
      return Status::AlreadyExists("job " + spec.job_id.str() + " is already running");
    }
    const std::string ref = "fake:" + std::to_string(++next_ref_);
    submits_.push_back(spec);
    running_[spec.job_id] = Running{spec.log_path, ref, std::move(on_exit)};
    cv_.notify_all();
    return ref;
  }

  // Records the batch (sizes and bound, batches()) and submits its items one by one.
  std::vector<Result<std::string>> SubmitBatch(std::vector<BatchItem> items, int max_inflight,
                                               const std::string& group) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      batches_.push_back({items.size(), max_inflight});
    }
    return Executor::SubmitBatch(std::move(items), max_inflight, group);
  }
  bool KeepsBatchBound() const override { return keeps_batch_bound_; }
  // Act as a cluster executor whose batches keep their bound (the jobs service then hands a
  // group over at once).
  void set_keeps_batch_bound(bool value) { keeps_batch_bound_ = value; }

  Status Cancel(const JobId& job_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = running_.find(job_id);
    if (it == running_.end()) return Status::NotFound("job " + job_id.str() + " is not running");
    cancels_.push_back(job_id);
    if (finish_on_cancel_ && !it->second.cancel_pending) {
      it->second.cancel_pending = true;
      threads_.emplace_back([this, job_id] {
        ProcessExit exit;
        exit.canceled = true;
        exit.signal = SIGTERM;
        (void)Finish(job_id, exit);
      });
    }
    return Status::Ok();
  }

  Result<bool> Reattach(const JobId& job_id, const std::string& executor_ref,
                        const std::filesystem::path& log_path, ExitCallback on_exit) override {
    std::optional<ProcessExit> recorded;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reattaches_.push_back({job_id, executor_ref});
      if (shutdown_) return Status::Unavailable("fake executor is shut down");
      if (alive_.count(executor_ref) != 0) {
        running_[job_id] = Running{log_path, executor_ref, std::move(on_exit)};
        cv_.notify_all();
        return true;
      }
      auto rec = recorded_.find(executor_ref);
      if (rec == recorded_.end()) return false;
      recorded = rec->second;
      recorded->job_id = job_id;
    }
    // A recorded end is reported from "an executor thread", as LocalExecutor does.
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([cb = std::move(on_exit), exit = *recorded] {
      if (cb) cb(exit);
    });
    return true;
  }

  std::optional<std::string> StartedRef(const std::filesystem::path& log_path) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = started_.find(log_path.string());
    if (it == started_.end()) return std::nullopt;
    return it->second;
  }

  // Stands for the local executor on a file system with user xattrs (SetRecordsStarts(false):
  // one without, where a started job leaves no start record).
  bool RecordsStartsIn(const std::filesystem::path&) const override { return records_starts_; }
  void SetRecordsStarts(bool records) { records_starts_ = records; }

  int Capacity() const override { return capacity_; }

  void Shutdown() override {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    running_.clear();
  }

  void SetStatusListener(StatusListener listener) override {
    std::lock_guard<std::mutex> lock(mu_);
    listener_ = std::move(listener);
  }

  // ---- test controls -------------------------------------------------------------------

  // What a cluster executor's poll thread does when a job's state there changes: calls the
  // status listener (on this thread). False when none is set.
  bool ReportStatus(const JobId& job_id, std::string state, std::string reason) {
    StatusListener listener;
    {
      std::lock_guard<std::mutex> lock(mu_);
      listener = listener_;
    }
    if (!listener) return false;
    listener(ExecutorStatus{job_id, std::move(state), std::move(reason)});
    return true;
  }

  // Ends a running job: fires its on_exit with `exit` (job_id filled in) on this thread.
  Status Finish(const JobId& job_id, ProcessExit exit) {
    ExitCallback cb;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = running_.find(job_id);
      if (it == running_.end()) return Status::NotFound("job " + job_id.str() + " is not running");
      cb = std::move(it->second.on_exit);
      running_.erase(it);
      cv_.notify_all();
    }
    exit.job_id = job_id;
    if (cb) cb(exit);
    return Status::Ok();
  }
  Status FinishWithExitCode(const JobId& job_id, int code) {
    ProcessExit exit;
    exit.exit_code = code;
    return Finish(job_id, exit);
  }
  Status FinishWithSignal(const JobId& job_id, int signal) {
    ProcessExit exit;
    exit.signal = signal;
    return Finish(job_id, exit);
  }
  Status FinishTimedOut(const JobId& job_id) {
    ProcessExit exit;
    exit.timed_out = true;
    exit.signal = SIGTERM;
    return Finish(job_id, exit);
  }

  // Appends to the log file of a running job (as the process would).
  Status AppendLog(const JobId& job_id, std::string_view text) {
    std::filesystem::path path;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = running_.find(job_id);
      if (it == running_.end()) return Status::NotFound("job " + job_id.str() + " is not running");
      path = it->second.log_path;
    }
    std::ofstream out(path, std::ios::binary | std::ios::app);
    if (!out) return Status::Internal("fake executor: cannot open " + path.string());
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    return out ? Status::Ok() : Status::Internal("fake executor: cannot write " + path.string());
  }

  // The next Submit fails with `status` (e.g. FailedPrecondition("cannot execute 'x': ...")).
  void FailNextSubmit(Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_submit_ = std::move(status);
  }
  void set_finish_on_cancel(bool value) {
    std::lock_guard<std::mutex> lock(mu_);
    finish_on_cancel_ = value;
  }
  // StartedRef(log_path) answers `executor_ref`: a start its server never recorded.
  void SetStarted(const std::filesystem::path& log_path, const std::string& executor_ref) {
    std::lock_guard<std::mutex> lock(mu_);
    started_[log_path.string()] = executor_ref;
  }
  // Reattach(ref) returns true and watches the job.
  void SetAlive(const std::string& executor_ref) {
    std::lock_guard<std::mutex> lock(mu_);
    alive_.insert(executor_ref);
  }
  // Reattach(ref) of a dead process returns true and reports `exit` from another thread.
  void MarkExitRecorded(const std::string& executor_ref, ProcessExit exit) {
    std::lock_guard<std::mutex> lock(mu_);
    recorded_[executor_ref] = std::move(exit);
  }

  // Blocks until at least `n` submits were recorded (true) or the timeout passed (false).
  bool WaitForSubmits(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return submits_.size() >= n; });
  }
  // Blocks until exactly `n` jobs are running (true) or the timeout passed (false).
  bool WaitForRunning(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return running_.size() == n; });
  }

  std::vector<ProcessSpec> submits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return submits_;
  }
  // SubmitBatch calls: {items, max_inflight}.
  std::vector<std::pair<size_t, int>> batches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }
  std::vector<ProcessSpec> failed_submits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_submits_;
  }
  std::vector<JobId> cancels() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancels_;
  }
  std::vector<std::pair<JobId, std::string>> reattaches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return reattaches_;
  }
  std::vector<JobId> running() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<JobId> ids;
    for (const auto& [id, r] : running_) ids.push_back(id);
    return ids;
  }
  bool IsRunning(const JobId& job_id) const {
    std::lock_guard<std::mutex> lock(mu_);
    return running_.count(job_id) != 0;
  }
  // The executor_ref Submit returned for a running job ("" when not running).
  std::string RefOf(const JobId& job_id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = running_.find(job_id);
    return it == running_.end() ? std::string() : it->second.ref;
  }

 private:
  struct Running {
    std::filesystem::path log_path;
    std::string ref;
    ExitCallback on_exit;
    bool cancel_pending = false;
  };

  const int capacity_;
  std::atomic<bool> records_starts_{true};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<JobId, Running> running_;
  std::vector<ProcessSpec> submits_;
  std::vector<std::pair<size_t, int>> batches_;
  std::atomic<bool> keeps_batch_bound_{false};
  std::vector<ProcessSpec> failed_submits_;
  std::vector<JobId> cancels_;
  std::vector<std::pair<JobId, std::string>> reattaches_;
  std::set<std::string> alive_;
  std::map<std::string, ProcessExit> recorded_;
  std::map<std::string, std::string> started_;  // log path -> ref (SetStarted)
  Status fail_next_submit_;
  bool finish_on_cancel_ = false;
  StatusListener listener_;
  bool shutdown_ = false;
  uint64_t next_ref_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace alphalab

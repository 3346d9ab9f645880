#include "jobs/job_meta_mirror.hpp"

#include <pthread.h>

#include <vector>

#include <spdlog/spdlog.h>

#include "jobs/job_detail_body.hpp"
#include "jobs/job_dto.hpp"
#include "jobs/job_state_machine.hpp"

namespace alphalab {

JobMetaMirror::JobMetaMirror(FileReplacer& files, std::filesystem::path root, const Clock& clock,
                             std::chrono::milliseconds delay, RowWriter rows)
    : files_(files), root_(std::move(root)), clock_(clock), delay_(delay), rows_(std::move(rows)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "jobs-meta");
    Loop();
  });
}

JobMetaMirror::~JobMetaMirror() { Shutdown(); }

void JobMetaMirror::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();  // writes what is still pending first
}

void JobMetaMirror::WriteFile(const JobRecord& job) {
  Status s = files_.Write(root_ / job.meta_path, IndentJson(JobDetailBody(job, clock_.Now())));
  if (!s.ok()) {
    spdlog::error(R"({{"msg":"meta write failed","job_id":"{}","error":{}}})", job.job_id.str(),
                  Json(s.message()).dump());
  }
}

std::optional<JobState> JobMetaMirror::TakeRowLocked(std::unique_lock<std::mutex>& lock, const JobId& id) {
  // One the writer thread is writing right now must land first (its rename would otherwise
  // replace a newer file, its row a newer row).
  done_cv_.wait(lock, [&] { return in_flight_.count(id) == 0; });
  auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  return std::exchange(it->second.row_from, std::nullopt);
}

std::optional<JobState> JobMetaMirror::TakeRow(const JobId& id) {
  std::unique_lock lock(mu_);
  return TakeRowLocked(lock, id);
}

std::optional<JobState> JobMetaMirror::WriteNow(const JobRecord& job) {
  std::optional<JobState> row_from;
  {
    std::unique_lock lock(mu_);
    // A pending older version must not be written after this one.
    row_from = TakeRowLocked(lock, job.job_id);
    pending_.erase(job.job_id);
  }
  WriteFile(job);
  return row_from;
}

void JobMetaMirror::WriteLater(const JobRecord& job, std::optional<JobState> row_from) {
  {
    std::lock_guard lock(mu_);
    if (!stop_) {
      auto [it, inserted] = pending_.try_emplace(job.job_id);
      if (!it->second.row_from) it->second.row_from = row_from;  // an older deferred row stays
      if (!inserted && JobStateRank(it->second.record.status) > JobStateRank(job.status)) return;
      if (inserted || it->second.record.status != job.status) {
        // A new state is written once it is delay_ old, unless a newer version replaces it
        // first. The old position in order_ goes stale (its due time no longer matches).
        const auto due = std::chrono::steady_clock::now() + delay_;
        const bool was_empty = order_.empty();
        it->second.due = due;
        order_.emplace_back(job.job_id, due);
        // The writer sleeps until the oldest entry is due (entries are due in order); only
        // an empty queue needs a wake-up.
        if (was_empty) cv_.notify_one();
      }
      it->second.record = job;
      return;
    }
  }
  // Writer stopped (shutdown): written now, the row first.
  if (row_from && rows_) {
    JobRecord copy = job;
    JobRecord* const one[] = {&copy};
    rows_(one, std::span<const JobState>(&*row_from, 1));
  }
  WriteNow(job);
}

void JobMetaMirror::Loop() {
  std::vector<JobRecord> due_now;
  std::vector<std::optional<JobState>> row_of;  // per due version: its row is deferred
  std::vector<JobRecord*> rows;
  std::vector<JobState> rows_from;
  for (;;) {
    due_now.clear();
    row_of.clear();
    rows.clear();
    rows_from.clear();
    {
      std::unique_lock lock(mu_);
      for (;;) {
        while (!order_.empty()) {  // drop superseded positions
          auto it = pending_.find(order_.front().first);
          if (it != pending_.end() && it->second.due == order_.front().second) break;
          order_.pop_front();
        }
        if (order_.empty()) {
          if (stop_) return;
          cv_.wait(lock);
          continue;
        }
        const auto due = order_.front().second;
        if (stop_ || due <= std::chrono::steady_clock::now()) break;
        cv_.wait_until(lock, due);
      }
      // Every entry due by now (all of them when stopping), in due order.
      const auto now = std::chrono::steady_clock::now();
      while (!order_.empty() && (stop_ || order_.front().second <= now)) {
        auto it = pending_.find(order_.front().first);
        const bool current = it != pending_.end() && it->second.due == order_.front().second;
        order_.pop_front();
        if (!current) continue;
        row_of.push_back(it->second.row_from);
        due_now.push_back(std::move(it->second.record));
        pending_.erase(it);
        in_flight_.insert(due_now.back().job_id);  // a synchronous write of this job waits for it
      }
    }
    // The deferred rows of the due versions, in one store write, before their files.
    for (size_t i = 0; i < due_now.size(); ++i) {
      if (!row_of[i]) continue;
      rows.push_back(&due_now[i]);
      rows_from.push_back(*row_of[i]);
    }
    if (!rows.empty() && rows_) rows_(rows, rows_from);
    for (const JobRecord& rec : due_now) WriteFile(rec);
    {
      std::lock_guard lock(mu_);
      for (const JobRecord& rec : due_now) in_flight_.erase(rec.job_id);
    }
    done_cv_.notify_all();
  }
}

}  // namespace alphalab

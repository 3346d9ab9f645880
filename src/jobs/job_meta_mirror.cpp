#include "jobs/job_meta_mirror.hpp"

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "jobs/job_dto.hpp"
#include "jobs/job_state_machine.hpp"

namespace alphalab {

JobMetaMirror::JobMetaMirror(FileReplacer& files, std::filesystem::path root, const Clock& clock,
                             std::chrono::milliseconds delay)
    : files_(files), root_(std::move(root)), clock_(clock), delay_(delay) {
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
  Status s = files_.Write(root_ / job.meta_path, DumpJson(JobDetailJson(job, clock_.Now()), 2));
  if (!s.ok()) {
    spdlog::error(R"({{"msg":"meta write failed","job_id":"{}","error":{}}})", job.job_id.str(),
                  Json(s.message()).dump());
  }
}

void JobMetaMirror::WriteNow(const JobRecord& job) {
  {
    std::unique_lock lock(mu_);
    // A pending older version must not be written after this one, and one the writer thread
    // is writing right now must land first (its rename would otherwise replace this file).
    pending_.erase(job.job_id);
    done_cv_.wait(lock, [&] { return in_flight_.count(job.job_id) == 0; });
  }
  WriteFile(job);
}

void JobMetaMirror::WriteLater(const JobRecord& job) {
  {
    std::lock_guard lock(mu_);
    if (!stop_) {
      auto [it, inserted] = pending_.try_emplace(job.job_id);
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
  WriteNow(job);  // writer stopped (shutdown): write it now
}

void JobMetaMirror::Loop() {
  for (;;) {
    JobRecord rec;
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
      auto it = pending_.find(order_.front().first);
      order_.pop_front();
      rec = std::move(it->second.record);
      pending_.erase(it);
      in_flight_.insert(rec.job_id);  // a synchronous write of this job waits for it
    }
    WriteFile(rec);
    {
      std::lock_guard lock(mu_);
      in_flight_.erase(rec.job_id);
    }
    done_cv_.notify_all();
  }
}

}  // namespace alphalab

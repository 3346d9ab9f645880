#include "http/log_follow.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <optional>

#include "jobs/log_reader.hpp"

namespace alphalab::http {

namespace {

std::shared_ptr<const std::string> SseEvent(std::string_view event, const Json& data) {
  return std::make_shared<const std::string>("event: " + std::string(event) + "\ndata: " + DumpJson(data) + "\n\n");
}

}  // namespace

// One follower: the events queued for it (shared with the other followers at its offset).
class LogFollowers::Stream final : public BodyStream {
 public:
  Stream(JobId id, std::filesystem::path path, int64_t offset)
      : id_(std::move(id)), path_(std::move(path)), offset_(offset) {}

  Result<StreamChunk> Next() override {
    std::lock_guard lock(mu_);
    StreamChunk out;
    size_t n = 0;
    for (const auto& e : queue_) n += e->size();
    out.data.reserve(n);
    for (const auto& e : queue_) out.data += *e;
    queue_.clear();
    pending_ = 0;
    out.done = done_;
    return out;
  }

  bool SetWake(std::function<void()> wake) override {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
    return true;
  }

  // Registry thread only.
  void Push(const std::shared_ptr<const std::string>& event, bool done) {
    std::function<void()> wake;
    {
      std::lock_guard lock(mu_);
      if (done_) return;
      if (event) {
        queue_.push_back(event);
        pending_ += static_cast<int64_t>(event->size());
      }
      done_ = done_ || done;
      wake = wake_;
    }
    if (wake) wake();
  }
  int64_t pending() const {
    std::lock_guard lock(mu_);
    return pending_;
  }

  const JobId id_;
  const std::filesystem::path path_;
  int64_t offset_;  // registry thread only: the next byte this follower gets
  bool finished_ = false;  // registry thread only: `end` sent or the stream was ended
  int slot_ = 0;           // registry thread only: the slot it is checked in
  bool due_now_ = true;    // registry thread only: check it at the next pass whatever the slot

 private:
  mutable std::mutex mu_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  int64_t pending_ = 0;
  bool done_ = false;
  std::function<void()> wake_;
};

struct LogFollowers::Log {
  JobId id;
  std::filesystem::path path;
  std::optional<LogFile> file;  // open once the log exists
  std::vector<std::weak_ptr<Stream>> followers;
  int phase = 0;            // the slot of its first followers
  uint64_t registered = 0;  // followers registered so far (their slots follow from it)
};

LogFollowers::LogFollowers(std::filesystem::path root, JobStateFn job_state, Options options)
    : root_(std::move(root)), job_state_(std::move(job_state)), options_(options) {}

LogFollowers::~LogFollowers() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<BodyStream> LogFollowers::Follow(const JobId& id, std::filesystem::path log_path, int64_t offset) {
  auto stream = std::make_shared<Stream>(id, std::move(log_path), offset);
  {
    std::lock_guard lock(mu_);
    added_.push_back(stream);
    wake_now_ = true;  // the first event goes out without waiting for the next check
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  cv_.notify_all();
  return stream;
}

LogFollowers::Stats LogFollowers::stats() const {
  Stats s;
  s.logs = n_logs_.load();
  s.followers = n_followers_.load();
  s.opens = n_opens_.load();
  s.reads = n_reads_.load();
  s.events = n_events_.load();
  return s;
}

void LogFollowers::Loop() {
  const int slots = std::max(1, options_.slots);
  const int group_size = std::max(1, options_.group_size);
  const auto tick = std::max<std::chrono::steady_clock::duration>(std::chrono::milliseconds(1),
                                                                    options_.interval / slots);
  auto next_tick = std::chrono::steady_clock::now();
  int slot = 0;
  bool more = false;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      const auto woken = [this] { return stop_ || wake_now_; };
      if (more) {
        // checked again at once
      } else if (logs_.empty() && added_.empty()) {
        cv_.wait(lock, woken);  // nothing followed: no ticks
      } else {
        cv_.wait_until(lock, next_tick, woken);
      }
      if (stop_) break;
      wake_now_ = false;
      for (auto& s : added_) {
        Log* log = nullptr;
        for (auto& l : logs_) {
          if (l->id.str() == s->id_.str() && l->path == s->path_) log = l.get();
        }
        if (!log) {
          logs_.push_back(std::make_unique<Log>(Log{s->id_, s->path_, std::nullopt, {}, next_phase_, 0}));
          next_phase_ = (next_phase_ + 1) % slots;
          log = logs_.back().get();
        }
        s->slot_ = static_cast<int>((static_cast<uint64_t>(log->phase) + log->registered / group_size) % slots);
        ++log->registered;
        log->followers.push_back(s);
      }
      added_.clear();
    }
    std::optional<int> due_slot;
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_tick) {
      due_slot = slot;
      slot = (slot + 1) % slots;
      next_tick += tick;
      if (next_tick <= now) next_tick = now + tick;  // late (a loaded machine): no catching up in a burst
    }
    more = CheckAll(due_slot);
  }
  logs_.clear();
  n_logs_ = 0;
  n_followers_ = 0;
}

bool LogFollowers::CheckAll(std::optional<int> slot) {
  bool more = false;
  uint64_t followers = 0;
  for (auto it = logs_.begin(); it != logs_.end();) {
    Log& log = **it;
    std::vector<std::shared_ptr<Stream>> due;
    std::erase_if(log.followers, [&](const std::weak_ptr<Stream>& w) {
      auto s = w.lock();
      if (!s || s->finished_) return true;
      if (s->due_now_ || (slot && s->slot_ == *slot)) due.push_back(std::move(s));
      return false;
    });
    if (log.followers.empty()) {  // nobody follows it any more: close the descriptor
      it = logs_.erase(it);
      continue;
    }
    if (!due.empty() && CheckLog(log, std::move(due))) more = true;
    followers += log.followers.size();
    ++it;
  }
  n_logs_ = logs_.size();
  n_followers_ = followers;
  return more;
}

bool LogFollowers::CheckLog(Log& log, std::vector<std::shared_ptr<Stream>> streams) {
  for (auto& s : streams) s->due_now_ = false;
  const auto end_all = [&] {
    for (auto& s : streams) {
      s->Push(nullptr, true);
      s->finished_ = true;
    }
  };
  auto job = job_state_(log.id);
  if (!job.ok()) {  // the job is gone: its streams end
    end_all();
    return false;
  }
  const bool terminal = job->terminal;
  if (!log.file) {
    auto opened = LogFile::Open(root_, log.path);
    if (opened.ok()) {
      log.file.emplace(std::move(opened).value());
      ++n_opens_;
    } else if (!opened.status().IsNotFound()) {  // e.g. a symlink leading out: nothing is read
      end_all();
      return false;
    }
  }
  int64_t size = 0;
  if (log.file) {
    auto sz = log.file->Size();
    if (!sz.ok()) {
      end_all();
      return false;
    }
    size = *sz;
  }
  // Followers by offset: one read per distinct offset, its event shared.
  std::map<int64_t, std::vector<Stream*>> by_offset;
  for (auto& s : streams) {
    if (s->pending() >= options_.max_pending_bytes) continue;  // a slow reader catches up first
    by_offset[s->offset_].push_back(s.get());
  }
  bool more = false;
  for (auto& [offset, group] : by_offset) {
    if (log.file) {
      auto chunk = log.file->Read(size, offset, std::numeric_limits<int64_t>::max(), /*hold_incomplete_tail=*/!terminal);
      ++n_reads_;
      if (!chunk.ok()) {
        for (Stream* s : group) {
          s->Push(nullptr, true);
          s->finished_ = true;
        }
        continue;
      }
      if (chunk->next_offset != offset) {
        auto event = SseEvent("log", Json{{"offset", offset},
                                          {"content", std::move(chunk->content)},
                                          {"next_offset", chunk->next_offset}});
        for (Stream* s : group) {
          s->offset_ = chunk->next_offset;
          s->Push(event, false);
          ++n_events_;
        }
        if (chunk->next_offset < size) {  // a 1 MiB cut: the rest right away
          for (Stream* s : group) s->due_now_ = true;
          more = true;
        }
        continue;
      }
    }
    if (terminal && offset >= size) {
      auto event = SseEvent("end", Json{{"status", job->status}, {"exit_code", job->exit_code}, {"next_offset", offset}});
      for (Stream* s : group) {
        s->Push(event, true);
        s->finished_ = true;
        ++n_events_;
      }
    }
  }
  return more;
}

}  // namespace alphalab::http

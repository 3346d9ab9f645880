#include "jobs/inprocess_journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/ids.hpp"
#include "core/job_result.hpp"

namespace alphalab {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSuffix = ".pending";

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Status WriteAll(int fd, std::string_view text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal(Errno("cannot write " + path));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// "job_id\tbt_run_id\n" lines; a line whose ids are not safe identifiers is skipped.
std::vector<InProcessJournalEntry> ParseJournal(std::string_view text) {
  std::vector<InProcessJournalEntry> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    InProcessJournalEntry e{std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))};
    if (!IsSafeIdentifier(e.job_id) || (!e.bt_run_id.empty() && !IsSafeIdentifier(e.bt_run_id))) continue;
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<std::string> ReadFd(int fd) {
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

std::vector<fs::path> Journals(const Workspace& ws) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(ws.root() / kInProcessJournalDir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > kSuffix.size() && name.ends_with(kSuffix)) out.push_back(it->path());
  }
  return out;
}

// NotFound: the job has no row. Another error: unknown (the caller keeps the journal).
Result<bool> HasRow(JobStore& store, const std::string& job_id) {
  auto job = store.GetJob(JobId(job_id));
  if (job.ok()) return true;
  if (job.status().IsNotFound()) return false;
  return job.status();
}

}  // namespace

Result<InProcessJournal> InProcessJournal::Begin(const Workspace& ws,
                                                 std::span<const InProcessJournalEntry> entries) {
  if (entries.empty()) return Status::InvalidArgument("an in-process journal needs at least one job");
  std::string text;
  for (const auto& e : entries) {
    if (!IsSafeIdentifier(e.job_id) || (!e.bt_run_id.empty() && !IsSafeIdentifier(e.bt_run_id))) {
      return Status::InvalidArgument("in-process journal: '" + e.job_id.substr(0, 128) + "' is not an id");
    }
    text += e.job_id;
    text += '\t';
    text += e.bt_run_id;
    text += '\n';
  }
  const fs::path dir = ws.root() / kInProcessJournalDir;
  const std::string path = (dir / (entries.front().job_id + std::string(kSuffix))).string();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ENOENT) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  if (fd < 0) return Status::Internal(Errno("cannot create " + path));
  if (::flock(fd, LOCK_EX) != 0) {
    const Status st = Status::Internal(Errno("cannot lock " + path));
    ::close(fd);
    return st;
  }
  if (Status st = WriteAll(fd, text, path); !st.ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    return st;
  }
  return InProcessJournal(path, fd);
}

InProcessJournal::InProcessJournal(InProcessJournal&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

InProcessJournal::~InProcessJournal() {
  if (fd_ >= 0) ::close(fd_);
}

Status InProcessJournal::Commit() {
  if (fd_ < 0) return Status::FailedPrecondition("the in-process journal was committed already");
  // Unlinked while still locked: a recovery never sees it unlocked with committed jobs in it.
  const bool removed = ::unlink(path_.c_str()) == 0 || errno == ENOENT;
  const Status st = removed ? Status::Ok() : Status::Internal(Errno("cannot remove " + path_));
  ::close(fd_);
  fd_ = -1;
  return st;
}

Result<InProcessRecovery> RecoverInProcessJournals(const Workspace& ws, JobStore& store) {
  InProcessRecovery report;
  for (const fs::path& path : Journals(ws)) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // removed meanwhile
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {  // a live process writes this chunk
      ::close(fd);
      ++report.journals_skipped;
      continue;
    }
    auto text = ReadFd(fd);
    bool complete = text.has_value();
    if (text) {
      for (const auto& e : ParseJournal(*text)) {
        auto has = HasRow(store, e.job_id);
        if (!has.ok()) {
          complete = false;  // keep the journal: try again at the next start
          continue;
        }
        if (*has) continue;
        std::error_code ec;
        if (!e.bt_run_id.empty()) fs::remove_all(ws.BacktestsDir() / e.bt_run_id, ec);
        fs::remove(ws.JobsRuntimeDir() / (e.job_id + ".log"), ec);
        fs::remove(ws.JobsRuntimeDir() / (e.job_id + ".json"), ec);
        fs::remove(ws.root() / JobResultPath(e.job_id), ec);
        ++report.jobs_removed;
      }
    }
    if (complete) {
      ::unlink(path.c_str());
      ++report.journals;
    }
    ::close(fd);
  }
  return report;
}

std::set<std::string> UncommittedBacktests(const Workspace& ws, JobStore& store) {
  std::set<std::string> out;
  for (const fs::path& path : Journals(ws)) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    auto text = ReadFd(fd);
    ::close(fd);
    if (!text) continue;
    for (const auto& e : ParseJournal(*text)) {
      if (e.bt_run_id.empty()) continue;
      auto has = HasRow(store, e.job_id);
      if (!has.ok() || !*has) out.insert(e.bt_run_id);  // unknown counts as uncommitted
    }
  }
  return out;
}

}  // namespace alphalab

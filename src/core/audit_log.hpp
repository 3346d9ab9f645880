// The audit log: one JSON object per line, appended to <workspace>/reports/audit.log (O_APPEND,
// one write() per event, never rewritten) for who did what: job submits and cancels, logins and
// logouts (also failed logins), token creation and revocation (docs/security.md, "Audit log").
//
//   {"ts":"2026-12-02T08:00:00.000Z","action":"job.submit","actor":"alice","role":"user",
//    "target":"job_...","remote":"127.0.0.1:5000","outcome":"ok","details":{...}}
//
// `actor` is the token's name, or "anonymous" when auth is off; the CLI writes "cli:<user>".
// A failing write is logged on stderr and never fails the action it records. The file stays
// open between events; each event first checks (one stat) that the path still names the open
// file, and opens it again when it was moved or removed (rotation) or replaced.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab {

struct AuditEvent {
  std::string action;    // "job.submit", "job.cancel", "session.login", "token.create", ...
  std::string actor;     // token name, "anonymous", "cli:<user>"
  std::string role;      // "admin" | "user" | "" (no auth)
  std::string target;    // job id, token id, ...
  std::string remote;    // client address, "" from the CLI
  std::string outcome = "ok";  // "ok" | "denied" | "failed"
  Json details = Json::object();
};

class AuditLog {
 public:
  AuditLog(std::filesystem::path file, const Clock& clock) : file_(std::move(file)), clock_(clock) {}
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;
  // The log of a workspace: <root>/reports/audit.log.
  static std::filesystem::path FileIn(const std::filesystem::path& workspace_root);

  // Appends one line (creates reports/ and the file, mode 0600, when missing).
  Status Append(const AuditEvent& event);
  // Append, logging (not returning) a failure.
  void Record(const AuditEvent& event);

  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  const Clock& clock_;
  std::mutex mu_;
  int fd_ = -1;  // (mu_) the open log file, or -1
  dev_t dev_ = 0;  // (mu_) its device and inode, to notice a moved or replaced file
  ino_t ino_ = 0;
};

}  // namespace alphalab

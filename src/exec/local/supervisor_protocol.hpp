// The wire format between LocalExecutor (in the server) and its process supervisor
// (`alphalab-shim --supervise`), over a private AF_UNIX stream socket pair. Header-only and
// C++-standard-library only: the supervisor is a small static binary that links nothing else.
//
// Server -> supervisor: frames of [uint32 length, host byte order][payload]; the payload is a
// list of NUL-terminated fields:
//   "spawn" token program cwd log_path exit_file argc argv[0..argc) envc env[0..envc)
// (token, argc and envc in decimal). One frame per job; the token names the job in replies.
//
// Supervisor -> server: text lines (no field ever contains a newline: messages are cleaned).
//   R <supervisor pid>                        ready (first line, once)
//   S <token> <pid> <start time>              spawned; pid leads the job's new process group
//   E <token> <errno> <message>               not spawned (the log says why when it could)
//   X <token> <pid> c <exit code>             ended normally (exit record written first)
//   X <token> <pid> s <signal>                killed by a signal (exit record written first)
#pragma once

#include <sys/types.h>
#include <sys/xattr.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alphalab::supervisor {

struct SpawnRequest {
  uint64_t token = 0;
  std::string program;    // the file to execute (already resolved by the server)
  std::string cwd;
  std::string log_path;   // stdout+stderr, appended; the exit record hangs off it
  std::string exit_file;  // where the exit record goes when the file system has no user xattrs
  std::vector<std::string> argv;
  std::vector<std::string> env;  // complete environment, "K=V"
};

inline void AppendField(std::string& out, std::string_view field) {
  out.append(field);
  out.push_back('\0');
}

// A complete frame (length prefix included).
inline std::string EncodeSpawn(const SpawnRequest& r) {
  std::string payload;
  AppendField(payload, "spawn");
  AppendField(payload, std::to_string(r.token));
  AppendField(payload, r.program);
  AppendField(payload, r.cwd);
  AppendField(payload, r.log_path);
  AppendField(payload, r.exit_file);
  AppendField(payload, std::to_string(r.argv.size()));
  for (const std::string& a : r.argv) AppendField(payload, a);
  AppendField(payload, std::to_string(r.env.size()));
  for (const std::string& e : r.env) AppendField(payload, e);
  const uint32_t size = static_cast<uint32_t>(payload.size());
  std::string frame(sizeof(size), '\0');
  std::memcpy(frame.data(), &size, sizeof(size));
  frame += payload;
  return frame;
}

// Decodes one payload (without its length prefix); nullopt when malformed.
inline std::optional<SpawnRequest> DecodeSpawn(std::string_view payload) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start < payload.size()) {
    const size_t end = payload.find('\0', start);
    if (end == std::string_view::npos) return std::nullopt;  // unterminated field
    fields.push_back(payload.substr(start, end - start));
    start = end + 1;
  }
  auto number = [](std::string_view s) -> std::optional<uint64_t> {
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
  };
  if (fields.size() < 8 || fields[0] != "spawn") return std::nullopt;
  SpawnRequest r;
  const auto token = number(fields[1]);
  const auto argc = number(fields[6]);
  if (!token || !argc || *argc == 0 || 7 + *argc >= fields.size()) return std::nullopt;
  r.token = *token;
  r.program = std::string(fields[2]);
  r.cwd = std::string(fields[3]);
  r.log_path = std::string(fields[4]);
  r.exit_file = std::string(fields[5]);
  size_t i = 7;
  for (uint64_t k = 0; k < *argc; ++k) r.argv.emplace_back(fields[i++]);
  const auto envc = number(fields[i++]);
  if (!envc || i + *envc != fields.size()) return std::nullopt;
  for (uint64_t k = 0; k < *envc; ++k) r.env.emplace_back(fields[i++]);
  return r;
}

// Newlines and other control characters become spaces, so a message is one line.
inline std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

// The job's start record: an xattr on its log, "<pid> <start time>" (the process's start
// time in clock ticks since boot, /proc/<pid>/stat field 22), written by the job itself
// before it executes the program. Read by the supervisor (its warden's records) and by the
// server (a job whose spawn a lost supervisor did not report).
inline constexpr const char* kStartXattr = "user.alphalab.start";

struct StartRecord {
  int pid = 0;
  unsigned long long start_time = 0;
};

// The start record on `log_path`; nullopt when there is none or it does not parse.
inline std::optional<StartRecord> ReadStartRecord(const char* log_path) {
  char buf[64];
  const ssize_t n = getxattr(log_path, kStartXattr, buf, sizeof(buf) - 1);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  StartRecord r;
  if (std::sscanf(buf, "%d %llu", &r.pid, &r.start_time) != 2 || r.pid <= 1) return std::nullopt;
  return r;
}

}  // namespace alphalab::supervisor

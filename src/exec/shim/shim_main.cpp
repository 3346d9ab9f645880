// alphalab-shim: the first process of every local job.
//
//   alphalab-shim --exit-file PATH [--program FILE] -- ARGV0 [ARGS...]
//
// LocalExecutor starts the shim as the leader of a new process group, with stdout/stderr
// already pointing at the job's log, the job's cwd and environment. The shim runs FILE (ARGV0
// when --program is absent; no PATH search, no shell) as its child in the same group, waits
// for it, and records how it ended ({"exit_code":N} or {"signal":S}) before exiting with the
// same code (128+S for a signal): as the extended attribute "user.alphalab.exit" of the log
// file (its stdout), or, where the file system has no user xattrs, in the file PATH. The
// record is what lets a restarted server learn the end of a job it can no longer waitpid.
//
// The shim ignores SIGTERM/SIGINT/SIGHUP, so a group-wide SIGTERM (cancel, timeout) reaches
// the program while the shim stays to record the outcome; SIGKILL ends everything. The child
// gets default dispositions and an empty signal mask.
//
// Deliberately plain: C library only, so it starts fast and links statically.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

namespace {

constexpr int kExecFailedCode = 127;

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void Log(const char* fmt, const char* a, const char* b) {
  char line[1024];
  const int n = snprintf(line, sizeof(line), fmt, a, b);
  if (n <= 0) return;
  const size_t len = static_cast<size_t>(n) < sizeof(line) ? static_cast<size_t>(n) : sizeof(line) - 1;
  WriteAll(STDERR_FILENO, line, len);
}

// Copies `text` into `out` as a JSON string body (quotes and control characters escaped).
void JsonEscape(const char* text, char* out, size_t cap) {
  size_t o = 0;
  for (const char* p = text; *p != '\0' && o + 7 < cap; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = static_cast<char>(c);
    } else if (c < 0x20) {
      o += static_cast<size_t>(snprintf(out + o, cap - o, "\\u%04x", c));
    } else {
      out[o++] = static_cast<char>(c);
    }
  }
  out[o] = '\0';
}

// Records `body` as the extended attribute user.alphalab.exit of the log (fd 1) when the
// file system allows it: no new inode per job. Returns false when it could not.
bool WriteExitXattr(const char* body) {
  struct stat st {};
  if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) return false;
  return fsetxattr(STDOUT_FILENO, "user.alphalab.exit", body, strlen(body), 0) == 0;
}

// Writes `body` to `path` with one write(). No temporary file + rename: readers only look at
// the file once the shim has exited, and a shim killed halfway leaves an empty or partial file,
// which readers treat as "no record". (Creating and renaming a second inode per job cost more
// CPU than the rest of the shim.)
void WriteExitFile(const char* path, const char* body) {
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    Log("alphalab-shim: cannot write %s: %s\n", path, strerror(errno));
    return;
  }
  WriteAll(fd, body, strlen(body));
  close(fd);
}

long long NowUnixMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int Usage() {
  static const char kUsage[] =
      "usage: alphalab-shim --exit-file PATH [--program FILE] -- ARGV0 [ARGS...]\n"
      "Runs PROGRAM, waits for it and records its exit status in PATH (used by alphalab's\n"
      "local executor; not meant to be run by hand).\n";
  WriteAll(STDERR_FILENO, kUsage, sizeof(kUsage) - 1);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const char* exit_file = nullptr;
  const char* program = nullptr;
  int program_index = -1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--exit-file") == 0 && i + 1 < argc) {
      exit_file = argv[++i];
    } else if (strcmp(argv[i], "--program") == 0 && i + 1 < argc) {
      program = argv[++i];
    } else if (strcmp(argv[i], "--") == 0) {
      program_index = i + 1;
      break;
    } else {
      return Usage();
    }
  }
  if (exit_file == nullptr || program_index < 0 || program_index >= argc) return Usage();
  if (program == nullptr) program = argv[program_index];

  // Stay alive through a group-wide SIGTERM so the outcome is recorded.
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaddset(&defaults, sig);
  }
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  pid_t child = -1;
  const int rc = posix_spawn(&child, program, nullptr, &attr, argv + program_index, environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    char reason[1024];
    snprintf(reason, sizeof(reason), "cannot execute %s: %s", program, strerror(rc));
    Log("alphalab-shim: %s%s\n", reason, "");
    char escaped[2048];
    JsonEscape(reason, escaped, sizeof(escaped));
    char body[2300];
    snprintf(body, sizeof(body), "{\"exit_code\":%d,\"error\":\"%s\",\"ended_at_ms\":%lld}\n",
             kExecFailedCode, escaped, NowUnixMs());
    if (!WriteExitXattr(body)) WriteExitFile(exit_file, body);
    return kExecFailedCode;
  }

  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      Log("alphalab-shim: waitpid failed: %s%s\n", strerror(errno), "");
      return kExecFailedCode;
    }
  }
  char body[256];
  int code = 0;
  if (WIFSIGNALED(status)) {
    code = 128 + WTERMSIG(status);
    snprintf(body, sizeof(body), "{\"signal\":%d,\"ended_at_ms\":%lld}\n", WTERMSIG(status),
             NowUnixMs());
  } else {
    code = WEXITSTATUS(status);
    snprintf(body, sizeof(body), "{\"exit_code\":%d,\"ended_at_ms\":%lld}\n", code, NowUnixMs());
  }
  if (!WriteExitXattr(body)) WriteExitFile(exit_file, body);
  return code;
}

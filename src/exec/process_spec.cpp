#include "exec/process_spec.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace alphalab {

namespace {

std::string Errno(int err) { return std::strerror(err); }

}  // namespace

bool IsExecutableFile(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

Result<std::filesystem::path> ResolveProgram(const ProcessSpec& spec) {
  const std::string& name = spec.argv[0];
  if (name.find('/') != std::string::npos) {
    std::filesystem::path path(name);
    if (path.is_relative()) path = spec.cwd / path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return Status::FailedPrecondition("cannot execute '" + name + "': " + Errno(errno));
    }
    if (!S_ISREG(st.st_mode)) {
      return Status::FailedPrecondition("cannot execute '" + name + "': not a regular file");
    }
    if (access(path.c_str(), X_OK) != 0) {
      return Status::FailedPrecondition("cannot execute '" + name + "': " + Errno(errno));
    }
    return path;
  }
  std::string search;
  if (auto it = spec.env.find("PATH"); it != spec.env.end()) {
    search = it->second;
  } else if (const char* env_path = std::getenv("PATH")) {
    search = env_path;
  } else {
    search = "/usr/local/bin:/usr/bin:/bin";
  }
  size_t start = 0;
  while (start <= search.size()) {
    size_t end = search.find(':', start);
    if (end == std::string::npos) end = search.size();
    std::filesystem::path dir = search.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (dir.is_relative()) dir = spec.cwd / dir;
    std::filesystem::path candidate = dir / name;
    if (IsExecutableFile(candidate)) return candidate;
    start = end + 1;
  }
  // The search path is not in the message: it ends up in the job's error, which API clients
  // read, and the server's directories are not theirs to see (issue 12, item 10).
  return Status::FailedPrecondition("cannot execute '" + name + "': not found in the server's PATH");
}

Status ValidateSpec(const ProcessSpec& spec) {
  if (spec.job_id.empty()) return Status::InvalidArgument("process spec: job_id is empty");
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return Status::InvalidArgument("process spec for " + spec.job_id.str() + ": empty command");
  }
  for (const std::string& arg : spec.argv) {
    if (arg.find('\0') != std::string::npos) {
      return Status::InvalidArgument("process spec: an argument contains a NUL byte");
    }
  }
  for (const auto& [key, value] : spec.env) {
    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return Status::InvalidArgument("process spec: invalid environment variable '" + key + "'");
    }
  }
  if (spec.log_path.empty()) {
    return Status::InvalidArgument("process spec for " + spec.job_id.str() + ": no log path");
  }
  if (spec.cwd.empty()) {
    return Status::InvalidArgument("process spec for " + spec.job_id.str() + ": no cwd");
  }
  struct stat st {};
  if (::stat(spec.cwd.c_str(), &st) != 0) {
    return Status::FailedPrecondition("working directory '" + spec.cwd.string() +
                                      "' is not usable: " + Errno(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::FailedPrecondition("working directory '" + spec.cwd.string() +
                                      "' is not a directory");
  }
  if (spec.timeout.count() < 0) {
    return Status::InvalidArgument("process spec: negative timeout");
  }
  return Status::Ok();
}

std::vector<std::string> BuildJobEnvironment(char** server_env, const std::map<std::string, std::string>& extra,
                                             const std::map<std::string, std::string>& defaults) {
  std::vector<std::string> env;
  std::map<std::string, std::string> missing = defaults;
  for (char** e = server_env; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    const std::string key(entry.substr(0, eq));
    missing.erase(key);
    if (extra.count(key) == 0) env.emplace_back(entry);
  }
  for (const auto& [key, value] : extra) {
    missing.erase(key);
    env.push_back(key + "=" + value);
  }
  for (const auto& [key, value] : missing) env.push_back(key + "=" + value);
  return env;
}

}  // namespace alphalab

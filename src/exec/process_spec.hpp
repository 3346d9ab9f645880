// Checks shared by the executors before they hand a job to anything: a well-formed spec, a
// usable working directory, and the program argv[0] names (resolved like execvp), so a missing
// program or cwd is a Status from Submit whichever executor runs the job.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "exec/executor.hpp"

namespace alphalab {

// A regular file this process may execute.
bool IsExecutableFile(const std::filesystem::path& path);

// Job id, argv, env keys/values (no NUL, no '=' in keys), log path, cwd (an existing
// directory), timeout >= 0.
Status ValidateSpec(const ProcessSpec& spec);

// The file to execute: argv[0] itself when it has a '/' (relative to cwd), else the first
// executable match in PATH (the job's PATH when spec.env sets one), like execvp.
Result<std::filesystem::path> ResolveProgram(const ProcessSpec& spec);

// A job's environment as "K=V" strings: `server_env` (a NULL-terminated environ array), with
// `extra` (the job's own variables) added or overriding, and `defaults` added for the keys
// neither sets.
std::vector<std::string> BuildJobEnvironment(char** server_env, const std::map<std::string, std::string>& extra,
                                             const std::map<std::string, std::string>& defaults);

}  // namespace alphalab

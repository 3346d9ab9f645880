#include "exec/slurm/slurm_parse.hpp"

#include <algorithm>
#include <charconv>

#include "core/text.hpp"

namespace alphalab {

namespace {

constexpr std::string_view kRefPrefix = "slurm:";

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "123" or "123_4" (an array task).
bool IsSlurmId(std::string_view s) {
  const size_t u = s.find('_');
  if (u == std::string_view::npos) return AllDigits(s);
  return AllDigits(s.substr(0, u)) && AllDigits(s.substr(u + 1));
}

std::optional<int> ToInt(std::string_view s) {
  int v = 0;
  s = Trim(s);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

template <typename F>
void ForEachLine(std::string_view text, F&& f) {
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view line = Trim(text.substr(i, j - i));
    if (!line.empty()) f(line);
    i = j + 1;
  }
}

// "Key=Value Key=Value ..." -> the values of the keys asked for.
std::map<std::string, std::string, std::less<>> Words(std::string_view line) {
  std::map<std::string, std::string, std::less<>> out;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    std::string_view word = line.substr(i, j - i);
    if (size_t eq = word.find('='); eq != std::string_view::npos && eq > 0) {
      out.emplace(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)));
    }
    i = j + 1;
  }
  return out;
}

// "3:0" (code:signal) -> info's exit_code / signal.
void SetCodeSignal(SlurmJobInfo& info, std::string_view value) {
  const size_t colon = value.find(':');
  if (colon == std::string_view::npos) {
    info.exit_code = ToInt(value);
    return;
  }
  info.exit_code = ToInt(value.substr(0, colon));
  if (auto sig = ToInt(value.substr(colon + 1)); sig && *sig != 0) info.signal = sig;
}

std::vector<SlurmJobInfo> ParseKeyValueJobs(std::string_view text, std::string_view state_key) {
  std::vector<SlurmJobInfo> jobs;
  ForEachLine(text, [&](std::string_view line) {
    auto w = Words(line);
    auto id = w.find("JobId");
    auto state = w.find(state_key);
    if (id == w.end() || state == w.end() || !AllDigits(id->second)) return;
    SlurmJobInfo info;
    info.job_id = id->second;
    auto array = w.find("ArrayJobId");
    auto task = w.find("ArrayTaskId");
    if (array != w.end() && task != w.end() && AllDigits(array->second) && AllDigits(task->second)) {
      info.job_id = array->second + "_" + task->second;
    }
    info.state = state->second;
    if (auto r = w.find("Reason"); r != w.end()) info.reason = r->second;
    if (auto e = w.find("ExitCode"); e != w.end()) SetCodeSignal(info, e->second);
    jobs.push_back(std::move(info));
  });
  return jobs;
}

}  // namespace

std::string ShellQuote(std::string_view arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string BatchScript(const std::vector<std::string>& argv) {
  std::string script = "#!/bin/sh\n# alphalab job: the whole script is the job's own command.\nexec";
  for (const std::string& a : argv) script += " " + ShellQuote(a);
  script += "\n";
  return script;
}

std::string ArrayTaskScript(const std::vector<std::string>& argv, const std::string& cwd,
                            const std::string& log_path, const std::map<std::string, std::string>& env) {
  std::string script = "#!/bin/sh\n# alphalab job (a task of a job array): its log, its folder, its command.\n";
  script += "exec >>" + ShellQuote(log_path) + " 2>&1\n";
  script += "cd " + ShellQuote(cwd) + " || exit 126\n";
  for (const auto& [k, v] : env) script += "export " + ShellQuote(k + "=" + v) + "\n";
  script += "exec";
  for (const std::string& a : argv) script += " " + ShellQuote(a);
  script += "\n";
  return script;
}

std::string ArrayWrapperScript(const std::string& index_path) {
  const std::string index = ShellQuote(index_path);
  return "#!/bin/sh\n"
         "# alphalab job array: task N runs the job on line N+1 of the index file (\"<job_id>\\t<script>\").\n"
         "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" " + index + ")\n"
         "script=${line#*\t}\n"
         "if [ -z \"$line\" ] || [ ! -f \"$script\" ]; then\n"
         "  echo \"alphalab: no job for array task $SLURM_ARRAY_TASK_ID in \"" + index + " >&2\n"
         "  exit 127\n"
         "fi\n"
         "exec /bin/sh \"$script\"\n";
}

std::string SlurmIndexRanges(const std::vector<int>& indices) {
  std::string out = "[";
  for (size_t i = 0; i < indices.size();) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (out.size() > 1) out += ",";
    out += std::to_string(indices[i]);
    if (j > i) out += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return out + "]";
}

std::string FormatSlurmRef(std::string_view slurm_job_id) { return std::string(kRefPrefix) + std::string(slurm_job_id); }

Result<std::string> ParseSlurmRef(std::string_view ref) {
  if (ref.substr(0, kRefPrefix.size()) != kRefPrefix || !IsSlurmId(ref.substr(kRefPrefix.size()))) {
    return Status::InvalidArgument("not a Slurm executor reference (slurm:<jobid> or slurm:<arrayid>_<index>): '" +
                                   std::string(ref) + "'");
  }
  return std::string(ref.substr(kRefPrefix.size()));
}

Result<std::string> ParseSbatchOutput(std::string_view out) {
  std::string_view line = Trim(out);
  if (size_t nl = line.rfind('\n'); nl != std::string_view::npos) line = Trim(line.substr(nl + 1));
  line = line.substr(0, line.find(';'));
  if (!AllDigits(line)) {
    return Status::Internal("sbatch printed no job id: '" + std::string(Trim(out)).substr(0, 200) + "'");
  }
  return std::string(line);
}

std::vector<SlurmJobInfo> ParseSqueue(std::string_view text) {
  std::vector<SlurmJobInfo> jobs;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> f;
    size_t i = 0;
    while (i <= line.size() && f.size() < 4) {
      size_t j = line.find('|', i);
      if (j == std::string_view::npos) j = line.size();
      f.push_back(Trim(line.substr(i, j - i)));
      i = j + 1;
    }
    if (f.size() < 4 || !IsSlurmId(f[0]) || f[1].empty()) return;
    SlurmJobInfo info;
    info.job_id = std::string(f[0]);
    info.state = std::string(f[1]);
    info.reason = std::string(f[2]);
    if (auto raw = ToInt(f[3])) {  // a wait status
      if ((*raw & 0x7f) != 0) {
        info.signal = *raw & 0x7f;
        info.exit_code = 0;
      } else {
        info.exit_code = (*raw >> 8) & 0xff;
      }
    }
    jobs.push_back(std::move(info));
  });
  return jobs;
}

std::vector<SlurmJobInfo> ParseScontrolJobs(std::string_view text) { return ParseKeyValueJobs(text, "JobState"); }

std::vector<SlurmJobInfo> ParseJobcomp(std::string_view text) { return ParseKeyValueJobs(text, "JobState"); }

std::optional<std::string> ScontrolConfigValue(std::string_view text, std::string_view key) {
  std::optional<std::string> found;
  ForEachLine(text, [&](std::string_view line) {
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || found) return;
    if (Trim(line.substr(0, eq)) == key) found = std::string(Trim(line.substr(eq + 1)));
  });
  return found;
}

bool IsSlurmTerminal(std::string_view state) {
  static constexpr std::string_view kEnded[] = {"COMPLETED", "FAILED",    "CANCELLED", "TIMEOUT",
                                                "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
                                                "DEADLINE", "REVOKED",  "SPECIAL_EXIT"};
  // "CANCELLED by 0" appears in some outputs: the first word decides.
  state = state.substr(0, state.find(' '));
  return std::find(std::begin(kEnded), std::end(kEnded), state) != std::end(kEnded);
}

ProcessExit MapSlurmEnd(const JobId& job_id, const SlurmJobInfo& info) {
  ProcessExit x;
  x.job_id = job_id;
  x.executor_state = info.state;
  x.executor_reason = info.reason;
  const std::string_view state = std::string_view(info.state).substr(0, info.state.find(' '));
  const std::string words = "Slurm job " + info.job_id + " ended " + std::string(state) +
                            (info.reason.empty() || info.reason == "None" ? "" : " (" + info.reason + ")");
  if (state == "COMPLETED" || state == "FAILED") {
    if (info.signal) {
      x.signal = info.signal;
    } else if (info.exit_code) {
      x.exit_code = info.exit_code;
    } else if (state == "COMPLETED") {
      x.exit_code = 0;
    } else {
      x.error = words + " without an exit code";
    }
  } else if (state == "CANCELLED") {
    x.canceled = true;
    x.signal = info.signal;
  } else if (state == "TIMEOUT" || state == "DEADLINE") {
    x.timed_out = true;
    x.signal = info.signal;
    x.error = words + ": it reached its time limit and was stopped";
  } else if (state == "OUT_OF_MEMORY") {
    x.cluster_reason = EndReason::kOutOfMemory;
    x.error = words + ": it ran out of memory";
  } else if (state == "NODE_FAIL" || state == "BOOT_FAIL") {
    x.cluster_reason = EndReason::kNodeFail;
    x.error = words + ": its node failed";
  } else if (state == "PREEMPTED") {
    x.cluster_reason = EndReason::kPreempted;
    x.error = words + ": it was preempted";
  } else {
    x.exit_code = info.exit_code && *info.exit_code != 0 ? *info.exit_code : 1;
    x.error = words;
  }
  return x;
}

}  // namespace alphalab

#include "jobs/job_outcome.hpp"

#include <regex>
#include <vector>

#include "jobs/log_reader.hpp"

namespace alphalab {

namespace {

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view line = text.substr(i, j - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    i = j + 1;
  }
  return lines;
}

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

bool LooksLikeError(std::string_view s) {
  static constexpr std::string_view kMarkers[] = {"Error", "error:", "ERROR", "Exception", "exception",
                                                  "Traceback", "FATAL", "Fatal", "panic", "failed"};
  for (auto m : kMarkers) {
    if (s.find(m) != std::string_view::npos) return true;
  }
  return false;
}


}  // namespace

bool OutcomeNeedsLog(const JobEnd& end, const JobTypeSpec* spec) {
  const bool has_rules = spec && !spec->artifacts.empty();
  switch (end.kind) {
    case JobEnd::Kind::kLost:
      return true;  // failed: its error summary
    case JobEnd::Kind::kExited: {
      const ProcessExit& x = end.exit;
      const bool succeeded = !x.canceled && !x.timed_out && x.exit_code && *x.exit_code == 0 && x.error.empty();
      return has_rules || (!x.canceled && !succeeded);
    }
    case JobEnd::Kind::kCanceledQueued:
    case JobEnd::Kind::kSpawnFailed:
    case JobEnd::Kind::kDryRun:
      return false;
  }
  return false;
}

JobOutcome DecideOutcome(const JobRecord& job, const JobTypeSpec* spec, const JobEnd& end,
                         std::string_view log_tail, const Result<JobResult>* result) {
  JobOutcome o;
  // Why a failed process failed, for error_message (before its last output).
  std::string why;
  bool why_first = true;  // false: the log summary alone says it when there is one
  switch (end.kind) {
    case JobEnd::Kind::kCanceledQueued:
      o.event = JobEvent::kJobCanceled;
      o.end_reason = EndReason::kCanceled;
      return o;
    case JobEnd::Kind::kSpawnFailed:
      o.event = JobEvent::kJobFailed;
      o.end_reason = EndReason::kSpawnFailed;
      o.error_message = "could not start: " + end.cause;
      return o;
    case JobEnd::Kind::kDryRun:
      o.event = JobEvent::kJobSucceeded;
      o.end_reason = EndReason::kExitCode;
      o.exit_code = 0;
      return o;
    case JobEnd::Kind::kLost:
      o.event = JobEvent::kJobLost;
      o.end_reason = EndReason::kLost;
      why = std::string(kLostMessage) + (end.cause.empty() ? "" : " (" + end.cause + ")");
      break;
    case JobEnd::Kind::kExited: {
      const ProcessExit& x = end.exit;
      if (x.exit_code) {
        o.exit_code = *x.exit_code;
      } else if (x.signal) {
        o.exit_code = -*x.signal;  // like Python's Popen.returncode
      }
      if (x.canceled) {
        o.event = JobEvent::kJobCanceled;
        o.end_reason = EndReason::kCanceled;
      } else if (x.timed_out) {
        o.event = JobEvent::kJobTimedOut;
        o.end_reason = EndReason::kTimeout;
        why = x.error.empty() ? "timed out after " + std::to_string(job.timeout_sec) + " s and was stopped" : x.error;
      } else if (x.cluster_reason) {
        // The cluster ended it (out of memory, node failure, preemption).
        o.event = JobEvent::kJobFailed;
        o.end_reason = *x.cluster_reason;
        why = x.error.empty() ? "ended by the cluster: " + std::string(EndReasonName(*x.cluster_reason)) : x.error;
      } else if (!x.exit_code && !x.signal) {
        // Neither an exit code nor a signal: nobody knows how it ended.
        o.event = JobEvent::kJobLost;
        o.end_reason = EndReason::kLost;
        if (end.reattached) {
          why = std::string(kLostMessage) + (x.error.empty() ? "" : " (" + x.error + ")");
        } else {
          why = x.error.empty() ? "ended without an exit status" : x.error;
        }
      } else if (x.exit_code) {
        o.event = *x.exit_code == 0 && x.error.empty() ? JobEvent::kJobSucceeded : JobEvent::kJobFailed;
        o.end_reason = EndReason::kExitCode;
        if (!x.error.empty()) {
          why = x.error;
        } else {
          why = "exited with code " + std::to_string(*x.exit_code);
          why_first = false;
        }
      } else {
        o.event = JobEvent::kJobFailed;
        o.end_reason = EndReason::kSignal;
        why = x.error.empty() ? "killed by signal " + std::to_string(*x.signal) : x.error;
      }
      break;
    }
  }
  // A process ran (kExited, kLost): its artifacts.
  if (spec && spec->result_kind) {
    std::string problem;
    if (!result) {
      problem = "its result file was not read";
    } else if (!result->ok()) {
      problem = result->status().message();
    } else if ((*result)->kind != *spec->result_kind) {
      problem = "its result file " + JobResultPath(job.job_id.str()) + " is of kind '" +
                std::string(ResultKindName((*result)->kind)) + "', job type '" + spec->name + "' writes '" +
                std::string(ResultKindName(*spec->result_kind)) + "'";
    } else {
      o.artifacts = (*result)->Artifacts();
    }
    if (!problem.empty() && o.event != JobEvent::kJobCanceled) {
      JobResult promised;
      promised.kind = *spec->result_kind;
      std::string names;
      const Json promised_artifacts = promised.Artifacts();
      for (const auto& [name, value] : promised_artifacts.items()) names += (names.empty() ? "" : ", ") + name;
      o.artifacts_parse_error = "missing artifact(s) " + names + ": " + problem;
    }
  } else if (spec) {
    o.artifacts = ParseArtifacts(*spec, log_tail);
    if (o.event != JobEvent::kJobCanceled) {
      std::string missing;
      for (const std::string& name : spec->required_artifacts) {
        if (!o.artifacts.contains(name)) missing += (missing.empty() ? "" : ", ") + name;
      }
      if (!missing.empty()) {
        std::string patterns;
        for (const ArtifactRule& r : spec->artifacts) {
          if (!o.artifacts.contains(r.name)) patterns += (patterns.empty() ? "" : "; ") + r.name + ": /" + r.pattern + "/";
        }
        o.artifacts_parse_error = "missing artifact(s) " + missing + ": no log line matched (" + patterns + ")";
      }
    }
  } else {
    o.artifacts_parse_error = "job type '" + job.job_type + "' is no longer in the catalog";
  }
  // A cluster's own words for the end stay on the job (Slurm: state and reason).
  if (end.kind == JobEnd::Kind::kExited && !end.exit.executor_state.empty()) {
    if (!o.artifacts.is_object()) o.artifacts = Json::object();
    o.artifacts[std::string(kExecutorStateKey)] = end.exit.executor_state;
    o.artifacts[std::string(kExecutorReasonKey)] = end.exit.executor_reason;
  }
  if (end.disk_full && end.kind == JobEnd::Kind::kExited) {
    if (o.event == JobEvent::kJobSucceeded && o.artifacts_parse_error && spec &&
        !spec->required_artifacts.empty()) {
      o.event = JobEvent::kJobFailed;  // exit_code 0, end_reason exit_code: it exited, but its output is gone
      why = "exited with code 0 but its required artifacts were not reported";
    }
    why = std::string(kDiskFullMessage) + (why.empty() ? "" : ": " + why);
    why_first = true;
  }
  const bool failed = o.event == JobEvent::kJobFailed || o.event == JobEvent::kJobTimedOut ||
                      o.event == JobEvent::kJobLost;
  if (failed) {
    const std::string summary = SummarizeError(log_tail);
    if (why_first) {
      o.error_message = summary.empty() ? why : why + "; last output:\n" + summary;
    } else {
      o.error_message = summary.empty() ? "process " + why + " and printed nothing" : summary;
    }
  }
  return o;
}

bool FullDiskCouldChange(const JobOutcome& outcome, const JobTypeSpec* spec) {
  if (outcome.event == JobEvent::kJobSucceeded) {
    return outcome.artifacts_parse_error && spec && !spec->required_artifacts.empty();
  }
  return outcome.event == JobEvent::kJobFailed || outcome.event == JobEvent::kJobTimedOut ||
         outcome.event == JobEvent::kJobLost;
}

Json ParseArtifacts(const JobTypeSpec& spec, std::string_view log_text) {
  Json out = Json::object();
  if (spec.artifacts.empty()) return out;
  for (std::string_view line : SplitLines(log_text)) {
    if (line.size() > 4096) continue;  // artifact lines are short; skip giant lines cheaply
    for (const ArtifactRule& rule : spec.artifacts) {
      std::match_results<std::string_view::const_iterator> m;
      if (std::regex_search(line.begin(), line.end(), m, rule.regex) && m.size() > 1 && m[1].matched) {
        out[rule.name] = m[1].str();
      }
    }
  }
  return out;
}

std::string SummarizeError(std::string_view log_text) {
  std::vector<std::string_view> lines;
  for (std::string_view l : SplitLines(log_text)) {
    if (!IsBlank(l)) lines.push_back(l);
  }
  if (lines.empty()) return "";
  size_t from = lines.size() > 5 ? lines.size() - 5 : 0;
  // Prefer the last traceback; else the last line that looks like an error.
  std::optional<size_t> marker;
  for (size_t i = lines.size(); i-- > 0;) {
    if (lines[i].find("Traceback") != std::string_view::npos) {
      marker = i;
      break;
    }
  }
  if (!marker) {
    for (size_t i = lines.size(); i-- > 0;) {
      if (LooksLikeError(lines[i])) {
        marker = i;
        break;
      }
    }
  }
  if (marker) from = *marker;
  if (lines.size() - from > 20) from = lines.size() - 20;
  std::string out;
  for (size_t i = from; i < lines.size(); ++i) {
    if (!out.empty()) out += "\n";
    out += lines[i];
  }
  if (out.size() > 2000) out = "..." + out.substr(out.size() - 1997);
  return SanitizeUtf8(out);
}

}  // namespace alphalab

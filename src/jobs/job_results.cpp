#include "jobs/job_results.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "core/confined_open.hpp"
#include "core/ids.hpp"

namespace alphalab {

namespace {

namespace fs = std::filesystem;

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string ValueText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_array()) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + ValueText(v[i]);
    return out;
  }
  return v.dump();
}

Status ResultsError(const JobTypeSpec& spec, std::string message) {
  return Status::NotFound(std::string(ResultParserName(spec.results->parser)) + ": " + message,
                          Json{{"parser", std::string(ResultParserName(spec.results->parser))}});
}

// The one file `rel` names beneath the workspace root; a '*' in its file name must match
// exactly one directory entry.
Result<std::string> ResolveGlob(const Workspace& ws, const JobTypeSpec& spec, const std::string& rel) {
  const size_t star = rel.find('*');
  if (star == std::string::npos) return rel;
  const size_t slash = rel.rfind('/', star);
  const std::string dir = slash == std::string::npos ? "." : rel.substr(0, slash);
  const std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  const size_t name_star = name.find('*');
  const std::string prefix = name.substr(0, name_star);
  const std::string suffix = name.substr(name_star + 1);
  auto fd = OpenConfined(ws.root(), dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) {
    if (fd.status().IsNotFound()) return ResultsError(spec, "no result file: " + dir + " does not exist");
    return fd.status().WithContext(dir);
  }
  DIR* d = ::fdopendir(fd->get());
  if (!d) return Status::Internal("cannot list " + dir);
  fd->release();  // owned by `d` now
  std::vector<std::string> matches;
  while (const dirent* e = ::readdir(d)) {
    const std::string entry = e->d_name;
    if (entry == "." || entry == ".." || entry.size() < prefix.size() + suffix.size()) continue;
    if (entry.compare(0, prefix.size(), prefix) == 0 &&
        entry.compare(entry.size() - suffix.size(), suffix.size(), suffix) == 0) {
      matches.push_back(entry);
    }
  }
  ::closedir(d);
  if (matches.empty()) return ResultsError(spec, "no result file matches " + rel);
  if (matches.size() > 1) {
    std::sort(matches.begin(), matches.end());
    return Status::InvalidArgument(std::string(ResultParserName(spec.results->parser)) + ": " +
                                       std::to_string(matches.size()) + " files match " + rel + " (" + matches[0] +
                                       ", " + matches[1] + (matches.size() > 2 ? ", ..." : "") +
                                       "); the path must name one",
                                   Json{{"parser", std::string(ResultParserName(spec.results->parser))}});
  }
  return (dir == "." ? "" : dir + "/") + matches.front();
}

}  // namespace

std::optional<Result<JobResult>> ReadResultFileOf(const Workspace& ws, const JobTypeSpec* spec, const JobRecord& job) {
  if (!spec || !spec->result_kind) return std::nullopt;
  return ReadJobResult(ws.root(), job.job_id.str());
}

bool HasReadableResults(const JobTypeSpec& spec) {
  return spec.result_kind == ResultKind::kBacktest || spec.results.has_value();
}

bool IsKnownMetricOf(const JobTypeSpec& spec, std::string_view metric) {
  if (spec.result_kind == ResultKind::kBacktest) return IsKnownMetricName(ResultParserKind::kAlphalabSummary, metric);
  if (spec.results) return IsKnownMetricName(spec.results->parser, metric);
  return false;
}

Result<std::string> SubstituteResultsPath(const std::string& tmpl, const JobRecord& job) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      size_t j = i + 1;
      while (j < tmpl.size() && IsKeyChar(tmpl[j])) ++j;
      if (j < tmpl.size() && tmpl[j] == '}' && j > i + 1) {
        const std::string name = tmpl.substr(i + 1, j - i - 1);
        std::string value;
        if (name == "job_id") {
          value = job.job_id.str();
        } else if (name == "work_dir") {  // workspace-relative, as JobWorkDir
          value = "reports/jobs/runtime/" + job.job_id.str() + "/work";
        } else if (job.params.is_object() && job.params.contains(name) && !job.params[name].is_null()) {
          value = ValueText(job.params[name]);
        } else {
          return Status::InvalidArgument("the results path uses {" + name + "} but the job has no value for it",
                                         Json{{"parameter", name}});
        }
        if (value.find('*') != std::string::npos || value.find('\0') != std::string::npos) {
          return Status::InvalidArgument("the value of {" + name + "} cannot stand in a results path",
                                         Json{{"parameter", name}});
        }
        out += value;
        i = j + 1;
        continue;
      }
    }
    out.push_back(tmpl[i++]);
  }
  return out;
}

Result<JobMetrics> ReadJobMetrics(const Workspace& ws, const JobTypeSpec& spec, const JobRecord& job) {
  JobMetrics m;
  if (spec.result_kind == ResultKind::kBacktest) {
    ASSIGN_OR_RETURN(JobResult r, ReadJobResult(ws.root(), job.job_id.str()));
    if (r.kind != ResultKind::kBacktest) {
      return Status::InvalidArgument(JobResultPath(job.job_id.str()) + " is not a backtest's result");
    }
    m.result_summary_id = r.id;
    m.result_paths = {r.SummaryPath()};
    auto text = ReadFileConfined(ws.root(), r.SummaryPath(), kMaxResultFileBytes);
    if (!text.ok()) return text.status().WithContext("alphalab_summary: " + r.SummaryPath());
    auto parsed = ParseResultText(ResultParserKind::kAlphalabSummary, *text);
    if (!parsed.ok()) return parsed.status().WithContext(r.SummaryPath());
    m.parsed = std::move(*parsed);
    return m;
  }
  if (!spec.results) {
    return Status::FailedPrecondition("job type '" + spec.name + "' declares no results to read",
                                      Json{{"job_type", spec.name}});
  }
  ASSIGN_OR_RETURN(std::string rel, SubstituteResultsPath(spec.results->path, job));
  ASSIGN_OR_RETURN(rel, ResolveGlob(ws, spec, rel));
  auto text = ReadFileConfined(ws.root(), rel, kMaxResultFileBytes);
  if (!text.ok()) {
    if (text.status().IsNotFound()) return ResultsError(spec, "no result file " + rel);
    return text.status().WithContext(std::string(ResultParserName(spec.results->parser)) + ": " + rel);
  }
  auto parsed = ParseResultText(spec.results->parser, *text);
  if (!parsed.ok()) return parsed.status().WithContext(rel);
  m.parsed = std::move(*parsed);
  m.result_paths = {fs::path(rel).lexically_normal().string()};
  return m;
}

}  // namespace alphalab

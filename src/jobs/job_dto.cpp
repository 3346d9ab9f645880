#include "jobs/job_dto.hpp"

#include "jobs/job_detail_body.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace alphalab {

namespace {
template <typename T>
Json OrNull(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}
Json TimeOrNull(const std::optional<TimePoint>& t) {
  return t ? Json(FormatIso8601(*t)) : Json(nullptr);
}
// Bytes a JSON string cannot hold as they are: control characters, '"', '\\' and non-ASCII.
constexpr std::array<bool, 256> kSpecial = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return t;
}();

// Whether any of the 8 bytes in `w` is special (kSpecial): below 0x20, '"', '\\' or >= 0x80
// (each test exact for "any byte", the classic SWAR zero-byte test).
constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;
constexpr bool HasZeroByte(uint64_t w) { return ((w - kOnes) & ~w & kHighs) != 0; }
constexpr bool HasSpecialByte(uint64_t w) {
  return ((w - kOnes * 0x20) & ~w & kHighs) != 0 || HasZeroByte(w ^ (kOnes * '"')) ||
         HasZeroByte(w ^ (kOnes * '\\')) || (w & kHighs) != 0;
}
static_assert(!HasSpecialByte(0x6162636465666768ULL) && HasSpecialByte(0x6162632265666768ULL) &&
              HasSpecialByte(0x616263645c666768ULL) && HasSpecialByte(0x6162636465666709ULL) &&
              HasSpecialByte(0xc3a9636465666768ULL) && !HasSpecialByte(0x2021237e7f5b5d2fULL));

// A JSON string literal as DumpJson writes it (ensure_ascii off, invalid UTF-8 replaced):
// ASCII is escaped here, runs of characters that need no escape copied at once (found 8 bytes
// at a time); a string with any non-ASCII byte goes through the library, which validates it.
void AppendString(std::string& out, std::string_view s) {
  const size_t start = out.size();
  out += '"';
  size_t run = 0;  // first character not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    if ((i & 7) == 0) {  // at a word boundary: skip the words without a special byte
      for (uint64_t w = 0; i + 8 <= s.size(); i += 8) {
        std::memcpy(&w, s.data() + i, 8);
        if (HasSpecialByte(w)) break;
      }
      if (i >= s.size()) break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (!kSpecial[c]) continue;
    if (c >= 0x80) {
      out.resize(start);
      out += DumpJson(Json(std::string(s)));
      return;
    }
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendOptionalString(std::string& out, const std::optional<std::string_view>& s) {
  if (s) {
    AppendString(out, *s);
  } else {
    out += "null";
  }
}

void AppendTime(std::string& out, const std::optional<TimePoint>& t) {
  if (t) {
    out += '"';
    AppendIso8601(out, *t);
    out += '"';
  } else {
    out += "null";
  }
}

// The stored text of a value the detail shows only when it is an object.
std::string_view ObjectOrEmpty(std::string_view stored) {
  return !stored.empty() && stored.front() == '{' ? std::string_view(stored) : std::string_view("{}");
}

double DurationSec(TimePoint started_at, const std::optional<TimePoint>& ended_at, TimePoint now) {
  const TimePoint end = ended_at.value_or(now);
  return std::round(SecondsBetween(started_at, end) * 1000.0) / 1000.0;
}

// A number as DumpJson writes it: nlohmann's own formatter (the one its serializer calls for
// a finite double), without building and dumping a Json value.
void AppendNumber(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  std::array<char, 64> buf;
  const char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), x);
  out.append(buf.data(), static_cast<size_t>(end - buf.data()));
}

std::optional<std::string_view> ViewOf(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return std::string_view(*s);
}

}  // namespace

std::string JobEventJson(const JobRecord& job) {
  std::string out;
  out.reserve(160);
  out += R"({"msg":"job","job_id":)";
  AppendString(out, job.job_id.str());
  out += R"(,"job_type":)";
  AppendString(out, job.job_type);
  out += R"(,"status":")";
  out += JobStateName(job.status);
  out += '"';
  if (job.dry_run) out += R"(,"dry_run":true)";
  if (job.status == JobState::kRunning && job.started_at) {
    out += R"(,"queue_wait_sec":)";
    AppendNumber(out, SecondsBetween(job.created_at, *job.started_at));
  }
  if (IsTerminal(job.status)) {
    if (job.end_reason) {
      out += R"(,"end_reason":")";
      out += EndReasonName(*job.end_reason);
      out += '"';
    }
    if (job.exit_code) {
      out += R"(,"exit_code":)";
      out += std::to_string(*job.exit_code);
    }
    if (job.started_at && job.ended_at) {
      out += R"(,"duration_sec":)";
      AppendNumber(out, SecondsBetween(*job.started_at, *job.ended_at));
    }
    if (job.error_message) {
      const std::string_view error(*job.error_message);
      out += R"(,"error":)";
      AppendString(out, error.substr(0, error.find('\n')).substr(0, 300));
    }
    if (job.artifacts_parse_error) {
      out += R"(,"artifacts_parse_error":)";
      AppendString(out, *job.artifacts_parse_error);
    }
  }
  out += '}';
  return out;
}

namespace {

// The view of a record, its JSON columns given as text.
StoredJobView ViewOfRecord(const JobRecord& job, std::string_view command_json, std::string_view params_json,
                           std::string_view artifacts_json) {
  StoredJobView v;
  v.job_id = job.job_id.str();
  v.job_type = job.job_type;
  v.status = job.status;
  v.created_at = job.created_at;
  v.started_at = job.started_at;
  v.ended_at = job.ended_at;
  v.exit_code = job.exit_code;
  v.error_message = ViewOf(job.error_message);
  v.cwd = job.cwd;
  v.command_json = command_json;
  v.args_preview = job.args_preview;
  v.params_json = params_json;
  v.artifacts_json = artifacts_json;
  v.artifacts_parse_error = ViewOf(job.artifacts_parse_error);
  v.log_path = job.log_path;
  v.meta_path = job.meta_path;
  v.parent_id = ViewOf(job.parent_id);
  v.source_job_id = ViewOf(job.source_job_id);
  v.owner_id = ViewOf(job.owner_id);
  v.dry_run = job.dry_run;
  v.timeout_sec = job.timeout_sec;
  v.end_reason = job.end_reason;
  v.project = job.project;
  return v;
}

// The detail shows params and artifacts only when they are objects ({} otherwise).
std::string ObjectText(const Json& j) { return j.is_object() && !j.empty() ? DumpJson(j) : std::string("{}"); }

}  // namespace

std::string JobDetailBody(const StoredJob& stored, TimePoint now) {
  return JobDetailBody(ViewOfRecord(stored.record, stored.command_json, stored.params_json, stored.artifacts_json),
                       now);
}

std::string JobDetailBody(const JobRecord& job, TimePoint now) {
  std::string command = "[";
  for (size_t i = 0; i < job.command.size(); ++i) {
    if (i > 0) command += ',';
    AppendString(command, job.command[i]);
  }
  command += ']';
  const std::string params = ObjectText(job.params);
  const std::string artifacts = ObjectText(job.artifacts);
  return JobDetailBody(ViewOfRecord(job, command, params, artifacts), now);
}

std::string JobDetailBody(const StoredJobView& job, TimePoint now) {
  std::string out;
  out.reserve(640 + job.command_json.size() + job.params_json.size() + job.artifacts_json.size() +
              job.cwd.size() + job.args_preview.size());
  // Keys in the order DumpJson writes an object's (sorted).
  out += "{\"args_preview\":";
  AppendString(out, job.args_preview);
  out += ",\"artifacts\":";
  out += ObjectOrEmpty(job.artifacts_json);
  out += ",\"artifacts_parse_error\":";
  AppendOptionalString(out, job.artifacts_parse_error);
  out += ",\"command\":";
  out += job.command_json;
  out += ",\"created_at\":";
  AppendTime(out, job.created_at);
  out += ",\"cwd\":";
  AppendString(out, job.cwd);
  out += job.dry_run ? ",\"dry_run\":true" : ",\"dry_run\":false";
  out += ",\"duration_sec\":";
  if (job.started_at) {
    AppendNumber(out, DurationSec(*job.started_at, job.ended_at, now));
  } else {
    out += "null";
  }
  out += ",\"end_reason\":";
  if (job.end_reason) {
    out += '"';
    out += EndReasonName(*job.end_reason);
    out += '"';
  } else {
    out += "null";
  }
  out += ",\"ended_at\":";
  AppendTime(out, job.ended_at);
  out += ",\"error_message\":";
  AppendOptionalString(out, job.error_message);
  out += ",\"exit_code\":";
  out += job.exit_code ? std::to_string(*job.exit_code) : "null";
  out += ",\"job_id\":";
  AppendString(out, job.job_id);
  out += ",\"job_type\":";
  AppendString(out, job.job_type);
  out += ",\"owner_id\":";
  AppendOptionalString(out, job.owner_id);
  out += ",\"params\":";
  out += ObjectOrEmpty(job.params_json);
  out += ",\"parent_id\":";
  AppendOptionalString(out, job.parent_id);
  out += ",\"project\":";
  AppendString(out, job.project);
  out += ",\"runtime\":{\"log_path\":";
  AppendString(out, job.log_path);
  out += ",\"meta_path\":";
  AppendString(out, job.meta_path);
  out += "},\"source_job_id\":";
  AppendOptionalString(out, job.source_job_id);
  out += ",\"started_at\":";
  AppendTime(out, job.started_at);
  out += ",\"status\":\"";
  out += JobStateName(job.status);
  out += "\",\"timeout_sec\":";
  out += std::to_string(job.timeout_sec);
  out += '}';
  return out;
}

StoredJob StoredJobOf(JobRecord record) {
  StoredJob out;
  Json command = Json::array();
  for (const std::string& arg : record.command) command.push_back(arg);
  out.command_json = DumpJson(command);
  out.params_json = DumpJson(record.params);
  out.artifacts_json = DumpJson(record.artifacts);
  out.record = std::move(record);
  return out;
}

Json JobDetailJson(const JobRecord& job, TimePoint now) {
  Json duration = nullptr;
  if (job.started_at) duration = DurationSec(*job.started_at, job.ended_at, now);
  return Json{
      {"job_id", job.job_id.str()},
      {"job_type", job.job_type},
      {"status", std::string(JobStateName(job.status))},
      {"created_at", FormatIso8601(job.created_at)},
      {"started_at", TimeOrNull(job.started_at)},
      {"ended_at", TimeOrNull(job.ended_at)},
      {"duration_sec", duration},
      {"exit_code", OrNull(job.exit_code)},
      {"end_reason", job.end_reason ? Json(std::string(EndReasonName(*job.end_reason))) : Json(nullptr)},
      {"error_message", OrNull(job.error_message)},
      {"cwd", job.cwd},
      {"command", job.command},
      {"args_preview", job.args_preview},
      {"artifacts", job.artifacts.is_object() ? job.artifacts : Json::object()},
      {"artifacts_parse_error", OrNull(job.artifacts_parse_error)},
      {"runtime", {{"meta_path", job.meta_path}, {"log_path", job.log_path}}},
      {"parent_id", OrNull(job.parent_id)},
      {"source_job_id", OrNull(job.source_job_id)},
      {"owner_id", OrNull(job.owner_id)},
      {"project", job.project},
      {"params", job.params.is_object() ? job.params : Json::object()},
      {"dry_run", job.dry_run},
      {"timeout_sec", job.timeout_sec},
  };
}

}  // namespace alphalab

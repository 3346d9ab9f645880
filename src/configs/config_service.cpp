#include "configs/config_service.hpp"

#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/dotenv.hpp"
#include "configs/line_diff.hpp"
#include "core/yaml_secrets.hpp"
#include "core/confined_open.hpp"
#include "core/ids.hpp"

namespace alphalab::configs {

namespace fs = std::filesystem;

Result<std::pair<std::string, std::string>> SplitManagedPath(const std::string& path, const std::string& field) {
  const size_t colon = path.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= path.size()) {
    return Status::InvalidArgument(field + " must be '<tool>:<path>' (e.g. rdagent:.env), got '" + path.substr(0, 100) +
                                       "'",
                                   Json{{"field", field}});
  }
  return std::make_pair(path.substr(0, colon), path.substr(colon + 1));
}

ConfigService::ConfigService(std::vector<ToolConfigDecl> tools, ConfinedRoots roots, ConfigHistoryStore& store,
                             const Clock& clock, LlmProbe* probe, ConfigServiceOptions options)
    : tools_(std::move(tools)), roots_(std::move(roots)), store_(store), clock_(clock), probe_(probe),
      options_(options) {}

Result<ManagedRef> ConfigService::Find(const std::string& tool, const std::string& file) const {
  for (const ToolConfigDecl& t : tools_) {
    if (t.name != tool) continue;
    for (const ManagedFileDecl& f : t.files) {
      if (f.path == file) return ManagedRef{&t, &f};
    }
    return Status::NotFound("'" + file.substr(0, 200) + "' is not a managed file of " + tool,
                            Json{{"field", "path"}});
  }
  return Status::NotFound("tool '" + tool.substr(0, 64) + "' is not declared under configs:", Json{{"field", "path"}});
}

Result<ManagedRef> ConfigService::Find(const std::string& path) const {
  ASSIGN_OR_RETURN(auto parts, SplitManagedPath(path));
  return Find(parts.first, parts.second);
}

Result<std::string> ConfigService::ReadRaw(const ManagedRef& ref) const {
  return roots_.Read(ref.tool->root, ref.file->path, options_.max_file_bytes);
}

namespace {

FileStamp StampOf(const struct stat& st) {
  return FileStamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                                  static_cast<int64_t>(st.st_size),
                                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                                  static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

int64_t NowNs() {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

// A regular file's bytes from an open descriptor (at most max_bytes).
Result<std::string> ReadOpenFile(int fd, size_t max_bytes, const std::string& name) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal("cannot read " + name + ": " + std::strerror(errno));
    if (n == 0) return out;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return Status::ResourceExhausted(name + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Result<std::map<std::string, int64_t>> ConfigService::HistoryCounts(const std::string& tool) {
  ASSIGN_OR_RETURN(int64_t last_id, store_.LastId());  // read first: a row added meanwhile means a recount next time
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache_mu_);
    auto it = counts_.find(tool);
    if (it != counts_.end() && it->second.last_id == last_id && now - it->second.at < options_.counts_max_age) {
      return it->second.by_file;
    }
  }
  ASSIGN_OR_RETURN(auto counts, store_.CountByFile(tool));
  std::lock_guard lock(cache_mu_);
  counts_[tool] = CountsEntry{last_id, now, counts};
  return counts;
}

Result<Json> ConfigService::FileInfo(const ManagedRef& ref, std::string* content_out) {
  Json j{{"path", ref.Name()},
         {"tool", ref.tool->name},
         {"file", ref.file->path},
         {"kind", ref.file->kind},
         {"readonly", ref.file->readonly}};
  ASSIGN_OR_RETURN(fs::path base, roots_.Find(ref.tool->root));
  auto fd = OpenConfined(base, ref.file->path, O_RDONLY);
  if (!fd.ok() && fd.status().code() == StatusCode::kNotFound) {
    j["exists"] = false;
    j["sha256"] = nullptr;
    j["size"] = 0;
    j["mtime"] = nullptr;
    j["drift"] = false;
    if (content_out) content_out->clear();
    return j;
  }
  if (!fd.ok()) return fd.status();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return Status::Internal("cannot stat " + ref.Name());
  const FileStamp stamp = StampOf(st);
  std::string content;
  std::string sha;
  int64_t size = st.st_size;
  if (!content_out) {  // a listing: the hash of an unchanged file is not computed again
    std::lock_guard lock(cache_mu_);
    if (auto it = hashes_.find(ref.Name()); it != hashes_.end() && it->second.stamp == stamp) sha = it->second.sha256;
  }
  if (sha.empty()) {
    // Read through the descriptor just stat'ed, so the hash and the stamp are of one file.
    ASSIGN_OR_RETURN(content, ReadOpenFile(fd->get(), options_.max_file_bytes, ref.Name()));
    sha = Sha256Hex(content);
    size = static_cast<int64_t>(content.size());
    struct stat after {};
    const int64_t now_ns = NowNs();
    if (::fstat(fd->get(), &after) == 0 && StampOf(after) == stamp && size == stamp.size &&
        now_ns - stamp.ctime_ns > std::chrono::nanoseconds(options_.racy_margin).count()) {
      std::lock_guard lock(cache_mu_);
      hashes_[ref.Name()] = KnownVersion{stamp, sha};
    }
  }
  ASSIGN_OR_RETURN(std::optional<std::string> known, store_.KnownHash(ref.tool->name, ref.file->path));
  if (!known) {
    // First sight: this version is the known one.
    RETURN_IF_ERROR(store_.SetKnownHash(ref.tool->name, ref.file->path, sha));
    known = sha;
  }
  j["exists"] = true;
  j["sha256"] = sha;
  j["size"] = size;
  j["mtime"] = FormatIso8601(TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec))));
  j["drift"] = *known != sha;
  if (content_out) *content_out = std::move(content);
  return j;
}

Result<Json> ConfigService::List(const std::optional<std::string>& tool) {
  Json tools = Json::array();
  bool found = !tool.has_value();
  for (const ToolConfigDecl& t : tools_) {
    if (tool && t.name != *tool) continue;
    found = true;
    ASSIGN_OR_RETURN(auto counts, HistoryCounts(t.name));
    Json files = Json::array();
    for (const ManagedFileDecl& f : t.files) {
      ASSIGN_OR_RETURN(Json info, FileInfo(ManagedRef{&t, &f}, nullptr));
      auto it = counts.find(f.path);
      info["history_count"] = it == counts.end() ? 0 : it->second;
      files.push_back(std::move(info));
    }
    tools.push_back(Json{{"name", t.name},
                         {"description", t.description},
                         {"root", t.root.empty() ? "workspace" : t.root},
                         {"files", std::move(files)}});
  }
  if (!found) {
    return Status::NotFound("tool '" + tool->substr(0, 64) + "' is not declared under configs:", Json{{"field", "tool"}});
  }
  return Json{{"tools", std::move(tools)}};
}

namespace {

// What a managed file's text looks like when it leaves the server (secrets masked).
std::string MaskSecrets(const std::string& kind, const std::string& text) {
  if (kind == "env") return MaskDotenv(text);
  if (kind == "yaml") return MaskYamlSecrets(text);
  return text;
}

}  // namespace

Result<Json> ConfigService::Read(const std::string& path) {
  ASSIGN_OR_RETURN(ManagedRef ref, Find(path));
  std::string content;
  ASSIGN_OR_RETURN(Json info, FileInfo(ref, &content));
  if (!info["exists"].get<bool>()) return Status::NotFound(ref.Name() + " does not exist on disk");
  info["content"] = MaskSecrets(ref.file->kind, content);
  return info;
}

namespace {

Status Validate(const ManagedFileDecl& f, const std::string& content) {
  if (content.find('\0') != std::string::npos) {
    return Status::InvalidArgument("content must be text (it contains a NUL byte)", Json{{"field", "content"}});
  }
  if (f.kind == "env") {
    auto parsed = ParseDotenv(content);
    if (!parsed.ok()) {
      Json d = parsed.status().details().is_object() ? parsed.status().details() : Json::object();
      d["field"] = "content";
      return Status::InvalidArgument("content: not a valid .env file: " + parsed.status().message(), d);
    }
  } else if (f.kind == "yaml") {
    Status s = ValidateYaml(content);
    if (!s.ok()) {
      Json d = s.details().is_object() ? s.details() : Json::object();
      d["field"] = "content";
      return Status::InvalidArgument("content: not valid YAML: " + s.message(), d);
    }
  }
  return Status::Ok();
}

std::string DayFolder(TimePoint tp) {
  const std::time_t t = std::chrono::system_clock::to_time_t(tp);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

std::string SafeFilePart(std::string s) {
  for (char& c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  }
  return s.substr(0, 100);
}

}  // namespace

// {filename}, or {stem}_{parent}{ext} when another managed file (of any tool) has the same
// file name (the three prompts.yaml: prompts_experiment.yaml, prompts_qlib.yaml, ...).
std::string ConfigService::BackupName(const ManagedRef& ref) const {
  const fs::path p(ref.file->path);
  const std::string name = p.filename().string();
  int same = 0;
  for (const ToolConfigDecl& t : tools_) {
    for (const ManagedFileDecl& f : t.files) {
      if (fs::path(f.path).filename() == name) ++same;
    }
  }
  if (same <= 1) return name;
  const std::string parent = p.parent_path().filename().string();
  const std::string suffix = parent.empty() ? ref.tool->name : parent;
  return p.stem().string() + "_" + suffix + p.extension().string();
}

Result<int64_t> ConfigService::Backup(const ManagedRef& ref, const std::string& content, const std::string& event,
                                      const std::string& operator_name, const std::string& task_id,
                                      const std::string& note) {
  const TimePoint now = clock_.Now();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::string base = std::to_string(ms) + "_" + (task_id.empty() ? "manual" : SafeFilePart(task_id)) + "_";
  const std::string name = BackupName(ref);
  std::string rel;
  // Never overwrite: a name taken (same millisecond) gets -1, -2, ... before the file name.
  for (int attempt = 0;; ++attempt) {
    rel = "history/" + DayFolder(now) + "/" + base + (attempt == 0 ? "" : std::to_string(attempt) + "-") + name;
    Status s = roots_.WriteNew("workspace", rel, content);
    if (s.ok()) break;
    if (s.code() != StatusCode::kAlreadyExists || attempt > 100) return s;
  }
  ConfigHistoryRecord r;
  r.tool = ref.tool->name;
  r.path = ref.file->path;
  r.history_path = rel;
  r.task_id = task_id;
  r.operator_name = operator_name.empty() ? "local" : operator_name;
  r.sha256 = Sha256Hex(content);
  r.note = note;
  r.event = event;
  r.created_at = now;
  return store_.Append(r);
}

Result<Json> ConfigService::ReplaceLocked(const ManagedRef& ref, const std::string& current, const std::string& next,
                                          const std::string& event, const std::string& operator_name,
                                          const std::string& task_id, const std::string& note) {
  const std::string current_sha = Sha256Hex(current);
  ASSIGN_OR_RETURN(std::optional<std::string> known, store_.KnownHash(ref.tool->name, ref.file->path));
  Json out{{"path", ref.Name()}, {"previous_sha256", current_sha}, {"drift_history_id", nullptr}};
  const bool drift = known && *known != current_sha;
  if (next == current) {
    // Nothing to change; a drifted version becomes the known one (it is what is on disk).
    if (drift) {
      ASSIGN_OR_RETURN(int64_t id, Backup(ref, current, "drift", operator_name, task_id,
                                          "changed outside alphalab (last known " + known->substr(0, 12) + ")"));
      out["drift_history_id"] = id;
    }
    RETURN_IF_ERROR(store_.SetKnownHash(ref.tool->name, ref.file->path, current_sha));
    out["sha256"] = current_sha;
    out["history_id"] = nullptr;
    out["changed"] = false;
    return out;
  }
  // The version being replaced is backed up first; when it was changed outside alphalab the row
  // says so (event drift), so the unknown version is kept too.
  std::string backup_note = note;
  if (drift) {
    backup_note = "changed outside alphalab (last known " + known->substr(0, 12) + ")" +
                  (note.empty() ? "" : "; " + note);
  }
  ASSIGN_OR_RETURN(int64_t id, Backup(ref, current, drift ? "drift" : event, operator_name, task_id, backup_note));
  if (drift) out["drift_history_id"] = id;
  RETURN_IF_ERROR(roots_.WriteAtomic(ref.tool->root, ref.file->path, next));
  const std::string next_sha = Sha256Hex(next);
  RETURN_IF_ERROR(store_.SetKnownHash(ref.tool->name, ref.file->path, next_sha));
  out["sha256"] = next_sha;
  out["history_id"] = id;
  out["changed"] = true;
  return out;
}

Result<Json> ConfigService::Write(const WriteRequest& req) {
  ASSIGN_OR_RETURN(ManagedRef ref, Find(req.path));
  if (ref.file->readonly) {
    return Status::PermissionDenied(ref.Name() + " is read-only (declared readonly: true): it is shown and backed up, "
                                    "never written");
  }
  if (req.content.size() > options_.max_file_bytes) {
    return Status::InvalidArgument("content is larger than " + std::to_string(options_.max_file_bytes) + " bytes",
                                   Json{{"field", "content"}});
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(std::string current, ReadRaw(ref));
  const std::string current_sha = Sha256Hex(current);
  if (req.base_sha256 != current_sha) {
    return Status::FailedPrecondition(
        ref.Name() + " changed since it was read: base_sha256 " + req.base_sha256.substr(0, 64) +
            " is not the current version " + current_sha + "; reload, re-apply the edit and send the current hash",
        Json{{"field", "base_sha256"}, {"current_sha256", current_sha}});
  }
  std::string next = req.content;
  if (ref.file->kind == "env" || ref.file->kind == "yaml") {
    auto unmasked = ref.file->kind == "env" ? UnmaskDotenv(next, current) : UnmaskYamlSecrets(next, current);
    if (!unmasked.ok()) {
      // .env grammar errors first (they name the line); a YAML text may hold a bare ********,
      // which is no YAML until unmasked.
      if (ref.file->kind == "env") RETURN_IF_ERROR(Validate(*ref.file, next));
      Json d = unmasked.status().details();
      d["field"] = "content";
      return Status::InvalidArgument("content: " + unmasked.status().message(), d);
    }
    next = std::move(*unmasked);
  }
  RETURN_IF_ERROR(Validate(*ref.file, next));
  return ReplaceLocked(ref, current, next, "write", req.operator_name, req.task_id, req.note);
}

Json ConfigService::EntryJson(const ConfigHistoryRecord& r) const {
  return Json{{"id", r.id},
              {"path", r.tool + ":" + r.path},
              {"history_path", r.history_path},
              {"task_id", r.task_id.empty() ? Json(nullptr) : Json(r.task_id)},
              {"operator", r.operator_name},
              {"sha256", r.sha256},
              {"note", r.note},
              {"event", r.event},
              {"created_at", FormatIso8601(r.created_at)}};
}

Result<Json> ConfigService::History(const std::string& path, int limit, int64_t offset) {
  ASSIGN_OR_RETURN(ManagedRef ref, Find(path));
  ASSIGN_OR_RETURN(auto rows, store_.List(ref.tool->name, ref.file->path, limit, offset));
  ASSIGN_OR_RETURN(auto counts, HistoryCounts(ref.tool->name));
  Json items = Json::array();
  for (const auto& r : rows) items.push_back(EntryJson(r));
  auto it = counts.find(ref.file->path);
  return Json{{"path", ref.Name()}, {"items", std::move(items)}, {"total", it == counts.end() ? 0 : it->second}};
}

Result<ConfigHistoryRecord> ConfigService::HistoryEntry(int64_t id) { return store_.Get(id); }

Result<std::string> ConfigService::ReadHistoryContent(const ConfigHistoryRecord& rec) const {
  return roots_.Read("workspace", rec.history_path, options_.max_file_bytes);
}

Result<Json> ConfigService::Diff(const std::string& path, const std::string& from, const std::string& to) {
  ASSIGN_OR_RETURN(ManagedRef ref, Find(path));
  auto version = [&](const std::string& which, const std::string& field) -> Result<std::string> {
    if (which == "current") return ReadRaw(ref);
    int64_t id = 0;
    try {
      size_t used = 0;
      id = std::stoll(which, &used);
      if (used != which.size() || id < 1) throw std::invalid_argument("id");
    } catch (const std::exception&) {
      return Status::InvalidArgument(field + " must be a history id or 'current', got '" + which.substr(0, 40) + "'",
                                     Json{{"field", field}});
    }
    auto rec = store_.Get(id);
    if (!rec.ok() || rec->tool != ref.tool->name || rec->path != ref.file->path) {
      return Status::NotFound(field + ": history entry " + which + " is not a version of " + ref.Name(),
                              Json{{"field", field}});
    }
    return ReadHistoryContent(*rec);
  };
  ASSIGN_OR_RETURN(std::string a, version(from, "from"));
  ASSIGN_OR_RETURN(std::string b, version(to, "to"));
  a = MaskSecrets(ref.file->kind, a);
  b = MaskSecrets(ref.file->kind, b);
  UnifiedDiffStats stats;
  const std::string diff = UnifiedDiff(a, b, "a/" + ref.file->path + " (" + from + ")",
                                       "b/" + ref.file->path + " (" + to + ")", 3, &stats);
  return Json{{"path", ref.Name()}, {"from", from}, {"to", to}, {"diff", diff},
              {"added", stats.added}, {"removed", stats.removed}};
}

Result<Json> ConfigService::Rollback(const std::string& path, int64_t history_id, const std::string& operator_name,
                                     const std::string& note) {
  ASSIGN_OR_RETURN(ManagedRef ref, Find(path));
  if (ref.file->readonly) return Status::PermissionDenied(ref.Name() + " is read-only: it cannot be rolled back");
  auto rec = store_.Get(history_id);
  if (!rec.ok() || rec->tool != ref.tool->name || rec->path != ref.file->path) {
    return Status::NotFound("history_id " + std::to_string(history_id) + " is not a version of " + ref.Name(),
                            Json{{"field", "history_id"}});
  }
  ASSIGN_OR_RETURN(std::string old, ReadHistoryContent(*rec));
  if (Sha256Hex(old) != rec->sha256) {
    return Status::FailedPrecondition("the backup of history entry " + std::to_string(history_id) +
                                      " does not match its recorded sha256 (changed on disk)",
                                      Json{{"field", "history_id"}});
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(std::string current, ReadRaw(ref));
  const std::string why = "rollback to #" + std::to_string(history_id) + (note.empty() ? "" : ": " + note);
  ASSIGN_OR_RETURN(Json out, ReplaceLocked(ref, current, old, "rollback", operator_name, "", why));
  out["rolled_back_to"] = history_id;
  return out;
}

Result<Json> ConfigService::Consistency(const ToolConfigDecl& tool) {
  std::vector<TemplateFacts> facts;
  for (const ManagedFileDecl& f : tool.files) {
    if (f.kind != "yaml" || f.readonly) continue;
    auto content = ReadRaw(ManagedRef{&tool, &f});
    if (!content.ok()) continue;
    auto fact = ReadTemplateFacts(*content, tool.name + ":" + f.path);
    if (!fact.ok()) {
      return Json{{"ok", false},
                  {"mismatches", Json::array()},
                  {"errors", Json::array({Json{{"file", tool.name + ":" + f.path}, {"error", fact.status().message()}}})}};
    }
    facts.push_back(std::move(*fact));
  }
  return ConsistencyReport(facts);
}

Result<Json> ConfigService::Check(const std::string& tool_name, const std::string& check,
                                  const std::optional<std::string>& provider_uri) {
  const ToolConfigDecl* tool = nullptr;
  for (const ToolConfigDecl& t : tools_) {
    if (t.name == tool_name) tool = &t;
  }
  if (!tool) return Status::NotFound("tool '" + tool_name.substr(0, 64) + "' is not declared under configs:", Json{{"field", "tool"}});
  if (check != "all" && check != "consistency" && check != "qlib" && check != "llm") {
    return Status::InvalidArgument("check must be all, consistency, qlib or llm; got '" + check.substr(0, 40) + "'",
                                   Json{{"field", "check"}});
  }
  Json checks = Json::object();
  bool ok = true;
  // Facts of the first template: the market and provider_uri the Qlib check looks at.
  std::string market, uri;
  for (const ManagedFileDecl& f : tool->files) {
    if (f.kind != "yaml" || f.readonly) continue;
    auto content = ReadRaw(ManagedRef{tool, &f});
    if (!content.ok()) continue;
    auto fact = ReadTemplateFacts(*content, f.path);
    if (fact.ok() && (!fact->provider_uri.empty() || !fact->market.empty())) {
      market = fact->market;
      uri = fact->provider_uri;
      break;
    }
  }
  if (check == "all" || check == "consistency") {
    ASSIGN_OR_RETURN(Json c, Consistency(*tool));
    ok = ok && c.value("ok", false);
    checks["consistency"] = std::move(c);
  }
  if (check == "all" || check == "qlib") {
    const std::string use = provider_uri.value_or(uri);
    Json q = use.empty() ? Json{{"ok", false}, {"provider_uri", nullptr},
                                {"missing", Json::array()}, {"error", "no provider_uri in the templates"}}
                         : QlibLayoutReport(roots_, use, market.empty() ? "all" : market);
    ok = ok && q.value("ok", false);
    checks["qlib"] = std::move(q);
  }
  if (check == "all" || check == "llm") {
    std::map<std::string, std::string> env;
    for (const ManagedFileDecl& f : tool->files) {
      if (f.kind != "env") continue;
      auto content = ReadRaw(ManagedRef{tool, &f});
      if (!content.ok()) continue;
      if (auto parsed = ParseDotenv(*content); parsed.ok()) {
        for (auto& [k, v] : DotenvMap(*parsed)) env[k] = v;
      }
    }
    auto pick = [&](std::initializer_list<const char*> keys) -> std::pair<std::string, std::string> {
      for (const char* k : keys) {
        auto it = env.find(k);
        if (it != env.end() && !it->second.empty()) return {k, it->second};
      }
      return {"", ""};
    };
    const auto [base_key, base_url] = pick({"OPENAI_API_BASE", "OPENAI_BASE_URL", "LLM_BASE_URL", "BASE_URL"});
    const auto [api_key_name, api_key] = pick({"OPENAI_API_KEY", "LLM_API_KEY", "API_KEY"});
    Json l;
    if (base_url.empty()) {
      l = Json{{"ok", false}, {"outcome", "bad_response"}, {"detail", "no OPENAI_API_BASE in the tool's .env"}};
    } else if (!probe_) {
      l = Json{{"ok", false}, {"outcome", "bad_response"}, {"detail", "no LLM probe in this server"}};
    } else {
      LlmProbeResult r = probe_->Probe(base_url, api_key, options_.llm_timeout);
      l = Json{{"ok", r.outcome == "reachable"}, {"outcome", r.outcome}, {"http_status", r.http_status},
               {"detail", r.detail}, {"base_url", base_url}, {"base_url_key", base_key},
               {"api_key", api_key.empty() ? Json(nullptr) : Json(std::string(kMask))},
               {"elapsed_ms", r.elapsed_ms}};
    }
    ok = ok && l.value("ok", false);
    checks["llm"] = std::move(l);
  }
  return Json{{"tool", tool->name}, {"check", check}, {"ok", ok}, {"checks", std::move(checks)}};
}

}  // namespace alphalab::configs

#include "configs/tool_job_preparer.hpp"

#include <sstream>

#include "config/workspace_config.hpp"
#include "core/dotenv.hpp"
#include "core/ids.hpp"
#include "core/workspace.hpp"

namespace alphalab::configs {

namespace fs = std::filesystem;

namespace {

size_t Indent(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

bool IsBlankOrComment(const std::string& line) {
  const size_t i = Indent(line);
  return i >= line.size() || line[i] == '#' || line[i] == '\r';
}

// The key of "   key: ..." (empty when the line is not a mapping entry).
std::string KeyOf(const std::string& line) {
  const size_t i = Indent(line);
  const size_t colon = line.find(':', i);
  if (colon == std::string::npos) return "";
  const std::string key = line.substr(i, colon - i);
  if (key.empty() || key.find_first_of(" \t-[{\"'") != std::string::npos) return "";
  return key;
}

Result<std::optional<int64_t>> SourceHistoryId(const Json& params) {
  if (!params.is_object() || !params.contains("source_history_id") || params["source_history_id"].is_null()) {
    return std::optional<int64_t>();
  }
  const Json& v = params["source_history_id"];
  if (v.is_number_integer() && v.get<int64_t>() > 0) return std::optional<int64_t>(v.get<int64_t>());
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.empty()) return std::optional<int64_t>();
    try {
      size_t used = 0;
      const int64_t id = std::stoll(s, &used);
      if (used == s.size() && id > 0) return std::optional<int64_t>(id);
    } catch (const std::exception&) {
    }
  }
  return Status::InvalidArgument("source_history_id must be a history id (a positive integer)",
                                 Json{{"field", "source_history_id"}});
}

}  // namespace

std::vector<std::string> SetModelKwargs(std::string& text, const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::string> lines;
  {
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
  }
  const bool trailing_newline = !text.empty() && text.back() == '\n';
  // Find task: (column 0) -> model: -> kwargs:, each a deeper mapping of the previous.
  const char* path[] = {"task", "model", "kwargs"};
  size_t level = 0, parent_indent = 0, begin = 0;
  bool in_block = false;
  std::vector<std::string> set;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (IsBlankOrComment(line)) continue;
    const size_t ind = Indent(line);
    if (level < 3) {
      if (level > 0 && ind <= parent_indent) {
        level = 0;  // left the enclosing block before finding the next key
        parent_indent = 0;
      }
      if (KeyOf(line) == path[level] && (level == 0 ? ind == 0 : ind > parent_indent)) {
        parent_indent = ind;
        ++level;
        if (level == 3) {
          in_block = true;
          begin = i;
        }
      }
      continue;
    }
    if (in_block) {
      if (ind <= parent_indent) break;  // end of kwargs
      const std::string key = KeyOf(line);
      for (const auto& [k, v] : values) {
        if (key == k) {
          lines[i] = std::string(ind, ' ') + k + ": " + v;
          set.push_back(k);
        }
      }
    }
  }
  (void)begin;
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    if (i + 1 < lines.size() || trailing_newline) out += '\n';
  }
  text = std::move(out);
  return set;
}

Status ToolJobPreparer::Check(const JobTypeDecl& type, const Json& params) const {
  ConfigService& svc = service_;
  const ToolConfigDecl* tool = nullptr;
  for (const ToolConfigDecl& t : svc.tools()) {
    if (t.name == type.tool) tool = &t;
  }
  if (!tool) return Status::InvalidArgument("job type " + type.key + ": tool '" + type.tool + "' is not declared under configs:");
  ASSIGN_OR_RETURN(std::optional<int64_t> source, SourceHistoryId(params));
  if (source) {
    auto rec = svc.HistoryEntry(*source);
    if (!rec.ok() || rec->tool != tool->name) {
      return Status::InvalidArgument("source_history_id " + std::to_string(*source) + " is not a history entry of " +
                                         tool->name + "'s files",
                                     Json{{"field", "source_history_id"}});
    }
  }
  ASSIGN_OR_RETURN(Json consistency, svc.Consistency(*tool));
  if (!consistency.value("ok", false)) {
    std::string what;
    for (const Json& m : consistency.value("mismatches", Json::array())) {
      if (!what.empty()) what += "; ";
      what += m.value("file", "") + " has " + m.value("key", "") + " " + m.value("value", "") + ", " +
              m.value("reference_file", "") + " has " + m.value("expected", "");
    }
    if (what.empty()) what = "a template could not be read";
    return Status::InvalidArgument("the " + tool->name + " templates disagree: " + what.substr(0, 1000),
                                   Json{{"field", "tool"}, {"consistency", consistency}});
  }
  return Status::Ok();
}

Status ToolJobPreparer::Prepare(const JobTypeDecl& type, PreparedJob& job) {
  RETURN_IF_ERROR(Check(type, job.params));
  ConfigService& svc = service_;
  const ToolConfigDecl* tool = nullptr;
  for (const ToolConfigDecl& t : svc.tools()) {
    if (t.name == type.tool) tool = &t;
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> source, SourceHistoryId(job.params));
  std::optional<ConfigHistoryRecord> source_rec;
  if (source) {
    ASSIGN_OR_RETURN(ConfigHistoryRecord rec, svc.HistoryEntry(*source));
    source_rec = std::move(rec);
  }
  std::vector<std::pair<std::string, std::string>> kwargs;
  for (const char* k : {"n_epochs", "batch_size", "n_jobs"}) {
    if (!job.params.is_object() || !job.params.contains(k) || job.params[k].is_null()) continue;
    const Json& v = job.params[k];
    if (!v.is_number_integer() || v.get<int64_t>() < 1) {
      return Status::InvalidArgument(std::string(k) + " must be a positive integer", Json{{"field", k}});
    }
    kwargs.emplace_back(k, std::to_string(v.get<int64_t>()));
  }
  for (const ManagedFileDecl& f : tool->files) {
    const ManagedRef ref{tool, &f};
    if (f.kind == "yaml" && f.readonly) continue;
    if (f.kind == "text") continue;
    std::string content;
    if (source_rec && source_rec->path == f.path) {
      ASSIGN_OR_RETURN(content, svc.ReadHistoryContent(*source_rec));
    } else {
      auto live = svc.ReadRaw(ref);
      if (!live.ok() && live.status().code() == StatusCode::kNotFound) continue;
      if (!live.ok()) return live.status().WithContext(ref.Name());
      content = std::move(*live);
    }
    job.config_hashes[ref.Name()] = Sha256Hex(content);
    if (f.kind == "env") {
      auto entries = ParseDotenv(content);
      if (!entries.ok()) return entries.status().WithContext(ref.Name());
      for (auto& [k, v] : DotenvMap(*entries)) job.env[k] = v;
      continue;
    }
    SetModelKwargs(content, kwargs);
    const fs::path dest = job.work_dir / f.path;
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return Status::Internal("cannot create " + fs::path(f.path).parent_path().string() + " in the work folder: " + ec.message());
    RETURN_IF_ERROR(WriteFileAtomic(dest, content));
  }
  return Status::Ok();
}

}  // namespace alphalab::configs

#include "datasets/dataset_service.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "config/workspace_config.hpp"
#include "core/ids.hpp"
#include "engine/data/dataset.hpp"
#include "engine/data/layout_check.hpp"
#include "jobs/job_service.hpp"

namespace alphalab::datasets {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDefaultFile = "default.txt";

Status Bad(const std::string& field, const std::string& message, Json extra = Json::object()) {
  extra["field"] = field;
  return Status::InvalidArgument(message, std::move(extra));
}

Result<std::string> OptString(const Json& body, const char* key, size_t max) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Bad(key, std::string(key) + " must be a string");
  std::string s = it->get<std::string>();
  if (s.size() > max) return Bad(key, std::string(key) + " is longer than " + std::to_string(max) + " bytes");
  if (s.find('\0') != std::string::npos) return Bad(key, std::string(key) + " must not contain NUL");
  return s;
}

Status CheckName(const std::string& name, const char* field = "name") {
  if (name.empty()) return Bad(field, std::string(field) + " is required");
  if (name.size() > 64 || !IsSafeIdentifier(name) || name == "default") {
    return Bad(field, std::string(field) + " must be 1 to 64 of [A-Za-z0-9_.-] (not 'default'), got '" +
                          name.substr(0, 80) + "'");
  }
  return Status::Ok();
}

std::string YamlQuoted(const std::string& s) {
  YAML::Emitter e;
  e << YAML::DoubleQuoted << s;
  return e.c_str();
}

// The layout check of a (resolved) dataset folder, restricted to `only` when not empty.
engine::LayoutReport CheckFolder(const fs::path& dir, const std::string& format, const std::vector<std::string>& only) {
  engine::LayoutOptions options;
  options.only = only;
  return engine::CheckLayout(dir, "", format, options);
}

const std::regex& SymbolRe() {
  static const std::regex re("^[A-Za-z0-9._^=-]{1,32}$");
  return re;
}

// The datasets a job's params name (dataset, dataset_ids, a dataset=... override, its config's
// `dataset:`).
std::set<std::string> DatasetsOfJob(const Workspace& ws, const Json& params) {
  std::set<std::string> out;
  if (!params.is_object()) return out;
  if (auto it = params.find("dataset"); it != params.end() && it->is_string()) out.insert(it->get<std::string>());
  if (auto it = params.find("dataset_ids"); it != params.end() && it->is_array()) {
    for (const Json& d : *it) {
      if (d.is_string()) out.insert(d.get<std::string>());
    }
  }
  if (auto it = params.find("overrides"); it != params.end() && it->is_array()) {
    for (const Json& o : *it) {
      if (o.is_string() && o.get_ref<const std::string&>().rfind("dataset=", 0) == 0) out.insert(o.get<std::string>().substr(8));
    }
  }
  if (auto it = params.find("config_path"); it != params.end() && it->is_string()) {
    auto path = ws.Resolve(it->get<std::string>(), PathMust::kExist);
    if (path.ok()) {
      try {
        const YAML::Node n = YAML::LoadFile(path->string());
        if (n.IsMap() && n["dataset"] && n["dataset"].IsScalar()) out.insert(n["dataset"].as<std::string>());
      } catch (const std::exception&) {
      }
    }
  }
  return out;
}

}  // namespace

DatasetService::DatasetService(const Workspace& ws, JobService* jobs) : ws_(ws), jobs_(jobs) {}

std::string DatasetService::DefaultName() const {
  std::ifstream in(ws_.root() / std::string(kApiDatasetsDir) / std::string(kDefaultFile));
  std::string name;
  std::getline(in, name);
  while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
  return name;
}

Result<Json> DatasetService::List() const {
  ASSIGN_OR_RETURN(const WorkspaceConfig cfg, LoadWorkspaceConfig(ws_));
  std::string def = DefaultName();
  if (def.empty() || !cfg.FindDataset(def)) {
    def.clear();
    for (const DatasetDecl& d : cfg.datasets) {
      if (d.is_default) {
        def = d.name;
        break;
      }
    }
  }
  Json items = Json::array();
  for (const DatasetDecl& d : cfg.datasets) {
    items.push_back(Json{{"name", d.name},
                         {"format", d.format.empty() ? Json(nullptr) : Json(d.format)},
                         {"path", d.path},
                         {"instruments_file", d.instruments_file.empty() ? Json(nullptr) : Json(d.instruments_file)},
                         {"description", d.description},
                         {"default", d.name == def},
                         {"readonly", d.source == "alphalab.yaml"},
                         {"source", d.source}});
  }
  return Json{{"items", std::move(items)}, {"default", def.empty() ? Json(nullptr) : Json(def)}};
}

Result<Json> DatasetService::DatasetJson(const std::string& name) const {
  ASSIGN_OR_RETURN(Json all, List());
  for (const Json& d : all["items"]) {
    if (d["name"] == name) return d;
  }
  return Status::NotFound("dataset '" + name + "' does not exist", Json{{"name", name}});
}

Status DatasetService::WriteAtomically(const fs::path& path, const std::string& content) const {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp" + std::to_string(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("cannot write " + ws_.Relative(path));
  const bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write " + ws_.Relative(path));
  }
  return Status::Ok();
}

Result<Json> DatasetService::Create(const Json& body) {
  RETURN_IF_ERROR(CheckKnownKeys(body, {"name", "format", "path", "provider_uri", "instruments_file", "description",
                                        "default"}));
  ASSIGN_OR_RETURN(const std::string name, OptString(body, "name", 64));
  RETURN_IF_ERROR(CheckName(name));
  ASSIGN_OR_RETURN(const std::string format, OptString(body, "format", 8));
  if (format != "csv" && format != "qlib") return Bad("format", "format must be csv or qlib");
  ASSIGN_OR_RETURN(std::string path, OptString(body, "path", 1024));
  ASSIGN_OR_RETURN(const std::string provider_uri, OptString(body, "provider_uri", 1024));
  const char* path_field = "path";
  if (path.empty()) {
    path = provider_uri;
    path_field = "provider_uri";
  }
  if (path.empty()) return Bad("path", "path (or provider_uri) is required");
  ASSIGN_OR_RETURN(const std::string instruments_file, OptString(body, "instruments_file", 1024));
  ASSIGN_OR_RETURN(const std::string description, OptString(body, "description", 500));
  bool make_default = false;
  if (auto it = body.find("default"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return Bad("default", "default must be true or false");
    make_default = it->get<bool>();
  }
  ASSIGN_OR_RETURN(const WorkspaceConfig cfg0, LoadWorkspaceConfig(ws_));
  auto dir = engine::ResolveDatasetDir(ws_, cfg0, path);
  if (!dir.ok() || !fs::is_directory(*dir)) {
    std::string roots;
    for (const RootDecl& r : cfg0.roots) roots += (roots.empty() ? "" : ", ") + r.name;
    return Bad(path_field, std::string(path_field) + " '" + path.substr(0, 200) +
                               "' is not a folder inside the workspace" +
                               (roots.empty() ? std::string() : " or a root declared under roots: (" + roots + ")"));
  }
  std::vector<std::string> only;
  if (!instruments_file.empty()) {
    auto file = ws_.Resolve(instruments_file, PathMust::kExist);
    if (!file.ok() || !fs::is_regular_file(*file)) {
      return Bad("instruments_file", "instruments_file '" + instruments_file.substr(0, 200) +
                                         "' is not a file inside the workspace");
    }
    ASSIGN_OR_RETURN(std::string text, ReadFile(*file));
    only = engine::ParseInstrumentsText(text);
    if (only.empty()) return Bad("instruments_file", "instruments_file lists no symbol");
  }
  const engine::LayoutReport report = CheckFolder(*dir, format, only);
  if (!report.ok) {
    return Bad(path_field, "the " + format + " layout of '" + path.substr(0, 200) + "' is incomplete: " +
                               report.problems.front(),
               Json{{"report", engine::LayoutReportJson(report)}});
  }
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(const WorkspaceConfig cfg, LoadWorkspaceConfig(ws_));
  if (cfg.FindDataset(name)) {
    return Status::AlreadyExists("dataset '" + name + "' already exists", Json{{"name", name}});
  }
  std::string yaml = "format: " + format + "\npath: " + YamlQuoted(engine::DatasetPathText(ws_, *dir)) + "\n";
  if (!instruments_file.empty()) yaml += "instruments_file: " + YamlQuoted(instruments_file) + "\n";
  if (!description.empty()) yaml += "description: " + YamlQuoted(description) + "\n";
  const fs::path dsdir = ws_.root() / std::string(kApiDatasetsDir);
  RETURN_IF_ERROR(WriteAtomically(dsdir / (name + ".yaml"), yaml));
  if (make_default) RETURN_IF_ERROR(WriteAtomically(dsdir / std::string(kDefaultFile), name + "\n"));
  ASSIGN_OR_RETURN(Json out, DatasetJson(name));
  out["validation"] = engine::LayoutReportJson(report);
  return out;
}

Result<Json> DatasetService::UploadInstruments(const Json& body) {
  RETURN_IF_ERROR(CheckKnownKeys(body, {"name", "dataset", "content", "description", "default"}));
  ASSIGN_OR_RETURN(const std::string name, OptString(body, "name", 64));
  RETURN_IF_ERROR(CheckName(name));
  ASSIGN_OR_RETURN(const std::string base, OptString(body, "dataset", 64));
  if (base.empty()) return Bad("dataset", "dataset (the one whose data the list restricts) is required");
  ASSIGN_OR_RETURN(const std::string content, OptString(body, "content", kMaxInstrumentsBytes));
  ASSIGN_OR_RETURN(const std::string description, OptString(body, "description", 500));
  bool make_default = false;
  if (auto it = body.find("default"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return Bad("default", "default must be true or false");
    make_default = it->get<bool>();
  }
  ASSIGN_OR_RETURN(const WorkspaceConfig cfg0, LoadWorkspaceConfig(ws_));
  const DatasetDecl* base_decl = cfg0.FindDataset(base);
  if (!base_decl) return Status::NotFound("dataset '" + base + "' does not exist", Json{{"field", "dataset"}});
  auto ref = engine::ResolveDataset(ws_, base);
  if (!ref.ok()) return Bad("dataset", ref.status().message());
  auto symbols = engine::ListSymbols(*ref);
  if (!symbols.ok()) return Bad("dataset", symbols.status().message());
  std::set<std::string> known;
  for (const std::string& s : *symbols) {
    std::string u = s;
    for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    known.insert(u);
  }
  Json problems = Json::array();
  std::vector<std::string> good;
  std::set<std::string> seen;
  size_t at = 0;
  int line_no = 0;
  while (at < content.size()) {
    size_t end = content.find('\n', at);
    if (end == std::string::npos) end = content.size();
    std::string line = content.substr(at, end - at);
    at = end + 1;
    ++line_no;
    const size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    line = line.substr(b);
    const std::string sym = line.substr(0, line.find_first_of(" \t\r"));
    std::string upper = sym;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!std::regex_match(sym, SymbolRe())) {
      problems.push_back(Json{{"line", line_no}, {"symbol", sym.substr(0, 64)}, {"problem", "not a valid symbol"}});
    } else if (!known.count(upper)) {
      problems.push_back(Json{{"line", line_no}, {"symbol", sym}, {"problem", "not in dataset '" + base + "'"}});
    } else if (!seen.insert(upper).second) {
      problems.push_back(Json{{"line", line_no}, {"symbol", sym}, {"problem", "listed twice"}});
    } else {
      good.push_back(upper);
    }
  }
  if (!problems.empty()) {
    const Json& first = problems.front();
    const std::string message = std::to_string(problems.size()) + " symbol(s) refused; first: line " +
                                std::to_string(first["line"].get<int>()) + " '" + first["symbol"].get<std::string>() +
                                "': " + first["problem"].get<std::string>();
    return Bad("content", message, Json{{"problems", std::move(problems)}});
  }
  if (good.empty()) return Bad("content", "content lists no symbol");
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(const WorkspaceConfig cfg, LoadWorkspaceConfig(ws_));
  if (cfg.FindDataset(name)) return Status::AlreadyExists("dataset '" + name + "' already exists", Json{{"name", name}});
  const fs::path dsdir = ws_.root() / std::string(kApiDatasetsDir);
  std::string list;
  for (const std::string& s : good) list += s + "\n";
  const std::string list_rel = std::string(kApiDatasetsDir) + "/" + name + ".instruments.txt";
  RETURN_IF_ERROR(WriteAtomically(ws_.root() / list_rel, list));
  std::string yaml = "format: " + ref->format + "\npath: " + YamlQuoted(engine::DatasetPathText(ws_, ref->path)) +
                     "\ninstruments_file: " + YamlQuoted(list_rel) + "\n";
  yaml += "description: " + YamlQuoted(description.empty() ? std::to_string(good.size()) + " instrument(s) of " + base
                                                          : description) + "\n";
  RETURN_IF_ERROR(WriteAtomically(dsdir / (name + ".yaml"), yaml));
  if (make_default) RETURN_IF_ERROR(WriteAtomically(dsdir / std::string(kDefaultFile), name + "\n"));
  ASSIGN_OR_RETURN(Json out, DatasetJson(name));
  out["instruments"] = good;
  out["validation"] = engine::LayoutReportJson(CheckFolder(ref->path, ref->format, good));
  return out;
}

Result<Json> DatasetService::SetDefault(const std::string& name) {
  RETURN_IF_ERROR(CheckName(name));
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(DatasetJson(name).status());
  RETURN_IF_ERROR(WriteAtomically(ws_.root() / std::string(kApiDatasetsDir) / std::string(kDefaultFile), name + "\n"));
  return DatasetJson(name);
}

Result<Json> DatasetService::Delete(const std::string& name) {
  RETURN_IF_ERROR(CheckName(name));
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Json d, DatasetJson(name));
  if (d["readonly"].get<bool>()) {
    return Status::FailedPrecondition("dataset '" + name + "' is declared in alphalab.yaml (read-only); edit that file",
                                      Json{{"name", name}});
  }
  if (jobs_) {
    Json users = Json::array();
    JobQuery q;
    q.statuses = {JobState::kQueued, JobState::kRunning};
    q.limit = 100000;
    ASSIGN_OR_RETURN(std::vector<JobRecord> rows, jobs_->List(q));
    for (const JobRecord& j : rows) {
      if (DatasetsOfJob(ws_, j.params).count(name)) users.push_back(j.job_id.str());
    }
    if (!users.empty()) {
      return Status::FailedPrecondition("dataset '" + name + "' is used by " + std::to_string(users.size()) +
                                            " queued or running job(s), first " + users.front().get<std::string>(),
                                        Json{{"name", name}, {"job_ids", users}});
    }
  }
  const fs::path dsdir = ws_.root() / std::string(kApiDatasetsDir);
  std::error_code ec;
  fs::remove(dsdir / (name + ".yaml"), ec);
  if (ec) return Status::Internal("cannot delete " + std::string(kApiDatasetsDir) + "/" + name + ".yaml");
  fs::remove(dsdir / (name + ".instruments.txt"), ec);
  if (DefaultName() == name) fs::remove(dsdir / std::string(kDefaultFile), ec);
  return Json{{"name", name}, {"deleted", true}};
}

Result<Json> DatasetService::Validate(const std::string& name) const {
  RETURN_IF_ERROR(CheckName(name));
  RETURN_IF_ERROR(DatasetJson(name).status());
  auto ref = engine::ResolveDataset(ws_, name);
  if (!ref.ok()) {
    engine::LayoutReport r;
    r.problems.push_back(ref.status().message());
    Json out = engine::LayoutReportJson(r);
    out["name"] = name;
    return out;
  }
  Json out = engine::LayoutReportJson(CheckFolder(ref->path, ref->format, ref->only));
  out["name"] = name;
  return out;
}

}  // namespace alphalab::datasets

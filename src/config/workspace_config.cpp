#include "config/workspace_config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <regex>

#include <yaml-cpp/yaml.h>

#include "core/ids.hpp"

namespace alphalab {

namespace {

int LineOf(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

std::string Shown(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar().substr(0, 80) + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

std::string Join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// Typed reads of YAML nodes; every failure names the file, the key path and the line.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  Status Error(const YAML::Node& at, std::string_view key, std::string_view message) const {
    return ConfigError(file_, LineOf(at), key, message);
  }

  // A mapping (null = empty) whose keys are all in `allowed`; calls `fn(key_node, value)` for each.
  Status Map(const YAML::Node& n, const std::string& key, std::initializer_list<std::string_view> allowed,
             const std::function<Status(const std::string& name, const YAML::Node& value)>& fn) const {
    if (n.IsNull()) return Status::Ok();
    if (!n.IsMap()) return Error(n, key, "must be a mapping, got " + Shown(n));
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) return Error(it->first, key, "keys must be plain names");
      const std::string name = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        return Error(it->first, Child(key, name), "unknown key (known: " + Join(allowed) + ")");
      }
      RETURN_IF_ERROR(fn(name, it->second));
    }
    return Status::Ok();
  }

  // A mapping of user-chosen names (datasets, job types, params ...): `fn(name, value, key_node)`.
  Status Entries(const YAML::Node& n, const std::string& key,
                 const std::function<Status(const std::string& name, const YAML::Node& value,
                                            const YAML::Node& key_node)>& fn) const {
    if (n.IsNull()) return Status::Ok();
    if (!n.IsMap()) return Error(n, key, "must be a mapping of name -> entry, got " + Shown(n));
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar() || it->first.Scalar().empty()) return Error(it->first, key, "names must be plain strings");
      RETURN_IF_ERROR(fn(it->first.Scalar(), it->second, it->first));
    }
    return Status::Ok();
  }

  Result<std::string> String(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return Error(n, key, "must be a string, got " + Shown(n));
    return n.Scalar();
  }
  Result<std::string> NonEmptyString(const YAML::Node& n, const std::string& key) const {
    ASSIGN_OR_RETURN(std::string s, String(n, key));
    if (s.empty()) return Error(n, key, "must not be empty");
    return s;
  }
  Result<int64_t> Int(const YAML::Node& n, const std::string& key, int64_t min, int64_t max) const {
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v)) return Error(n, key, "must be an integer, got " + Shown(n));
    if (v < min || v > max) {
      return Error(n, key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                               std::to_string(v));
    }
    return v;
  }
  Result<double> Number(const YAML::Node& n, const std::string& key) const {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
      return Error(n, key, "must be a number, got " + Shown(n));
    }
    return v;
  }
  Result<bool> Bool(const YAML::Node& n, const std::string& key) const {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return Error(n, key, "must be true or false, got " + Shown(n));
    return v;
  }
  Result<std::vector<std::string>> StringList(const YAML::Node& n, const std::string& key) const {
    if (n.IsNull()) return std::vector<std::string>{};
    if (!n.IsSequence()) return Error(n, key, "must be a list of strings, got " + Shown(n));
    std::vector<std::string> out;
    for (size_t i = 0; i < n.size(); ++i) {
      ASSIGN_OR_RETURN(std::string s, String(n[i], key + "[" + std::to_string(i) + "]"));
      out.push_back(std::move(s));
    }
    return out;
  }

  static std::string Child(const std::string& key, std::string_view name) {
    return key.empty() ? std::string(name) : key + "." + std::string(name);
  }

 private:
  std::string file_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Status ParseServer(const Reader& r, const YAML::Node& n, ServerSection& out) {
  return r.Map(n, "server", {"host", "port", "hosts", "origins"}, [&](const std::string& k, const YAML::Node& v) -> Status {
    if (k == "host") {
      ASSIGN_OR_RETURN(out.host, r.NonEmptyString(v, "server.host"));
    } else if (k == "hosts") {
      ASSIGN_OR_RETURN(std::vector<std::string> hosts, r.StringList(v, "server.hosts"));
      for (std::string& h : hosts) {
        if (h.empty() || h.find_first_of("/ \t@") != std::string::npos) {
          return r.Error(v, "server.hosts", "'" + h.substr(0, 80) + "' is not a host name (NAME or NAME:PORT)");
        }
        out.hosts.push_back(Lower(h));
      }
    } else if (k == "origins") {
      ASSIGN_OR_RETURN(std::vector<std::string> origins, r.StringList(v, "server.origins"));
      for (std::string& o : origins) {
        const std::string lo = Lower(o);
        const bool scheme = lo.rfind("http://", 0) == 0 || lo.rfind("https://", 0) == 0;
        const size_t rest = lo.find("://") + 3;
        if (!scheme || lo.size() == rest || lo.find('/', rest) != std::string::npos) {
          return r.Error(v, "server.origins",
                         "'" + o.substr(0, 80) + "' is not an origin (http[s]://NAME[:PORT], no path)");
        }
        out.origins.push_back(lo);
      }
    } else {
      ASSIGN_OR_RETURN(int64_t port, r.Int(v, "server.port", 0, 65535));
      out.port = static_cast<int>(port);
    }
    return Status::Ok();
  });
}

Status ParseAuth(const Reader& r, const YAML::Node& n, AuthSection& out) {
  return r.Map(n, "auth", {"mode", "session_hours"}, [&](const std::string& k, const YAML::Node& v) -> Status {
    if (k == "mode") {
      ASSIGN_OR_RETURN(std::string mode, r.String(v, "auth.mode"));
      if (mode == "none") {
        out.mode = AuthMode::kNone;
      } else if (mode == "token") {
        out.mode = AuthMode::kToken;
      } else {
        return r.Error(v, "auth.mode", "must be none or token, got '" + mode.substr(0, 40) + "'");
      }
    } else {
      ASSIGN_OR_RETURN(int64_t hours, r.Int(v, "auth.session_hours", 1, 720));
      out.session_hours = static_cast<int>(hours);
    }
    return Status::Ok();
  });
}

Status ParseStorage(const Reader& r, const YAML::Node& n, StorageSection& out) {
  YAML::Node renew_node;
  RETURN_IF_ERROR(r.Map(n, "storage", {"db", "lease_ttl_seconds", "lease_renew_seconds"},
                        [&](const std::string& k, const YAML::Node& v) -> Status {
    if (k == "lease_ttl_seconds" || k == "lease_renew_seconds") {
      ASSIGN_OR_RETURN(int64_t seconds, r.Int(v, "storage." + k, 1, 3600));
      (k == "lease_ttl_seconds" ? out.lease_ttl_seconds : out.lease_renew_seconds) = static_cast<int>(seconds);
      if (k == "lease_renew_seconds") renew_node = v;
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(std::string text, r.String(v, "storage.db"));
    auto url = DbUrl::Parse(text);
    if (!url.ok()) return r.Error(v, "storage.db", url.status().message());
    out.db = *std::move(url);
    return Status::Ok();
  }));
  if (out.lease_renew_seconds >= out.lease_ttl_seconds) {
    return r.Error(renew_node ? renew_node : n, "storage.lease_renew_seconds",
                   "must be less than lease_ttl_seconds (" + std::to_string(out.lease_ttl_seconds) +
                       "): a lease must be renewed before it expires");
  }
  return Status::Ok();
}

// Slurm's --time formats (sbatch(1)).
bool IsSlurmTime(const std::string& t) {
  static const std::regex kTime(R"(\d+|\d+:\d+|\d+:\d+:\d+|\d+-\d+|\d+-\d+:\d+|\d+-\d+:\d+:\d+|UNLIMITED|INFINITE)");
  return std::regex_match(t, kTime);
}

// sbatch options the Slurm executor sets itself (or that would change what a job is).
constexpr std::string_view kReservedSbatchOptions[] = {
    "--output", "--error", "--open-mode", "--chdir", "--job-name", "--parsable", "--wrap", "--array",
    "--export", "--partition", "--account", "--time", "-o", "-e", "-D", "-J", "-a", "-p", "-A", "-t"};

Status ParseExecutor(const Reader& r, const YAML::Node& n, ExecutorSection& out) {
  std::vector<YAML::Node> slurm_nodes;  // keys that need type: slurm
  std::vector<std::string> slurm_keys;
  std::optional<YAML::Node> local_node;  // a key that needs type: local
  RETURN_IF_ERROR(r.Map(n, "executor",
                        {"type", "slots", "partition", "account", "time_limit", "sbatch_args", "supervisor_priority"},
                        [&](const std::string& k, const YAML::Node& v) -> Status {
    const std::string key = "executor." + k;
    if (k == "type") {
      ASSIGN_OR_RETURN(std::string type, r.String(v, key));
      if (type == "local") {
        out.type = ExecutorType::kLocal;
      } else if (type == "slurm") {
        out.type = ExecutorType::kSlurm;
      } else {
        return r.Error(v, key, "unknown executor '" + type.substr(0, 80) + "' (local or slurm)");
      }
      return Status::Ok();
    }
    if (k == "slots") {
      ASSIGN_OR_RETURN(int64_t slots, r.Int(v, key, 0, 4096));
      out.slots = static_cast<int>(slots);
      return Status::Ok();
    }
    if (k == "supervisor_priority") {
      ASSIGN_OR_RETURN(std::string priority, r.String(v, key));
      if (priority != "realtime" && priority != "normal") {
        return r.Error(v, key, "unknown priority '" + priority.substr(0, 80) + "' (realtime or normal)");
      }
      out.realtime_supervisor = priority == "realtime";
      local_node = v;
      return Status::Ok();
    }
    slurm_nodes.push_back(v);
    slurm_keys.push_back(key);
    if (k == "sbatch_args") {
      ASSIGN_OR_RETURN(out.sbatch_args, r.StringList(v, key));
      for (const std::string& a : out.sbatch_args) {
        if (a.empty() || a[0] != '-') {
          return r.Error(v, key, "'" + a.substr(0, 80) + "' is not an sbatch option (each entry starts with '-')");
        }
        const std::string name = a.substr(0, a.find('='));
        for (std::string_view reserved : kReservedSbatchOptions) {
          if (name == reserved) {
            return r.Error(v, key, "'" + name + "' is set by the Slurm executor (use partition/account/time_limit)");
          }
        }
      }
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(std::string value, r.NonEmptyString(v, key));
    if (value.find_first_of(" \t\n\r'\"") != std::string::npos) {
      return r.Error(v, key, "must not contain spaces or quotes, got '" + value.substr(0, 80) + "'");
    }
    if (k == "time_limit") {
      if (!IsSlurmTime(value)) {
        return r.Error(v, key, "'" + value.substr(0, 40) +
                                   "' is not a Slurm time (MIN, MIN:SEC, H:M:S, D-H, D-H:M, D-H:M:S, UNLIMITED)");
      }
      out.time_limit = value;
    } else if (k == "partition") {
      out.partition = value;
    } else {
      out.account = value;
    }
    return Status::Ok();
  }));
  if (out.type != ExecutorType::kSlurm && !slurm_nodes.empty()) {
    return r.Error(slurm_nodes.front(), slurm_keys.front(), "is only for executor type slurm");
  }
  if (out.type != ExecutorType::kLocal && local_node) {
    return r.Error(*local_node, "executor.supervisor_priority", "is only for executor type local");
  }
  return Status::Ok();
}

Status ParseDatasetEntry(const Reader& r, const YAML::Node& v, const std::string& key, DatasetDecl& d) {
  if (!v.IsMap()) return r.Error(v, key, "must be a mapping {format, path}, got " + Shown(v));
  RETURN_IF_ERROR(r.Map(v, key, {"format", "path", "provider_uri", "instruments_file", "description", "default"},
                        [&](const std::string& k, const YAML::Node& f) -> Status {
    const std::string fkey = key + "." + k;
    if (k == "format") {
      ASSIGN_OR_RETURN(d.format, r.String(f, fkey));
      if (d.format != "csv" && d.format != "qlib") {
        return r.Error(f, fkey, "unknown format '" + d.format.substr(0, 80) + "' (csv or qlib)");
      }
    } else if (k == "instruments_file") {
      ASSIGN_OR_RETURN(d.instruments_file, r.NonEmptyString(f, fkey));
    } else if (k == "description") {
      ASSIGN_OR_RETURN(d.description, r.String(f, fkey));
    } else if (k == "default") {
      ASSIGN_OR_RETURN(d.is_default, r.Bool(f, fkey));
    } else {
      ASSIGN_OR_RETURN(std::string path, r.NonEmptyString(f, fkey));
      if (k == "path" || d.path.empty()) d.path = std::move(path);  // path wins over provider_uri
    }
    return Status::Ok();
  }));
  return Status::Ok();
}

Status ParseDatasets(const Reader& r, const YAML::Node& n, std::vector<DatasetDecl>& out) {
  return r.Entries(n, "datasets", [&](const std::string& name, const YAML::Node& v, const YAML::Node& at) -> Status {
    const std::string key = "datasets." + name;
    DatasetDecl d;
    d.name = name;
    d.line = LineOf(at);
    RETURN_IF_ERROR(ParseDatasetEntry(r, v, key, d));
    if (d.path.empty()) return r.Error(at, key, "needs 'path'");
    out.push_back(std::move(d));
    return Status::Ok();
  });
}

Status ParseRegistry(const Reader& r, const YAML::Node& n, RegistrySection& out) {
  return r.Map(n, "registry", {"index_on_start"}, [&](const std::string&, const YAML::Node& v) -> Status {
    ASSIGN_OR_RETURN(out.index_on_start, r.Bool(v, "registry.index_on_start"));
    return Status::Ok();
  });
}

Result<JobParamDecl> ParseJobParam(const Reader& r, const std::string& key, const std::string& name,
                                   const YAML::Node& v, const YAML::Node& at) {
  JobParamDecl p;
  p.name = name;
  p.line = LineOf(at);
  if (v.IsScalar()) {  // `seed: int`
    p.type = v.Scalar();
    return p;
  }
  if (!v.IsMap()) return r.Error(v, key, "must be a type name or a mapping, got " + Shown(v));
  RETURN_IF_ERROR(r.Map(v, key, {"type", "required", "description", "min", "max", "must_exist", "allow_leading_dash",
                                "choices", "default"},
                        [&](const std::string& k, const YAML::Node& f) -> Status {
    const std::string fkey = key + "." + k;
    if (k == "type") {
      ASSIGN_OR_RETURN(p.type, r.NonEmptyString(f, fkey));
    } else if (k == "required") {
      ASSIGN_OR_RETURN(p.required, r.Bool(f, fkey));
    } else if (k == "description") {
      ASSIGN_OR_RETURN(p.description, r.String(f, fkey));
    } else if (k == "min") {
      ASSIGN_OR_RETURN(p.min, r.Number(f, fkey));
    } else if (k == "max") {
      ASSIGN_OR_RETURN(p.max, r.Number(f, fkey));
    } else if (k == "must_exist") {
      ASSIGN_OR_RETURN(p.must_exist, r.Bool(f, fkey));
    } else if (k == "allow_leading_dash") {
      ASSIGN_OR_RETURN(p.allow_leading_dash, r.Bool(f, fkey));
    } else if (k == "choices") {
      ASSIGN_OR_RETURN(p.choices, r.StringList(f, fkey));
    } else if (!f.IsNull()) {  // default: a scalar (kept as text) or a list of strings
      if (f.IsSequence()) {
        ASSIGN_OR_RETURN(std::vector<std::string> items, r.StringList(f, fkey));
        p.default_value = Json(items);
      } else {
        ASSIGN_OR_RETURN(std::string text, r.String(f, fkey));
        p.default_value = text;
      }
    }
    return Status::Ok();
  }));
  return p;
}

Result<std::vector<JobArgvDecl>> ParseJobArgv(const Reader& r, const std::string& key, const YAML::Node& v) {
  if (!v.IsSequence() || v.size() == 0) return r.Error(v, key, "must be a non-empty list");
  std::vector<JobArgvDecl> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string ikey = key + "[" + std::to_string(i) + "]";
    JobArgvDecl a;
    a.line = LineOf(v[i]);
    if (v[i].IsSequence()) {
      a.group = true;
      ASSIGN_OR_RETURN(a.parts, r.StringList(v[i], ikey));
      if (a.parts.empty()) return r.Error(v[i], ikey, "an argv group must not be empty");
    } else {
      ASSIGN_OR_RETURN(std::string part, r.String(v[i], ikey));
      a.parts.push_back(std::move(part));
    }
    out.push_back(std::move(a));
  }
  return out;
}

Status ParseJobTypeFields(const Reader& r, const YAML::Node& v, JobTypeDecl& t) {
  const std::string& key = t.key;
  return r.Map(v, key, {"description", "argv", "params", "artifacts", "required_artifacts", "timeout_sec", "env",
                                "results", "tool", "cwd"},
               [&](const std::string& k, const YAML::Node& f) -> Status {
    const std::string fkey = key + "." + k;
    if (k == "description") {
      ASSIGN_OR_RETURN(t.description, r.String(f, fkey));
    } else if (k == "cwd") {
      t.cwd_line = LineOf(f);
      ASSIGN_OR_RETURN(t.cwd, r.NonEmptyString(f, fkey));
    } else if (k == "tool") {
      t.tool_line = LineOf(f);
      ASSIGN_OR_RETURN(t.tool, r.NonEmptyString(f, fkey));
    } else if (k == "argv") {
      t.argv_line = LineOf(f);
      ASSIGN_OR_RETURN(t.argv, ParseJobArgv(r, fkey, f));
    } else if (k == "params") {
      return r.Entries(f, fkey, [&](const std::string& name, const YAML::Node& pv, const YAML::Node& at) -> Status {
        ASSIGN_OR_RETURN(JobParamDecl p, ParseJobParam(r, fkey + "." + name, name, pv, at));
        t.params.push_back(std::move(p));
        return Status::Ok();
      });
    } else if (k == "artifacts") {
      return r.Entries(f, fkey, [&](const std::string& name, const YAML::Node& av, const YAML::Node& at) -> Status {
        ASSIGN_OR_RETURN(std::string pattern, r.NonEmptyString(av, fkey + "." + name));
        t.artifacts.push_back(JobArtifactDecl{name, std::move(pattern), LineOf(at)});
        return Status::Ok();
      });
    } else if (k == "required_artifacts") {
      t.required_artifacts_line = LineOf(f);
      ASSIGN_OR_RETURN(t.required_artifacts, r.StringList(f, fkey));
    } else if (k == "timeout_sec") {
      ASSIGN_OR_RETURN(t.timeout_sec, r.Int(f, fkey, 0, INT64_MAX / 1000));
    } else if (k == "results") {
      if (!f.IsMap()) return r.Error(f, fkey, "must be a mapping {parser, path}, got " + Shown(f));
      JobResultsDecl d;
      d.line = LineOf(f);
      RETURN_IF_ERROR(r.Map(f, fkey, {"parser", "path"}, [&](const std::string& rk, const YAML::Node& rv) -> Status {
        if (rk == "parser") {
          d.parser_line = LineOf(rv);
          ASSIGN_OR_RETURN(d.parser, r.NonEmptyString(rv, fkey + ".parser"));
        } else {
          d.path_line = LineOf(rv);
          ASSIGN_OR_RETURN(d.path, r.NonEmptyString(rv, fkey + ".path"));
        }
        return Status::Ok();
      }));
      if (d.parser.empty()) return r.Error(f, fkey + ".parser", "is required (alphalab_summary, lean_summary or qlib_res)");
      if (d.path.empty()) return r.Error(f, fkey + ".path", "is required (the result file, relative to the workspace)");
      t.results = std::move(d);
    } else {
      return r.Entries(f, fkey, [&](const std::string& name, const YAML::Node& ev, const YAML::Node& at) -> Status {
        ASSIGN_OR_RETURN(t.env[name], r.String(ev, fkey + "." + name));
        t.env_lines[name] = LineOf(at);
        return Status::Ok();
      });
    }
    return Status::Ok();
  });
}

Status ParseJobTypes(const Reader& r, const YAML::Node& n, std::vector<JobTypeDecl>& out) {
  return r.Entries(n, "job_types", [&](const std::string& name, const YAML::Node& v, const YAML::Node& at) -> Status {
    JobTypeDecl t;
    t.name = name;
    t.key = "job_types." + name;
    t.line = LineOf(at);
    if (!v.IsMap()) return r.Error(v, t.key, "must be a mapping, got " + Shown(v));
    RETURN_IF_ERROR(ParseJobTypeFields(r, v, t));
    if (t.argv.empty()) return r.Error(at, t.key + ".argv", "is required (a non-empty list)");
    out.push_back(std::move(t));
    return Status::Ok();
  });
}

bool IsPlainName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

// A relative, '/'-separated path with no empty, '.' or '..' part (checked again, with symlinks
// resolved, whenever the file is opened).
bool IsPlainRelativePath(std::string_view s) {
  if (s.empty() || s.front() == '/' || s.find('\0') != std::string_view::npos || s.find('\\') != std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = std::min(s.find('/', start), s.size());
    const std::string_view part = s.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Status ParseRoots(const Reader& r, const YAML::Node& n, std::vector<RootDecl>& out) {
  return r.Entries(n, "roots", [&](const std::string& name, const YAML::Node& v, const YAML::Node& at) -> Status {
    const std::string key = "roots." + name;
    if (!IsPlainName(name) || name == "workspace") {
      return r.Error(at, key, "a root name is letters, digits, '_' or '-' (and not 'workspace')");
    }
    ASSIGN_OR_RETURN(std::string path, r.NonEmptyString(v, key));
    if (path.find('\0') != std::string::npos) return r.Error(v, key, "must not contain NUL");
    out.push_back(RootDecl{name, std::move(path), LineOf(at)});
    return Status::Ok();
  });
}

Status ParseConfigs(const Reader& r, const YAML::Node& n, std::vector<ToolConfigDecl>& out) {
  return r.Entries(n, "configs", [&](const std::string& name, const YAML::Node& v, const YAML::Node& at) -> Status {
    const std::string key = "configs." + name;
    if (!IsPlainName(name)) return r.Error(at, key, "a tool name is letters, digits, '_' or '-'");
    if (!v.IsMap()) return r.Error(v, key, "must be a mapping {root, description, files}, got " + Shown(v));
    ToolConfigDecl t;
    t.name = name;
    t.line = LineOf(at);
    RETURN_IF_ERROR(r.Map(v, key, {"root", "description", "files"}, [&](const std::string& k, const YAML::Node& f) -> Status {
      const std::string fkey = key + "." + k;
      if (k == "root") {
        t.root_line = LineOf(f);
        ASSIGN_OR_RETURN(t.root, r.NonEmptyString(f, fkey));
      } else if (k == "description") {
        ASSIGN_OR_RETURN(t.description, r.String(f, fkey));
      } else {
        if (!f.IsSequence()) return r.Error(f, fkey, "must be a list of {path, kind, readonly}, got " + Shown(f));
        for (size_t i = 0; i < f.size(); ++i) {
          const YAML::Node& e = f[i];
          const std::string ekey = fkey + "[" + std::to_string(i) + "]";
          ManagedFileDecl m;
          m.line = LineOf(e);
          if (e.IsScalar()) {
            m.path = e.Scalar();
          } else {
            if (!e.IsMap()) return r.Error(e, ekey, "must be a path or a mapping {path, kind, readonly}, got " + Shown(e));
            RETURN_IF_ERROR(r.Map(e, ekey, {"path", "kind", "readonly"}, [&](const std::string& mk, const YAML::Node& mv) -> Status {
              if (mk == "path") {
                ASSIGN_OR_RETURN(m.path, r.NonEmptyString(mv, ekey + ".path"));
              } else if (mk == "kind") {
                ASSIGN_OR_RETURN(m.kind, r.String(mv, ekey + ".kind"));
                if (m.kind != "env" && m.kind != "yaml" && m.kind != "text") {
                  return r.Error(mv, ekey + ".kind", "unknown kind '" + m.kind.substr(0, 80) + "' (env, yaml or text)");
                }
              } else {
                ASSIGN_OR_RETURN(m.readonly, r.Bool(mv, ekey + ".readonly"));
              }
              return Status::Ok();
            }));
          }
          if (!IsPlainRelativePath(m.path)) {
            return r.Error(e, ekey + ".path", "must be a relative path inside the tool's root (no '..', no leading '/')");
          }
          for (const ManagedFileDecl& other : t.files) {
            if (other.path == m.path) return r.Error(e, ekey + ".path", "'" + m.path + "' is listed twice");
          }
          t.files.push_back(std::move(m));
        }
      }
      return Status::Ok();
    }));
    out.push_back(std::move(t));
    return Status::Ok();
  });
}

// Names that point at other sections: a tool's `root` is a declared root, a job type's `tool`
// is a declared tool.
Status CheckCrossReferences(const Reader& r, const WorkspaceConfig& cfg) {
  for (const ToolConfigDecl& t : cfg.configs) {
    if (!t.root.empty() && cfg.FindRoot(t.root) == nullptr) {
      return ConfigError(r.file(), t.root_line, "configs." + t.name + ".root",
                         "'" + t.root.substr(0, 80) + "' is not declared under roots:");
    }
  }
  for (const JobTypeDecl& j : cfg.job_types) {
    if (!j.tool.empty() && cfg.FindTool(j.tool) == nullptr) {
      return ConfigError(r.file(), j.tool_line, j.key + ".tool", "'" + j.tool.substr(0, 80) + "' is not declared under configs:");
    }
  }
  return Status::Ok();
}

}  // namespace

namespace {

// postgresql://[user[:password]@]host[:port]/dbname[?query]: a host, a numeric port when
// given, a database name, no blanks. Messages never show the password.
Status CheckPostgresUrl(std::string_view text) {
  const size_t scheme_end = text.find("://") + 3;
  std::string_view rest = text.substr(scheme_end);
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const size_t at = authority.rfind('@');
  const std::string shown = std::string(text.substr(0, scheme_end)) +
                            (at == std::string_view::npos ? std::string(authority) : "...@" + std::string(authority.substr(at + 1)));
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("database URL '" + shown.substr(0, 80) + "...': " + why +
                                   " (postgresql://[user[:password]@]host[:port]/dbname)");
  };
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ') return bad("contains a blank or control character");
  }
  const std::string_view hostport = at == std::string_view::npos ? authority : authority.substr(at + 1);
  std::string_view host = hostport, port;
  if (!hostport.empty() && hostport.front() == '[') {  // [IPv6]:port
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in the host");
    host = hostport.substr(0, close + 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return bad("unexpected text after the host");
      port = hostport.substr(close + 2);
    }
  } else if (const size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.empty()) return bad("needs a host");
  if (hostport.find(':') != std::string_view::npos || !port.empty()) {
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) {
      return bad("port must be a number between 1 and 65535");
    }
  }
  if (slash == std::string_view::npos) return bad("needs a database name");
  const std::string_view path = rest.substr(slash + 1);
  const std::string_view dbname = path.substr(0, path.find('?'));
  if (dbname.empty()) return bad("needs a database name");
  return Status::Ok();
}

}  // namespace

Result<DbUrl> DbUrl::Parse(std::string_view text) {
  constexpr std::string_view kSqlite = "sqlite:";
  DbUrl url;
  url.text = std::string(text);
  if (text.rfind(kSqlite, 0) == 0) {
    std::string path(text.substr(kSqlite.size()));
    if (path.rfind("///", 0) == 0) path.erase(0, 2);  // sqlite:///abs/path
    if (path.empty()) return Status::InvalidArgument("database URL 'sqlite:' needs a path (sqlite:PATH)");
    if (path.find('\0') != std::string::npos) return Status::InvalidArgument("database URL contains NUL");
    url.scheme = Scheme::kSqlite;
    url.path = std::move(path);
    return url;
  }
  if (text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0) {
    RETURN_IF_ERROR(CheckPostgresUrl(text));
    url.scheme = Scheme::kPostgres;
    return url;
  }
  const std::string shown(text.substr(0, 80));
  return Status::InvalidArgument("database URL '" + shown +
                                 "' is not a URL this build knows (use sqlite:PATH or postgresql://HOST/DB)");
}

std::filesystem::path DbUrl::SqliteFile(const Workspace& ws) const {
  const std::filesystem::path p(path);
  return p.is_relative() && path != ":memory:" ? ws.root() / p : p;
}

const DatasetDecl* WorkspaceConfig::FindDataset(std::string_view name) const {
  for (const DatasetDecl& d : datasets) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const RootDecl* WorkspaceConfig::FindRoot(std::string_view name) const {
  for (const RootDecl& d : roots) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const ToolConfigDecl* WorkspaceConfig::FindTool(std::string_view name) const {
  for (const ToolConfigDecl& d : configs) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Status ConfigError(std::string_view file, int line, std::string_view key, std::string_view message) {
  std::string where(file);
  if (line > 0) where += ":" + std::to_string(line);
  return Status::InvalidArgument(where + ": " + std::string(key) + ": " + std::string(message),
                                 Json{{"file", std::string(file)}, {"line", line}, {"key", std::string(key)}});
}

Result<WorkspaceConfig> ParseWorkspaceConfig(std::string_view yaml_text, std::string_view file) {
  WorkspaceConfig cfg;
  cfg.file = std::string(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(cfg.file + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg,
                                   Json{{"file", cfg.file}, {"line", e.mark.line + 1}});
  }
  if (root.IsNull()) return cfg;  // empty file: every default
  const Reader r(cfg.file);
  if (!root.IsMap()) return r.Error(root, "(top level)", "must be a mapping of sections, got " + Shown(root));
  try {
    RETURN_IF_ERROR(r.Map(root, "", {"server", "auth", "storage", "executor", "datasets", "job_types", "registry",
                                               "roots", "configs"},
                          [&](const std::string& section, const YAML::Node& v) -> Status {
      if (section == "server") return ParseServer(r, v, cfg.server);
      if (section == "auth") return ParseAuth(r, v, cfg.auth);
      if (section == "storage") return ParseStorage(r, v, cfg.storage);
      if (section == "executor") return ParseExecutor(r, v, cfg.executor);
      if (section == "datasets") return ParseDatasets(r, v, cfg.datasets);
      if (section == "job_types") return ParseJobTypes(r, v, cfg.job_types);
      if (section == "roots") return ParseRoots(r, v, cfg.roots);
      if (section == "configs") return ParseConfigs(r, v, cfg.configs);
      return ParseRegistry(r, v, cfg.registry);
    }));
    RETURN_IF_ERROR(CheckCrossReferences(r, cfg));
  } catch (const YAML::Exception& e) {  // not expected: every read above is checked first
    return Status::InvalidArgument(cfg.file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return cfg;
}

Result<DatasetDecl> ParseDatasetFile(std::string_view yaml_text, std::string_view name, std::string_view file) {
  DatasetDecl d;
  d.name = std::string(name);
  d.source = std::string(file);
  const Reader r{std::string(file)};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
    RETURN_IF_ERROR(ParseDatasetEntry(r, root, std::string(name), d));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string(file) + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg,
                                   Json{{"file", std::string(file)}, {"line", e.mark.line + 1}});
  }
  if (d.path.empty()) return r.Error(root, std::string(name), "needs 'path'");
  d.line = 1;
  return d;
}

Result<WorkspaceConfig> LoadWorkspaceConfig(const Workspace& ws) {
  std::error_code ec;
  WorkspaceConfig cfg;
  cfg.file = ws.ConfigFile().string();
  if (std::filesystem::exists(ws.ConfigFile(), ec)) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(ws.ConfigFile()));
    ASSIGN_OR_RETURN(cfg, ParseWorkspaceConfig(text, ws.ConfigFile().string()));
  }
  // Datasets created through the API (kApiDatasetsDir/<name>.yaml), in name order.
  const std::filesystem::path dir = ws.root() / std::string(kApiDatasetsDir);
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() == ".yaml" && it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const std::string name = f.stem().string();
    if (!IsSafeIdentifier(name) || cfg.FindDataset(name)) continue;  // alphalab.yaml wins
    ASSIGN_OR_RETURN(std::string text, ReadFile(f));
    const std::string rel = std::string(kApiDatasetsDir) + "/" + f.filename().string();
    ASSIGN_OR_RETURN(DatasetDecl d, ParseDatasetFile(text, name, rel));
    cfg.datasets.push_back(std::move(d));
  }
  return cfg;
}

}  // namespace alphalab

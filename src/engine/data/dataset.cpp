#include "engine/data/dataset.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "config/workspace_config.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/roots.hpp"
#include "engine/data/csv_reader.hpp"
#include "engine/data/qlib_reader.hpp"

namespace alphalab::engine {
namespace {

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string ListForMessage(const std::vector<std::string>& items, size_t max_items = 20) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max_items; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > max_items) out += ", ... (" + std::to_string(items.size()) + " in all)";
  if (items.empty()) out = "none";
  return out;
}

std::vector<std::string> CsvFiles(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".csv") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Runs fn(i) for i in [0, n) on up to hardware_concurrency threads.
template <typename Fn>
void ParallelFor(size_t n, Fn fn) {
  const size_t threads = std::min<size_t>(n / 4 + 1, std::max(1u, std::thread::hardware_concurrency()));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& th : pool) th.join();
}

}  // namespace

std::vector<std::string> ParseInstrumentsText(std::string_view text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    const size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string_view::npos || line[b] == '#') continue;
    line = line.substr(b);
    const size_t e = line.find_first_of(" \t\r");
    std::string sym = Upper(std::string(line.substr(0, e)));
    if (std::find(out.begin(), out.end(), sym) == out.end()) out.push_back(std::move(sym));
  }
  return out;
}

Result<DatasetRef> ResolveDataset(const Workspace& ws, std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("config key 'dataset' is empty");
  DatasetRef ref;
  ref.name = std::string(name);
  ASSIGN_OR_RETURN(const WorkspaceConfig config, LoadWorkspaceConfig(ws));
  std::vector<std::string> declared;
  for (const DatasetDecl& d : config.datasets) declared.push_back(d.name);
  std::string path_text;
  std::string instruments_file;
  if (const DatasetDecl* decl = config.FindDataset(name)) {
    path_text = decl->path;
    ref.format = decl->format;
    instruments_file = decl->instruments_file;
  }
  if (!instruments_file.empty()) {
    auto file = ws.Resolve(instruments_file, PathMust::kExist);
    if (!file.ok()) {
      return Status::NotFound("dataset '" + ref.name + "' instruments_file " + instruments_file +
                              " does not exist or is outside the workspace");
    }
    ASSIGN_OR_RETURN(std::string text, ReadFile(*file));
    ref.only = ParseInstrumentsText(text);
    if (ref.only.empty()) {
      return Status::InvalidArgument("dataset '" + ref.name + "' instruments_file " + instruments_file +
                                     " lists no symbol");
    }
  }
  if (path_text.empty()) {  // not declared: data/<name>/
    std::error_code ec;
    if (!std::filesystem::is_directory(ws.DataDir() / std::string(name), ec)) {
      std::vector<std::string> found = declared;
      for (const auto& e : std::filesystem::directory_iterator(ws.DataDir(), ec)) {
        if (e.is_directory() &&
            std::find(found.begin(), found.end(), e.path().filename().string()) == found.end()) {
          found.push_back(e.path().filename().string());
        }
      }
      std::sort(found.begin(), found.end());
      return Status::NotFound("unknown dataset '" + ref.name + "' (known: " + ListForMessage(found) + ")");
    }
    path_text = "data/" + std::string(name);
  }
  auto resolved = ResolveDatasetDir(ws, config, path_text);
  if (!resolved.ok()) {
    return Status::NotFound("dataset '" + ref.name + "' path " + path_text +
                            " does not exist or is outside the workspace and the declared roots (for "
                            "demo/synthetic: run scripts/prepare-data.sh)");
  }
  ref.path = *resolved;
  if (ref.format.empty()) {
    ref.format = std::filesystem::is_directory(ref.path / "calendars") ? "qlib" : "csv";
  }
  if (ref.format != "csv" && ref.format != "qlib") {
    return Status::InvalidArgument("dataset '" + ref.name + "' has unknown format '" + ref.format +
                                   "' (csv or qlib)");
  }
  return ref;
}

Result<std::filesystem::path> ResolveDatasetDir(const Workspace& ws, const WorkspaceConfig& config,
                                                std::string_view path_text) {
  namespace fs = std::filesystem;
  auto in_ws = ws.Resolve(path_text, PathMust::kExist);
  if (in_ws.ok() || !fs::path(std::string(path_text)).is_absolute() || config.roots.empty()) return in_ws;
  // Absolute and not in the workspace: inside a declared root? Same byte rules as the workspace.
  for (const char c : path_text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return in_ws;
  }
  std::vector<RootSpec> specs;
  std::string names;
  for (const RootDecl& r : config.roots) {
    specs.push_back(RootSpec{r.name, r.path, r.line});
    names += (names.empty() ? "" : ", ") + r.name;
  }
  ASSIGN_OR_RETURN(const ConfinedRoots roots, ConfinedRoots::Resolve(ws.root(), specs, config.file));
  const auto located = roots.Locate(fs::path(std::string(path_text)).lexically_normal());
  if (!located || located->root == "workspace") {
    return Status::InvalidArgument("path '" + std::string(path_text.substr(0, 200)) +
                                       "' is outside the workspace and every root declared under roots: (" + names + ")",
                                   Json{{"path", std::string(path_text.substr(0, 200))}});
  }
  ASSIGN_OR_RETURN(const fs::path base, roots.Find(located->root));
  const fs::path dir = (base / located->relative).lexically_normal();
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return Status::NotFound("path '" + std::string(path_text.substr(0, 200)) + "' does not exist",
                            Json{{"path", std::string(path_text.substr(0, 200))}});
  }
  return dir;
}

std::string DatasetPathText(const Workspace& ws, const std::filesystem::path& dir) {
  const std::string rel = dir.lexically_relative(ws.root()).generic_string();
  if (!rel.empty() && rel != ".." && rel.rfind("../", 0) != 0) return ws.Relative(dir);
  return dir.generic_string();
}

namespace {

// The instruments at ds.path, restricted to ds.only (matched case-insensitively; a symbol of
// `only` the data lacks is NotFound).
Result<std::vector<std::string>> Restrict(const DatasetRef& ds, std::vector<std::string> available) {
  if (ds.only.empty()) return available;
  std::vector<std::string> out;
  for (const std::string& sym : ds.only) {
    auto it = std::find_if(available.begin(), available.end(), [&](const std::string& a) { return Upper(a) == sym; });
    if (it == available.end()) {
      return Status::NotFound("dataset '" + ds.name + "' lists '" + sym + "' in its instruments_file, which its data lacks");
    }
    out.push_back(*it);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::vector<std::string>> ListSymbols(const DatasetRef& ds) {
  if (ds.format == "qlib") {
    ASSIGN_OR_RETURN(auto idx, OpenQlibIndex(ds.path));
    std::vector<std::string> out;
    for (const auto& [sym, file] : idx.instruments) out.push_back(sym);
    return Restrict(ds, std::move(out));
  }
  return Restrict(ds, CsvFiles(ds.path));
}

Result<Universe> LoadUniverse(const Workspace& ws, const DatasetRef& ds,
                              const std::vector<std::string>& symbols,
                              std::optional<int32_t> start, std::optional<int32_t> end) {
  if (start && end && *start > *end) {
    return Status::InvalidArgument("start " + FormatDate(*start) + " is after end " + FormatDate(*end));
  }
  std::optional<QlibIndex> qlib;
  std::vector<std::string> available;
  if (ds.format == "qlib") {
    ASSIGN_OR_RETURN(auto idx, OpenQlibIndex(ds.path));
    for (const auto& [sym, file] : idx.instruments) available.push_back(sym);
    qlib = std::move(idx);
  } else {
    available = CsvFiles(ds.path);
  }
  ASSIGN_OR_RETURN(available, Restrict(ds, std::move(available)));
  // Requested names resolve exactly first, then case-insensitively.
  std::vector<std::string> wanted;
  if (symbols.empty()) {
    wanted = available;
    if (wanted.empty()) {
      return Status::NotFound("dataset '" + ds.name + "' at " + DatasetPathText(ws, ds.path) +
                              " holds no instruments");
    }
  } else {
    for (const auto& sym : symbols) {
      std::string match;
      if (std::find(available.begin(), available.end(), sym) != available.end()) {
        match = sym;
      } else {
        for (const auto& a : available) {
          if (Upper(a) == Upper(sym)) match = a;
        }
      }
      if (match.empty()) {
        return Status::NotFound("unknown ticker '" + sym + "' in dataset '" + ds.name +
                                "' (available: " + ListForMessage(available) + ")");
      }
      if (std::find(wanted.begin(), wanted.end(), match) != wanted.end()) {
        return Status::InvalidArgument("ticker '" + sym + "' is listed twice");
      }
      wanted.push_back(match);
    }
  }
  Universe u;
  u.series.resize(wanted.size());
  std::vector<Status> errors(wanted.size());
  ParallelFor(wanted.size(), [&](size_t i) {
    Result<BarSeries> r = Status::Internal("not loaded");
    if (qlib) {
      r = LoadQlibInstrument(*qlib, wanted[i]);
    } else {
      const auto file = ds.path / (wanted[i] + ".csv");
      r = LoadBarsCsv(file, wanted[i], DatasetPathText(ws, file));
    }
    if (!r.ok()) {
      errors[i] = r.status();
      return;
    }
    u.series[i] = std::move(r).value();
    if (start || end) {
      u.series[i].Clip(start.value_or(INT32_MIN), end.value_or(INT32_MAX));
    }
  });
  for (const auto& e : errors) RETURN_IF_ERROR(e);
  for (const auto& s : u.series) {
    if (s.size() == 0) {
      return Status::InvalidArgument("ticker '" + s.symbol + "' has no bars between " +
                                     (start ? FormatDate(*start) : std::string("the start")) + " and " +
                                     (end ? FormatDate(*end) : std::string("the end")));
    }
  }
  u.BuildCalendar();
  return u;
}

Result<std::vector<std::string>> ValidateDataset(const Workspace& ws, const DatasetRef& ds) {
  std::vector<std::string> problems;
  if (ds.format == "qlib") {
    ASSIGN_OR_RETURN(auto idx, OpenQlibIndex(ds.path));
    for (const auto& [sym, file] : idx.instruments) {
      auto r = LoadQlibInstrument(idx, sym);
      if (!r.ok()) problems.push_back(r.status().message());
    }
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(ds.path / "features", ec)) {
      if (e.is_directory() && !idx.instruments.count(Upper(e.path().filename().string()))) {
        problems.push_back("features/" + e.path().filename().string() +
                           "/ has no entry in instruments/*.txt (instrument not in the index)");
      }
    }
    return problems;
  }
  const auto names = CsvFiles(ds.path);
  if (names.empty()) problems.push_back(ds.path.string() + ": no *.csv files");
  std::vector<std::string> errs(names.size());
  ParallelFor(names.size(), [&](size_t i) {
    const auto file = ds.path / (names[i] + ".csv");
    auto r = LoadBarsCsv(file, names[i], DatasetPathText(ws, file), false);
    if (!r.ok()) errs[i] = r.status().message();
  });
  for (auto& e : errs) {
    if (!e.empty()) problems.push_back(std::move(e));
  }
  return problems;
}

}  // namespace alphalab::engine

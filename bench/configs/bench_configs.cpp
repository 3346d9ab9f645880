// bench_configs: GET /api/configs's work (ConfigService::List: hashes, drift, history counts) on
// the example workspace's managed files with 10,000 history rows in a file-backed SQLite
// database, against the same service with its two caches off (every file read and hashed, the
// rows counted, on every call: the reference, measured in the same run), what each part costs,
// and the unified diff of two 1 MB templates. Figures through bench/common/bench_report.hpp
// (median, p95, best-of, the in-run reference and the ratio; one JSON line each).
//
//   build/bin/bench_configs [rows=10000] [iterations=200]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "../common/bench_report.hpp"
#include "config/workspace_config.hpp"
#include "core/ids.hpp"
#include "configs/config_service.hpp"
#include "configs/line_diff.hpp"
#include "core/yaml_secrets.hpp"
#include "store/sqlite/sqlite_config_history_store.hpp"

namespace fs = std::filesystem;
using namespace alphalab;

namespace {

// Milliseconds -> seconds (bench::Report takes seconds).
std::vector<double> Sec(std::vector<double> ms) {
  for (double& v : ms) v /= 1000.0;
  return ms;
}

void Report(const std::string& figure, const std::vector<double>& ms, const std::string& reference = "",
            const std::vector<double>& reference_ms = {}) {
  bench::Report("bench_configs", figure, Sec(ms), "ms", reference, Sec(reference_ms));
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 200;
  const fs::path tmp = fs::temp_directory_path() / ("bench_configs_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  fs::copy(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools", tmp / "tools", fs::copy_options::recursive);
  fs::create_directories(tmp / "configs");
  fs::copy(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/configs/experiment", tmp / "configs/experiment",
           fs::copy_options::recursive);
  const auto copied = std::chrono::steady_clock::now();
  auto cfg = ParseWorkspaceConfig(Slurp(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/alphalab.yaml"));
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", cfg.status().ToString().c_str());
    return 1;
  }
  auto db = SqliteDb::Open(tmp / "alphalab.db");
  auto store = SqliteConfigHistoryStore::Open(**db);
  const ToolConfigDecl& tool = cfg->configs.front();
  for (int i = 0; i < rows; ++i) {
    ConfigHistoryRecord r;
    r.tool = tool.name;
    r.path = tool.files[static_cast<size_t>(i) % tool.files.size()].path;
    r.history_path = "history/20261202/" + std::to_string(i) + "_manual_x";
    r.operator_name = "local";
    r.sha256 = std::string(64, 'a');
    r.event = "write";
    r.created_at = SystemClock::Instance().Now();
    (void)(*store)->Append(r);
  }
  std::vector<RootSpec> specs;
  for (const RootDecl& r : cfg->roots) specs.push_back(RootSpec{r.name, r.path, r.line});
  auto roots = ConfinedRoots::Resolve(tmp, specs);
  size_t files = 0;
  for (const ToolConfigDecl& t : cfg->configs) files += t.files.size();
  // A file's hash is reused only once its ctime is older than the racy margin (2 s).
  std::this_thread::sleep_until(copied + std::chrono::milliseconds(2100));
  configs::ConfigServiceOptions uncached;
  uncached.racy_margin = std::chrono::hours(24 * 365 * 100);  // never trusted: every file read and hashed
  uncached.counts_max_age = std::chrono::milliseconds(0);      // counted on every call
  configs::ConfigService reference(cfg->configs, *roots, **store, SystemClock::Instance(), nullptr, uncached);
  configs::ConfigService svc(cfg->configs, std::move(*roots), **store, SystemClock::Instance());
  auto time_list = [&](configs::ConfigService& s) -> std::vector<double> {
    std::vector<double> ms;
    for (int i = 0; i < iterations; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = s.List();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        std::exit(1);
      }
    }
    return ms;
  };
  if (reference.List()->dump() != svc.List()->dump()) {  // both answer the same
    std::fprintf(stderr, "the cached list differs from the reference\n");
    return 1;
  }
  // Interleaved rounds, so both see the same machine load.
  std::vector<double> list_ms, ref_ms;
  for (int round = 0; round < 4; ++round) {
    for (double v : time_list(reference)) ref_ms.push_back(v);
    for (double v : time_list(svc)) list_ms.push_back(v);
  }
  Report("config list (" + std::to_string(files) + " files, " + std::to_string(rows) + " history rows)", list_ms,
         "the same service with its caches off, interleaved", ref_ms);
  // Where the reference's time goes: the per-file counts (a GROUP BY over the tool's rows),
  // and reading + hashing every managed file.
  std::vector<double> count_ms, hash_ms;
  for (int i = 0; i < iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    for (const ToolConfigDecl& t : cfg->configs) (void)(*store)->CountByFile(t.name);
    count_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    t0 = std::chrono::steady_clock::now();
    for (const ToolConfigDecl& t : cfg->configs) {
      for (const ManagedFileDecl& f : t.files) {
        auto ref = svc.Find(t.name, f.path);
        if (auto body = svc.ReadRaw(*ref); body.ok()) (void)Sha256Hex(*body);
      }
    }
    hash_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  Report("  part of the reference: history counts", count_ms);
  Report("  part of the reference: read + sha256 of the " + std::to_string(files) + " files", hash_ms);

  // Two 1 MB templates: the real template repeated, every 50th line changed in the second.
  const std::string tpl = Slurp(tmp / "tools/rdagent/rdagent/scenarios/qlib/experiment/model_template/conf_sota_factors_model.yaml");
  std::string a;
  while (a.size() < (1u << 20)) a += tpl;
  std::string b;
  {
    std::istringstream in(a);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) b += (++n % 50 == 0 ? line + " # changed" : line) + "\n";
  }
  std::vector<double> diff_ms;
  configs::UnifiedDiffStats stats;
  for (int i = 0; i < 21; ++i) {
    stats = {};
    const auto t0 = std::chrono::steady_clock::now();
    const std::string d = configs::UnifiedDiff(a, b, "a", "b", 3, &stats);
    diff_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  char what[96];
  std::snprintf(what, sizeof what, "diff of two %.1f MB templates (%d lines changed)",
                static_cast<double>(a.size()) / (1 << 20), stats.added);
  Report(what, diff_ms);

  // The same two versions through GET /api/configs/diff's work: ConfigService::Diff reads the
  // backed-up version and the live file, masks the secrets of both (YAML), then diffs.
  const std::string managed = tool.name + ":rdagent/scenarios/qlib/experiment/model_template/conf_sota_factors_model.yaml";
  int64_t from_id = 0;
  for (const std::string* version : {&a, &b}) {
    auto read = svc.Read(managed);
    configs::WriteRequest w;
    w.path = managed;
    w.content = *version;
    w.base_sha256 = read.ok() ? (*read)["sha256"].get<std::string>() : "";
    auto wrote = svc.Write(w);
    if (!wrote.ok()) {
      std::fprintf(stderr, "%s\n", wrote.status().ToString().c_str());
      return 1;
    }
    if (version == &b) from_id = (*wrote)["history_id"].get<int64_t>();  // the backup of `a`
  }
  std::vector<double> svc_ms;
  for (int i = 0; i < 21; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto d = svc.Diff(managed, std::to_string(from_id), "current");
    svc_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!d.ok() || (*d)["added"].get<int>() != stats.added) {
      std::fprintf(stderr, "diff through the service: %s\n", d.ok() ? "wrong line count" : d.status().ToString().c_str());
      return 1;
    }
  }
  // Masking alone: the real template (no secret-looking key) and the same 1 MB with an
  // `api_key:` line every 20 lines (~1,600 values masked).
  std::string with_keys;
  {
    std::istringstream in(a);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      with_keys += line + "\n";
      if (++n % 20 == 0) with_keys += "api_key: sk-" + std::to_string(n) + "\n";
    }
  }
  for (const auto& [name, text] : {std::pair{"the real template", &a}, std::pair{"with api_key lines", &with_keys}}) {
    std::vector<double> mask_ms;
    size_t changed = 0;
    for (int i = 0; i < 41; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      changed = MaskYamlSecrets(*text) != *text;
      mask_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    Report(std::string("YAML secret masking of 1 MB, ") + name + " (changed: " + (changed ? "yes" : "no") + ")",
           mask_ms);
  }
  Report("config diff through the service (read both, mask YAML secrets, diff)", svc_ms,
         "the diff alone (configs::UnifiedDiff, above)", diff_ms);
  fs::remove_all(tmp);
  return 0;
}

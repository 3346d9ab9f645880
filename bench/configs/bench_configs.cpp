// bench_configs: GET /api/configs's work (ConfigService::List: hashes, drift, history counts) on
// the example RD-Agent files with 10,000 history rows in a file-backed SQLite database, and the
// unified diff of two 1 MB templates. Prints p50/p95 (list) and the median (diff).
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
#include <vector>

#include "config/workspace_config.hpp"
#include "configs/config_service.hpp"
#include "configs/line_diff.hpp"
#include "configs/yaml_secrets.hpp"
#include "store/sqlite/sqlite_config_history_store.hpp"

namespace fs = std::filesystem;
using namespace alphalab;

namespace {

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
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
  configs::ConfigService svc(cfg->configs, std::move(*roots), **store, SystemClock::Instance());
  std::vector<double> list_ms;
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = svc.List();
    list_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  std::printf("config list (%zu files, %d history rows): p50 %.2f ms, p95 %.2f ms over %d calls\n",
              tool.files.size(), rows, Pct(list_ms, 0.5), Pct(list_ms, 0.95), iterations);

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
  std::printf("diff of two %.1f MB templates (%d lines changed): median %.2f ms over 21 runs\n",
              static_cast<double>(a.size()) / (1 << 20), stats.added, Pct(diff_ms, 0.5));

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
      changed = configs::MaskYamlSecrets(*text) != *text;
      mask_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("YAML secret masking of 1 MB, %s: median %.2f ms over 41 runs (changed: %s)\n", name,
                Pct(mask_ms, 0.5), changed ? "yes" : "no");
  }
  std::printf("config diff through the service (read both, mask YAML secrets, diff): median %.2f ms, p95 %.2f ms "
              "over 21 runs\n", Pct(svc_ms, 0.5), Pct(svc_ms, 0.95));
  fs::remove_all(tmp);
  return 0;
}

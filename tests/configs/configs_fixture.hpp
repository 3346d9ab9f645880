// A workspace with a copy of the example RD-Agent stand-in (examples/workspace/tools/rdagent) and
// the example alphalab.yaml's roots: and configs:, a ConfigService over the fake history store.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "config/workspace_config.hpp"
#include "configs/config_service.hpp"
#include "core/clock.hpp"
#include "store/fake_config_history_store.hpp"
#include "store/temp_dir.hpp"

namespace alphalab::testing {

namespace fs = std::filesystem;

// Advances 1 ms per call so every backup gets its own timestamp unless a test wants collisions.
class SteppingClock final : public Clock {
 public:
  TimePoint Now() const override {
    now_ += std::chrono::milliseconds(step_ms_);
    return now_;
  }
  int step_ms_ = 1;
  mutable TimePoint now_ = TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(1796169600)));
};

inline std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void Spit(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

inline constexpr const char* kEnv = "rdagent:.env";
inline constexpr const char* kBaseline = "rdagent:rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml";
inline constexpr const char* kModelTpl =
    "rdagent:rdagent/scenarios/qlib/experiment/model_template/conf_baseline_factors_model.yaml";
inline constexpr const char* kPrompts = "rdagent:rdagent/scenarios/qlib/experiment/prompts.yaml";

class ConfigsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = tmp_.path();
    fs::copy(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/tools", ws_ / "tools", fs::copy_options::recursive);
    auto cfg = ParseWorkspaceConfig(Slurp(fs::path(ALPHALAB_SOURCE_DIR) / "examples/workspace/alphalab.yaml"));
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    config_ = std::move(*cfg);
    Rebuild();
  }
  void Rebuild(configs::LlmProbe* probe = nullptr, configs::ConfigServiceOptions options = {}) {
    std::vector<RootSpec> specs;
    for (const RootDecl& r : config_.roots) specs.push_back(RootSpec{r.name, r.path, r.line});
    auto roots = ConfinedRoots::Resolve(ws_, specs);
    ASSERT_TRUE(roots.ok()) << roots.status().ToString();
    svc_ = std::make_unique<configs::ConfigService>(config_.configs, std::move(*roots), store_, clock_, probe, options);
  }
  fs::path Disk(const std::string& managed) const {
    return ws_ / "tools/rdagent" / managed.substr(managed.find(':') + 1);
  }
  std::string Sha(const std::string& managed) {
    auto r = svc_->Read(managed);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["sha256"].get<std::string>() : "";
  }
  Result<Json> Write(const std::string& path, const std::string& content, std::string base = "") {
    configs::WriteRequest w;
    w.path = path;
    w.content = content;
    w.base_sha256 = base.empty() ? Sha(path) : base;
    return svc_->Write(w);
  }

  TempDir tmp_;
  fs::path ws_;
  WorkspaceConfig config_;
  SteppingClock clock_;
  FakeConfigHistoryStore store_;
  std::unique_ptr<configs::ConfigService> svc_;
};

}  // namespace alphalab::testing

// A throw-away workspace folder for data tests (removed on destruction).
#pragma once

#include <filesystem>
#include <random>
#include <string>

#include "core/workspace.hpp"

namespace alphalab::engine::testing {

class TempWorkspace {
 public:
  TempWorkspace() {
    std::random_device rd;
    root_ = std::filesystem::temp_directory_path() /
            ("alphalab_enginebt_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(root_);
    ws_ = std::make_unique<Workspace>(Workspace::Open(root_).value());
  }
  ~TempWorkspace() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  const Workspace& ws() const { return *ws_; }
  std::filesystem::path root() const { return ws_->root(); }
  void Write(const std::string& rel, const std::string& content) const {
    const auto p = ws_->root() / rel;
    std::filesystem::create_directories(p.parent_path());
    (void)WriteFileAtomic(p, content);
  }

 private:
  std::filesystem::path root_;
  std::unique_ptr<Workspace> ws_;
};

}  // namespace alphalab::engine::testing

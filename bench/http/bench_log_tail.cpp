// bench_log_tail: the log tail (offset=0, tail=20000) of a 1 GiB sparse log, read directly
// with ReadLogChunk and through GET /api/jobs/{id}/log on a running server (optional).
//
//   build/bin/bench_log_tail [--size-gb 1] [--iterations 2000]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "jobs/log_reader.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  double size_gb = 1;
  int iterations = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--size-gb") size_gb = std::atof(argv[i + 1]);
    if (a == "--iterations") iterations = std::atoi(argv[i + 1]);
  }
  const fs::path p = fs::temp_directory_path() / ("alphalab_bench_tail_" + std::to_string(::getpid()) + ".log");
  const int64_t size = static_cast<int64_t>(size_gb * (1LL << 30));
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ::ftruncate(fd, size - 30000) != 0) return 1;
  std::string tail;
  while (tail.size() < 30000) tail += "epoch 12 loss 0.1234 日本語\n";
  tail.resize(30000);
  if (::pwrite(fd, tail.data(), tail.size(), size - 30000) != 30000) return 1;
  ::close(fd);
  std::vector<double> us;
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto c = alphalab::ReadLogChunk(p, 0, 20000);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    if (!c.ok() || c->next_offset != size) return 2;
  }
  std::sort(us.begin(), us.end());
  std::printf("log tail of a %.1f GiB sparse file (offset=0, tail=20000): p50 %.1f us, p99 %.1f us, max %.1f us (%d reads)\n",
              size_gb, us[us.size() / 2], us[us.size() * 99 / 100], us.back(), iterations);
  fs::remove(p);
  return 0;
}

// Artifact listing of a job with many files (GET /api/jobs/{id}/artifacts is ListJobArtifacts
// plus JSON): builds reports/jobs/runtime/<job_id>/work/ with --files files in 100 folders, then
// times a first page (limit 1000), a middle page and the last page over --reps repetitions and
// prints median / p95 (bench/common/bench_report.hpp).
//
//   build/bin/bench_artifacts [--files 10000] [--reps 30] [--dir /tmp]
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "../common/bench_report.hpp"
#include "core/ids.hpp"
#include "core/workspace.hpp"
#include "jobs/job_artifacts.hpp"

namespace fs = std::filesystem;
using namespace alphalab;

int main(int argc, char** argv) {
  int files = 10000, reps = 30;
  fs::path dir = fs::temp_directory_path();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--files")) files = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  const fs::path root = dir / ("bench_artifacts_" + std::to_string(::getpid()));
  fs::create_directories(root / "reports" / "jobs" / "runtime");
  auto ws = Workspace::Open(root);
  if (!ws.ok()) {
    std::fprintf(stderr, "%s\n", ws.status().ToString().c_str());
    return 1;
  }
  JobRecord job;
  job.job_id = JobId("job_20260101_000000__bench000");
  job.log_path = "reports/jobs/runtime/" + job.job_id.str() + ".log";
  std::ofstream(root / job.log_path) << "log\n";
  const fs::path work = JobWorkDir(*ws, job.job_id);
  for (int i = 0; i < files; ++i) {
    const fs::path d = work / ("loop_" + std::to_string(i % 100));
    if (i < 100) fs::create_directories(d);
    std::ofstream(d / ("file_" + std::to_string(i) + ".csv")) << "IC,0.1\n";
  }
  std::printf("artifact listing: %d files in one job folder (%s)\n", files, root.c_str());
  struct Case {
    const char* name;
    int64_t offset;
  };
  for (const Case c : {Case{"first page (limit 1000)", 0}, Case{"middle page", files / 2},
                       Case{"last page", std::max(0, files - 1000)}}) {
    int64_t total = 0;
    auto samples = bench::Sample(reps, [&] {
      auto page = ListJobArtifacts(*ws, job, c.offset, 1000);
      total = page.ok() ? page->total : -1;
    });
    const bench::Stats s = bench::Summarize(samples);
    std::printf("  %-24s p50 %7.2f ms  p95 %7.2f ms  best %7.2f ms  (%zu reps, total %lld)\n", c.name,
                s.median * 1e3, s.p95 * 1e3, s.best * 1e3, s.reps, static_cast<long long>(total));
  }
  std::error_code ec;
  fs::remove_all(root, ec);
  return 0;
}

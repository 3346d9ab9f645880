// Artifact listing of a job with many files (GET /api/jobs/{id}/artifacts is
// ArtifactListCache::List plus JSON): builds reports/jobs/runtime/<job_id>/work/ with --files files
// in 100 folders, waits until its folders are older than the cache's racy margin (a finished
// job), then times a first page (limit 1000), a middle page and the last page over --reps
// repetitions through the cache, against the uncached walk (ListJobArtifacts) measured in the
// same run as the reference, and checks that a file added afterwards appears on the next call
// (bench/common/bench_report.hpp).
//
//   build/bin/bench_artifacts [--files 10000] [--reps 30] [--dir /tmp]
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

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
  std::this_thread::sleep_for(ArtifactListCache::kRacyMargin + std::chrono::milliseconds(100));
  ArtifactListCache cache;
  struct Case {
    const char* name;
    int64_t offset;
  };
  for (const Case c : {Case{"first page (limit 1000)", 0}, Case{"middle page", files / 2},
                       Case{"last page", std::max(0, files - 1000)}}) {
    int64_t total = 0;
    auto cached = bench::Sample(reps, [&] {
      auto page = cache.List(*ws, job, c.offset, 1000);
      total = page.ok() ? page->total : -1;
    });
    auto walked = bench::Sample(reps, [&] {
      auto page = ListJobArtifacts(*ws, job, c.offset, 1000);
      if (!page.ok() || page->total != total) total = -1;
    });
    bench::Report("artifacts", std::string(c.name) + ", cached (total " + std::to_string(total) + ")", cached, "ms",
                  "uncached walk", walked);
  }
  // A new file appears on the next call (its folder's mtime changed).
  std::ofstream(work / "loop_7" / "qlib_res.csv") << ",0\nIC,0.1\n";
  auto after = cache.List(*ws, job, 0, 1);
  const bool seen = after.ok() && after->total == files + 2;  // + job.log + the new file
  std::printf("new file listed on the next call: %s (total %lld, walks %lld)\n", seen ? "yes" : "NO",
              after.ok() ? static_cast<long long>(after->total) : -1LL, static_cast<long long>(cache.walks()));
  if (!seen) return 1;
  std::error_code ec;
  fs::remove_all(root, ec);
  return 0;
}

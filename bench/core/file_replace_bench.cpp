// Rewriting small files the way the jobs service rewrites meta files (QUEUED -> RUNNING ->
// terminal), and what that does to the creation of new files afterwards.
//
//   bench_file_replace [--files 3000] [--versions 3] [--dir /tmp] [--no-wait] [--rounds 1]
//
// Per method, in a fresh folder: `files` new files (the logs of the next jobs would be these)
// interleaved with `versions` rewrites of each earlier file, like a running server. Printed:
// µs per rewrite and µs per new-file creation. WriteFileAtomic renames a temporary file over
// the target, freeing its old inode; on ext4 without a journal every later inode allocation
// scans past the inodes freed in the last 60 s (more while their inode table block is dirty), so creations slow down as the run goes on.
// FileReplacer swaps the new content in with RENAME_EXCHANGE and keeps the old inode as a
// spare. Run the methods in either order and repeat: a method runs right after the previous
// one deleted its folder, which itself leaves freed inodes behind; the tool waits 65 s
// between methods unless --no-wait. --rounds R (with --no-wait) splits the files into R rounds
// in which the two methods take turns (A B, B A, A B, ...), each continuing in its own folder:
// on tmpfs, where no inode effect is to be seen, the two then share the same minutes of the
// machine and their ratio measures the methods, not what else ran meanwhile.
//
// Figures (bench/common/bench_report.hpp): median / p95 / best µs per rewrite and per new
// file, FileReplacer's with WriteFileAtomic's from the same run beside them as the reference.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../common/bench_report.hpp"
#include "core/file_replacer.hpp"
#include "core/workspace.hpp"

namespace fs = std::filesystem;
using namespace alphalab;
using Clock = std::chrono::steady_clock;

namespace {

struct Figures {
  std::vector<double> rewrite_s;  // seconds per rewrite, one sample each
  std::vector<double> create_s;   // seconds per new file
  double total_s = 0;
};

// Files [from, to) of a method's folder; appends to `out`.
template <typename Rewrite>
void Run(const fs::path& dir, int from, int to, int versions, Rewrite rewrite, Figures& out) {
  fs::create_directories(dir);
  const std::string meta(900, 'm');
  const auto t0 = Clock::now();
  for (int i = from; i < to; ++i) {
    // A new job: its log is a brand-new file.
    auto c0 = Clock::now();
    const fs::path log = dir / ("job_" + std::to_string(i) + ".log");
    FILE* f = std::fopen(log.c_str(), "w");
    if (f != nullptr) std::fclose(f);
    out.create_s.push_back(std::chrono::duration<double>(Clock::now() - c0).count());
    // Its meta file goes through `versions` versions.
    const fs::path target = dir / ("job_" + std::to_string(i) + ".json");
    for (int v = 0; v < versions; ++v) {
      auto r0 = Clock::now();
      Status s = rewrite(target, meta + std::to_string(v));
      out.rewrite_s.push_back(std::chrono::duration<double>(Clock::now() - r0).count());
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        std::exit(1);
      }
    }
  }
  out.total_s += std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int files = 3000, versions = 3, rounds = 1;
  fs::path base = "/tmp";
  bool wait = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--files" && i + 1 < argc) files = std::atoi(argv[++i]);
    else if (a == "--versions" && i + 1 < argc) versions = std::atoi(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) base = argv[++i];
    else if (a == "--no-wait") wait = false;
    else if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_file_replace [--files N] [--versions V] [--dir D] [--no-wait] [--rounds R]\n");
      return 2;
    }
  }
  const fs::path root = base / ("alphalab_bench_replace_" + std::to_string(::getpid()));
  std::printf("%d new files, each with %d meta versions, in %s\n", files, versions, root.c_str());
  if (wait && rounds > 1) {
    std::fprintf(stderr, "--rounds needs --no-wait (the 65 s wait is between whole methods)\n");
    return 2;
  }
  Figures atomic, replaced;
  const fs::path atomic_dir = root / "atomic", replacer_dir = root / "replacer";
  fs::create_directories(replacer_dir);
  FileReplacer replacer(replacer_dir / ".scratch");
  for (int round = 0; round < rounds; ++round) {
    const int from = files * round / rounds, to = files * (round + 1) / rounds;
    for (int turn = 0; turn < 2; ++turn) {
      const bool atomic_now = (turn == 0) == (round % 2 == 0);
      if (round == 0 && turn == 1 && wait) std::this_thread::sleep_for(std::chrono::seconds(65));
      if (atomic_now) {
        Run(atomic_dir, from, to, versions, [](const fs::path& p, std::string_view c) {
          return WriteFileAtomic(p, c, FileSync::kNoSync);
        }, atomic);
      } else {
        Run(replacer_dir, from, to, versions, [&](const fs::path& p, std::string_view c) {
          return replacer.Write(p, c);
        }, replaced);
      }
    }
  }
  std::printf("total: WriteFileAtomic %.2f s, FileReplacer %.2f s\n", atomic.total_s, replaced.total_s);
  bench::Report("bench_file_replace", "WriteFileAtomic (rename over): meta file rewrite", atomic.rewrite_s, "us");
  bench::Report("bench_file_replace", "WriteFileAtomic (rename over): new file after rewrites", atomic.create_s, "us");
  bench::Report("bench_file_replace", "FileReplacer (RENAME_EXCHANGE): meta file rewrite", replaced.rewrite_s, "us",
                "WriteFileAtomic rewrite, same run", atomic.rewrite_s);
  bench::Report("bench_file_replace", "FileReplacer (RENAME_EXCHANGE): new file after rewrites", replaced.create_s, "us",
                "WriteFileAtomic new file, same run", atomic.create_s);
  std::error_code ec;
  fs::remove_all(root, ec);
  return 0;
}

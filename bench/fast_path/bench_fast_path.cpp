// bench_fast_path: sma_cross tasks of an optimization through the fast path
// (optimize::BuiltinBacktestBatchRunner: engine grid execution, every task recorded as a job
// with its row, log, meta file and backtests/<id>/ folder) against `alphalab backtest`
// processes run one after another, on the demo data (S&P 500 daily, 2000-2020), in the same
// run. Prints figures; not a test.
//
//   bench_fast_path [--tasks 1000,10000] [--process 20] [--threads 0] [--dir DIR] [--registry] [--keep]
//
// --registry: the registry indexes each finished backtest (a finished-job listener, as the
// server's composition root attaches it), inside the timed part.
//
// The workspace is a fresh folder under DIR (default $TMPDIR or /tmp), removed at the end
// unless --keep. Mind ext4 without a journal: for minutes after many files were deleted
// nearby, creating files is slow (docs/benchmarks.md); every task creates 8 files.
//
// "to all recorded": from Run() being called until it returned, i.e. every task's job row,
// log, meta file and output folder written and on_done called for it.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "../common/bench_report.hpp"
#include "app/composition_root.hpp"
#include "core/clock.hpp"
#include "core/text.hpp"
#include "exec/local/local_executor.hpp"
#include "jobs/job_catalog.hpp"
#include "jobs/job_service.hpp"
#include "jobs/metrics.hpp"
#include "optimize/builtin_backtest_runner.hpp"
#include "registry/registry_service.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace alphalab;

namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

fs::path MakeWorkspace(const fs::path& dir) {
  const fs::path root = dir / ("alphalab_bench_fast_path_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "data" / "demo");
  fs::copy(fs::path(ALPHALAB_SOURCE_DIR) / "examples" / "workspace", root, fs::copy_options::recursive);
  fs::copy_file(fs::path(ALPHALAB_SOURCE_DIR) / "ui/node_modules/vega-datasets/data/sp500-2000.csv",
                root / "data" / "demo" / "SPX.csv");
  return root;
}

std::vector<optimize::BatchTask> Tasks(size_t n) {
  // fast x slow lattice: 1,000 = 100 x 10, 10,000 = 100 x 100.
  const size_t slows = n >= 10000 ? 100 : 10;
  std::vector<optimize::BatchTask> tasks;
  for (size_t i = 0; i < n; ++i) {
    const size_t fast = 2 + i / slows % 100, slow = 110 + i % slows * (n >= 10000 ? 1 : 10);
    Json params = {{"config_path", "configs/backtest/base.yaml"},
                   {"tickers", {"SPX"}},
                   {"overrides",
                    {"strategy.params.fast=" + std::to_string(fast), "strategy.params.slow=" + std::to_string(slow)}}};
    tasks.push_back(optimize::BatchTask{static_cast<int64_t>(i), std::move(params)});
  }
  return tasks;
}

// CPU seconds (user + system) of this process so far.
double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int RunProcess(const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> a = args;
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {1000, 10000};
  int process_n = 20, threads = 0;
  bool keep = false, with_registry = false;
  fs::path dir = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tasks" && i + 1 < argc) {
      sizes.clear();
      for (const auto& s : SplitCommaList(argv[++i])) sizes.push_back(std::stoul(s));
    } else if (a == "--process" && i + 1 < argc) {
      process_n = std::stoi(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::stoi(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--registry") {
      with_registry = true;
    } else if (a == "--keep") {
      keep = true;
    } else {
      std::fprintf(stderr, "usage: bench_fast_path [--tasks 1000,10000] [--process 20] [--threads N] [--dir DIR] [--registry] [--keep]\n");
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);  // the server's job events would dominate the terminal
  const fs::path root = MakeWorkspace(dir);
  auto ws = Workspace::Open(root).value();
  auto stores = app::Stores::Open(ws, DbUrl::Parse("sqlite:alphalab.db").value()).value();
  LocalExecutorOptions exec_options;
  auto executor = LocalExecutor::Create(exec_options).value();
  const fs::path alphalab = fs::path(ALPHALAB_BINARY_DIR) / "bin" / "alphalab";
  JobCatalog catalog(ws, alphalab);
  Metrics metrics;
  JobService jobs(stores->jobs(), *executor, catalog, ws, SystemClock::Instance(), &metrics);
  optimize::BuiltinBacktestBatchRunner runner(jobs, catalog, ws, SystemClock::Instance(), threads);
  RegistryService registry(ws, stores->registry(), &stores->jobs(), SystemClock::Instance());
  if (with_registry) {
    jobs.AddFinishedBatchListener([&registry](std::span<const JobRecord> done) { (void)registry.OnJobsFinished(done); });
  }

  std::printf("machine: %u hardware threads; workspace %s%s\n", std::thread::hardware_concurrency(), root.c_str(),
              with_registry ? "; the registry indexes every finished backtest" : "");
  // Process per task, one after another (the same tasks, first N).
  double process_per_task = 0;
  std::vector<double> process_runs;  // seconds of each process (the bench_report reference)
  if (process_n > 0) {
    const auto tasks = Tasks(static_cast<size_t>(process_n));
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& t : tasks) {
      const auto p0 = std::chrono::steady_clock::now();
      std::vector<std::string> args = {alphalab.string(), "backtest", "--config", "configs/backtest/base.yaml",
                                       "--tickers", "SPX"};
      for (const auto& kv : t.params["overrides"]) {
        args.push_back("--set");
        args.push_back(kv.get<std::string>());
      }
      if (RunProcess(args, root) != 0) {
        std::fprintf(stderr, "alphalab backtest failed\n");
        return 1;
      }
      process_runs.push_back(Since(p0));
    }
    const double secs = Since(t0);
    process_per_task = secs / process_n;
    std::printf("process per task: %d x `alphalab backtest` one after another: %.3f s, %.2f ms/task\n", process_n,
                secs, process_per_task * 1e3);
  }
  int n_opt = 0;
  for (size_t n : sizes) {
    const auto tasks = Tasks(n);
    size_t done = 0, ok = 0;
    const std::string opt_id = "opt_bench_" + std::to_string(++n_opt);
    const double cpu0 = CpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    Status s = runner.Run(opt_id, std::nullopt, "", tasks,
                          [&](optimize::BatchTaskResult&& r) {
                            ++done;
                            if (r.job.status == JobState::kSuccess && r.result.ok()) ++ok;
                          },
                          [] { return false; });
    const double secs = Since(t0);
    const double cpu = CpuSeconds() - cpu0;
    if (!s.ok() || done != n || ok != n) {
      std::fprintf(stderr, "fast path failed: %s (%zu done, %zu ok)\n", s.ToString().c_str(), done, ok);
      return 1;
    }
    JobQuery q;
    q.parent_id = opt_id;
    const int64_t rows = jobs.Count(q).value();
    std::printf("fast path: %zu sma_cross tasks to all recorded: %.3f s, %.3f ms/task (%lld job rows)", n, secs,
                secs / static_cast<double>(n) * 1e3, static_cast<long long>(rows));
    if (process_per_task > 0) std::printf(", %.1fx faster per task than a process", process_per_task * n / secs);
    std::printf("; CPU %.3f s (%.3f ms/task)\n", cpu, cpu / static_cast<double>(n) * 1e3);
    // The same figure through bench/common/bench_report.hpp (one run per size; bench-results.json).
    bench::Report("bench_fast_path", std::to_string(n) + " sma_cross tasks to all recorded, per task",
                  {secs / static_cast<double>(n)}, "ms", process_runs.empty() ? "" : "single `alphalab backtest` process",
                  process_runs);
  }
  jobs.Shutdown();
  executor->Shutdown();
  if (!keep) fs::remove_all(root);
  return 0;
}

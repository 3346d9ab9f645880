// bench_exec_slurm: the Slurm executor on the cluster SLURM_CONF names (make test's single-node
// cluster, scripts/services/slurm.sh) beside the local executor, in the same run:
//   - submission throughput: N jobs of /bin/true handed over by Submit (jobs/s), one thread;
//   - end to end: from the first Submit to the last on_exit of those N jobs;
//   - the same N through SubmitBatch (job arrays with --max-inflight, 0 = no bound);
//   - reference: one `sbatch --array=0-(N-1)` of the same script (what Slurm itself takes for
//     a job array of N tasks: submit time, and time until squeue shows none of it left).
// Medians of --reps runs.   bench_exec_slurm [--jobs 1000] [--reps 3] [--max-inflight 0]
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exec/local/local_executor.hpp"
#include "exec/slurm/slurm_command.hpp"
#include "exec/slurm/slurm_executor.hpp"

using namespace alphalab;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Figures {
  double submit_s = 0;  // all Submits
  double e2e_s = 0;     // first Submit to last exit
};

double Since(Steady::time_point t0) { return std::chrono::duration<double>(Steady::now() - t0).count(); }

// N jobs of /bin/true through `ex`: one Submit each, or (batch) one SubmitBatch of all of them
// with `max_inflight` (SlurmExecutor: job arrays).
Figures RunExecutor(Executor& ex, const fs::path& dir, int jobs, const std::string& tag, bool batch = false,
                    int max_inflight = 0) {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, failed = 0;
  auto on_exit = [&](const ProcessExit& x) {
    std::lock_guard lock(mu);
    ++done;
    if (!x.exit_code || *x.exit_code != 0) ++failed;
    cv.notify_all();
  };
  const auto t0 = Steady::now();
  std::vector<BatchItem> items;
  for (int i = 0; i < jobs; ++i) {
    ProcessSpec spec;
    spec.job_id = JobId(tag + "_" + std::to_string(i));
    spec.argv = {"/bin/true"};
    spec.cwd = dir;
    spec.log_path = dir / (spec.job_id.str() + ".log");
    items.push_back({std::move(spec), on_exit});
  }
  std::vector<Result<std::string>> refs;
  if (batch) {
    refs = ex.SubmitBatch(std::move(items), max_inflight, tag);
  } else {
    for (BatchItem& item : items) refs.push_back(ex.Submit(item.spec, std::move(item.on_exit)));
  }
  for (const auto& r : refs) {
    if (!r.ok()) {
      std::fprintf(stderr, "submit failed: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
  }
  Figures f;
  f.submit_s = Since(t0);
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done == jobs; });
  f.e2e_s = Since(t0);
  if (failed) std::fprintf(stderr, "%s: %d jobs did not exit 0\n", tag.c_str(), failed);
  return f;
}

Figures RunArray(const fs::path& dir, int jobs) {
  const fs::path script = dir / "array.sbatch";
  std::ofstream(script) << "#!/bin/sh\nexec '/bin/true'\n";
  const auto t0 = Steady::now();
  auto out = RunCommand({"sbatch", "--parsable", "--array=0-" + std::to_string(jobs - 1),
                         "--output=" + (dir / "array_%a.log").string(), "--chdir=" + dir.string(), script.string()},
                        std::chrono::seconds(60));
  Figures f;
  f.submit_s = Since(t0);
  if (!out.ok() || out->exit_code != 0) {
    std::fprintf(stderr, "sbatch --array failed: %s\n", out.ok() ? out->err.c_str() : out.status().ToString().c_str());
    std::exit(1);
  }
  std::string id = out->out.substr(0, out->out.find_first_of(";\n"));
  for (;;) {
    auto q = RunCommand({"squeue", "-h", "-j", id, "-t", "PENDING,RUNNING,COMPLETING,CONFIGURING"}, std::chrono::seconds(30));
    if (q.ok() && q->exit_code == 0 && q->out.find_first_not_of(" \n") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  f.e2e_s = Since(t0);
  return f;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 1000, reps = 3, max_inflight = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--jobs") jobs = std::atoi(argv[i + 1]);
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
    if (a == "--max-inflight") max_inflight = std::atoi(argv[i + 1]);
  }
  if (!std::getenv("SLURM_CONF")) {
    std::fprintf(stderr, "set SLURM_CONF (scripts/services/slurm.sh start DIR prints it)\n");
    return 2;
  }
  const fs::path dir = fs::temp_directory_path() / ("bench_slurm_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<double> ls, le, ss, se, bs, be, as, ae;
  for (int r = 0; r < reps; ++r) {
    {
      LocalExecutorOptions o;
      o.slots = 0;
      LocalExecutor local(o);
      Figures f = RunExecutor(local, dir, jobs, "local" + std::to_string(r));
      ls.push_back(f.submit_s);
      le.push_back(f.e2e_s);
      local.Shutdown();
    }
    {
      SlurmExecutorOptions o;
      o.poll_interval = std::chrono::milliseconds(1000);
      SlurmExecutor slurm(o);
      Figures f = RunExecutor(slurm, dir, jobs, "slurm" + std::to_string(r));
      ss.push_back(f.submit_s);
      se.push_back(f.e2e_s);
      slurm.Shutdown();
    }
    {
      SlurmExecutorOptions o;
      o.poll_interval = std::chrono::milliseconds(1000);
      SlurmExecutor slurm(o);
      Figures f = RunExecutor(slurm, dir, jobs, "slurmarray" + std::to_string(r), /*batch=*/true, max_inflight);
      bs.push_back(f.submit_s);
      be.push_back(f.e2e_s);
      slurm.Shutdown();
    }
    Figures a = RunArray(dir, jobs);
    as.push_back(a.submit_s);
    ae.push_back(a.e2e_s);
  }
  std::printf("%d jobs of /bin/true, median of %d runs\n", jobs, reps);
  std::printf("%-34s %12s %12s %12s\n", "", "submit s", "jobs/s", "end-to-end s");
  std::printf("%-34s %12.3f %12.0f %12.2f\n", "LocalExecutor", Median(ls), jobs / Median(ls), Median(le));
  std::printf("%-34s %12.3f %12.0f %12.2f\n", "SlurmExecutor (one sbatch per job)", Median(ss), jobs / Median(ss),
              Median(se));
  const std::string arrays = "SlurmExecutor arrays (SubmitBatch" + (max_inflight > 0 ? " %" + std::to_string(max_inflight) : std::string()) + ")";
  std::printf("%-34s %12.3f %12.0f %12.2f\n", arrays.c_str(), Median(bs), jobs / Median(bs), Median(be));
  std::printf("%-34s %12.3f %12.0f %12.2f\n", "reference: sbatch --array (1 call)", Median(as), jobs / Median(as),
              Median(ae));
  std::printf("ratios: slurm/local end-to-end %.1fx; arrays/local %.1fx; arrays/single-jobs end-to-end %.2fx, "
              "submit %.1fx faster; raw array/executor arrays %.2fx\n",
              Median(se) / Median(le), Median(be) / Median(le), Median(be) / Median(se), Median(ss) / Median(bs),
              Median(ae) / Median(be));
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}

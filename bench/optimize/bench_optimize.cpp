// bench_optimize: optimizations through the API of a real `alphalab serve` over a copy of the
// example workspace with the demo data (S&P 500 2000-2020, 5,105 bars). Prints figures;
// docs/benchmarks.md records them.
//
//   build/bin/bench_optimize [--grid 1000,10000] [--repeat 3] [--process-sample 20]
//                            [--queue-tasks 1000] [--queue-slots 2]
//                            [--status-tasks 100000] [--status-requests 2000] [--status-seconds 5]
//                            [--tasks-requests 40] [--tasks-finished 2000]
//                            [--only grid|queue|status|tasks] [--dir /tmp] [--keep] [--port 0]
//                            [--reuse-workspace] [--step 1000] [--warmup-tasks 0]
//
// grid:   an N-task sma_cross grid (N = A x B, A the largest divisor of N not above sqrt(N);
//         fast = 2..A+1, slow = A+2..A+B+1) POSTed to /api/v1/optimizations and followed
//         on GET .../status until it is terminal; the time is POST sent -> terminal status
//         seen (polled every 2 ms), median of --repeat runs; every task must be recorded
//         (summary.finished == N). Each run on a fresh workspace with its own server, deleted
//         after it (--reuse-workspace: all runs in one, as before session 13; --warmup-tasks N:
//         an N-task sweep on each fresh server before the timed one). STEPS lines:
//         wall and server CPU ms of every --step tasks finished, and last/second step ratios. Beside it, in the same run, --process-sample single
//         `alphalab backtest` processes one after another over a fresh workspace (one grid
//         combination each), in portions before, between and after the grid runs: their
//         median wall time, and the ratio per task. On a shared,
//         loaded machine wall times mostly measure the other load: each run also prints the
//         server's CPU time (user + system of all its threads, /proc/<pid>/stat) and each
//         process its own (wait4), and the CPU ratio per task is printed beside the wall one.
// queue:  an optimization of --queue-tasks backtest tasks (max_inflight 10000, so every
//         task is queued at once) on a server with --queue-slots slots; queue wait per task =
//         job started_at - created_at, and optimization created -> task started; average,
//         p50, p95, max. These are process tasks only on a server without the in-process
//         fast path (the printed `paths` line says which path ran).
// status: a --status-tasks grid is submitted; while it runs, sequential
//         GET /api/v1/optimizations/{id}/status on one keep-alive connection (at least
//         --status-requests of them and for at least --status-seconds); p50/p95/p99/max
//         of the round trip (only those answered while the status was queued or running
//         count); then the optimization is canceled.
// tasks:  a --status-tasks grid is submitted; once --tasks-finished of its tasks have
//         finished (it keeps running), pages of 25 of GET /api/v1/optimizations/{id}/tasks in
//         every order the detail page asks for (index, score both ways, the objective metric
//         final_equity, a status filter, a deep page), --tasks-requests of each, every one
//         followed by a GET .../status on the same keep-alive connection: the in-run reference.
//         Prints median/p95 per order and the ratio to the status read; then cancels.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/bench_report.hpp"
#include "core/clock.hpp"
#include "http/http_client.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace alphalab;
using SteadyClock = std::chrono::steady_clock;

namespace {

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}
double Mean(const std::vector<double>& v) {
  return v.empty() ? NAN : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// User + system CPU seconds of process `pid` so far (all its threads, ended ones included).
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return NAN;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {  // fields 14 and 15: utime, stime (ticks)
    if (i == 14) utime = std::atof(f.c_str());
    if (i == 15) stime = std::atof(f.c_str());
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(std::atoi(item.c_str()));
  }
  return out;
}

// N = A x B with A the largest divisor of N not above sqrt(N).
std::pair<int, int> GridShape(int n) {
  int a = 1;
  for (int d = 1; static_cast<int64_t>(d) * d <= n; ++d) {
    if (n % d == 0) a = d;
  }
  return {a, n / a};
}

Json GridRequest(const std::string& name, int n, const std::string& job_type, int max_inflight) {
  const auto [a, b] = GridShape(n);
  Json req{{"name", name},
           {"project", "bench"},
           {"job_type", job_type},
           {"base_params", {{"config_path", "configs/backtest/base.yaml"}}},
           {"param_space",
            {{"strategy.params.fast", {{"min", 2}, {"max", a + 1}, {"step", 1}}},
             {"strategy.params.slow", {{"min", a + 2}, {"max", a + b + 1}, {"step", 1}}}}},
           {"sampler", {{"type", "grid"}}},
           {"objective", {{"metric", "final_equity"}, {"direction", "max"}}},
           {"top_n", 10}};
  if (max_inflight > 0) req["max_inflight"] = max_inflight;
  return req;
}

struct Server {
  pid_t pid = 0;
  std::string url;
  ~Server() { Stop(); }
  void Stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    int st = 0;
    ::waitpid(pid, &st, 0);
    pid = 0;
  }
};

// `processes`: every optimization task is a process (--no-fast-path).
// --port: the port of the servers it starts (one at a time; 0 = any free one).
int g_port = 0;

bool StartServer(const fs::path& bin, const fs::path& ws, int slots, Server& s, bool processes = false) {
  int out[2];
  if (::pipe(out) != 0) return false;
  std::vector<std::string> args = {(bin / "alphalab").string(), "serve", "--workspace", ws.string(), "--port", std::to_string(g_port),
                                   "--slots", std::to_string(slots), "--no-access-log"};
  if (processes) args.push_back("--no-fast-path");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  const std::string log = (ws / "server.log").string();
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int rc = posix_spawn(&s.pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) return false;
  std::string line;
  char c;
  int port = 0;
  while (::read(out[0], &c, 1) == 1) {
    if (c != '\n') {
      line.push_back(c);
      continue;
    }
    const size_t at = line.find("http://127.0.0.1:");
    if (at != std::string::npos) {
      port = std::stoi(line.substr(at + 17));
      std::printf("%s\n", line.c_str());
      break;
    }
    line.clear();
  }
  ::close(out[0]);
  if (port == 0) return false;
  s.url = "http://127.0.0.1:" + std::to_string(port);
  return true;
}

// A copy of examples/workspace with the demo data.
fs::path MakeWorkspace(const fs::path& parent, const std::string& tag) {
  const fs::path src = ALPHALAB_SOURCE_DIR;
  const fs::path ws = parent / ("alphalab_bench_opt_" + tag + "_" + std::to_string(::getpid()));
  fs::create_directories(ws);
  fs::copy(src / "examples" / "workspace", ws, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  fs::create_directories(ws / "data" / "demo");
  fs::copy_file(src / "ui" / "node_modules" / "vega-datasets" / "data" / "sp500-2000.csv", ws / "data" / "demo" / "SPX.csv",
                fs::copy_options::overwrite_existing);
  return ws;
}

// POST the request; returns the optimization (or an empty object after printing the error).
Json Submit(http::HttpClient& client, const Json& req) {
  auto r = client.PostJson("/api/v1/optimizations", req);
  if (!r.ok() || r->status >= 300) {
    std::fprintf(stderr, "submit failed: %s\n", r.ok() ? r->body.substr(0, 500).c_str() : r.status().ToString().c_str());
    return Json::object();
  }
  return Json::parse(r->body);
}

Json Status(http::HttpClient& client, const std::string& id) {
  auto r = client.Get("/api/v1/optimizations/" + id + "/status");
  if (!r.ok() || r->status != 200) return Json::object();
  return Json::parse(r->body);
}

// Which path ran the tasks: the server's alphalab_optimization_tasks_total{event="submitted"}
// counters by path (runner = the in-process fast path, process = one process per task).
std::string TaskPaths(http::HttpClient& client) {
  auto r = client.Get("/metrics");
  if (!r.ok() || r->status != 200) return "?";
  std::string out;
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("alphalab_optimization_tasks_total{", 0) == 0 && line.find("submitted") != std::string::npos) {
      if (!out.empty()) out += "; ";
      out += line;
    }
  }
  return out.empty() ? "none" : out;
}

bool Terminal(const std::string& s) {
  return s == "succeeded" || s == "failed" || s == "early-stopped" || s == "canceled";
}

// Runs argv and waits; returns the wall time in ms (NAN on failure) and, in `cpu_ms`, the
// process's user + system CPU time.
double TimeProcess(std::vector<std::string> args, const fs::path& cwd, double* cpu_ms = nullptr) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  const auto t0 = SteadyClock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return NAN;
  int st = 0;
  struct rusage ru {};
  ::wait4(pid, &st, 0, &ru);
  const double ms = Ms(SteadyClock::now() - t0);
  if (cpu_ms) {
    *cpu_ms = (static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0);
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? ms : NAN;
}

// One grid run: POST, follow the status to a terminal one. `marks` gets, for every
// `step` tasks finished (1 x step, 2 x step, ...), the seconds since the POST and the server's
// CPU seconds used by then (first poll that saw at least that many finished).
struct GridRun {
  bool ok = false;
  double sec = NAN, cpu = NAN, post_ms = NAN;
  Json opt, status;
  std::vector<std::pair<double, double>> marks;  // (seconds, server CPU seconds) per step
  double all_finished_sec = NAN;                  // first poll that saw every task finished
};

GridRun RunGridOnce(http::HttpClient& client, pid_t server, int n, int step) {
  GridRun run;
  const Json req = GridRequest("grid " + std::to_string(n), n, "backtest", 0);
  const double cpu0 = CpuSeconds(server);
  const auto t0 = SteadyClock::now();
  run.opt = Submit(client, req);
  if (!run.opt.contains("id")) return run;
  run.post_ms = Ms(SteadyClock::now() - t0);
  const std::string id = run.opt["id"].get<std::string>();
  for (;;) {
    run.status = Status(client, id);
    const int finished = run.status.contains("summary") ? run.status["summary"].value("finished", 0) : 0;
    while (step > 0 && finished >= static_cast<int>(run.marks.size() + 1) * step) {
      run.marks.emplace_back(Ms(SteadyClock::now() - t0) / 1000.0, CpuSeconds(server) - cpu0);
    }
    if (finished >= n && std::isnan(run.all_finished_sec)) run.all_finished_sec = Ms(SteadyClock::now() - t0) / 1000.0;
    if (Terminal(run.status.value("status", ""))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  run.sec = Ms(SteadyClock::now() - t0) / 1000.0;
  run.cpu = CpuSeconds(server) - cpu0;
  const Json& sm = run.status["summary"];
  run.ok = run.status.value("status", "") == "succeeded" && sm.value("finished", -1) == n;
  return run;
}

// Wall and server CPU ms of each `step` tasks of a run: the first and the last step, and their
// ratio (does a task cost more the more tasks the run has already recorded?).
void PrintSteps(int n, int run, int step, const std::vector<std::pair<double, double>>& marks) {
  if (marks.size() < 2) return;
  std::string walls, cpus;
  std::vector<double> wall_ms, cpu_ms;
  double prev_s = 0, prev_c = 0;
  for (const auto& [s, c] : marks) {
    wall_ms.push_back((s - prev_s) * 1000.0);
    cpu_ms.push_back((c - prev_c) * 1000.0);
    prev_s = s;
    prev_c = c;
  }
  for (size_t i = 0; i < wall_ms.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%.0f", i ? " " : "", wall_ms[i]);
    walls += buf;
    std::snprintf(buf, sizeof buf, "%s%.0f", i ? " " : "", cpu_ms[i]);
    cpus += buf;
  }
  // The first step carries the POST (enumerating and storing every task) and the data load.
  const size_t second = 1, last = wall_ms.size() - 1;
  std::printf("STEPS grid %d run %d, ms per %d tasks finished, wall: %s; server CPU: %s; "
              "last/second step: wall %.2f, CPU %.2f\n",
              n, run, step, walls.c_str(), cpus.c_str(), wall_ms[last] / wall_ms[second], cpu_ms[last] / cpu_ms[second]);
}

// Each run of each size on a fresh copy of the example workspace with its own server, deleted
// after the run (--keep keeps them): a run measures what a user sees on a normal workspace,
// not the folders of the bench's earlier runs (30,000 task folders, ~11 GB, after three 10,000-
// task runs). --reuse-workspace runs them all in one workspace and one server, one after
// another, as the bench did before session 13.
int BenchGrid(const fs::path& bin, const fs::path& parent, const std::vector<int>& sizes, int repeat, int sample,
              bool keep, bool reuse, int step, int warmup) {
  int rc = 0;
  std::vector<std::pair<int, double>> per_task_ms, per_task_cpu_ms;
  // Each run's seconds and server CPU seconds per task, by grid size (the bench_report figures).
  std::vector<std::pair<int, std::vector<double>>> per_task_runs, per_task_cpu_runs;
  fs::path shared_ws;
  Server shared_server;
  std::unique_ptr<http::HttpClient> shared_client;
  if (reuse) {
    shared_ws = MakeWorkspace(parent, "grid");
    if (!StartServer(bin, shared_ws, 0, shared_server)) return 1;
    shared_client = std::move(http::HttpClient::Create(shared_server.url, std::chrono::seconds(120)).value());
  }
  // Single `alphalab backtest` processes over a workspace (the grid's with --reuse-workspace,
  // else one of their own), one after another, in portions between the grid runs: the
  // reference then shares the minutes of the machine with the figures it is compared with.
  const fs::path proc_ws = reuse ? shared_ws : MakeWorkspace(parent, "process");
  std::vector<double> proc, proc_cpu;
  const auto [a, b] = GridShape(sizes.empty() ? 1000 : sizes.front());
  int portions = 1;
  for (int n : sizes) portions += repeat * (n > 0 ? 1 : 0);
  int done_portions = 0;
  auto run_processes = [&] {
    ++done_portions;
    const int until = sample * done_portions / portions;
    for (int i = static_cast<int>(proc.size()); i < until; ++i) {
      const int fast = 2 + (i * 7) % a, slow = a + 2 + (i * 13) % b;
      double cpu_ms = NAN;
      proc.push_back(TimeProcess({(bin / "alphalab").string(), "backtest", "--config", "configs/backtest/base.yaml",
                                  "--set", "strategy.params.fast=" + std::to_string(fast), "--set",
                                  "strategy.params.slow=" + std::to_string(slow)},
                                 proc_ws, &cpu_ms));
      proc_cpu.push_back(cpu_ms);
    }
  };
  for (int n : sizes) {
    std::vector<double> secs, cpus;
    std::string fast_path = "?";
    for (int r = 0; r < repeat; ++r) {
      run_processes();
      fs::path ws = shared_ws;
      Server own;
      std::unique_ptr<http::HttpClient> own_client;
      if (!reuse) {
        ws = MakeWorkspace(parent, "grid" + std::to_string(n) + "_" + std::to_string(r + 1));
        if (!StartServer(bin, ws, 0, own)) return 1;
        own_client = std::move(http::HttpClient::Create(own.url, std::chrono::seconds(120)).value());
      }
      http::HttpClient& client = reuse ? *shared_client : *own_client;
      if (warmup > 0 && !reuse) {
        // --warmup-tasks: a small sweep first on the fresh server (data loaded, caches warm,
        // the runner's throughput known), as on a server that has run a sweep before.
        const GridRun w = RunGridOnce(client, own.pid, warmup, 0);
        if (!w.ok) return 1;
        std::printf("warm-up: %d tasks, %.3f s\n", warmup, w.sec);
      }
      const GridRun run = RunGridOnce(client, reuse ? shared_server.pid : own.pid, n, step);
      if (!run.opt.contains("id")) return 1;
      if (!run.ok) rc = 2;
      const Json& sm = run.status["summary"];
      if (run.opt.contains("fast_path")) fast_path = run.opt["fast_path"].dump();
      secs.push_back(run.sec);
      cpus.push_back(run.cpu);
      std::printf("grid %d tasks, run %d: %.3f s to %s (POST %.1f ms), %.4f ms/task, server CPU %.3f s; finished %d, "
                  "failed %d; best %s; estimate %s\n",
                  n, r + 1, run.sec, run.status.value("status", "?").c_str(), run.post_ms, run.sec * 1000.0 / n, run.cpu,
                  sm.value("finished", -1), sm.value("failed", -1),
                  sm.contains("best_score") ? sm["best_score"].dump().c_str() : "-",
                  run.opt.contains("estimate") ? run.opt["estimate"].dump().c_str() : "-");
      PrintSteps(n, r + 1, step, run.marks);
      std::printf("TAIL grid %d run %d: every task finished at %.3f s, terminal status %.1f ms later\n", n, r + 1,
                  run.all_finished_sec, (run.sec - run.all_finished_sec) * 1000.0);
      if (!reuse) {
        std::printf("paths: %s\n", TaskPaths(client).c_str());
        own.Stop();
        if (keep) {
          std::printf("workspace kept: %s\n", ws.c_str());
        } else {
          fs::remove_all(ws);
        }
      }
      std::fflush(stdout);
    }
    const double med = Pct(secs, 0.5), cpu_med = Pct(cpus, 0.5);
    per_task_runs.emplace_back(n, secs);
    per_task_cpu_runs.emplace_back(n, cpus);
    for (double& v : per_task_runs.back().second) v /= n;
    for (double& v : per_task_cpu_runs.back().second) v /= n;
    per_task_ms.emplace_back(n, med * 1000.0 / n);
    per_task_cpu_ms.emplace_back(n, cpu_med * 1000.0 / n);
    std::printf("GRID %d tasks through the API to succeeded: median %.3f s (%d runs%s), %.4f ms/task, %.0f tasks/s; "
                "server CPU median %.3f s, %.4f ms/task\n",
                n, med, repeat, reuse ? ", one reused workspace" : ", each on a fresh workspace", med * 1000.0 / n,
                n / med, cpu_med, cpu_med * 1000.0 / n);
    if (reuse) std::printf("paths so far: %s\n", TaskPaths(*shared_client).c_str());
  }
  shared_server.Stop();
  run_processes();  // the last portion
  const fs::path& ws = proc_ws;
  const double proc_med = Pct(proc, 0.5), proc_cpu_med = Pct(proc_cpu, 0.5);
  std::printf("PROCESS single `alphalab backtest` processes one after another: %d runs, median %.2f ms, mean %.2f ms, "
              "p95 %.2f ms; CPU median %.2f ms\n",
              sample, proc_med, Mean(proc), Pct(proc, 0.95), proc_cpu_med);
  for (const auto& [n, ms] : per_task_ms) {
    std::printf("RATIO grid %d: process per task / API per task = %.2f / %.4f = %.1fx\n", n, proc_med, ms, proc_med / ms);
  }
  for (const auto& [n, ms] : per_task_cpu_ms) {
    std::printf("CPU RATIO grid %d: process CPU per task / server CPU per task = %.2f / %.4f = %.1fx\n", n,
                proc_cpu_med, ms, proc_cpu_med / ms);
  }
  // The same figures through bench/common/bench_report.hpp (median/p95/best; bench-results.json).
  std::vector<double> proc_s, proc_cpu_s;
  for (double ms : proc) proc_s.push_back(ms / 1000.0);
  for (double ms : proc_cpu) proc_cpu_s.push_back(ms / 1000.0);
  for (size_t i = 0; i < per_task_runs.size(); ++i) {
    const std::string grid = "grid " + std::to_string(per_task_runs[i].first) + " tasks";
    bench::Report("bench_optimize", grid + " through the API to succeeded, per task", per_task_runs[i].second, "ms",
                  "single `alphalab backtest` process", proc_s);
    bench::Report("bench_optimize", grid + " server CPU per task", per_task_cpu_runs[i].second, "ms",
                  "single `alphalab backtest` process CPU", proc_cpu_s);
  }
  if (keep) {
    std::printf("workspace kept: %s\n", ws.c_str());
  } else {
    fs::remove_all(ws);
  }
  return rc;
}

int BenchQueue(const fs::path& bin, const fs::path& parent, int tasks, int slots, bool keep) {
  const fs::path ws = MakeWorkspace(parent, "queue");
  Server server;
  // Queue wait is about tasks waiting for process slots: the process path.
  if (!StartServer(bin, ws, slots, server, /*processes=*/true)) return 1;
  auto client = std::move(http::HttpClient::Create(server.url, std::chrono::seconds(120)).value());
  const Json req = GridRequest("queue wait", tasks, "backtest", 10000);
  const auto t0 = SteadyClock::now();
  Json opt = Submit(*client, req);
  if (!opt.contains("id")) return 1;
  const std::string id = opt["id"].get<std::string>();
  Json st;
  for (;;) {
    st = Status(*client, id);
    if (Terminal(st.value("status", ""))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double sec = Ms(SteadyClock::now() - t0) / 1000.0;
  const Json& sm = st["summary"];
  std::printf("queue: %d process tasks, %d slots: %s after %.2f s (finished %d, failed %d); %.1f ms/task wall\n", tasks,
              slots, st.value("status", "?").c_str(), sec, sm.value("finished", -1), sm.value("failed", -1),
              sec * 1000.0 / tasks);
  // Per task: its job's created_at / started_at.
  auto created_opt = ParseIso8601(opt.value("created_at", ""));
  std::vector<double> wait_job, wait_opt;
  for (int offset = 0;; offset += 500) {
    auto r = client->Get("/api/v1/optimizations/" + id + "/tasks?limit=500&offset=" + std::to_string(offset));
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "tasks page failed: %s\n", r.ok() ? r->body.substr(0, 300).c_str() : "");
      break;
    }
    Json page = Json::parse(r->body);
    const Json& items = page["items"];
    for (const Json& t : items) {
      const std::string job_id = t.value("job_id", t.value("task_id", ""));
      if (job_id.empty()) continue;
      auto jr = client->Get("/api/jobs/" + job_id);
      if (!jr.ok() || jr->status != 200) continue;
      Json job = Json::parse(jr->body);
      if (!job["started_at"].is_string() || !job["created_at"].is_string()) continue;
      auto c = ParseIso8601(job["created_at"].get<std::string>());
      auto s = ParseIso8601(job["started_at"].get<std::string>());
      if (!c.ok() || !s.ok()) continue;
      wait_job.push_back(SecondsBetween(*c, *s));
      if (created_opt.ok()) wait_opt.push_back(SecondsBetween(*created_opt, *s));
    }
    if (items.size() < 500) break;
  }
  std::printf("paths: %s\n", TaskPaths(*client).c_str());
  std::printf("QUEUE WAIT job started_at - created_at over %zu tasks: average %.3f s, p50 %.3f s, p95 %.3f s, max %.3f s\n",
              wait_job.size(), Mean(wait_job), Pct(wait_job, 0.5), Pct(wait_job, 0.95), Pct(wait_job, 1.0));
  if (!wait_opt.empty()) {
    std::printf("QUEUE WAIT optimization created_at -> task started_at: average %.3f s, p50 %.3f s, p95 %.3f s, max %.3f s\n",
                Mean(wait_opt), Pct(wait_opt, 0.5), Pct(wait_opt, 0.95), Pct(wait_opt, 1.0));
  }
  server.Stop();
  if (keep) {
    std::printf("workspace kept: %s\n", ws.c_str());
  } else {
    fs::remove_all(ws);
  }
  return wait_job.size() == static_cast<size_t>(tasks) ? 0 : 2;
}

int BenchStatus(const fs::path& bin, const fs::path& parent, int tasks, int requests, double min_seconds, bool keep) {
  const fs::path ws = MakeWorkspace(parent, "status");
  Server server;
  if (!StartServer(bin, ws, 0, server)) return 1;
  auto client = std::move(http::HttpClient::Create(server.url, std::chrono::seconds(120)).value());
  const auto t0 = SteadyClock::now();
  Json opt = Submit(*client, GridRequest("status under load", tasks, "backtest", 0));
  if (!opt.contains("id")) return 1;
  std::printf("status: %d-task optimization created in %.1f ms\n", tasks, Ms(SteadyClock::now() - t0));
  const std::string id = opt["id"].get<std::string>();
  const std::string target = "/api/v1/optimizations/" + id + "/status";
  std::vector<double> lat;
  int not_running = 0;
  int64_t first_finished = -1, last_finished = -1;
  const auto poll0 = SteadyClock::now();
  for (int i = 0; i < requests || SteadyClock::now() - poll0 < std::chrono::duration<double>(min_seconds); ++i) {
    const auto q0 = SteadyClock::now();
    auto r = client->Get(target);
    const double ms = Ms(SteadyClock::now() - q0);
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "status failed\n");
      return 1;
    }
    Json j = Json::parse(r->body);
    const std::string s = j.value("status", "");
    if (s != "running" && s != "queued") {
      ++not_running;
      continue;
    }
    const int64_t fin = j["summary"].value("finished", int64_t{0});
    if (first_finished < 0) first_finished = fin;
    last_finished = fin;
    lat.push_back(ms);
  }
  std::printf("STATUS GET .../status while a %d-task optimization runs: %zu requests (finished %lld -> %lld during "
              "them; %d answered after it ended, not counted): p50 %.3f ms, p95 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              tasks, lat.size(), static_cast<long long>(first_finished), static_cast<long long>(last_finished),
              not_running, Pct(lat, 0.5), Pct(lat, 0.95), Pct(lat, 0.99), Pct(lat, 1.0));
  std::printf("paths: %s\n", TaskPaths(*client).c_str());
  auto c = client->PostJson("/api/v1/optimizations/" + id + "/cancel", Json::object());
  Json st;
  for (int i = 0; i < 6000; ++i) {
    st = Status(*client, id);
    if (Terminal(st.value("status", ""))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("status: canceled -> %s, summary %s\n", st.value("status", "?").c_str(),
              st.contains("summary") ? [&] {
                Json s = st["summary"];
                s.erase("top_n");
                return s.dump();
              }().c_str()
                                     : "-");
  server.Stop();
  if (keep) {
    std::printf("workspace kept: %s\n", ws.c_str());
  } else {
    fs::remove_all(ws);
  }
  return c.ok() ? 0 : 1;
}

// The 1-, 5- and 15-minute load averages (/proc/loadavg).
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

int BenchTasks(const fs::path& bin, const fs::path& parent, int tasks, int requests, int finished_first, bool keep) {
  const fs::path ws = MakeWorkspace(parent, "tasks");
  Server server;
  if (!StartServer(bin, ws, 0, server)) return 1;
  auto client = std::move(http::HttpClient::Create(server.url, std::chrono::seconds(120)).value());
  Json opt = Submit(*client, GridRequest("tasks pages under load", tasks, "backtest", 0));
  if (!opt.contains("id")) return 1;
  const std::string id = opt["id"].get<std::string>();
  const std::string base = "/api/v1/optimizations/" + id;
  Json st;
  const auto wait0 = SteadyClock::now();
  for (;;) {
    st = Status(*client, id);
    if (st.value("status", "") != "queued" && st.value("status", "") != "running") break;
    if (st["summary"].value("finished", int64_t{0}) >= finished_first) break;
    if (SteadyClock::now() - wait0 > std::chrono::minutes(10)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::printf("tasks: %d-task optimization, %lld finished after %.1f s; pages measured while it runs\n", tasks,
              static_cast<long long>(st["summary"].value("finished", int64_t{0})), Ms(SteadyClock::now() - wait0) / 1000);
  const std::vector<std::pair<std::string, std::string>> orders = {
      {"index_asc", "limit=25&sort=index_asc"},
      {"score_desc", "limit=25&sort=score_desc"},
      {"score_asc", "limit=25&sort=score_asc"},
      {"final_equity_desc (a result field)", "limit=25&sort=final_equity_desc"},
      {"index_asc, status=succeeded", "limit=25&sort=index_asc&status=succeeded"},
      {"score_desc, status=succeeded", "limit=25&sort=score_desc&status=succeeded"},
      {"score_desc @ offset 50000", "limit=25&sort=score_desc&offset=50000"},
  };
  int rc = 0;
  for (const auto& [name, query] : orders) {
    std::vector<double> page_s, status_s;
    for (int i = 0; i < requests; ++i) {
      auto q0 = SteadyClock::now();
      auto r = client->Get(base + "/tasks?" + query);
      page_s.push_back(std::chrono::duration<double>(SteadyClock::now() - q0).count());
      if (!r.ok() || r->status != 200) {
        std::fprintf(stderr, "tasks %s failed: %s\n", query.c_str(), r.ok() ? r->body.substr(0, 300).c_str() : "-");
        rc = 1;
        break;
      }
      if (i == 0 && Json::parse(r->body)["items"].size() != 25) {
        std::fprintf(stderr, "tasks %s: not a full page\n", query.c_str());
        rc = 1;
      }
      q0 = SteadyClock::now();
      auto s = client->Get(base + "/status");
      status_s.push_back(std::chrono::duration<double>(SteadyClock::now() - q0).count());
      if (!s.ok() || s->status != 200) rc = 1;
    }
    bench::Report("bench_optimize", "GET .../tasks " + name + " (page of 25, " + std::to_string(tasks) + " tasks)",
                  page_s, "ms", "GET .../status", status_s);
  }
  st = Status(*client, id);
  std::printf("tasks: %lld of %d finished at the end; load average %s\n",
              static_cast<long long>(st["summary"].value("finished", int64_t{0})), tasks, LoadAverage().c_str());
  auto c = client->PostJson(base + "/cancel", Json::object());
  server.Stop();
  if (keep) {
    std::printf("workspace kept: %s\n", ws.c_str());
  } else {
    fs::remove_all(ws);
  }
  return c.ok() ? rc : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1000, 10000};
  int repeat = 3, sample = 20, queue_tasks = 1000, queue_slots = 2, status_tasks = 100000, status_requests = 2000;
  double status_seconds = 5;
  int tasks_requests = 40, tasks_finished = 2000;
  std::string only;
  fs::path parent = fs::temp_directory_path();
  bool keep = false, reuse = false;
  int step = 1000, warmup = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool v = i + 1 < argc;
    if (a == "--grid" && v) sizes = ParseList(argv[++i]);
    else if (a == "--repeat" && v) repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--process-sample" && v) sample = std::max(1, std::atoi(argv[++i]));
    else if (a == "--queue-tasks" && v) queue_tasks = std::atoi(argv[++i]);
    else if (a == "--queue-slots" && v) queue_slots = std::atoi(argv[++i]);
    else if (a == "--status-tasks" && v) status_tasks = std::atoi(argv[++i]);
    else if (a == "--status-requests" && v) status_requests = std::atoi(argv[++i]);
    else if (a == "--status-seconds" && v) status_seconds = std::atof(argv[++i]);
    else if (a == "--tasks-requests" && v) tasks_requests = std::max(1, std::atoi(argv[++i]));
    else if (a == "--tasks-finished" && v) tasks_finished = std::atoi(argv[++i]);
    else if (a == "--only" && v) only = argv[++i];
    else if (a == "--port" && v) g_port = std::atoi(argv[++i]);
    else if (a == "--dir" && v) parent = argv[++i];
    else if (a == "--keep") keep = true;
    else if (a == "--reuse-workspace") reuse = true;
    else if (a == "--step" && v) step = std::max(0, std::atoi(argv[++i]));
    else if (a == "--warmup-tasks" && v) warmup = std::max(0, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr,
                   "usage: bench_optimize [--grid 1000,10000] [--repeat 3] [--process-sample 20] [--queue-tasks 1000] "
                   "[--queue-slots 2] [--status-tasks 100000] [--status-requests 2000] [--status-seconds 5] "
                   "[--tasks-requests 40] [--tasks-finished 2000] [--only grid|queue|status|tasks] [--port 0] "
                   "[--dir D] [--keep] [--reuse-workspace] [--step 1000] [--warmup-tasks 0]\n");
      return 2;
    }
  }
  const fs::path bin = fs::read_symlink("/proc/self/exe").parent_path();
  int rc = 0;
  if (only.empty() || only == "grid") rc |= BenchGrid(bin, parent, sizes, repeat, sample, keep, reuse, step, warmup);
  if (only.empty() || only == "queue") rc |= BenchQueue(bin, parent, queue_tasks, queue_slots, keep);
  if (only.empty() || only == "status") rc |= BenchStatus(bin, parent, status_tasks, status_requests, status_seconds, keep);
  if (only.empty() || only == "tasks") rc |= BenchTasks(bin, parent, status_tasks, tasks_requests, tasks_finished, keep);
  return rc;
}

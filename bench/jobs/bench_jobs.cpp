// bench_jobs: trivial jobs (a program that exits at once) submitted over HTTP to a real
// `alphalab serve` and run to SUCCESS. Prints jobs/s (median and p95 over --reps batches) beside
// the in-run ceiling, and submit-to-start p50/p95.
//
//   build/bin/bench_jobs [--jobs 3000] [--reps 5] [--clients 4] [--slots 0] [--program /bin/true]
//                        [--dir /tmp] [--keep] [--no-access-log] [--server-arg ARG]...
//
// The jobs go in --reps batches of jobs/reps; before each batch, the reference runs the same
// number of raw posix_spawn + waitpid of the program, each with its own new log file
// (stdout and stderr), from --clients threads: the spawn ceiling of this machine at that
// minute. The ratio is API jobs/s over the ceiling's.
//
// It starts its own server (access log on, as users run it; the server's stderr goes to
// <workspace>/server.log) on a new workspace under --dir (port 0) and stops it afterwards.
// The workspace is deleted at the end unless --keep. Mind the file system: on ext4 without a
// journal (these machines) every inode allocation scans past the inodes freed in the last
// 60 s (up to 6 min while their inode table block is dirty) in its block group, so a run
// right after a deletion of thousands of files (the previous run's cleanup, a compiler's
// temporary files in the same folder) measures mostly that. Use --keep and delete later.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../common/bench_report.hpp"
#include "core/clock.hpp"
#include "http/http_client.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace alphalab;

namespace {

// `n` raw spawns of `program` from `threads` threads, each with stdout and stderr in a new
// file under `dir`; seconds.
double RawSpawnCeiling(int n, int threads, const std::string& program, const fs::path& dir) {
  fs::create_directories(dir);
  std::atomic<int> next{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < n;) {
        const std::string log = (dir / ("job_" + std::to_string(i) + ".log")).string();
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
        pid_t pid = -1;
        if (posix_spawn(&pid, program.c_str(), &fa, nullptr, argv, environ) == 0) {
          int st = 0;
          ::waitpid(pid, &st, 0);
        }
        posix_spawn_file_actions_destroy(&fa);
      }
    });
  }
  for (auto& th : pool) th.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The process supervisor of `server` (alphalab-shim --supervise, detached, so not its child):
// the one whose socket (descriptor 3) is connected to one of the server's descriptors. 0 when
// not found.
long FindSupervisor(pid_t server) {
  std::vector<std::string> server_sockets;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(server) + "/fd", ec)) {
    const std::string target = fs::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind("socket:", 0) == 0) server_sockets.push_back(target);
  }
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream comm(e.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != "alphalab-shim") continue;
    // A socket pair's two ends have consecutive inode numbers.
    const std::string mine = fs::read_symlink(e.path() / "fd" / "3", ec).string();
    if (ec || mine.rfind("socket:[", 0) != 0) continue;
    const long inode = std::atol(mine.c_str() + 8);
    for (const std::string& s : server_sockets) {
      const long other = std::atol(s.c_str() + 8);
      if (other == inode - 1 || other == inode + 1) return std::atol(name.c_str());
    }
  }
  return 0;
}

// Context switches (voluntary + involuntary) of every live thread of `pid` so far.
long ContextSwitches(long pid) {
  long total = 0;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
        total += std::atol(line.c_str() + line.find(':') + 1);
      }
    }
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 3000, clients = 4, slots = 0, reps = 5;
  std::string program = "/bin/true";
  fs::path parent = fs::temp_directory_path();
  bool keep = false, access_log = true;
  std::vector<std::string> server_args;  // --server-arg: passed on to `alphalab serve`
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--jobs" && has_value) jobs = std::atoi(argv[++i]);
    else if (a == "--clients" && has_value) clients = std::atoi(argv[++i]);
    else if (a == "--reps" && has_value) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--slots" && has_value) slots = std::atoi(argv[++i]);
    else if (a == "--program" && has_value) program = argv[++i];
    else if (a == "--dir" && has_value) parent = argv[++i];
    else if (a == "--keep") keep = true;
    else if (a == "--no-access-log") access_log = false;
    else if (a == "--server-arg" && has_value) server_args.push_back(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: bench_jobs [--jobs N] [--reps N] [--clients N] [--slots N] [--program P] [--dir D] [--keep] "
                   "[--no-access-log] [--server-arg ARG]...\n");
      return 2;
    }
  }
  const fs::path bin = fs::read_symlink("/proc/self/exe").parent_path();
  const fs::path ws = parent / ("alphalab_bench_jobs_" + std::to_string(::getpid()));
  fs::create_directories(ws);
  std::ofstream(ws / "alphalab.yaml") << "job_types:\n  noop:\n    argv: [\"" << program << "\"]\n";

  int out[2];
  if (::pipe(out) != 0) return 1;
  std::vector<std::string> args = {(bin / "alphalab").string(), "serve", "--workspace", ws.string(), "--port", "0",
                                   "--slots", std::to_string(slots)};
  if (!access_log) args.push_back("--no-access-log");
  args.insert(args.end(), server_args.begin(), server_args.end());
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  const std::string server_log = (ws / "server.log").string();
  posix_spawn_file_actions_addopen(&fa, 2, server_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t server = 0;
  if (posix_spawn(&server, cargv[0], &fa, nullptr, cargv.data(), environ) != 0) {
    std::fprintf(stderr, "cannot start %s\n", cargv[0]);
    return 1;
  }
  ::close(out[1]);
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
  if (port == 0) {
    std::fprintf(stderr, "server did not start\n");
    return 1;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port);

  std::vector<std::vector<std::string>> ids(clients);
  // Per job, from the client's side: when its POST was sent (wall clock, ms since the epoch,
  // comparable with the server's started_at on the same machine) and how long it took.
  std::vector<std::vector<double>> sent_ms(clients), post_ms(clients);
  auto poller = std::move(http::HttpClient::Create(url).value());
  int done = 0;
  // One batch of `n` jobs through the API, submitted by `clients` threads, until every job of
  // the run so far is terminal; seconds.
  auto api_batch = [&](int n) {
    std::atomic<int> next{0};
    const int target = done + n;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
      threads.emplace_back([&, t] {
        auto client = std::move(http::HttpClient::Create(url).value());
        const std::string body = R"({"job_type":"noop","params":{}})";
        while (next.fetch_add(1) < n) {
          const double sent = std::chrono::duration<double, std::milli>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
          const auto p0 = std::chrono::steady_clock::now();
          auto r = client->Request("POST", "/api/jobs", body);
          const double took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - p0).count();
          if (!r.ok() || r->status != 200) {
            std::fprintf(stderr, "submit failed: %s\n", r.ok() ? r->body.c_str() : r.status().ToString().c_str());
            continue;
          }
          // The id without parsing the whole job object (this process's CPU is the server's
          // competition for the cores).
          constexpr std::string_view kKey = "\"job_id\":\"";
          const size_t at = r->body.find(kKey);
          const size_t end = at == std::string::npos ? at : r->body.find('"', at + kKey.size());
          if (end == std::string::npos) {
            std::fprintf(stderr, "submit answered without a job_id: %s\n", r->body.c_str());
            continue;
          }
          ids[t].push_back(r->body.substr(at + kKey.size(), end - at - kKey.size()));
          sent_ms[t].push_back(sent);
          post_ms[t].push_back(took);
        }
      });
    }
    for (auto& th : threads) th.join();
    // Every job of the batch exists once its POST returned: the batch is over when none is
    // QUEUED or RUNNING any more. One count request per poll (each one counts the whole table
    // per state, so it costs the server more as the run goes on: polled every 3 ms, not more).
    for (int i = 0; i < 8000; ++i) {
      auto r = poller->Get("/api/jobs/recent?status=QUEUED,RUNNING&limit=0");
      if (r.ok() && r->status == 200) {
        const Json counts = Json::parse(r->body)["status_counts"];
        done = counts["SUCCESS"].get<int>() + counts["FAILED"].get<int>() + counts["CANCELED"].get<int>();
        if (Json::parse(r->body)["total"].get<int>() == 0 && done >= target) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const int batch = std::max(1, jobs / reps);
  jobs = batch * reps;
  std::vector<double> api_per_job, raw_per_job;
  const auto t_all = std::chrono::steady_clock::now();
  double api_sec = 0;
  std::vector<double> server_cpu_per_job;  // ms of the server's CPU per job, per batch
  // The same for the supervisor, and for the keepers with their jobs (the supervisor's
  // collected children); the bench's own CPU (HTTP clients, polls) beside them.
  std::vector<double> server_switches_per_job;  // context switches of the server's threads per job
  std::vector<double> supervisor_cpu_per_job, keeper_cpu_per_job, bench_cpu_per_job, raw_cpu_per_spawn;
  long supervisor = 0;
  for (int r = 0; r < reps; ++r) {
    const double self_all0 = bench::ProcessCpuMs(::getpid(), true);
    raw_per_job.push_back(RawSpawnCeiling(batch, clients, program, ws / ("raw" + std::to_string(r))) / batch);
    raw_cpu_per_spawn.push_back((bench::ProcessCpuMs(::getpid(), true) - self_all0) / batch);
    const double cpu0 = bench::ProcessCpuMs(server);
    if (supervisor == 0) supervisor = FindSupervisor(server);
    const double sup0 = supervisor ? bench::ProcessCpuMs(supervisor) : 0;
    const double kept0 = supervisor ? bench::ProcessCpuMs(supervisor, true) - sup0 : 0;
    const double self0 = bench::ProcessCpuMs(::getpid());
    const long switches0 = ContextSwitches(server);
    const double sec = api_batch(batch);
    server_cpu_per_job.push_back((bench::ProcessCpuMs(server) - cpu0) / batch);
    server_switches_per_job.push_back(static_cast<double>(ContextSwitches(server) - switches0) / batch);
    bench_cpu_per_job.push_back((bench::ProcessCpuMs(::getpid()) - self0) / batch);
    if (supervisor == 0) supervisor = FindSupervisor(server);
    if (supervisor != 0 && r > 0) {  // the first batch started it
      const double sup1 = bench::ProcessCpuMs(supervisor);
      supervisor_cpu_per_job.push_back((sup1 - sup0) / batch);
      keeper_cpu_per_job.push_back((bench::ProcessCpuMs(supervisor, true) - sup1 - kept0) / batch);
    }
    api_sec += sec;
    api_per_job.push_back(sec / batch);
  }
  const double total_sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
  auto client = std::move(poller);

  std::vector<double> start_ms, client_start_ms, posts;
  int success = 0;
  for (int t = 0; t < clients; ++t) {
    for (size_t k = 0; k < ids[t].size(); ++k) {
      auto r = client->Get("/api/jobs/" + ids[t][k]);
      Json j = Json::parse(r->body);
      if (j["status"] == "SUCCESS") ++success;
      posts.push_back(post_ms[t][k]);
      if (j["started_at"].is_string()) {
        auto c0 = ParseIso8601(j["created_at"].get<std::string>());
        auto s0 = ParseIso8601(j["started_at"].get<std::string>());
        if (c0.ok() && s0.ok()) {
          start_ms.push_back(SecondsBetween(*c0, *s0) * 1000.0);
          const double started = std::chrono::duration<double, std::milli>(s0->time_since_epoch()).count();
          client_start_ms.push_back(std::max(0.0, started - sent_ms[t][k]));
        }
      }
    }
  }
  auto pct_of = [](std::vector<double>& v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
  };
  auto pct = [&](double p) { return pct_of(start_ms, p); };
  auto metrics = client->Get("/metrics");
  std::printf("jobs: %d submitted by %d clients, %d SUCCESS (access log %s)\n", jobs, clients, success,
              access_log ? "on" : "off");
  std::printf("%d batches of %d jobs, %.1f s in all (ceiling batches included); API batches: %.0f jobs/s overall\n",
              reps, batch, total_sec, done / api_sec);
  const bench::Stats api = bench::Report(
      "bench_jobs", "trivial job through the API to SUCCESS (time per job in a batch)", api_per_job, "ms",
      "raw posix_spawn+waitpid, own log file, " + std::to_string(clients) + " threads", raw_per_job);
  const bench::Stats raw = bench::Summarize(raw_per_job);
  std::printf("jobs/s: API median %.0f (p95 batch %.0f), raw spawn ceiling median %.0f -> %.2f of the ceiling\n",
              1 / api.median, 1 / api.p95, 1 / raw.median, raw.median / api.median);
  {
    const bench::Stats cpu = bench::Summarize(server_cpu_per_job);
    std::printf("server CPU per job (user+system, /proc; the bench's status polls included): median %.3f ms, p95 %.3f ms\n",
                cpu.median, cpu.p95);
    const bench::Stats sup = bench::Summarize(supervisor_cpu_per_job);
    const bench::Stats kept = bench::Summarize(keeper_cpu_per_job);
    const bench::Stats self = bench::Summarize(bench_cpu_per_job);
    const bench::Stats raw_cpu = bench::Summarize(raw_cpu_per_spawn);
    std::printf("CPU per job, medians: server %.3f ms, supervisor %.3f ms, keepers with their jobs %.3f ms, this "
                "bench (clients, polls) %.3f ms; ceiling: %.3f ms per raw spawn (bench + children)\n",
                cpu.median, sup.median, kept.median, self.median, raw_cpu.median);
    std::printf("server context switches per job (all its threads, voluntary + involuntary): median %.1f\n",
                bench::Summarize(server_switches_per_job).median);
  }
  std::printf("submit-to-start (server timestamps, ms resolution, includes queueing when slots are full): p50 %.1f ms, p95 %.1f ms, max %.1f ms\n",
              pct(0.5), pct(0.95), pct(1.0));
  std::printf("submit-to-start seen by the client (POST sent -> started_at; includes any wait the server imposes before "
              "accepting a job): p50 %.1f ms, p95 %.1f ms, max %.1f ms\n",
              pct_of(client_start_ms, 0.5), pct_of(client_start_ms, 0.95), pct_of(client_start_ms, 1.0));
  std::printf("POST /api/jobs round trip: p50 %.2f ms, p95 %.2f ms, max %.1f ms\n", pct_of(posts, 0.5),
              pct_of(posts, 0.95), pct_of(posts, 1.0));
  ::kill(server, SIGTERM);
  int st = 0;
  ::waitpid(server, &st, 0);
  if (keep) {
    std::printf("workspace kept: %s\n", ws.c_str());
  } else {
    fs::remove_all(ws);
  }
  return success == jobs ? 0 : 2;
}

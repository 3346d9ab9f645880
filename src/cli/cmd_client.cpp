// The command-line client: `alphalab submit | jobs | logs | cancel` talk HTTP to a running
// `alphalab serve` (--server, default $ALPHALAB_SERVER or http://127.0.0.1:8000).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.hpp"
#include "core/job_state.hpp"
#include "http/http_client.hpp"

namespace alphalab::cli {
namespace {

std::string DefaultServer() {
  if (const char* env = std::getenv("ALPHALAB_SERVER"); env && *env) return env;
  return "http://127.0.0.1:8000";
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

int Fail(const std::string& cmd, const std::string& message) {
  std::fprintf(stderr, "alphalab %s: %s\n", cmd.c_str(), message.c_str());
  return 1;
}

// Sends a request; on transport failure or HTTP >= 400 prints one clear line and returns null.
std::optional<Json> Call(const std::string& cmd, const std::string& server, std::string_view method,
                         const std::string& target, const Json* body, int* exit_code) {
  auto client = http::HttpClient::Create(server);
  if (!client.ok()) {
    *exit_code = Fail(cmd, client.status().message());
    return std::nullopt;
  }
  (*client)->set_bearer_token(http::UserToken());  // $ALPHALAB_TOKEN or ~/.config/alphalab/token
  auto res = body ? (*client)->Request(method, target, DumpJson(*body)) : (*client)->Request(method, target);
  if (!res.ok()) {
    *exit_code = Fail(cmd, res.status().message());
    return std::nullopt;
  }
  if (res->status >= 400) {
    std::string hint;
    if (res->status == 401) hint = " (set ALPHALAB_TOKEN or put a token in ~/.config/alphalab/token)";
    *exit_code = Fail(cmd, "server said " + std::to_string(res->status) + ": " + res->ErrorMessage() + hint);
    return std::nullopt;
  }
  auto j = res->JsonBody();
  if (!j.ok()) {
    *exit_code = Fail(cmd, "unexpected response: " + res->body.substr(0, 200));
    return std::nullopt;
  }
  return *j;
}

std::string Str(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "-";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

struct SubmitOpts {
  std::string server = DefaultServer();
  std::string type;
  std::vector<std::string> params;
  std::vector<std::string> overrides;
  bool dry_run = false;
  bool json = false;
};

// key=value arguments -> params (a repeated key makes a list); nullopt after printing the error.
std::optional<Json> ParseParamArgs(const std::vector<std::string>& args, int& exit_code) {
  Json params = Json::object();
  for (const std::string& kv : args) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      exit_code = Fail("submit", "parameter '" + kv + "' must be key=value");
      return std::nullopt;
    }
    const std::string key = kv.substr(0, eq);
    const std::string value = kv.substr(eq + 1);
    if (!params.contains(key)) {
      params[key] = value;
    } else {
      if (!params[key].is_array()) params[key] = Json::array({params[key]});
      params[key].push_back(value);
    }
  }
  return params;
}

void RunSubmit(const SubmitOpts& o, int& exit_code) {
  std::optional<Json> params = ParseParamArgs(o.params, exit_code);
  if (!params) return;
  if (!o.overrides.empty()) (*params)["overrides"] = o.overrides;
  Json body{{"job_type", o.type}, {"params", *params}};
  if (o.dry_run) body["dry_run"] = true;
  auto job = Call("submit", o.server, "POST", "/api/jobs", &body, &exit_code);
  if (!job) return;
  if (o.json) {
    std::printf("%s\n", job->dump(2).c_str());
  } else {
    std::printf("%s %s %s\n", Str(*job, "job_id").c_str(), Str(*job, "status").c_str(),
                Str(*job, "args_preview").c_str());
  }
}

void SetupSubmitCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SubmitOpts>();
  auto* cmd = app.add_subcommand("submit", "Submit a job: alphalab submit TYPE key=value... [--set k=v]...");
  cmd->add_option("type", o->type, "job type (see GET /api/job-types)")->required();
  cmd->add_option("params", o->params, "parameters as key=value (a repeated key makes a list)");
  cmd->add_option("--set", o->overrides, "config override key=value (passed as --set)");
  cmd->add_flag("--dry-run", o->dry_run, "validate and show the command without running it");
  cmd->add_flag("--json", o->json, "print the job as JSON");
  cmd->add_option("--server", o->server, "server URL")->capture_default_str();
  cmd->callback([o, &exit_code] { RunSubmit(*o, exit_code); });
}

struct JobsOpts {
  std::string server = DefaultServer();
  std::string status, type;
  int limit = 20;
  bool json = false;
};

void RunJobs(const JobsOpts& o, int& exit_code) {
  std::string target = "/api/jobs/recent?limit=" + std::to_string(o.limit);
  if (!o.status.empty()) target += "&status=" + UrlEncode(o.status);
  if (!o.type.empty()) target += "&job_type=" + UrlEncode(o.type);
  auto res = Call("jobs", o.server, "GET", target, nullptr, &exit_code);
  if (!res) return;
  if (o.json) {
    std::printf("%s\n", res->dump(2).c_str());
    return;
  }
  std::printf("%-36s %-14s %-9s %-24s %9s  %s\n", "JOB_ID", "TYPE", "STATUS", "CREATED", "SECONDS", "COMMAND");
  for (const Json& j : (*res)["items"]) {
    std::printf("%-36s %-14s %-9s %-24s %9s  %s\n", Str(j, "job_id").c_str(), Str(j, "job_type").c_str(),
                Str(j, "status").c_str(), Str(j, "created_at").c_str(), Str(j, "duration_sec").c_str(),
                Str(j, "args_preview").c_str());
  }
}

void SetupJobsCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<JobsOpts>();
  auto* cmd = app.add_subcommand("jobs", "List recent jobs");
  cmd->add_option("--status", o->status, "QUEUED|RUNNING|SUCCESS|FAILED|CANCELED");
  cmd->add_option("--type", o->type, "job type");
  cmd->add_option("--limit", o->limit, "how many (newest first)")->capture_default_str();
  cmd->add_flag("--json", o->json, "print the response as JSON");
  cmd->add_option("--server", o->server, "server URL")->capture_default_str();
  cmd->callback([o, &exit_code] { RunJobs(*o, exit_code); });
}

struct LogsOpts {
  std::string server = DefaultServer();
  std::string job;
  bool follow = false;
  int64_t tail = 20000;
};

// With --follow, after a read that brought nothing new: true when the job has ended (after
// printing the last bytes and the end line) or a request failed.
bool LogFollowDone(const LogsOpts& o, const std::string& base, int64_t offset, int& exit_code) {
  auto job = Call("logs", o.server, "GET", base, nullptr, &exit_code);
  if (!job) return true;
  auto state = ParseJobState((*job)["status"].get<std::string>());
  if (!state || !IsTerminal(*state)) return false;
  // One last read: the end may have been written between the two requests.
  auto last = Call("logs", o.server, "GET", base + "/log?offset=" + std::to_string(offset), nullptr, &exit_code);
  if (last) std::fputs((*last)["content"].get<std::string>().c_str(), stdout);
  std::fprintf(stderr, "[job %s ended: %s]\n", o.job.c_str(), Str(*job, "status").c_str());
  return true;
}

void RunLogs(const LogsOpts& o, int& exit_code) {
  const std::string base = "/api/jobs/" + UrlEncode(o.job);
  int64_t offset = 0;
  bool first = true;
  for (;;) {
    std::string target = base + "/log?offset=" + std::to_string(offset);
    if (first) target += "&tail=" + std::to_string(o.tail);
    auto res = Call("logs", o.server, "GET", target, nullptr, &exit_code);
    if (!res) return;
    const std::string content = (*res)["content"].get<std::string>();
    std::fwrite(content.data(), 1, content.size(), stdout);
    std::fflush(stdout);
    const int64_t next = (*res)["next_offset"].get<int64_t>();
    const bool progressed = next != offset;
    offset = next;
    first = false;
    if (!o.follow) return;
    if (progressed) continue;  // more may be waiting (responses are capped)
    if (LogFollowDone(o, base, offset, exit_code)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

void SetupLogsCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<LogsOpts>();
  auto* cmd = app.add_subcommand("logs", "Print a job's log (-f follows it until the job ends)");
  cmd->add_option("job", o->job, "job id")->required();
  cmd->add_flag("-f,--follow", o->follow, "keep printing new output until the job ends");
  cmd->add_option("--tail", o->tail, "bytes from the end on the first read")->capture_default_str();
  cmd->add_option("--server", o->server, "server URL")->capture_default_str();
  cmd->callback([o, &exit_code] { RunLogs(*o, exit_code); });
}

void SetupCancelCommand(CLI::App& app, int& exit_code) {
  struct Opts {
    std::string server = DefaultServer();
    std::string job;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("cancel", "Cancel a queued or running job");
  cmd->add_option("job", o->job, "job id")->required();
  cmd->add_option("--server", o->server, "server URL")->capture_default_str();
  cmd->callback([o, &exit_code] {
    Json empty = Json::object();
    auto job = Call("cancel", o->server, "POST", "/api/jobs/" + UrlEncode(o->job) + "/cancel", &empty, &exit_code);
    if (!job) return;
    std::printf("%s %s\n", Str(*job, "job_id").c_str(), Str(*job, "status").c_str());
  });
}

// submit, jobs, logs, cancel (in this order in --help).
void SetupClientCommands(CLI::App& app, int& exit_code) {
  SetupSubmitCommand(app, exit_code);
  SetupJobsCommand(app, exit_code);
  SetupLogsCommand(app, exit_code);
  SetupCancelCommand(app, exit_code);
}

}  // namespace
ALPHALAB_REGISTER_COMMAND(11, SetupClientCommands);
}  // namespace alphalab::cli

// alphalab-rdagent-standin: behaves like `rdagent fin_quant` (microsoft/RD-Agent,
// rdagent/app/cli.py) for tests and the example workspace, without an LLM or Qlib.
//
//   rdagent fin_quant [--path P] [--step-n N] [--loop-n N] [--all-duration D]
//                     [--checkout/--no-checkout | -c/-C]
//
// The real CLI has exactly these options (no --trace). Like the real one it loads `.env` from
// its working directory (values already in the environment win, as python-dotenv's
// load_dotenv does) and prints the LLM endpoint it would use (never a key). It reads the Qlib
// templates it finds under its working directory (conf_*.yaml), prints one loguru-format line
// per loop step as RD-Agent's LoopBase does ("Start Loop {li}, Step {si}: {name}", steps
// direct_exp_gen, coding, running, feedback, record), and writes what the templates'
// read_exp_res.py writes: qlib_res.csv (pandas Series.to_csv: a ",0" header, one metric per
// row) and ret.pkl (a pickle; here opaque bytes) into a workspace folder per loop
// (RD-Agent_workspace/loop_<i>/) and the last loop's into the working directory.
//
// Test switches (environment): STANDIN_FAIL=1 fails in the running step of the first loop
// (exit 1, Python-style traceback); STANDIN_STEP_SECONDS (default 0.2) is the time one step
// takes, so a test can cancel a run in the middle; STANDIN_PID_FILE=<path> forks a child that
// sleeps (as RD-Agent's Qlib subprocesses would) and writes "<own pid> <child pid>" there, so a
// test can check that a cancel stops the whole tree.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <utility>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string Now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%03lld", buf, static_cast<long long>(ms));
  return out;
}

// loguru's default format, as RD-Agent's logger prints to stdout.
void Log(const char* level, const std::string& where, const std::string& msg) {
  char lvl[16];
  std::snprintf(lvl, sizeof lvl, "%-8s", level);
  std::cout << Now() << " | " << lvl << " | " << where << " - " << msg << std::endl;
}

std::string Trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// python-dotenv's load_dotenv(".env"), the subset RD-Agent's .env example uses: comments,
// blank lines, optional `export`, single/double quotes; existing variables are kept.
void LoadDotenv(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = Trim(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = Trim(line.substr(0, eq));
    std::string value = Trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string::npos) {
      value = Trim(value.substr(0, hash));
    }
    if (!key.empty()) ::setenv(key.c_str(), value.c_str(), /*overwrite=*/0);
  }
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// "1h", "30m", "90s", "2d" or seconds -> seconds; -1 when unreadable.
double DurationSeconds(const std::string& s) {
  if (s.empty()) return -1;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return -1;
  const std::string unit = Trim(end);
  if (unit.empty() || unit == "s") return v;
  if (unit == "m" || unit == "min") return v * 60;
  if (unit == "h") return v * 3600;
  if (unit == "d") return v * 86400;
  return -1;
}

// Python's str(timedelta) of a positive span: "H:MM:SS.ffffff" (no fraction when it is 0).
std::string Remaining(double seconds) {
  const auto us = static_cast<long long>(std::llround(seconds * 1e6));
  const long long s = us / 1000000, frac = us % 1000000;
  char buf[64];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld.%06lld", s / 3600, s / 60 % 60, s % 60, frac);
  }
  return buf;
}

int Usage(const std::string& why) {
  std::cerr << "Usage: rdagent fin_quant [OPTIONS]\nTry 'rdagent fin_quant --help' for help.\n\nError: " << why << "\n";
  return 2;
}

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Python's repr(float) (what pandas' to_csv writes): the shortest digits that round-trip,
// positional for exponents -4..15, else "d.ddde-05"; "1.0", not "1".
std::string PyRepr(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string sci(buf, res.ptr);
  const size_t e = sci.find('e');
  if (e == std::string::npos) return sci;  // inf / nan
  const int exp = std::atoi(sci.c_str() + e + 1);
  const bool neg = sci[0] == '-';
  std::string digits;
  for (size_t i = neg ? 1 : 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    out += digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    char ex[16];
    std::snprintf(ex, sizeof ex, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + ex;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  const size_t int_len = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_len) return out + digits + std::string(int_len - digits.size(), '0') + ".0";
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

std::string QlibRes(int loop) {
  // The metrics a Qlib recorder lists (SigAnaRecord + PortAnaRecord), as pandas' to_csv writes
  // an unnamed Series (tests/fixtures/rdagent/qlib_res.csv).
  const double ic = 0.021 + 0.004 * loop;
  const double arr = 0.052 + 0.011 * loop;
  const std::pair<const char*, double> rows[] = {
      {"IC", ic},
      {"ICIR", ic * 7.5},
      {"Rank IC", ic * 1.3},
      {"Rank ICIR", ic * 9.1},
      {"1day.excess_return_without_cost.mean", (arr + 0.03) / 238},
      {"1day.excess_return_without_cost.std", 0.0045},
      {"1day.excess_return_without_cost.annualized_return", arr + 0.03},
      {"1day.excess_return_without_cost.information_ratio", (arr + 0.03) / 0.07},
      {"1day.excess_return_without_cost.max_drawdown", -0.09 + 0.004 * loop},
      {"1day.excess_return_with_cost.mean", arr / 2520},
      {"1day.excess_return_with_cost.std", 0.0046},
      {"1day.excess_return_with_cost.annualized_return", arr},
      {"1day.excess_return_with_cost.information_ratio", arr / 0.072},
      {"1day.excess_return_with_cost.max_drawdown", -0.1 + 0.004 * loop},
      {"1day.ffr", 1.0},
      {"1day.pa", 0.0},
      {"1day.pos", 0.0},
  };
  std::string o = ",0\n";
  for (const auto& [name, value] : rows) o += std::string(name) + "," + PyRepr(value) + "\n";
  return o;
}

std::string RetPkl(int loop) {
  // Opaque binary bytes shaped like a pickle (protocol 4 header, NULs, high bytes).
  std::string b = "\x80\x04\x95";
  b.push_back('\0');
  for (int i = 0; i < 256; ++i) b.push_back(static_cast<char>((i * 37 + loop) & 0xff));
  b += ".";
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help") {
    std::cout << "Usage: rdagent [OPTIONS] COMMAND [ARGS]...\n\nCommands:\n  fin_quant  (alphalab stand-in)\n";
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "fin_quant") return Usage("No such command '" + args[0] + "'.");
  std::map<std::string, std::string> opt;
  bool checkout = true;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help") {
      std::cout << "Usage: rdagent fin_quant [OPTIONS]\n\nOptions:\n  --path TEXT\n  --step-n INTEGER\n"
                   "  --loop-n INTEGER\n  --all-duration TEXT\n  -c, --checkout / -C, --no-checkout\n";
      return 0;
    }
    if (a == "--checkout" || a == "-c") { checkout = true; continue; }
    if (a == "--no-checkout" || a == "-C") { checkout = false; continue; }
    std::string name = a, value;
    if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    } else if (name == "--path" || name == "--step-n" || name == "--loop-n" || name == "--all-duration") {
      if (i + 1 >= args.size()) return Usage("Option '" + name + "' requires an argument.");
      value = args[++i];
    } else {
      return Usage("No such option: " + a);
    }
    if (name != "--path" && name != "--step-n" && name != "--loop-n" && name != "--all-duration") {
      return Usage("No such option: " + name);
    }
    opt[name] = value;
  }
  int loop_n = -1, step_n = -1;
  for (auto [name, out] : {std::pair{"--loop-n", &loop_n}, std::pair{"--step-n", &step_n}}) {
    if (!opt.count(name)) continue;
    char* end = nullptr;
    const long v = std::strtol(opt[name].c_str(), &end, 10);
    if (*end != '\0' || opt[name].empty() || v < 0) {
      return Usage("Invalid value for '" + std::string(name) + "': '" + opt[name] + "' is not a valid integer.");
    }
    *out = static_cast<int>(v);
  }
  double budget = -1;
  if (opt.count("--all-duration")) {
    budget = DurationSeconds(opt["--all-duration"]);
    if (budget < 0) return Usage("Invalid value for '--all-duration': '" + opt["--all-duration"] + "'");
  }
  const fs::path cwd = fs::current_path();
  LoadDotenv(cwd / ".env");
  std::string base = Env("OPENAI_API_BASE");
  if (base.empty()) base = Env("OPENAI_BASE_URL");
  if (base.empty()) base = Env("LITELLM_PROXY_API_BASE");
  const std::string model = Env("CHAT_MODEL");
  const bool key_set = !Env("OPENAI_API_KEY").empty() || !Env("LITELLM_PROXY_API_KEY").empty();
  const std::string where = "rdagent.app.qlib_rd_loop.quant:main";
  Log("INFO", where, "alphalab stand-in for `rdagent fin_quant` (no LLM is called)");
  Log("INFO", where, "cwd: " + cwd.string() + (checkout ? "" : " (--no-checkout)") +
                         (opt.count("--path") ? " session: " + opt["--path"] : ""));
  Log("INFO", where, "LLM: base " + (base.empty() ? std::string("(unset)") : base) + ", model " +
                         (model.empty() ? std::string("(unset)") : model) + ", api key " +
                         (key_set ? "set" : "not set"));
  std::vector<fs::path> templates;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(cwd, ec); !ec && it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file() && name.rfind("conf_", 0) == 0 && it->path().extension() == ".yaml") {
      templates.push_back(fs::relative(it->path(), cwd));
    }
  }
  std::sort(templates.begin(), templates.end());
  Log("INFO", where, "Qlib templates in the workspace: " + std::to_string(templates.size()));
  for (const fs::path& t : templates) {
    std::ifstream in(cwd / t);
    std::string line, market, provider;
    while (std::getline(in, line)) {
      const std::string l = Trim(line);
      if (l.rfind("market:", 0) == 0 && market.empty()) market = Trim(l.substr(7));
      if (l.rfind("provider_uri:", 0) == 0 && provider.empty()) provider = Trim(l.substr(13));
    }
    Log("INFO", where, "template " + t.string() + ": market " + market + ", provider_uri " + provider);
  }
  if (const std::string pid_file = Env("STANDIN_PID_FILE"); !pid_file.empty()) {
    const pid_t child = ::fork();
    if (child == 0) {
      for (;;) ::pause();
    }
    std::ofstream(pid_file) << ::getpid() << " " << child << "\n";
  }
  const char* step_env = std::getenv("STANDIN_STEP_SECONDS");
  const double step_seconds = step_env ? std::max(0.0, std::atof(step_env)) : 0.2;
  const bool fail = Env("STANDIN_FAIL") == "1";
  const int loops = loop_n >= 0 ? loop_n : 1;  // the real CLI runs until stopped; the stand-in once
  const char* steps[] = {"direct_exp_gen", "coding", "running", "feedback", "record"};
  const auto start = std::chrono::steady_clock::now();
  int steps_done = 0;
  const std::string loop_where = "rdagent.utils.workflow.loop:_run_step:215";
  const std::string exit_where = "rdagent.utils.workflow.loop:_check_exit_conditions_on_step:";
  for (int li = 0; li < loops; ++li) {
    for (int si = 0; si < 5; ++si) {
      const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      // LoopBase._check_exit_conditions_on_step, before every step.
      if (step_n >= 0 && steps_done >= step_n) return 0;  // "Step count reached": no log line
      if (budget >= 0) {
        if (spent >= budget) {
          Log("WARNING", exit_where + "189", "Timeout, exiting the loop.");
          return 0;
        }
        Log("INFO", exit_where + "192", "Timer remaining time: " + Remaining(budget - spent));
      }
      Log("INFO", loop_where, "Start Loop " + std::to_string(li) + ", Step " + std::to_string(si) + ": " + steps[si]);
      std::this_thread::sleep_for(std::chrono::duration<double>(step_seconds));
      if (fail && li == 0 && si == 2) {
        std::cout << "Traceback (most recent call last):\n"
                     "  File \"rdagent/scenarios/qlib/developer/factor_runner.py\", line 120, in develop\n"
                     "RuntimeError: Qlib backtest failed (STANDIN_FAIL=1)\n";
        Log("ERROR", loop_where, "Loop " + std::to_string(li) + " failed in step running");
        return 1;
      }
      if (si == 2) {
        const fs::path ws = cwd / "RD-Agent_workspace" / ("loop_" + std::to_string(li));
        WriteFile(ws / "qlib_res.csv", QlibRes(li));
        WriteFile(ws / "ret.pkl", RetPkl(li));
        Log("INFO", loop_where, "Output has been saved to " + (ws / "qlib_res.csv").string());
      }
      ++steps_done;
    }
  }
  if (loops > 0) {
    WriteFile(cwd / "qlib_res.csv", QlibRes(loops - 1));
    WriteFile(cwd / "ret.pkl", RetPkl(loops - 1));
  }
  Log("INFO", where, "finished " + std::to_string(loops) + " loop(s)");
  return 0;
}

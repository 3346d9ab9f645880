#include "jobs/agent_progress.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>

namespace alphalab {

namespace fs = std::filesystem;

namespace {

// Reads a non-negative integer at s[i...]; advances i.
std::optional<int> ReadInt(std::string_view s, size_t& i) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
  if (ec != std::errc() || v < 0) return std::nullopt;
  i = static_cast<size_t>(p - s.data());
  return v;
}

}  // namespace

LoopProgress ParseLoopProgress(std::string_view text) {
  LoopProgress out;
  constexpr std::string_view kMark = "Start Loop ";
  size_t at = 0;
  while ((at = text.find(kMark, at)) != std::string_view::npos) {
    size_t i = at + kMark.size();
    at = i;
    const std::optional<int> loop = ReadInt(text, i);
    if (!loop || text.substr(i, 7) != ", Step ") continue;
    i += 7;
    const std::optional<int> step = ReadInt(text, i);
    if (!step || text.substr(i, 2) != ": ") continue;
    i += 2;
    size_t end = i;
    while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
    out.loop = loop;
    out.step = step;
    out.step_name = std::string(text.substr(i, std::min<size_t>(end - i, 100)));
    out.loops_started = std::max(out.loops_started, *loop + 1);
    ++out.step_lines;
  }
  return out;
}

std::vector<LoopResult> ReadLoopResults(const fs::path& work_dir, size_t max_files) {
  struct Found {
    fs::path path;
    int64_t mtime_ns;
  };
  std::vector<Found> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(work_dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() == 0 || it->path().filename() != "qlib_res.csv") continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    found.push_back({it->path(), static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec});
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.path < b.path;
  });
  if (found.size() > max_files) found.erase(found.begin(), found.end() - static_cast<ptrdiff_t>(max_files));
  std::vector<LoopResult> out;
  for (const Found& f : found) {
    auto parsed = ParseResultFile(ResultParserKind::kQlibRes, f.path);
    if (!parsed.ok()) continue;
    out.push_back(LoopResult{f.path.lexically_relative(work_dir).generic_string(), std::move(*parsed)});
  }
  return out;
}

Json LoopProgressJson(const LoopProgress& p) {
  return Json{{"loops_started", p.loops_started},
              {"loop", p.loop ? Json(*p.loop) : Json(nullptr)},
              {"step", p.step ? Json(*p.step) : Json(nullptr)},
              {"step_name", p.step ? Json(p.step_name) : Json(nullptr)}};
}

}  // namespace alphalab

#include "engine/data/qlib_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "core/clock.hpp"
#include "core/workspace.hpp"

namespace alphalab::engine {
namespace {

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string LowerStr(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

// A field file: a regular file only (a folder opens too, and reports an absurd size).
// A name for a message: control bytes shown as '?'.
std::string OneLineName(std::string name) {
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return name.substr(0, 64);
}

bool ReadFloats(const std::filesystem::path& file, std::vector<float>& out) {
  FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return false;
  struct stat st {};
  if (::fstat(::fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    std::fclose(f);
    return false;
  }
  std::fseek(f, 0, SEEK_END);
  const long bytes = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  out.resize(bytes > 0 ? static_cast<size_t>(bytes) / 4 : 0);
  const bool ok = std::fread(out.data(), 4, out.size(), f) == out.size();
  std::fclose(f);
  // Qlib files are little-endian; so is every platform alphalab builds on (x86-64, arm64).
  return ok;
}

}  // namespace

Result<QlibIndex> OpenQlibIndex(const std::filesystem::path& root) {
  QlibIndex idx;
  idx.root = root;
  const auto cal_file = root / "calendars" / "day.txt";
  auto cal_text = ReadFile(cal_file);
  if (!cal_text.ok()) return Status::NotFound(cal_file.string() + ": missing file");
  int line_no = 0;
  for (const auto& line : Lines(*cal_text)) {
    ++line_no;
    if (line.empty()) continue;
    auto d = ParseDate(std::string_view(line).substr(0, 10));
    if (!d.ok()) {
      return Status::InvalidArgument(cal_file.string() + ":" + std::to_string(line_no) +
                                     ": bad date '" + line + "'");
    }
    if (!idx.calendar.empty() && *d <= idx.calendar.back()) {
      return Status::InvalidArgument(cal_file.string() + ":" + std::to_string(line_no) + ": " +
                                     (*d == idx.calendar.back() ? "duplicate date " + line
                                                                : "dates not ascending: " + line));
    }
    idx.calendar.push_back(*d);
  }
  if (idx.calendar.empty()) return Status::InvalidArgument(cal_file.string() + ": empty calendar");
  const auto inst_dir = root / "instruments";
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(inst_dir, ec)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  if (ec || files.empty()) {
    return Status::NotFound((inst_dir / "all.txt").string() + ": missing file (no instruments/*.txt)");
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    const bool aa = a.filename() == "all.txt", bb = b.filename() == "all.txt";
    return aa != bb ? aa : a < b;
  });
  for (const auto& f : files) {
    auto text = ReadFile(f);
    if (!text.ok()) continue;
    const std::string name = "instruments/" + f.filename().string();
    int no = 0;
    for (const auto& line : Lines(*text)) {
      ++no;
      std::istringstream fields(line);
      std::string sym, first, last;
      fields >> sym >> first >> last;
      if (sym.empty()) continue;
      // The name becomes a folder under features/: no separators, NULs, control bytes or dots alone.
      const bool bad = sym == "." || sym == ".." || std::any_of(sym.begin(), sym.end(), [](char c) {
        return c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      });
      if (bad) {
        return Status::InvalidArgument(name + ":" + std::to_string(no) + ": bad instrument name '" +
                                       OneLineName(sym) + "'");
      }
      sym = Upper(sym);
      const auto [it, inserted] = idx.instruments.emplace(sym, name);
      if (!inserted && it->second != name) continue;  // listed by an earlier file
      if (first.empty() && last.empty()) continue;     // no dates: the feature span alone
      auto d0 = ParseDate(std::string_view(first).substr(0, 10));
      auto d1 = ParseDate(std::string_view(last).substr(0, 10));
      if (!d0.ok() || !d1.ok() || *d1 < *d0) {
        return Status::InvalidArgument((inst_dir / f.filename()).string() + ":" + std::to_string(no) +
                                       ": expected SYMBOL<TAB>start<TAB>end with start <= end (YYYY-MM-DD), got '" +
                                       line + "'");
      }
      auto [span, fresh] = idx.spans.emplace(sym, std::make_pair(*d0, *d1));
      if (!fresh) {
        span->second.first = std::min(span->second.first, *d0);
        span->second.second = std::max(span->second.second, *d1);
      }
    }
  }
  return idx;
}

Result<BarSeries> LoadQlibInstrument(const QlibIndex& idx, const std::string& symbol) {
  const std::string up = Upper(symbol);
  if (!idx.instruments.count(up)) {
    return Status::NotFound("instrument " + up + " is not in the index " +
                            (idx.root / "instruments").string() + "/*.txt");
  }
  const auto dir = idx.root / "features" / LowerStr(symbol);
  if (!std::filesystem::is_directory(dir)) {
    return Status::NotFound("instrument " + up + " is listed in " + idx.instruments.at(up) +
                            " but " + dir.string() + "/ is missing");
  }
  static const char* kFields[] = {"open", "high", "low", "close", "volume"};
  std::vector<float> raw[5];
  size_t start = 0, len = 0;
  for (int k = 0; k < 5; ++k) {
    const auto file = dir / (std::string(kFields[k]) + ".day.bin");
    if (!ReadFloats(file, raw[k])) return Status::NotFound(file.string() + ": missing file");
    if (raw[k].empty()) return Status::InvalidArgument(file.string() + ": empty file");
    const float s = raw[k][0];
    // Checked against the calendar as a float first: a huge or infinite index is not a size_t.
    if (!(s >= 0) || s != std::floor(s) || s > static_cast<float>(idx.calendar.size())) {
      return Status::InvalidArgument(file.string() + ": bad start index " + std::to_string(s));
    }
    const size_t st = static_cast<size_t>(s), n = raw[k].size() - 1;
    if (st + n > idx.calendar.size()) {
      return Status::InvalidArgument(
          file.string() + ": span (start index " + std::to_string(st) + ", " + std::to_string(n) +
          " values) runs past the calendar (" + std::to_string(idx.calendar.size()) + " days)");
    }
    if (k == 0) {
      start = st;
      len = n;
    } else if (st != start || n != len) {
      return Status::InvalidArgument(file.string() + ": span (start " + std::to_string(st) + ", " +
                                     std::to_string(n) + " values) differs from open.day.bin (start " +
                                     std::to_string(start) + ", " + std::to_string(len) + ")");
    }
  }
  // The listed span clips the feature span (days outside it are not the instrument's).
  int32_t listed_from = INT32_MIN, listed_to = INT32_MAX;
  if (auto it = idx.spans.find(up); it != idx.spans.end()) {
    listed_from = it->second.first;
    listed_to = it->second.second;
  }
  BarSeries s;
  s.symbol = up;
  s.Reserve(len);
  size_t nan_count = 0;
  int32_t first_gap = 0;
  for (size_t i = 0; i < len; ++i) {
    double v[5];
    bool nan = false;
    for (int k = 0; k < 5; ++k) {
      v[k] = raw[k][i + 1];
      nan = nan || std::isnan(v[k]);
    }
    const int32_t day = idx.calendar[start + i];
    if (day < listed_from || day > listed_to) continue;
    if (nan) {
      if (nan_count++ == 0) first_gap = day;
      continue;
    }
    for (int k = 0; k < 4; ++k) {
      if (!(v[k] > 0)) {
        return Status::InvalidArgument((dir / (std::string(kFields[k]) + ".day.bin")).string() +
                                       ": non-positive " + kFields[k] + " on " + FormatDate(day));
      }
    }
    if (v[1] < v[2]) {
      return Status::InvalidArgument(dir.string() + ": high < low on " + FormatDate(day));
    }
    s.date.push_back(day);
    s.open.push_back(v[0]);
    s.high.push_back(v[1]);
    s.low.push_back(v[2]);
    s.close.push_back(v[3]);
    s.adj_close.push_back(v[3]);
    s.volume.push_back(v[4]);
  }
  if (nan_count > 0) {
    return Status::InvalidArgument(dir.string() + ": " + std::to_string(nan_count) +
                                   " calendar day(s) without data inside the instrument's span, "
                                   "first on " + FormatDate(first_gap));
  }
  if (s.size() == 0) {
    return Status::InvalidArgument(dir.string() + ": no data" +
                                   (listed_from != INT32_MIN ? " inside the listed span " + FormatDate(listed_from) +
                                                                   " .. " + FormatDate(listed_to)
                                                             : std::string()));
  }
  return s;
}

Status WriteQlibField(const std::filesystem::path& file, uint32_t start_index,
                      const std::vector<float>& values) {
  std::string bytes(4 * (values.size() + 1), '\0');
  const float st = static_cast<float>(start_index);
  std::memcpy(bytes.data(), &st, 4);
  if (!values.empty()) std::memcpy(bytes.data() + 4, values.data(), 4 * values.size());
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  return WriteFileAtomic(file, bytes);
}

}  // namespace alphalab::engine

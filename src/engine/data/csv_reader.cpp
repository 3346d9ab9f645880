#include "engine/data/csv_reader.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <unistd.h>

#include "core/clock.hpp"
#include "core/workspace.hpp"

namespace alphalab::engine {
namespace {

enum Col { kDate, kOpen, kHigh, kLow, kClose, kAdj, kVolume, kNumCols };

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '_' || c == '"' || c == '\r' || c == '\xEF' || c == '\xBB' || c == '\xBF') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

int ColumnOf(std::string_view name) {
  const std::string n = Lower(name);
  if (n == "date" || n == "datetime" || n == "timestamp") return kDate;
  if (n == "open") return kOpen;
  if (n == "high") return kHigh;
  if (n == "low") return kLow;
  if (n == "close") return kClose;
  if (n == "adjclose" || n == "adjustedclose") return kAdj;
  if (n == "volume" || n == "vol") return kVolume;
  return -1;
}

// Fast YYYY-MM-DD (a time suffix after the date is ignored).
bool ParseDay(std::string_view f, int32_t& out) {
  if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
  if (f.size() < 10 || f[4] != '-' || f[7] != '-') return false;
  auto digits = [&](size_t a, size_t n, int& v) {
    v = 0;
    for (size_t i = a; i < a + n; ++i) {
      if (f[i] < '0' || f[i] > '9') return false;
      v = v * 10 + (f[i] - '0');
    }
    return true;
  };
  int y, m, d;
  if (!digits(0, 4, y) || !digits(5, 2, m) || !digits(8, 2, d)) return false;
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  if (f.size() > 10 && f[10] != ' ' && f[10] != 'T') return false;
  const int32_t days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  int yy;
  unsigned mm, dd;
  CivilFromDays(days, yy, mm, dd);
  if (yy != y || static_cast<int>(mm) != m || static_cast<int>(dd) != d) return false;  // 02-30
  out = days;
  return true;
}

bool ParseNumber(std::string_view f, double& out) {
  while (!f.empty() && (f.front() == ' ' || f.front() == '"')) f.remove_prefix(1);
  while (!f.empty() && (f.back() == ' ' || f.back() == '"' || f.back() == '\r')) f.remove_suffix(1);
  if (f.empty()) return false;
  if (f.front() == '+') f.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), out);
  return ec == std::errc() && ptr == f.data() + f.size() && std::isfinite(out);
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

constexpr char kCacheMagic[8] = {'A', 'L', 'B', 'A', 'R', 'S', '0', '1'};

struct CacheHeader {
  char magic[8];
  uint64_t file_size;
  int64_t mtime_ns;
  uint64_t rows;
};

}  // namespace

bool ParseCsvDate(std::string_view field, int32_t& days) { return ParseDay(field, days); }
bool ParseCsvNumber(std::string_view field, double& value) { return ParseNumber(field, value); }

int SplitCsvLine(std::string_view line, std::string_view* fields, int max_fields) {
  int n = 0;
  size_t fpos = 0;
  while (n < max_fields) {
    size_t comma = line.find(',', fpos);
    fields[n++] = line.substr(fpos, comma == std::string_view::npos ? std::string_view::npos : comma - fpos);
    if (comma == std::string_view::npos) break;
    fpos = comma + 1;
  }
  return n;
}

Result<BarSeries> ParseBarsCsv(std::string_view text, std::string symbol,
                               std::string_view display_name) {
  const std::string where(display_name);
  BarSeries s;
  s.symbol = std::move(symbol);
  int index[kNumCols];
  std::fill(std::begin(index), std::end(index), -1);
  int ncols = 0;
  bool header_done = false;
  std::string_view fields[32];
  s.Reserve(text.size() / 60 + 1);
  RETURN_IF_ERROR(ForEachCsvLine(text, fields, 32, [&](uint32_t line_no, int n) -> Status {
    const std::string at = where + ":" + std::to_string(line_no) + ": ";
    if (!header_done) {
      for (int i = 0; i < n; ++i) {
        int c = ColumnOf(fields[i]);
        if (c >= 0 && index[c] < 0) index[c] = i;
      }
      for (int c : {kDate, kOpen, kHigh, kLow, kClose}) {
        if (index[c] < 0) {
          static const char* names[] = {"date", "open", "high", "low", "close"};
          return Status::InvalidArgument(
              at + "header has no '" + names[c] +
              "' column (expected Date,Open,High,Low,Close[,Adj Close][,Volume])");
        }
      }
      ncols = n;
      header_done = true;
      return Status::Ok();
    }
    if (n < ncols) {
      return Status::InvalidArgument(at + "expected " + std::to_string(ncols) + " fields, got " +
                                     std::to_string(n));
    }
    int32_t day;
    if (!ParseDay(fields[index[kDate]], day)) {
      return Status::InvalidArgument(at + "bad date '" + std::string(fields[index[kDate]]) +
                                     "' (expected YYYY-MM-DD)");
    }
    double v[kNumCols] = {0, 0, 0, 0, 0, 0, 0};
    static const char* names[] = {"date", "open", "high", "low", "close", "adj close", "volume"};
    for (int c = kOpen; c < kNumCols; ++c) {
      if (index[c] < 0) continue;
      if (!ParseNumber(fields[index[c]], v[c])) {
        return Status::InvalidArgument(at + "bad " + names[c] + " value '" +
                                       std::string(fields[index[c]]) + "'");
      }
    }
    if (index[kAdj] < 0) v[kAdj] = v[kClose];
    for (int c : {kOpen, kHigh, kLow, kClose, kAdj}) {
      if (!(v[c] > 0)) {
        return Status::InvalidArgument(at + "non-positive " + names[c] + " " + Num(v[c]) + " on " +
                                       FormatDate(day));
      }
    }
    if (v[kHigh] < v[kLow]) {
      return Status::InvalidArgument(at + "high " + Num(v[kHigh]) + " < low " + Num(v[kLow]) +
                                     " on " + FormatDate(day));
    }
    if (v[kVolume] < 0) {
      return Status::InvalidArgument(at + "negative volume " + Num(v[kVolume]) + " on " +
                                     FormatDate(day));
    }
    if (!s.date.empty()) {
      if (day == s.date.back()) {
        return Status::InvalidArgument(at + "duplicate date " + FormatDate(day));
      }
      if (day < s.date.back()) {
        return Status::InvalidArgument(at + "dates not ascending: " + FormatDate(day) +
                                       " comes after " + FormatDate(s.date.back()));
      }
    }
    s.date.push_back(day);
    s.open.push_back(v[kOpen]);
    s.high.push_back(v[kHigh]);
    s.low.push_back(v[kLow]);
    s.close.push_back(v[kClose]);
    s.adj_close.push_back(v[kAdj]);
    s.volume.push_back(v[kVolume]);
    return Status::Ok();
  }));
  if (!header_done) return Status::InvalidArgument(where + ": empty file (no header)");
  if (s.size() == 0) return Status::InvalidArgument(where + ": no data rows");
  return s;
}

Result<BarSeries> LoadBarsCsv(const std::filesystem::path& file, std::string symbol,
                              std::string_view display_name, bool use_cache) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return Status::NotFound(std::string(display_name) + ": missing file");
  const auto mtime = std::filesystem::last_write_time(file, ec);
  const int64_t mtime_ns = ec ? 0 : static_cast<int64_t>(mtime.time_since_epoch().count());
  const auto cache = file.parent_path() / ".cache" / (file.stem().string() + ".bin");
  if (use_cache) {
    if (FILE* f = std::fopen(cache.c_str(), "rb")) {
      CacheHeader h{};
      bool ok = std::fread(&h, sizeof h, 1, f) == 1 &&
                std::memcmp(h.magic, kCacheMagic, sizeof kCacheMagic) == 0 &&
                h.file_size == size && h.mtime_ns == mtime_ns && h.rows > 0 && h.rows < (1u << 26);
      if (ok) {
        BarSeries s;
        s.symbol = symbol;
        s.date.resize(h.rows);
        ok = std::fread(s.date.data(), sizeof(int32_t), h.rows, f) == h.rows;
        for (auto* col : {&s.open, &s.high, &s.low, &s.close, &s.adj_close, &s.volume}) {
          col->resize(h.rows);
          ok = ok && std::fread(col->data(), sizeof(double), h.rows, f) == h.rows;
        }
        std::fclose(f);
        if (ok) return s;
      } else {
        std::fclose(f);
      }
    }
  }
  auto text = ReadFile(file);
  if (!text.ok()) return Status::NotFound(std::string(display_name) + ": missing file");
  ASSIGN_OR_RETURN(auto s, ParseBarsCsv(*text, std::move(symbol), display_name));
  if (use_cache) {
    std::filesystem::create_directories(cache.parent_path(), ec);
    const auto tmp = cache.string() + ".tmp" + std::to_string(::getpid());
    if (FILE* f = ec ? nullptr : std::fopen(tmp.c_str(), "wb")) {
      CacheHeader h{};
      std::memcpy(h.magic, kCacheMagic, sizeof kCacheMagic);
      h.file_size = size;
      h.mtime_ns = mtime_ns;
      h.rows = s.size();
      bool ok = std::fwrite(&h, sizeof h, 1, f) == 1 &&
                std::fwrite(s.date.data(), sizeof(int32_t), s.size(), f) == s.size();
      for (auto* col : {&s.open, &s.high, &s.low, &s.close, &s.adj_close, &s.volume}) {
        ok = ok && std::fwrite(col->data(), sizeof(double), s.size(), f) == s.size();
      }
      ok = std::fclose(f) == 0 && ok;
      if (ok) {
        std::filesystem::rename(tmp, cache, ec);
      }
      if (!ok || ec) std::filesystem::remove(tmp, ec);
    }
  }
  return s;
}

std::string FormatBarsCsv(const BarSeries& s) {
  std::string out = "date,open,high,low,close,adjclose,volume\n";
  out.reserve(s.size() * 72 + 64);
  char buf[64];
  auto fixed = [&](double v, int decimals) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
    out.append(buf, ec == std::errc() ? end : buf);
  };
  for (size_t i = 0; i < s.size(); ++i) {
    out += FormatDate(s.date[i]);
    for (const auto* col : {&s.open, &s.high, &s.low, &s.close, &s.adj_close}) {
      out += ',';
      fixed((*col)[i], 4);
    }
    out += ',';
    fixed(s.volume[i], 0);
    out += '\n';
  }
  return out;
}

}  // namespace alphalab::engine

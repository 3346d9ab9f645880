#include "engine/data/layout_check.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

#include "core/confined_open.hpp"

namespace alphalab::engine {

namespace fs = std::filesystem;

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The entry names of the folder `rel` beneath `base` ("" = base); nullopt when it is not a
// folder reached without leaving `base`.
std::optional<std::vector<std::string>> ListConfined(const fs::path& base, const fs::path& rel) {
  int raw = -1;
  if (rel.empty()) {
    raw = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else if (auto fd = OpenConfined(base, rel, O_RDONLY | O_DIRECTORY); fd.ok()) {
    raw = fd->release();
  }
  if (raw < 0) return std::nullopt;
  DIR* d = ::fdopendir(raw);
  if (!d) {
    ::close(raw);
    return std::nullopt;
  }
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

void MissingSymbol(LayoutReport& r, const std::string& sym) {
  ++r.missing_count;
  if (r.missing.size() < LayoutReport::kMaxListed) r.missing.push_back(sym);
}

void MissingPath(LayoutReport& r, std::string what) {
  ++r.missing_paths_count;
  if (r.missing_paths.size() < LayoutReport::kMaxListed) r.missing_paths.push_back(std::move(what));
}

}  // namespace

LayoutReport CheckLayout(const fs::path& base, const fs::path& folder, const std::string& format,
                         const LayoutOptions& options) {
  const fs::path dir = folder == "." ? fs::path() : folder;
  LayoutReport r;
  r.format = format;
  const auto top = ListConfined(base, dir);
  if (!top) {
    r.problems.push_back("the dataset folder does not exist");
    MissingPath(r, "the folder itself");
    return r;
  }
  const std::vector<std::string>& only = options.only;
  if (format == "csv") {
    std::set<std::string> have;
    for (const std::string& n : *top) {
      if (n.size() > 4 && n.ends_with(".csv")) have.insert(Upper(n.substr(0, n.size() - 4)));
    }
    if (have.empty()) r.problems.push_back("no <SYMBOL>.csv file in the folder");
    const std::vector<std::string> wanted = only.empty() ? std::vector<std::string>(have.begin(), have.end()) : only;
    r.instruments = static_cast<int64_t>(wanted.size());
    for (const std::string& s : wanted) {
      if (!have.count(Upper(s))) {
        MissingSymbol(r, s);
        MissingPath(r, Upper(s) + ".csv");
      }
    }
    if (r.missing_count > 0) r.problems.push_back(std::to_string(r.missing_count) + " instrument(s) have no <SYMBOL>.csv");
    r.ok = r.problems.empty();
    return r;
  }
  // qlib
  if (auto cal = ReadFileConfined(base, dir / "calendars" / "day.txt"); !cal.ok()) {
    r.problems.push_back("calendars/day.txt is missing");
    MissingPath(r, "calendars/day.txt");
  } else {
    std::istringstream in(*cal);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line != "\r") ++r.calendar_days;
    }
    if (r.calendar_days == 0) r.problems.push_back("calendars/day.txt is empty");
  }
  // Symbols in file order (the first max_instruments are checked), upper-cased, unique.
  std::vector<std::string> listed;
  std::set<std::string> listed_set;
  auto read_instruments = [&](const std::string& name) {
    auto text = ReadFileConfined(base, dir / "instruments" / name);
    if (!text.ok()) return false;
    r.instruments_files.push_back(name);
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      const std::string sym = Upper(line.substr(0, line.find_first_of(" \t,\r")));
      if (!sym.empty() && listed_set.insert(sym).second) listed.push_back(sym);
    }
    return true;
  };
  if (!options.market.empty()) {
    if (!read_instruments(options.market + ".txt")) {
      r.problems.push_back("instruments/" + options.market + ".txt is missing");
      MissingPath(r, "instruments/" + options.market + ".txt");
    }
  } else if (auto names = ListConfined(base, dir / "instruments"); !names) {
    r.problems.push_back("instruments/ is missing");
    MissingPath(r, "instruments/");
  } else {
    std::sort(names->begin(), names->end());
    for (const std::string& n : *names) {
      if (n.size() > 4 && n.ends_with(".txt")) read_instruments(n);
    }
    if (r.instruments_files.empty()) r.problems.push_back("instruments/ holds no *.txt file");
  }
  const bool features = ListConfined(base, dir / "features").has_value();
  if (!features) {
    r.problems.push_back("features/ is missing");
    MissingPath(r, "features/");
  }
  std::vector<std::string> wanted = only.empty() ? listed : only;
  if (wanted.size() > options.max_instruments) wanted.resize(options.max_instruments);
  r.instruments = static_cast<int64_t>(wanted.size());
  for (const std::string& s : wanted) {
    if (!only.empty() && !listed_set.empty() && !listed_set.count(Upper(s))) {
      r.problems.push_back(s + " is in no instruments/*.txt file");
    }
    if (!features) continue;
    const std::string lower = Lower(s);
    const auto files = ListConfined(base, dir / "features" / lower);
    const bool bin = files && std::any_of(files->begin(), files->end(), [](const std::string& n) {
                       return n.size() > 8 && n.ends_with(".day.bin");
                     });
    if (bin) continue;
    MissingSymbol(r, s);
    MissingPath(r, "features/" + lower + (files ? "/*.day.bin" : "/") + " (instrument " + Upper(s) + ")");
  }
  if (features && r.missing_count > 0) {
    const std::string first = "features/" + Lower(r.missing.front()) + "/";
    r.problems.push_back(std::to_string(r.missing_count) + " instrument(s) have no features/<symbol>/*.day.bin (first: " +
                         first + ")");
  }
  r.ok = r.problems.empty();
  return r;
}

Json LayoutReportJson(const LayoutReport& r) {
  return Json{{"ok", r.ok},
              {"format", r.format},
              {"calendar_days", r.calendar_days},
              {"instruments_files", r.instruments_files},
              {"instruments", r.instruments},
              {"missing", r.missing},
              {"missing_count", r.missing_count},
              {"problems", r.problems}};
}

}  // namespace alphalab::engine

#include "datasets/qlib_layout.hpp"

#include <algorithm>
#include <fstream>
#include <set>

namespace alphalab::datasets {

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

void Missing(LayoutReport& r, const std::string& sym) {
  ++r.missing_count;
  if (r.missing.size() < LayoutReport::kMaxListed) r.missing.push_back(sym);
}

}  // namespace

LayoutReport CheckLayout(const fs::path& dir, const std::string& format, const std::vector<std::string>& only) {
  LayoutReport r;
  r.format = format;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    r.problems.push_back("the dataset folder does not exist");
    return r;
  }
  if (format == "csv") {
    std::set<std::string> have;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->path().extension() == ".csv") have.insert(Upper(it->path().stem().string()));
    }
    if (have.empty()) r.problems.push_back("no <SYMBOL>.csv file in the folder");
    const std::vector<std::string> wanted = only.empty() ? std::vector<std::string>(have.begin(), have.end()) : only;
    r.instruments = static_cast<int64_t>(wanted.size());
    for (const std::string& s : wanted) {
      if (!have.count(Upper(s))) Missing(r, s);
    }
    if (r.missing_count > 0) r.problems.push_back(std::to_string(r.missing_count) + " instrument(s) have no <SYMBOL>.csv");
    r.ok = r.problems.empty();
    return r;
  }
  // qlib
  const fs::path cal = dir / "calendars" / "day.txt";
  {
    std::ifstream in(cal);
    if (!in) {
      r.problems.push_back("calendars/day.txt is missing");
    } else {
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty() && line != "\r") ++r.calendar_days;
      }
      if (r.calendar_days == 0) r.problems.push_back("calendars/day.txt is empty");
    }
  }
  std::set<std::string> listed;
  if (!fs::is_directory(dir / "instruments", ec)) {
    r.problems.push_back("instruments/ is missing");
  } else {
    for (auto it = fs::directory_iterator(dir / "instruments", ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      if (it->path().extension() != ".txt") continue;
      r.instruments_files.push_back(it->path().filename().string());
      std::ifstream in(it->path());
      std::string line;
      while (std::getline(in, line)) {
        const size_t e = line.find_first_of(" \t\r");
        const std::string sym = line.substr(0, e);
        if (!sym.empty()) listed.insert(Upper(sym));
      }
    }
    std::sort(r.instruments_files.begin(), r.instruments_files.end());
    if (r.instruments_files.empty()) r.problems.push_back("instruments/ holds no *.txt file");
  }
  const bool features = fs::is_directory(dir / "features", ec);
  if (!features) r.problems.push_back("features/ is missing");
  std::vector<std::string> wanted = only.empty() ? std::vector<std::string>(listed.begin(), listed.end()) : only;
  r.instruments = static_cast<int64_t>(wanted.size());
  for (const std::string& s : wanted) {
    if (!only.empty() && !listed.empty() && !listed.count(Upper(s))) {
      r.problems.push_back(s + " is in no instruments/*.txt file");
    }
    if (!features) continue;
    const fs::path fdir = dir / "features" / Lower(s);
    bool bin = false;
    for (auto it = fs::directory_iterator(fdir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string n = it->path().filename().string();
      if (n.size() > 8 && n.ends_with(".day.bin")) {
        bin = true;
        break;
      }
    }
    ec.clear();
    if (!bin) Missing(r, s);
  }
  if (features && r.missing_count > 0) {
    std::string first = "features/" + Lower(r.missing.front()) + "/";
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

}  // namespace alphalab::datasets

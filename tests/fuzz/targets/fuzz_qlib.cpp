// libFuzzer target: the Qlib directory reader (engine/data/qlib_reader.hpp). The input is cut
// at "\n@@\n" into up to 7 parts written as a Qlib folder: calendars/day.txt,
// instruments/all.txt, and features/fuzz/{open,high,low,close,volume}.day.bin (raw bytes:
// float32 start index, then one float32 per day). Every instrument listed is loaded. Anything
// may be refused with a Status; nothing may crash, leak, hang or throw, and an accepted series
// must satisfy the reader's promises (ascending dates, equal lengths, prices > 0, high >= low).
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/data/qlib_reader.hpp"

namespace fs = std::filesystem;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

const fs::path& Root() {
  static const fs::path root = [] {
    char tmpl[] = "/tmp/alphalab_fuzz_qlib_XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made == nullptr) std::abort();
    return fs::path(made);
  }();
  return root;
}

void Put(const fs::path& file, std::string_view bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct Cleanup {
  ~Cleanup() {
    std::error_code ec;
    fs::remove_all(Root(), ec);
  }
} cleanup;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  size_t at = 0;
  while (parts.size() < 6) {
    const size_t sep = input.find("\n@@\n", at);
    if (sep == std::string_view::npos) break;
    parts.push_back(input.substr(at, sep - at));
    at = sep + 4;
  }
  parts.push_back(input.substr(std::min(at, input.size())));
  parts.resize(7);
  const fs::path& root = Root();
  std::error_code ec;
  fs::remove_all(root / "features", ec);
  Put(root / "calendars" / "day.txt", parts[0]);
  Put(root / "instruments" / "all.txt", parts[1]);
  const char* fields[] = {"open", "high", "low", "close", "volume"};
  for (int i = 0; i < 5; ++i) {
    if (!parts[2 + i].empty()) Put(root / "features" / "fuzz" / (std::string(fields[i]) + ".day.bin"), parts[2 + i]);
  }
  auto index = alphalab::engine::OpenQlibIndex(root);
  if (!index.ok()) return 0;
  for (size_t i = 1; i < index->calendar.size(); ++i) Check(index->calendar[i - 1] <= index->calendar[i]);
  size_t loaded = 0;
  for (const auto& [symbol, file] : index->instruments) {
    if (++loaded > 4) break;
    auto s = alphalab::engine::LoadQlibInstrument(*index, symbol);
    if (!s.ok()) continue;
    const size_t n = s->size();
    Check(s->open.size() == n && s->high.size() == n && s->low.size() == n && s->close.size() == n &&
          s->adj_close.size() == n && s->volume.size() == n);
    for (size_t k = 0; k < n; ++k) {
      if (k > 0) Check(s->date[k - 1] < s->date[k]);
      Check(s->open[k] > 0 && s->high[k] > 0 && s->low[k] > 0 && s->close[k] > 0 && s->high[k] >= s->low[k]);
    }
  }
  return 0;
}

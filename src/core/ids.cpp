#include "core/ids.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace alphalab {

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(SHA256_DIGEST_LENGTH * 2, '0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

std::string MakeTimestampedId(std::string_view prefix, TimePoint now) {
  static std::atomic<uint64_t> counter{0};
  using namespace std::chrono;
  const int64_t nanos = duration_cast<nanoseconds>(now.time_since_epoch()).count();
  unsigned char random[8] = {};
  if (RAND_bytes(random, sizeof random) != 1) {
    // The counter and pid still make the id unique within and across processes.
    std::memset(random, 0, sizeof random);
  }
  char seed[96];
  const int n = std::snprintf(seed, sizeof seed, "%lld|%d|%llu|",
                              static_cast<long long>(nanos), static_cast<int>(getpid()),
                              static_cast<unsigned long long>(counter.fetch_add(1)));
  std::string material(seed, static_cast<size_t>(n));
  material.append(reinterpret_cast<const char*>(random), sizeof random);
  const std::string hash = Sha256Hex(material).substr(0, 8);

  const int64_t secs = nanos >= 0 ? nanos / 1000000000 : (nanos - 999999999) / 1000000000;
  const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t sod = secs - days * 86400;
  int y;
  unsigned m, d;
  CivilFromDays(static_cast<int32_t>(days), y, m, d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "_%04d%02u%02u_%02d%02d%02d__", y, m, d,
                static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
                static_cast<int>(sod % 60));
  return std::string(prefix) + buf + hash;
}

JobId NewJobId(TimePoint now) { return JobId(MakeTimestampedId("job", now)); }

bool IsSafeIdentifier(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace alphalab

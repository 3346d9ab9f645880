#include "core/ids.hpp"

#include <openssl/sha.h>
#include <sys/random.h>
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

namespace {
// A bijection on 32 bits (xorshift-multiply, "lowbias32"): distinct inputs give distinct outputs.
uint32_t Permute32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// From the kernel's generator (getrandom), not OpenSSL's RAND_bytes: the first RAND_bytes
// initializes OpenSSL's providers and DRBG, 2 MB of the server's idle RSS (the first id is
// made at start, for the registry export's temporary file).
uint32_t ProcessRandomBase() {
  uint32_t base = 0;
  if (getrandom(&base, sizeof base, 0) != static_cast<ssize_t>(sizeof base)) {
    base = static_cast<uint32_t>(getpid()) * 2654435761U ^
           static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return base;
}
}  // namespace

std::string MakeTimestampedId(std::string_view prefix, TimePoint now) {
  // The hash8 is a permutation of (random per-process base + counter): ids made by one process
  // never collide (for 2^32 ids), and different processes start at unrelated points. Should two
  // servers sharing one database ever meet, the store refuses the duplicate (AlreadyExists).
  static const uint32_t base = ProcessRandomBase();
  static std::atomic<uint32_t> counter{0};
  using namespace std::chrono;
  const int64_t nanos = duration_cast<nanoseconds>(now.time_since_epoch()).count();
  char hash[9];
  std::snprintf(hash, sizeof hash, "%08x", Permute32(base + counter.fetch_add(1)));

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

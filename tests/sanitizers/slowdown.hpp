// How many times slower a test runs in a sanitized build (presets asan, tsan; GCC defines
// __SANITIZE_ADDRESS__ for -fsanitize=address and __SANITIZE_THREAD__ for -fsanitize=thread).
// Tests with a wall-clock bound multiply the bound (and any delay it is measured against) by it,
// so a sanitized run fails on a finding or a gross slowdown, not on the sanitizer's own cost;
// the normal build's bounds are unchanged (1). Measured on the loaded 2-core VM, 2026-12-03:
// ASan + UBSan 1.1-1.3x past the 100 ms flow-control bound, TSan 1.25x past the 60 s bound of
// 100,000 SQLite task inserts.
#pragma once

namespace alphalab::testing {

#if defined(__SANITIZE_THREAD__)
inline constexpr int kSanitizerSlowdown = 5;
#elif defined(__SANITIZE_ADDRESS__)
inline constexpr int kSanitizerSlowdown = 3;
#else
inline constexpr int kSanitizerSlowdown = 1;
#endif

}  // namespace alphalab::testing

// Which SIMD kernels this process runs (engine hot loops with per-ISA variants, chosen once at
// run time so the generic x86-64 build stays portable):
//   kGeneric: plain C++ (any CPU);
//   kAvx2:    AVX2 kernels, when the CPU has AVX2.
// ResolveSimd(kAuto) is kAvx2 on a CPU with AVX2 unless the environment variable
// ALPHALAB_SIMD=generic forces the portable kernels (read once per process; the tests run
// once with it set). Every kernel pair computes the same values with the same roundings.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace alphalab {

enum class SimdPath : uint8_t { kAuto, kGeneric, kAvx2 };

inline bool CpuHasAvx2() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
#else
  return false;
#endif
}

// kAuto -> what this process uses; kAvx2 on a CPU without AVX2 -> kGeneric.
inline SimdPath ResolveSimd(SimdPath requested) {
  static const SimdPath detected = [] {
    const char* env = std::getenv("ALPHALAB_SIMD");
    if (env && std::strcmp(env, "generic") == 0) return SimdPath::kGeneric;
    return CpuHasAvx2() ? SimdPath::kAvx2 : SimdPath::kGeneric;
  }();
  if (requested == SimdPath::kAuto) return detected;
  if (requested == SimdPath::kAvx2 && !CpuHasAvx2()) return SimdPath::kGeneric;
  return requested;
}

inline const char* SimdPathName(SimdPath path) {
  switch (path) {
    case SimdPath::kAuto: return "auto";
    case SimdPath::kGeneric: return "generic";
    case SimdPath::kAvx2: return "avx2";
  }
  return "?";
}

}  // namespace alphalab

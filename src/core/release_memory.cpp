#include "core/release_memory.hpp"

#include <cstdlib>  // defines __GLIBC__ (through <features.h>) where the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace alphalab {

bool ReleaseFreeHeapMemory() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace alphalab

#include "core/release_memory.hpp"

#include <cstdlib>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace alphalab {
namespace {

// Freed blocks below the mmap threshold stay in glibc's heap; ReleaseFreeHeapMemory() gives
// their pages back (malloc_trim) and says so. Under a sanitizer the allocator is not glibc's.
TEST(ReleaseFreeHeapMemoryTest, GivesFreedHeapPagesBack) {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 256; ++i) {
    blocks.emplace_back(new char[32 * 1024]);
    blocks.back()[0] = static_cast<char>(i);  // touched: resident
  }
  auto keep = std::make_unique<char[]>(64);  // above them, so they are not the heap's top
  for (size_t i = 0; i < blocks.size(); i += 2) blocks[i].reset();  // every other: no merging into the top
  EXPECT_TRUE(ReleaseFreeHeapMemory());
#else
  GTEST_SKIP() << "not glibc's allocator";
#endif
}

}  // namespace
}  // namespace alphalab

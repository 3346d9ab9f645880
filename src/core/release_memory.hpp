// Gives the heap's free memory back to the operating system (glibc's malloc_trim(0)).
// glibc keeps what a burst freed in its arenas for reuse: after the SSE load benchmark the
// server held 22 MB of heap for 6-8 MB in use (docs/benchmarks.md). The server calls this
// once it has been idle a moment (http/server.cpp, ServerOptions::idle_trim_ms).
#pragma once

namespace alphalab {

// Returns whether any memory was released; always false where the C library has no
// malloc_trim (not glibc).
bool ReleaseFreeHeapMemory();

}  // namespace alphalab

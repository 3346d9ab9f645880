// Fixed-point text for the per-bar CSV rows of a backtest folder (equity.csv, trades.csv).
#pragma once

#include <cstddef>
#include <string>

namespace alphalab::engine {

// Appends `v` with `decimals` digits after the point: exactly the text of
// std::to_chars(..., std::chars_format::fixed, decimals) ("nan" when that fails). Values whose
// scaled magnitude is small enough are formatted through one integer (several times faster);
// anything that could round differently that way (near a half, very large, not finite) goes
// through std::to_chars itself.
void AppendFixed(std::string& out, double v, int decimals);
// The same text written at `out` (at most kMaxFixedChars bytes); returns the end.
inline constexpr size_t kMaxFixedChars = 64;
char* WriteFixed(char* out, double v, int decimals);

}  // namespace alphalab::engine

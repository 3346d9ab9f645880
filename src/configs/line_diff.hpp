// A unified diff of two texts, line by line (Myers' O(ND) algorithm on line hashes after the
// common head and tail are cut off). Written here because no Debian C++ library offers one.
// When the two middles differ in more than `max_edits` lines the middle is shown as one hunk
// that removes all of the old and adds all of the new (still a correct diff, never slow).
#pragma once

#include <string>
#include <string_view>

namespace alphalab::configs {

struct UnifiedDiffStats {
  int added = 0;
  int removed = 0;
};

// "--- <from_label>\n+++ <to_label>\n@@ -a,b +c,d @@\n..." with `context` lines around each
// change; "" when the texts are equal.
std::string UnifiedDiff(std::string_view from, std::string_view to, std::string_view from_label,
                        std::string_view to_label, int context = 3, UnifiedDiffStats* stats = nullptr,
                        int max_edits = 2000);

}  // namespace alphalab::configs

# cmake -DIN=<file> -DOUT=<file.cpp> -DNAMESPACE=<ns> -DFUNCTION=<name> -P EmbedText.cmake
# Writes a .cpp defining `std::string_view <ns>::<name>()` that returns the bytes of IN.
# The text is split into raw string literals of at most 16000 bytes (-Woverlength-strings)
# and joined once at first use.
file(READ "${IN}" text)
string(LENGTH "${text}" len)
set(parts "")
set(pos 0)
while(pos LESS len)
  string(SUBSTRING "${text}" ${pos} 16000 chunk)
  string(APPEND parts "    R\"alphalab_embed(${chunk})alphalab_embed\",\n")
  math(EXPR pos "${pos} + 16000")
endwhile()
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/EmbedText.cmake. Do not edit.
#include <string>
#include <string_view>

namespace ${NAMESPACE} {

std::string_view ${FUNCTION}() {
  static constexpr std::string_view kParts[] = {
${parts}  };
  static const std::string text = [] {
    std::string out;
    for (std::string_view p : kParts) out.append(p);
    return out;
  }();
  return text;
}

}  // namespace ${NAMESPACE}
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")

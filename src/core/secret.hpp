// Secrets: random bytes from the OS (OpenSSL RAND_bytes) and a comparison that
// takes the same time whatever the inputs share. Used for API tokens and session ids, which are
// only ever stored as their SHA-256 (docs/security.md).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/ids.hpp"  // Sha256Hex: the SHA-256 digests tokens and session ids are stored as
#include "core/status.hpp"

namespace alphalab {

// `n` random bytes as unpadded base64url (RFC 4648 section 5). Internal error when the OS has no
// randomness to give.
Result<std::string> RandomBase64Url(size_t n);
// `n` random bytes as lowercase hex.
Result<std::string> RandomHex(size_t n);
// Equality of two strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace alphalab

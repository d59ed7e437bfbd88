// Caller tokens are never stored, only their SHA-256 digests, written "sha256:<64 hex digits>".
#ifndef COMMON_SECURITY_TOKEN_DIGEST_H_
#define COMMON_SECURITY_TOKEN_DIGEST_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace claude {

using TokenDigest = std::array<uint8_t, 32>;

// The SHA-256 of `token`'s bytes.
TokenDigest DigestToken(absl::string_view token);

// "sha256:<lower-case hex>", the form the callers file holds; the same as
// `printf %s "$TOKEN" | sha256sum` prints, with the prefix.
std::string FormatTokenDigest(const TokenDigest& digest);

// Parses "sha256:<64 hex digits>" (either case); nullopt for anything else.
std::optional<TokenDigest> ParseTokenDigest(absl::string_view text);

// Compares two digests in time independent of where they differ.
bool DigestsEqual(const TokenDigest& a, const TokenDigest& b);

}  // namespace claude

#endif  // COMMON_SECURITY_TOKEN_DIGEST_H_

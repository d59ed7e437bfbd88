#include "common/security/token_digest.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace claude {
namespace {

constexpr absl::string_view kPrefix = "sha256:";

}  // namespace

TokenDigest DigestToken(absl::string_view token) {
  TokenDigest digest;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  return digest;
}

std::string FormatTokenDigest(const TokenDigest& digest) {
  return std::string(kPrefix) + absl::BytesToHexString(absl::string_view(
                                    reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::optional<TokenDigest> ParseTokenDigest(absl::string_view text) {
  if (!absl::StartsWithIgnoreCase(text, kPrefix)) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  if (text.size() != 64) return std::nullopt;
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  const std::string bytes = absl::HexStringToBytes(text);
  TokenDigest digest;
  for (size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<uint8_t>(bytes[i]);
  return digest;
}

bool DigestsEqual(const TokenDigest& a, const TokenDigest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace claude

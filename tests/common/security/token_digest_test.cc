// Caller token digests: SHA-256 as sha256sum prints it, the "sha256:" form the callers file
// holds (parsed strictly: anything else is no digest), and the comparison.
#include "common/security/token_digest.h"

#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

// `printf %s abc | sha256sum` (FIPS 180-2's first example).
constexpr char kAbcDigest[] =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
// `printf %s '' | sha256sum`.
constexpr char kEmptyDigest[] =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(TokenDigestTest, DigestIsSha256InTheCallersFilesForm) {
  EXPECT_EQ(FormatTokenDigest(DigestToken("abc")), kAbcDigest);
  EXPECT_EQ(FormatTokenDigest(DigestToken("")), kEmptyDigest);
  // Every byte counts, a NUL included.
  EXPECT_NE(DigestToken(std::string("abc\0", 4)), DigestToken("abc"));
}

TEST(TokenDigestTest, ParseReadsWhatFormatWrites) {
  const TokenDigest digest = DigestToken("a caller's token");
  EXPECT_EQ(ParseTokenDigest(FormatTokenDigest(digest)), std::optional<TokenDigest>(digest));
}

TEST(TokenDigestTest, ParseAcceptsEitherCase) {
  const std::optional<TokenDigest> upper =
      ParseTokenDigest("SHA256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(*upper, DigestToken("abc"));
}

TEST(TokenDigestTest, ParseRefusesAnythingElse) {
  const std::string hex = std::string(kAbcDigest).substr(7);
  for (const std::string& text : {
           hex,                                             // no prefix
           "sha1:" + hex,                                   // another algorithm
           "sha256:" + hex.substr(1),                       // 63 digits
           "sha256:" + hex + "0",                           // 65 digits
           "sha256:" + hex.substr(1) + "g",                 // not hex
           " sha256:" + hex,                                // a blank before
           "sha256: " + hex.substr(1),                      // a blank inside
           "sha256:" + hex.substr(2) + "\xc3\xa9",          // not ASCII
           std::string("sha256:") + std::string(64, '\0'),  // NULs
           std::string("sha256:"),
           std::string(""),
       }) {
    EXPECT_EQ(ParseTokenDigest(text), std::nullopt) << text;
  }
}

TEST(TokenDigestTest, DigestsEqualComparesEveryByte) {
  const TokenDigest digest = DigestToken("abc");
  EXPECT_TRUE(DigestsEqual(digest, DigestToken("abc")));
  TokenDigest last_differs = digest;
  last_differs[31] ^= 1;
  EXPECT_FALSE(DigestsEqual(digest, last_differs));
  TokenDigest first_differs = digest;
  first_differs[0] ^= 0x80;
  EXPECT_FALSE(DigestsEqual(digest, first_differs));
}

}  // namespace
}  // namespace claude

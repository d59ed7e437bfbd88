#include "service/upstream/sigv4_signer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/civil_time.h"

namespace claude {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;

// The credentials, clock, region and service of AWS's published SigV4 test suite.
const AwsCredentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

absl::Time SuiteTime() {
  return absl::FromCivil(absl::CivilSecond(2015, 8, 30, 12, 36, 0), absl::UTCTimeZone());
}

SigV4Options SuiteOptions() {
  SigV4Options options;
  options.region = "us-east-1";
  options.service = "service";
  options.add_content_sha256 = false;  // the suite's requests sign no payload header
  return options;
}

const std::string* Find(const HttpHeaders& headers, absl::string_view name) {
  return FindHeader(headers, name);
}

SigV4Signature Sign(absl::string_view method, absl::string_view url, const HttpHeaders& headers,
                    absl::string_view body) {
  SigV4Request request;
  request.method = method;
  request.url = url;
  request.headers = &headers;
  request.body = body;
  absl::StatusOr<SigV4Signature> signature =
      SignSigV4(request, kSuiteCredentials, SuiteOptions(), SuiteTime());
  EXPECT_TRUE(signature.ok()) << signature.status();
  return signature.ok() ? *signature : SigV4Signature{};
}

constexpr char kSuiteCredentialPrefix[] =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

TEST(SigV4SignerTest, GetVanillaMatchesTheTestSuite) {
  const SigV4Signature s = Sign("GET", "https://example.amazonaws.com/", {}, "");
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_THAT(s.headers, ::testing::ElementsAre(
                             Pair("x-amz-date", "20150830T123600Z"),
                             Pair("authorization",
                                  std::string(kSuiteCredentialPrefix) +
                                      "SignedHeaders=host;x-amz-date, Signature="
                                      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")));
}

TEST(SigV4SignerTest, PostVanillaMatchesTheTestSuite) {
  const SigV4Signature s = Sign("POST", "https://example.amazonaws.com/", {}, "");
  EXPECT_THAT(*Find(s.headers, "authorization"),
              HasSubstr("Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"));
}

TEST(SigV4SignerTest, PostWithBodyMatchesTheTestSuite) {
  // post-x-www-form-urlencoded: a signed content-type and a body.
  const SigV4Signature s = Sign("POST", "https://example.amazonaws.com/",
                                {{"content-type", "application/x-www-form-urlencoded"}},
                                "Param1=value1");
  EXPECT_THAT(s.canonical_request,
              ::testing::EndsWith("content-type;host;x-amz-date\n"
                                  "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"));
  EXPECT_EQ(*Find(s.headers, "authorization"),
            std::string(kSuiteCredentialPrefix) +
                "SignedHeaders=content-type;host;x-amz-date, Signature="
                "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(SigV4SignerTest, QueryIsSortedAsTheTestSuiteExpects) {
  // get-vanilla-query-order-key-case.
  const SigV4Signature s =
      Sign("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", {}, "");
  EXPECT_THAT(*Find(s.headers, "authorization"),
              HasSubstr("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
}

TEST(SigV4SignerTest, Utf8PathMatchesTheTestSuite) {
  // get-utf8: the path "/ሴ" sent raw is encoded once in the canonical request.
  const SigV4Signature s = Sign("GET", "https://example.amazonaws.com/\xE1\x88\xB4", {}, "");
  EXPECT_THAT(s.canonical_request, HasSubstr("\n/%E1%88%B4\n"));
  EXPECT_THAT(*Find(s.headers, "authorization"),
              HasSubstr("Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"));
}

TEST(SigV4SignerTest, ABedrockModelIdIsEncodedTwiceInTheCanonicalPath) {
  // The wire path carries the model id's ':' as %3A; every service but S3 signs the path
  // URI-encoded once more.
  const SigV4Signature s = Sign(
      "POST",
      "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-v2%3A1/invoke", {},
      "{}");
  EXPECT_THAT(s.canonical_request,
              ::testing::StartsWith("POST\n/model/anthropic.claude-v2%253A1/invoke\n\n"
                                    "host:bedrock-runtime.us-east-1.amazonaws.com\n"));
}

TEST(SigV4SignerTest, SessionTokenAndPayloadDigestAreSigned) {
  AwsCredentials credentials = kSuiteCredentials;
  credentials.session_token = "token/with+chars=";
  SigV4Options options = SuiteOptions();
  options.service = "bedrock";
  options.add_content_sha256 = true;
  const HttpHeaders headers = {{"content-type", "application/json"}};
  SigV4Request request{"POST", "http://127.0.0.1:8080/model/m/invoke", &headers, "{\"a\":1}"};
  absl::StatusOr<SigV4Signature> s = SignSigV4(request, credentials, options, SuiteTime());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*Find(s->headers, "x-amz-security-token"), "token/with+chars=");
  EXPECT_EQ(*Find(s->headers, "x-amz-content-sha256"), HexSha256("{\"a\":1}"));
  EXPECT_THAT(*Find(s->headers, "authorization"),
              HasSubstr("/20150830/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;"
                        "x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="));
  // The port is part of the signed host, as curl sends it in Host.
  EXPECT_THAT(s->canonical_request, HasSubstr("\nhost:127.0.0.1:8080\n"));
}

TEST(SigV4SignerTest, APrecomputedPayloadDigestIsUsedAsGiven) {
  SigV4Options options = SuiteOptions();
  const HttpHeaders headers = {{"x-amz-content-sha256", "abc123"}};
  SigV4Request request{"POST", "https://example.amazonaws.com/", &headers, "ignored body"};
  absl::StatusOr<SigV4Signature> s = SignSigV4(request, kSuiteCredentials, options, SuiteTime());
  ASSERT_TRUE(s.ok());
  EXPECT_THAT(s->canonical_request, ::testing::EndsWith("\nabc123"));
  EXPECT_EQ(Find(s->headers, "x-amz-content-sha256"), nullptr);  // already on the request
}

TEST(SigV4SignerTest, HeaderValuesAreTrimmedAndDuplicatesJoined) {
  const SigV4Signature s = Sign("GET", "https://example.amazonaws.com/",
                                {{"My-Header1", "  a   b  c "}, {"my-header1", "d"}}, "");
  EXPECT_THAT(s.canonical_request, HasSubstr("\nmy-header1:a b c,d\n"));
  EXPECT_THAT(s.canonical_request, HasSubstr("\nhost;my-header1;x-amz-date\n"));
}

TEST(SigV4SignerTest, RefusesBadInput) {
  const HttpHeaders bad_header = {{"x-thing", "a\r\nb"}};
  SigV4Request request{"GET", "https://example.amazonaws.com/", &bad_header, ""};
  EXPECT_EQ(SignSigV4(request, kSuiteCredentials, SuiteOptions(), SuiteTime()).status().code(),
            absl::StatusCode::kInvalidArgument);
  SigV4Request relative{"GET", "/model/x/invoke", nullptr, ""};
  EXPECT_EQ(SignSigV4(relative, kSuiteCredentials, SuiteOptions(), SuiteTime()).status().code(),
            absl::StatusCode::kInvalidArgument);
  SigV4Request good{"GET", "https://example.amazonaws.com/", nullptr, ""};
  EXPECT_EQ(SignSigV4(good, AwsCredentials{"", "secret", ""}, SuiteOptions(), SuiteTime())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace claude

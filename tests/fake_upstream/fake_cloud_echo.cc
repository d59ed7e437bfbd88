#include "tests/fake_upstream/fake_cloud_echo.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/json_mapping.h"
#include "service/upstream/sigv4_signer.h"
#include "service/upstream/url_escape.h"
#include "tests/fake_upstream/fake_messages_echo.h"

namespace claude::testing {
namespace {

constexpr char kJson[] = "application/json";

// Google's error shape, as Vertex AI answers.
std::string GoogleErrorBody(int code, absl::string_view status, absl::string_view message) {
  std::string out = absl::StrCat(R"({"error":{"code":)", code, R"(,"message":)");
  AppendJsonString(message, &out);
  out += R"(,"status":)";
  AppendJsonString(status, &out);
  out += "}}";
  return out;
}

// Bedrock's error body; the exception's name goes in x-amzn-errortype.
std::string AwsErrorBody(absl::string_view message) {
  std::string out = R"({"message":)";
  AppendJsonString(message, &out);
  out += "}";
  return out;
}

// A string member of the request's extra_fields (anthropic_version), "" when absent.
std::string ExtraString(const v1::CreateMessageRequest& request, const std::string& name) {
  if (!request.has_extra_fields()) return "";
  const auto& fields = request.extra_fields().fields();
  const auto it = fields.find(name);
  return it != fields.end() && it->second.has_string_value() ? it->second.string_value() : "";
}

bool HasExtra(const v1::CreateMessageRequest& request, const std::string& name) {
  return request.has_extra_fields() && request.extra_fields().fields().contains(name);
}

// Decodes a cloud platform's body into `parsed`: the Messages API's request, with the platform's
// `anthropic_version` in it. Why it is not one, as the platform would say; "" when it is.
std::string CloudBodyProblem(const std::string& body, absl::string_view anthropic_version,
                             v1::CreateMessageRequest* parsed) {
  if (absl::Status s = JsonToMessage(body, parsed); !s.ok()) return std::string(s.message());
  if (ExtraString(*parsed, "anthropic_version") != anthropic_version) {
    return absl::StrCat("anthropic_version must be ", anthropic_version);
  }
  return "";
}

// Why the request's SigV4 signature does not hold for `credentials`; "" when it does.
std::string SigV4Problem(const RecordedRequest& request, const FakeCloudCredentials& credentials) {
  const std::string* authorization = FindHeader(request.headers, "authorization");
  const std::string* date = FindHeader(request.headers, "x-amz-date");
  const std::string* host = FindHeader(request.headers, "host");
  if (authorization == nullptr || date == nullptr || host == nullptr) {
    return "missing authorization, x-amz-date or host";
  }
  // AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
  // Signature=..
  absl::string_view signed_names;
  for (absl::string_view part :
       absl::StrSplit(*authorization, absl::ByAnyChar(" ,"), absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&part, "SignedHeaders=")) signed_names = part;
  }
  const std::string scope_prefix =
      absl::StrCat(" Credential=", credentials.aws_access_key_id, "/", date->substr(0, 8), "/",
                   credentials.aws_region, "/bedrock/aws4_request,");
  if (!absl::StrContains(*authorization, scope_prefix)) return "wrong key id or credential scope";
  // YYYYMMDDTHHMMSSZ (absl::ParseTime's %Y would read every digit).
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (date->size() != 16 || (*date)[8] != 'T' || (*date)[15] != 'Z' ||
      !absl::SimpleAtoi(date->substr(0, 4), &year) ||
      !absl::SimpleAtoi(date->substr(4, 2), &month) ||
      !absl::SimpleAtoi(date->substr(6, 2), &day) || !absl::SimpleAtoi(date->substr(9, 2), &hour) ||
      !absl::SimpleAtoi(date->substr(11, 2), &minute) ||
      !absl::SimpleAtoi(date->substr(13, 2), &second)) {
    return "bad x-amz-date";
  }
  const absl::Time now = absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                                         absl::UTCTimeZone());
  HttpHeaders signed_headers;
  AwsCredentials secret{credentials.aws_access_key_id, credentials.aws_secret_access_key, ""};
  for (absl::string_view name : absl::StrSplit(signed_names, ';')) {
    const std::string* value = FindHeader(request.headers, name);
    if (value == nullptr) return absl::StrCat("signed header ", name, " not sent");
    if (name == "host" || name == "x-amz-date") continue;  // SignSigV4 adds them
    if (name == "x-amz-security-token") {
      secret.session_token = *value;
      continue;
    }
    signed_headers.emplace_back(std::string(name), *value);
  }
  const std::string* body_digest = FindHeader(request.headers, "x-amz-content-sha256");
  if (body_digest != nullptr && *body_digest != HexSha256(request.body)) {
    return "x-amz-content-sha256 does not match the body";
  }
  const std::string url = absl::StrCat("http://", *host, request.path);
  SigV4Request sign{request.method, url, &signed_headers, request.body};
  absl::StatusOr<SigV4Signature> expected =
      SignSigV4(sign, secret, SigV4Options{credentials.aws_region, "bedrock", false}, now);
  if (!expected.ok()) return std::string(expected.status().message());
  const std::string* want = FindHeader(expected->headers, "authorization");
  if (want == nullptr || *want != *authorization) return "signature mismatch";
  return "";
}

}  // namespace

EchoAnswer VertexEcho(const RecordedRequest& request, int n, absl::string_view target,
                      const FakeCloudCredentials& cloud) {
  if (!cloud.google_token.empty()) {
    const std::string* authorization = FindHeader(request.headers, "authorization");
    if (authorization == nullptr || *authorization != "Bearer " + cloud.google_token) {
      return {401,
              kJson,
              GoogleErrorBody(401, "UNAUTHENTICATED",
                              "Request had invalid authentication credentials."),
              {}};
    }
  }
  const size_t colon = target.rfind(':');
  const std::string model = UrlUnescape(target.substr(0, colon));
  const absl::string_view method = colon == absl::string_view::npos ? "" : target.substr(colon + 1);
  v1::CreateMessageRequest parsed;
  const std::string problem = [&]() -> std::string {
    if (std::string body = CloudBodyProblem(request.body, "vertex-2023-10-16", &parsed);
        !body.empty()) {
      return body;
    }
    if (model != "count-tokens" && !parsed.model().empty()) return "model belongs in the URL";
    if (method != "rawPredict" && method != "streamRawPredict") {
      return absl::StrCat("unknown method ", method);
    }
    return "";
  }();
  if (!problem.empty()) return {400, kJson, GoogleErrorBody(400, "INVALID_ARGUMENT", problem), {}};
  if (model == "count-tokens") return CountTokensEcho(parsed);
  return EchoReply(n, model, parsed,
                   method == "streamRawPredict" ? EchoFraming::kSse : EchoFraming::kJson);
}

EchoAnswer BedrockEcho(const RecordedRequest& request, int n, absl::string_view target,
                       const FakeCloudCredentials& cloud) {
  const auto fail = [n](int status, const char* exception, absl::string_view message) {
    return EchoAnswer{
        status,
        kJson,
        AwsErrorBody(message),
        {{"x-amzn-errortype", absl::StrCat(exception, ":http://internal.amazon.com/coral/")},
         {"x-amzn-requestid", absl::StrCat("aws-fake-", n)}}};
  };
  if (!cloud.aws_secret_access_key.empty()) {
    if (const std::string problem = SigV4Problem(request, cloud); !problem.empty()) {
      return fail(
          403, "InvalidSignatureException",
          absl::StrCat("The request signature we calculated does not match the signature you "
                       "provided: ",
                       problem));
    }
  }
  const size_t slash = target.find('/');
  const std::string model = UrlUnescape(target.substr(0, slash));
  const absl::string_view action = slash == absl::string_view::npos ? "" : target.substr(slash + 1);
  if (action != "invoke" && action != "invoke-with-response-stream") {
    return fail(404, "UnknownOperationException", absl::StrCat("no operation ", action));
  }
  v1::CreateMessageRequest parsed;
  const std::string problem = [&]() -> std::string {
    if (std::string body = CloudBodyProblem(request.body, "bedrock-2023-05-31", &parsed);
        !body.empty()) {
      return body;
    }
    if (!parsed.model().empty()) return "extraneous key [model] is not permitted";
    if (HasExtra(parsed, "stream")) return "extraneous key [stream] is not permitted";
    return "";
  }();
  if (!problem.empty()) return fail(400, "ValidationException", problem);
  return EchoReply(
      n, model, parsed,
      action == "invoke-with-response-stream" ? EchoFraming::kEventStream : EchoFraming::kJson);
}

}  // namespace claude::testing

#include "service/upstream/bedrock_dialect.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/codec/json_mapping.h"
#include "service/upstream/bedrock_replies.h"
#include "service/upstream/cloud_request_body.h"
#include "service/upstream/url_escape.h"

namespace claude {

std::string BedrockEndpoint(absl::string_view region) {
  return absl::StrCat("https://bedrock-runtime.", region, ".amazonaws.com");
}

SigV4RequestSigner::SigV4RequestSigner(std::shared_ptr<AwsCredentialsSource> credentials,
                                       SigV4Options options)
    : credentials_(std::move(credentials)), options_(std::move(options)) {}

absl::StatusOr<HttpHeaders> SigV4RequestSigner::Sign(const HttpRequest& request, absl::Time now) {
  absl::StatusOr<AwsCredentials> credentials = credentials_->Credentials();
  if (!credentials.ok()) {
    return absl::UnavailableError(absl::StrCat("no AWS credentials: ", credentials.status().message()));
  }
  SigV4Request sign;
  sign.method = request.method;
  sign.url = request.url;
  sign.headers = &request.headers;
  if (request.body != nullptr) sign.body = *request.body;
  absl::StatusOr<SigV4Signature> signature = SignSigV4(sign, *credentials, options_, now);
  if (!signature.ok()) return absl::UnavailableError(signature.status().message());
  return std::move(signature->headers);
}

BedrockDialect::BedrockDialect(BedrockDialectOptions options)
    : CloudPlatformDialect(Platform{"Amazon Bedrock's runtime", kBedrockAnthropicVersion,
                                    std::move(options.models), std::move(options.signer)}),
      base_url_(std::move(options.base_url)),
      max_frame_bytes_(options.max_frame_bytes) {}

absl::StatusOr<HttpRequest> BedrockDialect::CreateMessage(const claude::v1::CreateMessageRequest& request,
                                                          bool stream, const HttpHeaders& forwarded) const {
  std::string members = version_member();
  HttpHeaders headers;
  std::vector<std::string> betas;
  for (const auto& [name, value] : forwarded) {
    if (name == "anthropic-beta") {
      for (absl::string_view beta : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
        betas.emplace_back(absl::StripAsciiWhitespace(beta));
      }
    } else {
      headers.emplace_back(name, value);  // traceparent and the like travel as headers
    }
  }
  if (!betas.empty()) {
    members += ",\"anthropic_beta\":[";
    for (size_t i = 0; i < betas.size(); ++i) {
      if (i > 0) members += ',';
      AppendJsonString(betas[i], &members);
    }
    members += ']';
  }
  absl::StatusOr<std::string> body = BodyWithModelReplaced(request, request.model(), members);
  if (!body.ok()) return body.status();

  headers.emplace_back("accept",
                       stream ? "application/vnd.amazon.eventstream" : "application/json");
  headers.emplace_back("x-amz-content-sha256", HexSha256(*body));
  // Every character but the unreserved ones is escaped: model ids hold ':' and inference
  // profile ARNs '/'.
  return Post(absl::StrCat(base_url_, "/model/", UrlEscape(UpstreamModel(request.model())),
                           stream ? "/invoke-with-response-stream" : "/invoke"),
              *std::move(body), headers);
}

absl::StatusOr<HttpRequest> BedrockDialect::CountTokens(const claude::v1::CountTokensRequest&,
                                                        const HttpHeaders&) const {
  return absl::UnimplementedError("CountTokens is not offered by Amazon Bedrock upstreams");
}

std::unique_ptr<EventDecoder> BedrockDialect::NewEventDecoder() const {
  return NewBedrockEventDecoder(max_frame_bytes_);
}

UpstreamError BedrockDialect::ReadError(int http_status, absl::string_view body,
                                        const HttpHeaders& headers) const {
  return ReadBedrockError(http_status, body, headers);
}

}  // namespace claude

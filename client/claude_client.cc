#include "client/claude_client.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "service/codec/message_accumulator.h"

namespace claude {
namespace {

// The RPCs gRPC may retry on UNAVAILABLE: every unary one. Streams are left alone: a stream
// that failed after delivering events must not be replayed behind the caller's back.
constexpr char kRetryMethodNames[] =
    R"([{"service":"claude.v1.Messages","method":"CreateMessage"},)"
    R"({"service":"claude.v1.Messages","method":"CountTokens"},)"
    R"({"service":"claude.v1.Models"},)"
    R"({"service":"claude.v1.MessageBatches","method":"GetMessageBatch"},)"
    R"({"service":"claude.v1.MessageBatches","method":"ListMessageBatches"}])";

constexpr char kRetryPolicy[] =
    R"({"maxAttempts":3,"initialBackoff":"0.2s","maxBackoff":"2s","backoffMultiplier":2,)"
    R"("retryableStatusCodes":["UNAVAILABLE"]})";

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, const ClientOptions& options) {
  grpc::ChannelArguments args;
  // Responses are bounded by the server (a Message can exceed gRPC's 4 MB default).
  args.SetMaxReceiveMessageSize(-1);
  if (const std::string config = ClientServiceConfig(options); !config.empty()) {
    args.SetServiceConfigJSON(config);
  }
  if (options.retry_unavailable) args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  std::shared_ptr<grpc::ChannelCredentials> credentials = options.credentials;
  if (credentials == nullptr && options.tls.has_value()) {
    if (!options.tls->server_name.empty()) args.SetSslTargetNameOverride(options.tls->server_name);
    // Null credentials when a file is unreadable: gRPC then gives a channel whose every call
    // fails, never a plaintext one.
    credentials = TlsChannelCredentials(*options.tls).value_or(nullptr);
  } else if (credentials == nullptr) {
    credentials = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateCustomChannel(target, credentials, args);
}

absl::StatusOr<std::string> ReadFile(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void AddMetadata(grpc::ClientContext* context,
                 const std::vector<std::pair<std::string, std::string>>& metadata) {
  for (const auto& [key, value] : metadata) context->AddMetadata(absl::AsciiStrToLower(key), value);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsChannelCredentials(const ClientTlsOptions& tls) {
  grpc::SslCredentialsOptions ssl;
  if (!tls.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile("TLS CA file", tls.ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("a TLS client certificate and key go together: give both or neither");
  }
  if (!tls.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadFile("TLS certificate file", tls.cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile("TLS key file", tls.key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

std::string ClientServiceConfig(const ClientOptions& options) {
  std::string config;
  if (options.round_robin) config += R"("loadBalancingConfig":[{"round_robin":{}}])";
  if (options.retry_unavailable) {
    if (!config.empty()) config += ",";
    absl::StrAppend(&config, R"("methodConfig":[{"name":)", kRetryMethodNames,
                    R"(,"retryPolicy":)", kRetryPolicy, "}]");
  }
  return config.empty() ? config : absl::StrCat("{", config, "}");
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  if (!status.error_details().empty()) {
    out.SetPayload(kRpcStatusPayloadUrl, absl::Cord(status.error_details()));
  }
  return out;
}

std::optional<ErrorDetails> ErrorDetailsOf(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  auto payload = status.GetPayload(kRpcStatusPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  return ParseErrorDetails(grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                        std::string(status.message()), std::string(*payload)));
}

Client::Client(const std::string& target, ClientOptions options)
    : Client(MakeChannel(target, options), options) {}

Client::Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      messages_(v1::Messages::NewStub(channel_)),
      models_(v1::Models::NewStub(channel_)),
      batches_(v1::MessageBatches::NewStub(channel_)) {}

void Client::Prepare(grpc::ClientContext* context, const CallOptions& options) const {
  const absl::Duration deadline = options.deadline.value_or(options_.default_deadline);
  if (deadline != absl::InfiniteDuration()) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  }
  AddMetadata(context, options_.metadata);
  if (!options_.caller_token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.caller_token));
  }
  AddMetadata(context, options.metadata);
  if (options.configure) options.configure(*context);
}

absl::StatusOr<v1::Message> Client::CreateMessage(const v1::CreateMessageRequest& request,
                                                  const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  v1::Message message;
  if (grpc::Status status = messages_->CreateMessage(&context, request, &message); !status.ok()) {
    return FromGrpcStatus(status);
  }
  return message;
}

absl::StatusOr<v1::Message> Client::StreamMessage(
    const v1::CreateMessageRequest& request,
    const std::function<void(const v1::MessageStreamEvent&)>& on_event, const CallOptions& options) {
  std::unique_ptr<EventStream> stream = OpenStream(request, options);
  MessageAccumulator accumulator;
  absl::Status folded;        // the first event that could not be accumulated
  bool malformed = false;     // ... and it was not the API's own `error` event
  v1::MessageStreamEvent event;
  while (stream->Next(&event)) {
    if (folded.ok()) {
      folded = accumulator.Apply(event);
      if (!folded.ok() && !event.has_error()) {
        // The server broke the event grammar: nothing sensible can be built from the rest.
        malformed = true;
        stream->Cancel();
        break;
      }
    }
    if (on_event) on_event(event);
  }
  const absl::Status status = stream->Finish();
  if (malformed) {
    return absl::InternalError(absl::StrCat("malformed stream from the server: ", folded.message()));
  }
  // A failed stream (an `error` event included) ends with the server's status and details.
  if (!status.ok()) return status;
  if (!folded.ok()) return folded;
  absl::StatusOr<v1::Message> message = std::move(accumulator).Finish();
  if (!message.ok()) {
    return absl::InternalError(
        absl::StrCat("malformed stream from the server: ", message.status().message()));
  }
  return message;
}

absl::StatusOr<v1::Message> Client::StreamText(
    const v1::CreateMessageRequest& request,
    const std::function<void(absl::string_view text)>& on_text,
    const std::function<void(absl::string_view thinking)>& on_thinking, const CallOptions& options) {
  return StreamMessage(
      request,
      [&](const v1::MessageStreamEvent& event) {
        if (!event.has_content_block_delta()) return;
        const v1::ContentBlockDelta& delta = event.content_block_delta().delta();
        if (delta.has_text_delta()) {
          if (on_text) on_text(delta.text_delta().text());
        } else if (delta.has_thinking_delta()) {
          if (on_thinking) on_thinking(delta.thinking_delta().thinking());
        }
      },
      options);
}

std::unique_ptr<Client::EventStream> Client::OpenStream(const v1::CreateMessageRequest& request,
                                                        const CallOptions& options) {
  std::unique_ptr<EventStream> stream(new EventStream());
  stream->context_ = std::make_unique<grpc::ClientContext>();
  Prepare(stream->context_.get(), options);
  stream->reader_ = messages_->StreamMessage(stream->context_.get(), request);
  return stream;
}

Client::EventStream::~EventStream() {
  if (finished_ || reader_ == nullptr) return;
  context_->TryCancel();
  v1::MessageStreamEvent discard;
  while (reader_->Read(&discard)) {
  }
  (void)reader_->Finish();
}

bool Client::EventStream::Next(v1::MessageStreamEvent* event) {
  if (finished_) return false;
  return reader_->Read(event);
}

absl::Status Client::EventStream::Finish() {
  if (finished_) return absl::FailedPreconditionError("EventStream::Finish called twice");
  finished_ = true;
  v1::MessageStreamEvent discard;
  while (reader_->Read(&discard)) {
  }
  return FromGrpcStatus(reader_->Finish());
}

void Client::EventStream::Cancel() { context_->TryCancel(); }

absl::StatusOr<v1::CountTokensResponse> Client::CountTokens(const v1::CountTokensRequest& request,
                                                            const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  v1::CountTokensResponse response;
  if (grpc::Status status = messages_->CountTokens(&context, request, &response); !status.ok()) {
    return FromGrpcStatus(status);
  }
  return response;
}

absl::StatusOr<v1::ListModelsResponse> Client::ListModels(const v1::ListModelsRequest& request,
                                                          const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  v1::ListModelsResponse response;
  if (grpc::Status status = models_->ListModels(&context, request, &response); !status.ok()) {
    return FromGrpcStatus(status);
  }
  return response;
}

absl::StatusOr<std::string> Client::CheckHealth(const std::string& service,
                                                const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  if (grpc::Status status = stub->Check(&context, request, &response); !status.ok()) {
    return FromGrpcStatus(status);
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

absl::StatusOr<v1::ModelInfo> Client::GetModel(const std::string& model_id,
                                               const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  v1::GetModelRequest request;
  request.set_model_id(model_id);
  v1::ModelInfo response;
  if (grpc::Status status = models_->GetModel(&context, request, &response); !status.ok()) {
    return FromGrpcStatus(status);
  }
  return response;
}

}  // namespace claude

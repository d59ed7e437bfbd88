#include "client/claude_client.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/codec/message_accumulator.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/support/proto_buffer_reader.h"

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

// Parses a reply of the server. Not OK: INTERNAL naming the type; protobuf refuses, among
// others, messages nested more than 100 levels deep and strings that are not UTF-8.
absl::Status ParseReply(grpc::ByteBuffer* bytes, google::protobuf::Message* message, absl::string_view what) {
  grpc::ProtoBufferReader reader(bytes);
  if (reader.status().ok() && message->ParseFromZeroCopyStream(&reader)) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, " from the server (", bytes->Length(),
                                          " bytes) does not parse as ", message->GetTypeName(),
                                          " (nested too deeply, invalid UTF-8, or another proto version)"));
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

// The generated stubs would parse replies themselves; these name the same RPCs for raw calls.
struct Client::Methods {
  explicit Methods(const std::shared_ptr<grpc::Channel>& channel)
      : create_message("/claude.v1.Messages/CreateMessage", grpc::internal::RpcMethod::NORMAL_RPC, channel),
        stream_message("/claude.v1.Messages/StreamMessage", grpc::internal::RpcMethod::SERVER_STREAMING, channel),
        count_tokens("/claude.v1.Messages/CountTokens", grpc::internal::RpcMethod::NORMAL_RPC, channel),
        list_models("/claude.v1.Models/ListModels", grpc::internal::RpcMethod::NORMAL_RPC, channel),
        get_model("/claude.v1.Models/GetModel", grpc::internal::RpcMethod::NORMAL_RPC, channel),
        create_message_batch("/claude.v1.MessageBatches/CreateMessageBatch", grpc::internal::RpcMethod::NORMAL_RPC,
                             channel),
        get_message_batch("/claude.v1.MessageBatches/GetMessageBatch", grpc::internal::RpcMethod::NORMAL_RPC, channel),
        list_message_batches("/claude.v1.MessageBatches/ListMessageBatches", grpc::internal::RpcMethod::NORMAL_RPC,
                             channel),
        cancel_message_batch("/claude.v1.MessageBatches/CancelMessageBatch", grpc::internal::RpcMethod::NORMAL_RPC,
                             channel),
        delete_message_batch("/claude.v1.MessageBatches/DeleteMessageBatch", grpc::internal::RpcMethod::NORMAL_RPC,
                             channel),
        stream_message_batch_results("/claude.v1.MessageBatches/StreamMessageBatchResults",
                                     grpc::internal::RpcMethod::SERVER_STREAMING, channel),
        get_caller_usage("/claude.v1.Admin/GetCallerUsage", grpc::internal::RpcMethod::NORMAL_RPC, channel) {}

  const grpc::internal::RpcMethod create_message;
  const grpc::internal::RpcMethod stream_message;
  const grpc::internal::RpcMethod count_tokens;
  const grpc::internal::RpcMethod list_models;
  const grpc::internal::RpcMethod get_model;
  const grpc::internal::RpcMethod create_message_batch;
  const grpc::internal::RpcMethod get_message_batch;
  const grpc::internal::RpcMethod list_message_batches;
  const grpc::internal::RpcMethod cancel_message_batch;
  const grpc::internal::RpcMethod delete_message_batch;
  const grpc::internal::RpcMethod stream_message_batch_results;
  const grpc::internal::RpcMethod get_caller_usage;
};

Client::Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : options_(std::move(options)), channel_(std::move(channel)), methods_(std::make_unique<Methods>(channel_)) {}

Client::~Client() = default;

template <typename Response>
absl::StatusOr<Response> Client::Unary(const grpc::internal::RpcMethod& method,
                                       const google::protobuf::Message& request, const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  grpc::ByteBuffer reply;
  const grpc::Status status = grpc::internal::BlockingUnaryCall<google::protobuf::Message, grpc::ByteBuffer>(
      channel_.get(), method, &context, request, &reply);
  if (!status.ok()) return FromGrpcStatus(status);
  Response response;
  if (absl::Status parsed = ParseReply(&reply, &response, "the reply"); !parsed.ok()) return parsed;
  return response;
}

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
  return Unary<v1::Message>(methods_->create_message, request, options);
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
  stream->reader_.reset(grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
      channel_.get(), methods_->stream_message, stream->context_.get(), request));
  return stream;
}

Client::EventStream::~EventStream() {
  if (finished_ || reader_ == nullptr) return;
  context_->TryCancel();
  grpc::ByteBuffer discard;
  while (reader_->Read(&discard)) {
  }
  (void)reader_->Finish();
}

bool Client::EventStream::Next(v1::MessageStreamEvent* event) {
  if (finished_ || !unparsable_.ok()) return false;
  grpc::ByteBuffer bytes;
  if (!reader_->Read(&bytes)) return false;
  ++events_read_;
  unparsable_ = ParseReply(&bytes, event, absl::StrCat("stream event ", events_read_));
  if (unparsable_.ok()) return true;
  // Nothing after an event that is missing makes a sound stream: stop the server's work.
  context_->TryCancel();
  return false;
}

absl::Status Client::EventStream::Finish() {
  if (finished_) return absl::FailedPreconditionError("EventStream::Finish called twice");
  finished_ = true;
  grpc::ByteBuffer discard;
  while (reader_->Read(&discard)) {
  }
  const grpc::Status status = reader_->Finish();
  if (!unparsable_.ok()) return unparsable_;
  return FromGrpcStatus(status);
}

void Client::EventStream::Cancel() { context_->TryCancel(); }

absl::StatusOr<v1::CountTokensResponse> Client::CountTokens(const v1::CountTokensRequest& request,
                                                            const CallOptions& options) {
  return Unary<v1::CountTokensResponse>(methods_->count_tokens, request, options);
}

absl::StatusOr<v1::ListModelsResponse> Client::ListModels(const v1::ListModelsRequest& request,
                                                          const CallOptions& options) {
  return Unary<v1::ListModelsResponse>(methods_->list_models, request, options);
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

absl::StatusOr<v1::CallerUsage> Client::GetCallerUsage(const std::string& caller, const CallOptions& options) {
  v1::GetCallerUsageRequest request;
  request.set_caller(caller);
  return Unary<v1::CallerUsage>(methods_->get_caller_usage, request, options);
}

absl::StatusOr<v1::ModelInfo> Client::GetModel(const std::string& model_id,
                                               const CallOptions& options) {
  v1::GetModelRequest request;
  request.set_model_id(model_id);
  return Unary<v1::ModelInfo>(methods_->get_model, request, options);
}

// ---- MessageBatches

namespace {

template <typename Request>
Request ByBatchId(const std::string& message_batch_id) {
  Request request;
  request.set_message_batch_id(message_batch_id);
  return request;
}

}  // namespace

absl::StatusOr<v1::MessageBatch> Client::CreateMessageBatch(const v1::CreateMessageBatchRequest& request,
                                                            const CallOptions& options) {
  return Unary<v1::MessageBatch>(methods_->create_message_batch, request, options);
}

absl::StatusOr<v1::MessageBatch> Client::GetMessageBatch(const std::string& message_batch_id,
                                                         const CallOptions& options) {
  return Unary<v1::MessageBatch>(methods_->get_message_batch,
                                 ByBatchId<v1::GetMessageBatchRequest>(message_batch_id), options);
}

absl::StatusOr<v1::ListMessageBatchesResponse> Client::ListMessageBatches(const v1::ListMessageBatchesRequest& request,
                                                                          const CallOptions& options) {
  return Unary<v1::ListMessageBatchesResponse>(methods_->list_message_batches, request, options);
}

absl::StatusOr<v1::MessageBatch> Client::CancelMessageBatch(const std::string& message_batch_id,
                                                            const CallOptions& options) {
  return Unary<v1::MessageBatch>(methods_->cancel_message_batch,
                                 ByBatchId<v1::CancelMessageBatchRequest>(message_batch_id), options);
}

absl::Status Client::DeleteMessageBatch(const std::string& message_batch_id, const CallOptions& options) {
  return Unary<v1::DeleteMessageBatchResponse>(methods_->delete_message_batch,
                                               ByBatchId<v1::DeleteMessageBatchRequest>(message_batch_id), options)
      .status();
}

absl::Status Client::StreamMessageBatchResults(const std::string& message_batch_id,
                                               const std::optional<std::string>& after_custom_id,
                                               const std::function<void(const v1::MessageBatchResult&)>& on_result,
                                               const CallOptions& options) {
  grpc::ClientContext context;
  Prepare(&context, options);
  v1::StreamMessageBatchResultsRequest request;
  request.set_message_batch_id(message_batch_id);
  if (after_custom_id) request.set_after_custom_id(*after_custom_id);
  std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
          channel_.get(), methods_->stream_message_batch_results, &context, request));
  grpc::ByteBuffer bytes;
  absl::Status unparsable;
  int64_t results = 0;
  while (reader->Read(&bytes)) {
    v1::MessageBatchResult result;
    unparsable = ParseReply(&bytes, &result, absl::StrCat("batch result ", ++results));
    if (!unparsable.ok()) {
      // What follows a result that cannot be read is no use to a caller resuming by custom_id.
      context.TryCancel();
      break;
    }
    if (on_result) on_result(result);
  }
  while (reader->Read(&bytes)) {
  }
  const grpc::Status status = reader->Finish();
  if (!unparsable.ok()) return unparsable;
  return FromGrpcStatus(status);
}

}  // namespace claude

// claude::Client: the C++ client of claude-grpc (claude.v1.Messages, claude.v1.Models and
// claude.v1.MessageBatches).
//
//   claude::Client client("localhost:50051");
//   claude::v1::CreateMessageRequest request = ...;
//   absl::StatusOr<claude::v1::Message> reply =
//       client.StreamText(request, [](absl::string_view text) { std::cout << text << std::flush;
//       });
//
// Every call returns an absl::Status whose code is the gRPC code (the numbering is shared) and
// whose message is the server's. When the server attached rich error details (a serialized
// google.rpc.Status: ErrorInfo, RetryInfo, RequestInfo; see common/errors/error_details.h), the
// status carries them as a payload, and ErrorDetailsOf() reads them back.
//
// Streams are accumulated with the server's own MessageAccumulator, so a streamed reply yields
// exactly the Message the unary call returns.
//
// Replies are parsed by the client itself (from the raw bytes), so one that does not parse (a
// server of another version, nesting beyond protobuf's 100-level limit) fails the call with
// INTERNAL "... does not parse as claude.v1.X", never as gRPC's misleading UNIMPLEMENTED "No
// message returned for unary request", and never as a stream that seems to end cleanly.
//
// A Client is thread-safe: one Client (one channel) serves any number of concurrent calls.
#ifndef CLIENT_CLAUDE_CLIENT_H_
#define CLIENT_CLAUDE_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claude/v1/admin.grpc.pb.h"
#include "claude/v1/message_batches.grpc.pb.h"
#include "claude/v1/messages.grpc.pb.h"
#include "claude/v1/models.grpc.pb.h"
#include "common/errors/error_details.h"

namespace claude {

// The type URL of the absl::Status payload that holds the server's serialized google.rpc.Status.
inline constexpr char kRpcStatusPayloadUrl[] = "type.googleapis.com/google.rpc.Status";

// TLS to the server. Every file is PEM.
struct ClientTlsOptions {
  // CAs that may sign the server's certificate; empty: the system's roots.
  std::string ca_file;
  // The client's certificate chain and key, for servers that require mutual TLS; both or
  // neither.
  std::string cert_file;
  std::string key_file;
  // The name the server's certificate must hold, when it differs from the target's host (an IP
  // address, a port-forward).
  std::string server_name;
};

// Channel credentials for `tls`; an error names the file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsChannelCredentials(const ClientTlsOptions& tls);

struct ClientOptions {
  // Deadline of each call unless its ClientCallOptions override it; absl::InfiniteDuration()
  // for none.
  absl::Duration default_deadline = absl::Minutes(10);
  // Metadata sent with every call, e.g. {"anthropic-beta", "context-1m-2025-08-07"}. Keys are
  // sent lower-case (gRPC requires it).
  std::vector<std::pair<std::string, std::string>> metadata;
  // When set, every call sends "authorization: Bearer <caller_token>".
  std::string caller_token;
  // Balance calls over every address the target resolves to ("round_robin"); for dns:///
  // targets of a headless Kubernetes Service. Default: gRPC's pick_first.
  bool round_robin = false;
  // Unary calls (CreateMessage, CountTokens, ListModels, GetModel) are retried by gRPC on
  // UNAVAILABLE: 3 attempts in all, backoff 0.2 s growing to 2 s. Streams are never retried.
  bool retry_unavailable = true;
  // TLS to the server (ignored when `credentials` is set). A file that cannot be read makes
  // every call fail INVALID_ARGUMENT, never falls back to plaintext: check it first with
  // TlsChannelCredentials() to get the reason.
  std::optional<ClientTlsOptions> tls;
  // Channel credentials; default insecure (or `tls`).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
};

// Per-call settings. (Named ClientCallOptions because claude::CallOptions is the server's.)
struct ClientCallOptions {
  // Overrides ClientOptions::default_deadline for this call.
  std::optional<absl::Duration> deadline;
  // Sent with this call, after ClientOptions::metadata.
  std::vector<std::pair<std::string, std::string>> metadata;
  // Called with the call's context after the deadline and metadata are set, just before the
  // call starts: for anything else a grpc::ClientContext can do (compression, wait_for_ready).
  std::function<void(grpc::ClientContext&)> configure;
};

class Client {
 public:
  using CallOptions = ClientCallOptions;

  // `target`: a gRPC target, e.g. "localhost:50051" or "dns:///claude-grpc:50051".
  explicit Client(const std::string& target, ClientOptions options = {});
  // Uses an existing channel (ClientOptions' channel settings are then not applied).
  Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options);
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Messages/CreateMessage.
  absl::StatusOr<v1::Message> CreateMessage(const v1::CreateMessageRequest& request,
                                            const CallOptions& options = {});

  // Messages/StreamMessage: `on_event` sees every event as it arrives (on the calling thread);
  // returns the accumulated Message. A stream that fails returns the server's status, even when
  // it failed after events were delivered; a stream the server ends OK but that cannot be
  // accumulated gives INTERNAL.
  absl::StatusOr<v1::Message> StreamMessage(
      const v1::CreateMessageRequest& request,
      const std::function<void(const v1::MessageStreamEvent&)>& on_event,
      const CallOptions& options = {});

  // StreamMessage reduced to text: `on_text` gets each text_delta's text, `on_thinking` (if
  // given) each thinking_delta's text.
  absl::StatusOr<v1::Message> StreamText(
      const v1::CreateMessageRequest& request,
      const std::function<void(absl::string_view text)>& on_text,
      const std::function<void(absl::string_view thinking)>& on_thinking = {},
      const CallOptions& options = {});

  // Messages/StreamMessage as an iterator:
  //   auto stream = client.OpenStream(request);
  //   v1::MessageStreamEvent event;
  //   while (stream->Next(&event)) { ... }
  //   absl::Status status = stream->Finish();
  // Not thread-safe, except Cancel(), which any thread may call at any time.
  class EventStream {
   public:
    ~EventStream();  // cancels the call if Finish() was not called
    EventStream(const EventStream&) = delete;
    EventStream& operator=(const EventStream&) = delete;

    // The next event; false at the end of the stream (then call Finish()). An event that does
    // not parse ends the stream: the call is cancelled and Finish() reports INTERNAL.
    bool Next(v1::MessageStreamEvent* event);
    // Reads what is left, discarding it, and returns the stream's status. Once only.
    absl::Status Finish();
    // Cancels the call: the server stops its upstream request; Next() soon returns false and
    // Finish() gives CANCELLED.
    void Cancel();

   private:
    friend class Client;
    EventStream() = default;

    std::unique_ptr<grpc::ClientContext> context_;
    // Raw bytes, parsed by Next(): gRPC's own parsing would end the stream on a message that
    // does not parse as if it had ended, and Finish() would then return the server's OK.
    std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader_;
    int64_t events_read_ = 0;
    absl::Status unparsable_;  // the event that did not parse, once one did not
    bool finished_ = false;
  };
  std::unique_ptr<EventStream> OpenStream(const v1::CreateMessageRequest& request,
                                          const CallOptions& options = {});

  // Messages/CountTokens.
  absl::StatusOr<v1::CountTokensResponse> CountTokens(const v1::CountTokensRequest& request,
                                                      const CallOptions& options = {});

  // Models/ListModels and Models/GetModel.
  absl::StatusOr<v1::ListModelsResponse> ListModels(const v1::ListModelsRequest& request = {},
                                                    const CallOptions& options = {});
  absl::StatusOr<v1::ModelInfo> GetModel(const std::string& model_id,
                                         const CallOptions& options = {});

  // MessageBatches. Only CreateMessageBatch is never retried by
  // gRPC (it is not idempotent).
  absl::StatusOr<v1::MessageBatch> CreateMessageBatch(const v1::CreateMessageBatchRequest& request,
                                                      const CallOptions& options = {});
  absl::StatusOr<v1::MessageBatch> GetMessageBatch(const std::string& message_batch_id,
                                                   const CallOptions& options = {});
  absl::StatusOr<v1::ListMessageBatchesResponse> ListMessageBatches(const v1::ListMessageBatchesRequest& request = {},
                                                                    const CallOptions& options = {});
  absl::StatusOr<v1::MessageBatch> CancelMessageBatch(const std::string& message_batch_id,
                                                      const CallOptions& options = {});
  absl::Status DeleteMessageBatch(const std::string& message_batch_id, const CallOptions& options = {});
  // MessageBatches/StreamMessageBatchResults: `on_result` sees each result as it arrives (on
  // the calling thread). After a broken stream, call again with `after_custom_id` set to the
  // last custom_id seen to get the rest. Returns the stream's status.
  absl::Status StreamMessageBatchResults(const std::string& message_batch_id,
                                         const std::optional<std::string>& after_custom_id,
                                         const std::function<void(const v1::MessageBatchResult&)>& on_result,
                                         const CallOptions& options = {});
  // Admin/GetCallerUsage: `caller`'s counts and limits ("" = the caller this client's token
  // names; another caller's need an admin token).
  absl::StatusOr<v1::CallerUsage> GetCallerUsage(const std::string& caller = "", const CallOptions& options = {});

  // grpc.health.v1.Health/Check of `service` ("" = the whole server): SERVING, NOT_SERVING...
  absl::StatusOr<std::string> CheckHealth(const std::string& service = "",
                                          const CallOptions& options = {});

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  void Prepare(grpc::ClientContext* context, const CallOptions& options) const;
  // A unary call of `method` ("/claude.v1.Messages/CreateMessage") whose reply the client
  // parses itself.
  template <typename Response>
  absl::StatusOr<Response> Unary(const grpc::internal::RpcMethod& method,
                                 const google::protobuf::Message& request, const CallOptions& options);

  struct Methods;  // the RPCs, registered once with the channel

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<const Methods> methods_;
};

// The channel's service config for `options` (JSON; empty when there is nothing to configure).
std::string ClientServiceConfig(const ClientOptions& options);

// A gRPC status as an absl::Status: same code, same message, and the serialized
// google.rpc.Status details (if any) as the kRpcStatusPayloadUrl payload.
absl::Status FromGrpcStatus(const grpc::Status& status);

// The server's error details carried by `status` (reason, domain, request id, retry delay,
// HTTP status), or nullopt when it has none.
std::optional<ErrorDetails> ErrorDetailsOf(const absl::Status& status);

}  // namespace claude

#endif  // CLIENT_CLAUDE_CLIENT_H_

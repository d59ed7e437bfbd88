#include "service/upstream/bedrock_replies.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "service/upstream/aws_event_stream.h"
#include "service/upstream/messages_api_error.h"

namespace claude {
namespace {

// A JSON object's string member, "" when absent or not a string, or when `json` is no object.
std::string StringMember(const google::protobuf::Struct& object, const std::string& name) {
  const auto it = object.fields().find(name);
  if (it == object.fields().end() || !it->second.has_string_value()) return "";
  return it->second.string_value();
}

bool ParseObject(absl::string_view json, google::protobuf::Struct* out) {
  return google::protobuf::util::JsonStringToMessage(std::string(json), out).ok();
}

claude::v1::MessageStreamEvent ErrorEventFor(absl::string_view exception, absl::string_view message) {
  claude::v1::MessageStreamEvent event;
  claude::v1::ApiError* error = event.mutable_error()->mutable_error();
  error->set_type(ErrorTypeForBedrockException(exception));
  error->set_message(message.empty() ? std::string(exception) : absl::StrCat(exception, ": ", message));
  return event;
}

class BedrockEventDecoder final : public EventDecoder {
 public:
  explicit BedrockEventDecoder(size_t max_frame_bytes) : frames_(max_frame_bytes) {}

  absl::Status Feed(absl::string_view chunk, Emit emit) override {
    absl::Status emitted;  // what `emit` said, returned as is
    absl::Status decoded = frames_.Feed(chunk, [&](const AwsEventStreamMessage& frame) {
      absl::StatusOr<claude::v1::MessageStreamEvent> event = Decode(frame);
      if (!event.ok()) return event.status();
      if (!event->has_error() && event->event_case() == claude::v1::MessageStreamEvent::EVENT_NOT_SET) {
        return absl::OkStatus();  // an event type this decoder does not know: skipped
      }
      if (event->has_message_stop() || event->has_error()) ended_ = true;
      emitted = emit(*std::move(event));
      return emitted;
    });
    if (!emitted.ok()) return emitted;
    if (!decoded.ok()) return absl::InternalError(decoded.message());
    return absl::OkStatus();
  }

  absl::Status Finish(Emit /*emit*/) override {
    if (frames_.HasPartialMessage()) {
      return absl::UnavailableError("upstream stream ended mid-frame, before message_stop");
    }
    if (!ended_) return absl::UnavailableError("upstream stream ended before message_stop");
    return absl::OkStatus();
  }

 private:
  // One frame as an event; an empty event for frames to skip.
  static absl::StatusOr<claude::v1::MessageStreamEvent> Decode(const AwsEventStreamMessage& frame) {
    const absl::string_view type = frame.Header(":message-type");
    google::protobuf::Struct payload;
    if (type == "exception") {
      const absl::string_view exception = frame.Header(":exception-type");
      std::string message;
      if (ParseObject(frame.payload, &payload)) {
        message = StringMember(payload, "message");
        if (message.empty()) message = StringMember(payload, "Message");
      }
      return ErrorEventFor(exception.empty() ? "exception" : exception, message);
    }
    if (type == "error") {  // the framing's own errors carry :error-code and :error-message
      return ErrorEventFor(frame.Header(":error-code"), frame.Header(":error-message"));
    }
    if (type != "event") {
      return absl::InternalError(absl::StrCat("event-stream frame of unknown message type \"",
                                              absl::CHexEscape(type), "\""));
    }
    claude::v1::MessageStreamEvent event;
    if (frame.Header(":event-type") != "chunk") return event;  // not one Bedrock documents
    if (!ParseObject(frame.payload, &payload)) {
      return absl::InternalError("Bedrock chunk payload is not a JSON object");
    }
    const auto bytes = payload.fields().find("bytes");
    if (bytes == payload.fields().end() || !bytes->second.has_string_value()) {
      return absl::InternalError("Bedrock chunk payload has no \"bytes\" string");
    }
    std::string json;
    if (!absl::Base64Unescape(bytes->second.string_value(), &json)) {
      return absl::InternalError("Bedrock chunk \"bytes\" is not base64");
    }
    if (absl::Status s = JsonToMessage(json, &event); !s.ok()) {
      return absl::InternalError(absl::StrCat("Bedrock chunk event: ", s.message()));
    }
    if (event.event_case() == claude::v1::MessageStreamEvent::EVENT_NOT_SET) {
      return absl::InternalError("Bedrock chunk holds no stream event");
    }
    return event;
  }

  AwsEventStreamDecoder frames_;
  bool ended_ = false;
};

}  // namespace

std::string ErrorTypeForBedrockException(absl::string_view exception) {
  static constexpr std::pair<absl::string_view, absl::string_view> kTable[] = {
      {"throttlingexception", "rate_limit_error"},
      {"servicequotaexceededexception", "rate_limit_error"},
      {"serviceunavailableexception", "overloaded_error"},
      {"modelnotreadyexception", "overloaded_error"},
      {"validationexception", "invalid_request_error"},
      {"accessdeniedexception", "permission_error"},
      {"invalidsignatureexception", "authentication_error"},
      {"unrecognizedclientexception", "authentication_error"},
      {"expiredtokenexception", "authentication_error"},
      {"missingauthenticationtokenexception", "authentication_error"},
      {"resourcenotfoundexception", "not_found_error"},
      {"modeltimeoutexception", "timeout_error"},
  };
  const std::string lower = absl::AsciiStrToLower(exception);
  for (const auto& [name, type] : kTable) {
    if (name == lower) return std::string(type);
  }
  return "api_error";
}

UpstreamError ReadBedrockError(int http_status, absl::string_view body, const HttpHeaders& headers) {
  std::string exception;
  if (const std::string* header = FindHeader(headers, "x-amzn-errortype"); header != nullptr) {
    exception = header->substr(0, header->find(':'));  // "ValidationException:http://..."
  }
  google::protobuf::Struct object;
  const bool is_object = ParseObject(body, &object);
  std::string message;
  if (is_object) {
    message = StringMember(object, "message");
    if (message.empty()) message = StringMember(object, "Message");
    if (exception.empty()) {
      const std::string type = StringMember(object, "__type");  // "com.amazon...#ThrottlingException"
      exception = type.substr(type.find('#') == std::string::npos ? 0 : type.find('#') + 1);
    }
  }
  if (exception.empty() && (!is_object || object.fields().contains("error"))) {
    return ReadMessagesApiError(http_status, body);  // not Bedrock's shape: a proxy's, maybe the API's
  }
  UpstreamError error;
  error.http_status = http_status;
  error.body = std::string(body);
  error.code = exception;
  if (!exception.empty()) error.type = ErrorTypeForBedrockException(exception);
  error.message = exception.empty() || message.empty() ? message : absl::StrCat(exception, ": ", message);
  if (const std::string* id = FindHeader(headers, "x-amzn-requestid"); id != nullptr) {
    error.request_id = *id;
  }
  return error;
}

std::unique_ptr<EventDecoder> NewBedrockEventDecoder(size_t max_frame_bytes) {
  return std::make_unique<BedrockEventDecoder>(max_frame_bytes);
}

}  // namespace claude

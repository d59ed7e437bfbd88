#include "service/rpc/event_reader.h"

#include <optional>
#include <utility>

#include "service/errors/error_table.h"

namespace claude {
namespace {

// Feeds `chunk` (nullopt: the end of the body) and maps what stops the events.
// `*error_event_status`: set when an error event ends the stream.
grpc::Status Decode(EventDecoder& decoder, std::optional<absl::string_view> chunk,
                    const HttpHeaders& headers, EventReader::OnEvent on_event,
                    int* error_event_status) {
  grpc::Status ended;  // why the events stop here, when they do
  auto emit = [&](claude::v1::MessageStreamEvent event) {
    if (event.has_error()) {
      *error_event_status = HttpStatusForErrorType(event.error().error().type());
      ended = StatusFromErrorEvent(event.error(), headers);
    } else {
      ended = on_event(std::move(event));
    }
    return ended.ok() ? absl::OkStatus() : absl::AbortedError("the stream ends here");
  };
  const absl::Status decoded = chunk ? decoder.Feed(*chunk, emit) : decoder.Finish(emit);
  if (!ended.ok()) return ended;
  if (decoded.ok()) return grpc::Status::OK;
  // The body ended before the stream did.
  if (!chunk && decoded.code() == absl::StatusCode::kUnavailable) return ToGrpcStatus(decoded);
  return StatusFromInternal(decoded);
}

}  // namespace

grpc::Status EventReader::Feed(absl::string_view chunk, const HttpHeaders& headers, OnEvent on_event) {
  return Decode(*decoder_, chunk, headers, on_event, &error_event_status_);
}

grpc::Status EventReader::Finish(const HttpHeaders& headers, OnEvent on_event) {
  return Decode(*decoder_, std::nullopt, headers, on_event, &error_event_status_);
}

}  // namespace claude

// libFuzzer target: the JSON codec. Whatever the bytes, decoding never crashes; what decodes
// re-encodes to JSON that decodes again to the same encoding (decode -> encode -> decode is a
// fixed point), and the decoded message serializes to protobuf that protobuf parses (nesting
// within its limit, strings valid UTF-8).
//
// Input: one byte choosing the message type, then the JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"
#include "common/codec/json_mapping.h"

namespace {

std::unique_ptr<google::protobuf::Message> NewMessage(uint8_t choice) {
  switch (choice % 5) {
    case 0: return std::make_unique<claude::v1::MessageStreamEvent>();
    case 1: return std::make_unique<claude::v1::Message>();
    case 2: return std::make_unique<claude::v1::CreateMessageRequest>();
    case 3: return std::make_unique<claude::v1::ErrorEvent>();
    default: return std::make_unique<claude::v1::ListModelsResponse>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string json(reinterpret_cast<const char*>(data + 1), size - 1);
  std::unique_ptr<google::protobuf::Message> message = NewMessage(data[0]);
  if (!claude::JsonToMessage(json, message.get()).ok()) return 0;

  std::unique_ptr<google::protobuf::Message> parsed(message->New());
  if (!parsed->ParseFromString(message->SerializeAsString())) std::abort();  // callers could not read it

  const std::string once = claude::MessageToJsonString(*message);
  std::unique_ptr<google::protobuf::Message> again(message->New());
  if (!claude::JsonToMessage(once, again.get()).ok()) std::abort();
  if (claude::MessageToJsonString(*again) != once) std::abort();
  return 0;
}

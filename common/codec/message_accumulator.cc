#include "common/codec/message_accumulator.h"

#include <memory>

#include <google/protobuf/reflection.h>
#include <google/protobuf/struct.pb.h>

#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"

namespace claude {
namespace {

using claude::v1::ContentBlock;
using claude::v1::MessageStreamEvent;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The input of a block that takes input_json_delta fragments, or nullptr.
google::protobuf::Struct* ToolInput(ContentBlock* block) {
  switch (block->block_case()) {
    case ContentBlock::kToolUse: return block->mutable_tool_use()->mutable_input();
    case ContentBlock::kServerToolUse: return block->mutable_server_tool_use()->mutable_input();
    case ContentBlock::kMcpToolUse: return block->mutable_mcp_tool_use()->mutable_input();
    default: return nullptr;
  }
}

const char* BlockTypeName(const ContentBlock& block) {
  const FieldDescriptor* f = ContentBlock::descriptor()->FindFieldByNumber(block.block_case());
  return f == nullptr ? "empty" : f->name().c_str();
}

// Levels of messages above a tool's input in the accumulated Message: Message.content's
// ContentBlock, the tool block, then the input Struct itself.
constexpr int kToolInputNestingAbove = 3;

// Sets the member `key` of `to` from a JSON value that arrived in some message's extra_fields:
// into the typed field when `to` models the key (decoded by the same JSON mapping), otherwise
// into to's extra_fields. A null clears the typed field and is remembered. A value that does
// not fit the typed field leaves `to` as it was: extra_fields never shadows a modelled field,
// whose JSON would then no longer decode.
void SetMember(const std::string& key, const google::protobuf::Value& value, Message* to) {
  const auto* r = to->GetReflection();
  const FieldDescriptor* extra_field = to->GetDescriptor()->FindFieldByName("extra_fields");
  auto* extra = extra_field == nullptr
                    ? nullptr
                    : google::protobuf::DynamicCastToGenerated<google::protobuf::Struct>(
                          r->MutableMessage(to, extra_field));
  const FieldDescriptor* field = to->GetDescriptor()->FindFieldByName(key);
  if (field != nullptr && field != extra_field && !value.has_null_value()) {
    std::unique_ptr<Message> decoded(to->New());
    std::string json = "{";
    AppendJsonString(key, &json);
    json += ":" + MessageToJsonString(value) + "}";
    if (JsonToMessage(json, decoded.get()).ok() &&
        (field->is_repeated() || decoded->GetReflection()->HasField(*decoded, field))) {
      r->SwapFields(to, decoded.get(), {field});
      if (extra != nullptr) extra->mutable_fields()->erase(key);
      return;
    }
  }
  if (field != nullptr && field != extra_field) {
    if (!value.has_null_value()) return;
    r->ClearField(to, field);
  }
  if (extra != nullptr) (*extra->mutable_fields())[key] = value;
}

// Copies every set field of `from` into the field of the same name of `to`, and every member
// of from's extra_fields likewise: values in a message_delta replace what message_start said,
// whatever fields future versions add to both. Usage values that are null keep the earlier
// value, as the SDKs do.
void OverwriteUsage(const Message& from, Message* to) {
  const auto* from_r = from.GetReflection();
  const auto* to_r = to->GetReflection();
  const auto* to_d = to->GetDescriptor();
  std::vector<const FieldDescriptor*> set_fields;
  from_r->ListFields(from, &set_fields);
  for (const FieldDescriptor* f : set_fields) {
    if (f->name() == "extra_fields") continue;
    const FieldDescriptor* t = to_d->FindFieldByName(f->name());
    if (t == nullptr || t->cpp_type() != f->cpp_type() || t->is_repeated() || f->is_repeated()) {
      continue;
    }
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT64: to_r->SetInt64(to, t, from_r->GetInt64(from, f)); break;
      case FieldDescriptor::CPPTYPE_STRING:
        to_r->SetString(to, t, from_r->GetString(from, f));
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (t->message_type() == f->message_type()) {
          to_r->MutableMessage(to, t)->CopyFrom(from_r->GetMessage(from, f));
        }
        break;
      default: break;  // the usage messages hold only integers, strings and messages
    }
    if (const FieldDescriptor* extra = to_d->FindFieldByName("extra_fields"); extra != nullptr) {
      static_cast<google::protobuf::Struct*>(to_r->MutableMessage(to, extra))
          ->mutable_fields()
          ->erase(f->name());
    }
  }
  const FieldDescriptor* from_extra = from.GetDescriptor()->FindFieldByName("extra_fields");
  if (from_extra == nullptr || !from_r->HasField(from, from_extra)) return;
  const auto& extra =
      static_cast<const google::protobuf::Struct&>(from_r->GetMessage(from, from_extra));
  for (const auto& [key, value] : extra.fields()) {
    if (!value.has_null_value()) SetMember(key, value, to);
  }
}

}  // namespace

absl::Status MessageAccumulator::Apply(const MessageStreamEvent& event) {
  if (!failure_.ok()) return failure_;
  absl::Status status = ApplyUnchecked(event);
  if (!status.ok()) failure_ = status;
  return status;
}

absl::Status MessageAccumulator::ApplyUnchecked(const MessageStreamEvent& event) {
  if (event.event_case() == MessageStreamEvent::kError) {
    return absl::AbortedError(absl::StrCat("upstream error event: ", event.error().error().type(),
                                           ": ", event.error().error().message()));
  }
  if (event.event_case() == MessageStreamEvent::kPing) return absl::OkStatus();
  if (event.event_case() == MessageStreamEvent::kUnknown ||
      event.event_case() == MessageStreamEvent::EVENT_NOT_SET) {
    ++ignored_events_;
    return absl::OkStatus();
  }
  if (stopped_) return absl::InvalidArgumentError("event after message_stop");
  if (event.event_case() == MessageStreamEvent::kMessageStart) {
    if (started_) return absl::InvalidArgumentError("message_start: duplicate message_start");
    started_ = true;
    message_ = event.message_start().message();
    blocks_.assign(message_.content_size(), BlockState{false, false, {}});
    return absl::OkStatus();
  }
  if (!started_) {
    const FieldDescriptor* f =
        MessageStreamEvent::descriptor()->FindFieldByNumber(event.event_case());
    return absl::InvalidArgumentError(absl::StrCat(f->name(), ": event before message_start"));
  }
  switch (event.event_case()) {
    case MessageStreamEvent::kContentBlockStart: return StartBlock(event.content_block_start());
    case MessageStreamEvent::kContentBlockDelta: return ApplyDelta(event.content_block_delta());
    case MessageStreamEvent::kContentBlockStop:
      return StopBlock(event.content_block_stop().index());
    case MessageStreamEvent::kMessageDelta:
      ApplyMessageDelta(event.message_delta());
      return absl::OkStatus();
    case MessageStreamEvent::kMessageStop:
      // A block left open still gets its input parsed, as if it had been stopped.
      for (size_t i = 0; i < blocks_.size(); ++i) {
        if (blocks_[i].open) {
          if (absl::Status s = StopBlock(static_cast<int64_t>(i)); !s.ok()) return s;
        }
      }
      stopped_ = true;
      return absl::OkStatus();
    default: return absl::OkStatus();  // handled above
  }
}

absl::Status MessageAccumulator::StartBlock(const claude::v1::ContentBlockStartEvent& event) {
  if (event.index() != message_.content_size()) {
    return absl::InvalidArgumentError(absl::StrCat("content_block_start: index ", event.index(),
                                                   ", expected ", message_.content_size()));
  }
  *message_.add_content() = event.content_block();
  message_.mutable_extra_fields()->mutable_fields()->erase("content");
  blocks_.push_back(BlockState{});
  return absl::OkStatus();
}

absl::StatusOr<ContentBlock*> MessageAccumulator::OpenBlock(absl::string_view event,
                                                            int64_t index) {
  if (index < 0 || index >= message_.content_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(event, ": index ", index, " names no content block"));
  }
  if (!blocks_[index].open) {
    return absl::InvalidArgumentError(
        absl::StrCat(event, ": content block ", index, " is already stopped"));
  }
  return message_.mutable_content(static_cast<int>(index));
}

absl::Status MessageAccumulator::ApplyDelta(const claude::v1::ContentBlockDeltaEvent& event) {
  absl::StatusOr<ContentBlock*> found = OpenBlock("content_block_delta", event.index());
  if (!found.ok()) return found.status();
  ContentBlock* block = *found;
  const claude::v1::ContentBlockDelta& delta = event.delta();
  auto mismatch = [&](absl::string_view delta_type) {
    return absl::InvalidArgumentError(absl::StrCat("content_block_delta: index ", event.index(),
                                                   ": ", delta_type, " does not apply to a ",
                                                   BlockTypeName(*block), " block"));
  };
  switch (delta.delta_case()) {
    case claude::v1::ContentBlockDelta::kTextDelta:
      if (!block->has_text()) return mismatch("text_delta");
      block->mutable_text()->mutable_text()->append(delta.text_delta().text());
      return absl::OkStatus();
    case claude::v1::ContentBlockDelta::kThinkingDelta:
      if (!block->has_thinking()) return mismatch("thinking_delta");
      block->mutable_thinking()->mutable_thinking()->append(delta.thinking_delta().thinking());
      return absl::OkStatus();
    case claude::v1::ContentBlockDelta::kSignatureDelta:
      if (!block->has_thinking()) return mismatch("signature_delta");
      block->mutable_thinking()->set_signature(delta.signature_delta().signature());
      return absl::OkStatus();
    case claude::v1::ContentBlockDelta::kCitationsDelta:
      if (!block->has_text()) return mismatch("citations_delta");
      *block->mutable_text()->add_citations() = delta.citations_delta().citation();
      block->mutable_text()->mutable_extra_fields()->mutable_fields()->erase("citations");
      return absl::OkStatus();
    case claude::v1::ContentBlockDelta::kInputJsonDelta: {
      if (ToolInput(block) == nullptr) return mismatch("input_json_delta");
      BlockState& state = blocks_[event.index()];
      state.has_json = true;
      state.json.append(delta.input_json_delta().partial_json());
      return absl::OkStatus();
    }
    default: ++ignored_events_; return absl::OkStatus();
  }
}

absl::Status MessageAccumulator::StopBlock(int64_t index) {
  absl::StatusOr<ContentBlock*> found = OpenBlock("content_block_stop", index);
  if (!found.ok()) return found.status();
  BlockState& state = blocks_[index];
  state.open = false;
  google::protobuf::Struct* input = ToolInput(*found);
  if (input == nullptr || !state.has_json) return absl::OkStatus();
  std::string json = std::move(state.json);
  state.json.clear();
  if (json.find_first_not_of(" \t\r\n") == std::string::npos) {
    input->Clear();  // only empty fragments came: the input is {}
    return absl::OkStatus();
  }
  if (absl::Status s = JsonToMessage(json, input, kToolInputNestingAbove); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("content_block_stop: index ", index,
                     ": the tool input assembled from input_json_delta "
                     "is not a JSON object: ",
                     s.message()));
  }
  return absl::OkStatus();
}

void MessageAccumulator::ApplyMessageDelta(const claude::v1::MessageDeltaEvent& event) {
  const claude::v1::MessageDelta& delta = event.delta();
  auto* extra = message_.mutable_extra_fields()->mutable_fields();
  // stop_reason and stop_sequence are always replaced, as the SDKs do: absent means null.
  message_.set_stop_reason(delta.stop_reason());
  message_.set_stop_reason_raw(delta.stop_reason_raw());
  if (delta.stop_reason() != claude::v1::STOP_REASON_UNSPECIFIED ||
      !delta.stop_reason_raw().empty()) {
    extra->erase("stop_reason");
  }
  if (delta.has_stop_sequence()) {
    message_.set_stop_sequence(delta.stop_sequence());
    extra->erase("stop_sequence");
  } else {
    message_.clear_stop_sequence();
  }
  // stop_details too: the SDKs copy it from the delta, so a delta without it leaves none.
  if (delta.has_stop_details()) {
    *message_.mutable_stop_details() = delta.stop_details();
  } else {
    message_.clear_stop_details();
  }
  extra->erase("stop_details");
  if (delta.has_container()) {
    *message_.mutable_container() = delta.container();
    extra->erase("container");
  }
  // Members the delta does not model, and explicit nulls (which clear what message_start said).
  // A member that names a Message field the delta does not model (role, content, id, model...)
  // is not the delta's to change: message_start and the content block events set those, and a
  // replaced content list would no longer match the blocks being accumulated. The event itself
  // still carries it to the caller.
  for (const auto& [key, value] : delta.extra_fields().fields()) {
    if (claude::v1::MessageDelta::descriptor()->FindFieldByName(key) == nullptr &&
        claude::v1::Message::descriptor()->FindFieldByName(key) != nullptr) {
      continue;
    }
    SetMember(key, value, &message_);
  }
  if (event.has_usage()) ApplyUsageDelta(event.usage(), message_.mutable_usage());
}

void ApplyUsageDelta(const claude::v1::MessageDeltaUsage& delta, claude::v1::Usage* usage) {
  OverwriteUsage(delta, usage);
}

absl::StatusOr<claude::v1::Message> MessageAccumulator::Finish() && {
  if (!failure_.ok()) return failure_;
  if (!stopped_) {
    return absl::FailedPreconditionError(started_ ? "stream ended before message_stop"
                                                  : "stream ended before message_start");
  }
  return std::move(message_);
}

}  // namespace claude

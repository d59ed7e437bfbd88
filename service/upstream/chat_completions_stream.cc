// A streamed chat_completions reply (`data: {chat.completion.chunk}` ... `data: [DONE]`) as the
// event sequence a Messages upstream sends for the same reply.
//
// The chunks carry three kinds of pieces, "channels": reasoning_content (a thinking block),
// content (a text block) and one tool call per tool_calls index (a tool_use block). Messages
// blocks never overlap, so one block is open at a time:
// - a piece for the open block is a delta at once (empty pieces make no events);
// - a piece for a new channel closes an open thinking or text block and opens its own block;
// - but an open tool_use block cannot be closed before the end (its call may get more argument
//   fragments later: calls may interleave by index), so pieces of other channels that arrive
//   meanwhile wait, bounded, and become their blocks after it, at [DONE].
// The SSE data is decoded chunk by chunk, so argument fragments arrive unescaped and whole
// characters; they are passed on verbatim as partial_json, and what they concatenate to is what
// the unary reply's arguments are. A call's fragments are also kept (bounded) until its block
// ends, to check, as the unary path does, that they make a JSON object.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "service/sse/sse_parser.h"
#include "service/upstream/chat_completions_internal.h"

namespace claude::chat_completions {
namespace {

using claude::v1::MessageStreamEvent;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Bounds on what a stream may make the decoder hold.
constexpr int64_t kMaxToolCallIndex = 1024;
constexpr size_t kMaxWaitingBytes = 16 << 20;
constexpr size_t kMaxArgumentBytes = 16 << 20;  // of all tool calls' arguments together

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(absl::StrCat("chat_completions stream: ", what));
}

class ChatEventDecoder final : public EventDecoder {
 public:
  explicit ChatEventDecoder(size_t max_event_bytes) : sse_(max_event_bytes) {}

  absl::Status Feed(absl::string_view chunk, Emit emit) override {
    return sse_.Feed(std::string_view(chunk.data(), chunk.size()),
                     [&](const SseEvent& event) { return OnData(event.data, emit); });
  }

  // Everything is emitted by [DONE] itself; the end only says whether it came.
  absl::Status Finish(Emit /*emit*/) override {
    if (sse_.HasPartialEvent()) return absl::UnavailableError("upstream stream ended mid-event");
    if (!done_) return absl::UnavailableError("upstream stream ended before [DONE]");
    return absl::OkStatus();
  }

 private:
  enum class Kind { kThinking, kText, kToolUse };
  struct Channel {
    explicit Channel(Kind k) : kind(k) {}
    Kind kind;
    int64_t block_index = -1;  // -1: its block has not started
    std::string tool_id;
    std::string tool_name;
    std::vector<std::string> waiting;  // pieces held until the block can start
    std::string arguments;             // a tool call's fragments so far, checked at its end
  };

  absl::Status OnData(std::string_view data, Emit emit) {
    if (done_) return Malformed("data after [DONE]");
    if (data == "[DONE]") return End(emit);
    object chunk;
    if (auto error = json_.parse(data.data(), data.size()).get(chunk); error) {
      return Malformed(absl::StrCat("a chunk is not a JSON object: ", simdjson::error_message(error)));
    }
    object error_object;
    if (chunk["error"].get(error_object) == simdjson::SUCCESS) {
      MessageStreamEvent event;
      claude::v1::ApiError* error = event.mutable_error()->mutable_error();
      std::string code;
      ReadErrorObject(error_object, error->mutable_type(), &code, error->mutable_message());
      return emit(std::move(event));
    }
    if (!started_) {
      if (absl::Status s = Start(chunk, emit); !s.ok()) return s;
    }
    element usage;
    if (chunk["usage"].get(usage) == simdjson::SUCCESS && !usage.is_null()) {
      object usage_object;
      if (usage.get(usage_object) != simdjson::SUCCESS) return Malformed("usage is not an object");
      usage_.emplace();
      if (absl::Status s = ReadUsage(usage_object, &*usage_); !s.ok()) return s;
    }
    array choices;
    if (chunk["choices"].get(choices) != simdjson::SUCCESS) return absl::OkStatus();
    for (element choice_json : choices) {
      object choice;
      if (choice_json.get(choice) != simdjson::SUCCESS) return Malformed("a choice is not an object");
      int64_t index = 0;
      if (choice["index"].get(index) == simdjson::SUCCESS && index != 0) continue;  // n > 1
      if (absl::Status s = OnChoice(choice, emit); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // message_start, from the first chunk: id, model, and the usage known so far.
  absl::Status Start(object chunk, Emit emit) {
    started_ = true;
    std::string_view id, model;
    if (!StringMember(chunk, "id", &id) || !StringMember(chunk, "model", &model)) {
      return Malformed("id and model must be strings");
    }
    MessageStreamEvent event;
    claude::v1::Message* message = event.mutable_message_start()->mutable_message();
    message->set_id(std::string(id));
    message->set_type("message");
    message->set_role(claude::v1::ROLE_ASSISTANT);
    message->set_model(std::string(model));
    object usage;
    if (chunk["usage"].get(usage) == simdjson::SUCCESS) {
      if (absl::Status s = ReadUsage(usage, message->mutable_usage()); !s.ok()) return s;
    } else {
      SetZeroUsage(message->mutable_usage());
    }
    return emit(std::move(event));
  }

  absl::Status OnChoice(object choice, Emit emit) {
    object delta;
    if (choice["delta"].get(delta) == simdjson::SUCCESS) {
      // The order of a unary reply: reasoning, content, tool calls.
      std::string_view text;
      if (!StringMember(delta, "reasoning_content", &text)) {
        return Malformed("delta.reasoning_content is not a string");
      }
      if (!text.empty()) {
        if (absl::Status s = Piece(TextChannel(Kind::kThinking), text, emit); !s.ok()) return s;
      }
      if (!StringMember(delta, "content", &text)) return Malformed("delta.content is not a string");
      if (!text.empty()) {
        if (absl::Status s = Piece(TextChannel(Kind::kText), text, emit); !s.ok()) return s;
      }
      array calls;
      if (delta["tool_calls"].get(calls) == simdjson::SUCCESS) {
        for (element call : calls) {
          if (absl::Status s = OnToolCall(call, emit); !s.ok()) return s;
        }
      }
    }
    std::string_view finish_reason;
    if (!StringMember(choice, "finish_reason", &finish_reason)) {
      return Malformed("finish_reason is not a string");
    }
    if (!finish_reason.empty()) finish_reason_ = std::string(finish_reason);
    return absl::OkStatus();
  }

  absl::Status OnToolCall(element call_json, Emit emit) {
    object call;
    int64_t index = 0;
    if (call_json.get(call) != simdjson::SUCCESS || call["index"].get(index) != simdjson::SUCCESS ||
        index < 0 || index > kMaxToolCallIndex) {
      return Malformed("a tool call without a valid index");
    }
    std::string_view id, name, arguments;
    object function;
    const bool has_function = call["function"].get(function) == simdjson::SUCCESS;
    if (!StringMember(call, "id", &id) ||
        (has_function && (!StringMember(function, "name", &name) ||
                          !StringMember(function, "arguments", &arguments)))) {
      return Malformed(absl::StrCat("tool call ", index, " is malformed"));
    }
    auto [it, is_new] = tool_channels_.try_emplace(index, nullptr);
    if (is_new) {
      channels_.push_back(std::make_unique<Channel>(Kind::kToolUse));
      it->second = channels_.back().get();
    }
    Channel* channel = it->second;
    if (channel->block_index < 0) {
      if (!id.empty()) channel->tool_id = std::string(id);
      if (!name.empty()) channel->tool_name = std::string(name);
    }
    // A tool call's block starts as soon as it can, even before any argument: as a Messages
    // upstream sends content_block_start first.
    if (is_new && CanStart(*channel)) {
      if (absl::Status s = StartBlock(channel, emit); !s.ok()) return s;
    }
    if (arguments.empty()) return absl::OkStatus();
    return Piece(channel, arguments, emit);
  }

  // The thinking or text channel that takes new pieces: the open or waiting one of that kind,
  // else a new one.
  Channel* TextChannel(Kind kind) {
    Channel*& current = kind == Kind::kThinking ? thinking_ : text_;
    if (current == nullptr) {
      channels_.push_back(std::make_unique<Channel>(kind));
      current = channels_.back().get();
    }
    return current;
  }

  // Whether `channel`'s block may start now: nothing is open, or what is open is a thinking or
  // text block (closed for it).
  bool CanStart(const Channel& channel) const {
    return channel.block_index < 0 && (open_ == nullptr || open_->kind != Kind::kToolUse);
  }

  absl::Status Piece(Channel* channel, std::string_view piece, Emit emit) {
    if (channel == open_) return Delta(*channel, piece, emit);
    if (CanStart(*channel)) {
      if (absl::Status s = StartBlock(channel, emit); !s.ok()) return s;
      return Delta(*channel, piece, emit);
    }
    waiting_bytes_ += piece.size();
    if (waiting_bytes_ > kMaxWaitingBytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "chat_completions stream: more than ", kMaxWaitingBytes,
          " bytes of interleaved tool calls and text wait behind an open tool call"));
    }
    channel->waiting.emplace_back(piece);
    return absl::OkStatus();
  }

  absl::Status StartBlock(Channel* channel, Emit emit) {
    if (open_ != nullptr) {
      if (absl::Status s = StopBlock(emit); !s.ok()) return s;
    }
    MessageStreamEvent event;
    auto* start = event.mutable_content_block_start();
    channel->block_index = next_block_index_++;
    start->set_index(channel->block_index);
    switch (channel->kind) {
      case Kind::kThinking:
        start->mutable_content_block()->mutable_thinking();  // empty thinking and signature
        break;
      case Kind::kText:
        start->mutable_content_block()->mutable_text();
        break;
      case Kind::kToolUse: {
        if (channel->tool_id.empty() || channel->tool_name.empty()) {
          return Malformed(absl::StrCat("tool call block ", channel->block_index,
                                        " starts without an id or a function name"));
        }
        claude::v1::ToolUseBlock* use = start->mutable_content_block()->mutable_tool_use();
        use->set_id(channel->tool_id);
        use->set_name(channel->tool_name);
        use->mutable_input();  // {} as the API sends it
        break;
      }
    }
    open_ = channel;
    if (absl::Status s = emit(std::move(event)); !s.ok()) return s;
    for (std::string& piece : channel->waiting) {
      waiting_bytes_ -= piece.size();
      if (absl::Status s = Delta(*channel, piece, emit); !s.ok()) return s;
    }
    channel->waiting.clear();
    return absl::OkStatus();
  }

  absl::Status Delta(Channel& channel, std::string_view piece, Emit emit) {
    if (channel.kind == Kind::kToolUse) {
      argument_bytes_ += piece.size();
      if (argument_bytes_ > kMaxArgumentBytes) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "chat_completions stream: tool call arguments exceed ", kMaxArgumentBytes, " bytes"));
      }
      channel.arguments.append(piece.data(), piece.size());
    }
    MessageStreamEvent event;
    auto* delta = event.mutable_content_block_delta();
    delta->set_index(channel.block_index);
    switch (channel.kind) {
      case Kind::kThinking:
        delta->mutable_delta()->mutable_thinking_delta()->set_thinking(std::string(piece));
        break;
      case Kind::kText:
        delta->mutable_delta()->mutable_text_delta()->set_text(std::string(piece));
        break;
      case Kind::kToolUse:
        delta->mutable_delta()->mutable_input_json_delta()->set_partial_json(std::string(piece));
        break;
    }
    return emit(std::move(event));
  }

  // Closes the open block. A closed thinking or text channel takes no more pieces: later ones
  // start a new block of their kind.
  absl::Status StopBlock(Emit emit) {
    if (open_->kind == Kind::kToolUse) {
      // As in a unary reply: arguments that are not a JSON object end the stream, INTERNAL
      // naming the call, instead of a tool_use block no accumulator could finish.
      google::protobuf::Struct input;
      if (absl::Status s = ParseToolArguments(open_->arguments, open_->tool_id, &input); !s.ok()) {
        return s;
      }
      open_->arguments.clear();
      open_->arguments.shrink_to_fit();
    }
    MessageStreamEvent event;
    event.mutable_content_block_stop()->set_index(open_->block_index);
    if (open_->kind != Kind::kToolUse) {
      // Done with for good (a tool call's channel stays: its index may come again).
      if (open_ == thinking_) thinking_ = nullptr;
      if (open_ == text_) text_ = nullptr;
      for (auto it = channels_.begin(); it != channels_.end(); ++it) {
        if (it->get() == open_) {
          channels_.erase(it);
          break;
        }
      }
    }
    open_ = nullptr;
    return emit(std::move(event));
  }

  // [DONE]: the open block ends, then the waiting channels become blocks in the order they
  // first appeared, then message_delta (stop reason, the final usage) and message_stop.
  absl::Status End(Emit emit) {
    if (!started_) return Malformed("[DONE] before any chunk");
    done_ = true;
    std::vector<Channel*> waiting;  // StartBlock may erase from channels_
    for (const std::unique_ptr<Channel>& channel : channels_) {
      if (channel->block_index < 0) waiting.push_back(channel.get());
    }
    for (Channel* channel : waiting) {
      if (absl::Status s = StartBlock(channel, emit); !s.ok()) return s;
    }
    if (open_ != nullptr) {
      if (absl::Status s = StopBlock(emit); !s.ok()) return s;
    }
    MessageStreamEvent event;
    claude::v1::MessageDeltaEvent* message_delta = event.mutable_message_delta();
    if (finish_reason_) {
      claude::v1::StopReason reason;
      SetStopReason(*finish_reason_, &reason,
                    message_delta->mutable_delta()->mutable_stop_reason_raw());
      message_delta->mutable_delta()->set_stop_reason(reason);
    } else {
      message_delta->mutable_delta();
    }
    if (usage_) {
      claude::v1::MessageDeltaUsage* usage = message_delta->mutable_usage();
      usage->set_input_tokens(usage_->input_tokens());
      usage->set_output_tokens(usage_->output_tokens());
      usage->set_cache_creation_input_tokens(usage_->cache_creation_input_tokens());
      usage->set_cache_read_input_tokens(usage_->cache_read_input_tokens());
      *usage->mutable_cache_creation() = usage_->cache_creation();
    }
    if (absl::Status s = emit(std::move(event)); !s.ok()) return s;
    MessageStreamEvent stop;
    stop.mutable_message_stop();
    return emit(std::move(stop));
  }

  SseParser sse_;
  simdjson::dom::parser json_;
  bool started_ = false;
  bool done_ = false;
  std::optional<std::string> finish_reason_;
  std::optional<claude::v1::Usage> usage_;
  // The channels not finished, in the order they first appeared: every tool call (at most
  // kMaxToolCallIndex + 1) and at most one thinking and one text channel.
  std::vector<std::unique_ptr<Channel>> channels_;
  absl::flat_hash_map<int64_t, Channel*> tool_channels_;
  Channel* thinking_ = nullptr;  // the thinking channel taking pieces, if any
  Channel* text_ = nullptr;      // the text channel taking pieces, if any
  Channel* open_ = nullptr;      // the channel whose block is open
  int64_t next_block_index_ = 0;
  size_t waiting_bytes_ = 0;
  size_t argument_bytes_ = 0;
};

}  // namespace

std::unique_ptr<EventDecoder> NewEventDecoder(size_t max_event_bytes) {
  return std::make_unique<ChatEventDecoder>(max_event_bytes);
}

}  // namespace claude::chat_completions

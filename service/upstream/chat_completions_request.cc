// claude.v1.CreateMessageRequest -> the body of `POST /v1/chat/completions`. Every field is
// either translated or refused with INVALID_ARGUMENT naming its JSON path; nothing is dropped.
#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "service/upstream/chat_completions_internal.h"

namespace claude::chat_completions {
namespace {

using claude::v1::ContentBlock;
using claude::v1::CreateMessageRequest;
using claude::v1::MessageParam;

absl::Status Refuse(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", what, " cannot be sent to a chat_completions upstream"));
}

// Members the proto does not model have no counterpart in the Chat Completions API; explicit
// nulls (kept there too) mean "absent" and are fine.
absl::Status CheckNoExtraFields(const google::protobuf::Struct& extra, absl::string_view path) {
  for (const auto& [key, value] : extra.fields()) {
    if (value.kind_case() != google::protobuf::Value::kNullValue) {
      return Refuse(absl::StrCat(path, ".", key), "a member claude-grpc does not model");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNoCacheControl(bool has_cache_control, absl::string_view path) {
  return has_cache_control ? Refuse(absl::StrCat(path, ".cache_control"), "cache_control")
                           : absl::OkStatus();
}

// Writes one JSON object member by member; a key is written once (later writes of the same key
// are skipped, so modelled fields win over the caller's extra_fields).
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  // Starts member `key`; the caller appends its value. False when `key` was written already.
  bool Key(absl::string_view key) {
    for (const std::string& k : keys_) {
      if (k == key) return false;
    }
    keys_.emplace_back(key);
    if (keys_.size() > 1) out_->push_back(',');
    AppendJsonString(key, out_);
    out_->push_back(':');
    return true;
  }
  void String(absl::string_view key, absl::string_view value) {
    if (Key(key)) AppendJsonString(value, out_);
  }
  void Raw(absl::string_view key, absl::string_view json) {
    if (Key(key)) out_->append(json.data(), json.size());
  }
  void Close() { out_->push_back('}'); }

 private:
  std::string* out_;
  std::vector<std::string> keys_;
};

// The shortest text that reads back as `value` (absl::StrCat keeps only 6 digits).
std::string JsonNumber(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

void AppendTextPart(absl::string_view text, std::string* out) {
  out->append(R"({"type":"text","text":)");
  AppendJsonString(text, out);
  out->push_back('}');
}

absl::Status CheckTextBlock(const claude::v1::TextBlock& text, absl::string_view path) {
  if (text.citations_size() > 0) return Refuse(absl::StrCat(path, ".citations"), "citations");
  if (absl::Status s = CheckNoCacheControl(text.has_cache_control(), path); !s.ok()) return s;
  return CheckNoExtraFields(text.extra_fields(), path);
}

// An image block as an `image_url` part: base64 data becomes a data: URL, a URL stays a URL.
absl::Status AppendImagePart(const claude::v1::ImageBlock& image, const std::string& path,
                             std::string* out) {
  if (absl::Status s = CheckNoCacheControl(image.has_cache_control(), path); !s.ok()) return s;
  if (absl::Status s = CheckNoExtraFields(image.extra_fields(), path); !s.ok()) return s;
  const std::string source_path = path + ".source";
  const claude::v1::ImageSource& source = image.source();
  std::string url;
  if (source.has_base64()) {
    if (absl::Status s = CheckNoExtraFields(source.base64().extra_fields(), source_path); !s.ok()) {
      return s;
    }
    url = absl::StrCat("data:", source.base64().media_type(), ";base64,",
                       absl::Base64Escape(source.base64().data()));
  } else if (source.has_url()) {
    if (absl::Status s = CheckNoExtraFields(source.url().extra_fields(), source_path); !s.ok()) {
      return s;
    }
    url = source.url().url();
  } else {
    return Refuse(source_path, "an image source other than base64 or url");
  }
  out->append(R"({"type":"image_url","image_url":{"url":)");
  AppendJsonString(url, out);
  out->append("}}");
  return absl::OkStatus();
}

// The name of a block type, for refusals ("document", "server_tool_use", ...).
std::string BlockTypeName(const ContentBlock& block) {
  const auto* field = block.GetReflection()->GetOneofFieldDescriptor(
      block, block.GetDescriptor()->FindOneofByName("block"));
  if (field == nullptr) return "an empty block";
  if (block.has_unknown()) return "a block of an unknown type";
  return absl::StrCat(field->name(), " blocks");
}

// Writes the messages of the conversation, one Claude turn becoming one or more chat messages.
class MessagesWriter {
 public:
  explicit MessagesWriter(std::string* out) : out_(out) {}

  void System(const CreateMessageRequest& request) {
    Open("system");
    if (request.has_system_blocks()) {
      out_->push_back('[');
      bool first = true;
      for (const claude::v1::TextBlock& block : request.system_blocks().blocks()) {
        if (!first) out_->push_back(',');
        first = false;
        AppendTextPart(block.text(), out_);
      }
      out_->push_back(']');
    } else {
      AppendJsonString(request.system_text(), out_);
    }
    out_->push_back('}');
  }

  absl::Status Turn(const MessageParam& message, const std::string& path) {
    if (absl::Status s = CheckNoExtraFields(message.extra_fields(), path); !s.ok()) return s;
    const bool user = message.role() == claude::v1::ROLE_USER;
    if (!user && message.role() != claude::v1::ROLE_ASSISTANT) {
      return Refuse(path + ".role", "a role other than user or assistant");
    }
    if (!message.has_content_blocks()) {
      Open(user ? "user" : "assistant");
      AppendJsonString(message.content_text(), out_);
      out_->push_back('}');
      return absl::OkStatus();
    }
    return user ? UserBlocks(message.content_blocks(), path + ".content")
                : AssistantBlocks(message.content_blocks(), path + ".content");
  }

 private:
  // Starts a message of `role` up to its "content" value.
  void Open(absl::string_view role) {
    if (written_++ > 0) out_->push_back(',');
    out_->append(R"({"role":)");
    AppendJsonString(role, out_);
    out_->append(R"(,"content":)");
  }

  // A user turn: text and images as parts of a user message; each tool_result as a "tool"
  // message where it stands (the parts before it are written first, so the order is kept).
  absl::Status UserBlocks(const claude::v1::ContentBlockList& blocks, const std::string& path) {
    std::string parts;
    int part_count = 0;
    const auto flush_parts = [&] {
      if (part_count == 0) return;
      Open("user");
      absl::StrAppend(out_, "[", parts, "]}");
      parts.clear();
      part_count = 0;
    };
    for (int i = 0; i < blocks.blocks_size(); ++i) {
      const ContentBlock& block = blocks.blocks(i);
      const std::string block_path = absl::StrCat(path, "[", i, "]");
      if (block.has_text()) {
        if (absl::Status s = CheckTextBlock(block.text(), block_path); !s.ok()) return s;
        if (part_count++ > 0) parts.push_back(',');
        AppendTextPart(block.text().text(), &parts);
      } else if (block.has_image()) {
        if (part_count++ > 0) parts.push_back(',');
        if (absl::Status s = AppendImagePart(block.image(), block_path, &parts); !s.ok()) return s;
      } else if (block.has_tool_result()) {
        flush_parts();
        if (absl::Status s = ToolResult(block.tool_result(), block_path); !s.ok()) return s;
      } else {
        return Refuse(block_path, BlockTypeName(block));
      }
    }
    flush_parts();
    return absl::OkStatus();
  }

  absl::Status ToolResult(const claude::v1::ToolResultBlock& result, const std::string& path) {
    if (absl::Status s = CheckNoCacheControl(result.has_cache_control(), path); !s.ok()) return s;
    if (absl::Status s = CheckNoExtraFields(result.extra_fields(), path); !s.ok()) return s;
    if (result.is_error()) return Refuse(path + ".is_error", "is_error");
    std::string content;
    if (result.has_content_blocks()) {
      content.push_back('[');
      const auto& blocks = result.content_blocks().blocks();
      for (int i = 0; i < blocks.size(); ++i) {
        const std::string block_path = absl::StrCat(path, ".content[", i, "]");
        if (!blocks[i].has_text()) {
          return Refuse(block_path, absl::StrCat(BlockTypeName(blocks[i]), " in a tool_result"));
        }
        if (absl::Status s = CheckTextBlock(blocks[i].text(), block_path); !s.ok()) return s;
        if (i > 0) content.push_back(',');
        AppendTextPart(blocks[i].text().text(), &content);
      }
      content.push_back(']');
    } else {
      AppendJsonString(result.content_text(), &content);
    }
    Open("tool");
    absl::StrAppend(out_, content, R"(,"tool_call_id":)");
    AppendJsonString(result.tool_use_id(), out_);
    out_->push_back('}');
    return absl::OkStatus();
  }

  // An assistant turn: its text as content, its thinking as reasoning_content, its tool_use
  // blocks as tool_calls (arguments = the input's JSON text).
  absl::Status AssistantBlocks(const claude::v1::ContentBlockList& blocks, const std::string& path) {
    std::string parts;
    std::string reasoning;
    std::string calls;
    int part_count = 0;
    int call_count = 0;
    bool has_reasoning = false;
    for (int i = 0; i < blocks.blocks_size(); ++i) {
      const ContentBlock& block = blocks.blocks(i);
      const std::string block_path = absl::StrCat(path, "[", i, "]");
      if (block.has_text()) {
        if (absl::Status s = CheckTextBlock(block.text(), block_path); !s.ok()) return s;
        if (part_count++ > 0) parts.push_back(',');
        AppendTextPart(block.text().text(), &parts);
      } else if (block.has_thinking()) {
        if (absl::Status s = CheckNoExtraFields(block.thinking().extra_fields(), block_path); !s.ok()) {
          return s;
        }
        reasoning += block.thinking().thinking();
        has_reasoning = true;
      } else if (block.has_tool_use()) {
        const claude::v1::ToolUseBlock& use = block.tool_use();
        if (absl::Status s = CheckNoCacheControl(use.has_cache_control(), block_path); !s.ok()) {
          return s;
        }
        if (absl::Status s = CheckNoExtraFields(use.extra_fields(), block_path); !s.ok()) return s;
        if (call_count++ > 0) calls.push_back(',');
        calls.append(R"({"id":)");
        AppendJsonString(use.id(), &calls);
        calls.append(R"(,"type":"function","function":{"name":)");
        AppendJsonString(use.name(), &calls);
        calls.append(R"(,"arguments":)");
        AppendJsonString(use.has_input() ? MessageToJsonString(use.input()) : "{}", &calls);
        calls.append("}}");
      } else {
        return Refuse(block_path, BlockTypeName(block));
      }
    }
    Open("assistant");
    if (part_count > 0) {
      absl::StrAppend(out_, "[", parts, "]");
    } else {
      out_->append("null");  // OpenAI's assistant message with only tool calls
    }
    if (has_reasoning) {
      out_->append(R"(,"reasoning_content":)");
      AppendJsonString(reasoning, out_);
    }
    if (call_count > 0) absl::StrAppend(out_, R"(,"tool_calls":[)", calls, "]");
    out_->push_back('}');
    return absl::OkStatus();
  }

  std::string* out_;
  int written_ = 0;
};

absl::Status AppendTools(const CreateMessageRequest& request, std::string* out) {
  out->push_back('[');
  for (int i = 0; i < request.tools_size(); ++i) {
    const std::string path = absl::StrCat("tools[", i, "]");
    const claude::v1::Tool& tool = request.tools(i);
    if (!tool.has_custom()) {
      return Refuse(path, "a server tool (only custom tools become functions)");
    }
    const claude::v1::CustomTool& custom = tool.custom();
    if (absl::Status s = CheckNoCacheControl(custom.has_cache_control(), path); !s.ok()) return s;
    if (absl::Status s = CheckNoExtraFields(custom.extra_fields(), path); !s.ok()) return s;
    if (i > 0) out->push_back(',');
    out->append(R"({"type":"function","function":)");
    ObjectWriter function(out);
    function.String("name", custom.name());
    if (custom.has_description()) function.String("description", custom.description());
    if (function.Key("parameters")) {
      if (custom.has_input_schema()) {
        MessageToJson(custom.input_schema(), out);
      } else {
        out->append("{}");
      }
    }
    if (custom.has_strict()) function.Raw("strict", custom.strict() ? "true" : "false");
    function.Close();
    out->push_back('}');
  }
  out->push_back(']');
  return absl::OkStatus();
}

absl::Status WriteToolChoice(const claude::v1::ToolChoice& choice, ObjectWriter* body,
                             std::string* out) {
  const google::protobuf::Struct* extra = nullptr;
  bool disable_parallel = false;
  if (choice.has_auto_()) {
    body->String("tool_choice", "auto");
    extra = &choice.auto_().extra_fields();
    disable_parallel = choice.auto_().disable_parallel_tool_use();
  } else if (choice.has_any()) {
    body->String("tool_choice", "required");
    extra = &choice.any().extra_fields();
    disable_parallel = choice.any().disable_parallel_tool_use();
  } else if (choice.has_none()) {
    body->String("tool_choice", "none");
    extra = &choice.none().extra_fields();
    disable_parallel = choice.none().disable_parallel_tool_use();
  } else if (choice.has_tool()) {
    if (body->Key("tool_choice")) {
      out->append(R"({"type":"function","function":{"name":)");
      AppendJsonString(choice.tool().name(), out);
      out->append("}}");
    }
    extra = &choice.tool().extra_fields();
    disable_parallel = choice.tool().disable_parallel_tool_use();
  } else {
    return Refuse("tool_choice", "a tool_choice of an unknown type");
  }
  if (absl::Status s = CheckNoExtraFields(*extra, "tool_choice"); !s.ok()) return s;
  if (disable_parallel) body->Raw("parallel_tool_calls", "false");
  return absl::OkStatus();
}

// reasoning_effort for a thinking budget when the request names no effort.
const char* EffortForBudget(int64_t budget_tokens) {
  if (budget_tokens < 4096) return "low";
  if (budget_tokens < 16384) return "medium";
  return "high";
}

// What thinking and effort become (--chat_thinking): the model name to send, and a
// reasoning_effort when there is one.
struct ThinkingMembers {
  std::string model;
  std::string reasoning_effort;  // empty: none
};

absl::Status ChooseThinking(const CreateMessageRequest& request, ChatThinking mode,
                            ThinkingMembers* members) {
  std::string* model = &members->model;
  *model = request.model();
  const claude::v1::ThinkingConfig& thinking = request.thinking();
  const bool has_effort = request.output_config().has_effort();
  if (thinking.has_unknown()) return Refuse("thinking", "a thinking config of an unknown type");
  if (thinking.has_disabled()) {
    if (absl::Status s = CheckNoExtraFields(thinking.disabled().extra_fields(), "thinking"); !s.ok()) {
      return s;
    }
  }
  const bool on = thinking.has_enabled() || thinking.has_adaptive();
  if (thinking.has_enabled()) {
    if (thinking.enabled().has_display()) return Refuse("thinking.display", "display");
    if (absl::Status s = CheckNoExtraFields(thinking.enabled().extra_fields(), "thinking"); !s.ok()) {
      return s;
    }
  }
  if (thinking.has_adaptive()) {
    if (thinking.adaptive().has_display()) return Refuse("thinking.display", "display");
    if (absl::Status s = CheckNoExtraFields(thinking.adaptive().extra_fields(), "thinking"); !s.ok()) {
      return s;
    }
  }
  switch (mode) {
    case ChatThinking::kOff:
      if (on) return Refuse("thinking", "thinking (the server runs with --chat_thinking=off)");
      if (has_effort) return Refuse("output_config.effort", "effort (--chat_thinking=off)");
      return absl::OkStatus();
    case ChatThinking::kModelSuffix:
      // The gateway turns thinking on for "<model>-thinking" and chooses the budget itself.
      if (has_effort) {
        return Refuse("output_config.effort", "effort (--chat_thinking=model_suffix)");
      }
      if (on && !absl::EndsWith(*model, "-thinking")) *model += "-thinking";
      return absl::OkStatus();
    case ChatThinking::kReasoningEffort:
      if (has_effort) {
        members->reasoning_effort = request.output_config().effort();
      } else if (thinking.has_enabled()) {
        members->reasoning_effort = EffortForBudget(thinking.enabled().budget_tokens());
      } else if (thinking.has_adaptive()) {
        members->reasoning_effort = "medium";
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status WriteResponseFormat(const claude::v1::OutputConfig& config, ObjectWriter* body,
                                 std::string* out) {
  if (absl::Status s = CheckNoExtraFields(config.extra_fields(), "output_config"); !s.ok()) return s;
  if (!config.has_format()) return absl::OkStatus();
  if (!config.format().has_json_schema()) {
    return Refuse("output_config.format", "an output format other than json_schema");
  }
  const claude::v1::JsonSchemaFormat& format = config.format().json_schema();
  if (absl::Status s = CheckNoExtraFields(format.extra_fields(), "output_config.format"); !s.ok()) {
    return s;
  }
  if (body->Key("response_format")) {
    // OpenAI requires a name for the schema; Claude's format has none.
    out->append(R"({"type":"json_schema","json_schema":{"name":"output","schema":)");
    if (format.has_schema()) {
      MessageToJson(format.schema(), out);
    } else {
      out->append("{}");
    }
    out->append("}}");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RequestBody(const CreateMessageRequest& request, bool stream,
                                        ChatThinking thinking) {
  // Refused outright: what the Chat Completions API has no field for.
  if (request.has_top_k()) return Refuse("top_k", "top_k");
  if (request.has_cache_control()) return Refuse("cache_control", "cache_control");
  if (request.has_service_tier()) return Refuse("service_tier", "service_tier");
  if (request.has_inference_geo()) return Refuse("inference_geo", "inference_geo");
  if (request.container_case() != CreateMessageRequest::CONTAINER_NOT_SET) {
    return Refuse("container", "a code execution container");
  }
  if (request.has_metadata()) {
    if (absl::Status s = CheckNoExtraFields(request.metadata().extra_fields(), "metadata"); !s.ok()) {
      return s;
    }
  }
  for (int i = 0; i < request.system_blocks().blocks_size(); ++i) {
    if (absl::Status s = CheckTextBlock(request.system_blocks().blocks(i),
                                        absl::StrCat("system[", i, "]"));
        !s.ok()) {
      return s;
    }
  }

  std::string out;
  ObjectWriter body(&out);
  ThinkingMembers thinking_members;
  if (absl::Status s = ChooseThinking(request, thinking, &thinking_members); !s.ok()) return s;
  body.String("model", thinking_members.model);
  if (body.Key("messages")) {
    out.push_back('[');
    MessagesWriter messages(&out);
    if (request.system_case() != CreateMessageRequest::SYSTEM_NOT_SET) messages.System(request);
    for (int i = 0; i < request.messages_size(); ++i) {
      if (absl::Status s = messages.Turn(request.messages(i), absl::StrCat("messages[", i, "]"));
          !s.ok()) {
        return s;
      }
    }
    out.push_back(']');
  }
  if (request.has_max_tokens()) body.Raw("max_tokens", absl::StrCat(request.max_tokens()));
  if (request.has_temperature()) body.Raw("temperature", JsonNumber(request.temperature()));
  if (request.has_top_p()) body.Raw("top_p", JsonNumber(request.top_p()));
  if (request.stop_sequences_size() > 0 && body.Key("stop")) {
    out.push_back('[');
    for (int i = 0; i < request.stop_sequences_size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJsonString(request.stop_sequences(i), &out);
    }
    out.push_back(']');
  }
  if (request.metadata().has_user_id()) body.String("user", request.metadata().user_id());
  if (request.tools_size() > 0 && body.Key("tools")) {
    if (absl::Status s = AppendTools(request, &out); !s.ok()) return s;
  }
  if (request.has_tool_choice()) {
    if (absl::Status s = WriteToolChoice(request.tool_choice(), &body, &out); !s.ok()) return s;
  }
  if (request.has_output_config()) {
    if (absl::Status s = WriteResponseFormat(request.output_config(), &body, &out); !s.ok()) {
      return s;
    }
  }
  if (!thinking_members.reasoning_effort.empty()) {
    body.String("reasoning_effort", thinking_members.reasoning_effort);
  }
  if (stream) {
    body.Raw("stream", "true");
    body.Raw("stream_options", R"({"include_usage":true})");
  }
  // Top-level members the proto does not model are sent as given (after the modelled ones,
  // which win).
  for (const auto& [key, value] : request.extra_fields().fields()) {
    if (body.Key(key)) MessageToJson(value, &out);
  }
  body.Close();
  return out;
}

}  // namespace claude::chat_completions

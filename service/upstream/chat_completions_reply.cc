// Whole replies of a chat_completions upstream (chat.completion, the model list) as claude.v1
// messages, and the rules the stream decoder shares (usage, finish reason, tool arguments).
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/codec/json_mapping.h"
#include "service/upstream/chat_completions_internal.h"

namespace claude::chat_completions {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(absl::StrCat("chat_completions reply: ", what));
}

// The integer member `key` of `object` (0 when absent or null). A non-integer: INTERNAL.
absl::Status IntMember(object obj, const char* key, int64_t* out) {
  *out = 0;
  element value;
  if (obj[key].get(value) != simdjson::SUCCESS || value.is_null()) return absl::OkStatus();
  if (value.get_int64().get(*out) == simdjson::SUCCESS) return absl::OkStatus();
  double d = 0;
  if (value.get_double().get(d) == simdjson::SUCCESS && std::isfinite(d) && d == std::trunc(d) &&
      std::fabs(d) < 9e15) {
    *out = static_cast<int64_t>(d);
    return absl::OkStatus();
  }
  return Malformed(absl::StrCat("usage.", key, " is not an integer"));
}

thread_local simdjson::dom::parser reply_parser;

absl::Status ParseObject(absl::string_view body, object* out) {
  element root;
  if (auto error = reply_parser.parse(body.data(), body.size()).get(root); error) {
    return Malformed(absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
  }
  if (root.get_object().get(*out) != simdjson::SUCCESS) return Malformed("not a JSON object");
  return absl::OkStatus();
}

// JSON nesting kept in extra_fields: deeper documents would not parse back from protobuf's
// binary form (each JSON level is two or three message levels; parsers stop at 100).
constexpr int kMaxExtraDepth = 30;

// Any JSON value as a google.protobuf.Value (for members claude.v1 keeps in extra_fields).
absl::Status ToValue(element json, google::protobuf::Value* out, int depth = 0) {
  if (depth > kMaxExtraDepth) return Malformed("a model member nests too deeply");
  switch (json.type()) {
    case simdjson::dom::element_type::OBJECT: {
      auto* fields = out->mutable_struct_value()->mutable_fields();
      for (auto [key, value] : object(json)) {
        if (absl::Status s = ToValue(value, &(*fields)[std::string(key)], depth + 1); !s.ok()) {
          return s;
        }
      }
      break;
    }
    case simdjson::dom::element_type::ARRAY: {
      auto* values = out->mutable_list_value();
      for (element value : array(json)) {
        if (absl::Status s = ToValue(value, values->add_values(), depth + 1); !s.ok()) return s;
      }
      break;
    }
    case simdjson::dom::element_type::STRING:
      out->set_string_value(std::string(std::string_view(json)));
      break;
    case simdjson::dom::element_type::BOOL:
      out->set_bool_value(bool(json));
      break;
    case simdjson::dom::element_type::NULL_VALUE:
      out->set_null_value(google::protobuf::NULL_VALUE);
      break;
    default:
      out->set_number_value(double(json));
      break;
  }
  return absl::OkStatus();
}

// A model object ({"id","object":"model","created","owned_by"}) as ModelInfo; `created` (Unix
// seconds) becomes created_at (RFC 3339), other members go to extra_fields.
absl::Status ReadModel(object json, claude::v1::ModelInfo* model) {
  std::string_view id;
  if (!StringMember(json, "id", &id) || id.empty()) return Malformed("model without an id");
  model->set_id(std::string(id));
  model->set_type("model");
  model->set_display_name(std::string(id));  // OpenAI's list has no display name
  for (auto [key, value] : json) {
    if (key == "id" || key == "object") continue;
    if (key == "created") {
      int64_t seconds = 0;
      if (value.get_int64().get(seconds) != simdjson::SUCCESS) {
        return Malformed("model.created is not an integer");
      }
      model->set_created_at(
          absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(seconds), absl::UTCTimeZone()));
      continue;
    }
    if (absl::Status s =
            ToValue(value, &(*model->mutable_extra_fields()->mutable_fields())[std::string(key)]);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool StringMember(object obj, const char* key, std::string_view* out) {
  *out = {};
  element value;
  if (obj[key].get(value) != simdjson::SUCCESS || value.is_null()) return true;
  return value.get_string().get(*out) == simdjson::SUCCESS;
}

absl::Status ReadUsage(object usage, claude::v1::Usage* out) {
  int64_t prompt = 0, completion = 0, cached = 0, created_5m = 0, created_1h = 0;
  if (absl::Status s = IntMember(usage, "prompt_tokens", &prompt); !s.ok()) return s;
  if (absl::Status s = IntMember(usage, "completion_tokens", &completion); !s.ok()) return s;
  object details;
  if (usage["prompt_tokens_details"].get(details) == simdjson::SUCCESS) {
    if (absl::Status s = IntMember(details, "cached_tokens", &cached); !s.ok()) return s;
  }
  if (absl::Status s = IntMember(usage, "claude_cache_creation_5_m_tokens", &created_5m); !s.ok()) {
    return s;
  }
  if (absl::Status s = IntMember(usage, "claude_cache_creation_1_h_tokens", &created_1h); !s.ok()) {
    return s;
  }
  SetUsage(prompt, completion, cached, created_5m, created_1h, out);
  return absl::OkStatus();
}

void SetZeroUsage(claude::v1::Usage* out) { SetUsage(0, 0, 0, 0, 0, out); }

void SetUsage(int64_t prompt, int64_t completion, int64_t cached, int64_t created_5m,
              int64_t created_1h, claude::v1::Usage* out) {
  const int64_t created = created_5m + created_1h;
  out->set_input_tokens(std::max<int64_t>(0, prompt - cached - created));
  out->set_output_tokens(completion);
  out->set_cache_read_input_tokens(cached);
  out->set_cache_creation_input_tokens(created);
  out->mutable_cache_creation()->set_ephemeral_5m_input_tokens(created_5m);
  out->mutable_cache_creation()->set_ephemeral_1h_input_tokens(created_1h);
}

void SetStopReason(std::string_view finish_reason, claude::v1::StopReason* reason,
                   std::string* raw) {
  raw->clear();
  if (finish_reason == "stop") {
    *reason = claude::v1::STOP_REASON_END_TURN;
  } else if (finish_reason == "length") {
    *reason = claude::v1::STOP_REASON_MAX_TOKENS;
  } else if (finish_reason == "tool_calls") {
    *reason = claude::v1::STOP_REASON_TOOL_USE;
  } else if (finish_reason == "content_filter") {
    *reason = claude::v1::STOP_REASON_REFUSAL;
  } else {
    *reason = claude::v1::STOP_REASON_UNSPECIFIED;
    raw->assign(finish_reason.data(), finish_reason.size());
  }
}

absl::Status ParseToolArguments(std::string_view arguments, std::string_view call,
                                google::protobuf::Struct* input) {
  if (arguments.empty()) {
    input->Clear();
    return absl::OkStatus();
  }
  if (absl::Status s = JsonToMessage(absl::string_view(arguments.data(), arguments.size()), input);
      !s.ok()) {
    return absl::InternalError(absl::StrCat("tool call ", absl::string_view(call.data(), call.size()),
                                            ": arguments are not a JSON object: ", s.message()));
  }
  return absl::OkStatus();
}

void ReadErrorObject(object error, std::string* type, std::string* code, std::string* message) {
  std::string_view text;
  if (StringMember(error, "message", &text)) message->assign(text);
  // error.code is a string for gateways and OpenAI, sometimes a number.
  std::string code_text;
  element code_value;
  if (error["code"].get(code_value) == simdjson::SUCCESS) {
    int64_t number = 0;
    if (code_value.get_string().get(text) == simdjson::SUCCESS) {
      code_text.assign(text);
    } else if (code_value.get_int64().get(number) == simdjson::SUCCESS) {
      code_text = absl::StrCat(number);
    }
  }
  if (StringMember(error, "type", &text) && !text.empty()) {
    type->assign(text);
    *code = std::move(code_text);
  } else {
    *type = std::move(code_text);
  }
}

absl::Status DecodeMessage(absl::string_view body, claude::v1::Message* message) {
  message->Clear();
  object reply;
  if (absl::Status s = ParseObject(body, &reply); !s.ok()) return s;
  std::string_view id, model;
  if (!StringMember(reply, "id", &id) || !StringMember(reply, "model", &model)) {
    return Malformed("id and model must be strings");
  }
  message->set_id(std::string(id));
  message->set_type("message");
  message->set_role(claude::v1::ROLE_ASSISTANT);
  message->set_model(std::string(model));

  array choices;
  object choice, reply_message;
  if (reply["choices"].get(choices) != simdjson::SUCCESS || choices.size() == 0 ||
      choices.at(0).get(choice) != simdjson::SUCCESS ||
      choice["message"].get(reply_message) != simdjson::SUCCESS) {
    return Malformed("no choices[0].message");
  }
  // The order a Messages upstream uses: thinking, text, tool calls.
  std::string_view reasoning, content;
  if (!StringMember(reply_message, "reasoning_content", &reasoning)) {
    return Malformed("choices[0].message.reasoning_content is not a string");
  }
  if (!StringMember(reply_message, "content", &content)) {
    return Malformed("choices[0].message.content is not a string");
  }
  if (!reasoning.empty()) {
    claude::v1::ThinkingBlock* thinking = message->add_content()->mutable_thinking();
    thinking->set_thinking(std::string(reasoning));
    thinking->set_signature("");  // the API returns none
  }
  if (!content.empty()) message->add_content()->mutable_text()->set_text(std::string(content));
  array calls;
  if (reply_message["tool_calls"].get(calls) == simdjson::SUCCESS) {
    size_t i = 0;
    for (element call_json : calls) {
      object call, function;
      std::string_view call_id, name, arguments;
      if (call_json.get(call) != simdjson::SUCCESS ||
          call["function"].get(function) != simdjson::SUCCESS ||
          !StringMember(call, "id", &call_id) || !StringMember(function, "name", &name) ||
          !StringMember(function, "arguments", &arguments)) {
        return Malformed(absl::StrCat("choices[0].message.tool_calls[", i, "] is malformed"));
      }
      claude::v1::ToolUseBlock* use = message->add_content()->mutable_tool_use();
      use->set_id(std::string(call_id));
      use->set_name(std::string(name));
      if (absl::Status s = ParseToolArguments(arguments, call_id, use->mutable_input()); !s.ok()) {
        return s;
      }
      ++i;
    }
  }
  std::string_view finish_reason;
  if (!StringMember(choice, "finish_reason", &finish_reason)) {
    return Malformed("choices[0].finish_reason is not a string");
  }
  if (!finish_reason.empty()) {
    claude::v1::StopReason reason;
    SetStopReason(finish_reason, &reason, message->mutable_stop_reason_raw());
    message->set_stop_reason(reason);
  }
  object usage;
  if (reply["usage"].get(usage) == simdjson::SUCCESS) {
    return ReadUsage(usage, message->mutable_usage());
  }
  SetZeroUsage(message->mutable_usage());
  return absl::OkStatus();
}

absl::Status DecodeModelList(absl::string_view body, claude::v1::ListModelsResponse* list) {
  list->Clear();
  object reply;
  if (absl::Status s = ParseObject(body, &reply); !s.ok()) return s;
  array data;
  if (reply["data"].get(data) != simdjson::SUCCESS) return Malformed("model list without data");
  for (element entry : data) {
    object model;
    if (entry.get(model) != simdjson::SUCCESS) return Malformed("a model that is not an object");
    if (absl::Status s = ReadModel(model, list->add_data()); !s.ok()) return s;
  }
  // OpenAI's list is whole: one page.
  list->set_has_more(false);
  if (list->data_size() > 0) {
    list->set_first_id(list->data(0).id());
    list->set_last_id(list->data(list->data_size() - 1).id());
  }
  return absl::OkStatus();
}

absl::Status DecodeModel(absl::string_view body, claude::v1::ModelInfo* model) {
  model->Clear();
  object reply;
  if (absl::Status s = ParseObject(body, &reply); !s.ok()) return s;
  return ReadModel(reply, model);
}

}  // namespace claude::chat_completions

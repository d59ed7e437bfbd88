// Builders and matchers shared by the request validator's tests: valid requests to start from,
// blocks and tools to add to them, and a matcher for an error at an exact field path.
#ifndef TESTS_SERVICE_VALIDATION_REQUEST_VALIDATOR_TESTING_H_
#define TESTS_SERVICE_VALIDATION_REQUEST_VALIDATOR_TESTING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "claude/v1/content.pb.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/tools.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/struct.pb.h"

namespace claude {

// INVALID_ARGUMENT whose message starts with exactly `path` and ": ", so that "messages[1]"
// does not match an error about "messages[10]".
MATCHER_P(IsInvalidAt, path, absl::StrCat("is INVALID_ARGUMENT at ", path)) {
  return arg.code() == absl::StatusCode::kInvalidArgument &&
         absl::StartsWith(arg.message(), absl::StrCat(path, ": "));
}

MATCHER(IsOk, "is OK") { return arg.ok(); }

// ---------------------------------------------------------------------------------------------
// Builders.

inline v1::CreateMessageRequest ValidRequest() {
  v1::CreateMessageRequest request;
  request.set_model("claude-sonnet-4-5");
  request.set_max_tokens(4096);
  v1::MessageParam* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text("Hello, Claude");
  return request;
}

inline v1::CountTokensRequest ValidCountTokensRequest() {
  v1::CountTokensRequest request;
  request.set_model("claude-sonnet-4-5");
  v1::MessageParam* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text("Hello, Claude");
  return request;
}

// Appends a message of `role` whose content is blocks, and returns it.
inline v1::MessageParam* AddBlockMessage(v1::CreateMessageRequest* request, v1::Role role) {
  v1::MessageParam* message = request->add_messages();
  message->set_role(role);
  message->mutable_content_blocks();
  return message;
}

inline v1::ContentBlock* AddBlock(v1::MessageParam* message) {
  return message->mutable_content_blocks()->add_blocks();
}

// A request whose only message (messages[0]) is a message of `role` with one block, returned
// through `block` for the test to fill in: the block's path is "messages[0].content[0]".
inline v1::CreateMessageRequest RequestWithOneBlock(v1::ContentBlock** block,
                                                    v1::Role role = v1::ROLE_USER) {
  v1::CreateMessageRequest request = ValidRequest();
  request.clear_messages();
  *block = AddBlock(AddBlockMessage(&request, role));
  return request;
}

inline void SetText(v1::ContentBlock* block, const std::string& text) {
  block->mutable_text()->set_text(text);
}

inline void SetBase64Image(v1::ImageBlock* image) {
  v1::Base64ImageSource* base64 = image->mutable_source()->mutable_base64();
  base64->set_media_type("image/png");
  base64->set_data(std::string("\x89PNG\r\n\x1a\n", 8));
}

inline void SetBase64Pdf(v1::DocumentBlock* document) {
  v1::Base64PdfSource* base64 = document->mutable_source()->mutable_base64();
  base64->set_media_type("application/pdf");
  base64->set_data("%PDF-1.7");
}

inline void SetToolInput(google::protobuf::Struct* input) {
  (*input->mutable_fields())["location"].set_string_value("Paris");
}

inline v1::CustomTool* AddCustomTool(google::protobuf::RepeatedPtrField<v1::Tool>* tools,
                                     const std::string& name) {
  v1::CustomTool* tool = tools->Add()->mutable_custom();
  tool->set_name(name);
  google::protobuf::Struct* schema = tool->mutable_input_schema();
  (*schema->mutable_fields())["type"].set_string_value("object");
  return tool;
}

// Sets the type and name every versioned tool (bash, computer, web_search...) has; returns
// `tool` for the members of its own.
template <typename VersionedTool>
VersionedTool* SetTypeAndName(VersionedTool* tool, const std::string& type,
                              const std::string& name) {
  tool->set_type(type);
  tool->set_name(name);
  return tool;
}

}  // namespace claude

#endif  // TESTS_SERVICE_VALIDATION_REQUEST_VALIDATOR_TESTING_H_

// The request validator on content blocks (every kind, nested ones included) and on tools and
// tool choices.
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "claude/v1/content.pb.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/tools.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/validation/request_validator.h"
#include "tests/service/validation/request_validator_testing.h"

namespace claude {
namespace {

// ---------------------------------------------------------------------------------------------
// Content blocks.

TEST(RequestValidatorTest, ContentBlockTypeIsRequired) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  const absl::Status status = ValidateCreateMessageRequest(request);
  EXPECT_THAT(status, IsInvalidAt("messages[0].content[0]"));
  EXPECT_EQ(status.message(), "messages[0].content[0]: content block type required");
  SetText(block, "now a text block");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

// An image and a document need a source, and a present source needs its type.
// `set_valid_source` gives `block` a valid one.
template <typename Block>
void ExpectSourceRequired(const v1::CreateMessageRequest& request, Block* block,
                          void (*set_valid_source)(Block*), const char* block_kind) {
  SCOPED_TRACE(block_kind);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].source"));
  block->mutable_source();  // Present, with no type.
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].source"));
  set_valid_source(block);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ImageAndDocumentSourcesAreRequired) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  ExpectSourceRequired(request, block->mutable_image(), &SetBase64Image, "image");
  v1::DocumentBlock* document = block->mutable_document();
  document->set_title("No source");
  ExpectSourceRequired(request, document, &SetBase64Pdf, "document");
}

TEST(RequestValidatorTest, Base64ImageMediaTypeIsOneOfFour) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  SetBase64Image(block->mutable_image());
  v1::Base64ImageSource* base64 = block->mutable_image()->mutable_source()->mutable_base64();
  for (const char* bad : {"", "image/bmp", "IMAGE/PNG", "image/png ", "application/pdf"}) {
    base64->set_media_type(bad);
    EXPECT_THAT(ValidateCreateMessageRequest(request),
                IsInvalidAt("messages[0].content[0].source.media_type"))
        << bad;
  }
  for (const char* good : {"image/jpeg", "image/png", "image/gif", "image/webp"}) {
    base64->set_media_type(good);
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk()) << good;
  }
}

TEST(RequestValidatorTest, Base64ImageDataIsRequired) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  SetBase64Image(block->mutable_image());
  v1::Base64ImageSource* base64 = block->mutable_image()->mutable_source()->mutable_base64();
  base64->clear_data();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.data"));
  base64->set_data(std::string(1, '\0'));  // Any non-empty bytes.
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, Base64DocumentIsAPdfWithData) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  SetBase64Pdf(block->mutable_document());
  v1::Base64PdfSource* base64 = block->mutable_document()->mutable_source()->mutable_base64();
  for (const char* bad : {"", "image/png", "application/PDF", "text/plain"}) {
    base64->set_media_type(bad);
    EXPECT_THAT(ValidateCreateMessageRequest(request),
                IsInvalidAt("messages[0].content[0].source.media_type"))
        << bad;
  }
  base64->set_media_type("application/pdf");
  base64->clear_data();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.data"));
  base64->set_data("%PDF");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, TextDocumentIsTextPlain) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::PlainTextSource* text = block->mutable_document()->mutable_source()->mutable_text();
  text->set_data("Hello");
  text->set_media_type("text/markdown");
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.media_type"));
  text->set_media_type("text/plain");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

// Images and documents take the same url and file sources: each needs its one member.
template <typename Source>
void ExpectUrlAndFileIdRequired(const v1::CreateMessageRequest& request, Source* source,
                                const char* block_kind) {
  SCOPED_TRACE(block_kind);
  source->mutable_url();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.url"));
  source->mutable_url()->set_url("https://example.com/a");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  source->mutable_file();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.file_id"));
  source->mutable_file()->set_file_id("file_01");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, UrlAndFileSourcesNeedTheUrlAndTheFileId) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  ExpectUrlAndFileIdRequired(request, block->mutable_image()->mutable_source(), "image");
  ExpectUrlAndFileIdRequired(request, block->mutable_document()->mutable_source(), "document");
}

TEST(RequestValidatorTest, DocumentContentSourceNeedsContentAndChecksItsBlocks) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::ContentSource* content = block->mutable_document()->mutable_source()->mutable_content();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.content"));
  content->set_content_text("As a string");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());

  v1::ContentBlockList* blocks = content->mutable_content_blocks();
  SetText(blocks->add_blocks(), "As blocks");
  v1::ImageBlock* image = blocks->add_blocks()->mutable_image();
  SetBase64Image(image);
  image->mutable_source()->mutable_base64()->set_media_type("image/tiff");
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.content[1].source.media_type"));
  image->mutable_source()->mutable_base64()->set_media_type("image/webp");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

// tool_use, server_tool_use and mcp_tool_use are one rule: a call names itself and its tool.
// `call` is the only block of `request`'s only message, an assistant's; `call` has neither id
// nor name yet.
template <typename ToolCall>
void ExpectIdAndNameRequired(const v1::CreateMessageRequest& request, ToolCall* call,
                             const std::string& id, const std::string& name) {
  SCOPED_TRACE(id);
  call->set_name(name);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].id"));
  call->set_id(id);
  call->clear_name();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].name"));
  call->set_name(name);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ToolCallsNeedIdAndName) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block, v1::ROLE_ASSISTANT);
  ExpectIdAndNameRequired(request, block->mutable_tool_use(), "toolu_01", "get_weather");
  ExpectIdAndNameRequired(request, block->mutable_server_tool_use(), "srvtoolu_01", "web_search");
  v1::McpToolUseBlock* mcp_tool_use = block->mutable_mcp_tool_use();
  mcp_tool_use->set_server_name("wiki");
  ExpectIdAndNameRequired(request, mcp_tool_use, "mcptoolu_01", "lookup");
}

TEST(RequestValidatorTest, ToolResultNeedsToolUseId) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::ToolResultBlock* result = block->mutable_tool_result();
  result->set_content_text("18 degrees");
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].tool_use_id"));
  result->set_tool_use_id("toolu_01");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ToolResultBlocksAreCheckedRecursively) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::ToolResultBlock* result = block->mutable_tool_result();
  result->set_tool_use_id("toolu_01");
  v1::ContentBlockList* blocks = result->mutable_content_blocks();
  SetText(blocks->add_blocks(), "Chart:");
  v1::ImageBlock* image = blocks->add_blocks()->mutable_image();
  SetBase64Image(image);
  image->mutable_source()->mutable_base64()->clear_data();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].content[1].source.data"));
  SetBase64Image(image);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());

  v1::DocumentBlock* document = blocks->add_blocks()->mutable_document();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].content[2].source"));
  SetBase64Pdf(document);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());

  blocks->add_blocks();  // No type.
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].content[3]"));
}

TEST(RequestValidatorTest, McpToolResultBlocksAreChecked) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::McpToolResultBlock* result = block->mutable_mcp_tool_result();
  result->set_tool_use_id("mcptoolu_01");
  v1::ContentBlockList* blocks = result->mutable_content_blocks();
  blocks->add_blocks();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].content[0]"));
  SetText(blocks->mutable_blocks(0), "ok");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, WebFetchResultDocumentIsChecked) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block, v1::ROLE_ASSISTANT);
  v1::WebFetchToolResultBlock* fetch = block->mutable_web_fetch_tool_result();
  fetch->set_tool_use_id("srvtoolu_01");
  v1::Base64PdfSource* pdf = fetch->mutable_content()
                                 ->mutable_web_fetch_result()
                                 ->mutable_content()
                                 ->mutable_source()
                                 ->mutable_base64();
  pdf->set_media_type("application/octet-stream");
  pdf->set_data("%PDF");
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].content.content.source.media_type"));
  pdf->set_media_type("application/pdf");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  fetch->mutable_content()->mutable_web_fetch_tool_result_error()->set_error_code(
      "url_not_allowed");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ContainerUploadNeedsFileId) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::ContainerUploadBlock* upload = block->mutable_container_upload();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].file_id"));
  upload->set_file_id("file_01");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, BlocksWithNothingTheApiAlwaysRejectsPass) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::MessageParam* message = request.mutable_messages(0);
  // Empty values the API may reject for other reasons are the API's business.
  SetText(block, "");
  AddBlock(message)->mutable_search_result();
  AddBlock(message)->mutable_thinking();
  AddBlock(message)->mutable_redacted_thinking();
  AddBlock(message)->mutable_web_search_tool_result();
  AddBlock(message)->mutable_code_execution_tool_result();
  AddBlock(message)->mutable_bash_code_execution_tool_result();
  AddBlock(message)->mutable_text_editor_code_execution_tool_result();
  AddBlock(message)->mutable_tool_search_tool_result();
  AddBlock(message)->mutable_web_fetch_tool_result();
  AddBlock(message)->mutable_mcp_tool_result()->set_content_text("");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

// ---------------------------------------------------------------------------------------------
// Tools.

TEST(RequestValidatorTest, CustomToolNameMatchesThePattern) {
  v1::CreateMessageRequest request = ValidRequest();
  v1::CustomTool* tool = AddCustomTool(request.mutable_tools(), "x");
  const std::vector<std::string> bad = {
      "",           "has space",           "dot.name",
      "slash/name", "colon:name",          "na\xc3\xafve",
      "tab\tname",  std::string(129, 'a'), std::string("nul\0", 4)};
  for (const std::string& name : bad) {
    tool->set_name(name);
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tools[0].name")) << name;
  }
  const std::vector<std::string> good = {"a", "get_weather", "Get-Weather_2",      "_",
                                         "-", "0123456789",  std::string(128, 'z')};
  for (const std::string& name : good) {
    tool->set_name(name);
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk()) << name;
  }
}

TEST(RequestValidatorTest, CustomToolNeedsInputSchema) {
  v1::CreateMessageRequest request = ValidRequest();
  AddCustomTool(request.mutable_tools(), "first");
  v1::CustomTool* tool = AddCustomTool(request.mutable_tools(), "second");
  tool->clear_input_schema();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tools[1].input_schema"));
  tool->mutable_input_schema();  // An empty object is the API's to judge.
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ToolTypeIsRequired) {
  v1::CreateMessageRequest request = ValidRequest();
  request.add_tools();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tools[0]"));
  v1::CustomTool* custom = request.mutable_tools(0)->mutable_custom();  // No "type": custom.
  custom->set_name("t");
  custom->mutable_input_schema();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

// Sets `type` and `name` of whichever versioned tool `tool` holds.
struct VersionedToolCase {
  const char* label;
  std::function<void(v1::Tool*, const std::string& type, const std::string& name)> set;
};

// The case of a versioned tool that needs nothing but its type and name; `make` is the
// v1::Tool member that makes it (mutable_bash...).
template <typename VersionedTool>
VersionedToolCase TypeAndNameCase(const char* label, VersionedTool* (v1::Tool::*make)()) {
  return {label, [make](v1::Tool* t, const std::string& type, const std::string& name) {
            SetTypeAndName((t->*make)(), type, name);
          }};
}

std::vector<VersionedToolCase> VersionedToolCases() {
  return {
      TypeAndNameCase("bash", &v1::Tool::mutable_bash),
      TypeAndNameCase("text_editor", &v1::Tool::mutable_text_editor),
      {"computer",
       [](v1::Tool* t, const std::string& type, const std::string& name) {
         v1::ComputerTool* computer = SetTypeAndName(t->mutable_computer(), type, name);
         computer->set_display_width_px(1280);
         computer->set_display_height_px(800);
       }},
      TypeAndNameCase("memory", &v1::Tool::mutable_memory),
      TypeAndNameCase("code_execution", &v1::Tool::mutable_code_execution),
      TypeAndNameCase("web_search", &v1::Tool::mutable_web_search),
      TypeAndNameCase("web_fetch", &v1::Tool::mutable_web_fetch),
  };
}

TEST(RequestValidatorTest, VersionedToolsNeedTypeAndName) {
  for (const VersionedToolCase& tool_case : VersionedToolCases()) {
    SCOPED_TRACE(tool_case.label);
    v1::CreateMessageRequest request = ValidRequest();
    AddCustomTool(request.mutable_tools(), "custom");
    v1::Tool* tool = request.add_tools();
    tool_case.set(tool, "", "some_name");
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tools[1].type"));
    tool_case.set(tool, "some_tool_20250101", "");
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tools[1].name"));
    tool_case.set(tool, "some_tool_20250101", "some_name");
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  }
}

TEST(RequestValidatorTest, ComputerDisplayIsAtLeastOnePixel) {
  v1::CreateMessageRequest request = ValidRequest();
  v1::ComputerTool* computer = request.add_tools()->mutable_computer();
  computer->set_type("computer_20250124");
  computer->set_name("computer");
  computer->set_display_height_px(768);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tools[0].display_width_px"));
  computer->set_display_width_px(-1);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tools[0].display_width_px"));
  computer->set_display_width_px(1);
  computer->set_display_height_px(0);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tools[0].display_height_px"));
  computer->set_display_height_px(1);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ToolChoiceToolNeedsName) {
  v1::CreateMessageRequest request = ValidRequest();
  AddCustomTool(request.mutable_tools(), "get_weather");
  v1::ToolChoiceTool* choice = request.mutable_tool_choice()->mutable_tool();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tool_choice.name"));
  choice->set_name("get_weather");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, OtherToolChoicesPassAndOneIsRequiredWhenPresent) {
  v1::CreateMessageRequest request = ValidRequest();
  request.mutable_tool_choice();  // Present, with no type.
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tool_choice"));
  request.mutable_tool_choice()->mutable_auto_();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  request.mutable_tool_choice()->mutable_any()->set_disable_parallel_tool_use(true);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  request.mutable_tool_choice()->mutable_none();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

}  // namespace
}  // namespace claude

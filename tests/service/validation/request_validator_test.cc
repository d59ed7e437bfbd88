#include "service/validation/request_validator.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "claude/v1/content.pb.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/tools.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"

namespace claude {
namespace {

// INVALID_ARGUMENT whose message starts with exactly `path` and ": ", so that "messages[1]"
// does not match an error about "messages[10]".
MATCHER_P(IsInvalidAt, path, absl::StrCat("is INVALID_ARGUMENT at ", path)) {
  return arg.code() == absl::StatusCode::kInvalidArgument &&
         absl::StartsWith(arg.message(), absl::StrCat(path, ": "));
}

MATCHER(IsOk, "is OK") { return arg.ok(); }

// ---------------------------------------------------------------------------------------------
// Builders.

v1::CreateMessageRequest ValidRequest() {
  v1::CreateMessageRequest request;
  request.set_model("claude-sonnet-4-5");
  request.set_max_tokens(4096);
  v1::MessageParam* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text("Hello, Claude");
  return request;
}

v1::CountTokensRequest ValidCountTokensRequest() {
  v1::CountTokensRequest request;
  request.set_model("claude-sonnet-4-5");
  v1::MessageParam* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text("Hello, Claude");
  return request;
}

// Appends a message of `role` whose content is blocks, and returns it.
v1::MessageParam* AddBlockMessage(v1::CreateMessageRequest* request, v1::Role role) {
  v1::MessageParam* message = request->add_messages();
  message->set_role(role);
  message->mutable_content_blocks();
  return message;
}

v1::ContentBlock* AddBlock(v1::MessageParam* message) {
  return message->mutable_content_blocks()->add_blocks();
}

// A request whose only message (messages[0]) is a user message with one block, returned
// through `block` for the test to fill in: the block's path is "messages[0].content[0]".
v1::CreateMessageRequest RequestWithOneBlock(v1::ContentBlock** block) {
  v1::CreateMessageRequest request = ValidRequest();
  request.clear_messages();
  *block = AddBlock(AddBlockMessage(&request, v1::ROLE_USER));
  return request;
}

void SetText(v1::ContentBlock* block, const std::string& text) {
  block->mutable_text()->set_text(text);
}

void SetBase64Image(v1::ImageBlock* image) {
  v1::Base64ImageSource* base64 = image->mutable_source()->mutable_base64();
  base64->set_media_type("image/png");
  base64->set_data(std::string("\x89PNG\r\n\x1a\n", 8));
}

void SetBase64Pdf(v1::DocumentBlock* document) {
  v1::Base64PdfSource* base64 = document->mutable_source()->mutable_base64();
  base64->set_media_type("application/pdf");
  base64->set_data("%PDF-1.7");
}

void SetToolInput(google::protobuf::Struct* input) {
  (*input->mutable_fields())["location"].set_string_value("Paris");
}

v1::CustomTool* AddCustomTool(google::protobuf::RepeatedPtrField<v1::Tool>* tools,
                              const std::string& name) {
  v1::CustomTool* tool = tools->Add()->mutable_custom();
  tool->set_name(name);
  google::protobuf::Struct* schema = tool->mutable_input_schema();
  (*schema->mutable_fields())["type"].set_string_value("object");
  return tool;
}

// ---------------------------------------------------------------------------------------------
// Whole requests.

TEST(RequestValidatorTest, MinimalRequestPasses) {
  EXPECT_THAT(ValidateCreateMessageRequest(ValidRequest()), IsOk());
}

// A conversation that uses every block kind, every tool kind and every optional member the
// validator looks at, each in a valid form.
v1::CreateMessageRequest FullRequest() {
  v1::CreateMessageRequest request = ValidRequest();
  request.clear_messages();
  request.mutable_system_blocks()->add_blocks()->set_text("You are terse.");
  request.mutable_system_blocks()->add_blocks()->set_text("");  // The type allows anything.
  request.mutable_metadata()->set_user_id("user-1234");
  request.add_stop_sequences("\n\nHuman:");
  request.set_temperature(0.7);
  request.set_top_p(0.9);
  request.set_top_k(40);
  request.set_container_id("container_01");

  // messages[0]: user, every block the caller writes.
  v1::MessageParam* user = AddBlockMessage(&request, v1::ROLE_USER);
  v1::TextBlock* text = AddBlock(user)->mutable_text();
  text->set_text("Look at these.");
  text->mutable_cache_control()->set_type("ephemeral");
  SetBase64Image(AddBlock(user)->mutable_image());
  AddBlock(user)->mutable_image()->mutable_source()->mutable_url()->set_url(
      "https://example.com/cat.jpg");
  AddBlock(user)->mutable_image()->mutable_source()->mutable_file()->set_file_id("file_01");
  v1::DocumentBlock* pdf = AddBlock(user)->mutable_document();
  SetBase64Pdf(pdf);
  pdf->set_title("Report");
  pdf->mutable_citations()->set_enabled(true);
  v1::PlainTextSource* plain = AddBlock(user)->mutable_document()->mutable_source()->mutable_text();
  plain->set_media_type("text/plain");
  plain->set_data("Plain text.");
  AddBlock(user)->mutable_document()->mutable_source()->mutable_content()->set_content_text(
      "Custom content as a string.");
  v1::ContentBlockList* custom_blocks = AddBlock(user)
                                            ->mutable_document()
                                            ->mutable_source()
                                            ->mutable_content()
                                            ->mutable_content_blocks();
  SetText(custom_blocks->add_blocks(), "First chunk.");
  SetBase64Image(custom_blocks->add_blocks()->mutable_image());
  AddBlock(user)->mutable_document()->mutable_source()->mutable_url()->set_url(
      "https://example.com/paper.pdf");
  AddBlock(user)->mutable_document()->mutable_source()->mutable_file()->set_file_id("file_02");
  v1::SearchResultBlock* search_result = AddBlock(user)->mutable_search_result();
  search_result->set_source("https://example.com/result");
  search_result->set_title("A result");
  search_result->add_content()->set_text("Result text.");
  AddBlock(user)->mutable_container_upload()->set_file_id("file_03");
  AddBlock(user)->mutable_unknown();  // A block type from the future.

  // messages[1]: assistant, the blocks Claude produced, sent back.
  v1::MessageParam* assistant = AddBlockMessage(&request, v1::ROLE_ASSISTANT);
  v1::ThinkingBlock* thinking = AddBlock(assistant)->mutable_thinking();
  thinking->set_thinking("Let me look.");
  thinking->set_signature("sig");
  AddBlock(assistant)->mutable_redacted_thinking()->set_data("opaque");
  v1::TextBlock* cited = AddBlock(assistant)->mutable_text();
  cited->set_text("The report says so.");
  v1::CharLocation* location = cited->add_citations()->mutable_char_location();
  location->set_cited_text("so");
  location->set_end_char_index(2);
  cited->add_citations()->mutable_unknown();
  v1::ToolUseBlock* tool_use = AddBlock(assistant)->mutable_tool_use();
  tool_use->set_id("toolu_01");
  tool_use->set_name("get_weather");
  SetToolInput(tool_use->mutable_input());
  v1::ServerToolUseBlock* server_tool_use = AddBlock(assistant)->mutable_server_tool_use();
  server_tool_use->set_id("srvtoolu_01");
  server_tool_use->set_name("web_search");
  v1::WebSearchToolResultBlock* search = AddBlock(assistant)->mutable_web_search_tool_result();
  search->set_tool_use_id("srvtoolu_01");
  v1::WebSearchResult* hit = search->mutable_results()->add_results();
  hit->set_type("web_search_result");
  hit->set_url("https://example.com");
  v1::WebFetchToolResultBlock* fetch = AddBlock(assistant)->mutable_web_fetch_tool_result();
  fetch->set_tool_use_id("srvtoolu_02");
  v1::WebFetchResult* fetched = fetch->mutable_content()->mutable_web_fetch_result();
  fetched->set_url("https://example.com");
  v1::PlainTextSource* page = fetched->mutable_content()->mutable_source()->mutable_text();
  page->set_media_type("text/plain");
  page->set_data("Page text.");
  v1::CodeExecutionToolResultBlock* code =
      AddBlock(assistant)->mutable_code_execution_tool_result();
  code->set_tool_use_id("srvtoolu_03");
  code->mutable_content()->mutable_code_execution_result()->set_return_code(0);
  v1::BashCodeExecutionToolResultBlock* bash =
      AddBlock(assistant)->mutable_bash_code_execution_tool_result();
  bash->set_tool_use_id("srvtoolu_04");
  bash->mutable_content()->mutable_bash_code_execution_tool_result_error()->set_error_code(
      "unavailable");
  AddBlock(assistant)->mutable_text_editor_code_execution_tool_result()->set_tool_use_id(
      "srvtoolu_05");
  AddBlock(assistant)->mutable_tool_search_tool_result()->set_tool_use_id("srvtoolu_06");
  v1::McpToolUseBlock* mcp_use = AddBlock(assistant)->mutable_mcp_tool_use();
  mcp_use->set_id("mcptoolu_01");
  mcp_use->set_name("lookup");
  mcp_use->set_server_name("wiki");
  v1::McpToolResultBlock* mcp_result = AddBlock(assistant)->mutable_mcp_tool_result();
  mcp_result->set_tool_use_id("mcptoolu_01");
  SetText(mcp_result->mutable_content_blocks()->add_blocks(), "Found it.");

  // messages[2]: user, tool results as a string and as blocks.
  v1::MessageParam* results = AddBlockMessage(&request, v1::ROLE_USER);
  v1::ToolResultBlock* as_text = AddBlock(results)->mutable_tool_result();
  as_text->set_tool_use_id("toolu_01");
  as_text->set_content_text("18 degrees");
  v1::ToolResultBlock* as_blocks = AddBlock(results)->mutable_tool_result();
  as_blocks->set_tool_use_id("toolu_02");
  as_blocks->set_is_error(false);
  SetText(as_blocks->mutable_content_blocks()->add_blocks(), "Chart:");
  SetBase64Image(as_blocks->mutable_content_blocks()->add_blocks()->mutable_image());
  SetBase64Pdf(as_blocks->mutable_content_blocks()->add_blocks()->mutable_document());
  v1::ToolResultBlock* no_content = AddBlock(results)->mutable_tool_result();
  no_content->set_tool_use_id("toolu_03");

  // Every tool kind.
  AddCustomTool(request.mutable_tools(), "get_weather")->set_description("Weather by city.");
  v1::VersionedTool* bash_tool = request.add_tools()->mutable_bash();
  bash_tool->set_type("bash_20250124");
  bash_tool->set_name("bash");
  v1::TextEditorTool* editor = request.add_tools()->mutable_text_editor();
  editor->set_type("text_editor_20250728");
  editor->set_name("str_replace_based_edit_tool");
  v1::ComputerTool* computer = request.add_tools()->mutable_computer();
  computer->set_type("computer_20250124");
  computer->set_name("computer");
  computer->set_display_width_px(1024);
  computer->set_display_height_px(768);
  v1::VersionedTool* memory = request.add_tools()->mutable_memory();
  memory->set_type("memory_20250818");
  memory->set_name("memory");
  v1::VersionedTool* code_execution = request.add_tools()->mutable_code_execution();
  code_execution->set_type("code_execution_20250825");
  code_execution->set_name("code_execution");
  v1::WebSearchTool* web_search = request.add_tools()->mutable_web_search();
  web_search->set_type("web_search_20250305");
  web_search->set_name("web_search");
  web_search->set_max_uses(3);
  v1::WebFetchTool* web_fetch = request.add_tools()->mutable_web_fetch();
  web_fetch->set_type("web_fetch_20250910");
  web_fetch->set_name("web_fetch");
  (*request.add_tools()->mutable_unknown()->mutable_fields())["type"].set_string_value(
      "future_tool_20300101");

  request.mutable_tool_choice()->mutable_tool()->set_name("get_weather");
  request.mutable_thinking()->mutable_enabled()->set_budget_tokens(2048);
  return request;
}

TEST(RequestValidatorTest, FullRequestWithEveryBlockKindPasses) {
  EXPECT_THAT(ValidateCreateMessageRequest(FullRequest()), IsOk());
}

TEST(RequestValidatorTest, FullCountTokensRequestPasses) {
  const v1::CreateMessageRequest full = FullRequest();
  v1::CountTokensRequest request;
  request.set_model(full.model());
  *request.mutable_messages() = full.messages();
  *request.mutable_system_blocks() = full.system_blocks();
  *request.mutable_tools() = full.tools();
  *request.mutable_tool_choice() = full.tool_choice();
  *request.mutable_thinking() = full.thinking();
  EXPECT_THAT(ValidateCountTokensRequest(request), IsOk());
}

TEST(RequestValidatorTest, MessageNamesThePathAndTheProblem) {
  v1::CreateMessageRequest request = ValidRequest();
  v1::MessageParam* second = AddBlockMessage(&request, v1::ROLE_ASSISTANT);
  v1::Base64ImageSource* base64 =
      AddBlock(second)->mutable_image()->mutable_source()->mutable_base64();
  base64->set_media_type("image/bmp");
  base64->set_data("BM");
  const absl::Status status = ValidateCreateMessageRequest(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "messages[1].content[0].source.media_type: must be one of image/jpeg, image/png, "
            "image/gif, image/webp");
}

TEST(RequestValidatorTest, StreamIsChosenByTheRpcNotByExtraFields) {
  v1::CreateMessageRequest request = ValidRequest();
  (*request.mutable_extra_fields()->mutable_fields())["mcp_servers"].mutable_list_value();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  (*request.mutable_extra_fields()->mutable_fields())["stream"].set_bool_value(false);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("stream"));
}

TEST(RequestValidatorTest, ReportsTheFirstProblemInRequestOrder) {
  v1::CreateMessageRequest request = ValidRequest();
  request.clear_max_tokens();
  request.set_temperature(2);
  request.mutable_thinking()->mutable_enabled()->set_budget_tokens(1);
  request.add_tools()->mutable_custom()->set_name("bad name");
  request.add_messages()->set_content_text("no role");  // messages[1]
  request.add_messages()->set_role(v1::ROLE_USER);      // messages[2], no content
  request.set_model("");

  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("model"));
  request.set_model("claude-sonnet-4-5");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[1].role"));
  request.mutable_messages(1)->set_role(v1::ROLE_ASSISTANT);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[2].content"));
  request.mutable_messages(2)->set_content_text("ok");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("max_tokens"));
  request.set_max_tokens(4096);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("temperature"));
  request.set_temperature(1);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("tools[0].name"));
  request.mutable_tools(0)->mutable_custom()->set_name("good_name");
  request.mutable_tools(0)->mutable_custom()->mutable_input_schema();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("thinking.budget_tokens"));
  request.mutable_thinking()->mutable_enabled()->set_budget_tokens(1024);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, FirstBadBlockWinsAndIndicesAboveNineAreWritten) {
  v1::ContentBlock* first = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&first);
  v1::MessageParam* message = request.mutable_messages(0);
  for (int i = 1; i < 12; ++i) SetText(AddBlock(message), "fine");
  AddBlock(message)->mutable_tool_use();  // content[12]: no id
  AddBlock(message)->mutable_image();     // content[13]: no source
  SetText(first, "fine");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[12].id"));
}

// ---------------------------------------------------------------------------------------------
// Top-level members.

TEST(RequestValidatorTest, ModelIsRequired) {
  v1::CreateMessageRequest request = ValidRequest();
  request.clear_model();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("model"));
  request.set_model("x");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, MaxTokensIsRequired) {
  v1::CreateMessageRequest request = ValidRequest();
  request.clear_max_tokens();
  const absl::Status status = ValidateCreateMessageRequest(request);
  EXPECT_THAT(status, IsInvalidAt("max_tokens"));
  EXPECT_EQ(status.message(), "max_tokens: required");
}

TEST(RequestValidatorTest, MaxTokensIsAtLeastOne) {
  v1::CreateMessageRequest request = ValidRequest();
  for (int64_t bad : {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::min()}) {
    request.set_max_tokens(bad);
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("max_tokens")) << bad;
  }
  request.set_max_tokens(1);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, MessagesAreRequired) {
  v1::CreateMessageRequest request = ValidRequest();
  request.clear_messages();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages"));
}

TEST(RequestValidatorTest, RoleMustBeUserOrAssistant) {
  v1::CreateMessageRequest request = ValidRequest();
  v1::MessageParam* second = request.add_messages();
  second->set_content_text("Hi");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[1].role"));
  second->set_role(static_cast<v1::Role>(7));  // A value no version of the proto knows.
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[1].role"));
  second->set_role(v1::ROLE_ASSISTANT);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, MessageContentIsRequired) {
  v1::CreateMessageRequest request = ValidRequest();
  v1::MessageParam* second = request.add_messages();
  second->set_role(v1::ROLE_ASSISTANT);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[1].content"));
  second->set_content_text("As a string");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  SetText(second->mutable_content_blocks()->add_blocks(), "As blocks");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, TemperatureIsFiniteAndWithinZeroAndOne) {
  v1::CreateMessageRequest request = ValidRequest();
  for (double bad : {-0.01, 1.01, std::nan(""), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    request.set_temperature(bad);
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("temperature")) << bad;
  }
  for (double good : {0.0, 0.5, 1.0}) {
    request.set_temperature(good);
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk()) << good;
  }
}

TEST(RequestValidatorTest, TopPIsFiniteAndWithinZeroAndOne) {
  v1::CreateMessageRequest request = ValidRequest();
  for (double bad : {-0.01, 1.01, std::nan(""), std::numeric_limits<double>::infinity()}) {
    request.set_top_p(bad);
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("top_p")) << bad;
  }
  for (double good : {0.0, 0.95, 1.0}) {
    request.set_top_p(good);
    EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk()) << good;
  }
}

TEST(RequestValidatorTest, TopKIsNotNegative) {
  v1::CreateMessageRequest request = ValidRequest();
  request.set_top_k(-1);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("top_k"));
  request.set_top_k(0);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  request.set_top_k(500);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ThinkingBudgetIsAtLeast1024) {
  v1::CreateMessageRequest request = ValidRequest();
  v1::ThinkingEnabled* enabled = request.mutable_thinking()->mutable_enabled();
  enabled->set_budget_tokens(1023);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("thinking.budget_tokens"));
  enabled->set_budget_tokens(0);  // Unset: proto3 reads 0.
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("thinking.budget_tokens"));
  enabled->set_budget_tokens(1024);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ThinkingBudgetIsBelowMaxTokens) {
  v1::CreateMessageRequest request = ValidRequest();
  request.set_max_tokens(4096);
  v1::ThinkingEnabled* enabled = request.mutable_thinking()->mutable_enabled();
  enabled->set_budget_tokens(4096);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("thinking.budget_tokens"));
  enabled->set_budget_tokens(4095);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, InterleavedThinkingLetsTheBudgetExceedMaxTokens) {
  v1::CreateMessageRequest request = ValidRequest();
  request.set_max_tokens(4096);
  request.mutable_thinking()->mutable_enabled()->set_budget_tokens(16000);
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("thinking.budget_tokens"));
  ValidationOptions interleaved;
  interleaved.interleaved_thinking = true;
  EXPECT_THAT(ValidateCreateMessageRequest(request, interleaved), IsOk());
  // The minimum still holds.
  request.mutable_thinking()->mutable_enabled()->set_budget_tokens(1000);
  EXPECT_THAT(ValidateCreateMessageRequest(request, interleaved), IsInvalidAt("thinking.budget_tokens"));
}

TEST(RequestValidatorTest, OtherThinkingConfigsPassAndOneIsRequiredWhenPresent) {
  v1::CreateMessageRequest request = ValidRequest();
  request.mutable_thinking();  // Present, with no type.
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("thinking"));
  request.mutable_thinking()->mutable_disabled();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  request.mutable_thinking()->mutable_adaptive()->set_display("summarized");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

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

TEST(RequestValidatorTest, ImageSourceIsRequired) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  block->mutable_image();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].source"));
  block->mutable_image()->mutable_source();  // Present, with no type.
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].source"));
  SetBase64Image(block->mutable_image());
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
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

TEST(RequestValidatorTest, ImageUrlIsRequired) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::UrlSource* url = block->mutable_image()->mutable_source()->mutable_url();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.url"));
  url->set_url("https://example.com/a.png");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ImageFileIdIsRequired) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::FileSource* file = block->mutable_image()->mutable_source()->mutable_file();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.file_id"));
  file->set_file_id("file_01");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, DocumentSourceIsRequired) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  block->mutable_document()->set_title("No source");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].source"));
  block->mutable_document()->mutable_source();  // Present, with no type.
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].source"));
  SetBase64Pdf(block->mutable_document());
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

TEST(RequestValidatorTest, DocumentUrlAndFileIdAreRequired) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::DocumentSource* source = block->mutable_document()->mutable_source();
  source->mutable_url();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.url"));
  source->mutable_url()->set_url("https://example.com/a.pdf");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
  source->mutable_file();
  EXPECT_THAT(ValidateCreateMessageRequest(request),
              IsInvalidAt("messages[0].content[0].source.file_id"));
  source->mutable_file()->set_file_id("file_01");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
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

TEST(RequestValidatorTest, ToolUseNeedsIdAndName) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  request.mutable_messages(0)->set_role(v1::ROLE_ASSISTANT);
  v1::ToolUseBlock* tool_use = block->mutable_tool_use();
  tool_use->set_name("get_weather");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].id"));
  tool_use->set_id("toolu_01");
  tool_use->clear_name();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].name"));
  tool_use->set_name("get_weather");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, ServerToolUseNeedsIdAndName) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  request.mutable_messages(0)->set_role(v1::ROLE_ASSISTANT);
  v1::ServerToolUseBlock* tool_use = block->mutable_server_tool_use();
  tool_use->set_name("web_search");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].id"));
  tool_use->set_id("srvtoolu_01");
  tool_use->clear_name();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].name"));
  tool_use->set_name("web_search");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
}

TEST(RequestValidatorTest, McpToolUseNeedsIdAndName) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  request.mutable_messages(0)->set_role(v1::ROLE_ASSISTANT);
  v1::McpToolUseBlock* tool_use = block->mutable_mcp_tool_use();
  tool_use->set_name("lookup");
  tool_use->set_server_name("wiki");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].id"));
  tool_use->set_id("mcptoolu_01");
  tool_use->clear_name();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt("messages[0].content[0].name"));
  tool_use->set_name("lookup");
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());
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
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  request.mutable_messages(0)->set_role(v1::ROLE_ASSISTANT);
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

std::vector<VersionedToolCase> VersionedToolCases() {
  return {
      {"bash",
       [](v1::Tool* t, const std::string& type, const std::string& name) {
         t->mutable_bash()->set_type(type);
         t->mutable_bash()->set_name(name);
       }},
      {"text_editor",
       [](v1::Tool* t, const std::string& type, const std::string& name) {
         t->mutable_text_editor()->set_type(type);
         t->mutable_text_editor()->set_name(name);
       }},
      {"computer",
       [](v1::Tool* t, const std::string& type, const std::string& name) {
         t->mutable_computer()->set_type(type);
         t->mutable_computer()->set_name(name);
         t->mutable_computer()->set_display_width_px(1280);
         t->mutable_computer()->set_display_height_px(800);
       }},
      {"memory",
       [](v1::Tool* t, const std::string& type, const std::string& name) {
         t->mutable_memory()->set_type(type);
         t->mutable_memory()->set_name(name);
       }},
      {"code_execution",
       [](v1::Tool* t, const std::string& type, const std::string& name) {
         t->mutable_code_execution()->set_type(type);
         t->mutable_code_execution()->set_name(name);
       }},
      {"web_search",
       [](v1::Tool* t, const std::string& type, const std::string& name) {
         t->mutable_web_search()->set_type(type);
         t->mutable_web_search()->set_name(name);
       }},
      {"web_fetch",
       [](v1::Tool* t, const std::string& type, const std::string& name) {
         t->mutable_web_fetch()->set_type(type);
         t->mutable_web_fetch()->set_name(name);
       }},
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

// ---------------------------------------------------------------------------------------------
// Forward compatibility.

TEST(RequestValidatorTest, UnknownUnionMembersPass) {
  v1::ContentBlock* block = nullptr;
  v1::CreateMessageRequest request = RequestWithOneBlock(&block);
  v1::MessageParam* message = request.mutable_messages(0);
  (*block->mutable_unknown()->mutable_fields())["type"].set_string_value("hologram");
  AddBlock(message)->mutable_unknown();  // Even an empty object: the API judges it.
  AddBlock(message)->mutable_image()->mutable_source()->mutable_unknown();
  AddBlock(message)->mutable_document()->mutable_source()->mutable_unknown();
  AddBlock(message)->mutable_web_fetch_tool_result()->mutable_content()->mutable_unknown();
  request.add_tools()->mutable_unknown();
  request.mutable_tool_choice()->mutable_unknown();
  request.mutable_thinking()->mutable_unknown();
  (*request.mutable_extra_fields()->mutable_fields())["context_management"].mutable_struct_value();
  EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk());

  v1::CountTokensRequest count = ValidCountTokensRequest();
  *count.mutable_messages() = request.messages();
  *count.mutable_tools() = request.tools();
  *count.mutable_tool_choice() = request.tool_choice();
  *count.mutable_thinking() = request.thinking();
  EXPECT_THAT(ValidateCountTokensRequest(count), IsOk());
}

// ---------------------------------------------------------------------------------------------
// CountTokens.

TEST(CountTokensValidatorTest, MinimalRequestPassesWithoutMaxTokens) {
  EXPECT_THAT(ValidateCountTokensRequest(ValidCountTokensRequest()), IsOk());
}

TEST(CountTokensValidatorTest, ModelIsRequired) {
  v1::CountTokensRequest request = ValidCountTokensRequest();
  request.clear_model();
  EXPECT_THAT(ValidateCountTokensRequest(request), IsInvalidAt("model"));
}

TEST(CountTokensValidatorTest, MessagesAreChecked) {
  v1::CountTokensRequest request = ValidCountTokensRequest();
  request.clear_messages();
  EXPECT_THAT(ValidateCountTokensRequest(request), IsInvalidAt("messages"));
  request.add_messages()->set_content_text("no role");
  EXPECT_THAT(ValidateCountTokensRequest(request), IsInvalidAt("messages[0].role"));
  request.mutable_messages(0)->set_role(v1::ROLE_USER);
  v1::ImageBlock* image =
      request.mutable_messages(0)->mutable_content_blocks()->add_blocks()->mutable_image();
  image->mutable_source()->mutable_url();
  EXPECT_THAT(ValidateCountTokensRequest(request),
              IsInvalidAt("messages[0].content[0].source.url"));
  image->mutable_source()->mutable_url()->set_url("https://example.com/a.png");
  EXPECT_THAT(ValidateCountTokensRequest(request), IsOk());
}

TEST(CountTokensValidatorTest, ToolsAndToolChoiceAreChecked) {
  v1::CountTokensRequest request = ValidCountTokensRequest();
  v1::CustomTool* tool = AddCustomTool(request.mutable_tools(), "bad name");
  EXPECT_THAT(ValidateCountTokensRequest(request), IsInvalidAt("tools[0].name"));
  tool->set_name("good_name");
  request.mutable_tool_choice()->mutable_tool();
  EXPECT_THAT(ValidateCountTokensRequest(request), IsInvalidAt("tool_choice.name"));
  request.mutable_tool_choice()->mutable_tool()->set_name("good_name");
  EXPECT_THAT(ValidateCountTokensRequest(request), IsOk());
}

TEST(CountTokensValidatorTest, ThinkingBudgetIsAtLeast1024WithNoUpperBound) {
  v1::CountTokensRequest request = ValidCountTokensRequest();
  v1::ThinkingEnabled* enabled = request.mutable_thinking()->mutable_enabled();
  enabled->set_budget_tokens(1023);
  EXPECT_THAT(ValidateCountTokensRequest(request), IsInvalidAt("thinking.budget_tokens"));
  enabled->set_budget_tokens(1024);
  EXPECT_THAT(ValidateCountTokensRequest(request), IsOk());
  enabled->set_budget_tokens(std::numeric_limits<int64_t>::max());
  EXPECT_THAT(ValidateCountTokensRequest(request), IsOk());
}

}  // namespace
}  // namespace claude

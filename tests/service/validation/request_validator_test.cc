// The request validator on whole requests, top-level members, forward compatibility and
// CountTokens; content blocks and tools are in request_blocks_validator_test.cc.
#include "service/validation/request_validator.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "claude/v1/messages.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/service/validation/request_validator_testing.h"

namespace claude {
namespace {
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
  SetTypeAndName(request.add_tools()->mutable_bash(), "bash_20250124", "bash");
  SetTypeAndName(request.add_tools()->mutable_text_editor(), "text_editor_20250728",
                 "str_replace_based_edit_tool");
  v1::ComputerTool* computer =
      SetTypeAndName(request.add_tools()->mutable_computer(), "computer_20250124", "computer");
  computer->set_display_width_px(1024);
  computer->set_display_height_px(768);
  SetTypeAndName(request.add_tools()->mutable_memory(), "memory_20250818", "memory");
  SetTypeAndName(request.add_tools()->mutable_code_execution(), "code_execution_20250825",
                 "code_execution");
  SetTypeAndName(request.add_tools()->mutable_web_search(), "web_search_20250305", "web_search")
      ->set_max_uses(3);
  SetTypeAndName(request.add_tools()->mutable_web_fetch(), "web_fetch_20250910", "web_fetch");
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

// temperature and top_p: one rule, a finite number from 0 to 1.
TEST(RequestValidatorTest, TemperatureAndTopPAreFiniteAndWithinZeroAndOne) {
  struct UnitIntervalMember {
    const char* path;
    void (v1::CreateMessageRequest::*set)(double);
  };
  for (const UnitIntervalMember& member :
       {UnitIntervalMember{"temperature", &v1::CreateMessageRequest::set_temperature},
        UnitIntervalMember{"top_p", &v1::CreateMessageRequest::set_top_p}}) {
    SCOPED_TRACE(member.path);
    v1::CreateMessageRequest request = ValidRequest();
    for (double bad : {-0.01, 1.01, std::nan(""), std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity()}) {
      (request.*member.set)(bad);
      EXPECT_THAT(ValidateCreateMessageRequest(request), IsInvalidAt(member.path)) << bad;
    }
    for (double good : {0.0, 0.5, 0.95, 1.0}) {
      (request.*member.set)(good);
      EXPECT_THAT(ValidateCreateMessageRequest(request), IsOk()) << good;
    }
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

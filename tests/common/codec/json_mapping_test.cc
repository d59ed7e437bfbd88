// Golden tests of the JSON mapping: every documented shape decodes into its typed field and
// encodes back to an equal document; unknown shapes survive the round trip untouched.
#include "common/codec/json_mapping.h"

#include <string>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::claude::testing::JsonEqual;
using ::claude::testing::UnmodelledPaths;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Decodes `json` as T, requires everything to land in modelled fields (unless the case is
// about the unmodelled), and requires the round trip to give back an equal document.
template <typename T>
T RoundTrip(const std::string& json, bool expect_modelled = true) {
  T message;
  absl::Status status = JsonToMessage(json, &message);
  EXPECT_TRUE(status.ok()) << status << " for " << json;
  if (expect_modelled) {
    EXPECT_THAT(UnmodelledPaths(message), IsEmpty()) << json;
  }
  EXPECT_TRUE(JsonEqual(json, MessageToJsonString(message)));
  return message;
}

using v1::ContentBlock;

struct BlockCase {
  const char* json;
  ContentBlock::BlockCase expected;
};

class ContentBlockTest : public ::testing::TestWithParam<BlockCase> {};

TEST_P(ContentBlockTest, DecodesToTypedBlockAndRoundTrips) {
  ContentBlock block = RoundTrip<ContentBlock>(GetParam().json);
  EXPECT_EQ(block.block_case(), GetParam().expected) << GetParam().json;
}

INSTANTIATE_TEST_SUITE_P(
    EveryBlockType, ContentBlockTest,
    ::testing::Values(
        BlockCase{R"({"type":"text","text":"Hi","cache_control":{"type":"ephemeral","ttl":"1h"}})",
                  ContentBlock::kText},
        BlockCase{R"({"type":"text","text":"cited","citations":[
            {"type":"char_location","cited_text":"a","document_index":0,"document_title":"T","start_char_index":0,"end_char_index":1,"file_id":"file_1"},
            {"type":"page_location","cited_text":"b","document_index":1,"document_title":"P","start_page_number":1,"end_page_number":2},
            {"type":"content_block_location","cited_text":"c","document_index":2,"start_block_index":0,"end_block_index":1},
            {"type":"web_search_result_location","cited_text":"d","encrypted_index":"Eo8B","title":"W","url":"https://example.com"},
            {"type":"search_result_location","cited_text":"e","search_result_index":0,"source":"kb://1","title":"S","start_block_index":0,"end_block_index":1}]})",
                  ContentBlock::kText},
        BlockCase{
            R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}})",
            ContentBlock::kImage},
        BlockCase{R"({"type":"image","source":{"type":"url","url":"https://example.com/a.jpg"}})",
                  ContentBlock::kImage},
        BlockCase{R"({"type":"image","source":{"type":"file","file_id":"file_011"}})",
                  ContentBlock::kImage},
        BlockCase{
            R"({"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQ="},"title":"Doc","context":"ctx","citations":{"enabled":true},"cache_control":{"type":"ephemeral"}})",
            ContentBlock::kDocument},
        BlockCase{
            R"({"type":"document","source":{"type":"text","media_type":"text/plain","data":"The grass is green."}})",
            ContentBlock::kDocument},
        BlockCase{R"({"type":"document","source":{"type":"content","content":"plain"}})",
                  ContentBlock::kDocument},
        BlockCase{
            R"({"type":"document","source":{"type":"content","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}]}})",
            ContentBlock::kDocument},
        BlockCase{
            R"({"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}})",
            ContentBlock::kDocument},
        BlockCase{R"({"type":"document","source":{"type":"file","file_id":"file_2"}})",
                  ContentBlock::kDocument},
        BlockCase{
            R"({"type":"search_result","source":"https://kb/1","title":"KB","content":[{"type":"text","text":"fact"}],"citations":{"enabled":true}})",
            ContentBlock::kSearchResult},
        BlockCase{
            R"({"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"SF","days":3,"deep":{"a":[1,2.5,true,null,"x"]}}})",
            ContentBlock::kToolUse},
        BlockCase{R"({"type":"tool_result","tool_use_id":"toolu_1","content":"15 degrees"})",
                  ContentBlock::kToolResult},
        BlockCase{
            R"({"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"15"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4A=="}}],"is_error":false})",
            ContentBlock::kToolResult},
        BlockCase{R"({"type":"thinking","thinking":"Let me think","signature":"EqQB"})",
                  ContentBlock::kThinking},
        BlockCase{R"({"type":"redacted_thinking","data":"EmwKAhgB"})",
                  ContentBlock::kRedactedThinking},
        BlockCase{
            R"({"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"weather"}})",
            ContentBlock::kServerToolUse},
        BlockCase{
            R"({"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://a","title":"A","encrypted_content":"EqgB","page_age":"April 30, 2025"}]})",
            ContentBlock::kWebSearchToolResult},
        BlockCase{
            R"({"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":{"type":"web_search_tool_result_error","error_code":"max_uses_exceeded"}})",
            ContentBlock::kWebSearchToolResult},
        BlockCase{
            R"({"type":"web_fetch_tool_result","tool_use_id":"srvtoolu_2","content":{"type":"web_fetch_result","url":"https://a","retrieved_at":"2025-08-25T10:30:00Z","content":{"type":"document","source":{"type":"text","media_type":"text/plain","data":"page"},"title":"A","citations":{"enabled":true}}}})",
            ContentBlock::kWebFetchToolResult},
        BlockCase{
            R"({"type":"web_fetch_tool_result","tool_use_id":"srvtoolu_2","content":{"type":"web_fetch_tool_result_error","error_code":"url_not_accessible"}})",
            ContentBlock::kWebFetchToolResult},
        BlockCase{
            R"({"type":"code_execution_tool_result","tool_use_id":"srvtoolu_3","content":{"type":"code_execution_result","stdout":"4\n","stderr":"","return_code":0,"content":[{"type":"code_execution_output","file_id":"file_3"}]}})",
            ContentBlock::kCodeExecutionToolResult},
        BlockCase{
            R"({"type":"code_execution_tool_result","tool_use_id":"srvtoolu_3","content":{"type":"code_execution_tool_result_error","error_code":"unavailable"}})",
            ContentBlock::kCodeExecutionToolResult},
        BlockCase{
            R"({"type":"bash_code_execution_tool_result","tool_use_id":"srvtoolu_4","content":{"type":"bash_code_execution_result","stdout":"ok","stderr":"","return_code":1,"content":[{"type":"bash_code_execution_output","file_id":"file_5"}]}})",
            ContentBlock::kBashCodeExecutionToolResult},
        BlockCase{
            R"({"type":"text_editor_code_execution_tool_result","tool_use_id":"srvtoolu_5","content":{"type":"text_editor_code_execution_view_result","file_type":"text","content":"x","numLines":1}})",
            ContentBlock::kTextEditorCodeExecutionToolResult},
        BlockCase{
            R"({"type":"tool_search_tool_result","tool_use_id":"srvtoolu_6","content":{"type":"tool_search_tool_search_result","tool_references":[{"type":"tool_reference","tool_name":"get_weather"}]}})",
            ContentBlock::kToolSearchToolResult},
        BlockCase{
            R"({"type":"mcp_tool_use","id":"mcptoolu_1","name":"echo","server_name":"srv","input":{"a":"b"}})",
            ContentBlock::kMcpToolUse},
        BlockCase{
            R"({"type":"mcp_tool_result","tool_use_id":"mcptoolu_1","is_error":false,"content":[{"type":"text","text":"b"}]})",
            ContentBlock::kMcpToolResult},
        BlockCase{R"({"type":"container_upload","file_id":"file_4"})",
                  ContentBlock::kContainerUpload}));

TEST(JsonMappingTest, UnknownBlockTypeIsKeptWhole) {
  const std::string json = R"({"type":"hologram","frames":[1,2],"meta":{"fps":24}})";
  ContentBlock block = RoundTrip<ContentBlock>(json, /*expect_modelled=*/false);
  ASSERT_EQ(block.block_case(), ContentBlock::kUnknown);
  EXPECT_EQ(block.unknown().fields().at("type").string_value(), "hologram");
}

TEST(JsonMappingTest, UnknownFieldOfKnownTypeIsKeptInExtraFields) {
  const std::string json = R"({"type":"text","text":"hi","sparkle":{"level":3},"note":null})";
  ContentBlock block = RoundTrip<ContentBlock>(json, /*expect_modelled=*/false);
  ASSERT_TRUE(block.has_text());
  EXPECT_EQ(block.text().text(), "hi");
  EXPECT_EQ(block.text()
                .extra_fields()
                .fields()
                .at("sparkle")
                .struct_value()
                .fields()
                .at("level")
                .number_value(),
            3);
  EXPECT_TRUE(block.text().extra_fields().fields().at("note").has_null_value());
}

TEST(JsonMappingTest, UnknownCitationSourceAndImageSourceAreKept) {
  RoundTrip<ContentBlock>(
      R"({"type":"text","text":"t","citations":[{"type":"video_location","cited_text":"v","start_ms":5}]})",
      false);
  ContentBlock image = RoundTrip<ContentBlock>(
      R"({"type":"image","source":{"type":"s3","bucket":"b","key":"k"}})", false);
  EXPECT_TRUE(image.image().source().has_unknown());
}

TEST(JsonMappingTest, EmptyArraysAndNullsAreRememberedNotInvented) {
  // message_start carries "content": [] and null stop fields; they come back as sent...
  const std::string json =
      R"({"id":"m","type":"message","role":"assistant","content":[],"model":"c","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":0}})";
  v1::Message message = RoundTrip<v1::Message>(json, false);
  EXPECT_EQ(message.content_size(), 0);
  EXPECT_FALSE(message.has_stop_sequence());
  // ...while a message built in code writes no member it does not have.
  v1::TextBlock block;
  block.set_text("x");
  EXPECT_EQ(MessageToJsonString(block), R"({"type":"text","text":"x"})");
}

TEST(JsonMappingTest, BlocksOutsideUnionsCarryTheirImpliedType) {
  v1::CreateMessageRequest request;
  request.mutable_system_blocks()->add_blocks()->set_text("Be brief.");
  EXPECT_EQ(MessageToJsonString(request),
            R"({"model":"","system":[{"type":"text","text":"Be brief."}]})");
  absl::Status status = JsonToMessage(R"({"system":[{"type":"image","text":"x"}]})", &request);
  EXPECT_THAT(std::string(status.message()), HasSubstr("system[0].type: expected \"text\""));
}

TEST(JsonMappingTest, BytesAreBase64InJson) {
  ContentBlock block;
  auto* source = block.mutable_image()->mutable_source()->mutable_base64();
  source->set_media_type("image/png");
  source->set_data(std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(
      MessageToJsonString(block),
      R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}})");
  ContentBlock back;
  ASSERT_TRUE(JsonToMessage(MessageToJsonString(block), &back).ok());
  EXPECT_EQ(back.image().source().base64().data(), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST(JsonMappingTest, EveryDeltaType) {
  struct Case {
    const char* json;
    v1::ContentBlockDelta::DeltaCase expected;
  };
  for (
      const Case& c : {
          Case{R"({"type":"text_delta","text":"Hel"})", v1::ContentBlockDelta::kTextDelta},
          Case{R"({"type":"input_json_delta","partial_json":"{\"loc"})",
               v1::ContentBlockDelta::kInputJsonDelta},
          Case{R"({"type":"thinking_delta","thinking":"hmm"})",
               v1::ContentBlockDelta::kThinkingDelta},
          Case{R"({"type":"signature_delta","signature":"EqQB"})",
               v1::ContentBlockDelta::kSignatureDelta},
          Case{
              R"({"type":"citations_delta","citation":{"type":"char_location","cited_text":"a","document_index":0,"document_title":null,"start_char_index":0,"end_char_index":1}})",
              v1::ContentBlockDelta::kCitationsDelta},
      }) {
    // document_title: null is remembered as an explicit null, so allow extra_fields here.
    v1::ContentBlockDelta delta = RoundTrip<v1::ContentBlockDelta>(
        c.json, c.expected != v1::ContentBlockDelta::kCitationsDelta);
    EXPECT_EQ(delta.delta_case(), c.expected) << c.json;
  }
  v1::ContentBlockDelta unknown =
      RoundTrip<v1::ContentBlockDelta>(R"({"type":"audio_delta","pcm":"AAAA"})", false);
  EXPECT_EQ(unknown.delta_case(), v1::ContentBlockDelta::kUnknown);
}

TEST(JsonMappingTest, EveryEventType) {
  using v1::MessageStreamEvent;
  struct Case {
    const char* json;
    MessageStreamEvent::EventCase expected;
  };
  for (
      const Case& c : {
          Case{
              R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}})",
              MessageStreamEvent::kMessageStart},
          Case{
              R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
              MessageStreamEvent::kContentBlockStart},
          Case{
              R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})",
              MessageStreamEvent::kContentBlockDelta},
          Case{R"({"type":"content_block_stop","index":0})", MessageStreamEvent::kContentBlockStop},
          Case{
              R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}})",
              MessageStreamEvent::kMessageDelta},
          Case{R"({"type":"message_stop"})", MessageStreamEvent::kMessageStop},
          Case{R"({"type":"ping"})", MessageStreamEvent::kPing},
          Case{
              R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"})",
              MessageStreamEvent::kError},
          Case{R"({"type":"thought_bubble","index":3})", MessageStreamEvent::kUnknown},
      }) {
    MessageStreamEvent event;
    ASSERT_TRUE(JsonToMessage(c.json, &event).ok()) << c.json;
    EXPECT_EQ(event.event_case(), c.expected) << c.json;
    EXPECT_TRUE(JsonEqual(c.json, MessageToJsonString(event)));
  }
}

TEST(JsonMappingTest, EveryStopReasonAndAnUnknownOne) {
  using v1::StopReason;
  struct Case {
    const char* text;
    StopReason expected;
  };
  for (const Case& c :
       {Case{"end_turn", v1::STOP_REASON_END_TURN}, Case{"max_tokens", v1::STOP_REASON_MAX_TOKENS},
        Case{"stop_sequence", v1::STOP_REASON_STOP_SEQUENCE},
        Case{"tool_use", v1::STOP_REASON_TOOL_USE}, Case{"pause_turn", v1::STOP_REASON_PAUSE_TURN},
        Case{"refusal", v1::STOP_REASON_REFUSAL},
        Case{"model_context_window_exceeded", v1::STOP_REASON_MODEL_CONTEXT_WINDOW_EXCEEDED},
        Case{"daydreaming", v1::STOP_REASON_UNSPECIFIED}}) {
    const std::string json =
        std::string(
            R"({"id":"m","type":"message","role":"assistant","content":[{"type":"text","text":"x"}],"model":"c","stop_reason":")") +
        c.text + R"(","usage":{"input_tokens":1,"output_tokens":2}})";
    v1::Message message = RoundTrip<v1::Message>(json);
    EXPECT_EQ(message.stop_reason(), c.expected) << c.text;
    EXPECT_EQ(message.stop_reason_raw(), c.expected == v1::STOP_REASON_UNSPECIFIED ? c.text : "");
  }
}

TEST(JsonMappingTest, EveryUsageField) {
  const std::string json =
      R"({"input_tokens":10,"output_tokens":20,"cache_creation_input_tokens":30,
      "cache_read_input_tokens":40,"cache_creation":{"ephemeral_5m_input_tokens":5,"ephemeral_1h_input_tokens":25},
      "server_tool_use":{"web_search_requests":2,"web_fetch_requests":1},"service_tier":"standard",
      "inference_geo":"us","output_tokens_details":{"thinking_tokens":7}})";
  v1::Usage usage = RoundTrip<v1::Usage>(json);
  EXPECT_EQ(usage.cache_read_input_tokens(), 40);
  EXPECT_EQ(usage.cache_creation().ephemeral_1h_input_tokens(), 25);
  EXPECT_EQ(usage.server_tool_use().web_fetch_requests(), 1);
  EXPECT_EQ(usage.service_tier(), "standard");
  const std::string delta =
      R"({"input_tokens":10,"output_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"server_tool_use":{"web_search_requests":1}})";
  v1::MessageDeltaUsage delta_usage = RoundTrip<v1::MessageDeltaUsage>(delta);
  EXPECT_TRUE(delta_usage.has_cache_read_input_tokens());
}

TEST(JsonMappingTest, MessageWithContainerAndStopDetails) {
  RoundTrip<v1::Message>(R"({"id":"msg_2","type":"message","role":"assistant","model":"c",
      "content":[{"type":"text","text":"no"}],"stop_reason":"refusal","stop_sequence":"END",
      "stop_details":{"type":"refusal","category":"cyber"},
      "container":{"id":"container_1","expires_at":"2025-01-01T00:00:00Z"},
      "usage":{"input_tokens":1,"output_tokens":1}})");
}

TEST(JsonMappingTest, FullCreateMessageRequest) {
  const std::string json = R"({
    "model":"claude-sonnet-4-5","max_tokens":2048,
    "system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}],
    "messages":[
      {"role":"user","content":"Weather in SF?"},
      {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"SF"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"15C"}]}],
    "metadata":{"user_id":"u-1"},"stop_sequences":["END"],"temperature":0.7,"top_p":0.9,"top_k":40,
    "tools":[
      {"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]},"strict":true},
      {"type":"custom","name":"other","input_schema":{"type":"object"}},
      {"type":"bash_20250124","name":"bash"},
      {"type":"text_editor_20250728","name":"str_replace_based_edit_tool","max_characters":10000},
      {"type":"computer_20250124","name":"computer","display_width_px":1024,"display_height_px":768,"display_number":1},
      {"type":"memory_20250818","name":"memory"},
      {"type":"code_execution_20250825","name":"code_execution"},
      {"type":"web_search_20250305","name":"web_search","max_uses":5,"allowed_domains":["example.com"],"user_location":{"type":"approximate","city":"San Francisco","country":"US","timezone":"America/Los_Angeles"}},
      {"type":"web_fetch_20250910","name":"web_fetch","max_uses":2,"citations":{"enabled":true},"max_content_tokens":5000}],
    "tool_choice":{"type":"auto","disable_parallel_tool_use":true},
    "thinking":{"type":"enabled","budget_tokens":1024},
    "output_config":{"effort":"high","format":{"type":"json_schema","schema":{"type":"object"}}},
    "service_tier":"auto","container":"container_1","inference_geo":"us",
    "cache_control":{"type":"ephemeral","ttl":"5m"}})";
  v1::CreateMessageRequest request = RoundTrip<v1::CreateMessageRequest>(json);
  EXPECT_EQ(request.tools(0).tool_case(), v1::Tool::kCustom);
  EXPECT_EQ(request.tools(1).custom().type(), "custom");
  EXPECT_EQ(request.tools(2).bash().type(), "bash_20250124");
  EXPECT_EQ(request.tools(7).web_search().user_location().city(), "San Francisco");
  EXPECT_EQ(request.messages(0).content_text(), "Weather in SF?");
  EXPECT_EQ(request.container_id(), "container_1");
  EXPECT_DOUBLE_EQ(request.temperature(), 0.7);
}

TEST(JsonMappingTest, RequestUnionVariants) {
  for (
      const char* json : {
          R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"system":"plain","tool_choice":{"type":"any"},"thinking":{"type":"disabled"}})",
          R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"tool","name":"t"},"thinking":{"type":"adaptive","display":"summarized"},"container":{"id":"c","skills":[]}})",
          R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"none"},"thinking":{"type":"enabled","budget_tokens":2000,"display":"omitted"}})",
      }) {
    RoundTrip<v1::CreateMessageRequest>(json);
  }
}

TEST(JsonMappingTest, NewerRequestMembersTravelInExtraFieldsAndUnknownTools) {
  const std::string json =
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],
      "mcp_servers":[{"type":"url","url":"https://mcp","name":"srv"}],"context_management":{"edits":[]},
      "tools":[{"type":"tool_search_tool_regex_20251119","name":"tool_search"}]})";
  v1::CreateMessageRequest request = RoundTrip<v1::CreateMessageRequest>(json, false);
  EXPECT_TRUE(request.extra_fields().fields().contains("mcp_servers"));
  EXPECT_TRUE(request.tools(0).has_unknown());
}

TEST(JsonMappingTest, ProtoToJsonIsExactAndStable) {
  v1::CreateMessageRequest request;
  request.set_model("claude-sonnet-4-5");
  request.set_max_tokens(256);
  auto* message = request.add_messages();
  message->set_role(v1::ROLE_USER);
  message->set_content_text("Say \"hi\"\n");
  auto* tool = request.add_tools()->mutable_custom();
  tool->set_name("lookup");
  auto& props = *tool->mutable_input_schema()->mutable_fields();
  props["type"].set_string_value("object");
  props["additionalProperties"].set_bool_value(false);
  request.set_temperature(0.25);
  EXPECT_EQ(
      CreateMessageBody(request, /*stream=*/true),
      R"({"stream":true,"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Say \"hi\"\n"}],)"
      R"("max_tokens":256,"temperature":0.25,"tools":[{"name":"lookup","input_schema":{"additionalProperties":false,"type":"object"}}]})");
  EXPECT_EQ(CreateMessageBody(request, /*stream=*/false).rfind(R"({"model":)", 0), 0u);
}

TEST(JsonMappingTest, ModelsRoundTrip) {
  RoundTrip<v1::ListModelsResponse>(
      R"({"data":[{"id":"claude-sonnet-4-5-20250929","type":"model","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-5-20250929","last_id":"claude-sonnet-4-5-20250929"})");
  RoundTrip<v1::CountTokensResponse>(R"({"input_tokens":2095})");
}

TEST(JsonMappingTest, ControlCharactersAndUnicodeAreEscapedCorrectly) {
  v1::TextBlock block;
  block.set_text(std::string("tab\t nul\x01 quote\" back\\ \xe2\x88\x9a", 26));
  const std::string json = MessageToJsonString(block);
  EXPECT_EQ(json,
            "{\"type\":\"text\",\"text\":\"tab\\t nul\\u0001 quote\\\" back\\\\ \xe2\x88\x9a\"}");
  v1::TextBlock back;
  ASSERT_TRUE(JsonToMessage(json, &back).ok());
  EXPECT_EQ(back.text(), block.text());
}

TEST(JsonMappingTest, MalformedInputGivesErrorsThatNameThePath) {
  v1::CreateMessageRequest request;
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      Case{R"({"model":"m","messages":[{"role":"user","content":5}]})",
           "messages[0].content: expected string or array, got number"},
      Case{R"({"model":"m","max_tokens":"ten"})", "max_tokens: expected integer, got string"},
      Case{R"({"model":"m","max_tokens":1.5})", "max_tokens: expected an integer"},
      Case{R"({"model":"m","max_tokens":-1.5})", "max_tokens: expected an integer"},
      Case{R"({"model":"m","messages":[{"role":"system","content":"x"}]})",
           "messages[0].role: unknown value \"system\""},
      Case{
          R"({"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"!!!"}}]}]})",
          "messages[0].content[0].source.data: invalid base64"},
      Case{R"({"model":"m","tools":[{"name":"t","input_schema":[]}]})",
           "tools[0].input_schema: expected object, got array"},
      Case{R"({"model":"m","messages":[{"role":"user","content":[{"type":7}]}]})",
           "messages[0].content[0].type: expected string, got number"},
      Case{R"({"model":"m","stop_sequences":[null]})",
           "stop_sequences[0]: expected array element, got null"},
      Case{R"([1,2])", "(body): expected object, got array"},
      Case{R"({"model":"m","max_tokens":1)", "invalid JSON"},
      Case{"{\"model\":\"\xff\xfe\"}", "invalid JSON"},
      Case{"", "invalid JSON"},
      // Paths into blocks within blocks, versioned tools, system blocks, tool choices
      // and citations.
      Case{
          R"({"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"base64","media_type":"x","data":"!!"}}]}]}]})",
          "messages[0].content[0].content[0].source.data: invalid base64"},
      Case{R"({"model":"m","tools":[{"type":"web_search_20250305","name":"w","max_uses":"x"}]})",
           "tools[0].max_uses: expected integer, got string"},
      Case{R"({"model":"m","system":[{"text":"a"},{"text":5}]})",
           "system[1].text: expected string, got number"},
      Case{R"({"model":"m","tool_choice":{"type":"tool","name":7}})",
           "tool_choice.name: expected string, got number"},
      Case{
          R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x","citations":[{"type":null}]}]}]})",
          "messages[0].content[0].citations[0].type: expected string, got null"},
  };
  for (const Case& c : cases) {
    absl::Status status = JsonToMessage(c.json, &request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message)) << c.json;
  }
  v1::Usage usage;
  absl::Status status = JsonToMessage(R"({"input_tokens":18446744073709551615})", &usage);
  EXPECT_THAT(std::string(status.message()), HasSubstr("input_tokens: integer out of range"));
}

TEST(JsonMappingTest, EveryApiObjectMessageKeepsUnmodelledMembers) {
  // The lossless promise rests on every object message having extra_fields; unions and lists
  // are not objects, and the two request messages below travel as URL parameters.
  const auto* file = v1::Message::descriptor()->file();
  std::vector<const google::protobuf::FileDescriptor*> files = {
      file, v1::ModelInfo::descriptor()->file()};
  for (int i = 0; i < file->dependency_count(); ++i) files.push_back(file->dependency(i));
  int checked = 0;
  for (const auto* f : files) {
    if (f->package() != "claude.v1") continue;
    for (int i = 0; i < f->message_type_count(); ++i) {
      const auto* d = f->message_type(i);
      const bool is_union = d->FindFieldByName("unknown") != nullptr;
      const bool is_list = d->field_count() == 1 && d->field(0)->is_repeated();
      const bool is_url_params = d->name() == "ListModelsRequest" || d->name() == "GetModelRequest";
      if (is_union || is_list || is_url_params) continue;
      EXPECT_NE(d->FindFieldByName("extra_fields"), nullptr) << d->full_name();
      ++checked;
    }
  }
  EXPECT_GT(checked, 60);
}

}  // namespace
}  // namespace claude

namespace claude {
namespace {

std::string JsonString(absl::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

// Upstream headers and bodies reach log lines through AppendJsonString: whatever bytes they
// hold, the literal must be valid JSON text (UTF-8), so each byte that does not start a
// well-formed character becomes U+FFFD and well-formed ones pass unchanged.
TEST(AppendJsonStringTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  EXPECT_EQ(JsonString("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x9A\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x9A\x80\"");
  EXPECT_EQ(JsonString("a\xFF"
                       "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");                                                   // never valid
  EXPECT_EQ(JsonString("\x80"), "\"\xEF\xBF\xBD\"");                  // stray continuation
  EXPECT_EQ(JsonString("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong '/'
  EXPECT_EQ(JsonString("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(JsonString("\xF4\x90\x80\x80").size(), 2 + 4 * 3u);         // beyond U+10FFFF
  EXPECT_EQ(JsonString("x\xE2\x82"), "\"x\xEF\xBF\xBD\xEF\xBF\xBD\"");  // cut short
  EXPECT_EQ(JsonString("\"\\\n\x01"), "\"\\\"\\\\\\n\\u0001\"");        // escapes as before
}

}  // namespace
}  // namespace claude

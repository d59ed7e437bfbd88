// Edge cases of the JSON mapping and the stream accumulator: hostile input, numbers at their
// limits, duplicate keys, explicit nulls, dynamic messages.
//
// CodecRegressionTest: bugs a review found, each fixed; CodecEdgeCaseTest: behaviour beyond
// what json_mapping_test and message_accumulator_test cover.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"
#include "tests/testing/json_testing.h"

namespace claude {
namespace {

using ::claude::testing::JsonEqual;
using ::testing::HasSubstr;
using ::testing::Not;

// Decodes `json` as T (must succeed) and returns the re-encoded text.
template <typename T>
std::string Reencode(const std::string& json, T* message) {
  absl::Status status = JsonToMessage(json, message);
  EXPECT_TRUE(status.ok()) << status << " for " << json;
  return MessageToJsonString(*message);
}

// Folds the events (JSON texts) through JsonToMessage and a MessageAccumulator.
absl::StatusOr<v1::Message> Accumulate(const std::vector<std::string>& events) {
  MessageAccumulator accumulator;
  for (const std::string& json : events) {
    v1::MessageStreamEvent event;
    if (absl::Status s = JsonToMessage(json, &event); !s.ok()) return s;
    if (absl::Status s = accumulator.Apply(event); !s.ok()) return s;
  }
  return std::move(accumulator).Finish();
}

const char kStart[] =
    R"({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],)"
    R"("model":"c","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1,)"
    R"("cache_read_input_tokens":3,"service_tier":"standard","server_tool_use":{"web_search_requests":1}}}})";
const char kStop[] = R"({"type":"message_stop"})";

const char kToolStart[] =
    R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"n","input":{}}})";

// =============================================================================================
// Bugs: these fail against the current code.
// =============================================================================================

// content.proto: "explicit JSON nulls [are kept] verbatim; the codec writes them back". For a
// plain (non-optional) scalar the null is stored in extra_fields, but Encoder::Present() says a
// plain scalar is always present, so the default (0 / "") is written and the null is lost.
TEST(CodecRegressionTest, ExplicitNullOfPlainScalarIsWrittenBackAsNull) {
  v1::Usage usage;
  const std::string json = R"({"input_tokens":null,"output_tokens":7})";
  const std::string out = Reencode(json, &usage);
  EXPECT_TRUE(JsonEqual(json, out));  // actual: {"input_tokens":0,"output_tokens":7}

  v1::ContentBlock block;  // a gateway that nulls a citation's url
  const std::string cited =
      R"({"type":"text","text":"x","citations":[{"type":"web_search_result_location","cited_text":"c",)"
      R"("encrypted_index":"e","title":"t","url":null}]})";
  EXPECT_TRUE(JsonEqual(cited, Reencode(cited, &block)));  // actual: "url":""
}

// The official SDKs (TS MessageStream, Python accumulate_event) only take a message_delta usage
// value when it is not null: `if (event.usage.input_tokens != null) ...`. OverwriteByName()
// copies the nulls from the delta's extra_fields and clears the typed values, so input_tokens
// becomes 0 (a plain scalar, see the bug above) and the cache/server-tool counts become null.
TEST(CodecRegressionTest, NullUsageInMessageDeltaDoesNotOverwriteEarlierValues) {
  absl::StatusOr<v1::Message> message = Accumulate(
      {kStart,
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
       R"("usage":{"output_tokens":9,"input_tokens":null,"cache_read_input_tokens":null,"server_tool_use":null}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->usage().output_tokens(), 9);
  EXPECT_EQ(message->usage().input_tokens(), 5);                           // actual: 0
  EXPECT_EQ(message->usage().cache_read_input_tokens(), 3);                // actual: cleared
  EXPECT_EQ(message->usage().server_tool_use().web_search_requests(), 1);  // actual: cleared
  EXPECT_TRUE(JsonEqual(
      R"({"id":"m","type":"message","role":"assistant","content":[],"model":"c","stop_reason":"end_turn",)"
      R"("stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":9,"cache_read_input_tokens":3,)"
      R"("service_tier":"standard","server_tool_use":{"web_search_requests":1}}})",
      MessageToJsonString(*message)));
}

// A message_delta usage member that MessageDeltaUsage does not model but Usage does
// ("service_tier") is put in Usage.extra_fields and the typed Usage.service_tier is cleared:
// the JSON says "priority" while a gRPC client reading usage.service_tier() sees "".
TEST(CodecRegressionTest, DeltaUsageMemberModelledByUsageLandsInTypedField) {
  absl::StatusOr<v1::Message> message = Accumulate(
      {kStart,
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
       R"("usage":{"output_tokens":9,"service_tier":"priority"}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  ASSERT_THAT(MessageToJsonString(message->usage()), HasSubstr(R"("service_tier":"priority")"));
  EXPECT_TRUE(message->usage().has_service_tier());        // actual: cleared
  EXPECT_EQ(message->usage().service_tier(), "priority");  // actual: ""
}

// simdjson 3.0.1's DOM rejects integers beyond 64 bits with NUMBER_ERROR, so a valid document
// whose tool input holds a big integer fails as "invalid JSON" (RFC 8259 allows any size; the
// API, protobuf's own JSON parser and the SDKs accept it, as a double at worst). In a stream,
// one such number fails the whole accumulated message.
TEST(CodecRegressionTest, BigIntegerInToolInputIsAccepted) {
  v1::ContentBlock block;
  absl::Status status = JsonToMessage(
      R"({"type":"tool_use","id":"t","name":"n","input":{"n":123456789012345678901234567890}})",
      &block);
  EXPECT_TRUE(status.ok()) << status;  // actual: invalid JSON: Problem while parsing a number
  status = JsonToMessage(
      R"({"type":"tool_use","id":"t","name":"n","input":{"n":18446744073709551616}})", &block);
  EXPECT_TRUE(status.ok()) << status;

  absl::StatusOr<v1::Message> message = Accumulate(
      {kStart, kToolStart,
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"n\": 123456789012345678901234}"}})",
       kStop});
  EXPECT_TRUE(message.ok()) << message.status();
}

// Same root cause, for modelled integer fields: an out-of-range integer gives "invalid JSON"
// with no path instead of "<path>: integer out of range" (which uint64-sized values get).
TEST(CodecRegressionTest, OutOfRangeIntegerErrorNamesThePath) {
  v1::Usage usage;
  absl::Status status = JsonToMessage(R"({"input_tokens":-9223372036854775809})", &usage);
  EXPECT_THAT(std::string(status.message()), HasSubstr("input_tokens"));  // actual: invalid JSON
  status = JsonToMessage(R"({"input_tokens":18446744073709551616})", &usage);
  EXPECT_THAT(std::string(status.message()), HasSubstr("input_tokens"));
}

// Decoder::Integer() rejects any double above 9e15 with "expected an integer", even exact
// integers in exponent form (1e16 is an int64). The message names the wrong problem.
TEST(CodecRegressionTest, IntegralDoubleAboveNineE15IsNotCalledANonInteger) {
  v1::Usage usage;
  absl::Status status = JsonToMessage(R"({"input_tokens":1e16,"output_tokens":1})", &usage);
  if (!status.ok()) {
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("expected an integer"))) << status;
  } else {
    EXPECT_EQ(usage.input_tokens(), 10000000000000000);
  }
}

// google.protobuf.Struct holds numbers as doubles: integers above 2^53 in tool input or
// schemas come back as the nearest double (documented in content.proto). JsonEqual compares
// numbers as doubles and cannot see it, so the text is compared here.
TEST(CodecEdgeCaseTest, IntegerAbove2To53InStructBecomesTheNearestDouble) {
  v1::ContentBlock block;
  const std::string out = Reencode(
      std::string(R"({"type":"tool_use","id":"t","name":"n","input":{"id":9007199254740993}})"),
      &block);
  EXPECT_THAT(out, HasSubstr("9007199254740992")) << out;
}

// Duplicate keys: the API (and most JSON parsers) take the last value. ToValue() reuses the
// existing google.protobuf.Value, so arrays are concatenated and objects merged; modelled
// repeated fields are appended to and messages merged (MutableMessage); a later null does not
// override an earlier value. The request sent upstream then differs from what the caller wrote.
TEST(CodecRegressionTest, DuplicateKeysInStructTakeTheLastValue) {
  v1::ContentBlock block;
  EXPECT_TRUE(
      JsonEqual(R"({"type":"tool_use","id":"t","name":"n","input":{"a":[2],"b":{"y":2}}})",
                Reencode(std::string(R"({"type":"tool_use","id":"t","name":"n",)"
                                     R"("input":{"a":[1],"a":[2],"b":{"x":1},"b":{"y":2}}})"),
                         &block)));  // actual: "a":[1,2], "b":{"x":1,"y":2}
}

TEST(CodecRegressionTest, DuplicateKeysInModelledFieldsTakeTheLastValue) {
  v1::CreateMessageRequest request;
  EXPECT_TRUE(JsonEqual(
      R"({"model":"m","stop_sequences":["b"]})",
      Reencode(std::string(R"({"model":"m","stop_sequences":["a"],"stop_sequences":["b"]})"),
               &request)));  // actual: ["a","b"]
  EXPECT_TRUE(JsonEqual(
      R"({"model":"m","cache_control":{"type":"ephemeral"}})",
      Reencode(std::string(R"({"model":"m","cache_control":{"type":"ephemeral","ttl":"1h"},)"
                           R"("cache_control":{"type":"ephemeral"}})"),
               &request)));  // actual: the ttl of the first survives
  EXPECT_TRUE(
      JsonEqual(R"({"model":"m","temperature":null})",
                Reencode(std::string(R"({"model":"m","temperature":0.5,"temperature":null})"),
                         &request)));  // actual: 0.5
}

// JsonToMessage takes any google::protobuf::Message, and Dispatch() guards the Struct casts
// ("unsupported Struct implementation"), but KeepExtra() and TypeUnion() dereference the
// result of DynamicCastToGenerated<Struct> unchecked: a DynamicMessage of a claude.v1 type with
// an unmodelled member (or an unknown union type) crashes with SIGSEGV.
TEST(CodecRegressionTest, DynamicMessageWithUnmodelledMemberDoesNotCrash) {
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> text(
      factory.GetPrototype(v1::TextBlock::descriptor())->New());
  EXPECT_EXIT(
      {
        (void)JsonToMessage(R"({"type":"text","text":"a","sparkle":1})", text.get());
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  std::unique_ptr<google::protobuf::Message> block(
      factory.GetPrototype(v1::ContentBlock::descriptor())->New());
  EXPECT_EXIT(
      {
        (void)JsonToMessage(R"({"type":"hologram","x":1})", block.get());
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

// ApplyMessageDelta() copies a delta's extra member to the Message only when Message has no
// field of that name (or it is stop_reason/stop_sequence), so an explicit "stop_details":null
// or "container":null in message_delta vanishes: the accumulated Message lacks members that
// the delta (and the non-streaming response) carry. (Lower confidence: depends on the API
// sending these nulls; the same loop is what makes stop_sequence:null work.)
TEST(CodecRegressionTest, ExplicitNullStopDetailsInMessageDeltaIsKept) {
  absl::StatusOr<v1::Message> message = Accumulate(
      {kStart,
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null,"stop_details":null,"container":null},"usage":{"output_tokens":2}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  const std::string json = MessageToJsonString(*message);
  EXPECT_THAT(json, HasSubstr(R"("stop_details":null)")) << json;
  EXPECT_THAT(json, HasSubstr(R"("container":null)")) << json;
}

// Issue 12, bug 3: JSON nested 33 levels inside a Struct became protobuf deeper than the
// 100 levels every protobuf parser accepts; the server sent it, the callers could not parse it.
// The codec refuses it, naming the path; what it accepts always parses again.
TEST(CodecRegressionTest, StructNestingBeyondProtobufsParseLimitIsRefusedNamingThePath) {
  auto nested_input = [](int levels) {
    std::string json =
        R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"n","input":)";
    for (int i = 0; i < levels; ++i) json += R"({"a":)";
    json += "1";
    json += std::string(levels, '}');
    return json + "}}";
  };
  int deepest_accepted = 0;
  for (int levels = 1; levels <= 40; ++levels) {
    v1::MessageStreamEvent event;
    absl::Status status = JsonToMessage(nested_input(levels), &event);
    if (!status.ok()) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(status.message()),
                  ::testing::StartsWith("content_block.input.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a"));
      EXPECT_THAT(std::string(status.message()), HasSubstr("nested too deeply"));
      continue;
    }
    deepest_accepted = levels;
    v1::MessageStreamEvent parsed;  // what a caller does with the bytes
    EXPECT_TRUE(parsed.ParseFromString(event.SerializeAsString())) << levels << " levels";
  }
  EXPECT_GE(deepest_accepted, 31);
  EXPECT_LT(deepest_accepted, 33);  // before the fix: all 40 accepted, 32 of them unparsable

  // A tool input assembled from fragments sits three levels down in the Message.
  MessageAccumulator accumulator;
  for (const std::string& json : {std::string(kStart), std::string(kToolStart)}) {
    v1::MessageStreamEvent event;
    ASSERT_TRUE(JsonToMessage(json, &event).ok());
    ASSERT_TRUE(accumulator.Apply(event).ok());
  }
  std::string fragment;
  for (int i = 0; i < 33; ++i) fragment += R"({"a":)";
  fragment += "1" + std::string(33, '}');
  v1::MessageStreamEvent delta;
  delta.mutable_content_block_delta()
      ->mutable_delta()
      ->mutable_input_json_delta()
      ->set_partial_json(fragment);
  ASSERT_TRUE(accumulator.Apply(delta).ok());
  v1::MessageStreamEvent stop;
  stop.mutable_content_block_stop()->set_index(0);
  absl::Status status = accumulator.Apply(stop);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("nested too deeply"));
}

// Issue 12, bug 11: the SDKs set stop_details from the message_delta, so a delta without it
// leaves none; the accumulator kept message_start's.
TEST(CodecRegressionTest, StopDetailsIsClearedWhenMessageDeltaOmitsIt) {
  const std::string start =
      R"({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],)"
      R"("model":"c","stop_reason":null,"stop_sequence":null,"stop_details":{"type":"refusal"},"usage":{"input_tokens":5,"output_tokens":1}}})";
  absl::StatusOr<v1::Message> message = Accumulate(
      {start,
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_FALSE(message->has_stop_details());
  EXPECT_THAT(MessageToJsonString(*message), Not(HasSubstr("stop_details")));

  message = Accumulate(
      {start,
       R"({"type":"message_delta","delta":{"stop_reason":"refusal","stop_details":{"type":"refusal","category":"cyber"}},"usage":{"output_tokens":2}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->stop_details().fields().at("category").string_value(), "cyber");
}

// Issue 12, bug 13: message_delta members that name Message fields the delta does not model
// (role, content) landed in the Message's extra_fields, shadowing the modelled field, and the
// Message's JSON no longer decoded ("role":"robot" is no Role; "content":"hi" no block list).
TEST(CodecRegressionTest, MessageDeltaMembersNeverShadowModelledMessageFields) {
  const std::string text_block =
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}})";
  absl::StatusOr<v1::Message> message = Accumulate(
      {kStart, text_block, R"({"type":"content_block_stop","index":0})",
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","role":"robot","content":"hi","sparkle":1},"usage":{"output_tokens":2}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->role(), v1::ROLE_ASSISTANT);
  ASSERT_EQ(message->content_size(), 1);
  EXPECT_EQ(message->content(0).text().text(), "Hi");
  EXPECT_FALSE(message->extra_fields().fields().contains("role"));
  EXPECT_FALSE(message->extra_fields().fields().contains("content"));
  EXPECT_EQ(message->extra_fields().fields().at("sparkle").number_value(), 1);  // unmodelled: kept
  v1::Message back;
  const std::string json = MessageToJsonString(*message);
  ASSERT_TRUE(JsonToMessage(json, &back).ok()) << json;
  EXPECT_EQ(MessageToJsonString(back), json);

  // A valid block list in a delta does not replace the blocks being accumulated either.
  message = Accumulate(
      {kStart, text_block,
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","content":[]},"usage":{"output_tokens":2}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  ASSERT_EQ(message->content_size(), 1);
  EXPECT_EQ(message->content(0).text().text(), "Hi there");
}

// Issue 12, bug 13: of duplicated keys the last wins, "type" too. The union member used to be
// chosen by the first "type" while the Struct kept the last, so decode -> encode -> decode was
// no fixed point.
TEST(CodecRegressionTest, DuplicatedTypeKeyTakesTheLastAndEncodingIsAFixedPoint) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"text","type":"hologram","x":1})", R"({"type":"hologram","x":1})"},
      {R"({"type":"hologram","type":"text","text":"a"})", R"({"type":"text","text":"a"})"},
      {R"({"type":"text","text":"a","type":"thinking","thinking":"b","signature":"s"})",
       R"({"type":"thinking","text":"a","thinking":"b","signature":"s"})"},
  };
  for (const auto& [json, expected] : cases) {
    v1::ContentBlock block;
    const std::string once = Reencode(std::string(json), &block);
    EXPECT_TRUE(JsonEqual(expected, once)) << json;
    v1::ContentBlock again;
    EXPECT_EQ(Reencode(once, &again), once) << json;
  }
  // A block standing on its own (a system prompt's text block) checks the last "type" only.
  v1::TextBlock text;
  EXPECT_TRUE(JsonToMessage(R"({"type":"image","type":"text","text":"a"})", &text).ok());
  EXPECT_FALSE(JsonToMessage(R"({"type":"text","type":"image","text":"a"})", &text).ok());
}

// Found by accumulator_fuzzer: an SSE event "data:" with an empty value has empty data whose
// pointer may be null, and simdjson copied from it (undefined behaviour under UBSan).
TEST(CodecRegressionTest, EmptyDocumentIsInvalidJsonWithoutReachingTheParser) {
  v1::MessageStreamEvent event;
  absl::Status status = JsonToMessage(absl::string_view(), &event);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("invalid JSON"));
  std::vector<EdgeSurrogates> edges;
  EXPECT_EQ(JsonToStreamEvent(absl::string_view(), &event, &edges).code(),
            absl::StatusCode::kInvalidArgument);
}

// =============================================================================================
// Coverage: correct today, not covered elsewhere.
// =============================================================================================

TEST(CodecEdgeCaseTest, SurrogatePairEscapeDecodesToUtf8) {
  v1::ContentBlock block;
  ASSERT_TRUE(JsonToMessage(R"({"type":"text","text":"a\ud83d\ude00b"})", &block).ok());
  EXPECT_EQ(block.text().text(),
            "a\xF0\x9F\x98\x80"
            "b");
  EXPECT_EQ(MessageToJsonString(block),
            "{\"type\":\"text\",\"text\":\"a\xF0\x9F\x98\x80"
            "b\"}");
}

// Issue 12, bug 10: a lone surrogate (half a character, e.g. one delta's end of a pair a stream
// split) used to fail the whole document with "invalid JSON: Problem while parsing a string";
// it becomes U+FFFD, never invalid UTF-8. Deltas join the halves (split_character_joiner_test).
TEST(CodecEdgeCaseTest, LoneSurrogatesBecomeTheReplacementCharacterNotInvalidUtf8) {
  v1::ContentBlock block;
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"text","text":"a\ud800b"})",
       "a\xEF\xBF\xBD"
       "b"},
      {R"({"type":"text","text":"a\udc00b"})",
       "a\xEF\xBF\xBD"
       "b"},
      {R"({"type":"text","text":"\ud83d"})", "\xEF\xBF\xBD"},
      {R"({"type":"text","text":"\uD83D\ud83d\ude00\ude00"})",
       "\xEF\xBF\xBD\xF0\x9F\x98\x80\xEF\xBF\xBD"},
      {R"({"type":"text","text":"\\ud83d"})", "\\ud83d"},  // an escaped backslash: no escape
  };
  for (const auto& [json, text] : cases) {
    ASSERT_TRUE(JsonToMessage(json, &block).ok()) << json;
    EXPECT_EQ(block.text().text(), text) << json;
    v1::ContentBlock back;  // and the result is a fixed point
    ASSERT_TRUE(JsonToMessage(MessageToJsonString(block), &back).ok());
    EXPECT_EQ(back.text().text(), text);
  }
  // In keys and in Struct values too; a big integer in the same document is still widened.
  ASSERT_TRUE(
      JsonToMessage(
          R"({"type":"tool_use","id":"t","name":"n","input":{"k\udc00":"\ud800","n":123456789012345678901}})",
          &block)
          .ok());
  EXPECT_EQ(block.tool_use().input().fields().at("k\xEF\xBF\xBD").string_value(), "\xEF\xBF\xBD");
}

TEST(CodecEdgeCaseTest, NulBytesSurviveBothWays) {
  v1::ContentBlock block;
  ASSERT_TRUE(
      JsonToMessage(R"({"type":"text","text":"a\u0000b","x\u0000y":"\u0000"})", &block).ok());
  EXPECT_EQ(block.text().text(), std::string("a\0b", 3));
  const std::string out = MessageToJsonString(block);
  EXPECT_EQ(out, R"({"type":"text","text":"a\u0000b","x\u0000y":"\u0000"})");
}

TEST(CodecEdgeCaseTest, EmptyKeysAreKept) {
  v1::ContentBlock block;
  const std::string json = R"({"type":"text","text":"a","":1,"x":{"":[{"":null}]}})";
  EXPECT_TRUE(JsonEqual(json, Reencode(json, &block)));
}

TEST(CodecEdgeCaseTest, LongStringRoundTrips) {
  v1::TextBlock block;
  std::string text(3 << 20, 'x');  // above the reusable-parser limit
  for (size_t i = 0; i < text.size(); i += 4096) text[i] = '"';
  block.set_text(text);
  v1::TextBlock back;
  ASSERT_TRUE(JsonToMessage(MessageToJsonString(block), &back).ok());
  EXPECT_EQ(back.text(), text);
}

TEST(CodecEdgeCaseTest, DeepNestingIsBoundedNotACrash) {
  const std::string prefix = R"({"type":"tool_use","id":"t","name":"n","input":{"a":)";
  v1::ContentBlock block;
  const std::string ok = prefix + std::string(40, '[') + std::string(40, ']') + "}}";
  EXPECT_TRUE(JsonEqual(ok, Reencode(ok, &block)));
  const std::string too_deep = prefix + std::string(1000, '[') + std::string(1000, ']') + "}}";
  absl::Status status = JsonToMessage(too_deep, &block);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("nested too deeply"));
  const std::string deep = prefix + std::string(200000, '[') + std::string(200000, ']') + "}}";
  status = JsonToMessage(deep, &block);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("invalid JSON"));
}

TEST(CodecEdgeCaseTest, Int64TokenCountsAreExactAtTheLimits) {
  v1::Usage usage;
  const std::string json =
      R"({"input_tokens":9223372036854775807,"output_tokens":-9223372036854775808})";
  EXPECT_EQ(Reencode(json, &usage), json);
  EXPECT_EQ(usage.input_tokens(), std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(JsonToMessage(R"({"input_tokens":1.2e3,"output_tokens":-0.0})", &usage).ok());
  EXPECT_EQ(usage.input_tokens(), 1200);
  EXPECT_EQ(usage.output_tokens(), 0);
}

TEST(CodecEdgeCaseTest, DoublesAreShortestRoundTripText) {
  v1::CreateMessageRequest request;
  request.set_model("m");
  struct Case {
    double value;
    const char* text;
  };
  for (const Case& c :
       {Case{0.1, "0.1"}, Case{1e-7, "1e-07"}, Case{1e300, "1e+300"}, Case{5e-324, "5e-324"},
        Case{1.0, "1"}, Case{-0.0, "0"}, Case{0.30000000000000004, "0.30000000000000004"},
        Case{std::nan(""), "null"}, Case{-std::numeric_limits<double>::infinity(), "null"}}) {
    request.set_temperature(c.value);
    EXPECT_EQ(MessageToJsonString(request),
              std::string(R"({"model":"m","temperature":)") + c.text + "}");
    if (std::isfinite(c.value)) {
      v1::CreateMessageRequest back;
      ASSERT_TRUE(JsonToMessage(MessageToJsonString(request), &back).ok());
      EXPECT_EQ(back.temperature(), c.value);
    }
  }
  v1::ContentBlock block;  // the same in Struct values
  const std::string json =
      R"({"type":"tool_use","id":"t","name":"n","input":{"a":0.1,"b":1e-07,"c":1e+300,"d":123456789.125}})";
  EXPECT_EQ(Reencode(json, &block), json);
}

TEST(CodecEdgeCaseTest, StructKeysAreWrittenSorted) {
  v1::ContentBlock block;
  EXPECT_EQ(
      Reencode(
          std::string(
              R"({"type":"tool_use","id":"t","name":"n","input":{"b":1,"a":{"z":1,"y":2},"":0}})"),
          &block),
      R"({"type":"tool_use","id":"t","name":"n","input":{"":0,"a":{"y":2,"z":1},"b":1}})");
}

TEST(CodecEdgeCaseTest, NullsOfOptionalAndMessageMembersRoundTrip) {
  v1::ContentBlock block;
  for (
      const char* json : {
          R"({"type":"web_search_tool_result","tool_use_id":"x","content":[{"type":"web_search_result","url":"u","title":"t","encrypted_content":"e","page_age":null}]})",
          R"({"type":"text_editor_code_execution_tool_result","tool_use_id":"x","content":null})",
          R"({"type":"web_search_tool_result","tool_use_id":"x","content":[]})",
          R"({"type":"tool_result","tool_use_id":"x","content":null,"is_error":null,"cache_control":null})",
          R"({"type":"document","source":{"type":"text","media_type":"text/plain","data":"d"},"title":null,"citations":null})",
      }) {
    EXPECT_TRUE(JsonEqual(json, Reencode(std::string(json), &block))) << json;
  }
}

TEST(CodecEdgeCaseTest, DatedAndUndatedToolTypesAreKept) {
  v1::CreateMessageRequest request;
  const std::string json =
      R"({"model":"m","tools":[{"type":"bash_20241022","name":"bash"},{"type":"text_editor_20250124","name":"str_replace_editor"},)"
      R"({"type":"custom","name":"c","input_schema":{"type":"object"}},{"type":"web_search_2025030","name":"w"}]})";
  EXPECT_TRUE(JsonEqual(json, Reencode(json, &request)));
  EXPECT_EQ(request.tools(0).bash().type(), "bash_20241022");
  EXPECT_EQ(request.tools(1).text_editor().type(), "text_editor_20250124");
  EXPECT_TRUE(request.tools(3).has_unknown());  // seven digits: not a date
}

TEST(CodecEdgeCaseTest, DeltaStopSequenceAndUnknownStopReason) {
  absl::StatusOr<v1::Message> message = Accumulate(
      {kStart,
       R"({"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},"usage":{"output_tokens":4}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->stop_reason(), v1::STOP_REASON_STOP_SEQUENCE);
  EXPECT_EQ(message->stop_sequence(), "END");
  EXPECT_THAT(MessageToJsonString(*message),
              HasSubstr(R"("stop_reason":"stop_sequence","stop_sequence":"END")"));

  message = Accumulate(
      {kStart,
       R"({"type":"message_delta","delta":{"stop_reason":"daydreaming","stop_sequence":null},"usage":{"output_tokens":4}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->stop_reason(), v1::STOP_REASON_UNSPECIFIED);
  EXPECT_EQ(message->stop_reason_raw(), "daydreaming");
  EXPECT_THAT(MessageToJsonString(*message), HasSubstr(R"("stop_reason":"daydreaming")"));
  EXPECT_FALSE(message->has_stop_sequence());
  EXPECT_THAT(MessageToJsonString(*message), HasSubstr(R"("stop_sequence":null)"));
}

TEST(CodecEdgeCaseTest, CitationsDeltaReplacesAnExplicitNullCitations) {
  absl::StatusOr<v1::Message> message = Accumulate(
      {kStart,
       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":"","citations":null}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"char_location","cited_text":"a","document_index":0,"document_title":null,"start_char_index":0,"end_char_index":1}}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}})",
       R"({"type":"content_block_stop","index":0})", kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_TRUE(JsonEqual(
      R"({"type":"text","text":"ok","citations":[{"type":"char_location","cited_text":"a","document_index":0,"document_title":null,"start_char_index":0,"end_char_index":1}]})",
      MessageToJsonString(message->content(0))));
}

TEST(CodecEdgeCaseTest, ToolInputWithUnicodeAndFragmentsSplitInsideEscapes) {
  absl::StatusOr<v1::Message> message = Accumulate(
      {kStart, kToolStart,
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"q\": \"\\ud83d"}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\\ude00\", \"n\": -0.5e1"}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"} \n"}})",
       kStop});
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->content(0).tool_use().input().fields().at("q").string_value(),
            "\xF0\x9F\x98\x80");
  EXPECT_EQ(message->content(0).tool_use().input().fields().at("n").number_value(), -5);
}

TEST(CodecEdgeCaseTest, ErrorIsStickyAndFinishReportsIt) {
  MessageAccumulator accumulator;
  v1::MessageStreamEvent event;
  ASSERT_TRUE(
      JsonToMessage(
          R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", &event)
          .ok());
  EXPECT_EQ(accumulator.Apply(event).code(), absl::StatusCode::kAborted);
  ASSERT_TRUE(JsonToMessage(kStart, &event).ok());
  EXPECT_EQ(accumulator.Apply(event).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(std::move(accumulator).Finish().status().code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace claude

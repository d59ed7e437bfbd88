// SplitCharacterJoiner: a character whose UTF-16 surrogate pair a stream split across two
// deltas (issue 12, bug 10), in text, thinking and partial JSON, and the halves left unpaired.
#include "common/codec/split_character_joiner.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "claude/v1/messages.pb.h"
#include "common/codec/json_mapping.h"
#include "common/codec/message_accumulator.h"

namespace claude {
namespace {

constexpr char kRocket[] = "\xF0\x9F\x9A\x80";  // U+1F680, "\ud83d\ude80" in JSON
constexpr char kReplacement[] = "\xEF\xBF\xBD";

std::string TextDelta(int index, const std::string& escaped_text) {
  return absl::StrCat(R"({"type":"content_block_delta","index":)", index,
                      R"(,"delta":{"type":"text_delta","text":")", escaped_text, R"("}})");
}
std::string Stop(int index) {
  return absl::StrCat(R"({"type":"content_block_stop","index":)", index, "}");
}

// Decodes `events` (JSON texts) through one joiner; every event it emits, in order.
std::vector<v1::MessageStreamEvent> Decode(const std::vector<std::string>& events) {
  SplitCharacterJoiner joiner;
  std::vector<v1::MessageStreamEvent> out;
  for (const std::string& json : events) {
    absl::Status status = joiner.Decode(json, [&](v1::MessageStreamEvent event) {
      out.push_back(std::move(event));
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status << " for " << json;
  }
  return out;
}

// The text, thinking or partial JSON of each delta, in order.
std::vector<std::string> DeltaTexts(const std::vector<v1::MessageStreamEvent>& events) {
  std::vector<std::string> texts;
  for (const v1::MessageStreamEvent& event : events) {
    if (!event.has_content_block_delta()) continue;
    const v1::ContentBlockDelta& delta = event.content_block_delta().delta();
    if (delta.has_text_delta()) texts.push_back(delta.text_delta().text());
    if (delta.has_thinking_delta()) texts.push_back(delta.thinking_delta().thinking());
    if (delta.has_input_json_delta()) texts.push_back(delta.input_json_delta().partial_json());
  }
  return texts;
}

using ::testing::ElementsAre;

// The issue's case: the stream used to end with INTERNAL "invalid JSON: Problem while parsing a
// string" at the first delta.
TEST(SplitCharacterJoinerTest, JoinsAPairSplitAcrossTwoTextDeltas) {
  const auto events =
      Decode({TextDelta(0, R"(Rocket: \ud83d)"), TextDelta(0, R"(\ude80!)"), Stop(0)});
  EXPECT_THAT(DeltaTexts(events), ElementsAre("Rocket: ", absl::StrCat(kRocket, "!")));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(events[2].has_content_block_stop());
}

TEST(SplitCharacterJoinerTest, JoinsThinkingAndPartialJsonToo) {
  const auto events = Decode({
      R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"a\uD83D"}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"\uDE80"}})",
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":\"\ud83d"}})",
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\ude80\"}"}})",
  });
  EXPECT_THAT(DeltaTexts(events),
              ElementsAre("a", kRocket, R"({"q":")", absl::StrCat(kRocket, R"("})")));
}

// Through the accumulator, as the server's unary-over-stream path and the client fold it.
TEST(SplitCharacterJoinerTest, AccumulatedToolInputHoldsTheWholeCharacter) {
  MessageAccumulator accumulator;
  SplitCharacterJoiner joiner;
  for (
      const char* json :
      {R"({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"c","usage":{"input_tokens":1,"output_tokens":1}}})",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"n","input":{}}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"q\":\"\ud83d"}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\ude80\"}"}})",
       R"({"type":"content_block_stop","index":0})", R"({"type":"message_stop"})"}) {
    ASSERT_TRUE(
        joiner.Decode(json, [&](v1::MessageStreamEvent event) { return accumulator.Apply(event); })
            .ok())
        << json;
  }
  absl::StatusOr<v1::Message> message = std::move(accumulator).Finish();
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->content(0).tool_use().input().fields().at("q").string_value(), kRocket);
}

TEST(SplitCharacterJoinerTest, HalfWithoutPartnerBecomesReplacementCharacter) {
  // The next delta of the block does not start with the low half.
  EXPECT_THAT(DeltaTexts(Decode({TextDelta(0, R"(a\ud83d)"), TextDelta(0, "b")})),
              ElementsAre("a", absl::StrCat(kReplacement, "b")));
  // A low half that nothing was carried for.
  EXPECT_THAT(DeltaTexts(Decode({TextDelta(0, R"(\ude80b)")})),
              ElementsAre(absl::StrCat(kReplacement, "b")));
  // Two highs: the first is lone where it stands, the second is carried.
  EXPECT_THAT(DeltaTexts(Decode({TextDelta(0, R"(\ud83d\ud83d)"), TextDelta(0, R"(\ude80)")})),
              ElementsAre(kReplacement, kRocket));
}

// A half still carried when its block stops is sent as a delta of its own, before the stop.
TEST(SplitCharacterJoinerTest, HalfCarriedAtBlockStopIsSentAsReplacementBeforeTheStop) {
  const auto events = Decode({TextDelta(0, R"(end\ud83d)"), Stop(0)});
  ASSERT_EQ(events.size(), 3u);
  EXPECT_THAT(DeltaTexts(events), ElementsAre("end", kReplacement));
  EXPECT_EQ(events[1].content_block_delta().index(), 0);
  EXPECT_TRUE(events[2].has_content_block_stop());

  // message_stop flushes every block that still carries one, in block order.
  const auto at_message_stop = Decode(
      {R"({"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"\ud83d"}})",
       TextDelta(0, R"(\ud83d)"), R"({"type":"message_stop"})"});
  ASSERT_EQ(at_message_stop.size(), 5u);
  EXPECT_EQ(at_message_stop[2].content_block_delta().index(), 0);
  EXPECT_EQ(at_message_stop[2].content_block_delta().delta().text_delta().text(), kReplacement);
  EXPECT_EQ(at_message_stop[3].content_block_delta().index(), 1);
  EXPECT_EQ(at_message_stop[3].content_block_delta().delta().thinking_delta().thinking(),
            kReplacement);
  EXPECT_TRUE(at_message_stop[4].has_message_stop());
}

TEST(SplitCharacterJoinerTest, BlocksDoNotShareCarriedHalves) {
  EXPECT_THAT(DeltaTexts(Decode({TextDelta(0, R"(\ud83d)"), TextDelta(1, R"(\ude80)"),
                                 TextDelta(0, R"(\ude80)")})),
              ElementsAre("", kReplacement, kRocket));
}

// Lone halves in other strings of a delta stay where they are, as U+FFFD; the delta's own text
// is joined all the same.
TEST(SplitCharacterJoinerTest, HalvesInOtherMembersBecomeReplacementInPlace) {
  const auto events = Decode(
      {TextDelta(0, R"(x\ud83d)"),
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\ude80","note":"\ud800"}})"});
  EXPECT_THAT(DeltaTexts(events), ElementsAre("x", kRocket));
  EXPECT_EQ(events[1]
                .content_block_delta()
                .delta()
                .text_delta()
                .extra_fields()
                .fields()
                .at("note")
                .string_value(),
            kReplacement);
}

TEST(SplitCharacterJoinerTest, ErrorsOfTheCodecAndOfEmitAreReturned) {
  SplitCharacterJoiner joiner;
  auto ok = [](v1::MessageStreamEvent) { return absl::OkStatus(); };
  EXPECT_EQ(joiner.Decode("{", ok).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(joiner
                .Decode(TextDelta(0, "a"),
                        [](v1::MessageStreamEvent) { return absl::AbortedError("stop"); })
                .code(),
            absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace claude

#include "service/upstream/aws_event_stream.h"

#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "tests/fake_upstream/aws_event_stream_encoder.h"

namespace claude {
namespace {

using ::claude::testing::BedrockChunkFrame;
using ::claude::testing::BedrockExceptionFrame;
using ::claude::testing::EncodeEventStreamMessage;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

struct Decoded {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;
};

// Feeds `chunks` in order; the messages decoded, or the first error.
absl::Status DecodeAll(AwsEventStreamDecoder& decoder, const std::vector<std::string>& chunks,
                       std::vector<Decoded>* out) {
  for (const std::string& chunk : chunks) {
    absl::Status s = decoder.Feed(chunk, [&](const AwsEventStreamMessage& m) {
      Decoded d;
      for (const auto& [name, value] : m.headers) d.headers.emplace_back(std::string(name), value);
      d.payload = std::string(m.payload);
      out->push_back(std::move(d));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string ThreeMessages() {
  return absl::StrCat(BedrockChunkFrame(R"({"type":"message_start"})"),
                      EncodeEventStreamMessage({}, ""),  // no headers, no payload: 16 bytes
                      BedrockExceptionFrame("throttlingException", "Too many requests"));
}

void ExpectThreeMessages(const std::vector<Decoded>& got) {
  ASSERT_EQ(got.size(), 3u);
  EXPECT_THAT(got[0].headers, ElementsAre(Pair(":event-type", "chunk"),
                                          Pair(":content-type", "application/json"),
                                          Pair(":message-type", "event")));
  EXPECT_THAT(got[0].payload, HasSubstr("\"bytes\":\"eyJ0eXBlIjoibWVzc2FnZV9zdGFydCJ9\""));
  EXPECT_TRUE(got[1].headers.empty());
  EXPECT_EQ(got[1].payload, "");
  EXPECT_THAT(got[2].headers, ::testing::Contains(Pair(":exception-type", "throttlingException")));
  EXPECT_EQ(got[2].payload, R"({"message":"Too many requests"})");
}

TEST(Crc32Test, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32("56789", Crc32("1234")), 0xCBF43926u);
}

TEST(AwsEventStreamDecoderTest, DecodesWholeMessagesInOneChunk) {
  AwsEventStreamDecoder decoder;
  std::vector<Decoded> got;
  ASSERT_TRUE(DecodeAll(decoder, {ThreeMessages()}, &got).ok());
  ExpectThreeMessages(got);
  EXPECT_FALSE(decoder.HasPartialMessage());
}

TEST(AwsEventStreamDecoderTest, DecodesOneByteAtATime) {
  const std::string body = ThreeMessages();
  std::vector<std::string> chunks;
  for (char c : body) chunks.emplace_back(1, c);
  AwsEventStreamDecoder decoder;
  std::vector<Decoded> got;
  ASSERT_TRUE(DecodeAll(decoder, chunks, &got).ok());
  ExpectThreeMessages(got);
  EXPECT_FALSE(decoder.HasPartialMessage());
}

TEST(AwsEventStreamDecoderTest, DecodesRandomChunkings) {
  const std::string body = ThreeMessages();
  std::mt19937 rng(1234);
  for (int round = 0; round < 500; ++round) {
    std::vector<std::string> chunks;
    size_t at = 0;
    while (at < body.size()) {
      const size_t n = std::uniform_int_distribution<size_t>(0, 40)(rng);
      chunks.push_back(body.substr(at, n));
      at += n;
    }
    AwsEventStreamDecoder decoder;
    std::vector<Decoded> got;
    ASSERT_TRUE(DecodeAll(decoder, chunks, &got).ok()) << "round " << round;
    ExpectThreeMessages(got);
  }
}

TEST(AwsEventStreamDecoderTest, HoldsAPartialMessage) {
  const std::string frame = BedrockChunkFrame("{}");
  AwsEventStreamDecoder decoder;
  std::vector<Decoded> got;
  ASSERT_TRUE(DecodeAll(decoder, {frame.substr(0, frame.size() - 1)}, &got).ok());
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(decoder.HasPartialMessage());
  ASSERT_TRUE(DecodeAll(decoder, {frame.substr(frame.size() - 1)}, &got).ok());
  EXPECT_EQ(got.size(), 1u);
  EXPECT_FALSE(decoder.HasPartialMessage());
}

TEST(AwsEventStreamDecoderTest, RefusesABadPreludeCrcAtAnySplit) {
  std::string body = BedrockChunkFrame("{}");
  body[9] ^= 0x01;  // inside the prelude's CRC
  for (size_t split = 1; split < body.size(); ++split) {
    AwsEventStreamDecoder decoder;
    std::vector<Decoded> got;
    absl::Status s = DecodeAll(decoder, {body.substr(0, split), body.substr(split)}, &got);
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << split;
    EXPECT_THAT(s.message(), HasSubstr("prelude CRC mismatch"));
    EXPECT_TRUE(got.empty());
  }
}

TEST(AwsEventStreamDecoderTest, RefusesABadMessageCrc) {
  const std::string good = BedrockChunkFrame(R"({"type":"ping"})");
  for (size_t flip : {size_t{13}, good.size() / 2, good.size() - 5, good.size() - 1}) {
    std::string body = good;
    body[flip] ^= 0x20;
    AwsEventStreamDecoder decoder;
    std::vector<Decoded> got;
    absl::Status s = DecodeAll(decoder, {body}, &got);
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << flip;
    EXPECT_THAT(s.message(), HasSubstr("message CRC mismatch"));
    EXPECT_TRUE(got.empty());
    // Nothing more is decoded after a failure, not even good messages.
    EXPECT_EQ(decoder.Feed(good, [](const AwsEventStreamMessage&) { return absl::OkStatus(); })
                  .code(),
              absl::StatusCode::kFailedPrecondition);
  }
}

TEST(AwsEventStreamDecoderTest, RefusesAMessageOverTheLimitBeforeReadingIt) {
  const std::string frame = BedrockChunkFrame(std::string(1000, 'x'));
  AwsEventStreamDecoder decoder(/*max_message_bytes=*/512);
  std::vector<Decoded> got;
  absl::Status s = DecodeAll(decoder, {frame.substr(0, 12)}, &got);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("exceeds the limit of 512"));
  EXPECT_FALSE(decoder.HasPartialMessage());
}

// A prelude with a valid CRC but lengths that cannot be a message.
std::string Prelude(uint32_t total, uint32_t headers) {
  std::string p;
  for (uint32_t v : {total, headers}) {
    for (int i = 3; i >= 0; --i) p.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  const uint32_t crc = Crc32(p);
  for (int i = 3; i >= 0; --i) p.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  return p;
}

TEST(AwsEventStreamDecoderTest, RefusesLengthsThatDoNotAddUp) {
  for (const auto& [total, headers] : std::vector<std::pair<uint32_t, uint32_t>>{
           {0, 0}, {15, 0}, {16, 1}, {100, 90}, {0xFFFFFFFF, 0xFFFFFFF0}}) {
    AwsEventStreamDecoder decoder;
    std::vector<Decoded> got;
    absl::Status s = DecodeAll(decoder, {Prelude(total, headers)}, &got);
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << total << " " << headers;
  }
}

// A message with the given raw headers section and valid CRCs.
std::string WithRawHeaders(const std::string& headers) {
  std::string m = Prelude(static_cast<uint32_t>(16 + headers.size()),
                          static_cast<uint32_t>(headers.size()));
  m += headers;
  const uint32_t crc = Crc32(m);
  for (int i = 3; i >= 0; --i) m.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  return m;
}

TEST(AwsEventStreamDecoderTest, ReadsEveryHeaderValueType) {
  std::string h;
  const auto name = [&](const std::string& n, char type) {
    h.push_back(static_cast<char>(n.size()));
    h += n;
    h.push_back(type);
  };
  name("t", 0);
  name("f", 1);
  name("b", 2); h.push_back('\xFF');
  name("s", 3); h += std::string("\x01\x02", 2);
  name("i", 4); h += std::string("\xFF\xFF\xFF\xFE", 4);
  name("l", 5); h += std::string("\x00\x00\x00\x00\x00\x00\x01\x00", 8);
  name("y", 6); h += std::string("\x00\x02" "ab", 4);
  name("str", 7); h += std::string("\x00\x03" "xyz", 5);
  name("ts", 8); h += std::string("\x00\x00\x01\x8b\xcf\xe5\x68\x00", 8);
  name("u", 9); h += std::string(16, '\x11');
  AwsEventStreamDecoder decoder;
  std::vector<Decoded> got;
  ASSERT_TRUE(DecodeAll(decoder, {WithRawHeaders(h)}, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].headers,
              ElementsAre(Pair("t", "true"), Pair("f", "false"), Pair("b", "-1"),
                          Pair("s", "258"), Pair("i", "-2"), Pair("l", "256"), Pair("y", "ab"),
                          Pair("str", "xyz"), Pair("ts", "1700000000000"),
                          Pair("u", "11111111111111111111111111111111")));
}

TEST(AwsEventStreamDecoderTest, RefusesMalformedHeaders) {
  for (const std::string& headers : std::vector<std::string>{
           std::string("\x00", 1),                 // empty name
           std::string("\x05" "ab", 3),            // name longer than the section
           std::string("\x01" "a", 2),             // no type
           std::string("\x01" "a\x0A", 3),         // unknown type 10
           std::string("\x01" "a\x07\x00\x09xy", 6),  // string longer than the section
           std::string("\x01" "a\x04\x00\x00", 5),    // int cut short
       }) {
    AwsEventStreamDecoder decoder;
    std::vector<Decoded> got;
    absl::Status s = DecodeAll(decoder, {WithRawHeaders(headers)}, &got);
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << absl::CHexEscape(headers);
    EXPECT_TRUE(got.empty());
  }
}

TEST(AwsEventStreamDecoderTest, ReturnsTheCallbacksErrorAndStops) {
  AwsEventStreamDecoder decoder;
  int calls = 0;
  absl::Status s = decoder.Feed(ThreeMessages(), [&](const AwsEventStreamMessage&) {
    ++calls;
    return absl::CancelledError("enough");
  });
  EXPECT_EQ(s, absl::CancelledError("enough"));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace claude

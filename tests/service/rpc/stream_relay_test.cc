// The stream relay's watermarks and its one write in flight.
#include "service/rpc/stream_relay.h"

#include <gtest/gtest.h>

namespace claude {
namespace {

v1::MessageStreamEvent Delta(const std::string& text) {
  v1::MessageStreamEvent event;
  event.mutable_content_block_delta()->mutable_delta()->mutable_text_delta()->set_text(text);
  return event;
}

TEST(StreamRelayTest, OneWriteInFlight) {
  StreamRelay relay(1 << 20);
  EXPECT_EQ(relay.StartWrite(), nullptr);
  relay.Push(Delta("a"));
  relay.Push(Delta("b"));
  const v1::MessageStreamEvent* first = relay.StartWrite();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->content_block_delta().delta().text_delta().text(), "a");
  EXPECT_EQ(relay.StartWrite(), nullptr);  // "a" is still being written
  relay.WriteDone();
  const v1::MessageStreamEvent* second = relay.StartWrite();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->content_block_delta().delta().text_delta().text(), "b");
  EXPECT_TRUE(relay.empty());
}

TEST(StreamRelayTest, AboveHighThenResumeOnceAtLow) {
  const int64_t event_bytes = static_cast<int64_t>(Delta("0123456789").ByteSizeLong());
  StreamRelay relay(4 * event_bytes);  // low watermark: 2 events
  for (int i = 0; i < 3; ++i) relay.Push(Delta("0123456789"));
  EXPECT_FALSE(relay.above_high_watermark());
  relay.Push(Delta("0123456789"));
  EXPECT_TRUE(relay.above_high_watermark());
  EXPECT_FALSE(relay.TakeResume());  // never paused: nothing to resume
  relay.Paused();
  ASSERT_NE(relay.StartWrite(), nullptr);  // 3 left
  EXPECT_FALSE(relay.TakeResume());
  relay.WriteDone();
  ASSERT_NE(relay.StartWrite(), nullptr);  // 2 left: at the low watermark
  EXPECT_TRUE(relay.TakeResume());
  EXPECT_FALSE(relay.TakeResume());  // once
  EXPECT_FALSE(relay.above_high_watermark());
}

TEST(StreamRelayTest, ClearDropsWhatWaitsButNotTheWriteInFlight) {
  StreamRelay relay(1 << 20);
  relay.Push(Delta("a"));
  relay.Push(Delta("b"));
  const v1::MessageStreamEvent* in_flight = relay.StartWrite();
  relay.Clear();
  EXPECT_TRUE(relay.empty());
  EXPECT_EQ(relay.queued_bytes(), 0);
  EXPECT_TRUE(relay.write_in_flight());
  EXPECT_EQ(in_flight->content_block_delta().delta().text_delta().text(), "a");
}

}  // namespace
}  // namespace claude

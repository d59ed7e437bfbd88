// The upstream response headers that become gRPC metadata: only valid ones, within bounds.
#include "service/rpc/forwarded_headers.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(ForwardedHeadersTest, ForwardsOnlyTheNamedHeaders) {
  const ForwardedHeaders f = SelectForwardedHeaders({{"content-type", "application/json"},
                                                     {"anthropic-ratelimit-requests-limit", "50"},
                                                     {"request-id", "req_1"},
                                                     {"set-cookie", "a=b"},
                                                     {"retry-after-ms", "1500"},
                                                     {"retry-after", "2"}});
  EXPECT_THAT(f.entries, ElementsAre(Pair("request-id", "req_1"), Pair("retry-after-ms", "1500"),
                                     Pair("retry-after", "2"),
                                     Pair("anthropic-ratelimit-requests-limit", "50")));
  EXPECT_EQ(f.dropped, 0);
}

TEST(ForwardedHeadersTest, DropsValuesGrpcWouldRejectAndCountsThem) {
  const ForwardedHeaders f = SelectForwardedHeaders({{"request-id", "caf\xC3\xA9"},
                                                     {"retry-after", std::string("1\x01", 2)},
                                                     {"anthropic-ratelimit-a", "\xFF"},
                                                     {"anthropic-ratelimit-b", "tab\there"},
                                                     {"anthropic-ratelimit-c", "del\x7F"},
                                                     {"anthropic-ratelimit-d", "ok value ~"}});
  EXPECT_THAT(f.entries, ElementsAre(Pair("anthropic-ratelimit-d", "ok value ~")));
  EXPECT_EQ(f.dropped, 5);
}

TEST(ForwardedHeadersTest, DropsNamesGrpcWouldReject) {
  const ForwardedHeaders f = SelectForwardedHeaders({{"anthropic-ratelimit-caf\xC3\xA9", "1"},
                                                     {"anthropic-ratelimit-x y", "1"},
                                                     {"anthropic-ratelimit-key-bin", "1"},
                                                     {"anthropic-ratelimit-ok_1.2", "1"}});
  EXPECT_THAT(f.entries, ElementsAre(Pair("anthropic-ratelimit-ok_1.2", "1")));
  EXPECT_EQ(f.dropped, 3);
}

TEST(ForwardedHeadersTest, BoundsEachValue) {
  const ForwardedHeaders f = SelectForwardedHeaders(
      {{"request-id", std::string(kMaxForwardedValueBytes, 'a')},
       {"anthropic-ratelimit-x", std::string(kMaxForwardedValueBytes + 1, 'a')}});
  ASSERT_EQ(f.entries.size(), 1u);
  EXPECT_EQ(f.entries[0].first, "request-id");
  EXPECT_EQ(f.dropped, 1);
}

TEST(ForwardedHeadersTest, BoundsTheTotalAndKeepsRequestIdFirst) {
  HttpHeaders headers;
  for (int i = 0; i < 100; ++i) {
    headers.emplace_back("anthropic-ratelimit-h" + std::to_string(i), std::string(200, 'v'));
  }
  headers.emplace_back("request-id", "req_last");
  const ForwardedHeaders f = SelectForwardedHeaders(headers);
  ASSERT_FALSE(f.entries.empty());
  EXPECT_THAT(f.entries.front(), Pair("request-id", "req_last"));
  size_t total = 0;
  for (const auto& [name, value] : f.entries) total += name.size() + value.size() + 32;
  EXPECT_LE(total, kMaxForwardedHeaderBytes);
  EXPECT_GT(total, kMaxForwardedHeaderBytes - 300);  // the budget is used, not wasted
  EXPECT_EQ(f.dropped, static_cast<int>(headers.size() - f.entries.size()));
}

TEST(ForwardedHeadersTest, NothingToForward) {
  const ForwardedHeaders f = SelectForwardedHeaders({{"content-type", "text/event-stream"}});
  EXPECT_THAT(f.entries, IsEmpty());
  EXPECT_EQ(f.dropped, 0);
}

TEST(ForwardedHeadersTest, ValidityPredicates) {
  EXPECT_TRUE(IsValidMetadataValue(""));
  EXPECT_TRUE(IsValidMetadataValue(" !~"));
  EXPECT_FALSE(IsValidMetadataValue(std::string("\0", 1)));
  EXPECT_FALSE(IsValidMetadataKey(""));
  EXPECT_FALSE(IsValidMetadataKey("Request-Id"));
  EXPECT_TRUE(IsValidMetadataKey("request-id"));
}

}  // namespace
}  // namespace claude

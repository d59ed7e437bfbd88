// Per-caller limits on claude.v1.MessageBatches through the real server and fake-anthropic: a
// create counts as one request plus one per request of its batch against requests per minute,
// all or nothing, in this replica's memory and in Redis (a real redis-server on loopback). A
// batch that does not fit is refused RESOURCE_EXHAUSTED (QuotaFailure, RetryInfo) and never
// reaches the upstream; an invalid batch counts nothing.
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "claude/v1/message_batches.grpc.pb.h"
#include "common/errors/error_details.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kRequestsPerMinute = 10;

// A server whose anonymous caller may make 10 requests per minute, counted in memory or, with
// `redis`, in Redis; windows long enough that no test crosses one by accident.
HarnessOptions LimitedTo10PerMinute(const RedisServer* redis = nullptr) {
  HarnessOptions options;
  options.max_retries = 0;
  options.configure = [redis](ServerConfig& config) {
    config.callers.limits.requests_per_minute = kRequestsPerMinute;
    config.callers.windows.minute = absl::Hours(1);
    if (redis != nullptr) {
      config.quota.redis_url = redis->url();
      config.quota.redis_fail_open = false;  // a decision that is not Redis's would fail the test
    }
  };
  return options;
}

v1::CreateMessageBatchRequest BatchOf(int n, const std::string& prefix) {
  v1::CreateMessageBatchRequest request;
  for (int i = 0; i < n; ++i) {
    v1::MessageBatchRequest* item = request.add_requests();
    item->set_custom_id(absl::StrCat(prefix, i));
    *item->mutable_params() = Hello();
  }
  return request;
}

grpc::Status Create(v1::MessageBatches::Stub& stub, const v1::CreateMessageBatchRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + Scaled(absl::Seconds(20))));
  v1::MessageBatch batch;
  return stub.CreateMessageBatch(&context, request, &batch);
}

grpc::Status Get(v1::MessageBatches::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + Scaled(absl::Seconds(20))));
  v1::GetMessageBatchRequest request;
  request.set_message_batch_id("msgbatch_unknown");
  v1::MessageBatch batch;
  return stub.GetMessageBatch(&context, request, &batch);
}

// RESOURCE_EXHAUSTED naming the per-minute limit, with a QuotaFailure on the anonymous caller,
// and RetryInfo unless no wait can help.
void ExpectRequestsRefusal(const grpc::Status& status, bool retryable) {
  ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("10 requests per minute"));
  std::optional<ErrorDetails> details = ParseErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->reason, "caller_requests_per_minute");
  EXPECT_EQ(details->quota_subject, "caller:");
  EXPECT_EQ(details->retry_delay.has_value(), retryable);
  if (retryable && details->retry_delay.has_value()) {
    EXPECT_GT(*details->retry_delay, absl::ZeroDuration());
  }
}

// The same sequence for either count: 6 + 1 fits; 4 + 1 does not fit the 3 left and is refused
// whole; 11 + 1 never fits; an invalid batch costs nothing; 2 + 1 fills the minute exactly.
void ABatchCountsItsRequests(ServerHarness& h) {
  auto stub = v1::MessageBatches::NewStub(h.channel());
  ASSERT_TRUE(Create(*stub, BatchOf(6, "a")).ok());
  EXPECT_EQ(h.upstream().request_count(), 1);

  const grpc::Status too_many = Create(*stub, BatchOf(4, "b"));
  ExpectRequestsRefusal(too_many, /*retryable=*/true);
  EXPECT_THAT(too_many.error_message(), HasSubstr("a batch of 4 requests counts 5"));
  EXPECT_THAT(too_many.error_message(), HasSubstr("3 are left"));

  const grpc::Status never = Create(*stub, BatchOf(11, "c"));
  ExpectRequestsRefusal(never, /*retryable=*/false);
  EXPECT_THAT(never.error_message(), HasSubstr("split the batch"));

  v1::CreateMessageBatchRequest invalid = BatchOf(20, "d");
  invalid.mutable_requests(17)->mutable_params()->set_max_tokens(0);
  const grpc::Status rejected = Create(*stub, invalid);
  EXPECT_EQ(rejected.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(rejected.error_message(), HasSubstr("requests[17].params.max_tokens"));
  EXPECT_EQ(h.upstream().request_count(), 1) << "nothing refused reached the upstream";

  ASSERT_TRUE(Create(*stub, BatchOf(2, "e")).ok()) << "the refusals counted nothing: 3 were left";
  EXPECT_EQ(h.upstream().request_count(), 2);
  // The minute is full: any other RPC is refused too, as one request.
  const grpc::Status get = Get(*stub);
  ExpectRequestsRefusal(get, /*retryable=*/true);
  EXPECT_EQ(h.upstream().request_count(), 2);
}

TEST(BatchLimitsTest, InMemoryABatchCountsItsRequestsAllOrNothing) {
  ServerHarness h(LimitedTo10PerMinute());
  ABatchCountsItsRequests(h);
}

TEST(BatchLimitsTest, InRedisABatchCountsItsRequestsAllOrNothing) {
  CLAUDE_REQUIRE_REDIS_SERVER();
  RedisServer redis;
  ASSERT_TRUE(redis.Start()) << redis.error();
  ServerHarness h(LimitedTo10PerMinute(&redis));
  ABatchCountsItsRequests(h);
}

// Two replicas share one count in Redis: a batch on one leaves less room on the other.
TEST(BatchLimitsTest, InRedisTwoReplicasShareTheBatchsCount) {
  CLAUDE_REQUIRE_REDIS_SERVER();
  RedisServer redis;
  ASSERT_TRUE(redis.Start()) << redis.error();
  ServerHarness a(LimitedTo10PerMinute(&redis)), b(LimitedTo10PerMinute(&redis));
  auto stub_a = v1::MessageBatches::NewStub(a.channel());
  auto stub_b = v1::MessageBatches::NewStub(b.channel());
  ASSERT_TRUE(Create(*stub_a, BatchOf(7, "a")).ok());                           // 8 of 10
  ExpectRequestsRefusal(Create(*stub_b, BatchOf(2, "b")), /*retryable=*/true);  // 3 more: 11
  ASSERT_TRUE(Create(*stub_b, BatchOf(1, "c")).ok());
  EXPECT_EQ(a.upstream().request_count() + b.upstream().request_count(), 2);
}

}  // namespace
}  // namespace claude::testing

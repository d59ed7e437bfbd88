// Message Batches requests checked before anything goes upstream: INVALID_ARGUMENT naming the
// request's place in the batch and the field, the first problem only.
#include "service/validation/batch_validator.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "claude/v1/message_batches.pb.h"
#include "tests/service/validation/request_validator_testing.h"

namespace claude {
namespace {

using ::testing::HasSubstr;

v1::CreateMessageBatchRequest BatchOf(std::initializer_list<std::string> custom_ids) {
  v1::CreateMessageBatchRequest batch;
  for (const std::string& id : custom_ids) {
    v1::MessageBatchRequest* item = batch.add_requests();
    item->set_custom_id(id);
    *item->mutable_params() = ValidRequest();
  }
  return batch;
}

TEST(BatchValidatorTest, AValidBatchPasses) {
  EXPECT_THAT(ValidateCreateMessageBatchRequest(BatchOf({"a", "B-2", "c_3", std::string(64, 'x')})),
              IsOk());
}

TEST(BatchValidatorTest, AnEmptyBatchIsRefused) {
  const absl::Status status = ValidateCreateMessageBatchRequest({});
  EXPECT_THAT(status, IsInvalidAt("requests"));
  EXPECT_EQ(status.message(), "requests: required");
}

TEST(BatchValidatorTest, MoreThanTheApisRequestsAreRefused) {
  v1::CreateMessageBatchRequest batch;
  for (int i = 0; i <= kMaxBatchRequests; ++i) batch.add_requests();  // unchecked: refused first
  const absl::Status status = ValidateCreateMessageBatchRequest(batch);
  EXPECT_EQ(status.message(), "requests: at most 100000 requests, got 100001");
}

TEST(BatchValidatorTest, ACustomIdOutsideItsPatternIsNamedByItsPlace) {
  for (const std::string& bad :
       {std::string(""), std::string(65, 'x'), std::string("has space"), std::string("dot.ted"),
        std::string("slash/"), std::string("\xc3\xa9t\xc3\xa9"), std::string("nul\0", 4)}) {
    const absl::Status status = ValidateCreateMessageBatchRequest(BatchOf({"first", bad}));
    EXPECT_THAT(status, IsInvalidAt("requests[1].custom_id")) << bad;
    EXPECT_THAT(status.message(), HasSubstr("must match ^[a-zA-Z0-9_-]{1,64}$")) << bad;
  }
}

TEST(BatchValidatorTest, ACustomIdIsUniqueInTheBatch) {
  const absl::Status status = ValidateCreateMessageBatchRequest(BatchOf({"a", "b", "a"}));
  EXPECT_THAT(status, IsInvalidAt("requests[2].custom_id"));
  EXPECT_EQ(status.message(), "requests[2].custom_id: \"a\" is used by an earlier request");
}

TEST(BatchValidatorTest, ParamsAreRequiredAndValidatedAsCreateMessage) {
  v1::CreateMessageBatchRequest batch = BatchOf({"a", "b"});
  batch.mutable_requests(1)->clear_params();
  EXPECT_EQ(ValidateCreateMessageBatchRequest(batch).message(), "requests[1].params: required");

  batch = BatchOf({"a", "b"});
  batch.mutable_requests(1)->mutable_params()->set_max_tokens(0);
  EXPECT_THAT(ValidateCreateMessageBatchRequest(batch),
              IsInvalidAt("requests[1].params.max_tokens"));
}

TEST(BatchValidatorTest, OnlyTheFirstProblemIsReported) {
  v1::CreateMessageBatchRequest batch = BatchOf({"a", "bad id", "c"});
  batch.mutable_requests(2)->clear_params();
  EXPECT_THAT(ValidateCreateMessageBatchRequest(batch), IsInvalidAt("requests[1].custom_id"));
}

TEST(BatchValidatorTest, TheEncodedBodyIsBounded) {
  EXPECT_THAT(ValidateMessageBatchBodySize(kMaxBatchBodyBytes), IsOk());
  const absl::Status over = ValidateMessageBatchBodySize(kMaxBatchBodyBytes + 1);
  EXPECT_THAT(over, IsInvalidAt("requests"));
  EXPECT_THAT(over.message(), HasSubstr("268435457 bytes, more than the API's 268435456"));
}

TEST(BatchValidatorTest, ABatchIdIsRequired) {
  EXPECT_THAT(ValidateMessageBatchId("msgbatch_01"), IsOk());
  EXPECT_EQ(ValidateMessageBatchId("").message(), "message_batch_id: required");
}

TEST(BatchValidatorTest, AListLimitWhenSetIsAtLeastOne) {
  v1::ListMessageBatchesRequest request;
  EXPECT_THAT(ValidateListMessageBatchesRequest(request), IsOk()) << "unset: the API's default";
  request.set_limit(1);
  EXPECT_THAT(ValidateListMessageBatchesRequest(request), IsOk());
  for (int64_t bad : {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::min()}) {
    request.set_limit(bad);
    EXPECT_EQ(ValidateListMessageBatchesRequest(request).message(), "limit: must be at least 1")
        << bad;
  }
}

}  // namespace
}  // namespace claude

// gMocks of the Dialect seam (service/upstream/dialect.h): a Dialect and its EventDecoder.
#ifndef TESTS_TESTING_MOCK_DIALECT_H_
#define TESTS_TESTING_MOCK_DIALECT_H_

#include <memory>

#include <gmock/gmock.h>

#include "service/upstream/dialect.h"

namespace claude::testing {

class MockDialect : public Dialect {
 public:
  MOCK_METHOD(absl::string_view, name, (), (const, override));
  MOCK_METHOD(absl::StatusOr<HttpRequest>, CreateMessage,
              (const claude::v1::CreateMessageRequest& request, bool stream, const HttpHeaders& forwarded),
              (const, override));
  MOCK_METHOD(absl::StatusOr<HttpRequest>, CountTokens,
              (const claude::v1::CountTokensRequest& request, const HttpHeaders& forwarded), (const, override));
  MOCK_METHOD(absl::StatusOr<HttpRequest>, ListModels,
              (const claude::v1::ListModelsRequest& request, const HttpHeaders& forwarded), (const, override));
  MOCK_METHOD(absl::StatusOr<HttpRequest>, GetModel,
              (const claude::v1::GetModelRequest& request, const HttpHeaders& forwarded), (const, override));
  MOCK_METHOD(std::unique_ptr<EventDecoder>, NewEventDecoder, (), (const, override));
  MOCK_METHOD(absl::Status, DecodeReply, (absl::string_view body, google::protobuf::Message* response),
              (const, override));
  MOCK_METHOD(UpstreamError, ReadError, (int http_status, absl::string_view body, const HttpHeaders& headers),
              (const, override));
};

class MockEventDecoder : public EventDecoder {
 public:
  MOCK_METHOD(absl::Status, Feed, (absl::string_view chunk, Emit emit), (override));
  MOCK_METHOD(absl::Status, Finish, (Emit emit), (override));
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_MOCK_DIALECT_H_

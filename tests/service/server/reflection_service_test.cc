// Server reflection answered from the generated descriptor pool, one request at a time as a
// stream sees them: the services listed, a file found by name or by a symbol in it with every
// file it imports (each file once per stream), and a NOT_FOUND naming what is not there. The
// v1 and v1alpha services over a real server are covered end to end
// (tests/integration/lifecycle_test.cc).
#include "service/server/reflection_service.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include "claude/v1/messages.grpc.pb.h"

namespace claude {
namespace {

namespace reflection = ::grpc::reflection::v1;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::vector<std::string> kServices = {"claude.v1.Messages", "grpc.health.v1.Health"};

reflection::ServerReflectionResponse Answer(const reflection::ServerReflectionRequest& request,
                                            absl::flat_hash_set<std::string>* sent_files) {
  return AnswerReflectionRequest(request, kServices, sent_files);
}

reflection::ServerReflectionRequest SymbolRequest(const std::string& symbol) {
  reflection::ServerReflectionRequest request;
  request.set_host("localhost:50051");
  request.set_file_containing_symbol(symbol);
  return request;
}

// The names of the files an answer carries, in order.
std::vector<std::string> FileNames(const reflection::ServerReflectionResponse& response) {
  std::vector<std::string> names;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    EXPECT_TRUE(file.ParseFromString(bytes));
    names.push_back(file.name());
  }
  return names;
}

TEST(ReflectionServiceTest, ListsTheServicesItWasGiven) {
  absl::flat_hash_set<std::string> sent;
  reflection::ServerReflectionRequest request;
  request.set_list_services("*");
  const reflection::ServerReflectionResponse response = Answer(request, &sent);
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service())
    names.push_back(service.name());
  EXPECT_THAT(names, ElementsAre("claude.v1.Messages", "grpc.health.v1.Health"));
  EXPECT_EQ(response.original_request().list_services(), "*");
}

TEST(ReflectionServiceTest, ASymbolsFileComesWithEveryFileItImportsOncePerStream) {
  // Named through the generated code, which also links it into the pool.
  const std::string messages_file = v1::CreateMessageRequest::descriptor()->file()->name();
  absl::flat_hash_set<std::string> sent;
  const reflection::ServerReflectionResponse first =
      Answer(SymbolRequest("claude.v1.Messages"), &sent);
  EXPECT_EQ(first.valid_host(), "localhost:50051");
  ASSERT_FALSE(first.has_error_response()) << first.error_response().error_message();
  const std::vector<std::string> files = FileNames(first);
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files.front(), messages_file) << "the file asked for comes first";
  // Every import, transitively, is in the answer: a client can build the service from it.
  absl::flat_hash_set<std::string> answered(files.begin(), files.end());
  EXPECT_EQ(answered.size(), files.size()) << "each file once";
  for (const std::string& bytes : first.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    for (const std::string& dependency : file.dependency()) {
      EXPECT_TRUE(answered.contains(dependency)) << file.name() << " imports " << dependency;
    }
  }
  EXPECT_TRUE(answered.contains("google/protobuf/struct.proto"));

  // Asked again on the same stream: the file itself, its imports already sent.
  const reflection::ServerReflectionResponse again =
      Answer(SymbolRequest("claude.v1.CreateMessageRequest"), &sent);
  EXPECT_THAT(FileNames(again), ElementsAre(messages_file));
  // A new stream gets everything again.
  absl::flat_hash_set<std::string> new_stream;
  EXPECT_EQ(FileNames(Answer(SymbolRequest("claude.v1.Messages"), &new_stream)).size(),
            files.size());
}

TEST(ReflectionServiceTest, AFileByItsName) {
  absl::flat_hash_set<std::string> sent;
  reflection::ServerReflectionRequest request;
  request.set_file_by_filename("google/protobuf/struct.proto");
  EXPECT_THAT(FileNames(Answer(request, &sent)), ElementsAre("google/protobuf/struct.proto"));
}

TEST(ReflectionServiceTest, WhatIsNotThereIsNotFoundNamingIt) {
  absl::flat_hash_set<std::string> sent;
  reflection::ServerReflectionRequest by_name;
  by_name.set_file_by_filename("claude/v1/nothing.proto");
  reflection::ServerReflectionResponse response = Answer(by_name, &sent);
  EXPECT_EQ(response.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(response.error_response().error_message(),
            "file_by_filename: no file \"claude/v1/nothing.proto\"");

  response = Answer(SymbolRequest("claude.v1.Nothing"), &sent);
  EXPECT_EQ(response.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(response.error_response().error_message(),
            "file_containing_symbol: no symbol \"claude.v1.Nothing\"");

  reflection::ServerReflectionRequest extension;
  extension.mutable_file_containing_extension()->set_containing_type(
      "claude.v1.CreateMessageRequest");
  extension.mutable_file_containing_extension()->set_extension_number(1234);
  response = Answer(extension, &sent);
  EXPECT_EQ(response.error_response().error_message(),
            "file_containing_extension: no extension 1234 of \"claude.v1.CreateMessageRequest\"");

  reflection::ServerReflectionRequest numbers;
  numbers.set_all_extension_numbers_of_type("claude.v1.Nothing");
  response = Answer(numbers, &sent);
  EXPECT_EQ(response.error_response().error_message(),
            "all_extension_numbers_of_type: no message type \"claude.v1.Nothing\"");
  EXPECT_THAT(sent, IsEmpty()) << "nothing was sent";
}

TEST(ReflectionServiceTest, ExtensionNumbersOfAType) {
  absl::flat_hash_set<std::string> sent;
  reflection::ServerReflectionRequest request;
  request.set_all_extension_numbers_of_type("claude.v1.CreateMessageRequest");
  const reflection::ServerReflectionResponse response = Answer(request, &sent);
  EXPECT_EQ(response.all_extension_numbers_response().base_type_name(),
            "claude.v1.CreateMessageRequest");
  EXPECT_THAT(response.all_extension_numbers_response().extension_number(), IsEmpty())
      << "proto3: none";
}

TEST(ReflectionServiceTest, ARequestWithNothingSetIsInvalid) {
  absl::flat_hash_set<std::string> sent;
  const reflection::ServerReflectionResponse response = Answer({}, &sent);
  EXPECT_EQ(response.error_response().error_code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(response.error_response().error_message(),
            "message_request: none of its members is set");
}

}  // namespace
}  // namespace claude

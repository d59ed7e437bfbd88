// Requests that do not parse, on a bare gRPC server with the interceptor: instead of gRPC's
// empty UNIMPLEMENTED, INVALID_ARGUMENT naming the request type and protobuf's reason, and a
// record like every refused RPC's; requests that parse, and methods outside claude.v1, pass
// untouched.
#include "service/rpc/unparsable_request_interceptor.h"

#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "claude/v1/models.grpc.pb.h"
#include "service/observability/protobuf_log.h"
#include "tests/testing/captured_lines.h"
#include "tests/testing/recorded_calls.h"

namespace claude {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// GetModel answers with the id it was asked about.
class EchoModels final : public v1::Models::CallbackService {
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const v1::GetModelRequest* request,
                                     v1::ModelInfo* response) override {
    response->set_id(request->model_id());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class UnparsableRequestInterceptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    observers_.Add(observer_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&models_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(std::make_unique<UnparsableRequestInterceptorFactory>(&observers_));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
  }
  void TearDown() override { server_->Shutdown(); }

  // One call of `method` with `request_bytes` as its request.
  grpc::Status Call(const std::string& method, const std::string& request_bytes,
                    std::string* response_bytes = nullptr) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Slice slice(request_bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    grpc::Status status = done.get_future().get();
    if (response_bytes != nullptr && status.ok()) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(response.Dump(&slices).ok());
      response_bytes->clear();
      for (const grpc::Slice& s : slices)
        response_bytes->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return status;
  }

  // Protobuf's reasons reach the interceptor through the route the server installs.
  ProtobufLogRoute protobuf_log_{std::make_shared<testing::CapturedLines>()};
  std::shared_ptr<testing::RecordedCalls> observer_ = std::make_shared<testing::RecordedCalls>();
  CallObservers observers_;
  EchoModels models_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(UnparsableRequestInterceptorTest, ARequestThatParsesPassesUntouched) {
  v1::GetModelRequest request;
  request.set_model_id("claude-sonnet-4-5");
  std::string bytes;
  const grpc::Status status =
      Call("/claude.v1.Models/GetModel", request.SerializeAsString(), &bytes);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::ModelInfo model;
  ASSERT_TRUE(model.ParseFromString(bytes));
  EXPECT_EQ(model.id(), "claude-sonnet-4-5");
  EXPECT_THAT(observer_->records(), IsEmpty()) << "the service records its own RPCs";
}

TEST_F(UnparsableRequestInterceptorTest, AStringThatIsNotUtf8IsInvalidArgumentWithProtobufsReason) {
  // GetModelRequest.model_id (field 1) holding 0xff 0xfe.
  const grpc::Status status =
      Call("/claude.v1.Models/GetModel", std::string("\x0a\x02\xff\xfe", 4));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("request does not parse as claude.v1.GetModelRequest: "));
  EXPECT_THAT(status.error_message(), HasSubstr("claude.v1.GetModelRequest.model_id"));
  EXPECT_THAT(status.error_message(), HasSubstr("UTF-8"));
  const std::vector<CallRecord> records = observer_->records();
  ASSERT_THAT(records, SizeIs(1));
  EXPECT_EQ(records[0].method, "claude.v1.Models/GetModel");
  EXPECT_EQ(records[0].code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(records[0].message, status.error_message());
  EXPECT_EQ(records[0].model, "") << "nothing of the request could be read";
}

TEST_F(UnparsableRequestInterceptorTest, GarbageBytesAreInvalidArgumentSayingWhatMayBeWrong) {
  const grpc::Status status =
      Call("/claude.v1.Models/GetModel", std::string("\xff\xff\xff\xff\xff", 5));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "request does not parse as claude.v1.GetModelRequest (malformed bytes, a string that "
            "is not UTF-8, or "
            "nesting deeper than protobuf's 100 levels)");
  EXPECT_THAT(observer_->records(), SizeIs(1));
}

TEST_F(UnparsableRequestInterceptorTest, AMethodOutsideClaudeV1IsLeftToGrpc) {
  const grpc::Status status = Call("/other.v1.Service/Method", std::string("\xff\xff", 2));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(observer_->records(), IsEmpty());
}

}  // namespace
}  // namespace claude

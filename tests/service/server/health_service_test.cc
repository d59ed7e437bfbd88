// The serving status both health ports share, and grpc.health.v1.Health over it on a bare gRPC
// server: Check by service name, Watch streams that report the current status, each change,
// and end OK at shutdown. The whole server's health and drain are covered end to end
// (tests/integration/lifecycle_test.cc).
#include "service/server/health_service.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr char kService[] = "claude.v1.Messages";

// Every change reported to it, in order: (status, final).
class RecordingWatcher final : public HealthWatcher {
 public:
  void OnHealthChange(HealthCheckResponse::ServingStatus status, bool final) override {
    changes.emplace_back(status, final);
  }
  std::vector<std::pair<HealthCheckResponse::ServingStatus, bool>> changes;
};

TEST(HealthStatusTest, StartsNotServingAndAnswersForKnownServicesOnly) {
  HealthStatus health({kService});
  EXPECT_FALSE(health.serving());
  EXPECT_EQ(health.Get(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(health.Get(kService), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(health.Get("claude.v1.Unknown"), HealthCheckResponse::SERVICE_UNKNOWN);
  health.SetServing(true);
  EXPECT_TRUE(health.serving());
  EXPECT_EQ(health.Get(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(health.Get(kService), HealthCheckResponse::SERVING);
  EXPECT_EQ(health.Get("claude.v1.Unknown"), HealthCheckResponse::SERVICE_UNKNOWN);
}

TEST(HealthStatusTest, WatchersHearEachChangeOnce) {
  HealthStatus health({});
  RecordingWatcher watcher;
  bool final = true;
  EXPECT_EQ(health.Watch(&watcher, &final), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(final);
  health.SetServing(true);
  health.SetServing(true);  // no change, no report
  health.SetServing(false);
  EXPECT_THAT(watcher.changes, ElementsAre(Pair(HealthCheckResponse::SERVING, false),
                                           Pair(HealthCheckResponse::NOT_SERVING, false)));
  health.Unwatch(&watcher);
  health.SetServing(true);
  EXPECT_EQ(watcher.changes.size(), 2u) << "not called after Unwatch";
}

TEST(HealthStatusTest, ShutdownIsFinalNotServing) {
  HealthStatus health({});
  health.SetServing(true);
  RecordingWatcher watcher;
  bool final = true;
  ASSERT_EQ(health.Watch(&watcher, &final), HealthCheckResponse::SERVING);
  health.Shutdown();
  EXPECT_THAT(watcher.changes, ElementsAre(Pair(HealthCheckResponse::NOT_SERVING, true)));
  health.SetServing(true);  // ignored for good
  health.Shutdown();
  EXPECT_FALSE(health.serving());
  EXPECT_EQ(watcher.changes.size(), 1u);

  RecordingWatcher late;
  EXPECT_EQ(health.Watch(&late, &final), HealthCheckResponse::NOT_SERVING);
  EXPECT_TRUE(final) << "a watch after shutdown is told at once that nothing will change";
  EXPECT_THAT(late.changes, IsEmpty());
}

// HealthService on a loopback port of its own.
class HealthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    health_.Shutdown();  // ends every Watch, so Shutdown below does not wait for them
    server_->Shutdown();
  }

  // Check's status and answer for `service`.
  std::pair<grpc::StatusCode, HealthCheckResponse::ServingStatus> Check(
      const std::string& service) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    const grpc::Status status = stub_->Check(&context, request, &response);
    return {status.error_code(), response.status()};
  }

  HealthStatus health_{{kService}};
  HealthService service_{&health_};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
};

TEST_F(HealthServiceTest, CheckAnswersTheSharedStatus) {
  EXPECT_EQ(Check(""), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::NOT_SERVING));
  health_.SetServing(true);
  EXPECT_EQ(Check(""), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));
  EXPECT_EQ(Check(kService), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));
}

TEST_F(HealthServiceTest, CheckOfAnUnknownServiceIsNotFound) {
  health_.SetServing(true);
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service("claude.v1.Nothing");
  HealthCheckResponse response;
  const grpc::Status status = stub_->Check(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "service: \"claude.v1.Nothing\" is not served here");
}

TEST_F(HealthServiceTest, WatchReportsTheStatusEachChangeAndEndsAtShutdown) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  HealthCheckRequest request;
  request.set_service(kService);
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch = stub_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  health_.SetServing(true);
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  health_.Shutdown();
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(watch->Read(&response)) << "nothing after the final status";
  EXPECT_TRUE(watch->Finish().ok());
}

TEST_F(HealthServiceTest, WatchOfAnUnknownServiceStaysUnknown) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  HealthCheckRequest request;
  request.set_service("claude.v1.Nothing");
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch = stub_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  health_.Shutdown();
  EXPECT_FALSE(watch->Read(&response))
      << "a change of the server's status is none of an unknown service";
  EXPECT_TRUE(watch->Finish().ok());
}

TEST_F(HealthServiceTest, AWatcherThatLeavesIsForgotten) {
  {
    grpc::ClientContext context;
    HealthCheckRequest request;
    std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch =
        stub_->Watch(&context, request);
    HealthCheckResponse response;
    ASSERT_TRUE(watch->Read(&response));
    context.TryCancel();
    EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // Changes after the watcher left reach no reactor that is gone (ASan would see it freed): it
  // is unwatched before it is deleted.
  health_.SetServing(true);
  health_.SetServing(false);
  EXPECT_EQ(Check(""), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::NOT_SERVING));
}

}  // namespace
}  // namespace claude

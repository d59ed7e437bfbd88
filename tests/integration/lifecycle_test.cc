// The server's life around its calls: health, reflection, and the graceful drain that ends it.
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grpcpp/generic/generic_stub.h>

#include "absl/time/clock.h"
#include "client/claude_client.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using v1::MessageStreamEvent;

std::string Target(ServerHarness& h) { return "127.0.0.1:" + std::to_string(h.port()); }

TEST(LifecycleTest, HealthIsServing) {
  ServerHarness h;
  Client client(Target(h));
  absl::StatusOr<std::string> health = client.CheckHealth();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
}

// grpc.reflection.v1alpha ServerReflectionInfo with list_services, spoken in raw bytes: the
// reflection client library is not part of gRPC's installed API.
TEST(LifecycleTest, ReflectionListsTheServices) {
  ServerHarness h;
  grpc::CompletionQueue cq;
  grpc::GenericStub stub(h.channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto call = stub.PrepareCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](int expected) {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(tag, reinterpret_cast<void*>(expected));
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(step(1));
  // ServerReflectionRequest{list_services: ""}: field 7, length-delimited, empty.
  const std::string request("\x3a\x00", 2);
  grpc::Slice slice(request);
  call->Write(grpc::ByteBuffer(&slice, 1), reinterpret_cast<void*>(2));
  ASSERT_TRUE(step(2));
  call->WritesDone(reinterpret_cast<void*>(3));
  ASSERT_TRUE(step(3));
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(4));
  ASSERT_TRUE(step(4));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_THAT(bytes, HasSubstr("claude.v1.Messages"));
  EXPECT_THAT(bytes, HasSubstr("claude.v1.Models"));
  EXPECT_THAT(bytes, HasSubstr("grpc.health.v1.Health"));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// A stream that takes about a second: the documented text transcript in 40-byte pieces, 25 ms
// apart.
FakeReply SlowTranscript() { return SseReply(ReadFixture("text_basic.sse"), 40, absl::Milliseconds(25)); }

TEST(LifecycleTest, DrainLetsCallsInFlightFinishAndRefusesNewOnes) {
  ServerHarness h;
  h.upstream().Enqueue(SlowTranscript());
  grpc::ClientContext context;
  auto reader = h.messages().StreamMessage(&context, Hello());
  MessageStreamEvent event;
  ASSERT_TRUE(reader->Read(&event));  // message_start: the stream is under way
  int events = 1;

  h.server().BeginDrain(absl::Seconds(30));
  // New calls are refused, on the open connection and on new ones alike. Which code a caller
  // sees depends on how far the shutdown got: our own refusal or a closed listener give
  // UNAVAILABLE, a call that crossed gRPC's GOAWAY on the wire is CANCELLED by gRPC. Either
  // way it never reaches the upstream (checked below).
  grpc::ClientContext refused_context;
  v1::Message message;
  const grpc::StatusCode refused =
      h.messages().CreateMessage(&refused_context, Hello(), &message).error_code();
  EXPECT_TRUE(refused == grpc::StatusCode::UNAVAILABLE || refused == grpc::StatusCode::CANCELLED)
      << refused;
  Client fresh(Target(h));
  absl::StatusOr<std::string> health = fresh.CheckHealth();
  if (health.ok()) {
    EXPECT_EQ(*health, "NOT_SERVING");
  } else {
    EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();
  }

  while (reader->Read(&event)) ++events;
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(events, 8);  // every event of the transcript
  EXPECT_TRUE(h.server().WaitDrained(Scaled(absl::Seconds(2))));
  EXPECT_EQ(h.upstream().request_count(), 1);
}

TEST(LifecycleTest, DrainCancelsWhatOutlivesTheGrace) {
  ServerHarness h;
  h.upstream().Enqueue(HungReply());
  grpc::ClientContext context;
  auto reader = h.messages().StreamMessage(&context, Hello());
  ASSERT_TRUE(h.upstream().WaitForRequests(1, Scaled(absl::Seconds(5))));
  const absl::Time start = absl::Now();
  h.server().BeginDrain(absl::Milliseconds(300));
  MessageStreamEvent event;
  EXPECT_FALSE(reader->Read(&event));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("drain timeout"));
  EXPECT_TRUE(h.server().WaitDrained(Scaled(absl::Seconds(2))));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  // The upstream transfer was aborted, not left generating.
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Seconds(1))));
  EXPECT_TRUE(h.WaitForIdleLoop(Scaled(absl::Seconds(1))));
}

TEST(LifecycleTest, CancelAllEndsADrainAtOnce) {
  ServerHarness h;
  h.upstream().Enqueue(HungReply());
  grpc::ClientContext context;
  auto reader = h.messages().StreamMessage(&context, Hello());
  ASSERT_TRUE(h.upstream().WaitForRequests(1, Scaled(absl::Seconds(5))));
  h.server().BeginDrain(absl::Minutes(10));
  EXPECT_FALSE(h.server().WaitDrained(absl::Milliseconds(100)));
  h.server().CancelAll();
  MessageStreamEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(h.server().WaitDrained(Scaled(absl::Seconds(2))));
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Seconds(1))));
  EXPECT_EQ(h.server().live_calls(), 0);
}

}  // namespace
}  // namespace claude::testing

// The server's life around its calls: an exclusive port, health and readiness (on the gRPC port
// and the plaintext --health_listen one), reflection v1 and v1alpha, and the graceful drain.

#include <map>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <gtest/gtest.h>
#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/claude_client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "service/config/api_key_source.h"
#include "service/observability/server_log.h"
#include "tests/integration/server_calls.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/test_pki.h"
#include "tests/testing/wait_until.h"

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

TEST(LifecycleTest, HealthOfEachServiceAndOfAnUnknownOne) {
  ServerHarness h;
  Client client(Target(h));
  EXPECT_EQ(client.CheckHealth("claude.v1.Messages").value_or("error"), "SERVING");
  EXPECT_EQ(client.CheckHealth("claude.v1.Models").value_or("error"), "SERVING");
  absl::StatusOr<std::string> unknown = client.CheckHealth("no.such.Service");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound) << unknown.status();
}

// gRPC turns SO_REUSEPORT on by default: a second server on the port would start and take
// part of the calls. Ours binds exclusively, so the second one fails to start and says why.
TEST(LifecycleTest, ASecondServerOnAPortInUseFailsToStart) {
  ServerHarness first;
  ServerConfig config;
  config.listen = absl::StrCat("127.0.0.1:", first.port());
  config.upstream.base_url = first.upstream().base_url();
  absl::StatusOr<std::unique_ptr<ClaudeServer>> second = ClaudeServer::Start(std::move(config));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr(absl::StrCat("cannot listen on 127.0.0.1:", first.port())));
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
  // Every call still reaches the first server.
  Client client(Target(first));
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(client.GetModel("claude-fake-1").ok());
  EXPECT_EQ(first.upstream().request_count(), 6);
}

TEST(LifecycleTest, AnUpstreamThatIsNotAnHttpUrlIsRefusedAtStart) {
  for (const char* url : {"ftp://example.com", "example.com:443", "http://", "https://exa mple.com"}) {
    ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.upstream.base_url = url;
    absl::StatusOr<std::unique_ptr<ClaudeServer>> server = ClaudeServer::Start(std::move(config));
    ASSERT_FALSE(server.ok()) << url;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(server.status().message(), HasSubstr("--upstream")) << url;
  }
}

// Waits until the health check answers `want`; false on timeout.
bool WaitForHealth(Client& client, const std::string& want, absl::Duration timeout = absl::Seconds(5)) {
  return WaitUntil([&] { return client.CheckHealth().value_or("") == want; }, Scaled(timeout));
}

// The server log's lines, captured for one test.
class CapturedServerLog {
 public:
  CapturedServerLog() : lines_(std::make_shared<CapturedLines>()) { SetServerLogSinkForTesting(lines_); }
  ~CapturedServerLog() { SetServerLogSinkForTesting(nullptr); }
  std::string Joined() { return absl::StrJoin(lines_->lines(), "\n"); }

 private:
  std::shared_ptr<CapturedLines> lines_;
};

TEST(LifecycleTest, WithoutAnApiKeyHealthIsNotServingAndSaysWhy) {
  CapturedServerLog log;
  HarnessOptions options;
  options.api_key = "";
  ServerHarness h(options);
  Client client(Target(h));
  EXPECT_EQ(client.CheckHealth().value_or("error"), "NOT_SERVING");
  EXPECT_EQ(client.CheckHealth("claude.v1.Messages").value_or("error"), "NOT_SERVING");
  EXPECT_THAT(h.server().not_ready_reasons(), ::testing::ElementsAre(kNoApiKeyReason));
  EXPECT_THAT(log.Joined(), HasSubstr(R"("severity":"ERROR")"));
  EXPECT_THAT(log.Joined(), HasSubstr(R"("reason":"no_api_key")"));
}

TEST(LifecycleTest, WithoutAnUpstreamHealthIsNotServing) {
  HarnessOptions options;
  options.configure = [](ServerConfig& config) { config.upstream.base_url = ""; };
  ServerHarness h(options);
  Client client(Target(h));
  EXPECT_EQ(client.CheckHealth().value_or("error"), "NOT_SERVING");
  EXPECT_THAT(h.server().not_ready_reasons(), ::testing::ElementsAre(kNoUpstreamReason));
}

TEST(LifecycleTest, AKeyFileThatDisappearsOrEmptiesTurnsHealthNotServingUntilItIsBack) {
  CapturedServerLog log;
  const ScratchFile key_file;
  key_file.Write("sk-ant-from-file\n");
  HarnessOptions options;
  options.api_key_source = std::make_shared<FileApiKeySource>(key_file.path());
  options.configure = [](ServerConfig& config) { config.readiness_check_interval = absl::Milliseconds(20); };
  ServerHarness h(options);
  Client client(Target(h));
  EXPECT_EQ(client.CheckHealth().value_or("error"), "SERVING");
  key_file.Remove();
  EXPECT_TRUE(WaitForHealth(client, "NOT_SERVING"));
  EXPECT_THAT(log.Joined(), HasSubstr(key_file.path() + " is missing or empty"));
  key_file.Write("sk-ant-rotated\n");
  EXPECT_TRUE(WaitForHealth(client, "SERVING"));
  key_file.Write("  \n");  // empty but for whitespace
  EXPECT_TRUE(WaitForHealth(client, "NOT_SERVING"));
}

// Kubelet's gRPC probes cannot speak TLS: --health_listen serves health alone, in plaintext,
// beside the TLS port, with the same answers (drain included).
TEST(LifecycleTest, HealthListenServesPlaintextHealthBesideATlsPort) {
  HarnessOptions options;
  options.configure = [](ServerConfig& config) {
    config.tls.cert_file = TestPki::Get().Path("server.pem");
    config.tls.key_file = TestPki::Get().Path("server.key");
    config.health_listen = "127.0.0.1:0";
  };
  ServerHarness h(options);
  ASSERT_NE(h.server().health_port(), 0);
  const std::string health_target = absl::StrCat("127.0.0.1:", h.server().health_port());
  Client probe(health_target);  // plaintext
  EXPECT_EQ(probe.CheckHealth().value_or("error"), "SERVING");
  EXPECT_EQ(probe.CheckHealth("claude.v1.Messages").value_or("error"), "SERVING");
  // Health only: no claude.v1 service, no reflection.
  absl::StatusOr<v1::ModelInfo> model = probe.GetModel("claude-fake-1");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented) << model.status();
  // The TLS port refuses plaintext, health included.
  Client plaintext(Target(h));
  EXPECT_FALSE(plaintext.CheckHealth().ok());

  h.server().BeginDrain(absl::Seconds(5));
  EXPECT_EQ(probe.CheckHealth().value_or("error"), "NOT_SERVING");
}

TEST(LifecycleTest, WatchReportsTheStatusThenTheDrainAndEnds) {
  ServerHarness h;
  auto stub = grpc::health::v1::Health::NewStub(h.channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  auto reader = stub->Watch(&context, request);
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  h.server().BeginDrain(absl::Seconds(5));
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_TRUE(h.server().WaitDrained(Scaled(absl::Seconds(2))));
}

// ---------------------------------------------------------------------------------------------
// Reflection, v1 and v1alpha: a client that knows no descriptor lists the services, fetches
// and builds each one's files, and calls methods with dynamic messages built from them.

namespace reflection_v1 = ::grpc::reflection::v1;

// One reflection stream, v1 or v1alpha (the same messages under either service name).
class ReflectionStream {
 public:
  ReflectionStream(const std::string& version, std::shared_ptr<grpc::Channel> channel) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (version == "v1") {
      v1_ = reflection_v1::ServerReflection::NewStub(channel);
      stream_ = v1_->ServerReflectionInfo(&context_);
    } else {
      v1alpha_ = ::grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
      stream_ = v1alpha_->ServerReflectionInfo(&context_);
    }
  }
  ~ReflectionStream() {
    stream_->WritesDone();
    EXPECT_TRUE(stream_->Finish().ok());
  }
  reflection_v1::ServerReflectionResponse Ask(const reflection_v1::ServerReflectionRequest& request) {
    EXPECT_TRUE(stream_->Write(request));
    reflection_v1::ServerReflectionResponse answer;
    EXPECT_TRUE(stream_->Read(&answer));
    return answer;
  }

 private:
  std::unique_ptr<reflection_v1::ServerReflection::Stub> v1_;
  std::unique_ptr<::grpc::reflection::v1alpha::ServerReflection::Stub> v1alpha_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<reflection_v1::ServerReflectionRequest,
                                           reflection_v1::ServerReflectionResponse>> stream_;
};

// A descriptor pool filled only from what reflection answers.
class ReflectedPool {
 public:
  // Adds the files of a file_descriptor_response (in any order; imports are built first).
  void Add(const reflection_v1::ServerReflectionResponse& response) {
    ASSERT_TRUE(response.has_file_descriptor_response()) << response.DebugString();
    for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      protos_[file.name()] = file;
    }
    for (const auto& [name, file] : protos_) Build(name);
  }
  const google::protobuf::DescriptorPool& pool() const { return pool_; }

 private:
  void Build(const std::string& name) {
    if (pool_.FindFileByName(name) != nullptr) return;
    auto it = protos_.find(name);
    if (it == protos_.end()) return;  // an import a later answer brings
    for (const std::string& dependency : it->second.dependency()) Build(dependency);
    pool_.BuildFile(it->second);
  }

  std::map<std::string, google::protobuf::FileDescriptorProto> protos_;
  google::protobuf::DescriptorPool pool_;
};

// Calls `method` ("/pkg.Service/Method") with `request`, a unary RPC; returns the reply's bytes.
absl::StatusOr<std::string> CallUnary(std::shared_ptr<grpc::Channel> channel, const std::string& method,
                                      const google::protobuf::Message& request) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  const std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer send(&slice, 1);
  auto call = stub.PrepareUnaryCall(&context, method, send, &cq);
  call->StartCall();
  grpc::ByteBuffer reply;
  grpc::Status status;
  call->Finish(&reply, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  EXPECT_TRUE(cq.Next(&tag, &ok));
  if (!status.ok()) return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(reply.Dump(&slices).ok());
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

class ReflectionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ReflectionTest, ListsDescribesAndCallsFromReflectedDescriptorsOnly) {
  ServerHarness h;
  auto reflection = std::make_unique<ReflectionStream>(GetParam(), h.channel());

  reflection_v1::ServerReflectionRequest list;
  list.set_list_services("");
  const reflection_v1::ServerReflectionResponse listed = reflection->Ask(list);
  std::vector<std::string> services;
  for (const auto& service : listed.list_services_response().service()) services.push_back(service.name());
  EXPECT_THAT(services, ::testing::UnorderedElementsAre(
                            "claude.v1.Messages", "claude.v1.Models", "claude.v1.Admin", "grpc.health.v1.Health",
                            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"));

  ReflectedPool reflected;
  for (const std::string& service : services) {
    reflection_v1::ServerReflectionRequest describe;
    describe.set_file_containing_symbol(service);
    reflected.Add(reflection->Ask(describe));
    EXPECT_NE(reflected.pool().FindServiceByName(service), nullptr) << service;
  }
  const google::protobuf::MethodDescriptor* stream_message =
      reflected.pool().FindMethodByName("claude.v1.Messages.StreamMessage");
  ASSERT_NE(stream_message, nullptr);
  EXPECT_TRUE(stream_message->server_streaming());
  EXPECT_EQ(stream_message->input_type()->full_name(), "claude.v1.CreateMessageRequest");

  // Unknown symbols are an error answer on the same stream, which goes on.
  reflection_v1::ServerReflectionRequest unknown;
  unknown.set_file_containing_symbol("no.such.Symbol");
  const reflection_v1::ServerReflectionResponse error = reflection->Ask(unknown);
  EXPECT_EQ(error.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));

  google::protobuf::DynamicMessageFactory factory(&reflected.pool());
  {  // grpc.health.v1.Health/Check {} -> {status: SERVING}
    const google::protobuf::MethodDescriptor* check = reflected.pool().FindMethodByName("grpc.health.v1.Health.Check");
    ASSERT_NE(check, nullptr);
    std::unique_ptr<google::protobuf::Message> request(factory.GetPrototype(check->input_type())->New());
    absl::StatusOr<std::string> reply = CallUnary(h.channel(), "/grpc.health.v1.Health/Check", *request);
    ASSERT_TRUE(reply.ok()) << reply.status();
    std::unique_ptr<google::protobuf::Message> response(factory.GetPrototype(check->output_type())->New());
    ASSERT_TRUE(response->ParseFromString(*reply));
    const google::protobuf::FieldDescriptor* status = check->output_type()->FindFieldByName("status");
    ASSERT_NE(status, nullptr);
    EXPECT_EQ(response->GetReflection()->GetEnum(*response, status)->name(), "SERVING");
  }
  {  // claude.v1.Models/GetModel {model_id: "claude-fake-1"} -> {id: "claude-fake-1", ...}
    const google::protobuf::MethodDescriptor* get = reflected.pool().FindMethodByName("claude.v1.Models.GetModel");
    ASSERT_NE(get, nullptr);
    std::unique_ptr<google::protobuf::Message> request(factory.GetPrototype(get->input_type())->New());
    const google::protobuf::FieldDescriptor* model_id = get->input_type()->FindFieldByName("model_id");
    ASSERT_NE(model_id, nullptr);
    request->GetReflection()->SetString(request.get(), model_id, "claude-fake-1");
    absl::StatusOr<std::string> reply = CallUnary(h.channel(), "/claude.v1.Models/GetModel", *request);
    ASSERT_TRUE(reply.ok()) << reply.status();
    std::unique_ptr<google::protobuf::Message> response(factory.GetPrototype(get->output_type())->New());
    ASSERT_TRUE(response->ParseFromString(*reply));
    const google::protobuf::FieldDescriptor* id = get->output_type()->FindFieldByName("id");
    ASSERT_NE(id, nullptr);
    EXPECT_EQ(response->GetReflection()->GetString(*response, id), "claude-fake-1");
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, ReflectionTest, ::testing::Values("v1", "v1alpha"));

// A stream that takes about a second: the documented text transcript in 40-byte pieces, 25 ms
// apart.
FakeReply SlowTranscript() { return SseReply(ReadFixture("text_basic.sse"), 40, absl::Milliseconds(25)); }

TEST(LifecycleTest, DrainLetsCallsInFlightFinishAndRefusesNewOnes) {
  ServerHarness h;
  OpenedStream stream;
  OpenStream(h, SlowTranscript(), stream);
  MessageStreamEvent event;
  ASSERT_TRUE(stream.reader->Read(&event));  // message_start: the stream is under way
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

  while (stream.reader->Read(&event)) ++events;
  EXPECT_TRUE(stream.reader->Finish().ok());
  EXPECT_EQ(events, 8);  // every event of the transcript
  EXPECT_TRUE(h.server().WaitDrained(Scaled(absl::Seconds(2))));
  EXPECT_EQ(h.upstream().request_count(), 1);
}

TEST(LifecycleTest, DrainCancelsWhatOutlivesTheGrace) {
  ServerHarness h;
  OpenedStream stream;
  ASSERT_NO_FATAL_FAILURE(OpenHangingStream(h, stream));
  const absl::Time start = absl::Now();
  h.server().BeginDrain(absl::Milliseconds(300));
  MessageStreamEvent event;
  EXPECT_FALSE(stream.reader->Read(&event));
  grpc::Status status = stream.reader->Finish();
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
  OpenedStream stream;
  ASSERT_NO_FATAL_FAILURE(OpenHangingStream(h, stream));
  h.server().BeginDrain(absl::Minutes(10));
  EXPECT_FALSE(h.server().WaitDrained(absl::Milliseconds(100)));
  h.server().CancelAll();
  MessageStreamEvent event;
  EXPECT_FALSE(stream.reader->Read(&event));
  EXPECT_EQ(stream.reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(h.server().WaitDrained(Scaled(absl::Seconds(2))));
  EXPECT_TRUE(h.upstream().WaitForDisconnects(1, Scaled(absl::Seconds(1))));
  EXPECT_EQ(h.server().live_calls(), 0);
}

}  // namespace
}  // namespace claude::testing
